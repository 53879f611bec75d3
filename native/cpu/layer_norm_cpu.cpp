// layer_norm_cpu.cpp: see layer_norm_cpu.h. The math is the reference's (ops/batchnorm.cpp):
// dx = inv_std (g - mean(g) - xhat mean(g xhat)) with g = dy scale, xhat = (x - mean) inv_std.
#include "layer_norm_cpu.h"

#include <omp.h>

#include <algorithm>
#include <vector>

namespace strata {
namespace cpu {

namespace {

// Rows [r0, r1): dx's rows, and their scale and bias grads added into dscale and dbias.
void backward_rows(float* dx, float* dscale, float* dbias, const float* dy, const float* x, const float* scale,
                   const float* mean, const float* inv_std, int64_t r0, int64_t r1, int64_t D) {
  for (int64_t r = r0; r < r1; r++) {
    const float *xr = x + r * D, *dyr = dy + r * D;
    const float m = mean[r], is = inv_std[r];
    double g_sum = 0, gx_sum = 0;
#pragma omp simd reduction(+ : g_sum, gx_sum)
    for (int64_t j = 0; j < D; j++) {
      const double g = (double)dyr[j] * scale[j];
      g_sum += g, gx_sum += g * ((xr[j] - m) * is);
    }
    if (dscale)
      for (int64_t j = 0; j < D; j++) dscale[j] += dyr[j] * ((xr[j] - m) * is);
    if (dbias)
      for (int64_t j = 0; j < D; j++) dbias[j] += dyr[j];
    if (!dx) continue;
    const float g_mean = (float)(g_sum / D), gx_mean = (float)(gx_sum / D);
    float* dxr = dx + r * D;
    for (int64_t j = 0; j < D; j++) dxr[j] = is * (dyr[j] * scale[j] - g_mean - (xr[j] - m) * is * gx_mean);
  }
}

}  // namespace

void layer_norm_backward(float* dx, float* dscale, float* dbias, const float* dy, const float* x, const float* scale,
                         const float* mean, const float* inv_std, int64_t rows, int64_t D) {
  // a slice per thread from 32768 values on (as the forward's chunks)
  const int64_t slices = std::min<int64_t>({omp_get_max_threads(), rows, std::max<int64_t>(1, rows * D >> 15)});
  if (slices <= 1) return backward_rows(dx, dscale, dbias, dy, x, scale, mean, inv_std, 0, rows, D);
  // each slice's scale and bias grads (2D floats), summed in slice order after
  std::vector<float> partial((size_t)(slices * 2 * D), 0.0f);
#pragma omp parallel for num_threads((int)slices) schedule(static)
  for (int64_t s = 0; s < slices; s++) {
    float* own = partial.data() + s * 2 * D;
    backward_rows(dx, dscale ? own : nullptr, dbias ? own + D : nullptr, dy, x, scale, mean, inv_std,
                  rows * s / slices, rows * (s + 1) / slices, D);
  }
  for (int64_t s = 0; s < slices; s++) {
    const float* own = partial.data() + s * 2 * D;
    for (int64_t j = 0; j < D; j++) {
      if (dscale) dscale[j] += own[j];
      if (dbias) dbias[j] += own[D + j];
    }
  }
}

}  // namespace cpu
}  // namespace strata
