// activation.cpp: reference activations. These loops are simple enough to
// vectorize, so they also serve as the CPU fast path.
#include "activation.h"

#include <cmath>

namespace strata {
namespace ref {

static const float kSqrt2OverPi = 0.7978845608028654f;

static inline float sigmoid(float x) {
  // stable for large |x|: never exponentiates a positive number
  if (x >= 0) return 1.0f / (1.0f + std::exp(-x));
  float e = std::exp(x);
  return e / (1.0f + e);
}

void act_forward(float* out, const float* inp, int64_t n, const ActParams& a) {
  for (int64_t i = 0; i < n; i++) {
    float x = inp[i], y = 0;
    switch (a.kind) {
      case Act::Relu: y = x > 0 ? x : 0; break;
      case Act::LeakyRelu: y = x >= 0 ? x : a.alpha * x; break;
      case Act::Elu: y = x >= 0 ? x : a.alpha * std::expm1(x); break;
      case Act::Selu: y = a.gamma * (x > 0 ? x : a.alpha * std::expm1(x)); break;
      case Act::Sigmoid: y = sigmoid(x); break;
      case Act::Tanh: y = std::tanh(x); break;
      case Act::Gelu: y = 0.5f * x * (1.0f + std::erf(x * 0.7071067811865476f)); break;
      case Act::GeluTanh: y = 0.5f * x * (1.0f + std::tanh(kSqrt2OverPi * (x + 0.044715f * x * x * x))); break;
      case Act::Erf: y = std::erf(x); break;
    }
    out[i] = y;
  }
}

void act_backward(float* dinp, const float* dout, const float* inp, const float* out, int64_t n, const ActParams& a) {
  for (int64_t i = 0; i < n; i++) {
    float x = inp[i], g = 0;
    switch (a.kind) {
      case Act::Relu: g = x > 0 ? 1.0f : 0.0f; break;
      case Act::LeakyRelu: g = x >= 0 ? 1.0f : a.alpha; break;
      case Act::Elu: g = x >= 0 ? 1.0f : a.alpha * std::exp(x); break;
      case Act::Selu: g = a.gamma * (x > 0 ? 1.0f : a.alpha * std::exp(x)); break;
      case Act::Sigmoid: g = out[i] * (1.0f - out[i]); break;
      case Act::Tanh: g = 1.0f - out[i] * out[i]; break;
      case Act::Gelu: {
        float cdf = 0.5f * (1.0f + std::erf(x * 0.7071067811865476f));
        float pdf = 0.3989422804014327f * std::exp(-0.5f * x * x);
        g = cdf + x * pdf;
        break;
      }
      case Act::GeluTanh: {
        float u = kSqrt2OverPi * (x + 0.044715f * x * x * x);
        float t = std::tanh(u);
        g = 0.5f * (1.0f + t) + 0.5f * x * (1.0f - t * t) * kSqrt2OverPi * (1.0f + 3.0f * 0.044715f * x * x);
        break;
      }
      case Act::Erf: g = 1.1283791670955126f * std::exp(-x * x); break;  // 2/sqrt(pi) e^(-x^2)
    }
    dinp[i] = dout[i] * g;
  }
}

}  // namespace ref
}  // namespace strata
