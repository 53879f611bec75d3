// resize.h: ONNX Resize over the two spatial axes of NCHW (Keras's UpSampling2D and Resizing,
// torch's interpolate/Upsample), modes nearest, linear and cubic.
//
// Each spatial axis maps an output index o to at most four input taps, ascending, with weights
// (nearest: one; linear: two, 1 - t and t; cubic: four, Keys's kernel with coefficient a), by
// ONNX's coordinate_transformation_mode:
//   half_pixel          x = (o + 0.5) / scale - 0.5          (TensorFlow 2's tf.image.resize, jax)
//   pytorch_half_pixel  the same, 0 when the output has length 1
//   align_corners       x = o * (in - 1) / (resized - 1), 0 when out is 1 (resized: out, or in * scale
//                       unrounded when the node gives scales, as ONNX's reference computes it)
//   asymmetric          x = o / scale                        (Keras's nearest UpSampling2D)
// scale is the given scale, or out / in when the node gives sizes. Linear clamps x into
// [0, in - 1]; nearest rounds x by nearest_mode and clamps the index; cubic takes floor(x) - 1
// to floor(x) + 2, clamping indices past the edges (ONNX's edge padding) or, with
// exclude_outside, giving them weight 0 and renormalizing the others. ResizeAxis is shared by
// the reference loops and the CUDA kernels (host and device code), so both compute the same taps.
//
// Gradient contract: dinp = (an activation grad).
#pragma once
#include <math.h>

#include <cstdint>

#include "host_device.h"

namespace strata {

enum class ResizeMode : int { Nearest, Linear, Cubic };
enum class ResizeCoord : int { HalfPixel, PytorchHalfPixel, AlignCorners, Asymmetric };
enum class NearestRound : int { RoundPreferFloor, RoundPreferCeil, Floor, Ceil };

struct ResizeAxis {
  int64_t in = 1, out = 1;
  float scale = 1;  // output per input length, as the coordinate formulas above take it
  float resized = 1;  // align_corners' output length (above)
  ResizeMode mode = ResizeMode::Nearest;
  ResizeCoord coord = ResizeCoord::HalfPixel;
  NearestRound round = NearestRound::RoundPreferFloor;
  float cubic_a = -0.75f;        // cubic_coeff_a (-0.75 PyTorch's, -0.5 TensorFlow's)
  bool exclude_outside = false;  // cubic: taps past the edges weigh 0, the rest renormalized

  // The input coordinate output index o samples.
  STRATA_HOST_DEVICE float source(int64_t o) const {
    switch (coord) {
      case ResizeCoord::HalfPixel: return ((float)o + 0.5f) / scale - 0.5f;
      case ResizeCoord::PytorchHalfPixel: return out > 1 ? ((float)o + 0.5f) / scale - 0.5f : 0.0f;
      case ResizeCoord::AlignCorners: return out > 1 ? (float)o * (float)(in - 1) / (resized - 1.0f) : 0.0f;
      default: return (float)o / scale;
    }
  }
  // The taps of output index o: n (returned: 1, 2 or 4) input indices i[], ascending (a clamped
  // index may repeat), with weights w[].
  STRATA_HOST_DEVICE int taps(int64_t o, int64_t* i, float* w) const {
    float x = source(o);
    if (mode == ResizeMode::Cubic) return cubic_taps(x, i, w);
    if (mode == ResizeMode::Linear) {
      x = fminf(fmaxf(x, 0.0f), (float)(in - 1));
      i[0] = (int64_t)floorf(x);
      if (i[0] > in - 1) i[0] = in - 1;
      i[1] = i[0] + 1 < in ? i[0] + 1 : in - 1;
      w[1] = i[1] == i[0] ? 0.0f : x - (float)i[0];
      w[0] = 1.0f - w[1];
      return 2;
    }
    float f = floorf(x), r;
    switch (round) {
      case NearestRound::Floor: r = f; break;
      case NearestRound::Ceil: r = ceilf(x); break;
      case NearestRound::RoundPreferCeil: r = x - f >= 0.5f ? f + 1.0f : f; break;
      default: r = x - f > 0.5f ? f + 1.0f : f;  // round_prefer_floor
    }
    i[0] = r < 0.0f ? 0 : (r > (float)(in - 1) ? in - 1 : (int64_t)r);
    w[0] = 1.0f;
    return 1;
  }
  // Keys's cubic convolution at the distances 1 + t, t, 1 - t, 2 - t of floor(x) - 1 .. + 2.
  STRATA_HOST_DEVICE int cubic_taps(float x, int64_t* i, float* w) const {
    const float f = floorf(x), t = x - f, a = cubic_a;
    const float d[4] = {1.0f + t, t, 1.0f - t, 2.0f - t};
    float sum = 0.0f;
    for (int k = 0; k < 4; k++) {
      w[k] = d[k] <= 1.0f ? ((a + 2.0f) * d[k] - (a + 3.0f)) * d[k] * d[k] + 1.0f
                          : ((a * d[k] - 5.0f * a) * d[k] + 8.0f * a) * d[k] - 4.0f * a;
      int64_t at = (int64_t)f - 1 + k;
      if (at < 0 || at > in - 1) {
        if (exclude_outside) w[k] = 0.0f;
        at = at < 0 ? 0 : in - 1;
      }
      i[k] = at;
      sum += w[k];
    }
    if (exclude_outside && sum != 0.0f)
      for (int k = 0; k < 4; k++) w[k] /= sum;
    return 4;
  }
  // The weight input index i has in output index o's value.
  STRATA_HOST_DEVICE float weight(int64_t o, int64_t i) const {
    int64_t at[4];
    float w[4], sum = 0.0f;
    for (int k = 0, n = taps(o, at, w); k < n; k++) sum += at[k] == i ? w[k] : 0.0f;
    return sum;
  }
  // The first output index whose taps reach input index i or beyond (out when none): the taps
  // grow with o, so the outputs reading i are a run from here (a backward that gathers).
  STRATA_HOST_DEVICE int64_t first_reader(int64_t i) const {
    int64_t lo = 0, hi = out;
    while (lo < hi) {
      int64_t mid = (lo + hi) / 2, at[4];
      float w[4];
      if (at[taps(mid, at, w) - 1] < i) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
  // Whether output index o's taps start after input index i (the run of i's readers is over).
  STRATA_HOST_DEVICE bool past(int64_t o, int64_t i) const {
    int64_t at[4];
    float w[4];
    taps(o, at, w);
    return at[0] > i;
  }
};

// inp (planes, h.in, w.in) -> out (planes, h.out, w.out), planes = N * C.
struct ResizeParams {
  int64_t planes = 1;
  ResizeAxis h, w;
};

namespace ref {
void resize_forward(float* out, const float* inp, const ResizeParams& p);
// dinp = the output grads carried back along the taps (a scatter, the plain loop)
void resize_backward(float* dinp, const float* dout, const ResizeParams& p);
}  // namespace ref

}  // namespace strata
