// augment.h: Keras's image augmentation, on NHWC images on the host (plain loops: these run
// at the input of a model, once per step, and every backend uses them; see kernels_augment.cpp).
//
// affine_sample: out(n, y, x, c) = in(n) read at (m.x(x, y), m.y(x, y)), a per-image map from
// output pixels to input coordinates, as TensorFlow's ImageProjectiveTransformV3 (which Keras's
// RandomTranslation, RandomZoom and RandomRotation call): fill modes reflect, wrap, nearest
// (the coordinate folded back into the image) and constant (fill_value outside), bilinear or
// nearest reads. RandomFlip is the map x -> W - 1 - x (exact with either read).
// affine_sample_backward is its exact transpose (din = A^T dout, scatter-added).
//
// contrast: out = clip((x - mean) * factor + mean, lo, hi), the mean over each image's pixels
// per channel (Keras's RandomContrast), factor per image; backward exact.
//
// Gradient contract: activation grads = (no parameters).
#pragma once
#include <cstdint>

namespace strata {

enum class FillMode { Reflect, Wrap, Constant, Nearest };
enum class Interp { Bilinear, Nearest };

// Input coordinates of output pixel (x, y): in_x = a0 x + a1 y + a2, in_y = b0 x + b1 y + b2.
struct AffineMap {
  float a0 = 1, a1 = 0, a2 = 0, b0 = 0, b1 = 1, b2 = 0;
};

struct ImageDims {
  int N, H, W, C;  // NHWC
};

struct SampleParams {
  FillMode fill = FillMode::Reflect;
  Interp interp = Interp::Bilinear;
  float fill_value = 0;
};

// maps: one per image (N)
void affine_sample_forward(float* out, const float* in, const AffineMap* maps, ImageDims d, const SampleParams& p);
void affine_sample_backward(float* din, const float* dout, const AffineMap* maps, ImageDims d, const SampleParams& p);

// factors: one per image; mean: N * C, the channels' means (written)
void contrast_forward(float* out, float* mean, const float* in, const float* factors, ImageDims d, float lo, float hi);
void contrast_backward(float* din, const float* dout, const float* out, const float* factors, ImageDims d, float lo, float hi);

// The maps Keras's layers build (TensorFlow's formulas), for an image of h x w:
AffineMap flip_map(bool horizontal, bool vertical, int h, int w);
// rotation by `angle` radians about the center (positive: counter-clockwise)
AffineMap rotation_map(float angle, int h, int w);
// zoom: the input is read zoom_x (zoom_y) times as wide (tall) about the center (> 1 zooms out)
AffineMap zoom_map(float zoom_y, float zoom_x, int h, int w);
// translation by (dy, dx) pixels (positive: the image moves down and right)
AffineMap translation_map(float dy, float dx);

}  // namespace strata
