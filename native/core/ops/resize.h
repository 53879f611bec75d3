// resize.h: ONNX Resize over the two spatial axes of NCHW (Keras's UpSampling2D and Resizing,
// torch's interpolate/Upsample), modes nearest and linear.
//
// Each spatial axis maps an output index o to at most two input taps i0 <= i1 with weights
// 1 - w1 and w1 (nearest: i1 = i0, w1 = 0), by ONNX's coordinate_transformation_mode:
//   half_pixel          x = (o + 0.5) / scale - 0.5          (TensorFlow 2's tf.image.resize, jax)
//   pytorch_half_pixel  the same, 0 when the output has length 1
//   align_corners       x = o * (in - 1) / (resized - 1), 0 when out is 1 (resized: out, or in * scale
//                       unrounded when the node gives scales, as ONNX's reference computes it)
//   asymmetric          x = o / scale                        (Keras's nearest UpSampling2D)
// scale is the given scale, or out / in when the node gives sizes. Linear clamps x into
// [0, in - 1]; nearest rounds x by nearest_mode and clamps the index. ResizeAxis is shared by
// the reference loops and the CUDA kernels (host and device code), so both compute the same taps.
//
// Gradient contract: dinp = (an activation grad).
#pragma once
#include <math.h>

#include <cstdint>

#include "host_device.h"

namespace strata {

enum class ResizeMode : int { Nearest, Linear };
enum class ResizeCoord : int { HalfPixel, PytorchHalfPixel, AlignCorners, Asymmetric };
enum class NearestRound : int { RoundPreferFloor, RoundPreferCeil, Floor, Ceil };

struct ResizeAxis {
  int64_t in = 1, out = 1;
  float scale = 1;  // output per input length, as the coordinate formulas above take it
  float resized = 1;  // align_corners' output length (above)
  ResizeMode mode = ResizeMode::Nearest;
  ResizeCoord coord = ResizeCoord::HalfPixel;
  NearestRound round = NearestRound::RoundPreferFloor;

  // The input coordinate output index o samples.
  STRATA_HOST_DEVICE float source(int64_t o) const {
    switch (coord) {
      case ResizeCoord::HalfPixel: return ((float)o + 0.5f) / scale - 0.5f;
      case ResizeCoord::PytorchHalfPixel: return out > 1 ? ((float)o + 0.5f) / scale - 0.5f : 0.0f;
      case ResizeCoord::AlignCorners: return out > 1 ? (float)o * (float)(in - 1) / (resized - 1.0f) : 0.0f;
      default: return (float)o / scale;
    }
  }
  // The taps of output index o: i0 with weight 1 - w1, i1 with w1 (i0 <= i1, both in range).
  STRATA_HOST_DEVICE void taps(int64_t o, int64_t& i0, int64_t& i1, float& w1) const {
    float x = source(o);
    if (mode == ResizeMode::Linear) {
      x = fminf(fmaxf(x, 0.0f), (float)(in - 1));
      i0 = (int64_t)floorf(x);
      if (i0 > in - 1) i0 = in - 1;
      i1 = i0 + 1 < in ? i0 + 1 : in - 1;
      w1 = i1 == i0 ? 0.0f : x - (float)i0;
      return;
    }
    float f = floorf(x), r;
    switch (round) {
      case NearestRound::Floor: r = f; break;
      case NearestRound::Ceil: r = ceilf(x); break;
      case NearestRound::RoundPreferCeil: r = x - f >= 0.5f ? f + 1.0f : f; break;
      default: r = x - f > 0.5f ? f + 1.0f : f;  // round_prefer_floor
    }
    i0 = r < 0.0f ? 0 : (r > (float)(in - 1) ? in - 1 : (int64_t)r);
    i1 = i0;
    w1 = 0.0f;
  }
  // The weight input index i has in output index o's value.
  STRATA_HOST_DEVICE float weight(int64_t o, int64_t i) const {
    int64_t i0, i1;
    float w1;
    taps(o, i0, i1, w1);
    return (i0 == i ? 1.0f - w1 : 0.0f) + (i1 == i ? w1 : 0.0f);
  }
  // The first output index whose taps reach input index i or beyond (out when none): the taps
  // grow with o, so the outputs reading i are a run from here (a backward that gathers).
  STRATA_HOST_DEVICE int64_t first_reader(int64_t i) const {
    int64_t lo = 0, hi = out;
    while (lo < hi) {
      int64_t mid = (lo + hi) / 2, i0, i1;
      float w1;
      taps(mid, i0, i1, w1);
      if (i1 < i) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
  // Whether output index o's taps start after input index i (the run of i's readers is over).
  STRATA_HOST_DEVICE bool past(int64_t o, int64_t i) const {
    int64_t i0, i1;
    float w1;
    taps(o, i0, i1, w1);
    return i0 > i;
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
