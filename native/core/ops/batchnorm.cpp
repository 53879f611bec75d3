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

void layer_norm_forward(float* y, float* mean, float* inv_std, const float* x, const float* scale, const float* bias,
                        int64_t rows, int64_t D, float eps) {
  for (int64_t r = 0; r < rows; r++) {
    const float* xr = x + r * D;
    double s = 0, ss = 0;
    for (int64_t j = 0; j < D; j++) s += xr[j];
    double m = D ? s / (double)D : 0;
    for (int64_t j = 0; j < D; j++) ss += (xr[j] - m) * (xr[j] - m);
    double is = 1.0 / std::sqrt((D ? ss / (double)D : 0) + eps);
    mean[r] = (float)m, inv_std[r] = (float)is;
    for (int64_t j = 0; j < D; j++) y[r * D + j] = (float)((xr[j] - m) * is * scale[j] + (bias ? bias[j] : 0.0));
  }
}

void layer_norm_backward(float* dx, float* dscale, float* dbias, const float* dy, const float* x, const float* scale,
                         const float* mean, const float* inv_std, int64_t rows, int64_t D) {
  for (int64_t r = 0; r < rows; r++) {
    const float *xr = x + r * D, *dyr = dy + r * D;
    double g_sum = 0, gx_sum = 0;
    for (int64_t j = 0; j < D; j++) {
      double xhat = (xr[j] - mean[r]) * inv_std[r], g = (double)dyr[j] * scale[j];
      g_sum += g, gx_sum += g * xhat;
      if (dscale) dscale[j] += (float)(dyr[j] * xhat);
      if (dbias) dbias[j] += dyr[j];
    }
    for (int64_t j = 0; j < D; j++) {
      double xhat = (xr[j] - mean[r]) * inv_std[r], g = (double)dyr[j] * scale[j];
      if (dx) dx[r * D + j] = (float)(inv_std[r] * (g - g_sum / D - xhat * gx_sum / D));
    }
  }
}

}  // namespace ref
}  // namespace strata
