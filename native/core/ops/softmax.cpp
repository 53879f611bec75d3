// softmax.cpp: reference softmax and log-softmax (max-subtracted, so exp never overflows).
#include "softmax.h"

#include <cmath>

namespace strata {
namespace ref {

void softmax_forward(float* out, const float* inp, int64_t outer, int64_t K, int64_t inner, bool log) {
  if (K == 0) return;  // an empty axis (a dim 0 in a file's shape): nothing to write, and no x[0] to read
  for (int64_t o = 0; o < outer; o++)
    for (int64_t j = 0; j < inner; j++) {
      const float* x = inp + o * K * inner + j;
      float* y = out + o * K * inner + j;
      float m = x[0];
      for (int64_t k = 1; k < K; k++) m = std::fmax(m, x[k * inner]);
      float s = 0;
      for (int64_t k = 0; k < K; k++) s += std::exp(x[k * inner] - m);
      const float log_s = std::log(s);
      for (int64_t k = 0; k < K; k++) y[k * inner] = log ? x[k * inner] - m - log_s : std::exp(x[k * inner] - m) / s;
    }
}

void softmax_backward(float* dinp, const float* dout, const float* out, int64_t outer, int64_t K, int64_t inner,
                      bool log) {
  for (int64_t o = 0; o < outer; o++)
    for (int64_t j = 0; j < inner; j++) {
      int64_t base = o * K * inner + j;
      float s = 0;  // sum(dout) for LogSoftmax, sum(dout * out) for Softmax
      for (int64_t k = 0; k < K; k++) s += dout[base + k * inner] * (log ? 1.0f : out[base + k * inner]);
      for (int64_t k = 0; k < K; k++) {
        float d = dout[base + k * inner], y = out[base + k * inner];
        dinp[base + k * inner] = log ? d - std::exp(y) * s : y * (d - s);
      }
    }
}

}  // namespace ref
}  // namespace strata
