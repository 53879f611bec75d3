// batchnorm.cpp: reference batch normalization, plain loops (double accumulators).
#include "batchnorm.h"

#include <cmath>
#include <cstdint>

namespace strata {
namespace ref {

void batchnorm_forward_train(float* y, float* mean, float* var, const float* x, const float* scale,
                             const float* bias, int N, int C, int S, float eps) {
  for (int c = 0; c < C; c++) {
    double s = 0, ss = 0;
    for (int n = 0; n < N; n++)
      for (int k = 0; k < S; k++) s += x[((int64_t)n * C + c) * S + k];
    double m = s / ((double)N * S);
    for (int n = 0; n < N; n++)
      for (int k = 0; k < S; k++) {
        double d = x[((int64_t)n * C + c) * S + k] - m;
        ss += d * d;
      }
    mean[c] = (float)m;
    var[c] = (float)(ss / ((double)N * S));
  }
  batchnorm_forward_infer(y, x, scale, bias, mean, var, N, C, S, eps);
}

void batchnorm_forward_infer(float* y, const float* x, const float* scale, const float* bias, const float* mean,
                             const float* var, int N, int C, int S, float eps) {
  for (int n = 0; n < N; n++)
    for (int c = 0; c < C; c++) {
      float inv = 1.0f / std::sqrt(var[c] + eps);
      for (int k = 0; k < S; k++) {
        int64_t i = ((int64_t)n * C + c) * S + k;
        y[i] = (x[i] - mean[c]) * inv * scale[c] + bias[c];
      }
    }
}

void batchnorm_backward(float* dx, float* dscale, float* dbias, const float* dy, const float* x, const float* scale,
                        const float* mean, const float* var, int N, int C, int S, float eps) {
  double M = (double)N * S;
  for (int c = 0; c < C; c++) {
    double inv = 1.0 / std::sqrt((double)var[c] + eps);
    double sdy = 0, sdyx = 0;  // sum(dy), sum(dy * xhat)
    for (int n = 0; n < N; n++)
      for (int k = 0; k < S; k++) {
        int64_t i = ((int64_t)n * C + c) * S + k;
        sdy += dy[i];
        sdyx += dy[i] * (x[i] - mean[c]) * inv;
      }
    if (dscale) dscale[c] += (float)sdyx;
    if (dbias) dbias[c] += (float)sdy;
    if (!dx) continue;
    // dx = scale*inv * (dy - mean(dy) - xhat * mean(dy*xhat))
    for (int n = 0; n < N; n++)
      for (int k = 0; k < S; k++) {
        int64_t i = ((int64_t)n * C + c) * S + k;
        double xhat = (x[i] - mean[c]) * inv;
        dx[i] = (float)(scale[c] * inv * (dy[i] - sdy / M - xhat * sdyx / M));
      }
  }
}

}  // namespace ref
}  // namespace strata
