// softmax.h: Softmax and LogSoftmax along one axis; tensors viewed as (outer, K, inner).
// Gradient contract: activation grads = (dinp).
#pragma once
#include <cstdint>

namespace strata {
namespace ref {
// Softmax along the axis; log: LogSoftmax, out = x - max - log(sum(exp(x - max)))
void softmax_forward(float* out, const float* inp, int64_t outer, int64_t K, int64_t inner, bool log);
// Softmax: dinp = out * (dout - sum(dout * out)) along the axis; log: dinp = dout - exp(out) * sum(dout)
void softmax_backward(float* dinp, const float* dout, const float* out, int64_t outer, int64_t K, int64_t inner,
                      bool log);
}  // namespace ref
}  // namespace strata
