// pool.cuh: max and average pooling, NCHW, as pool.h defines them. Gradient contract:
// dinp = (no parameters). The backward passes run one thread per input element and gather
// from the windows that cover it, so overlapping windows need no atomics and sum in a fixed
// order.
#pragma once
#include "common.cuh"

STRATA_GPU_NAMESPACE_BEGIN

struct PoolGeom {
  int N, C, H, W, OH, OW, KH, KW, sh, sw, dh, dw, pt, pl, pb, pr;
  bool count_include_pad;
};

// The offset (ih * W + iw) of window (oh, ow)'s first maximum in plane x, -1 when no tap is
// inside the input. Strictly greater from -FLT_MAX, as the reference: NaNs never win.
__device__ __forceinline__ int window_argmax(const float* x, const PoolGeom& g, int oh, int ow) {
  float m = -FLT_MAX;
  int arg = -1;
  for (int kh = 0; kh < g.KH; kh++) {
    int ih = oh * g.sh - g.pt + kh * g.dh;
    if (ih < 0 || ih >= g.H) continue;
    for (int kw = 0; kw < g.KW; kw++) {
      int iw = ow * g.sw - g.pl + kw * g.dw;
      if (iw >= 0 && iw < g.W && x[ih * g.W + iw] > m) m = x[ih * g.W + iw], arg = ih * g.W + iw;
    }
  }
  return arg;
}

__global__ void maxpool_forward(float* out, const float* inp, PoolGeom g) {
  const int64_t n_out = (int64_t)g.N * g.C * g.OH * g.OW;
  STRATA_GRID_LOOP(o, n_out) {
    int ow = o % g.OW, oh = o / g.OW % g.OH;
    const float* x = inp + o / (g.OH * g.OW) * g.H * g.W;
    int arg = window_argmax(x, g, oh, ow);
    out[o] = arg >= 0 ? x[arg] : -FLT_MAX;
  }
}

// The taps of one axis that put input position i inside output position o: o * s - p + k * d == i.
// Calls f(o) for every output o whose window holds i (ascending k).
template <class F>
__device__ __forceinline__ void windows_over(int i, int p, int s, int d, int K, int n_out, F f) {
  for (int k = 0; k < K; k++) {
    int t = i + p - k * d;
    if (t < 0 || t % s != 0 || t / s >= n_out) continue;
    f(t / s);
  }
}

__global__ void maxpool_backward(float* dinp, const float* dout, const float* inp, PoolGeom g) {
  const int64_t n_in = (int64_t)g.N * g.C * g.H * g.W;
  STRATA_GRID_LOOP(i, n_in) {
    int iw = i % g.W, ih = i / g.W % g.H;
    int64_t plane = i / ((int64_t)g.H * g.W);
    const float* x = inp + plane * g.H * g.W;
    const float* d = dout + plane * g.OH * g.OW;
    float s = 0.0f;
    windows_over(ih, g.pt, g.sh, g.dh, g.KH, g.OH, [&](int oh) {
      windows_over(iw, g.pl, g.sw, g.dw, g.KW, g.OW, [&](int ow) {
        if (window_argmax(x, g, oh, ow) == ih * g.W + iw) s += d[oh * g.OW + ow];
      });
    });
    dinp[i] = s;
  }
}

// The taps of window (oh, ow) that count for its average (pool.cpp's avg_count).
__device__ __forceinline__ int avg_count(const PoolGeom& g, int oh, int ow) {
  int cnt = 0;
  for (int kh = 0; kh < g.KH; kh++)
    for (int kw = 0; kw < g.KW; kw++) {
      int ih = oh * g.sh - g.pt + kh * g.dh, iw = ow * g.sw - g.pl + kw * g.dw;
      bool inside = ih >= 0 && ih < g.H && iw >= 0 && iw < g.W;
      bool in_pad = ih >= -g.pt && ih < g.H + g.pb && iw >= -g.pl && iw < g.W + g.pr;
      cnt += g.count_include_pad ? in_pad : inside;
    }
  return cnt > 0 ? cnt : 1;
}

__global__ void avgpool_forward(float* out, const float* inp, PoolGeom g) {
  const int64_t n_out = (int64_t)g.N * g.C * g.OH * g.OW;
  STRATA_GRID_LOOP(o, n_out) {
    int ow = o % g.OW, oh = o / g.OW % g.OH;
    const float* x = inp + o / (g.OH * g.OW) * g.H * g.W;
    float s = 0.0f;
    for (int kh = 0; kh < g.KH; kh++) {
      int ih = oh * g.sh - g.pt + kh * g.dh;
      if (ih < 0 || ih >= g.H) continue;
      for (int kw = 0; kw < g.KW; kw++) {
        int iw = ow * g.sw - g.pl + kw * g.dw;
        if (iw >= 0 && iw < g.W) s += x[ih * g.W + iw];
      }
    }
    out[o] = s / avg_count(g, oh, ow);
  }
}

__global__ void avgpool_backward(float* dinp, const float* dout, PoolGeom g) {
  const int64_t n_in = (int64_t)g.N * g.C * g.H * g.W;
  STRATA_GRID_LOOP(i, n_in) {
    int iw = i % g.W, ih = i / g.W % g.H;
    const float* d = dout + i / ((int64_t)g.H * g.W) * g.OH * g.OW;
    float s = 0.0f;
    windows_over(ih, g.pt, g.sh, g.dh, g.KH, g.OH, [&](int oh) {
      windows_over(iw, g.pl, g.sw, g.dw, g.KW, g.OW, [&](int ow) { s += d[oh * g.OW + ow] / avg_count(g, oh, ow); });
    });
    dinp[i] = s;
  }
}

STRATA_GPU_NAMESPACE_END
