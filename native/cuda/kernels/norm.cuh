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

STRATA_GPU_NAMESPACE_END
