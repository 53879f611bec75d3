// kernels_augment.cpp: Strata's own image augmentation ops (domain ai.strata), Keras's
// RandomFlip, RandomContrast and, as RandomAffine, RandomTranslation, RandomZoom and
// RandomRotation. On NHWC images (the translator puts them channels-last); the identity
// outside training. In training each image's transformation is drawn on the host from
// ctx.seed (Rng: the same on every backend, a seed giving the same augmentation every run),
// and the image is transformed on the host (ops/augment.h's plain loops), downloaded from and
// uploaded to the backend's memory: every backend, the GPU included, runs them this way, at
// the input of a model where they sit. Backward is the exact transpose (flip, the affine
// sampling's scatter, contrast's mean and clip).
#include <algorithm>
#include <cmath>

#include "../check.h"
#include "../kernel.h"
#include "../ops/augment.h"
#include "../rng.h"

namespace strata {

namespace {

// An attribute [lo, hi] (floats), or `absent` when the node does not have it.
bool read_range(const Node& n, const std::string& key, float range[2]) {
  if (!n.has(key)) return false;
  const std::vector<float>& v = n.attrs.at(key).floats;
  STRATA_CHECK(v.size() == 2 && std::isfinite(v[0]) && std::isfinite(v[1]) && v[0] <= v[1],
               n.where() << ": " << key << " must be two finite floats [lower, upper] with lower <= upper");
  range[0] = v[0], range[1] = v[1];
  return true;
}

ImageDims image_dims(const Node& n, const Shape& s) {
  STRATA_CHECK(s.size() == 4, n.where() << ": expects images (batch, height, width, channels), got " << shape_str(s));
  return ImageDims{(int)s[0], (int)s[1], (int)s[2], (int)s[3]};
}

// The base of the augmentation kernels: out = in outside training; in training, draw() sets the
// batch's parameters (host_params_, uploaded to params_), transform() applies them, transpose()
// its backward.
class AugmentKernel : public OpKernel {
 public:
  using OpKernel::OpKernel;
  void infer(const Ins& in, Outs& out) override {
    ImageDims d = image_dims(node, in[0]->shape);
    out[0]->reset(in[0]->shape);
    reset_beside(params_, *out[0], {std::max<int64_t>(d.N, 1) * params_per_image()});
    reset_beside(scratch_, *out[0], {std::max<int64_t>(d.N, 1) * std::max(d.C, 1)});
  }
  void forward(KernelContext& ctx, const Ins& in, Outs& out) override {
    active_ = ctx.training;
    if (!active_) return copy_values(ctx, *in[0], *out[0]);
    ImageDims d = image_dims(node, in[0]->shape);
    Rng rng(ctx.seed);
    host_params_.assign((size_t)d.N * params_per_image(), 0.0f);
    draw(rng, d, host_params_.data());
    ctx.be->upload(params_.data(), host_params_.data(), (int64_t)host_params_.size());
    transform(ctx, out[0]->data(), in[0]->data(), d);
  }
  void backward(KernelContext& ctx, const Ins& in, const Outs& out, const Tensor& dout, Grads& din) override {
    if (!din[0]) return;
    if (!active_) return ctx.be->copy(din[0]->data(), dout.data(), dout.size());
    transpose(ctx, din[0]->data(), dout.data(), out[0]->data(), image_dims(node, in[0]->shape));
  }
  bool differentiable(int i) const override { return i == 0; }

 protected:
  virtual int64_t params_per_image() const = 0;
  // Writes each image's parameters (params_per_image() floats) for the batch.
  virtual void draw(Rng& rng, ImageDims d, float* params) = 0;
  virtual void transform(KernelContext& ctx, float* y, const float* x, ImageDims d) = 0;
  virtual void transpose(KernelContext& ctx, float* dx, const float* dy, const float* y, ImageDims d) = 0;
  Tensor params_, scratch_;  // in the backend's memory

 private:
  bool active_ = false;
  std::vector<float> host_params_;
};

// RandomFlip and RandomAffine: one sampling map (AffineMap, 6 floats) per image.
class SamplingKernel : public AugmentKernel {
 public:
  using AugmentKernel::AugmentKernel;

 protected:
  int64_t params_per_image() const override { return 6; }
  void draw(Rng& rng, ImageDims d, float* params) override {
    for (int n = 0; n < d.N; n++) {
      AffineMap m = draw_map(rng, d);
      float values[6] = {m.a0, m.a1, m.a2, m.b0, m.b1, m.b2};
      std::copy(values, values + 6, params + n * 6);
    }
  }
  virtual AffineMap draw_map(Rng& rng, ImageDims d) = 0;
  void transform(KernelContext& ctx, float* y, const float* x, ImageDims d) override {
    ctx.be->affine_sample_forward(y, x, params_.data(), d, sampling_);
  }
  void transpose(KernelContext& ctx, float* dx, const float* dy, const float*, ImageDims d) override {
    ctx.be->affine_sample_backward(dx, dy, params_.data(), d, sampling_);
  }
  SampleParams sampling_;
};

// Keras's RandomFlip: horizontal (left-right) and/or vertical, each with probability 1/2 per image.
class FlipKernel : public SamplingKernel {
 public:
  explicit FlipKernel(const Node& n)
      : SamplingKernel(n), horizontal_(n.get_int("horizontal", 1) != 0), vertical_(n.get_int("vertical", 0) != 0) {
    sampling_.interp = Interp::Nearest;  // integer coordinates: exact
  }

 protected:
  AffineMap draw_map(Rng& rng, ImageDims d) override {
    bool h = horizontal_ && rng.uniform() < 0.5f, v = vertical_ && rng.uniform() < 0.5f;
    return flip_map(h, v, d.H, d.W);
  }

 private:
  bool horizontal_, vertical_;
};

// Keras's RandomTranslation (translate_height/width: fractions of the size), RandomZoom
// (zoom_height, zoom_width: the zoom is 1 + z; without zoom_width the width takes the height's)
// and RandomRotation (rotation: radians), each image's parameters drawn uniformly from the ranges.
class AffineKernel : public SamplingKernel {
 public:
  explicit AffineKernel(const Node& n) : SamplingKernel(n) {
    has_rotation_ = read_range(n, "rotation", rotation_);
    has_zoom_ = read_range(n, "zoom_height", zoom_h_);
    own_zoom_width_ = read_range(n, "zoom_width", zoom_w_);
    has_translation_ = read_range(n, "translate_height", shift_h_);
    STRATA_CHECK(has_translation_ == read_range(n, "translate_width", shift_w_),
                 n.where() << ": translate_height and translate_width come together");
    STRATA_CHECK(!own_zoom_width_ || has_zoom_, n.where() << ": zoom_width needs zoom_height");
    STRATA_CHECK(has_rotation_ + has_zoom_ + has_translation_ == 1,
                 n.where() << ": needs exactly one of rotation, zoom_height, translate_height/translate_width");
    STRATA_CHECK(!has_zoom_ || (zoom_h_[0] > -1 && (!own_zoom_width_ || zoom_w_[0] > -1)),
                 n.where() << ": zoom ranges must stay above -1 (a zoom of 1 + z > 0)");
    std::string fill = n.get_string("fill_mode", "reflect"), interp = n.get_string("interpolation", "bilinear");
    if (fill == "reflect") sampling_.fill = FillMode::Reflect;
    else if (fill == "wrap") sampling_.fill = FillMode::Wrap;
    else if (fill == "constant") sampling_.fill = FillMode::Constant;
    else if (fill == "nearest") sampling_.fill = FillMode::Nearest;
    else STRATA_FAIL(n.where() << ": fill_mode '" << fill << "' is not one of reflect, wrap, constant, nearest");
    STRATA_CHECK(interp == "bilinear" || interp == "nearest", n.where() << ": interpolation '" << interp << "' is not bilinear or nearest");
    sampling_.interp = interp == "nearest" ? Interp::Nearest : Interp::Bilinear;
    sampling_.fill_value = n.get_float("fill_value", 0.0f);
  }

 protected:
  AffineMap draw_map(Rng& rng, ImageDims d) override {
    if (has_rotation_) return rotation_map(rng.uniform(rotation_[0], rotation_[1]), d.H, d.W);
    if (has_zoom_) {
      float zy = 1 + rng.uniform(zoom_h_[0], zoom_h_[1]);
      float zx = own_zoom_width_ ? 1 + rng.uniform(zoom_w_[0], zoom_w_[1]) : zy;
      return zoom_map(zy, zx, d.H, d.W);
    }
    float dy = rng.uniform(shift_h_[0], shift_h_[1]) * d.H, dx = rng.uniform(shift_w_[0], shift_w_[1]) * d.W;
    return translation_map(dy, dx);
  }

 private:
  bool has_rotation_, has_zoom_, own_zoom_width_, has_translation_;
  float rotation_[2] = {0, 0}, zoom_h_[2] = {0, 0}, zoom_w_[2] = {0, 0}, shift_h_[2] = {0, 0}, shift_w_[2] = {0, 0};
};

// Keras's RandomContrast: factor_range [1 - lower, 1 + upper] per image, clipped to value_range.
class ContrastKernel : public AugmentKernel {
 public:
  explicit ContrastKernel(const Node& n) : AugmentKernel(n) {
    STRATA_CHECK(read_range(n, "factor_range", factor_) && factor_[0] >= 0, n.where() << ": needs factor_range [lo, hi] with 0 <= lo");
    STRATA_CHECK(read_range(n, "value_range", value_) && value_[0] < value_[1], n.where() << ": needs value_range [low, high] with low < high");
  }

 protected:
  int64_t params_per_image() const override { return 1; }
  void draw(Rng& rng, ImageDims d, float* params) override {
    for (int n = 0; n < d.N; n++) params[n] = rng.uniform(factor_[0], factor_[1]);
  }
  void transform(KernelContext& ctx, float* y, const float* x, ImageDims d) override {
    ctx.be->contrast_forward(y, scratch_.data(), x, params_.data(), d, value_[0], value_[1]);
  }
  void transpose(KernelContext& ctx, float* dx, const float* dy, const float* y, ImageDims d) override {
    ctx.be->contrast_backward(dx, scratch_.data(), dy, y, params_.data(), d, value_[0], value_[1]);
  }

 private:
  float factor_[2], value_[2];
};

}  // namespace

std::unique_ptr<OpKernel> make_augment_kernel(const Node& n) {
  if (n.op_type == "RandomFlip") return std::make_unique<FlipKernel>(n);
  if (n.op_type == "RandomContrast") return std::make_unique<ContrastKernel>(n);
  if (n.op_type == "RandomAffine") return std::make_unique<AffineKernel>(n);
  return nullptr;
}

}  // namespace strata
