// kernels_nn.cpp: the graph kernels with oneDNN fast paths: Conv, MaxPool,
// AveragePool, GlobalAveragePool, GlobalMaxPool, Gemm, MatMul, BatchNormalization;
// ConvTranspose through the backends' convolutions.
// 1-D variants (Keras Conv1D, MaxPooling1D) run as 2-D with H = 1.
#include <cstring>

#include "../check.h"
#include "../kernel.h"
#include "../ops/batchnorm.h"

namespace strata {

// Spatial geometry of a Conv or pooling node over input x (N,C,L) or (N,C,H,W).
struct Window {
  int N, C, H, W, KH, KW, OH, OW, sh, sw, dh, dw, pt, pl, pb, pr;
};

static Window resolve_window(const Node& n, const Shape& x, int64_t kh, int64_t kw) {
  STRATA_CHECK(x.size() == 3 || x.size() == 4,
               n.where() << ": input of shape " << shape_str(x) << " is not (N,C,L) or (N,C,H,W)");
  bool one_d = x.size() == 3;
  size_t sd = one_d ? 1 : 2;
  auto strides = n.get_ints("strides", std::vector<int64_t>(sd, 1));
  auto dil = n.get_ints("dilations", std::vector<int64_t>(sd, 1));
  auto pads = n.get_ints("pads", std::vector<int64_t>(2 * sd, 0));
  STRATA_CHECK(strides.size() == sd && dil.size() == sd && pads.size() == 2 * sd,
               n.where() << ": strides/dilations/pads do not match " << sd << " spatial dims");
  STRATA_CHECK(kh >= 1 && kw >= 1, n.where() << ": kernel " << kh << "x" << kw << " is empty");
  for (size_t k = 0; k < sd; k++)
    STRATA_CHECK(strides[k] >= 1 && dil[k] >= 1 && pads[k] >= 0 && pads[k + sd] >= 0,
                 n.where() << ": strides and dilations must be >= 1 and pads >= 0");
  bool ceil_mode = n.get_int("ceil_mode", 0) != 0;
  STRATA_CHECK(!ceil_mode || n.get_int("count_include_pad", 0) == 0,
               n.where() << ": ceil_mode=1 with count_include_pad=1 is not supported");
  std::string auto_pad = n.get_string("auto_pad", "NOTSET");
  Window w{};
  w.N = (int)x[0], w.C = (int)x[1];
  w.H = one_d ? 1 : (int)x[2], w.W = (int)x.back();
  w.KH = one_d ? 1 : (int)kh, w.KW = (int)kw;
  w.sh = one_d ? 1 : (int)strides[0], w.sw = (int)strides.back();
  w.dh = one_d ? 1 : (int)dil[0], w.dw = (int)dil.back();
  // ceil_mode: the last window may hang over the end; ONNX drops a window that starts
  // past the input and its left pad, and the overhang is padded (ignored by max,
  // excluded from the average's count).
  auto axis = [&](int64_t in, int64_t k, int64_t s, int64_t d, int64_t& b, int64_t& e) {
    int64_t out = window_out(in, k, s, d, auto_pad, b, e, ceil_mode);
    if (ceil_mode) {
      if ((out - 1) * s >= in + b) out--;
      int64_t need = (out - 1) * s + (k - 1) * d + 1 - (in + b);
      if (need > e) e = need;
    }
    return (int)out;
  };
  int64_t b = one_d ? 0 : pads[0], e = one_d ? 0 : pads[2];
  w.OH = one_d ? 1 : axis(w.H, w.KH, w.sh, w.dh, b, e);
  w.pt = (int)b, w.pb = (int)e;
  b = one_d ? pads[0] : pads[1], e = one_d ? pads[1] : pads[3];
  w.OW = axis(w.W, w.KW, w.sw, w.dw, b, e);
  w.pl = (int)b, w.pr = (int)e;
  return w;
}

static Shape window_shape(const Shape& x, int64_t C, const Window& w) {
  return x.size() == 3 ? Shape{x[0], C, w.OW} : Shape{x[0], C, w.OH, w.OW};
}

// B, when given, holds one value per output channel (the kernels read OC of them).
static void check_bias(const Node& node, const Ins& in, int64_t oc) {
  if (in.size() < 3 || !in[2]) return;
  STRATA_CHECK(in[2]->shape == Shape{oc},
               node.where() << ": bias " << shape_str(in[2]->shape) << " is not one value per output channel (" << oc << ")");
}

// --- Conv: X (N,C,...), W (OC,C/group,...), B (OC) ---------------------------------------
class ConvKernel : public OpKernel {
 public:
  using OpKernel::OpKernel;
  void infer(const Ins& in, Outs& out) override { out[0]->reset(plan(in)); }
  // Checks the inputs, sets the geometry and returns the output's shape.
  Shape plan(const Ins& in) {
    const int64_t group = node.get_int("group", 1);
    const Shape& ws = in[1]->shape;
    STRATA_CHECK((ws.size() == 3 || ws.size() == 4) && ws.size() == in[0]->shape.size(),
                 node.where() << ": weight " << shape_str(ws) << " does not fit input " << shape_str(in[0]->shape));
    STRATA_CHECK(group >= 1 && in[0]->shape[1] % group == 0 && ws[0] % group == 0,
                 node.where() << ": group=" << group << " must divide the input's " << in[0]->shape[1]
                              << " channels and the weight's " << ws[0] << " output channels");
    STRATA_CHECK(ws[1] * group == in[0]->shape[1],
                 node.where() << ": weight " << shape_str(ws) << " does not fit input " << shape_str(in[0]->shape)
                              << (group > 1 ? " in " + std::to_string(group) + " groups" : std::string()));
    check_bias(node, in, ws[0]);
    Window w = resolve_window(node, in[0]->shape, ws.size() == 4 ? ws[2] : 1, ws.back());
    p_ = ConvParams{w.N, w.C, w.H, w.W, (int)ws[0], w.KH, w.KW, w.OH, w.OW, w.sh, w.sw, w.dh, w.dw,
                    w.pt, w.pl, w.pb, w.pr, relu_};
    p_.G = (int)group;
    p_.clip = clip_, p_.clip_lo = clip_lo_, p_.clip_hi = clip_hi_;
    return window_shape(in[0]->shape, ws[0], w);
  }
  ConvParams& params() { return p_; }
  bool relu() const { return relu_; }
  void forward(KernelContext& ctx, const Ins& in, Outs& out) override {
    ctx.be->conv2d_forward(out[0]->data(), in[0]->data(), in[1]->data(), bias(in), p_);
  }
  void backward(KernelContext& ctx, const Ins& in, const Outs& out, const Tensor& dout, Grads& din) override {
    float* db = din.size() > 2 && din[2] ? din[2]->data() : nullptr;
    const float* d = dout.data();
    if (relu_ && !relu_backward_skipped_) {  // the fused Relu's backward: out > 0 exactly where the conv's output was
      reset_beside(masked_, dout, dout.shape);
      ctx.be->act_backward(masked_.data(), d, out[0]->data(), out[0]->data(), dout.size(), ActParams{Act::Relu});
      d = masked_.data();
    }
    if (clip_) {  // the fused Clip's backward: lo < out < hi exactly where lo < the conv's output < hi
      reset_beside(masked_, dout, dout.shape);
      ctx.be->act_backward(masked_.data(), d, out[0]->data(), out[0]->data(), dout.size(),
                           ActParams{Act::Clip, clip_lo_, clip_hi_});
      d = masked_.data();
    }
    ctx.be->conv2d_backward(din[0] ? din[0]->data() : nullptr, din[1] ? din[1]->data() : nullptr, db, d,
                            in[0]->data(), in[1]->data(), p_);
  }
  bool accumulates(int i) const override { return i >= 1; }
  int required_inputs() const override { return 2; }
  bool fuse_relu() override { return !clip_ && (relu_ = true); }
  void skip_relu_backward() override { relu_backward_skipped_ = true; }
  bool fuse_clip(float lo, float hi) override {
    if (relu_ || clip_) return false;
    clip_ = true, clip_lo_ = lo, clip_hi_ = hi;
    return true;
  }
  bool clipped() const { return clip_; }
  int blocked_io() const override { return kReadsBlocked | kWritesBlocked; }
  void set_blocked(bool in0, bool out0) override { p_.src_blocked = in0, p_.dst_blocked = out0; }

 private:
  ConvParams p_{};
  bool relu_ = false, relu_backward_skipped_ = false;
  bool clip_ = false;  // fuse_clip: the output clamped to [clip_lo_, clip_hi_]
  float clip_lo_ = 0, clip_hi_ = 0;
  Tensor masked_;  // dout through the fused Relu
  static const float* bias(const Ins& in) { return in.size() > 2 && in[2] ? in[2]->data() : nullptr; }
};

// --- ConvTranspose: X (N,C,...), W (C,OC/group,...), B (OC) ----------------------------
// The transposed convolution is the input gradient of the convolution whose input has Y's
// shape and whose output has X's, with the same weight (ONNX's W (C, OC/group, kh, kw) is
// that convolution's (OC', C'/group, kh, kw) with OC' = C, C' = OC). So every backend's
// convolution serves: Y = conv_backward_data(X), dX = conv(dY), dW += conv_backward_weights
// with dY as the input and X as the output grad; dB += the sums of dY per channel.
class ConvTransposeKernel : public OpKernel {
 public:
  using OpKernel::OpKernel;
  void infer(const Ins& in, Outs& out) override {
    const Shape& x = in[0]->shape;
    const Shape& ws = in[1]->shape;
    const int64_t group = node.get_int("group", 1);
    STRATA_CHECK((x.size() == 3 || x.size() == 4) && ws.size() == x.size(),
                 node.where() << ": weight " << shape_str(ws) << " does not fit input " << shape_str(x));
    STRATA_CHECK(group >= 1 && x[1] % group == 0 && ws[0] == x[1],
                 node.where() << ": weight " << shape_str(ws) << " does not fit input " << shape_str(x)
                              << " (ConvTranspose's weight is (C, OC/group, ...))");
    std::string auto_pad = node.get_string("auto_pad", "NOTSET");
    STRATA_CHECK(auto_pad == "NOTSET" || auto_pad == "VALID" || auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER",
                 node.where() << ": auto_pad " << auto_pad << " is not one of NOTSET, VALID, SAME_UPPER, SAME_LOWER");
    const size_t sd = x.size() - 2;
    auto strides = node.get_ints("strides", std::vector<int64_t>(sd, 1));
    auto dil = node.get_ints("dilations", std::vector<int64_t>(sd, 1));
    auto pads = auto_pad == "VALID" ? std::vector<int64_t>(2 * sd, 0) : node.get_ints("pads", std::vector<int64_t>(2 * sd, 0));
    auto extra = node.get_ints("output_padding", std::vector<int64_t>(sd, 0));
    STRATA_CHECK(strides.size() == sd && dil.size() == sd && pads.size() == 2 * sd && extra.size() == sd,
                 node.where() << ": strides/dilations/pads/output_padding do not match " << sd << " spatial dims");
    Shape y{x[0], ws[1] * group};
    check_bias(node, in, y[1]);
    std::vector<int64_t> k(ws.begin() + 2, ws.end());
    if (node.has("output_shape") || auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER")
      pads_for_output_shape(x, k, strides, dil, auto_pad == "SAME_UPPER", pads, extra);
    for (size_t a = 0; a < sd; a++) {
      STRATA_CHECK(strides[a] >= 1 && dil[a] >= 1 && pads[a] >= 0 && pads[a + sd] >= 0 && extra[a] >= 0 &&
                       (extra[a] < strides[a] || extra[a] < dil[a]),
                   node.where() << ": strides and dilations must be >= 1, pads >= 0 and output_padding below the stride or the dilation");
      y.push_back(strides[a] * (x[a + 2] - 1) + extra[a] + (k[a] - 1) * dil[a] + 1 - pads[a] - pads[a + sd]);
      STRATA_CHECK(y.back() >= 1, node.where() << ": the pads " << shape_str(pads) << " leave no output for input " << shape_str(x));
    }
    bool one_d = sd == 1;
    // the convolution from Y to X
    p_ = ConvParams{(int)x[0], (int)y[1], one_d ? 1 : (int)y[2], (int)y.back(), (int)x[1], one_d ? 1 : (int)k[0], (int)k.back(),
                    one_d ? 1 : (int)x[2], (int)x.back(), one_d ? 1 : (int)strides[0], (int)strides.back(), one_d ? 1 : (int)dil[0],
                    (int)dil.back(), one_d ? 0 : (int)pads[0], (int)pads[sd - 1], one_d ? 0 : (int)pads[2], (int)pads.back()};
    p_.G = (int)group;
    rank_ = y.size();
    out[0]->reset(y);
  }
  void forward(KernelContext& ctx, const Ins& in, Outs& out) override {
    float* y = out[0]->data();
    // no weight grad is asked for, so the convolution's input (Y's place) is not read
    ctx.be->conv2d_backward(y, nullptr, nullptr, in[0]->data(), y, in[1]->data(), p_);
    if (const float* b = bias(in)) {
      reset_beside(unbiased_, *out[0], out[0]->shape);
      ctx.be->copy(unbiased_.data(), y, out[0]->size());
      ctx.be->binary_forward(y, unbiased_.data(), b, out[0]->shape, channel_shape(), out[0]->shape, Binary::Add);
    }
  }
  void backward(KernelContext& ctx, const Ins& in, const Outs&, const Tensor& dout, Grads& din) override {
    if (din[0]) ctx.be->conv2d_forward(din[0]->data(), dout.data(), in[1]->data(), nullptr, p_);
    if (din[1]) ctx.be->conv2d_backward(nullptr, din[1]->data(), nullptr, in[0]->data(), dout.data(), in[1]->data(), p_);
    if (din.size() > 2 && din[2]) {  // dB += (count per channel) * the mean of dY per channel
      reset_beside(channel_mean_, dout, channel_shape());
      ctx.be->reduce_mean_forward(channel_mean_.data(), dout.data(), dout.shape, channel_shape());
      ctx.be->add_scaled(din[2]->data(), channel_mean_.data(), (float)(dout.size() / p_.C), p_.C);
    }
  }
  bool accumulates(int i) const override { return i >= 1; }
  int required_inputs() const override { return 2; }

 private:
  ConvParams p_{};
  Tensor unbiased_, channel_mean_;

  // ONNX's rule for output_shape (or, with auto_pad SAME_*, input size * stride): the pads
  // that give it, total = stride (in - 1) + output_padding + (k - 1) dilation + 1 - out,
  // split with the odd one at the end for SAME_UPPER, at the start otherwise (floor division,
  // as ONNX's reference). A negative end pad (an output longer than the pads 0 give) is more
  // output_padding; a negative start pad has no equivalent here.
  void pads_for_output_shape(const Shape& x, const std::vector<int64_t>& k, const std::vector<int64_t>& strides,
                             const std::vector<int64_t>& dil, bool same_upper, std::vector<int64_t>& pads,
                             std::vector<int64_t>& extra) const {
    const size_t sd = k.size();
    std::vector<int64_t> want(sd);
    for (size_t a = 0; a < sd; a++) want[a] = x[a + 2] * strides[a];
    if (node.has("output_shape")) {
      auto given = node.get_ints("output_shape", {});
      STRATA_CHECK(given.size() == sd || given.size() == sd + 2,
                   node.where() << ": output_shape " << shape_str(given) << " has neither " << sd << " nor " << sd + 2 << " dims");
      want.assign(given.end() - sd, given.end());
    }
    for (size_t a = 0; a < sd; a++) {
      int64_t total = strides[a] * (x[a + 2] - 1) + extra[a] + (k[a] - 1) * dil[a] + 1 - want[a];
      int64_t half = total >= 0 ? total / 2 : -((-total + 1) / 2);  // floor(total / 2)
      pads[a] = same_upper ? half : total - half;
      pads[a + sd] = total - pads[a];
      if (pads[a + sd] < 0) extra[a] -= pads[a + sd], pads[a + sd] = 0;
      STRATA_CHECK(pads[a] >= 0, node.where() << ": the output size " << want[a] << " of spatial dim " << a
                                               << " is too long for input " << shape_str(x) << " (pads would be negative)");
    }
  }
  // (1, OC, 1, ...): the bias's broadcast shape against Y
  Shape channel_shape() const { return rank_ == 3 ? Shape{1, p_.C, 1} : Shape{1, p_.C, 1, 1}; }
  size_t rank_ = 4;
  static const float* bias(const Ins& in) { return in.size() > 2 && in[2] ? in[2]->data() : nullptr; }
};

// --- MaxPool, AveragePool, GlobalAveragePool, GlobalMaxPool (global: a window over all of H, W) ---
class PoolKernel : public OpKernel {
 public:
  PoolKernel(const Node& n, bool max, bool global) : OpKernel(n), max_(max), global_(global) {}
  void infer(const Ins& in, Outs& out) override {
    STRATA_CHECK(out.size() < 2 || !out[1], node.where() << ": the Indices output is not supported");
    out[0]->reset(plan(in[0]->shape));
  }
  // Sets the geometry for input shape x and returns the output's shape.
  Shape plan(const Shape& x) {
    if (global_) {
      STRATA_CHECK(x.size() == 3 || x.size() == 4, node.where() << ": input " << shape_str(x) << " is not 3-D or 4-D");
      int H = x.size() == 4 ? (int)x[2] : 1, W = (int)x.back();
      p_ = PoolParams{(int)x[0], (int)x[1], H, W, 1, 1, H, W, 1, 1, 1, 1, 0, 0, 0, 0, false};
      Shape o = x;
      for (size_t k = 2; k < o.size(); k++) o[k] = 1;
      return o;
    }
    auto k = node.get_ints("kernel_shape");
    STRATA_CHECK((k.size() == 1 || k.size() == 2) && k.size() + 2 == x.size(),
                 node.where() << ": kernel_shape " << shape_str(k) << " does not match input " << shape_str(x));
    Window w = resolve_window(node, x, k.size() == 2 ? k[0] : 1, k.back());
    p_ = PoolParams{w.N, w.C, w.H, w.W, w.OH, w.OW, w.KH, w.KW, w.sh, w.sw, w.dh, w.dw, w.pt, w.pl, w.pb, w.pr,
                    node.get_int("count_include_pad", 0) != 0};
    return window_shape(x, x[1], w);
  }
  PoolParams& params() { return p_; }
  bool is_max() const { return max_ && !global_; }
  void forward(KernelContext& ctx, const Ins& in, Outs& out) override {
    if (max_ && ctx.training) ctx.be->maxpool2d_forward_train(out[0]->data(), in[0]->data(), p_);
    else if (max_) ctx.be->maxpool2d_forward(out[0]->data(), in[0]->data(), p_);
    else ctx.be->avgpool2d_forward(out[0]->data(), in[0]->data(), p_);
  }
  void backward(KernelContext& ctx, const Ins& in, const Outs& out, const Tensor& dout, Grads& din) override {
    if (!din[0]) return;
    const float* d = dout.data();
    if (relu_in_) {  // the writer's Relu backward, on our output: max > 0 where the routed-to input > 0
      reset_beside(masked_, dout, dout.shape);
      ctx.be->act_backward(masked_.data(), d, out[0]->data(), out[0]->data(), dout.size(), ActParams{Act::Relu});
      d = masked_.data();
    }
    if (max_) ctx.be->maxpool2d_backward(din[0]->data(), d, in[0]->data(), p_);
    else ctx.be->avgpool2d_backward(din[0]->data(), dout.data(), p_);
  }
  int blocked_io() const override { return kReadsBlocked | kWritesBlocked | kSameLayout; }
  void set_blocked(bool in0, bool) override { p_.blocked = in0; }
  bool absorb_input_relu() override { return relu_in_ = max_ && !global_; }

 private:
  bool max_, global_, relu_in_ = false;
  Tensor masked_;  // dout through the absorbed Relu backward
  PoolParams p_{};
};

// --- Conv (+ Relu) then MaxPool, one step (Session::fuse_conv_pools) ----------------
// Y = maxpool(relu(conv(X, W, B))). The convolution's output, a CNN's largest activation,
// is never stored whole: the backend computes the pair in slices of the batch, so that
// it stays in the cache, and keeps in state_ what the backward needs (backend.h).
class ConvMaxPoolKernel : public OpKernel {
 public:
  ConvMaxPoolKernel(std::unique_ptr<ConvKernel> conv, std::unique_ptr<PoolKernel> pool)
      : OpKernel(conv->node), conv_(std::move(conv)), pool_(std::move(pool)) {}
  void infer(const Ins& in, Outs& out) override {
    out[0]->reset(pool_->plan(conv_->plan(in)));
    state_ready_ = false;
  }
  void forward(KernelContext& ctx, const Ins& in, Outs& out) override {
    const float* b = in.size() > 2 && in[2] ? in[2]->data() : nullptr;
    if (ctx.training && !state_ready_) {  // sized here: the backend knows its slicing
      reset_beside(state_, *out[0], {ctx.be->conv_maxpool_state_size(conv_->params(), pool_->params())});
      state_ready_ = true;
    }
    ctx.be->conv_maxpool_forward(out[0]->data(), in[0]->data(), in[1]->data(), b, conv_->params(), pool_->params(),
                                 ctx.training ? state_.data() : nullptr);
  }
  void backward(KernelContext& ctx, const Ins& in, const Outs& out, const Tensor& dout, Grads& din) override {
    // (the Relu's backward, on the pooled grad, inside: backend.h)
    ctx.be->conv_maxpool_backward(din[0] ? din[0]->data() : nullptr, din[1] ? din[1]->data() : nullptr,
                                  din.size() > 2 && din[2] ? din[2]->data() : nullptr, dout.data(), out[0]->data(),
                                  in[0]->data(), in[1]->data(), conv_->params(), pool_->params(), state_.data());
  }
  bool accumulates(int i) const override { return i >= 1; }
  int required_inputs() const override { return 2; }
  // The intermediate is in the blocked layout whenever the output is (the pooling reads
  // and writes one layout); the input may be either.
  int blocked_io() const override { return kReadsBlocked | kWritesBlocked; }
  void set_blocked(bool in0, bool out0) override {
    conv_->params().src_blocked = in0, conv_->params().dst_blocked = out0;
    pool_->params().blocked = out0;
  }

 private:
  std::unique_ptr<ConvKernel> conv_;
  std::unique_ptr<PoolKernel> pool_;
  Tensor state_;
  bool state_ready_ = false;
};

std::unique_ptr<OpKernel> fuse_conv_maxpool(std::unique_ptr<OpKernel>& conv, std::unique_ptr<OpKernel>& pool) {
  auto* c = dynamic_cast<ConvKernel*>(conv.get());
  auto* p = dynamic_cast<PoolKernel*>(pool.get());
  if (!c || !p || !p->is_max() || c->clipped()) return nullptr;  // the pair's kernels apply no Clip
  conv.release(), pool.release();
  return std::make_unique<ConvMaxPoolKernel>(std::unique_ptr<ConvKernel>(c), std::unique_ptr<PoolKernel>(p));
}

void conv_forward_clamped(OpKernel& conv, KernelContext& ctx, const Ins& in, Outs& out, float lo, float hi) {
  auto* c = dynamic_cast<ConvKernel*>(&conv);
  STRATA_CHECK(c, conv.node.where() << ": a Clip can only be folded into a plain Conv kernel");
  ConvParams p = c->params();
  p.clip = true, p.clip_lo = lo, p.clip_hi = hi;
  ctx.be->conv2d_forward(out[0]->data(), in[0]->data(), in[1]->data(), in.size() > 2 && in[2] ? in[2]->data() : nullptr, p);
}

// --- Gemm: Y (M,N) = alpha * op(A) @ op(B) + beta * C (C broadcast) -------------------
class GemmKernel : public OpKernel {
 public:
  using OpKernel::OpKernel;
  void infer(const Ins& in, Outs& out) override {
    ta_ = node.get_int("transA", 0), tb_ = node.get_int("transB", 0);
    alpha_ = node.get_float("alpha", 1.0f), beta_ = node.get_float("beta", 1.0f);
    Shape a = in[0]->shape;
    const Shape& b = in[1]->shape;
    if (flattened_ && !a.empty()) a = {a[0], a[0] ? numel(a) / a[0] : 0};
    STRATA_CHECK(a.size() == 2 && b.size() == 2, node.where() << ": A " << shape_str(a) << " and B " << shape_str(b)
                                                              << " must be 2-D");
    M_ = (int)(ta_ ? a[1] : a[0]), K_ = (int)(ta_ ? a[0] : a[1]), N_ = (int)(tb_ ? b[0] : b[1]);
    STRATA_CHECK((tb_ ? b[1] : b[0]) == K_, node.where() << ": A " << shape_str(a) << " and B " << shape_str(b)
                                                         << " do not multiply");
    out[0]->reset({M_, N_});
    if (has_c(in)) broadcast_shape(in[2]->shape, out[0]->shape);  // throws if C does not broadcast
  }
  void forward(KernelContext& ctx, const Ins& in, Outs& out) override {
    ctx.be->gemm(ta_, tb_, M_, N_, K_, alpha_, in[0]->data(), in[1]->data(), 0.0f, out[0]->data());
    if (has_c(in)) {
      Tensor& y = *out[0];
      const float* c = in[2]->data();
      if (beta_ != 1.0f) {
        reset_beside(scaled_c_, y, in[2]->shape);
        ctx.be->scale(scaled_c_.data(), c, beta_, in[2]->size());
        c = scaled_c_.data();
      }
      ctx.be->binary_forward(y.data(), y.data(), c, y.shape, in[2]->shape, y.shape, Binary::Add);
    }
  }
  void backward(KernelContext& ctx, const Ins& in, const Outs&, const Tensor& dout, Grads& din) override {
    const float *A = in[0]->data(), *B = in[1]->data(), *dY = dout.data();
    // dA = alpha dY op(B)^T, stored as A is; dB += alpha op(A)^T dY, stored as B is
    if (din[0]) {
      if (!ta_) ctx.be->gemm(false, !tb_, M_, K_, N_, alpha_, dY, B, 0.0f, din[0]->data());
      else ctx.be->gemm(tb_, true, K_, M_, N_, alpha_, B, dY, 0.0f, din[0]->data());
    }
    if (din[1]) {
      if (!tb_) ctx.be->gemm(!ta_, false, K_, N_, M_, alpha_, A, dY, 1.0f, din[1]->data());
      else ctx.be->gemm(true, ta_, N_, K_, M_, alpha_, dY, A, 1.0f, din[1]->data());
    }
    if (din.size() > 2 && din[2]) {  // dC += beta * (dY summed over broadcast axes)
      reset_beside(dc_, dout, in[2]->shape);
      ctx.be->binary_backward(nullptr, dc_.data(), dY, nullptr, nullptr, dout.shape, in[2]->shape, dout.shape,
                              Binary::Add);
      ctx.be->add_scaled(din[2]->data(), dc_.data(), beta_, dc_.size());
    }
  }
  bool accumulates(int i) const override { return i >= 1; }
  int required_inputs() const override { return 2; }
  bool read_flattened() override {
    if (node.get_int("transA", 0)) return false;
    flattened_ = true;
    return true;
  }
  // flattened, the rows of a blocked input are read as they lie (the session orders B to match)
  int blocked_io() const override { return flattened_ ? kReadsBlocked : 0; }

 private:
  bool flattened_ = false;
  bool ta_ = false, tb_ = false;
  float alpha_ = 1, beta_ = 1;
  int M_ = 0, N_ = 0, K_ = 0;
  Tensor scaled_c_, dc_;  // beta * C, and C's grad before it is scaled and added
  static bool has_c(const Ins& in) { return in.size() > 2 && in[2]; }
};

// --- MatMul: A (..., M, K) @ B (K, N) or B (..., K, N) with the same batch dims ------
class MatMulKernel : public OpKernel {
 public:
  using OpKernel::OpKernel;
  void infer(const Ins& in, Outs& out) override {
    const Shape &a = in[0]->shape, &b = in[1]->shape;
    STRATA_CHECK(a.size() >= 2 && b.size() >= 2,
                 node.where() << ": 1-D operands are not supported (A " << shape_str(a) << ", B " << shape_str(b) << ")");
    K_ = (int)a.back(), M_ = (int)a[a.size() - 2], N_ = (int)b.back();
    STRATA_CHECK(b[b.size() - 2] == K_, node.where() << ": A " << shape_str(a) << " and B " << shape_str(b)
                                                     << " do not multiply");
    Shape o = a;
    o.back() = N_;
    if (b.size() == 2) {  // Dense: fold A's batch axes into M
      batches_ = 1, M_ = (int)(numel(a) / K_);
    } else {
      STRATA_CHECK(Shape(a.begin(), a.end() - 2) == Shape(b.begin(), b.end() - 2),
                   node.where() << ": batched MatMul needs equal batch dims, got " << shape_str(a) << " and "
                                << shape_str(b));
      batches_ = (int)(numel(a) / ((int64_t)M_ * K_));
    }
    out[0]->reset(o);
  }
  void forward(KernelContext& ctx, const Ins& in, Outs& out) override {
    int64_t sb = b_stride();
    for (int t = 0; t < batches_; t++)
      ctx.be->gemm(false, false, M_, N_, K_, 1.0f, in[0]->data() + (int64_t)t * M_ * K_, in[1]->data() + t * sb, 0.0f,
                   out[0]->data() + (int64_t)t * M_ * N_);
  }
  void backward(KernelContext& ctx, const Ins& in, const Outs&, const Tensor& dout, Grads& din) override {
    int64_t sb = b_stride();
    for (int t = 0; t < batches_; t++) {
      const float* dY = dout.data() + (int64_t)t * M_ * N_;
      const float* A = in[0]->data() + (int64_t)t * M_ * K_;
      const float* B = in[1]->data() + t * sb;
      if (din[0]) ctx.be->gemm(false, true, M_, K_, N_, 1.0f, dY, B, 0.0f, din[0]->data() + (int64_t)t * M_ * K_);
      if (din[1]) ctx.be->gemm(true, false, K_, N_, M_, 1.0f, A, dY, 1.0f, din[1]->data() + t * sb);
    }
  }
  bool accumulates(int i) const override { return i == 1; }
  int required_inputs() const override { return 2; }

 private:
  int M_ = 0, N_ = 0, K_ = 0, batches_ = 1;
  int64_t b_stride() const { return batches_ == 1 ? 0 : (int64_t)K_ * N_; }
};

// --- BatchNormalization: X (N,C,...), scale, B, mean, var (C) ---------------------------
// Training uses the batch statistics and updates the moving mean/var inputs (they
// are initializers) in place: moving = moving * momentum + batch * (1 - momentum),
// with the biased batch variance, as Keras does. Inference uses the moving statistics.
// epsilon and momentum come from the node (ONNX defaults 1e-5 and 0.9); the
// translator writes Keras's 1e-3 and 0.99 there.
class BatchNormKernel : public OpKernel {
 public:
  using OpKernel::OpKernel;
  void infer(const Ins& in, Outs& out) override {
    const Shape& x = in[0]->shape;
    STRATA_CHECK(x.size() >= 2, node.where() << ": input " << shape_str(x) << " has no channel axis");
    N_ = (int)x[0], C_ = (int)x[1], S_ = (int)(numel(x) / ((int64_t)N_ * C_));
    for (int k = 1; k < 5; k++)
      STRATA_CHECK(in[k] && in[k]->size() == C_, node.where() << ": input " << k << " must have " << C_ << " values");
    eps_ = node.get_float("epsilon", 1e-5f), momentum_ = node.get_float("momentum", 0.9f);
    out[0]->reset(x);
    for (size_t k = 1; k < out.size(); k++)
      if (out[k]) out[k]->reset({C_});
    reset_beside(mean_, *out[0], {C_});
    reset_beside(var_, *out[0], {C_});
  }
  // A node with training_mode=1 (opset 14+) uses batch statistics even in a forward
  // pass, and reports the updated running statistics in its optional outputs; only a
  // training step writes them back into the moving-average initializers.
  void forward(KernelContext& ctx, const Ins& in, Outs& out) override {
    if (!ctx.training && !node.get_int("training_mode", 0)) {
      ctx.be->batchnorm_forward_infer(out[0]->data(), in[0]->data(), in[1]->data(), in[2]->data(), in[3]->data(),
                                      in[4]->data(), N_, C_, S_, eps_);
      return;
    }
    ctx.be->batchnorm_forward_train(out[0]->data(), mean_.data(), var_.data(), in[0]->data(), in[1]->data(),
                                    in[2]->data(), N_, C_, S_, eps_);
    // the running statistics: moving * momentum + batch * (1 - momentum)
    auto moved = [&](float* into, const Tensor& moving, const Tensor& batch) {
      ctx.be->blend(into, moving.data(), momentum_, batch.data(), 1 - momentum_, C_);
    };
    if (out.size() > 1 && out[1]) moved(out[1]->data(), *in[3], mean_);
    if (out.size() > 2 && out[2]) moved(out[2]->data(), *in[4], var_);
    if (ctx.training && ctx.update_statistics) moved(in[3]->data(), *in[3], mean_), moved(in[4]->data(), *in[4], var_);
  }
  void backward(KernelContext& ctx, const Ins& in, const Outs&, const Tensor& dout, Grads& din) override {
    STRATA_CHECK(ctx.training, node.where() << ": backward needs a training forward");
    ctx.be->batchnorm_backward(din[0] ? din[0]->data() : nullptr, din[1] ? din[1]->data() : nullptr,
                               din[2] ? din[2]->data() : nullptr, dout.data(), in[0]->data(), in[1]->data(),
                               mean_.data(), var_.data(), N_, C_, S_, eps_);
  }
  bool accumulates(int i) const override { return i == 1 || i == 2; }
  bool differentiable(int i) const override { return i <= 2; }
  int required_inputs() const override { return 5; }

 private:
  int N_ = 0, C_ = 0, S_ = 0;
  float eps_ = 1e-5f, momentum_ = 0.9f;
  Tensor mean_, var_;  // this step's batch statistics
};

// LayerNormalization (opset 17, as PyTorch's nn.LayerNorm and tf2onnx export it): x viewed as
// (rows, D), D the product of the axes from `axis` (default -1) on, each row normalized with its
// own statistics, then scaled by Scale and shifted by the optional B (each D values, the shape of
// those axes). The optional outputs Mean and InvStdDev have x's shape with those axes 1.
class LayerNormKernel : public OpKernel {
 public:
  using OpKernel::OpKernel;
  void infer(const Ins& in, Outs& out) override {
    const Shape& x = in[0]->shape;
    int64_t r = (int64_t)x.size(), axis = node.get_int("axis", -1);
    if (axis < 0) axis += r;
    STRATA_CHECK(axis >= 0 && axis < r, node.where() << ": axis " << node.get_int("axis", -1) << " is out of range for "
                                                     << shape_str(x));
    Shape stats_shape(x.begin(), x.begin() + axis), normalized(x.begin() + axis, x.end());
    rows_ = numel(stats_shape), D_ = numel(normalized);
    for (int k = 1; k <= (has_bias(in) ? 2 : 1); k++)
      STRATA_CHECK(in[k]->size() == D_,
                   node.where() << ": " << (k == 1 ? "Scale" : "B") << " " << shape_str(in[k]->shape) << " must have the "
                                << D_ << " values of the normalized axes " << shape_str(normalized) << " of input "
                                << shape_str(x));
    eps_ = node.get_float("epsilon", 1e-5f);
    out[0]->reset(x);
    stats_shape.resize(x.size(), 1);
    for (size_t k = 1; k < out.size() && k < 3; k++)
      if (out[k]) out[k]->reset(stats_shape);
    reset_beside(mean_, *out[0], {rows_});
    reset_beside(inv_std_, *out[0], {rows_});
  }
  void forward(KernelContext& ctx, const Ins& in, Outs& out) override {
    ctx.be->layer_norm_forward(out[0]->data(), mean_.data(), inv_std_.data(), in[0]->data(), in[1]->data(),
                               has_bias(in) ? in[2]->data() : nullptr, rows_, D_, eps_);
    if (out.size() > 1 && out[1]) ctx.be->copy(out[1]->data(), mean_.data(), rows_);
    if (out.size() > 2 && out[2]) ctx.be->copy(out[2]->data(), inv_std_.data(), rows_);
  }
  void backward(KernelContext& ctx, const Ins& in, const Outs&, const Tensor& dout, Grads& din) override {
    ctx.be->layer_norm_backward(din[0] ? din[0]->data() : nullptr, din[1] ? din[1]->data() : nullptr,
                                din.size() > 2 && din[2] ? din[2]->data() : nullptr, dout.data(), in[0]->data(),
                                in[1]->data(), mean_.data(), inv_std_.data(), rows_, D_);
  }
  bool accumulates(int i) const override { return i == 1 || i == 2; }
  bool differentiable(int i) const override { return i <= 2; }
  int required_inputs() const override { return 2; }

 private:
  static bool has_bias(const Ins& in) { return in.size() > 2 && in[2]; }
  int64_t rows_ = 0, D_ = 0;
  float eps_ = 1e-5f;
  Tensor mean_, inv_std_;  // the last forward's statistics, one per row
};

std::unique_ptr<OpKernel> make_nn_kernel(const Node& n) {
  const std::string& op = n.op_type;
  if (op == "Conv") return std::make_unique<ConvKernel>(n);
  if (op == "ConvTranspose") return std::make_unique<ConvTransposeKernel>(n);
  if (op == "MaxPool") return std::make_unique<PoolKernel>(n, true, false);
  if (op == "AveragePool") return std::make_unique<PoolKernel>(n, false, false);
  if (op == "GlobalAveragePool") return std::make_unique<PoolKernel>(n, false, true);
  if (op == "GlobalMaxPool") return std::make_unique<PoolKernel>(n, true, true);
  if (op == "Gemm") return std::make_unique<GemmKernel>(n);
  if (op == "MatMul") return std::make_unique<MatMulKernel>(n);
  if (op == "BatchNormalization") return std::make_unique<BatchNormKernel>(n);
  if (op == "LayerNormalization") return std::make_unique<LayerNormKernel>(n);
  return nullptr;
}

}  // namespace strata
