// activation.cpp: reference activations. These loops are simple enough to
// vectorize, so they also serve as the CPU fast path.
#include "activation.h"

#include <cmath>

namespace strata {
namespace ref {

static const float kSqrt2OverPi = 0.7978845608028654f;

// log(1 + e^x) without overflow: x + log1p(e^-x) for x > 0
static inline float softplus(float x) { return x > 0 ? x + std::log1p(std::exp(-x)) : std::log1p(std::exp(x)); }

static inline float sigmoid(float x) {
  // stable for large |x|: never exponentiates a positive number
  if (x >= 0) return 1.0f / (1.0f + std::exp(-x));
  float e = std::exp(x);
  return e / (1.0f + e);
}

// One loop per kind (the switch outside the loop) so the compiler can vectorize each.
#define EACH(expr)                                   \
  for (int64_t i = 0; i < n; i++) {                  \
    float x = inp[i];                                \
    (void)x;                                         \
    out[i] = (expr);                                 \
  }                                                  \
  return

void act_forward(float* out, const float* inp, int64_t n, const ActParams& a) {
  const float al = a.alpha, ga = a.gamma;
  switch (a.kind) {
    case Act::Relu: EACH(x > 0 ? x : 0.0f);
    case Act::LeakyRelu: EACH(x * (x >= 0 ? 1.0f : al));  // select, then multiply: vectorizes
    case Act::Elu: EACH(x >= 0 ? x : al * std::expm1(x));
    case Act::Selu: EACH(ga * (x > 0 ? x : al * std::expm1(x)));
    case Act::Sigmoid: EACH(sigmoid(x));
    case Act::Tanh: EACH(std::tanh(x));
    case Act::Gelu: EACH(0.5f * x * (1.0f + std::erf(x * 0.7071067811865476f)));
    case Act::GeluTanh: EACH(0.5f * x * (1.0f + std::tanh(kSqrt2OverPi * (x + 0.044715f * x * x * x))));
    case Act::Erf: EACH(std::erf(x));
    case Act::Clip: EACH(x < al ? al : x > ga ? ga : x);
    case Act::ThresholdedRelu: EACH(x > al ? x : 0.0f);
    case Act::Softplus: EACH(softplus(x));
    case Act::HardSigmoid: EACH(std::fmin(1.0f, std::fmax(0.0f, al * x + ga)));
    case Act::Sqrt: EACH(std::sqrt(x));
  }
}
#undef EACH

// dinp = dout * f'(x), from the input x or (EACH_Y) from the forward output y.
// No conditional loads inside the loops: they would stop vectorization, and a
// branch on the sign of random data mispredicts half the time.
#define EACH(expr)                                   \
  for (int64_t i = 0; i < n; i++) {                  \
    float x = inp[i];                                \
    dinp[i] = dout[i] * (expr);                      \
  }                                                  \
  return
#define EACH_Y(expr)                                 \
  for (int64_t i = 0; i < n; i++) {                  \
    float y = out[i];                                \
    dinp[i] = dout[i] * (expr);                      \
  }                                                  \
  return

static inline float gelu_grad(float x) {
  float cdf = 0.5f * (1.0f + std::erf(x * 0.7071067811865476f));
  float pdf = 0.3989422804014327f * std::exp(-0.5f * x * x);
  return cdf + x * pdf;
}

static inline float gelu_tanh_grad(float x) {
  float u = kSqrt2OverPi * (x + 0.044715f * x * x * x);
  float t = std::tanh(u);
  return 0.5f * (1.0f + t) + 0.5f * x * (1.0f - t * t) * kSqrt2OverPi * (1.0f + 3.0f * 0.044715f * x * x);
}

void act_backward(float* dinp, const float* dout, const float* inp, const float* out, int64_t n, const ActParams& a) {
  const float al = a.alpha, ga = a.gamma;
  switch (a.kind) {
    // Relu and LeakyRelu as selects between values loaded unconditionally: written
    // as dout * (x > 0 ? 1 : 0), g++ emits a branch per element, 20x slower on data
    // of random sign
    case Act::Relu:
      for (int64_t i = 0; i < n; i++) {
        float d = dout[i];
        dinp[i] = inp[i] > 0 ? d : 0.0f;
      }
      return;
    case Act::LeakyRelu:
      for (int64_t i = 0; i < n; i++) {
        float d = dout[i];
        dinp[i] = d * (inp[i] >= 0 ? 1.0f : al);
      }
      return;
    case Act::Elu: EACH(x >= 0 ? 1.0f : al * std::exp(x));
    case Act::Selu: EACH(ga * (x > 0 ? 1.0f : al * std::exp(x)));
    case Act::Sigmoid: EACH_Y(y * (1.0f - y));
    case Act::Tanh: EACH_Y(1.0f - y * y);
    case Act::Gelu: EACH(gelu_grad(x));
    case Act::GeluTanh: EACH(gelu_tanh_grad(x));
    case Act::Erf: EACH(1.1283791670955126f * std::exp(-x * x));  // 2/sqrt(pi) e^(-x^2)
    case Act::Clip:  // (ReLU6) a select on both compares, & not && (no branch: as Relu above)
      for (int64_t i = 0; i < n; i++) {
        float x = inp[i], d = dout[i];
        dinp[i] = (x > al) & (x < ga) ? d : 0.0f;
      }
      return;
    case Act::ThresholdedRelu:
      for (int64_t i = 0; i < n; i++) {
        float d = dout[i];
        dinp[i] = inp[i] > al ? d : 0.0f;
      }
      return;
    case Act::Softplus: EACH(sigmoid(x));
    case Act::HardSigmoid: EACH(al * x + ga > 0.0f && al * x + ga < 1.0f ? al : 0.0f);
    case Act::Sqrt: EACH_Y(0.5f / y);
  }
}
#undef EACH
#undef EACH_Y

}  // namespace ref
}  // namespace strata
