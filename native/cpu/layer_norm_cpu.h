// layer_norm_cpu.h: LayerNormalization's backward on the CPU backend (batchnorm.h's contract:
// dx =, dscale and dbias +=; any of them null when not wanted). The rows are split over the
// threads, each slice summing its own scale and bias grads, added together at the end; each
// row's sums are vectorized (OpenMP simd reductions, in double as the reference's).
#pragma once
#include <cstdint>

namespace strata {
namespace cpu {

void layer_norm_backward(float* dx, float* dscale, float* dbias, const float* dy, const float* x, const float* scale,
                         const float* mean, const float* inv_std, int64_t rows, int64_t D);

}  // namespace cpu
}  // namespace strata
