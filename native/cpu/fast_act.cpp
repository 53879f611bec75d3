// fast_act.cpp: see fast_act.h. The span functions are compiled three times (AVX-512, AVX2,
// plain x86-64) and the widest this CPU runs is picked once, as conv_pool_direct.cpp does.
#include "fast_act.h"

#include <cmath>
#include <cstring>

namespace strata {

namespace {

// c ? a : b from bit masks: a ternary on floats lets g++ move the arithmetic of an arm under a
// branch (it might trap), and a branch stops the loop's vectorization.
inline float pick(bool c, float a, float b) {
  uint32_t ia, ib;
  std::memcpy(&ia, &a, 4), std::memcpy(&ib, &b, 4);
  const uint32_t m = 0u - (uint32_t)c, r = (ia & m) | (ib & ~m);
  float f;
  std::memcpy(&f, &r, 4);
  return f;
}

// e^x for x clamped to [-87, 88] (the normal floats' range): x = n ln2 + r, |r| <= ln2 / 2,
// e^r by Cephes's expf polynomial, 2^n by the exponent bits.
inline float exp_clamped(float x) {
  x = pick(x < -87.0f, -87.0f, x);
  x = pick(x > 88.0f, 88.0f, x);
  const float n = (x * 1.44269504088896341f + 12582912.0f) - 12582912.0f;  // round to nearest: + 1.5 * 2^23
  float r = x - n * 0.693359375f;                                           // ln2 in two parts
  r = r + n * 2.12194440e-4f;
  float q = 1.9875691500e-4f;
  q = q * r + 1.3981999507e-3f;
  q = q * r + 8.3334519073e-3f;
  q = q * r + 4.1665795894e-2f;
  q = q * r + 1.6666665459e-1f;
  q = q * r + 5.0000001201e-1f;
  q = q * r * r + r + 1.0f;
  const int32_t bits = ((int32_t)n + 127) << 23;
  float two_n;
  std::memcpy(&two_n, &bits, 4);
  return q * two_n;
}

// 1 / (1 + e^-x), never exponentiating a positive number (as ref's sigmoid)
inline float sigmoid_one(float x) {
  const float e = exp_clamped(-std::fabs(x)), r = 1.0f / (1.0f + e);
  return pick(x >= 0.0f, r, e * r);
}

// Near 0, 1 - 2 / (e^2|x| + 1) loses the low bits; Cephes's odd polynomial takes over there.
inline float tanh_one(float x) {
  const float z = std::fabs(x), z2 = x * x;
  const float near0 =
      ((((-5.70498872745e-3f * z2 + 2.06390887954e-2f) * z2 - 5.37397155531e-2f) * z2 + 1.33314422036e-1f) * z2 -
       3.33332819422e-1f) * z2 * z + z;
  const float far = 1.0f - 2.0f / (exp_clamped(2.0f * z) + 1.0f);
  return std::copysign(pick(z < 0.625f, near0, far), x);
}

#define STRATA_FAST_ACT_SPANS(TARGET)                                                  \
  TARGET void sigmoid_span(float* y, const float* x, int64_t n) {                      \
    for (int64_t i = 0; i < n; i++) y[i] = sigmoid_one(x[i]);                          \
  }                                                                                    \
  TARGET void tanh_span(float* y, const float* x, int64_t n) {                         \
    for (int64_t i = 0; i < n; i++) y[i] = tanh_one(x[i]);                             \
  }

namespace avx512 {
STRATA_FAST_ACT_SPANS(__attribute__((target("avx512f"))))
}
namespace avx2 {
STRATA_FAST_ACT_SPANS(__attribute__((target("avx2,fma"))))
}
namespace baseline {
STRATA_FAST_ACT_SPANS()
}
#undef STRATA_FAST_ACT_SPANS

using Span = void (*)(float*, const float*, int64_t);
struct Spans {
  Span sigmoid, tanh;
};
const Spans& spans() {
  static const Spans chosen = __builtin_cpu_supports("avx512f") ? Spans{avx512::sigmoid_span, avx512::tanh_span}
                              : __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")
                                  ? Spans{avx2::sigmoid_span, avx2::tanh_span}
                                  : Spans{baseline::sigmoid_span, baseline::tanh_span};
  return chosen;
}

}  // namespace

void sigmoid_fast(float* y, const float* x, int64_t n) { spans().sigmoid(y, x, n); }
void tanh_fast(float* y, const float* x, int64_t n) { spans().tanh(y, x, n); }

void act_forward_fast(float* out, const float* inp, int64_t n, const ActParams& a) {
  if (a.kind == Act::Sigmoid) return sigmoid_fast(out, inp, n);
  if (a.kind == Act::Tanh) return tanh_fast(out, inp, n);
  ref::act_forward(out, inp, n, a);
}

}  // namespace strata
