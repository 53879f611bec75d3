// kernels_elementwise.cpp: activations (Relu, LeakyRelu, Elu, Selu, Sigmoid, Tanh,
// Gelu, Erf, Clip, ThresholdedRelu, Softplus, HardSigmoid, Sqrt), PRelu, Softmax, the broadcasting binaries (Add, Sub,
// Mul, Div) and n-ary Sum, Max and Min, Dropout, Identity, Cast; Strata's own training-only ops (domain ai.strata):
// GaussianNoise, GaussianDropout, SpatialDropout, ActivityRegularization.
#include <cfloat>
#include <cstring>

#include "../check.h"
#include "../kernel.h"
#include "../rng.h"

namespace strata {

class ActKernel : public OpKernel {
 public:
  ActKernel(const Node& n, ActParams a) : OpKernel(n), a_(a) {}
  void infer(const Ins& in, Outs& out) override {
    if (a_.kind == Act::Clip) read_clip_bounds(in);
    out[0]->reset(in[0]->shape);
  }
  void forward(KernelContext& ctx, const Ins& in, Outs& out) override {
    ctx.be->act_forward(out[0]->data(), in[0]->data(), in[0]->size(), a_);
  }
  void backward(KernelContext& ctx, const Ins& in, const Outs& out, const Tensor& dout, Grads& din) override {
    if (din[0]) ctx.be->act_backward(din[0]->data(), dout.data(), in[0]->data(), out[0]->data(), dout.size(), a_);
  }
  bool differentiable(int i) const override { return i == 0; }

 private:
  ActParams a_;
  // Clip (opset >= 11): min and max are optional scalar inputs, constants here (initializers
  // or Constant nodes); an omitted one leaves that side open.
  void read_clip_bounds(const Ins& in) {
    auto bound = [&](size_t i, float open) {
      if (in.size() <= i || !in[i]) return open;
      STRATA_CHECK(in[i]->size() == 1 && in[i]->dtype == DType::F32 && (int64_t)in[i]->f.size() == 1,
                   node.where() << ": input " << i << " (" << (i == 1 ? "min" : "max")
                                << ") must be a constant float scalar, got shape " << shape_str(in[i]->shape));
      return in[i]->f[0];
    };
    a_.alpha = bound(1, -FLT_MAX), a_.gamma = bound(2, FLT_MAX);
    STRATA_CHECK(a_.alpha <= a_.gamma, node.where() << ": min " << a_.alpha << " is greater than max " << a_.gamma);
  }
};

// PRelu (Keras's PReLU): y = relu(x) + slope * min(x, 0), slope broadcast against x (ONNX's
// unidirectional broadcasting). Composed of the backends' Relu and broadcasting binaries, so
// every backend runs it with kernels it already has; slope is parameter-like (+=), summed over
// the axes it is broadcast along, as Mul's backward does.
class PReluKernel : public OpKernel {
 public:
  using OpKernel::OpKernel;
  void infer(const Ins& in, Outs& out) override {
    const Shape &x = in[0]->shape, &s = in[1]->shape;
    bool fits = s.size() <= x.size();
    for (size_t k = 0; fits && k < s.size(); k++) {
      int64_t d = s[s.size() - 1 - k];
      fits = d == 1 || d == x[x.size() - 1 - k];
    }
    STRATA_CHECK(fits, node.where() << ": slope " << shape_str(s) << " does not broadcast to the input " << shape_str(x));
    out[0]->reset(x);
    for (Tensor* t : {&pos_, &neg_, &dneg_, &masked_}) reset_beside(*t, *out[0], x);
    reset_beside(dslope_, *out[0], s);
  }
  void forward(KernelContext& ctx, const Ins& in, Outs& out) override {
    const Shape &xs = in[0]->shape, &ss = in[1]->shape;
    ctx.be->act_forward(pos_.data(), in[0]->data(), pos_.size(), ActParams{Act::Relu});
    ctx.be->binary_forward(neg_.data(), in[0]->data(), pos_.data(), xs, xs, xs, Binary::Sub);  // min(x, 0)
    ctx.be->binary_forward(out[0]->data(), neg_.data(), in[1]->data(), xs, ss, xs, Binary::Mul);
    ctx.be->binary_forward(out[0]->data(), out[0]->data(), pos_.data(), xs, xs, xs, Binary::Add);
  }
  void backward(KernelContext& ctx, const Ins& in, const Outs&, const Tensor& dout, Grads& din) override {
    const Shape &xs = in[0]->shape, &ss = in[1]->shape;
    int64_t n = dout.size();
    // dneg = dout * slope; dslope = sum of dout * min(x, 0)
    ctx.be->binary_backward(dneg_.data(), din[1] ? dslope_.data() : nullptr, dout.data(), neg_.data(), in[1]->data(),
                            xs, ss, xs, Binary::Mul);
    if (din[1]) ctx.be->add_scaled(din[1]->data(), dslope_.data(), 1.0f, dslope_.size());
    if (!din[0]) return;
    // dx = dout where x > 0, dneg elsewhere: relu'(dout) + dneg - relu'(dneg)
    ActParams relu{Act::Relu};
    ctx.be->act_backward(din[0]->data(), dout.data(), in[0]->data(), pos_.data(), n, relu);
    ctx.be->act_backward(masked_.data(), dneg_.data(), in[0]->data(), pos_.data(), n, relu);
    ctx.be->add_scaled(din[0]->data(), dneg_.data(), 1.0f, n);
    ctx.be->add_scaled(din[0]->data(), masked_.data(), -1.0f, n);
  }
  int required_inputs() const override { return 2; }
  bool accumulates(int i) const override { return i == 1; }

 private:
  Tensor pos_, neg_, dneg_, masked_, dslope_;
};

// Softmax and LogSoftmax along `axis` (opset >= 13, default -1). Before opset 13 the input is
// coerced to 2-D at axis (default 1) and normalized over everything after it.
class SoftmaxKernel : public OpKernel {
 public:
  SoftmaxKernel(const Node& n, int64_t opset) : OpKernel(n), opset_(opset), log_(n.op_type == "LogSoftmax") {}
  void infer(const Ins& in, Outs& out) override {
    const Shape& x = in[0]->shape;
    int64_t r = (int64_t)x.size(), axis = node.get_int("axis", opset_ >= 13 ? -1 : 1);
    if (axis < 0) axis += r;
    STRATA_CHECK(axis >= 0 && axis < r, node.where() << ": axis " << node.get_int("axis", -1) << " is out of range for "
                                                     << shape_str(x));
    outer_ = 1, K_ = 1, inner_ = 1;
    for (int64_t k = 0; k < r; k++) {
      if (k < axis) outer_ *= x[k];
      else if (k == axis || opset_ < 13) K_ *= x[k];
      else inner_ *= x[k];
    }
    out[0]->reset(x);
  }
  void forward(KernelContext& ctx, const Ins& in, Outs& out) override {
    ctx.be->softmax_forward(out[0]->data(), in[0]->data(), outer_, K_, inner_, log_);
  }
  void backward(KernelContext& ctx, const Ins&, const Outs& out, const Tensor& dout, Grads& din) override {
    if (din[0]) ctx.be->softmax_backward(din[0]->data(), dout.data(), out[0]->data(), outer_, K_, inner_, log_);
  }
 private:
  int64_t opset_, outer_ = 1, K_ = 1, inner_ = 1;
  bool log_;
};

class BinaryKernel : public OpKernel {
 public:
  BinaryKernel(const Node& n, Binary op) : OpKernel(n), op_(op) {}
  void infer(const Ins& in, Outs& out) override {
    try {
      out[0]->reset(broadcast_shape(in[0]->shape, in[1]->shape));
    } catch (const Error& e) {
      STRATA_FAIL(node.where() << ": " << e.what());
    }
  }
  void forward(KernelContext& ctx, const Ins& in, Outs& out) override {
    ctx.be->binary_forward(out[0]->data(), in[0]->data(), in[1]->data(), in[0]->shape, in[1]->shape, out[0]->shape,
                           op_);
  }
  int required_inputs() const override { return 2; }
  void backward(KernelContext& ctx, const Ins& in, const Outs&, const Tensor& dout, Grads& din) override {
    ctx.be->binary_backward(din[0] ? din[0]->data() : nullptr, din[1] ? din[1]->data() : nullptr, dout.data(),
                            in[0]->data(), in[1]->data(), in[0]->shape, in[1]->shape, dout.shape, op_);
  }

 private:
  Binary op_;
};

// Expand (Keras's RepeatVector): X broadcast to broadcast_shape(X, shape), as the Add of X
// and zeros of `shape`; its backward is that Add's (the grads summed over the copies).
class ExpandKernel : public OpKernel {
 public:
  using OpKernel::OpKernel;
  void infer(const Ins& in, Outs& out) override {
    STRATA_CHECK(in[1]->holds_values(), node.where() << ": the shape must be a constant (an initializer)");
    target_ = in[1]->as_i64();
    try {
      out[0]->reset(broadcast_shape(in[0]->shape, target_));
    } catch (const Error& e) {
      STRATA_FAIL(node.where() << ": shape " << shape_str(target_) << " does not broadcast with input " << shape_str(in[0]->shape)
                               << ": " << e.what());
    }
    reset_beside(zeros_, *out[0], target_);
    zeros_filled_ = false;
  }
  void forward(KernelContext& ctx, const Ins& in, Outs& out) override {
    if (!zeros_filled_) ctx.be->fill(zeros_.data(), 0.0f, zeros_.size()), zeros_filled_ = true;
    ctx.be->binary_forward(out[0]->data(), in[0]->data(), zeros_.data(), in[0]->shape, target_, out[0]->shape, Binary::Add);
  }
  void backward(KernelContext& ctx, const Ins& in, const Outs&, const Tensor& dout, Grads& din) override {
    if (din[0]) ctx.be->binary_backward(din[0]->data(), nullptr, dout.data(), in[0]->data(), zeros_.data(), in[0]->shape, target_, dout.shape, Binary::Add);
  }
  bool differentiable(int i) const override { return i == 0; }
  bool accepts_int(int i) const override { return i == 1; }  // the shape
  int required_inputs() const override { return 2; }

 private:
  Shape target_;
  Tensor zeros_;
  bool zeros_filled_ = false;
};

// Neg: out = -x, dx = -dout.
class NegKernel : public OpKernel {
 public:
  using OpKernel::OpKernel;
  void infer(const Ins& in, Outs& out) override { out[0]->reset(in[0]->shape); }
  void forward(KernelContext& ctx, const Ins& in, Outs& out) override { ctx.be->scale(out[0]->data(), in[0]->data(), -1.0f, in[0]->size()); }
  void backward(KernelContext& ctx, const Ins&, const Outs&, const Tensor& dout, Grads& din) override {
    if (din[0]) ctx.be->scale(din[0]->data(), dout.data(), -1.0f, dout.size());
  }
};

// Dropout: ratio from the attribute (opset < 12) or input 1; the training_mode input
// is ignored, the session's mode decides. Masks come from ctx.seed, so a seed
// reproduces a run.
class DropoutKernel : public OpKernel {
 public:
  using OpKernel::OpKernel;
  void infer(const Ins& in, Outs& out) override {
    ratio_ = node.get_float("ratio", 0.5f);
    if (in.size() > 1 && in[1]) {
      STRATA_CHECK(in[1]->size() == 1 && in[1]->dtype == DType::F32, node.where() << ": ratio must be a float scalar");
      ratio_ = in[1]->f[0];
    }
    STRATA_CHECK(ratio_ >= 0 && ratio_ < 1, node.where() << ": ratio " << ratio_ << " is not in [0, 1)");
    out[0]->reset(in[0]->shape);
    if (out.size() > 1 && out[1]) out[1]->reset(in[0]->shape, DType::I64);
    reset_beside(mask_, *out[0], in[0]->shape);
  }
  void forward(KernelContext& ctx, const Ins& in, Outs& out) override {
    int64_t n = in[0]->size();
    if (ctx.training && ratio_ > 0) {
      ctx.be->dropout_forward(out[0]->data(), mask_.data(), in[0]->data(), n, ratio_, ctx.seed);
    } else {
      ctx.be->copy(out[0]->data(), in[0]->data(), n);
      ctx.be->fill(mask_.data(), 1.0f, n);
    }
    if (out.size() > 1 && out[1]) {  // the mask output (int64, on the host)
      std::vector<float> m = mask_.values();
      for (int64_t k = 0; k < n; k++) out[1]->i[k] = m[k] != 0;
    }
  }
  void backward(KernelContext& ctx, const Ins&, const Outs&, const Tensor& dout, Grads& din) override {
    if (din[0]) ctx.be->dropout_backward(din[0]->data(), dout.data(), mask_.data(), dout.size());
  }
  bool differentiable(int i) const override { return i == 0; }
  bool accepts_int(int i) const override { return i == 2; }  // training_mode (a bool)

 private:
  float ratio_ = 0.5f;
  Tensor mask_;
};

// Keras's GaussianNoise (x + stddev * N(0, 1)), GaussianDropout (x * (1 + stddev * N(0, 1))) and
// SpatialDropout2D (Dropout with one draw per image and channel: `axis` is the channel axis),
// in training; the identity otherwise. The noise is drawn on the host from ctx.seed (the same on
// every backend) and uploaded, so that every backend runs these with the kernels it has.
class NoiseKernel : public OpKernel {
 public:
  enum Kind { Additive, Multiplicative, Spatial };
  NoiseKernel(const Node& n, Kind kind) : OpKernel(n), kind_(kind) {
    if (kind == Spatial) {
      amount_ = n.get_float("ratio", 0.5f);
      STRATA_CHECK(amount_ >= 0 && amount_ < 1, n.where() << ": ratio " << amount_ << " is not in [0, 1)");
    } else {
      amount_ = n.get_float("stddev", 0.0f);
      STRATA_CHECK(amount_ >= 0 && std::isfinite(amount_), n.where() << ": stddev " << amount_ << " must be a finite number >= 0");
    }
  }
  void infer(const Ins& in, Outs& out) override {
    const Shape& x = in[0]->shape;
    out[0]->reset(x);
    Shape noise = x;
    if (kind_ == Spatial) {
      int64_t r = (int64_t)x.size(), axis = node.get_int("axis", -1);
      if (axis < 0) axis += r;
      STRATA_CHECK(r >= 2 && axis >= 1 && axis < r, node.where() << ": channel axis " << node.get_int("axis", -1)
                                                                  << " is not a non-batch axis of " << shape_str(x));
      for (int64_t k = 1; k < r; k++)
        if (k != axis) noise[k] = 1;
    }
    reset_beside(noise_, *out[0], noise);
  }
  void forward(KernelContext& ctx, const Ins& in, Outs& out) override {
    active_ = ctx.training && amount_ > 0;
    if (!active_) return copy_values(ctx, *in[0], *out[0]);
    draw(ctx);
    const Shape& xs = in[0]->shape;
    if (kind_ == Additive) {
      ctx.be->copy(out[0]->data(), in[0]->data(), out[0]->size());
      ctx.be->add_scaled(out[0]->data(), noise_.data(), 1.0f, out[0]->size());
    } else if (kind_ == Multiplicative) {
      ctx.be->dropout_backward(out[0]->data(), in[0]->data(), noise_.data(), out[0]->size());  // out = x * noise
    } else {
      ctx.be->binary_forward(out[0]->data(), in[0]->data(), noise_.data(), xs, noise_.shape, xs, Binary::Mul);
    }
  }
  void backward(KernelContext& ctx, const Ins& in, const Outs&, const Tensor& dout, Grads& din) override {
    if (!din[0]) return;
    if (!active_ || kind_ == Additive) return ctx.be->copy(din[0]->data(), dout.data(), dout.size());
    if (kind_ == Multiplicative) return ctx.be->dropout_backward(din[0]->data(), dout.data(), noise_.data(), dout.size());
    ctx.be->binary_backward(din[0]->data(), nullptr, dout.data(), in[0]->data(), noise_.data(), dout.shape, noise_.shape,
                            dout.shape, Binary::Mul);
  }
  bool differentiable(int i) const override { return i == 0; }

 private:
  void draw(KernelContext& ctx) {
    Rng rng(ctx.seed);
    std::vector<float> host(noise_.size());
    float keep = 1.0f / (1.0f - amount_);
    for (float& v : host) {
      if (kind_ == Additive) v = amount_ * rng.normal();
      else if (kind_ == Multiplicative) v = 1.0f + amount_ * rng.normal();
      else v = rng.uniform() < amount_ ? 0.0f : keep;
    }
    ctx.be->upload(noise_.data(), host.data(), noise_.size());
  }
  Kind kind_;
  float amount_ = 0;  // stddev, or the Spatial dropout's ratio
  bool active_ = false;
  Tensor noise_;
};

// Keras's ActivityRegularization: the identity, whose input adds l1 * sum|x| + l2 * sum(x^2) to
// the loss (penalty()) and l1 * sign(x) + 2 l2 x to its gradient. Both are computed on the host
// from the forward's input.
class ActivityRegularizationKernel : public OpKernel {
 public:
  explicit ActivityRegularizationKernel(const Node& n)
      : OpKernel(n), l1_(n.get_float("l1", 0.0f)), l2_(n.get_float("l2", 0.0f)) {
    STRATA_CHECK(l1_ >= 0 && l2_ >= 0 && std::isfinite(l1_) && std::isfinite(l2_),
                 n.where() << ": l1 and l2 must be finite numbers >= 0, got " << l1_ << " and " << l2_);
  }
  void infer(const Ins& in, Outs& out) override {
    out[0]->reset(in[0]->shape);
    reset_beside(grad_, *out[0], in[0]->shape);
  }
  void forward(KernelContext& ctx, const Ins& in, Outs& out) override {
    copy_values(ctx, *in[0], *out[0]);
    std::vector<float> x = in[0]->values();
    double sum = 0;
    host_grad_.resize(x.size());
    for (size_t i = 0; i < x.size(); i++) {
      float sign = (float)((x[i] > 0) - (x[i] < 0));
      sum += l1_ * std::fabs((double)x[i]) + l2_ * (double)x[i] * x[i];
      host_grad_[i] = l1_ * sign + 2 * l2_ * x[i];
    }
    penalty_ = sum;
  }
  void backward(KernelContext& ctx, const Ins&, const Outs&, const Tensor& dout, Grads& din) override {
    if (!din[0]) return;
    ctx.be->upload(grad_.data(), host_grad_.data(), grad_.size());
    ctx.be->copy(din[0]->data(), dout.data(), dout.size());
    ctx.be->add_scaled(din[0]->data(), grad_.data(), 1.0f, dout.size());
  }
  double penalty() const override { return penalty_; }

 private:
  float l1_, l2_;
  double penalty_ = 0;
  std::vector<float> host_grad_;
  Tensor grad_;
};

// Sum: n inputs, numpy broadcasting (Keras's Add layer with more than two inputs).
class SumKernel : public OpKernel {
 public:
  using OpKernel::OpKernel;
  int required_inputs() const override { return std::max(1, (int)node.inputs.size()); }  // variadic: one at least, none omitted
  void infer(const Ins& in, Outs& out) override {
    Shape o = in[0]->shape;
    try {
      for (size_t k = 1; k < in.size(); k++) o = broadcast_shape(o, in[k]->shape);
    } catch (const Error& e) {
      STRATA_FAIL(node.where() << ": " << e.what());
    }
    out[0]->reset(o);
  }
  void forward(KernelContext& ctx, const Ins& in, Outs& out) override {
    Tensor& y = *out[0];
    ctx.be->fill(y.data(), 0.0f, y.size());
    for (auto* x : in) ctx.be->binary_forward(y.data(), y.data(), x->data(), y.shape, x->shape, y.shape, Binary::Add);
  }
  void backward(KernelContext& ctx, const Ins& in, const Outs&, const Tensor& dout, Grads& din) override {
    for (size_t k = 0; k < in.size(); k++)  // dx_k = dout summed over the axes x_k was broadcast along
      if (din[k])
        ctx.be->binary_backward(nullptr, din[k]->data(), dout.data(), nullptr, nullptr, dout.shape, in[k]->shape,
                                dout.shape, Binary::Add);
  }
};

// Max and Min over n inputs with numpy broadcasting (Keras's Maximum and Minimum), folded left
// to right: y_1 = op(x_0, x_1), y_k = op(y_{k-1}, x_k), the last y the output. The backward walks
// the fold back, each step routing its grad as the binary op does (to its left operand at a tie),
// so an output's whole grad reaches the first input holding its value: TensorFlow's rule for
// Keras's Maximum and Minimum, which fold their inputs the same way.
class ExtremumKernel : public OpKernel {
 public:
  ExtremumKernel(const Node& n, Binary op) : OpKernel(n), op_(op) {}
  int required_inputs() const override { return std::max(1, (int)node.inputs.size()); }  // variadic: one at least, none omitted
  void infer(const Ins& in, Outs& out) override {
    size_t n = in.size();
    shapes_.assign(1, in[0]->shape);
    try {
      for (size_t k = 1; k < n; k++) shapes_.push_back(broadcast_shape(shapes_.back(), in[k]->shape));
    } catch (const Error& e) {
      STRATA_FAIL(node.where() << ": " << e.what());
    }
    out[0]->reset(shapes_.back());
    partial_.resize(n), dpartial_.resize(n);
    for (size_t k = 1; k + 1 < n; k++) reset_beside(partial_[k], *out[0], shapes_[k]), reset_beside(dpartial_[k], *out[0], shapes_[k]);
  }
  void forward(KernelContext& ctx, const Ins& in, Outs& out) override {
    if (in.size() == 1) return ctx.be->copy(out[0]->data(), in[0]->data(), in[0]->size());
    for (size_t k = 1; k < in.size(); k++)
      ctx.be->binary_forward(fold(k, in, out), fold(k - 1, in, out), in[k]->data(), shapes_[k - 1], in[k]->shape, shapes_[k], op_);
  }
  void backward(KernelContext& ctx, const Ins& in, const Outs& out, const Tensor& dout, Grads& din) override {
    if (in.size() == 1) {
      if (din[0]) ctx.be->copy(din[0]->data(), dout.data(), dout.size());
      return;
    }
    const float* d = dout.data();  // the grad of y_k
    for (size_t k = in.size() - 1; k >= 1; k--) {
      float* dleft = k == 1 ? (din[0] ? din[0]->data() : nullptr) : dpartial_[k - 1].data();
      ctx.be->binary_backward(dleft, din[k] ? din[k]->data() : nullptr, d, fold(k - 1, in, out), in[k]->data(),
                              shapes_[k - 1], in[k]->shape, shapes_[k], op_);
      d = dleft;
    }
  }

 private:
  Binary op_;
  std::vector<Shape> shapes_;           // shapes_[k]: y_k's (shapes_[0] is x_0's)
  std::vector<Tensor> partial_, dpartial_;  // y_k and its grad for 0 < k < n - 1

  // y_k: x_0, a partial result, or the output
  float* fold(size_t k, const Ins& in, const Outs& out) {
    if (k == 0) return in[0]->data();
    return k + 1 == in.size() ? out[0]->data() : partial_[k].data();
  }
};

// Cast between float and the integer types (Embedding indices fed as floats).
// Gradients pass through float -> float casts only.
class CastKernel : public OpKernel {
 public:
  explicit CastKernel(const Node& n) : OpKernel(n) {
    int64_t to = n.get_int("to", 1);
    to_float_ = to == 1 || to == 10 || to == 11 || to == 16;  // float, float16, double, bfloat16
  }
  void infer(const Ins& in, Outs& out) override {
    out[0]->reset(in[0]->shape, to_float_ ? DType::F32 : DType::I64);
  }
  void forward(KernelContext& ctx, const Ins& in, Outs& out) override {
    const Tensor& x = *in[0];
    Tensor& y = *out[0];
    if (!to_float_) {
      y.i = x.as_i64();
    } else if (x.dtype == DType::F32) {
      copy_values(ctx, x, y);
    } else {
      std::vector<float> v(x.i.begin(), x.i.end());
      y.assign(std::move(v));
    }
  }
  void backward(KernelContext& ctx, const Ins&, const Outs&, const Tensor& dout, Grads& din) override {
    if (din[0]) ctx.be->copy(din[0]->data(), dout.data(), dout.size());
  }
  bool differentiable(int) const override { return to_float_; }
  bool accepts_int(int) const override { return true; }

 private:
  bool to_float_ = true;
};

class IdentityKernel : public OpKernel {
 public:
  using OpKernel::OpKernel;
  bool accepts_int(int) const override { return true; }
  void infer(const Ins& in, Outs& out) override { out[0]->reset(in[0]->shape, in[0]->dtype); }
  void forward(KernelContext& ctx, const Ins& in, Outs& out) override { copy_values(ctx, *in[0], *out[0]); }
  void backward(KernelContext& ctx, const Ins&, const Outs&, const Tensor& dout, Grads& din) override {
    if (din[0]) ctx.be->copy(din[0]->data(), dout.data(), dout.size());
  }
};

std::unique_ptr<OpKernel> make_elementwise_kernel(const Node& n, int64_t opset) {
  const std::string& op = n.op_type;
  if (op == "Relu") return std::make_unique<ActKernel>(n, ActParams{Act::Relu});
  if (op == "LeakyRelu") return std::make_unique<ActKernel>(n, ActParams{Act::LeakyRelu, n.get_float("alpha", 0.01f)});
  if (op == "Elu") return std::make_unique<ActKernel>(n, ActParams{Act::Elu, n.get_float("alpha", 1.0f)});
  if (op == "Selu")
    return std::make_unique<ActKernel>(n, ActParams{Act::Selu, n.get_float("alpha", 1.67326319217681884765625f),
                                                    n.get_float("gamma", 1.05070102214813232421875f)});
  if (op == "Sigmoid") return std::make_unique<ActKernel>(n, ActParams{Act::Sigmoid});
  if (op == "Tanh") return std::make_unique<ActKernel>(n, ActParams{Act::Tanh});
  if (op == "Gelu") {
    std::string approx = n.get_string("approximate", "none");
    STRATA_CHECK(approx == "none" || approx == "tanh", n.where() << ": unknown approximate='" << approx << "'");
    return std::make_unique<ActKernel>(n, ActParams{approx == "tanh" ? Act::GeluTanh : Act::Gelu});
  }
  if (op == "Erf") return std::make_unique<ActKernel>(n, ActParams{Act::Erf});
  if (op == "Clip") {
    STRATA_CHECK(opset >= 11, n.where() << ": Clip before opset 11 (min/max attributes) is not supported");
    return std::make_unique<ActKernel>(n, ActParams{Act::Clip});
  }
  if (op == "ThresholdedRelu") return std::make_unique<ActKernel>(n, ActParams{Act::ThresholdedRelu, n.get_float("alpha", 1.0f)});
  if (op == "Softplus") return std::make_unique<ActKernel>(n, ActParams{Act::Softplus});
  if (op == "HardSigmoid")
    return std::make_unique<ActKernel>(n, ActParams{Act::HardSigmoid, n.get_float("alpha", 0.2f), n.get_float("beta", 0.5f)});
  if (op == "PRelu") return std::make_unique<PReluKernel>(n);
  if (op == "Sqrt") return std::make_unique<ActKernel>(n, ActParams{Act::Sqrt});
  if (op == "Sum") return std::make_unique<SumKernel>(n);
  if (op == "Cast") return std::make_unique<CastKernel>(n);
  if (op == "Softmax" || op == "LogSoftmax") return std::make_unique<SoftmaxKernel>(n, opset);
  if (op == "Add") return std::make_unique<BinaryKernel>(n, Binary::Add);
  if (op == "Expand") return std::make_unique<ExpandKernel>(n);
  if (op == "Neg") return std::make_unique<NegKernel>(n);
  if (op == "Sub") return std::make_unique<BinaryKernel>(n, Binary::Sub);
  if (op == "Mul") return std::make_unique<BinaryKernel>(n, Binary::Mul);
  if (op == "Div") return std::make_unique<BinaryKernel>(n, Binary::Div);
  if (op == "Max") return std::make_unique<ExtremumKernel>(n, Binary::Max);
  if (op == "Min") return std::make_unique<ExtremumKernel>(n, Binary::Min);
  if (op == "Dropout") return std::make_unique<DropoutKernel>(n);
  if (op == "Identity") return std::make_unique<IdentityKernel>(n);
  return nullptr;
}

std::unique_ptr<OpKernel> make_strata_kernel(const Node& n) {
  const std::string& op = n.op_type;
  if (op == "GaussianNoise") return std::make_unique<NoiseKernel>(n, NoiseKernel::Additive);
  if (op == "GaussianDropout") return std::make_unique<NoiseKernel>(n, NoiseKernel::Multiplicative);
  if (op == "SpatialDropout") return std::make_unique<NoiseKernel>(n, NoiseKernel::Spatial);
  if (op == "ActivityRegularization") return std::make_unique<ActivityRegularizationKernel>(n);
  return nullptr;
}

}  // namespace strata
