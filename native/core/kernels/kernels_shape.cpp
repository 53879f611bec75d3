// kernels_shape.cpp: ops that move data without arithmetic: Flatten, Reshape,
// Squeeze, Unsqueeze (copies under a new shape), Transpose, Concat, Gather,
// ReduceMean (Keras's GlobalAveragePooling1D), ReduceSumSquare (Keras's Dot with normalize).
#include <algorithm>
#include <cstring>
#include <functional>
#include <limits>

#include "../check.h"
#include "../kernel.h"

namespace strata {

static int64_t norm_axis(int64_t a, int64_t rank, const Node& n) {
  int64_t r = a < 0 ? a + rank : a;
  STRATA_CHECK(r >= 0 && r < rank, n.where() << ": axis " << a << " is out of range for rank " << rank);
  return r;
}

// Axes from the attribute (older opsets) or from input 1 (newer ones).
static std::vector<int64_t> axes_of(const Node& n, const Ins& in) {
  if (in.size() > 1 && in[1]) {
    STRATA_CHECK(in[1]->dtype == DType::I64, n.where() << ": the axes input must be a constant int64 tensor");
    return in[1]->i;
  }
  return n.get_ints("axes");
}

// Flatten, Reshape, Squeeze, Unsqueeze: the data is copied unchanged.
class ReshapeKernel : public OpKernel {
 public:
  using OpKernel::OpKernel;
  void infer(const Ins& in, Outs& out) override {
    const Shape& x = in[0]->shape;
    int64_t r = (int64_t)x.size();
    Shape o;
    const std::string& op = node.op_type;
    if (op == "Flatten") {
      int64_t axis = node.get_int("axis", 1);
      axis = axis < 0 ? axis + r : axis;
      STRATA_CHECK(axis >= 0 && axis <= r, node.where() << ": axis " << node.get_int("axis", 1) << " is out of range for "
                                                        << shape_str(x));
      int64_t a = 1;
      for (int64_t k = 0; k < axis; k++) a *= x[k];
      o = {a, numel(x) / a};
    } else if (op == "Reshape") {
      STRATA_CHECK(in.size() > 1 && in[1] && in[1]->dtype == DType::I64,
                   node.where() << ": the shape input must be a constant int64 tensor (an initializer)");
      o = in[1]->i;
      int64_t known = 1, infer_at = -1;
      for (size_t k = 0; k < o.size(); k++) {
        STRATA_CHECK(o[k] >= -1 && o[k] <= (int64_t(1) << 32) && (o[k] != -1 || infer_at < 0),
                     node.where() << ": invalid target shape " << shape_str(in[1]->i));
        if (o[k] == 0 && !node.get_int("allowzero", 0)) {
          STRATA_CHECK(k < x.size(), node.where() << ": shape " << shape_str(in[1]->i) << " copies dim " << k
                                                  << " of the rank-" << x.size() << " input");
          o[k] = x[k];
        }
        if (o[k] == -1) {
          infer_at = (int64_t)k;
        } else {
          // each dim is at most 2^32, their product can still overflow (a fuzzer's finding)
          STRATA_CHECK(o[k] == 0 || known <= std::numeric_limits<int64_t>::max() / o[k],
                       node.where() << ": target shape " << shape_str(in[1]->i) << " has more elements than an int64 counts");
          known *= o[k];
        }
      }
      if (infer_at >= 0) o[infer_at] = known ? numel(x) / known : 0;
    } else if (op == "Squeeze") {
      auto axes = axes_of(node, in);
      for (int64_t k = 0; k < r; k++) {
        bool drop = axes.empty() ? x[k] == 1 : false;
        for (int64_t a : axes) drop |= norm_axis(a, r, node) == k;
        if (!drop) o.push_back(x[k]);
      }
    } else {  // Unsqueeze
      auto axes = axes_of(node, in);
      int64_t orank = r + (int64_t)axes.size();
      std::vector<bool> ins(orank, false);
      for (int64_t a : axes) {
        int64_t k = norm_axis(a, orank, node);
        STRATA_CHECK(!ins[k], node.where() << ": axis " << a << " is given twice");
        ins[k] = true;
      }
      for (int64_t k = 0, j = 0; k < orank; k++) o.push_back(ins[k] ? 1 : x[j++]);
    }
    STRATA_CHECK(numel(o) == numel(x), node.where() << ": cannot reshape " << shape_str(x) << " to " << shape_str(o));
    out[0]->reset(o, in[0]->dtype);
  }
  void forward(KernelContext& ctx, const Ins& in, Outs& out) override { copy_values(ctx, *in[0], *out[0]); }
  void backward(KernelContext& ctx, const Ins&, const Outs&, const Tensor& dout, Grads& din) override {
    if (din[0]) ctx.be->copy(din[0]->data(), dout.data(), dout.size());
  }
  bool differentiable(int i) const override { return i == 0; }
  bool accepts_int(int) const override { return true; }  // data is copied whatever its type
  int required_inputs() const override { return node.op_type == "Reshape" ? 2 : 1; }
};

class TransposeKernel : public OpKernel {
 public:
  using OpKernel::OpKernel;
  void infer(const Ins& in, Outs& out) override {
    const Shape& x = in[0]->shape;
    size_t r = x.size();
    perm_ = node.get_ints("perm");
    if (perm_.empty())
      for (size_t k = 0; k < r; k++) perm_.push_back((int64_t)(r - 1 - k));
    STRATA_CHECK(perm_.size() == r, node.where() << ": perm has " << perm_.size() << " axes for rank " << r);
    std::vector<bool> seen(r, false);
    for (int64_t a : perm_) {
      STRATA_CHECK(a >= 0 && a < (int64_t)r && !seen[a], node.where() << ": perm " << shape_str(perm_)
                                                                       << " is not a permutation");
      seen[a] = true;
    }
    inv_.assign(r, 0);
    Shape o(r);
    for (size_t k = 0; k < r; k++) o[k] = x[perm_[k]], inv_[perm_[k]] = (int64_t)k;
    out[0]->reset(o);
  }
  void forward(KernelContext& ctx, const Ins& in, Outs& out) override {
    const Shape& x = in[0]->shape;
    if (blocked_) ctx.be->blocked_nhwc(out[0]->data(), in[0]->data(), (int)x[0], (int)x[1], (int)x[2], (int)x[3], true);
    else ctx.be->transpose(out[0]->data(), in[0]->data(), x, perm_);
  }
  void backward(KernelContext& ctx, const Ins& in, const Outs&, const Tensor& dout, Grads& din) override {
    if (!din[0]) return;
    const Shape& x = in[0]->shape;
    if (blocked_) ctx.be->blocked_nhwc(din[0]->data(), dout.data(), (int)x[0], (int)x[1], (int)x[2], (int)x[3], false);
    else ctx.be->transpose(din[0]->data(), dout.data(), dout.shape, inv_);
  }
  // NCHW -> NHWC (Keras's Flatten order) reads a blocked input directly
  int blocked_io() const override { return perm_ == std::vector<int64_t>{0, 2, 3, 1} ? kReadsBlocked : 0; }
  void set_blocked(bool in0, bool) override { blocked_ = in0; }

 private:
  std::vector<int64_t> perm_, inv_;
  bool blocked_ = false;
};

class ConcatKernel : public OpKernel {
 public:
  using OpKernel::OpKernel;
  void infer(const Ins& in, Outs& out) override {
    Shape o = in[0]->shape;
    int64_t r = (int64_t)o.size(), axis = norm_axis(node.get_int("axis", 0), r, node);
    len_.clear();
    o[axis] = 0;
    for (auto* t : in) {
      Shape s = t->shape;
      STRATA_CHECK((int64_t)s.size() == r, node.where() << ": inputs of different ranks");
      len_.push_back(s[axis]);
      o[axis] += s[axis];
      for (int64_t k = 0; k < r; k++)
        STRATA_CHECK(k == axis || s[k] == in[0]->shape[k], node.where() << ": " << shape_str(t->shape) << " and "
                                                                        << shape_str(in[0]->shape) << " differ off axis "
                                                                        << axis);
    }
    outer_ = 1, inner_ = 1;
    for (int64_t k = 0; k < axis; k++) outer_ *= o[k];
    for (int64_t k = axis + 1; k < r; k++) inner_ *= o[k];
    out[0]->reset(o);
  }
  void forward(KernelContext& ctx, const Ins& in, Outs& out) override {
    std::vector<const float*> p;
    for (auto* t : in) p.push_back(t->data());
    ctx.be->concat_forward(out[0]->data(), p, len_, outer_, inner_);
  }
  void backward(KernelContext& ctx, const Ins&, const Outs&, const Tensor& dout, Grads& din) override {
    std::vector<float*> p;
    for (auto* t : din) p.push_back(t ? t->data() : nullptr);
    ctx.be->concat_backward(p, dout.data(), len_, outer_, inner_);
  }

 private:
  std::vector<int64_t> len_;
  int64_t outer_ = 1, inner_ = 1;
};

// Gather: out = data indexed along `axis` (0 for Keras's Embedding, where data is the
// table). Indices may come in as int64 or as floats (a batch fed from JavaScript's
// Float32Array). Other axes run the axis-0 loop once per leading slice.
class GatherKernel : public OpKernel {
 public:
  using OpKernel::OpKernel;
  void infer(const Ins& in, Outs& out) override {
    const Shape& t = in[0]->shape;
    int64_t r = (int64_t)t.size(), axis = norm_axis(node.get_int("axis", 0), r, node);
    Shape o(t.begin(), t.begin() + axis);
    o.insert(o.end(), in[1]->shape.begin(), in[1]->shape.end());
    o.insert(o.end(), t.begin() + axis + 1, t.end());
    outer_ = 1, inner_ = 1;
    for (int64_t k = 0; k < axis; k++) outer_ *= t[k];
    for (int64_t k = axis + 1; k < r; k++) inner_ *= t[k];
    rows_ = t[axis];
    out[0]->reset(o);
  }
  void forward(KernelContext& ctx, const Ins& in, Outs& out) override {
    idx_ = in[1]->as_i64();
    const int64_t n = (int64_t)idx_.size(), *idx = indices(*out[0], true);
    for (int64_t o = 0; o < outer_; o++)
      ctx.be->gather_forward(out[0]->data() + o * n * inner_, in[0]->data() + o * rows_ * inner_, idx, n, rows_,
                             inner_);
  }
  void backward(KernelContext& ctx, const Ins&, const Outs&, const Tensor& dout, Grads& din) override {
    if (!din[0]) return;
    const int64_t n = (int64_t)idx_.size(), *idx = indices(dout, false);
    for (int64_t o = 0; o < outer_; o++)
      ctx.be->gather_backward(din[0]->data() + o * rows_ * inner_, dout.data() + o * n * inner_, idx, n, rows_,
                              inner_);
  }
  bool accumulates(int i) const override { return i == 0; }
  bool differentiable(int i) const override { return i == 0; }
  bool accepts_int(int i) const override { return i == 1; }
  int required_inputs() const override { return 2; }

 private:
  int64_t outer_ = 1, rows_ = 0, inner_ = 1;
  std::vector<int64_t> idx_;
  Tensor device_idx_;  // idx_ in a device's memory (two floats' room per index)

  // This step's indices where the backend reads them: idx_ itself on the host, else a copy
  // uploaded beside `like` by the forward (`fresh`) and read again by the backward.
  const int64_t* indices(const Tensor& like, bool fresh) {
    if (!like.mem) return idx_.data();
    if (fresh) {
      reset_beside(device_idx_, like, {2 * (int64_t)idx_.size()});
      std::vector<float> raw(2 * idx_.size());
      std::memcpy(raw.data(), idx_.data(), idx_.size() * sizeof(int64_t));
      device_idx_.assign(std::move(raw));
    }
    return reinterpret_cast<const int64_t*>(device_idx_.data());
  }
};

// The reductions over `axes` (an attribute, or input 1 from opset 18; all axes when none are
// given, unless noop_with_empty_axes), with keepdims: keep_ is the input's shape with the
// reduced axes 1, which broadcasts back against the input.
class ReduceKernel : public OpKernel {
 public:
  using OpKernel::OpKernel;
  void infer(const Ins& in, Outs& out) override {
    const Shape& x = in[0]->shape;
    int64_t r = (int64_t)x.size();
    auto axes = axes_of(node, in);
    bool keepdims = node.get_int("keepdims", 1) != 0;
    keep_ = x;
    if (axes.empty() && !node.get_int("noop_with_empty_axes", 0))
      for (int64_t k = 0; k < r; k++) axes.push_back(k);
    for (int64_t a : axes) keep_[norm_axis(a, r, node)] = 1;
    Shape o;
    for (int64_t k = 0; k < r; k++) {
      bool reduced = false;
      for (int64_t a : axes) reduced |= norm_axis(a, r, node) == k;
      if (!reduced || keepdims) o.push_back(keep_[k]);
    }
    out[0]->reset(o);
  }
  bool differentiable(int i) const override { return i == 0; }
  bool accepts_int(int i) const override { return i == 1; }

 protected:
  Shape keep_;
};

class ReduceMeanKernel : public ReduceKernel {
 public:
  using ReduceKernel::ReduceKernel;
  void forward(KernelContext& ctx, const Ins& in, Outs& out) override {
    ctx.be->reduce_mean_forward(out[0]->data(), in[0]->data(), in[0]->shape, keep_);
  }
  void backward(KernelContext& ctx, const Ins& in, const Outs&, const Tensor& dout, Grads& din) override {
    if (din[0]) ctx.be->reduce_mean_backward(din[0]->data(), dout.data(), in[0]->shape, keep_);
  }
};

// ReduceSumSquare (Keras's Dot with normalize=True: the squared L2 norms): y = sum of x * x over
// the axes, dx = 2 x dy. Composed of the backends' broadcasting binaries: the sum is Add's grad
// of the operand broadcast along the reduced axes (a fixed order on every backend), and dy
// reaches the input's shape as Mul's broadcast operand.
class ReduceSumSquareKernel : public ReduceKernel {
 public:
  using ReduceKernel::ReduceKernel;
  void infer(const Ins& in, Outs& out) override {
    ReduceKernel::infer(in, out);
    reset_beside(square_, *out[0], in[0]->shape);
  }
  void forward(KernelContext& ctx, const Ins& in, Outs& out) override {
    const Shape& xs = in[0]->shape;
    ctx.be->binary_forward(square_.data(), in[0]->data(), in[0]->data(), xs, xs, xs, Binary::Mul);
    ctx.be->binary_backward(nullptr, out[0]->data(), square_.data(), nullptr, nullptr, xs, keep_, xs, Binary::Add);
  }
  void backward(KernelContext& ctx, const Ins& in, const Outs&, const Tensor& dout, Grads& din) override {
    if (!din[0]) return;
    const Shape& xs = in[0]->shape;
    ctx.be->binary_forward(din[0]->data(), in[0]->data(), dout.data(), xs, keep_, xs, Binary::Mul);
    ctx.be->scale(din[0]->data(), din[0]->data(), 2.0f, din[0]->size());
  }

 private:
  Tensor square_;
};

// Pad (Keras's ZeroPadding2D; PyTorch's F.pad): pads from the int64 input (opset >= 11: an
// initializer, a Constant or a graph input, read when the session plans) or the attribute
// (before), [begin..., end...]; a negative pad crops. Modes constant, reflect, edge and wrap
// (tensor_ops.h). The constant mode's value is constant_value (input 2) or the "value"
// attribute, default 0.
class PadKernel : public OpKernel {
 public:
  using OpKernel::OpKernel;
  void infer(const Ins& in, Outs& out) override {
    mode_ = mode_of(node);
    const Shape& x = in[0]->shape;
    std::vector<int64_t> pads = node.get_ints("pads");
    if (in.size() > 1 && in[1]) {
      STRATA_CHECK(in[1]->dtype == DType::I64 && (int64_t)in[1]->i.size() == in[1]->size(),
                   node.where() << ": pads must be a constant int64 tensor");
      pads = in[1]->i;
    }
    STRATA_CHECK(in.size() < 4 || !in[3], node.where() << ": the axes input is not supported (pads for every axis)");
    STRATA_CHECK(pads.size() == 2 * x.size(), node.where() << ": " << pads.size() << " pads for an input of rank "
                                                           << x.size() << " " << shape_str(x) << " (need " << 2 * x.size() << ")");
    value_ = node.get_float("value", 0.0f);
    if (in.size() > 2 && in[2]) {
      STRATA_CHECK(in[2]->size() == 1 && in[2]->dtype == DType::F32 && in[2]->f.size() == 1,
                   node.where() << ": constant_value must be a constant float scalar");
      value_ = in[2]->f[0];
    }
    begin_.assign(pads.begin(), pads.begin() + x.size());
    Shape o(x.size());
    for (size_t k = 0; k < x.size(); k++) {
      o[k] = x[k] + pads[k] + pads[k + x.size()];
      STRATA_CHECK(o[k] >= 0, node.where() << ": pads " << shape_str(pads) << " crop axis " << k << " of "
                                            << shape_str(x) << " below nothing");
      STRATA_CHECK(mode_ == PadMode::Constant || x[k] > 0 || o[k] == 0,
                   node.where() << ": mode '" << node.get_string("mode", "constant") << "' cannot pad the empty axis " << k
                                << " of " << shape_str(x));
    }
    out[0]->reset(o);
  }
  void forward(KernelContext& ctx, const Ins& in, Outs& out) override {
    ctx.be->pad_forward(out[0]->data(), in[0]->data(), in[0]->shape, out[0]->shape, begin_, mode_, value_);
  }
  void backward(KernelContext& ctx, const Ins& in, const Outs& out, const Tensor& dout, Grads& din) override {
    if (din[0]) ctx.be->pad_backward(din[0]->data(), dout.data(), in[0]->shape, out[0]->shape, begin_, mode_);
  }
  bool differentiable(int i) const override { return i == 0; }
  bool accepts_int(int i) const override { return i == 1 || i == 3; }

 private:
  static PadMode mode_of(const Node& n) {
    std::string mode = n.get_string("mode", "constant");
    if (mode == "constant") return PadMode::Constant;
    if (mode == "reflect") return PadMode::Reflect;
    if (mode == "edge") return PadMode::Edge;
    if (mode == "wrap") return PadMode::Wrap;
    STRATA_FAIL(n.where() << ": mode '" << mode << "' is not one of constant, reflect, edge, wrap");
  }
  std::vector<int64_t> begin_;
  PadMode mode_ = PadMode::Constant;
  float value_ = 0;
};

// Slice (constant starts, ends, axes, steps; any sign): one gather of the kept indices per
// sliced axis, chained through scratch tensors (the exporter's is one axis: a sequence reversed
// with step -1). Its backward scatters the grad back into zeros. A window (every step 1:
// Keras's CenterCrop) is one crop through the backend's Pad with negative pads instead, one
// call per pass where the gathers make one per row before the axis.
class SliceKernel : public OpKernel {
 public:
  using OpKernel::OpKernel;
  void infer(const Ins& in, Outs& out) override {
    auto constant = [&](size_t k, const char* name, std::vector<int64_t> dflt) -> std::vector<int64_t> {
      if (node.has(name)) return node.get_ints(name);  // opset 1-9: attributes
      if (in.size() <= k || !in[k]) return dflt;
      STRATA_CHECK(in[k]->dtype == DType::I64 && !in[k]->i.empty(),
                   node.where() << ": " << name << " must be a constant int64 tensor");
      return in[k]->i;
    };
    const Shape& x = in[0]->shape;
    const int64_t r = (int64_t)x.size();
    std::vector<int64_t> starts = constant(1, "starts", {}), ends = constant(2, "ends", {});
    std::vector<int64_t> all(starts.size());
    for (size_t k = 0; k < all.size(); k++) all[k] = (int64_t)k;
    std::vector<int64_t> axes = constant(3, "axes", all), steps = constant(4, "steps", std::vector<int64_t>(starts.size(), 1));
    STRATA_CHECK(ends.size() == starts.size() && axes.size() == starts.size() && steps.size() == starts.size(),
                 node.where() << ": starts, ends, axes and steps must have one value per sliced axis");
    stages_.clear();
    Shape shape = x;
    for (size_t k = 0; k < starts.size(); k++) {
      Stage st;
      st.axis = norm_axis(axes[k], r, node);
      st.in_shape = shape;
      st.idx = kept(shape[st.axis], starts[k], ends[k], steps[k]);
      shape[st.axis] = (int64_t)st.idx.size();
      stages_.push_back(std::move(st));
    }
    window_ = std::all_of(steps.begin(), steps.end(), [](int64_t step) { return step == 1; });
    crop_begin_.assign(x.size(), 0);
    for (const Stage& st : stages_)
      if (!st.idx.empty()) crop_begin_[st.axis] = -st.idx.front();
    out[0]->reset(shape);
  }
  void forward(KernelContext& ctx, const Ins& in, Outs& out) override {
    const Tensor* src = in[0];
    if (stages_.empty()) return copy_values(ctx, *src, *out[0]);
    if (window_) return ctx.be->pad_forward(out[0]->data(), src->data(), src->shape, out[0]->shape, crop_begin_, PadMode::Constant, 0.0f);
    for (size_t k = 0; k < stages_.size(); k++) {
      Stage& st = stages_[k];
      Tensor& dst = k + 1 == stages_.size() ? *out[0] : st.out;
      if (&dst == &st.out) reset_beside(st.out, *out[0], stages_[k + 1].in_shape);
      gather(ctx, st, src->data(), dst.data(), false);
      src = &dst;
    }
  }
  void backward(KernelContext& ctx, const Ins& in, const Outs& out, const Tensor& dout, Grads& din) override {
    if (!din[0]) return;
    if (stages_.empty()) return ctx.be->copy(din[0]->data(), dout.data(), dout.size());
    if (window_) return ctx.be->pad_backward(din[0]->data(), dout.data(), in[0]->shape, dout.shape, crop_begin_, PadMode::Constant);
    const float* d = dout.data();
    for (size_t k = stages_.size(); k-- > 0;) {
      Stage& st = stages_[k];
      Tensor& dst = k == 0 ? *din[0] : st.grad;
      if (k > 0) reset_beside(st.grad, dout, st.in_shape);
      ctx.be->fill(dst.data(), 0.0f, dst.size());
      gather(ctx, st, d, dst.data(), true);
      d = dst.data();
    }
  }
  bool differentiable(int i) const override { return i == 0; }
  bool accepts_int(int i) const override { return i >= 1; }
  int required_inputs() const override { return 1; }

 private:
  struct Stage {
    int64_t axis = 0;
    Shape in_shape;
    std::vector<int64_t> idx;
    Tensor out, grad, device_idx;  // the stage's result and its input's grad (not the last/first's)
  };
  std::vector<Stage> stages_;
  bool window_ = false;               // every step 1: the crop below instead of the stages' gathers
  std::vector<int64_t> crop_begin_;  // Pad's begins for that crop: minus each sliced axis's first kept index

  // ONNX's clamping: start and end within [0, dim] for a positive step, [-1, dim - 1] for a negative one
  std::vector<int64_t> kept(int64_t dim, int64_t start, int64_t end, int64_t step) const {
    STRATA_CHECK(step != 0, node.where() << ": steps must not be 0");
    auto clamp = [&](int64_t v) {
      if (v < 0) v += dim;
      return step > 0 ? std::clamp<int64_t>(v, 0, dim) : std::clamp<int64_t>(v, -1, dim - 1);
    };
    std::vector<int64_t> idx;
    for (int64_t i = clamp(start), e = clamp(end); step > 0 ? i < e : i > e; i += step) idx.push_back(i);
    return idx;
  }
  // out = x gathered along the stage's axis (or, backward, scattered back: x is the grad)
  void gather(KernelContext& ctx, Stage& st, const float* x, float* y, bool scatter) {
    int64_t outer = 1, inner = 1;
    for (int64_t k = 0; k < st.axis; k++) outer *= st.in_shape[k];
    for (size_t k = st.axis + 1; k < st.in_shape.size(); k++) inner *= st.in_shape[k];
    const int64_t rows = st.in_shape[st.axis], n = (int64_t)st.idx.size();
    const int64_t* idx = st.idx.data();
    if (!ctx.be->host_memory()) {  // the indices in the device's memory (two floats' room each)
      std::vector<float> raw(2 * n);
      std::memcpy(raw.data(), st.idx.data(), n * sizeof(int64_t));
      st.device_idx.device = ctx.be;
      st.device_idx.reset({2 * n});
      st.device_idx.assign(std::move(raw));
      idx = reinterpret_cast<const int64_t*>(st.device_idx.data());
    }
    for (int64_t o = 0; o < outer; o++) {
      if (scatter) ctx.be->gather_backward(y + o * rows * inner, x + o * n * inner, idx, n, rows, inner);
      else ctx.be->gather_forward(y + o * n * inner, x + o * rows * inner, idx, n, rows, inner);
    }
  }
};

std::unique_ptr<OpKernel> make_shape_kernel(const Node& n) {
  const std::string& op = n.op_type;
  if (op == "Flatten" || op == "Reshape" || op == "Squeeze" || op == "Unsqueeze") return std::make_unique<ReshapeKernel>(n);
  if (op == "Transpose") return std::make_unique<TransposeKernel>(n);
  if (op == "Pad") return std::make_unique<PadKernel>(n);
  if (op == "Concat") return std::make_unique<ConcatKernel>(n);
  if (op == "Gather") return std::make_unique<GatherKernel>(n);
  if (op == "ReduceMean") return std::make_unique<ReduceMeanKernel>(n);
  if (op == "ReduceSumSquare") return std::make_unique<ReduceSumSquareKernel>(n);
  if (op == "Slice") return std::make_unique<SliceKernel>(n);
  return nullptr;
}

}  // namespace strata
