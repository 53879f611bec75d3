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
    int64_t y0, y1, x0, x1;
    float wy, wx;
    p.h.taps(oy, y0, y1, wy);
    p.w.taps(ox, x0, x1, wx);
    float top = (1.0f - wx) * x[y0 * p.w.in + x0] + wx * x[y0 * p.w.in + x1];
    float bottom = (1.0f - wx) * x[y1 * p.w.in + x0] + wx * x[y1 * p.w.in + x1];
    out[o] = (1.0f - wy) * top + wy * bottom;
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
