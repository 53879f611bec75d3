// norm.cuh: batch normalization over axis 1 of (N, C, S), as batchnorm.h defines it: biased
// batch variance, the statistics returned for the moving averages. Gradient contract: dx =,
// dscale += and dbias +=. One block per channel for the per-channel sums (two passes: the
// mean, then the squared deviations from it), element-wise kernels for the rest.
#pragma once
#include "common.cuh"

STRATA_GPU_NAMESPACE_BEGIN

__global__ void __launch_bounds__(kThreads)
    batchnorm_stats(float* mean, float* var, const float* x, int N, int C, int S) {
  const int c = blockIdx.x;
  const int64_t count = (int64_t)N * S;
  auto at = [&](int64_t i) { return x[(i / S * C + c) * S + i % S]; };
  float s = 0.0f;
  for (int64_t i = threadIdx.x; i < count; i += blockDim.x) s += at(i);
  const float m = block_sum(s) / (float)count;
  float ss = 0.0f;
  for (int64_t i = threadIdx.x; i < count; i += blockDim.x) {
    float d = at(i) - m;
    ss += d * d;
  }
  ss = block_sum(ss);
  if (threadIdx.x == 0) mean[c] = m, var[c] = ss / (float)count;
}

__global__ void batchnorm_apply(float* y, const float* x, const float* scale, const float* bias, const float* mean,
                                const float* var, int C, int S, int64_t n, float eps) {
  STRATA_GRID_LOOP(i, n) {
    int c = (int)(i / S % C);
    float inv = 1.0f / sqrtf(var[c] + eps);
    y[i] = (x[i] - mean[c]) * inv * scale[c] + bias[c];
  }
}

// sums[c] = sum(dy), sums[C + c] = sum(dy * xhat) over the channel; dscale/dbias += them.
__global__ void __launch_bounds__(kThreads)
    batchnorm_grad_sums(float* sums, float* dscale, float* dbias, const float* dy, const float* x, const float* mean,
                        const float* var, int N, int C, int S, float eps) {
  const int c = blockIdx.x;
  const int64_t count = (int64_t)N * S;
  const float inv = 1.0f / sqrtf(var[c] + eps), m = mean[c];
  float sdy = 0.0f, sdyx = 0.0f;
  for (int64_t i = threadIdx.x; i < count; i += blockDim.x) {
    int64_t at = (i / S * C + c) * S + i % S;
    sdy += dy[at];
    sdyx += dy[at] * (x[at] - m) * inv;
  }
  sdy = block_sum(sdy);
  sdyx = block_sum(sdyx);
  if (threadIdx.x == 0) {
    sums[c] = sdy, sums[C + c] = sdyx;
    if (dscale) dscale[c] += sdyx;
    if (dbias) dbias[c] += sdy;
  }
}

// dx = scale * inv * (dy - mean(dy) - xhat * mean(dy * xhat))
__global__ void batchnorm_dx(float* dx, const float* dy, const float* x, const float* scale, const float* mean,
                             const float* var, const float* sums, int N, int C, int S, float eps) {
  const float M = (float)N * (float)S;
  STRATA_GRID_LOOP(i, (int64_t)N * C * S) {
    int c = (int)(i / S % C);
    float inv = 1.0f / sqrtf(var[c] + eps), xhat = (x[i] - mean[c]) * inv;
    dx[i] = scale[c] * inv * (dy[i] - sums[c] / M - xhat * sums[C + c] / M);
  }
}

// --- LayerNormalization over rows of D (batchnorm.h's layer_norm_*) -----------------------------
// One warp per row: the mean, then the squared deviations from it (two passes, as the reference).
__global__ void layer_norm_forward_rows(float* y, float* mean, float* inv_std, const float* x, const float* scale,
                                        const float* bias, int64_t rows, int64_t D, float eps) {
  const int64_t warps = (int64_t)gridDim.x * (blockDim.x / 32);
  const int lane = threadIdx.x % 32;
  for (int64_t r = (int64_t)blockIdx.x * (blockDim.x / 32) + threadIdx.x / 32; r < rows; r += warps) {
    const float* xr = x + r * D;
    float s = 0.0f;
    for (int64_t j = lane; j < D; j += 32) s += xr[j];
    const float m = D ? warp_sum(s) / (float)D : 0.0f;
    float ss = 0.0f;
    for (int64_t j = lane; j < D; j += 32) ss += (xr[j] - m) * (xr[j] - m);
    ss = warp_sum(ss);
    const float is = 1.0f / sqrtf((D ? ss / (float)D : 0.0f) + eps);
    if (lane == 0) mean[r] = m, inv_std[r] = is;
    for (int64_t j = lane; j < D; j += 32) y[r * D + j] = (xr[j] - m) * is * scale[j] + (bias ? bias[j] : 0.0f);
  }
}

// dx = inv_std * (g - mean(g) - xhat * mean(g * xhat)), g = dy * scale: one warp per row.
__global__ void layer_norm_dx(float* dx, const float* dy, const float* x, const float* scale, const float* mean,
                              const float* inv_std, int64_t rows, int64_t D) {
  const int64_t warps = (int64_t)gridDim.x * (blockDim.x / 32);
  const int lane = threadIdx.x % 32;
  for (int64_t r = (int64_t)blockIdx.x * (blockDim.x / 32) + threadIdx.x / 32; r < rows; r += warps) {
    const float m = mean[r], is = inv_std[r];
    float g_sum = 0.0f, gx_sum = 0.0f;
    for (int64_t j = lane; j < D; j += 32) {
      float g = dy[r * D + j] * scale[j];
      g_sum += g, gx_sum += g * (x[r * D + j] - m) * is;
    }
    g_sum = warp_sum(g_sum) / (float)D, gx_sum = warp_sum(gx_sum) / (float)D;
    for (int64_t j = lane; j < D; j += 32)
      dx[r * D + j] = is * (dy[r * D + j] * scale[j] - g_sum - (x[r * D + j] - m) * is * gx_sum);
  }
}

// dscale[j] += sum over rows of dy * xhat, dbias[j] += sum of dy: one block per column j.
__global__ void __launch_bounds__(kThreads)
    layer_norm_param_grads(float* dscale, float* dbias, const float* dy, const float* x, const float* mean,
                           const float* inv_std, int64_t rows, int64_t D) {
  const int64_t j = blockIdx.x;
  float sdy = 0.0f, sdyx = 0.0f;
  for (int64_t r = threadIdx.x; r < rows; r += blockDim.x) {
    float d = dy[r * D + j];
    sdy += d, sdyx += d * (x[r * D + j] - mean[r]) * inv_std[r];
  }
  sdy = block_sum(sdy);
  sdyx = block_sum(sdyx);
  if (threadIdx.x == 0) {
    if (dscale) dscale[j] += sdyx;
    if (dbias) dbias[j] += sdy;
  }
}

STRATA_GPU_NAMESPACE_END
