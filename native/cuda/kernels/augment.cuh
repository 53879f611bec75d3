// augment.cuh: Keras's image augmentation on NHWC images (core/ops/augment.h is the reference):
// the affine sampling (one thread per output value; its backward scatter-adds with atomicAdd)
// and the contrast (one thread per image and channel for the means, then per value).
// maps: 6 floats per image (AffineMap: a0 a1 a2 b0 b1 b2). fill: 0 reflect, 1 wrap, 2 constant,
// 3 nearest (= strata::FillMode); nearest_read: Interp::Nearest.
// Gradient contract: activation grads =.
#pragma once
#include "../../core/ops/augment_fold.h"
#include "common.cuh"

STRATA_GPU_NAMESPACE_BEGIN

// The pixels output (x, y) of image n reads and their weights (ops/augment.cpp's taps_of); -1: fill_value.
struct SampleTaps {
  int64_t index[4];
  float weight[4];
  int count;
};

__device__ __forceinline__ SampleTaps sample_taps(const float* m, int x, int y, int H, int W, int fill, bool nearest_read) {
  SampleTaps t;
  float fx = ::strata::fold_coordinate(m[0] * x + m[1] * y + m[2], W, fill), fy = ::strata::fold_coordinate(m[3] * x + m[4] * y + m[5], H, fill);
  if (nearest_read) {
    int64_t iy = (int64_t)roundf(fy), ix = (int64_t)roundf(fx);
    t.index[0] = iy < 0 || iy >= H || ix < 0 || ix >= W ? -1 : iy * W + ix;
    t.weight[0] = 1, t.count = 1;
    return t;
  }
  float x0 = floorf(fx), y0 = floorf(fy), wx = fx - x0, wy = fy - y0;
  int64_t ix = (int64_t)x0, iy = (int64_t)y0;
  for (int k = 0; k < 4; k++) {
    int64_t yy = iy + k / 2, xx = ix + k % 2;
    t.index[k] = yy < 0 || yy >= H || xx < 0 || xx >= W ? -1 : yy * W + xx;
    t.weight[k] = (k / 2 ? wy : 1 - wy) * (k % 2 ? wx : 1 - wx);
  }
  t.count = 4;
  return t;
}

__global__ void affine_sample_forward(float* out, const float* in, const float* maps, int N, int H, int W, int C, int fill,
                                      bool nearest_read, float fill_value) {
  STRATA_GRID_LOOP(i, (int64_t)N * H * W * C) {
    int c = (int)(i % C), x = (int)(i / C % W), y = (int)(i / C / W % H);
    int64_t n = i / C / W / H;
    SampleTaps t = sample_taps(maps + n * 6, x, y, H, W, fill, nearest_read);
    const float* img = in + n * H * W * C;
    float v = 0;
    for (int k = 0; k < t.count; k++) v += t.weight[k] * (t.index[k] < 0 ? fill_value : img[t.index[k] * C + c]);
    out[i] = v;
  }
}

// din must hold zeros: each output value adds its weighted gradient into the pixels it read.
__global__ void affine_sample_backward(float* din, const float* dout, const float* maps, int N, int H, int W, int C, int fill,
                                       bool nearest_read) {
  STRATA_GRID_LOOP(i, (int64_t)N * H * W * C) {
    int c = (int)(i % C), x = (int)(i / C % W), y = (int)(i / C / W % H);
    int64_t n = i / C / W / H;
    SampleTaps t = sample_taps(maps + n * 6, x, y, H, W, fill, nearest_read);
    float* g = din + n * H * W * C;
    for (int k = 0; k < t.count; k++)
      if (t.index[k] >= 0) atomicAdd(&g[t.index[k] * C + c], t.weight[k] * dout[i]);
  }
}

// mean[n, c] = the mean over image n's pixels of channel c of x; with mask_lo < mask_hi, only
// where `by` lies strictly inside (mask_lo, mask_hi) counts (contrast's backward: clip's gradient).
__global__ void channel_means(float* mean, const float* x, const float* by, int N, int P, int C, float mask_lo, float mask_hi) {
  STRATA_GRID_LOOP(j, (int64_t)N * C) {
    int64_t n = j / C, c = j % C;
    double s = 0;
    for (int64_t p = 0; p < P; p++) {
      int64_t k = (n * P + p) * C + c;
      if (by == nullptr || (by[k] > mask_lo && by[k] < mask_hi)) s += x[k];
    }
    mean[j] = (float)(s / P);
  }
}

__global__ void contrast_forward(float* out, const float* in, const float* mean, const float* factors, int N, int P, int C, float lo,
                                 float hi) {
  STRATA_GRID_LOOP(i, (int64_t)N * P * C) {
    int64_t n = i / C / P, c = i % C;
    float m = mean[n * C + c];
    out[i] = fminf(fmaxf((in[i] - m) * factors[n] + m, lo), hi);
  }
}

// din = f g + (1 - f) mean(g), g = dout where the output was not clipped (gmean: that mean)
__global__ void contrast_backward(float* din, const float* dout, const float* out, const float* gmean, const float* factors, int N,
                                  int P, int C, float lo, float hi) {
  STRATA_GRID_LOOP(i, (int64_t)N * P * C) {
    int64_t n = i / C / P, c = i % C;
    float g = out[i] > lo && out[i] < hi ? dout[i] : 0.0f, f = factors[n];
    din[i] = f * g + (1 - f) * gmean[n * C + c];
  }
}

STRATA_GPU_NAMESPACE_END
