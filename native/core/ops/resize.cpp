// resize.cpp: reference Resize (resize.h): every output from its 2 x 2 (linear) or 1 (nearest)
// taps, and the backward as the scatter of each output grad onto those taps.
#include "resize.h"

#include <cstring>

namespace strata {
namespace ref {

void resize_forward(float* out, const float* inp, const ResizeParams& p) {
  const ResizeAxis &h = p.h, &w = p.w;
  for (int64_t c = 0; c < p.planes; c++) {
    const float* x = inp + c * h.in * w.in;
    float* y = out + c * h.out * w.out;
    for (int64_t oy = 0; oy < h.out; oy++) {
      int64_t y0, y1;
      float wy;
      h.taps(oy, y0, y1, wy);
      for (int64_t ox = 0; ox < w.out; ox++) {
        int64_t x0, x1;
        float wx;
        w.taps(ox, x0, x1, wx);
        double top = (1.0 - wx) * x[y0 * w.in + x0] + wx * x[y0 * w.in + x1];
        double bottom = (1.0 - wx) * x[y1 * w.in + x0] + wx * x[y1 * w.in + x1];
        y[oy * w.out + ox] = (float)((1.0 - wy) * top + wy * bottom);
      }
    }
  }
}

void resize_backward(float* dinp, const float* dout, const ResizeParams& p) {
  const ResizeAxis &h = p.h, &w = p.w;
  std::memset(dinp, 0, sizeof(float) * p.planes * h.in * w.in);
  for (int64_t c = 0; c < p.planes; c++) {
    float* dx = dinp + c * h.in * w.in;
    const float* dy = dout + c * h.out * w.out;
    for (int64_t oy = 0; oy < h.out; oy++) {
      int64_t y0, y1;
      float wy;
      h.taps(oy, y0, y1, wy);
      for (int64_t ox = 0; ox < w.out; ox++) {
        int64_t x0, x1;
        float wx;
        w.taps(ox, x0, x1, wx);
        float g = dy[oy * w.out + ox];
        dx[y0 * w.in + x0] += (1.0f - wy) * (1.0f - wx) * g;
        dx[y0 * w.in + x1] += (1.0f - wy) * wx * g;
        dx[y1 * w.in + x0] += wy * (1.0f - wx) * g;
        dx[y1 * w.in + x1] += wy * wx * g;
      }
    }
  }
}

}  // namespace ref
}  // namespace strata
