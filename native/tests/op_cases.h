// op_cases.h: helper_test_op for the engine's backends. An OpCase is one op on given inputs;
// check_op runs it on the backend under test and on the reference (plain loops), forward and
// backward, through the backend's own memory (alloc/upload/download, so a GPU backend sees
// device pointers), checks the gradient contract (activation grads =, parameter grads +=)
// and the backward against central differences of the reference's forward.
// test_ops runs the cases on "cpu", test_cuda_ops on "cuda-emu" (and on "cuda" on a GPU).
#pragma once
#include <cmath>
#include <cstdio>
#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/backend.h"
#include "core/check.h"
#include "test_util.h"

namespace strata_test {
using namespace strata;

enum GradKind { NoGrad = 0, ActGrad = 1, ParamGrad = 2 };

// A buffer of n floats in a backend's memory.
class Buffer {
 public:
  Buffer(Backend& be, int64_t n) : be_(&be), n_(n), p_(be.alloc(n > 0 ? n : 1)) {}
  Buffer(Backend& be, const std::vector<float>& host) : Buffer(be, (int64_t)host.size()) { upload(host); }
  Buffer(Buffer&& o) noexcept : be_(o.be_), n_(o.n_), p_(o.p_) { o.p_ = nullptr; }
  Buffer(const Buffer&) = delete;
  ~Buffer() {
    if (p_) be_->free(p_);
  }
  float* get() const { return p_; }
  void upload(const std::vector<float>& host) {
    if (!host.empty()) be_->upload(p_, host.data(), (int64_t)host.size());
  }
  std::vector<float> download() const {
    std::vector<float> h((size_t)n_);
    if (n_ > 0) be_->download(h.data(), p_, n_);
    return h;
  }

 private:
  Backend* be_;
  int64_t n_;
  float* p_;
};

// int64 indices in a backend's memory (two floats' room each)
inline Buffer upload_indices(Backend& be, const std::vector<int64_t>& idx) {
  std::vector<float> raw(idx.size() * 2);
  std::memcpy(raw.data(), idx.data(), idx.size() * sizeof(int64_t));
  return Buffer(be, raw);
}

// One op under test: its float inputs, which of them get grads, and how to call it. The
// pointers fwd and bwd get live in the backend's memory; so must any scratch they allocate.
struct OpCase {
  std::string name;
  std::vector<Tensor> in;
  std::vector<GradKind> grad;
  int64_t out_n;
  std::function<void(Backend&, const std::vector<const float*>& in, float* out)> fwd;
  std::function<void(Backend&, const std::vector<const float*>& in, const float* out, const float* dout,
                     std::vector<float*>& din)>
      bwd;
  // Central differences' step. Max pooling's gradient jumps where a window's maximum changes
  // hands; with 1e-3 a few of the ~40 sampled weights of a few-channel convolution (each
  // moves every window of its channel) cross such a point, so those cases step 1e-4.
  float fd_eps = 1e-3f;
  // The finite differences' tolerance (test_util.h's grad_check). At a step of 1e-4 the float
  // forward's rounding (~2e-7 on outputs near 4, over ~100 terms) moves a difference quotient by
  // up to ~1e-2 where its terms cancel, so those cases allow 3e-2.
  float fd_tol = 1e-2f;
  // The backend against the reference (validate_result): relative beyond 1, or beyond the
  // reference's root mean square with rms_floor set.
  float tol = 1e-4f;
  bool rms_floor = false;
  bool matrix_product = false;  // a convolution or GEMM: TF32 where the backend computes in TF32
  // The backward routes grads by comparing forward values (max pooling, a Relu): in TF32 those
  // comparisons may go the other way where two values are closer than TF32's rounding, so
  // only the forward is compared in TF32 (the FP32 pass checks the backward).
  bool routes_by_value = false;
};

// The backend under test: a name for make_backend and its options.
struct Target {
  std::string backend = "cpu";
  BackendOptions options;
  // TF32's tolerance for matrix products (tensor cores round the inputs to 10-bit mantissas):
  // 5e-3 of the result's magnitude, PyTorch's test tolerance for TF32 (tf32_on_and_off(0.005)).
  bool tf32() const { return backend.rfind("cuda", 0) == 0 && options.tf32; }
  std::unique_ptr<Backend> make() const { return make_backend(backend, options); }
};
inline Target& target() {
  static Target t;
  return t;
}
constexpr float kTF32Tolerance = 5e-3f;

// Runs fwd, then bwd (when any input takes a grad), on backend `be`: inputs uploaded, grads
// started as the contract demands checking (activation grads from junk, parameter grads from
// 0.25, taken off again). Returns the output and each input's grad, on the host.
inline std::pair<std::vector<float>, std::vector<std::vector<float>>> run_case(const OpCase& c, Backend& be,
                                                                              const std::vector<float>& dout) {
  std::vector<Buffer> in;
  std::vector<const float*> ptr;
  for (auto& t : c.in) in.emplace_back(be, t.f), ptr.push_back(in.back().get());
  Buffer out(be, c.out_n);
  c.fwd(be, ptr, out.get());
  std::vector<std::vector<float>> din(c.in.size());
  bool any = false;
  for (GradKind g : c.grad) any |= g != NoGrad;
  if (any) {
    Buffer d(be, dout);
    std::vector<Buffer> grads;
    std::vector<float*> gptr(c.in.size(), nullptr);
    for (size_t i = 0; i < c.in.size(); i++) {
      if (c.grad[i] == NoGrad) continue;
      grads.emplace_back(be, std::vector<float>(c.in[i].f.size(), c.grad[i] == ActGrad ? 777.0f : 0.25f));
      gptr[i] = grads.back().get();
    }
    c.bwd(be, ptr, out.get(), d.get(), gptr);
    for (size_t i = 0, k = 0; i < c.in.size(); i++) {
      if (c.grad[i] == NoGrad) continue;
      din[i] = grads[k++].download();
      if (c.grad[i] == ParamGrad)
        for (auto& g : din[i]) g -= 0.25f;
    }
  }
  std::vector<float> o = out.download();
  be.sync();
  return {o, din};
}

// Runs a check; an engine error (a kernel's fault in the emulation) fails it and the rest go on.
template <class F>
inline void guarded(const std::string& name, F f) {
  try {
    f();
  } catch (const Error& e) {
    expect(false, name + ": " + e.what());
  }
}

// helper_test_op: forward and backward of target() vs "reference", then finite differences
// of the reference's forward against the backward under test.
inline void check_op_unguarded(const OpCase& c) {
  ReferenceBackend ref;
  auto be = target().make();
  Rng rng(99);
  std::vector<float> dout = rand_tensor(rng, {c.out_n}).f;
  auto [out_ref, din_ref] = run_case(c, ref, dout);
  auto [out_be, din_be] = run_case(c, *be, dout);
  const bool tf32 = c.matrix_product && target().tf32();
  const float tol = tf32 ? std::max(c.tol, kTF32Tolerance) : c.tol;
  auto floor = [&](const std::vector<float>& want) {
    return c.rms_floor || tf32 ? rms_floor(want.data(), (int64_t)want.size()) : 1.0f;
  };
  const std::string label = c.name + (tf32 ? " [tf32]" : "");
  validate_result(out_be.data(), out_ref.data(), label + " forward", c.out_n, tol, floor(out_ref));
  if (tf32 && c.routes_by_value) return;
  for (size_t i = 0; i < c.in.size(); i++)
    if (c.grad[i] != NoGrad)
      validate_result(din_be[i].data(), din_ref[i].data(), label + " backward d(in" + std::to_string(i) + ")",
                      (int64_t)din_ref[i].size(), tol, floor(din_ref[i]));

  // L = sum(out * dout), so dL/din is exactly what backward computed from dout
  std::vector<Tensor> in = c.in;
  std::vector<float> tmp(c.out_n);
  auto loss = [&]() {
    std::vector<const float*> ptr;
    for (auto& t : in) ptr.push_back(t.data());
    c.fwd(ref, ptr, tmp.data());
    double s = 0;
    for (int64_t k = 0; k < c.out_n; k++) s += (double)tmp[k] * dout[k];
    return s;
  };
  for (size_t i = 0; i < c.in.size(); i++)
    if (c.grad[i] != NoGrad)
      grad_check(label + " d(in" + std::to_string(i) + ")", in[i].f, din_be[i], loss, c.fd_eps, c.fd_tol);
}
inline void check_op(const OpCase& c) {
  guarded(c.name, [&] { check_op_unguarded(c); });
}

// --- Conv ---------------------------------------------------------------------
inline ConvParams conv_params(int N, int C, int H, int W, int OC, int KH, int KW, int s, int d,
                              const std::string& auto_pad, int pad) {
  ConvParams p{};
  p.N = N, p.C = C, p.H = H, p.W = W, p.OC = OC, p.KH = KH, p.KW = KW, p.sh = p.sw = s, p.dh = p.dw = d;
  int64_t pb = pad, pe = pad + (pad > 0 ? 1 : 0);  // asymmetric explicit pads when pad > 0
  p.OH = (int)window_out(H, KH, s, d, auto_pad, pb, pe);
  p.pt = (int)pb, p.pb = (int)pe;
  pb = pad, pe = pad;
  p.OW = (int)window_out(W, KW, s, d, auto_pad, pb, pe);
  p.pl = (int)pb, p.pr = (int)pe;
  return p;
}

inline void conv_case(Rng& rng, int N, int C, int H, int W, int OC, int KH, int KW, int s, int d,
                      const std::string& auto_pad, int pad, bool bias, bool relu = false, int G = 1) {
  ConvParams p = conv_params(N, C, H, W, OC, KH, KW, s, d, auto_pad, pad);
  p.G = G;
  char name[180];
  std::snprintf(name, sizeof name, "Conv N%d C%d %dx%d OC%d k%dx%d s%d d%d %s pad%d%s%s%s", N, C, H, W, OC, KH, KW,
                s, d, auto_pad.c_str(), pad, bias ? " bias" : "", relu ? " relu" : "",
                G > 1 ? (" group" + std::to_string(G)).c_str() : "");
  OpCase c{name,
           {rand_tensor(rng, {N, C, H, W}), rand_tensor(rng, {OC, C / G, KH, KW}), rand_tensor(rng, {OC})},
           {relu ? NoGrad : ActGrad, relu ? NoGrad : ParamGrad, bias && !relu ? ParamGrad : NoGrad},
           (int64_t)N * OC * p.OH * p.OW,
           [=](Backend& be, const std::vector<const float*>& in, float* out) {
             ConvParams q = p;
             q.relu = relu;
             be.conv2d_forward(out, in[0], in[1], bias ? in[2] : nullptr, q);
           },
           [=](Backend& be, const std::vector<const float*>& in, const float*, const float* dout,
               std::vector<float*>& din) { be.conv2d_backward(din[0], din[1], din[2], dout, in[0], in[1], p); }};
  c.matrix_product = true;
  check_op(c);
}

// Grouped convolutions (ONNX Conv's group): Keras's DepthwiseConv2D (G == C, with a depth
// multiplier OC / C), SeparableConv2D's first half, and Conv2D(groups=G).
inline void grouped_conv_cases() {
  Rng rng(21);  // its own stream: the cases after it keep theirs
  conv_case(rng, 2, 3, 7, 6, 3, 3, 3, 1, 1, "SAME_UPPER", 0, true, false, 3);    // depthwise
  conv_case(rng, 2, 4, 9, 8, 8, 3, 3, 2, 1, "SAME_UPPER", 0, true, false, 4);    // depth multiplier 2, stride 2
  conv_case(rng, 1, 6, 11, 10, 4, 3, 3, 1, 2, "VALID", 0, false, false, 2);      // two groups, dilated
  conv_case(rng, 2, 4, 8, 7, 6, 2, 3, 1, 1, "NOTSET", 1, true, false, 2);        // asymmetric pads, 3 per group
  conv_case(rng, 2, 16, 6, 6, 16, 3, 3, 1, 1, "SAME_UPPER", 0, true, false, 16); // oneDNN's depthwise kernels
  conv_case(rng, 2, 5, 6, 7, 5, 3, 3, 1, 1, "NOTSET", 0, true, true, 5);         // the fused Relu's forward
  conv_case(rng, 2, 3, 1, 12, 6, 1, 3, 1, 1, "SAME_UPPER", 0, true, false, 3);   // Conv1D (H == 1), depthwise
}

// --- pooling --------------------------------------------------------------------
inline void pool_case(Rng& rng, bool max, int N, int C, int H, int W, int K, int s, int d, const std::string& auto_pad,
                      int pad, bool include_pad) {
  PoolParams p{};
  p.N = N, p.C = C, p.H = H, p.W = W, p.KH = p.KW = K, p.sh = p.sw = s, p.dh = p.dw = d;
  p.count_include_pad = include_pad;
  int64_t b = pad, e = pad;
  p.OH = (int)window_out(H, K, s, d, auto_pad, b, e);
  p.pt = (int)b, p.pb = (int)e;
  b = pad, e = pad;
  p.OW = (int)window_out(W, K, s, d, auto_pad, b, e);
  p.pl = (int)b, p.pr = (int)e;
  // distinct values so every window has one clear maximum (finite differences need no ties)
  Tensor x({N, C, H, W});
  for (int64_t i = 0; i < x.size(); i++) x.f[i] = 0.01f * (float)((i * 7919) % x.size()) - 1.0f;
  char name[160];
  std::snprintf(name, sizeof name, "%s N%d C%d %dx%d k%d s%d d%d %s pad%d%s", max ? "MaxPool" : "AveragePool", N, C,
                H, W, K, s, d, auto_pad.c_str(), pad, include_pad ? " count_include_pad" : "");
  OpCase c{name, {x}, {ActGrad}, (int64_t)N * C * p.OH * p.OW,
           [=](Backend& be, const std::vector<const float*>& in, float* out) {
             if (max) be.maxpool2d_forward(out, in[0], p);
             else be.avgpool2d_forward(out, in[0], p);
           },
           [=](Backend& be, const std::vector<const float*>& in, const float*, const float* dout,
               std::vector<float*>& din) {
             if (max) be.maxpool2d_backward(din[0], dout, in[0], p);
             else be.avgpool2d_backward(din[0], dout, p);
           }};
  check_op(c);
}

// --- Gemm -------------------------------------------------------------------------
inline void gemm_case(Rng& rng, int M, int N, int K, bool ta, bool tb, float alpha = 1.0f) {
  char name[112];
  std::snprintf(name, sizeof name, "Gemm M%d N%d K%d ta%d tb%d alpha %g", M, N, K, ta, tb, alpha);
  // out = alpha op(A) op(B); the backward as GemmKernel computes it
  OpCase c{name, {rand_tensor(rng, {M, K}), rand_tensor(rng, {K, N})}, {ActGrad, ParamGrad}, (int64_t)M * N,
           [=](Backend& be, const std::vector<const float*>& in, float* out) {
             be.gemm(ta, tb, M, N, K, alpha, in[0], in[1], 0.0f, out);
           },
           [=](Backend& be, const std::vector<const float*>& in, const float*, const float* dout,
               std::vector<float*>& din) {
             // dA = alpha dout op(B)^T (stored as A is stored), dB += alpha op(A)^T dout
             if (!ta) be.gemm(false, !tb, M, K, N, alpha, dout, in[1], 0.0f, din[0]);
             else be.gemm(tb, true, K, M, N, alpha, in[1], dout, 0.0f, din[0]);
             if (!tb) be.gemm(!ta, false, K, N, M, alpha, in[0], dout, 1.0f, din[1]);
             else be.gemm(true, ta, N, K, M, alpha, dout, in[0], 1.0f, din[1]);
           }};
  c.matrix_product = true;
  check_op(c);
}

// --- BatchNormalization -----------------------------------------------------------
inline void bn_case(Rng& rng, int N, int C, int S, bool training) {
  float eps = 1e-3f;
  std::string name = std::string("BatchNormalization ") + (training ? "training" : "inference") + " N" +
                     std::to_string(N) + " C" + std::to_string(C) + " S" + std::to_string(S);
  Tensor mean = rand_tensor(rng, {C}, -0.5f, 0.5f), var = rand_tensor(rng, {C}, 0.5f, 2.0f);
  // inputs: x, scale, bias, and (no grads) the moving statistics inference uses
  OpCase c{name,
           {rand_tensor(rng, {N, C, S}, -2, 2), rand_tensor(rng, {C}, 0.5f, 1.5f), rand_tensor(rng, {C}), mean, var},
           {training ? ActGrad : NoGrad, training ? ParamGrad : NoGrad, training ? ParamGrad : NoGrad, NoGrad, NoGrad},
           (int64_t)N * C * S,
           [=](Backend& be, const std::vector<const float*>& in, float* out) {
             if (!training) return be.batchnorm_forward_infer(out, in[0], in[1], in[2], in[3], in[4], N, C, S, eps);
             Buffer m(be, C), v(be, C);
             be.batchnorm_forward_train(out, m.get(), v.get(), in[0], in[1], in[2], N, C, S, eps);
           },
           [=](Backend& be, const std::vector<const float*>& in, const float*, const float* dout,
               std::vector<float*>& din) {
             if (!training) return;
             Buffer m(be, C), v(be, C), y(be, (int64_t)N * C * S);
             be.batchnorm_forward_train(y.get(), m.get(), v.get(), in[0], in[1], in[2], N, C, S, eps);
             be.batchnorm_backward(din[0], din[1], din[2], dout, in[0], in[1], m.get(), v.get(), N, C, S, eps);
           }};
  check_op(c);
  if (!training) return;
  // the batch statistics themselves
  auto stats = [&](Backend& be) {
    Buffer x(be, c.in[0].f), s(be, c.in[1].f), b(be, c.in[2].f), y(be, (int64_t)N * C * S), m(be, C), v(be, C);
    be.batchnorm_forward_train(y.get(), m.get(), v.get(), x.get(), s.get(), b.get(), N, C, S, eps);
    return std::make_pair(m.download(), v.download());
  };
  ReferenceBackend ref;
  auto be = target().make();
  auto [m1, v1] = stats(ref);
  auto [m2, v2] = stats(*be);
  validate_result(m2.data(), m1.data(), name + " batch mean", C);
  validate_result(v2.data(), v1.data(), name + " batch variance", C);
}

// --- activations and softmax ---------------------------------------------------------
inline void act_case(Rng& rng, Act kind, const char* label, float alpha = 0, float gamma = 0, int64_t n = 257) {
  ActParams a{kind, alpha, gamma};
  OpCase c{label, {rand_away_from_zero(rng, {n})}, {ActGrad}, n,
           [=](Backend& be, const std::vector<const float*>& in, float* out) { be.act_forward(out, in[0], n, a); },
           [=](Backend& be, const std::vector<const float*>& in, const float* out, const float* dout,
               std::vector<float*>& din) { be.act_backward(din[0], dout, in[0], out, n, a); }};
  check_op(c);
}

// Sqrt (LayerNormalization's standard deviation): positive inputs, as a variance plus epsilon is.
inline void sqrt_case(Rng& rng, int64_t n = 257) {
  ActParams a{Act::Sqrt};
  OpCase c{"Sqrt", {rand_tensor(rng, {n}, 0.2f, 3.0f)}, {ActGrad}, n,
           [=](Backend& be, const std::vector<const float*>& in, float* out) { be.act_forward(out, in[0], n, a); },
           [=](Backend& be, const std::vector<const float*>& in, const float* out, const float* dout,
               std::vector<float*>& din) { be.act_backward(din[0], dout, in[0], out, n, a); }};
  check_op(c);
}

// Clip (Keras's ReLU(max_value)), ThresholdedRelu (ReLU(threshold)), Softplus, HardSigmoid:
// every kink is inside the inputs' range, none within the finite differences' step of an
// input (its own stream, so the cases after keep theirs).
inline void later_act_cases() {
  Rng rng(121);
  act_case(rng, Act::Clip, "Clip [0, 0.8] (ReLU max_value)", 0.0f, 0.8f);
  act_case(rng, Act::Clip, "Clip [-0.7, 0.6]", -0.7f, 0.6f);
  act_case(rng, Act::ThresholdedRelu, "ThresholdedRelu 0.5", 0.5f);
  act_case(rng, Act::Softplus, "Softplus");
  act_case(rng, Act::HardSigmoid, "HardSigmoid 0.5 0.5 (kinks at -1, 1)", 0.5f, 0.5f);
  sqrt_case(rng);
}

inline void softmax_case(Rng& rng, int64_t outer, int64_t K, int64_t inner, bool log = false) {
  OpCase c{std::string(log ? "LogSoftmax" : "Softmax") + " outer" + std::to_string(outer) + " K" + std::to_string(K) +
               " inner" + std::to_string(inner),
           {rand_tensor(rng, {outer, K, inner}, -3, 3)}, {ActGrad}, outer * K * inner,
           [=](Backend& be, const std::vector<const float*>& in, float* out) {
             be.softmax_forward(out, in[0], outer, K, inner, log);
           },
           [=](Backend& be, const std::vector<const float*>&, const float* out, const float* dout,
               std::vector<float*>& din) { be.softmax_backward(din[0], dout, out, outer, K, inner, log); }};
  check_op(c);
}

// --- LayerNormalization over rows of D, with and without the bias -----------------------------
inline void layer_norm_case(Rng& rng, int64_t rows, int64_t D, bool bias) {
  const float eps = 1e-3f;
  OpCase c{"LayerNormalization rows" + std::to_string(rows) + " D" + std::to_string(D) + (bias ? " bias" : ""),
           {rand_tensor(rng, {rows, D}, -2, 2), rand_tensor(rng, {D}, 0.5f, 1.5f), rand_tensor(rng, {D})},
           {ActGrad, ParamGrad, bias ? ParamGrad : NoGrad},
           rows * D,
           [=](Backend& be, const std::vector<const float*>& in, float* out) {
             Buffer m(be, rows), s(be, rows);
             be.layer_norm_forward(out, m.get(), s.get(), in[0], in[1], bias ? in[2] : nullptr, rows, D, eps);
           },
           [=](Backend& be, const std::vector<const float*>& in, const float*, const float* dout,
               std::vector<float*>& din) {
             Buffer m(be, rows), s(be, rows), y(be, rows * D);
             be.layer_norm_forward(y.get(), m.get(), s.get(), in[0], in[1], bias ? in[2] : nullptr, rows, D, eps);
             be.layer_norm_backward(din[0], din[1], bias ? din[2] : nullptr, dout, in[0], in[1], m.get(), s.get(), rows, D);
           }};
  check_op(c);
}

// --- Conv then MaxPool as one op (a fused pair), against the reference's whole-batch
// composition; the backward reads the state its training forward wrote.
inline void conv_maxpool_case(Rng& rng, int N, int C, int H, int OC, bool bias, bool relu) {
  ConvParams c{};
  c.N = N, c.C = C, c.H = c.W = H, c.OC = OC, c.KH = c.KW = 3, c.OH = c.OW = H - 2, c.sh = c.sw = c.dh = c.dw = 1;
  c.relu = relu;
  PoolParams p{};
  p.N = N, p.C = OC, p.H = p.W = H - 2, p.KH = p.KW = 2, p.sh = p.sw = 2, p.dh = p.dw = 1, p.OH = p.OW = (H - 2) / 2;
  char name[96];
  std::snprintf(name, sizeof name, "Conv+MaxPool N%d C%d %dx%d OC%d%s%s", N, C, H, H, OC, bias ? " bias" : "",
                relu ? " relu" : "");
  OpCase k{name,
           {rand_tensor(rng, {N, C, H, H}), rand_tensor(rng, {OC, C, 3, 3}), rand_tensor(rng, {OC})},
           {ActGrad, ParamGrad, bias ? ParamGrad : NoGrad},
           (int64_t)N * OC * p.OH * p.OW,
           [=](Backend& be, const std::vector<const float*>& in, float* out) {
             be.conv_maxpool_forward(out, in[0], in[1], bias ? in[2] : nullptr, c, p, nullptr);
           },
           [=](Backend& be, const std::vector<const float*>& in, const float*, const float* dout,
               std::vector<float*>& din) {
             Buffer state(be, be.conv_maxpool_state_size(c, p)), out(be, (int64_t)N * OC * p.OH * p.OW);
             be.conv_maxpool_forward(out.get(), in[0], in[1], bias ? in[2] : nullptr, c, p, state.get());
             be.conv_maxpool_backward(din[0], din[1], din[2], dout, out.get(), in[0], in[1], c, p, state.get());
           }};
  k.fd_eps = C <= 3 ? 1e-4f : 1e-3f;  // at 16 channels the float forward's rounding shows at 1e-4
  k.fd_tol = C <= 3 ? 3e-2f : 1e-2f;
  k.matrix_product = k.routes_by_value = true;
  check_op(k);
}

// --- broadcasting binaries, layout, gather, reduce, dropout ------------------------
inline void binary_case_of(Binary op, const char* label, Tensor a, Tensor b) {
  Shape as = a.shape, bs = b.shape, os = broadcast_shape(as, bs);
  OpCase c{std::string(label) + " " + shape_str(as) + " " + shape_str(bs), {std::move(a), std::move(b)},
           {ActGrad, ActGrad}, numel(os),
           [=](Backend& be, const std::vector<const float*>& in, float* out) {
             be.binary_forward(out, in[0], in[1], as, bs, os, op);
           },
           [=](Backend& be, const std::vector<const float*>& in, const float*, const float* dout,
               std::vector<float*>& din) { be.binary_backward(din[0], din[1], dout, in[0], in[1], as, bs, os, op); }};
  check_op(c);
}

inline void binary_case(Rng& rng, Binary op, const char* label, Shape as, Shape bs) {
  Tensor b = op == Binary::Div ? rand_tensor(rng, bs, 0.5f, 2.0f) : rand_tensor(rng, bs);
  binary_case_of(op, label, rand_tensor(rng, as), b);
}

// Max and Min: a on a grid of tenths and b on the grid shifted by 0.05, so no two compared
// values lie within the finite differences' step of a tie.
inline void extremum_case(Rng& rng, Binary op, const char* label, Shape as, Shape bs) {
  auto on_grid = [&](Shape s, float shift) {
    Tensor t = rand_tensor(rng, std::move(s), -2, 2);
    for (auto& v : t.f) v = std::round(v * 10) / 10 + shift;
    return t;
  };
  binary_case_of(op, label, on_grid(as, 0), on_grid(bs, 0.05f));
}

// Max and Min at ties (a == b everywhere, b broadcast along a's rows): the whole grad goes to a,
// none to b (TensorFlow's rule), on the backend under test.
inline void extremum_tie_case(Rng& rng, Binary op, const char* label) {
  Shape as{3, 4}, bs{4};
  Tensor b = rand_tensor(rng, bs), a(as);
  for (int64_t i = 0; i < numel(as); i++) a.f[i] = b.f[i % 4];
  Tensor dout = rand_tensor(rng, as);
  auto be = target().make();
  Buffer ad(*be, a.f), bd(*be, b.f), out(*be, numel(as)), dd(*be, dout.f), da(*be, numel(as)), db(*be, 4);
  be->binary_forward(out.get(), ad.get(), bd.get(), as, bs, as, op);
  be->binary_backward(da.get(), db.get(), dd.get(), ad.get(), bd.get(), as, bs, as, op);
  std::string name = std::string(label) + " at ties";
  validate_result(out.download().data(), a.f.data(), name + ": forward", numel(as), 0, 1);
  validate_result(da.download().data(), dout.f.data(), name + ": the first operand gets the whole grad", numel(as), 0, 1);
  std::vector<float> zeros(4, 0.0f);
  validate_result(db.download().data(), zeros.data(), name + ": the second gets none", 4, 0, 1);
}

// Both backends' Max and Min cases: broadcasts, a per-block grad sum, past the CPU backend's chunk, ties.
inline void extremum_cases() {
  Rng rng(31);
  extremum_case(rng, Binary::Max, "Max", {2, 3, 4}, {2, 3, 4});
  extremum_case(rng, Binary::Max, "Max", {2, 3, 4}, {3, 1});
  extremum_case(rng, Binary::Min, "Min", {1}, {5, 6});
  extremum_case(rng, Binary::Min, "Min", {4, 1, 5}, {3, 5});
  extremum_case(rng, Binary::Max, "Max", {300, 20}, {1, 20});  // the broadcast grad sums 300 terms: one block per element on a GPU
  extremum_case(rng, Binary::Min, "Min", {40, 999}, {40, 999});  // past one chunk of the CPU backend's threaded loop
  extremum_tie_case(rng, Binary::Max, "Max");
  extremum_tie_case(rng, Binary::Min, "Min");
}

inline void transpose_case(Rng& rng, Shape s, std::vector<int64_t> perm) {
  std::vector<int64_t> inv(perm.size());
  Shape os(s.size());
  for (size_t k = 0; k < perm.size(); k++) inv[perm[k]] = (int64_t)k, os[k] = s[perm[k]];
  OpCase c{"Transpose " + shape_str(s) + " perm " + shape_str(perm), {rand_tensor(rng, s)}, {ActGrad}, numel(s),
           [=](Backend& be, const std::vector<const float*>& in, float* out) { be.transpose(out, in[0], s, perm); },
           [=](Backend& be, const std::vector<const float*>&, const float*, const float* dout,
               std::vector<float*>& din) { be.transpose(din[0], dout, os, inv); }};
  check_op(c);
}

inline void concat_case(Rng& rng) {
  std::vector<int64_t> len{2, 3, 1};
  int64_t outer = 3, inner = 4;
  OpCase c{"Concat axis1 of (3,2|3|1,4)",
           {rand_tensor(rng, {outer, 2, inner}), rand_tensor(rng, {outer, 3, inner}), rand_tensor(rng, {outer, 1, inner})},
           {ActGrad, NoGrad, ActGrad}, outer * 6 * inner,  // an input without a grad is skipped
           [=](Backend& be, const std::vector<const float*>& in, float* out) {
             be.concat_forward(out, {in[0], in[1], in[2]}, len, outer, inner);
           },
           [=](Backend& be, const std::vector<const float*>&, const float*, const float* dout,
               std::vector<float*>& din) { be.concat_backward(din, dout, len, outer, inner); }};
  check_op(c);
}

// Pad (constant): a Keras ZeroPadding2D's NCHW pads, asymmetric; a value; a negative pad (a crop).
inline void pad_cases() {
  Rng rng(131);
  auto pad_case = [&](Shape in_shape, std::vector<int64_t> begin, std::vector<int64_t> end, PadMode mode, float value) {
    Shape out_shape(in_shape.size());
    for (size_t k = 0; k < in_shape.size(); k++) out_shape[k] = in_shape[k] + begin[k] + end[k];
    const char* names[] = {"constant", "reflect", "edge", "wrap"};
    OpCase c{std::string("Pad ") + names[(int)mode] + " " + shape_str(in_shape) + " begin " + shape_str(begin) + " end " +
                 shape_str(end),
             {rand_tensor(rng, in_shape)}, {ActGrad}, numel(out_shape),
             [=](Backend& be, const std::vector<const float*>& in, float* out) {
               be.pad_forward(out, in[0], in_shape, out_shape, begin, mode, value);
             },
             [=](Backend& be, const std::vector<const float*>&, const float*, const float* dout,
                 std::vector<float*>& din) { be.pad_backward(din[0], dout, in_shape, out_shape, begin, mode); }};
    check_op(c);
  };
  pad_case({2, 3, 5, 4}, {0, 0, 1, 2}, {0, 0, 2, 0}, PadMode::Constant, 0.0f);
  pad_case({3, 7}, {1, 0}, {0, 3}, PadMode::Constant, 0.5f);
  pad_case({2, 2, 6, 5}, {0, 0, -1, 1}, {0, 0, -2, 1}, PadMode::Constant, 0.0f);
  pad_case({4, 8, 30, 31}, {0, 0, 1, 0}, {0, 0, 1, 2}, PadMode::Constant, 0.0f);   // ZeroPadding2D, rows in threads
  pad_case({3, 5, 40, 41}, {0, 0, -3, -2}, {0, 0, -4, -5}, PadMode::Constant, 0.0f);  // a centre crop, rows in threads
  // the other modes: an element read by several outputs sums their grads
  for (PadMode mode : {PadMode::Reflect, PadMode::Edge, PadMode::Wrap}) {
    pad_case({2, 3, 5, 4}, {0, 0, 1, 2}, {0, 0, 2, 3}, mode, 0.0f);   // F.pad on H and W
    pad_case({3, 4}, {2, 0}, {1, 9}, mode, 0.0f);                     // pads longer than the axis
    pad_case({2, 6, 5}, {1, -2, 0}, {0, 1, -1}, mode, 0.0f);          // padding beside cropping
    pad_case({2, 1, 3}, {0, 2, 1}, {0, 1, 1}, mode, 0.0f);            // an axis of one element
    pad_case({2, 4, 70, 66}, {0, 0, 2, 3}, {0, 0, 1, 2}, mode, 0.0f);  // large enough for threads
  }
}

// Resize over NCHW's spatial axes: Keras's UpSampling2D (nearest: asymmetric + floor; bilinear:
// half_pixel), Resizing down and to odd sizes, PyTorch's align_corners and pytorch_half_pixel,
// nearest rounding both ways, and cubic (PyTorch's a = -0.75 with edge taps clamped,
// TensorFlow's a = -0.5 with exclude_outside) on axes shorter than its four taps (the backends'
// backward gathers, the reference's scatters).
inline void resize_cases() {
  Rng rng(137);
  auto resize_case = [&](int64_t planes, int64_t H, int64_t W, int64_t OH, int64_t OW, ResizeAxis axis, const char* what) {
    ResizeParams p;
    p.planes = planes;
    p.h = p.w = axis;
    p.h.in = H, p.h.out = OH, p.h.scale = (float)OH / (float)H, p.h.resized = (float)OH;
    p.w.in = W, p.w.out = OW, p.w.scale = (float)OW / (float)W, p.w.resized = (float)OW;
    OpCase c{std::string("Resize ") + what + " " + std::to_string(H) + "x" + std::to_string(W) + " -> " +
                 std::to_string(OH) + "x" + std::to_string(OW),
             {rand_tensor(rng, {planes, H, W})}, {ActGrad}, planes * OH * OW,
             [=](Backend& be, const std::vector<const float*>& in, float* out) { be.resize_forward(out, in[0], p); },
             [=](Backend& be, const std::vector<const float*>&, const float*, const float* dout,
                 std::vector<float*>& din) { be.resize_backward(din[0], dout, p); }};
    check_op(c);
  };
  using M = ResizeMode;
  using C = ResizeCoord;
  using R = NearestRound;
  auto axis = [](M mode, C coord, R round, float cubic_a = -0.75f, bool exclude_outside = false) {
    ResizeAxis a;
    a.mode = mode, a.coord = coord, a.round = round, a.cubic_a = cubic_a, a.exclude_outside = exclude_outside;
    return a;
  };
  resize_case(6, 3, 4, 6, 8, axis(M::Nearest, C::Asymmetric, R::Floor), "nearest asymmetric floor");
  resize_case(2, 3, 5, 9, 10, axis(M::Nearest, C::Asymmetric, R::Floor), "nearest asymmetric floor (3, 2)");
  resize_case(6, 3, 4, 6, 8, axis(M::Linear, C::HalfPixel, R::Floor), "linear half_pixel");
  resize_case(2, 4, 5, 12, 10, axis(M::Linear, C::HalfPixel, R::Floor), "linear half_pixel (3, 2)");
  resize_case(3, 7, 9, 3, 4, axis(M::Linear, C::HalfPixel, R::Floor), "linear half_pixel down");
  resize_case(3, 7, 9, 5, 13, axis(M::Nearest, C::HalfPixel, R::RoundPreferCeil), "nearest half_pixel round_prefer_ceil");
  resize_case(2, 4, 6, 7, 3, axis(M::Linear, C::AlignCorners, R::Floor), "linear align_corners");
  resize_case(2, 4, 6, 1, 9, axis(M::Linear, C::PytorchHalfPixel, R::Floor), "linear pytorch_half_pixel");
  resize_case(2, 5, 4, 8, 11, axis(M::Nearest, C::AlignCorners, R::RoundPreferFloor), "nearest align_corners round_prefer_floor");
  resize_case(2, 5, 4, 8, 11, axis(M::Nearest, C::HalfPixel, R::Ceil), "nearest half_pixel ceil");
  resize_case(3, 5, 7, 10, 9, axis(M::Cubic, C::HalfPixel, R::Floor), "cubic half_pixel a=-0.75");
  resize_case(2, 4, 6, 11, 5, axis(M::Cubic, C::AlignCorners, R::Floor), "cubic align_corners a=-0.75");
  resize_case(2, 6, 7, 4, 3, axis(M::Cubic, C::HalfPixel, R::Floor, -0.5f, true), "cubic half_pixel a=-0.5 exclude_outside down");
  resize_case(2, 2, 3, 7, 8, axis(M::Cubic, C::PytorchHalfPixel, R::Floor, -0.5f, true), "cubic pytorch_half_pixel exclude_outside (2x3)");
  resize_case(1, 1, 5, 3, 6, axis(M::Cubic, C::Asymmetric, R::Floor), "cubic asymmetric (one row)");
}

inline void gather_case(Rng& rng) {
  int64_t rows = 7, D = 5;
  std::vector<int64_t> idx{0, 3, 3, -1, 6, 2, 3};  // repeats must accumulate, -1 is the last row
  int64_t n = (int64_t)idx.size();
  OpCase c{"Gather rows7 D5 (repeated and negative indices)", {rand_tensor(rng, {rows, D})}, {ParamGrad}, n * D,
           [=](Backend& be, const std::vector<const float*>& in, float* out) {
             Buffer i = upload_indices(be, idx);
             be.gather_forward(out, in[0], reinterpret_cast<const int64_t*>(i.get()), n, rows, D);
           },
           [=](Backend& be, const std::vector<const float*>&, const float*, const float* dout,
               std::vector<float*>& din) {
             Buffer i = upload_indices(be, idx);
             be.gather_backward(din[0], dout, reinterpret_cast<const int64_t*>(i.get()), n, rows, D);
           }};
  check_op(c);
  // an index out of range is an error naming it, on every backend
  auto be = target().make();
  Buffer table(*be, rows * D), out(*be, D), bad = upload_indices(*be, {7});
  std::string msg;
  try {
    be->gather_forward(out.get(), table.get(), reinterpret_cast<const int64_t*>(bad.get()), 1, rows, D);
    be->sync();
  } catch (const Error& e) {
    msg = e.what();
  }
  expect(msg.find("Gather index 7 is out of range for 7 rows") != std::string::npos,
         target().backend + ": a Gather index out of range is named: " + msg);
}

inline void reduce_mean_case(Rng& rng, Shape s, Shape keep) {
  OpCase c{"ReduceMean " + shape_str(s) + " -> " + shape_str(keep), {rand_tensor(rng, s)}, {ActGrad}, numel(keep),
           [=](Backend& be, const std::vector<const float*>& in, float* out) {
             be.reduce_mean_forward(out, in[0], s, keep);
           },
           [=](Backend& be, const std::vector<const float*>&, const float*, const float* dout,
               std::vector<float*>& din) { be.reduce_mean_backward(din[0], dout, s, keep); }};
  check_op(c);
}

// The engine's Dropout masks are the same on every backend (the same seeded stream).
inline void dropout_case(Rng& rng, int64_t n = 300) {
  OpCase c{"Dropout ratio 0.3 (training) n" + std::to_string(n), {rand_tensor(rng, {n})}, {ActGrad}, n,
           [=](Backend& be, const std::vector<const float*>& in, float* out) {
             Buffer mask(be, n);
             be.dropout_forward(out, mask.get(), in[0], n, 0.3f, 42);
           },
           [=](Backend& be, const std::vector<const float*>& in, const float*, const float* dout,
               std::vector<float*>& din) {
             Buffer mask(be, n), out(be, n);
             be.dropout_forward(out.get(), mask.get(), in[0], n, 0.3f, 42);
             be.dropout_backward(din[0], dout, mask.get(), n);
           }};
  check_op(c);
}

}  // namespace strata_test
