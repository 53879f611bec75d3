// kernels_resize.cpp: ONNX Resize (opset 11 on) over the two spatial axes of NCHW, modes nearest,
// linear and cubic (cubic_coeff_a, exclude_outside), with the coordinate transformation modes
// Keras's layers and PyTorch's exports use (core/ops/resize.h). The output size comes from the
// sizes input or from floor(in * scale); anything else ONNX allows (tf_crop_and_resize,
// antialias, aspect-ratio policies, resizing the batch or channel axes) is refused naming the
// attribute.
#include <cmath>

#include "../check.h"
#include "../kernel.h"

namespace strata {

namespace {

ResizeMode mode_named(const Node& n) {
  std::string m = n.get_string("mode", "nearest");
  if (m == "nearest") return ResizeMode::Nearest;
  if (m == "linear") return ResizeMode::Linear;
  if (m == "cubic") return ResizeMode::Cubic;
  STRATA_FAIL(n.where() << ": mode '" << m << "' is not one of nearest, linear and cubic");
}

ResizeCoord coord_named(const Node& n) {
  std::string c = n.get_string("coordinate_transformation_mode", "half_pixel");
  if (c == "half_pixel") return ResizeCoord::HalfPixel;
  if (c == "pytorch_half_pixel") return ResizeCoord::PytorchHalfPixel;
  if (c == "align_corners") return ResizeCoord::AlignCorners;
  if (c == "asymmetric") return ResizeCoord::Asymmetric;
  STRATA_FAIL(n.where() << ": coordinate_transformation_mode '" << c
                        << "' is not supported (half_pixel, pytorch_half_pixel, align_corners or asymmetric)");
}

NearestRound round_named(const Node& n) {
  std::string r = n.get_string("nearest_mode", "round_prefer_floor");
  if (r == "round_prefer_floor") return NearestRound::RoundPreferFloor;
  if (r == "round_prefer_ceil") return NearestRound::RoundPreferCeil;
  if (r == "floor") return NearestRound::Floor;
  if (r == "ceil") return NearestRound::Ceil;
  STRATA_FAIL(n.where() << ": nearest_mode '" << r << "' is not supported");
}

// An optional input that is present and not empty (opsets 11 and 12 pass "" or an empty roi/scales).
const Tensor* given(const Ins& in, size_t k) { return in.size() > k && in[k] && in[k]->size() > 0 ? in[k] : nullptr; }

}  // namespace

class ResizeKernel : public OpKernel {
 public:
  ResizeKernel(const Node& n, int64_t opset) : OpKernel(n) {
    STRATA_CHECK(opset >= 11, n.where() << ": Resize of opset " << opset
                                        << " (before coordinate_transformation_mode) is not supported; export with opset 11 or later");
    STRATA_CHECK(n.get_int("antialias", 0) == 0, n.where() << ": antialias=1 is not supported");
    std::string policy = n.get_string("keep_aspect_ratio_policy", "stretch");
    STRATA_CHECK(policy == "stretch", n.where() << ": keep_aspect_ratio_policy '" << policy << "' is not supported (stretch)");
    std::vector<int64_t> axes = n.get_ints("axes");
    const bool spatial_axes = axes.empty() || axes == std::vector<int64_t>{2, 3} || axes == std::vector<int64_t>{-2, -1};
    STRATA_CHECK(spatial_axes, n.where() << ": axes " << shape_str(axes) << " are not supported (the spatial axes of NCHW: 2, 3)");
    axes_given_ = !axes.empty();
    axis_.mode = mode_named(n);
    axis_.coord = coord_named(n);
    axis_.round = round_named(n);
    axis_.cubic_a = n.get_float("cubic_coeff_a", -0.75f);
    axis_.exclude_outside = n.get_int("exclude_outside", 0) != 0;
  }

  void infer(const Ins& in, Outs& out) override {
    const Shape& x = in[0]->shape;
    STRATA_CHECK(x.size() == 4, node.where() << ": input " << shape_str(x) << " is not 4-D (N, C, H, W)");
    const Tensor* scales = given(in, 2);
    const Tensor* sizes = given(in, 3);
    STRATA_CHECK(!scales != !sizes, node.where() << ": give exactly one of scales and sizes");
    const size_t first = axes_given_ ? 2 : 0;  // the entries of scales/sizes before the spatial ones
    Shape o = x;
    std::vector<float> s(4, 1.0f), resized(4);
    if (sizes) {
      STRATA_CHECK(sizes->dtype == DType::I64 && sizes->i.size() == 4 - first,
                   node.where() << ": sizes must be a constant int64 tensor of " << 4 - first << " values");
      for (size_t k = first; k < 4; k++) o[k] = sizes->i[k - first];
      for (size_t k = 0; k < 4; k++) s[k] = (float)o[k] / (float)x[k], resized[k] = (float)o[k];
    } else {
      STRATA_CHECK(scales->dtype == DType::F32 && scales->f.size() == 4 - first,
                   node.where() << ": scales must be a constant float tensor of " << 4 - first << " values");
      for (size_t k = first; k < 4; k++) {
        s[k] = scales->f[k - first];
        STRATA_CHECK(s[k] > 0, node.where() << ": scale " << s[k] << " of axis " << k << " is not positive");
        resized[k] = (float)((double)x[k] * (double)s[k]);
        o[k] = (int64_t)std::floor((double)x[k] * (double)s[k]);
      }
    }
    STRATA_CHECK(o[0] == x[0] && o[1] == x[1], node.where() << ": resizing " << shape_str(x) << " to " << shape_str(o)
                                                            << " changes the batch or channel axis (only H and W may change)");
    STRATA_CHECK(o[2] > 0 && o[3] > 0, node.where() << ": resizing " << shape_str(x) << " leaves nothing: " << shape_str(o));
    p_.planes = x[0] * x[1];
    p_.h = axis_, p_.w = axis_;
    p_.h.in = x[2], p_.h.out = o[2], p_.h.scale = s[2], p_.h.resized = resized[2];
    p_.w.in = x[3], p_.w.out = o[3], p_.w.scale = s[3], p_.w.resized = resized[3];
    out[0]->reset(o);
  }
  void forward(KernelContext& ctx, const Ins& in, Outs& out) override {
    ctx.be->resize_forward(out[0]->data(), in[0]->data(), p_);
  }
  void backward(KernelContext& ctx, const Ins&, const Outs&, const Tensor& dout, Grads& din) override {
    if (din[0]) ctx.be->resize_backward(din[0]->data(), dout.data(), p_);
  }
  bool differentiable(int i) const override { return i == 0; }
  bool accepts_int(int i) const override { return i == 3; }

 private:
  ResizeAxis axis_;  // mode, coordinates and rounding; each axis adds its lengths and scale
  ResizeParams p_;
  bool axes_given_ = false;
};

std::unique_ptr<OpKernel> make_resize_kernel(const Node& n, int64_t opset) {
  if (n.op_type == "Resize") return std::make_unique<ResizeKernel>(n, opset);
  return nullptr;
}

}  // namespace strata
