// softmax.h: Softmax along one axis; tensors viewed as (outer, K, inner).
// Gradient contract: activation grads = (dinp).
#pragma once
#include <cstdint>

namespace strata {
namespace ref {
void softmax_forward(float* out, const float* inp, int64_t outer, int64_t K, int64_t inner);
// dinp = out * (dout - sum(dout * out)) along the axis
void softmax_backward(float* dinp, const float* dout, const float* out, int64_t outer, int64_t K, int64_t inner);
}  // namespace ref
}  // namespace strata
