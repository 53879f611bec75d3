// resize.cuh: Resize over NCHW's spatial axes (core/ops/resize.h, whose ResizeAxis gives the
// taps here and in the reference). Gradient contract: dinp =.
#pragma once
#include "../../core/ops/resize.h"
#include "common.cuh"

STRATA_GPU_NAMESPACE_BEGIN

// out (planes, h.out, w.out): each element from its taps, as the reference's loop.
__global__ void resize_forward(float* out, const float* inp, ResizeParams p, int64_t n) {
  STRATA_GRID_LOOP(o, n) {
    const int64_t ox = o % p.w.out, oy = (o / p.w.out) % p.h.out, plane = o / (p.w.out * p.h.out);
    const float* x = inp + plane * p.h.in * p.w.in;
    int64_t ys[4], xs[4];
    float wy[4], wx[4];
    const int ny = p.h.taps(oy, ys, wy), nx = p.w.taps(ox, xs, wx);
    float sum = 0.0f;
    for (int a = 0; a < ny; a++) {
      float row = 0.0f;
      for (int b = 0; b < nx; b++) row += wx[b] * x[ys[a] * p.w.in + xs[b]];
      sum += wy[a] * row;
    }
    out[o] = sum;
  }
}

// dinp (planes, h.in, w.in): a thread per input element gathers the output grads that read it
// (a run of rows and a run of columns, ResizeAxis::first_reader), in a fixed order: no atomics.
__global__ void resize_backward(float* dinp, const float* dout, ResizeParams p, int64_t n) {
  STRATA_GRID_LOOP(i, n) {
    const int64_t ix = i % p.w.in, iy = (i / p.w.in) % p.h.in, plane = i / (p.w.in * p.h.in);
    const float* dy = dout + plane * p.h.out * p.w.out;
    const int64_t first_x = p.w.first_reader(ix);
    float sum = 0.0f;
    for (int64_t oy = p.h.first_reader(iy); oy < p.h.out && !p.h.past(oy, iy); oy++) {
      const float wy = p.h.weight(oy, iy);
      if (wy == 0.0f) continue;
      for (int64_t ox = first_x; ox < p.w.out && !p.w.past(ox, ix); ox++)
        sum += wy * p.w.weight(ox, ix) * dy[oy * p.w.out + ox];
    }
    dinp[i] = sum;
  }
}

STRATA_GPU_NAMESPACE_END
