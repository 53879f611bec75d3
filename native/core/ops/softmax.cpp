// softmax.cpp: reference softmax (max-subtracted, so exp never overflows).
#include "softmax.h"

#include <cmath>

namespace strata {
namespace ref {

void softmax_forward(float* out, const float* inp, int64_t outer, int64_t K, int64_t inner) {
  if (K == 0) return;  // an empty axis (a dim 0 in a file's shape): nothing to write, and no x[0] to read
  for (int64_t o = 0; o < outer; o++)
    for (int64_t j = 0; j < inner; j++) {
      const float* x = inp + o * K * inner + j;
      float* y = out + o * K * inner + j;
      float m = x[0];
      for (int64_t k = 1; k < K; k++) m = std::fmax(m, x[k * inner]);
      float s = 0;
      for (int64_t k = 0; k < K; k++) s += (y[k * inner] = std::exp(x[k * inner] - m));
      for (int64_t k = 0; k < K; k++) y[k * inner] /= s;
    }
}

void softmax_backward(float* dinp, const float* dout, const float* out, int64_t outer, int64_t K, int64_t inner) {
  for (int64_t o = 0; o < outer; o++)
    for (int64_t j = 0; j < inner; j++) {
      int64_t base = o * K * inner + j;
      float dot = 0;
      for (int64_t k = 0; k < K; k++) dot += dout[base + k * inner] * out[base + k * inner];
      for (int64_t k = 0; k < K; k++) dinp[base + k * inner] = out[base + k * inner] * (dout[base + k * inner] - dot);
    }
}

}  // namespace ref
}  // namespace strata
