// fast_act.h: Sigmoid and Tanh for the CPU backend's loops (the Sigmoid and Tanh ops, the
// recurrent cells' gates), vectorized: a polynomial exp (Cephes's expf) and, for |x| < 0.625,
// Cephes's tanhf polynomial, with selects made of bit masks so that g++ vectorizes the loops
// without -ffast-math, for AVX-512, AVX2 or SSE2, whichever this CPU has. Within 2e-7 relative
// (3 ulps) of the exact values where those are above 1e-30, as std::exp's and std::tanh's
// (ref::act_forward's) are; saturated ends are exact (+-1, 0 and 1), NaN stays NaN.
#pragma once
#include <cstdint>

#include "../core/ops/activation.h"

namespace strata {

void sigmoid_fast(float* y, const float* x, int64_t n);
void tanh_fast(float* y, const float* x, int64_t n);
// ref::act_forward with Sigmoid and Tanh the above.
void act_forward_fast(float* out, const float* inp, int64_t n, const ActParams& a);

}  // namespace strata
