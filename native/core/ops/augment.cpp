// augment.cpp: see augment.h.
#include "augment.h"

#include "augment_fold.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace strata {

// The (up to 4) input pixels an output pixel reads and their weights; index -1 reads fill_value.
struct Taps {
  int64_t index[4];
  float weight[4];
  int count;
};

static Taps taps_of(const AffineMap& m, int x, int y, int H, int W, const SampleParams& p) {
  Taps t{};
  float fx = fold_coordinate(m.a0 * x + m.a1 * y + m.a2, W, (int)p.fill), fy = fold_coordinate(m.b0 * x + m.b1 * y + m.b2, H, (int)p.fill);
  auto at = [&](int64_t yy, int64_t xx) -> int64_t { return yy < 0 || yy >= H || xx < 0 || xx >= W ? -1 : yy * W + xx; };
  if (p.interp == Interp::Nearest) {
    t.index[0] = at((int64_t)std::round(fy), (int64_t)std::round(fx));
    t.weight[0] = 1, t.count = 1;
    return t;
  }
  float x0 = std::floor(fx), y0 = std::floor(fy);
  float wx1 = fx - x0, wy1 = fy - y0;
  int64_t ix = (int64_t)x0, iy = (int64_t)y0;
  t.index[0] = at(iy, ix), t.weight[0] = (1 - wy1) * (1 - wx1);
  t.index[1] = at(iy, ix + 1), t.weight[1] = (1 - wy1) * wx1;
  t.index[2] = at(iy + 1, ix), t.weight[2] = wy1 * (1 - wx1);
  t.index[3] = at(iy + 1, ix + 1), t.weight[3] = wy1 * wx1;
  t.count = 4;
  return t;
}

void affine_sample_forward(float* out, const float* in, const AffineMap* maps, ImageDims d, const SampleParams& p) {
  const int64_t plane = (int64_t)d.H * d.W * d.C;
  for (int n = 0; n < d.N; n++) {
    const float* img = in + n * plane;
    float* o = out + n * plane;
    for (int y = 0; y < d.H; y++)
      for (int x = 0; x < d.W; x++) {
        Taps t = taps_of(maps[n], x, y, d.H, d.W, p);
        float* px = o + ((int64_t)y * d.W + x) * d.C;
        for (int c = 0; c < d.C; c++) {
          float v = 0;
          for (int k = 0; k < t.count; k++) v += t.weight[k] * (t.index[k] < 0 ? p.fill_value : img[t.index[k] * d.C + c]);
          px[c] = v;
        }
      }
  }
}

void affine_sample_backward(float* din, const float* dout, const AffineMap* maps, ImageDims d, const SampleParams& p) {
  const int64_t plane = (int64_t)d.H * d.W * d.C;
  std::fill(din, din + d.N * plane, 0.0f);
  for (int n = 0; n < d.N; n++) {
    float* g = din + n * plane;
    const float* go = dout + n * plane;
    for (int y = 0; y < d.H; y++)
      for (int x = 0; x < d.W; x++) {
        Taps t = taps_of(maps[n], x, y, d.H, d.W, p);
        const float* px = go + ((int64_t)y * d.W + x) * d.C;
        for (int k = 0; k < t.count; k++)
          if (t.index[k] >= 0)
            for (int c = 0; c < d.C; c++) g[t.index[k] * d.C + c] += t.weight[k] * px[c];
      }
  }
}

void contrast_forward(float* out, float* mean, const float* in, const float* factors, ImageDims d, float lo, float hi) {
  const int64_t pixels = (int64_t)d.H * d.W;
  for (int n = 0; n < d.N; n++) {
    const float* img = in + n * pixels * d.C;
    float* m = mean + (int64_t)n * d.C;
    std::vector<double> sum(d.C, 0.0);
    for (int64_t i = 0; i < pixels; i++)
      for (int c = 0; c < d.C; c++) sum[c] += img[i * d.C + c];
    for (int c = 0; c < d.C; c++) m[c] = (float)(sum[c] / pixels);
    for (int64_t i = 0; i < pixels; i++)
      for (int c = 0; c < d.C; c++) {
        float v = (img[i * d.C + c] - m[c]) * factors[n] + m[c];
        out[(n * pixels + i) * d.C + c] = std::min(std::max(v, lo), hi);
      }
  }
}

// y = f x + (1 - f) mean(x) where not clipped: dx = f g + (1 - f) mean(g), g = dout where the
// output is strictly inside (lo, hi) (clip's gradient), 0 elsewhere.
void contrast_backward(float* din, const float* dout, const float* out, const float* factors, ImageDims d, float lo, float hi) {
  const int64_t pixels = (int64_t)d.H * d.W;
  for (int n = 0; n < d.N; n++) {
    const int64_t base = n * pixels * d.C;
    auto passed = [&](int64_t k) { return out[k] > lo && out[k] < hi ? dout[k] : 0.0f; };
    std::vector<double> sum(d.C, 0.0);
    for (int64_t i = 0; i < pixels; i++)
      for (int c = 0; c < d.C; c++) sum[c] += passed(base + i * d.C + c);
    float f = factors[n];
    for (int64_t i = 0; i < pixels; i++)
      for (int c = 0; c < d.C; c++) {
        int64_t k = base + i * d.C + c;
        din[k] = f * passed(k) + (1 - f) * (float)(sum[c] / pixels);
      }
  }
}

AffineMap flip_map(bool horizontal, bool vertical, int h, int w) {
  AffineMap m;
  if (horizontal) m.a0 = -1, m.a2 = (float)(w - 1);
  if (vertical) m.b1 = -1, m.b2 = (float)(h - 1);
  return m;
}

// TensorFlow's get_rotation_matrix: the rotation about ((w - 1) / 2, (h - 1) / 2)
AffineMap rotation_map(float angle, int h, int w) {
  float c = std::cos(angle), s = std::sin(angle), W1 = (float)(w - 1), H1 = (float)(h - 1);
  AffineMap m;
  m.a0 = c, m.a1 = -s, m.a2 = (W1 - (c * W1 - s * H1)) / 2;
  m.b0 = s, m.b1 = c, m.b2 = (H1 - (s * W1 + c * H1)) / 2;
  return m;
}

// TensorFlow's get_zoom_matrix
AffineMap zoom_map(float zoom_y, float zoom_x, int h, int w) {
  AffineMap m;
  m.a0 = zoom_x, m.a2 = (float)(w - 1) / 2 * (1 - zoom_x);
  m.b1 = zoom_y, m.b2 = (float)(h - 1) / 2 * (1 - zoom_y);
  return m;
}

AffineMap translation_map(float dy, float dx) {
  AffineMap m;
  m.a2 = -dx, m.b2 = -dy;
  return m;
}

}  // namespace strata
