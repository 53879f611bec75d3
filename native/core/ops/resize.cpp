// resize.cpp: reference Resize (resize.h): every output from its taps on each axis (1 nearest,
// 2 linear, 4 cubic), and the backward as the scatter of each output grad onto those taps.
#include "resize.h"

#include <cstring>

namespace strata {
namespace ref {

void resize_forward(float* out, const float* inp, const ResizeParams& p) {
  const ResizeAxis &h = p.h, &w = p.w;
  int64_t ys[4], xs[4];
  float wy[4], wx[4];
  for (int64_t c = 0; c < p.planes; c++) {
    const float* x = inp + c * h.in * w.in;
    float* y = out + c * h.out * w.out;
    for (int64_t oy = 0; oy < h.out; oy++) {
      const int ny = h.taps(oy, ys, wy);
      for (int64_t ox = 0; ox < w.out; ox++) {
        const int nx = w.taps(ox, xs, wx);
        double sum = 0;
        for (int a = 0; a < ny; a++) {
          double row = 0;
          for (int b = 0; b < nx; b++) row += (double)wx[b] * x[ys[a] * w.in + xs[b]];
          sum += (double)wy[a] * row;
        }
        y[oy * w.out + ox] = (float)sum;
      }
    }
  }
}

void resize_backward(float* dinp, const float* dout, const ResizeParams& p) {
  const ResizeAxis &h = p.h, &w = p.w;
  int64_t ys[4], xs[4];
  float wy[4], wx[4];
  std::memset(dinp, 0, sizeof(float) * p.planes * h.in * w.in);
  for (int64_t c = 0; c < p.planes; c++) {
    float* dx = dinp + c * h.in * w.in;
    const float* dy = dout + c * h.out * w.out;
    for (int64_t oy = 0; oy < h.out; oy++) {
      const int ny = h.taps(oy, ys, wy);
      for (int64_t ox = 0; ox < w.out; ox++) {
        const int nx = w.taps(ox, xs, wx);
        const float g = dy[oy * w.out + ox];
        for (int a = 0; a < ny; a++)
          for (int b = 0; b < nx; b++) dx[ys[a] * w.in + xs[b]] += wy[a] * wx[b] * g;
      }
    }
  }
}

}  // namespace ref
}  // namespace strata
