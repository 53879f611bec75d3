// test_ops.cpp: every op's fast path (the oneDNN "cpu" backend) against its
// reference (plain loops), forward and backward, on random shapes and data; the
// gradient contract (activation grads =, parameter grads +=); and a
// finite-difference check of every backward.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <initializer_list>

#include "core/backend.h"
#include "core/ops/batchnorm.h"
#include "test_util.h"

using namespace strata;
using namespace strata_test;

enum GradKind { NoGrad = 0, ActGrad = 1, ParamGrad = 2 };

// One op under test: its float inputs, which of them get grads, and how to call it.
struct OpCase {
  std::string name;
  std::vector<Tensor> in;
  std::vector<GradKind> grad;
  int64_t out_n;
  std::function<void(Backend&, const std::vector<Tensor>&, float* out)> fwd;
  std::function<void(Backend&, const std::vector<Tensor>&, const float* out, const float* dout,
                     std::vector<float*>& din)> bwd;
  // Central differences' step. Max pooling's gradient jumps where a window's maximum changes
  // hands; with 1e-3 a few of the ~40 sampled weights of a few-channel convolution (each
  // moves every window of its channel) cross such a point, so those cases step 1e-4.
  float fd_eps = 1e-3f;
  // The fast backend against the reference (validate_result): relative beyond 1, or beyond
  // the reference's root mean square with rms_floor set.
  float tol = 1e-4f;
  bool rms_floor = false;
};

// helper_test_op: forward and backward of "cpu" vs "reference", then finite differences.
static void check_op(OpCase c) {
  ReferenceBackend ref;
  auto cpu = make_backend("cpu");
  Rng rng(99);
  std::vector<float> out_ref(c.out_n), out_cpu(c.out_n);
  c.fwd(ref, c.in, out_ref.data());
  c.fwd(*cpu, c.in, out_cpu.data());
  auto floor = [&](const std::vector<float>& want) {
    return c.rms_floor ? rms_floor(want.data(), (int64_t)want.size()) : 1.0f;
  };
  validate_result(out_cpu.data(), out_ref.data(), c.name + " forward", c.out_n, c.tol, floor(out_ref));

  Tensor dout = rand_tensor(rng, {c.out_n});
  std::vector<std::vector<float>> din_ref(c.in.size()), din_cpu(c.in.size());
  auto run_backward = [&](Backend& be, std::vector<std::vector<float>>& din, const std::vector<float>& out) {
    std::vector<float*> ptr(c.in.size(), nullptr);
    for (size_t i = 0; i < c.in.size(); i++) {
      if (c.grad[i] == NoGrad) continue;
      // activation grads must be overwritten (start from junk); parameter grads must
      // accumulate (start from 0.25, taken off again below)
      din[i].assign(c.in[i].f.size(), c.grad[i] == ActGrad ? 777.0f : 0.25f);
      ptr[i] = din[i].data();
    }
    c.bwd(be, c.in, out.data(), dout.data(), ptr);
    for (size_t i = 0; i < c.in.size(); i++)
      if (c.grad[i] == ParamGrad)
        for (auto& g : din[i]) g -= 0.25f;
  };
  run_backward(ref, din_ref, out_ref);
  run_backward(*cpu, din_cpu, out_cpu);
  for (size_t i = 0; i < c.in.size(); i++)
    if (c.grad[i] != NoGrad)
      validate_result(din_cpu[i].data(), din_ref[i].data(), c.name + " backward d(in" + std::to_string(i) + ")",
                      (int64_t)din_ref[i].size(), c.tol, floor(din_ref[i]));

  // L = sum(out * dout), so dL/din is exactly what backward computed from dout
  std::vector<Tensor> in = c.in;
  std::vector<float> tmp(c.out_n);
  auto loss = [&]() {
    c.fwd(ref, in, tmp.data());
    double s = 0;
    for (int64_t k = 0; k < c.out_n; k++) s += (double)tmp[k] * dout.f[k];
    return s;
  };
  for (size_t i = 0; i < c.in.size(); i++)
    if (c.grad[i] != NoGrad) grad_check(c.name + " d(in" + std::to_string(i) + ")", in[i].f, din_ref[i], loss, c.fd_eps);
}

// --- Conv ---------------------------------------------------------------------
static void conv_case(Rng& rng, int N, int C, int H, int W, int OC, int KH, int KW, int s, int d,
                      const std::string& auto_pad, int pad, bool bias) {
  ConvParams p{};
  p.N = N, p.C = C, p.H = H, p.W = W, p.OC = OC, p.KH = KH, p.KW = KW, p.sh = p.sw = s, p.dh = p.dw = d;
  int64_t pb = pad, pe = pad + (pad > 0 ? 1 : 0);  // asymmetric explicit pads when pad > 0
  p.OH = (int)window_out(H, KH, s, d, auto_pad, pb, pe);
  p.pt = (int)pb, p.pb = (int)pe;
  pb = pad, pe = pad;
  p.OW = (int)window_out(W, KW, s, d, auto_pad, pb, pe);
  p.pl = (int)pb, p.pr = (int)pe;
  char name[160];
  std::snprintf(name, sizeof name, "Conv N%d C%d %dx%d OC%d k%dx%d s%d d%d %s pad%d%s", N, C, H, W, OC, KH, KW, s, d,
                auto_pad.c_str(), pad, bias ? " bias" : "");
  OpCase c{name,
           {rand_tensor(rng, {N, C, H, W}), rand_tensor(rng, {OC, C, KH, KW}), rand_tensor(rng, {OC})},
           {ActGrad, ParamGrad, bias ? ParamGrad : NoGrad},
           (int64_t)N * OC * p.OH * p.OW,
           [=](Backend& be, const std::vector<Tensor>& in, float* out) {
             be.conv2d_forward(out, in[0].data(), in[1].data(), bias ? in[2].data() : nullptr, p);
           },
           [=](Backend& be, const std::vector<Tensor>& in, const float*, const float* dout, std::vector<float*>& din) {
             be.conv2d_backward(din[0], din[1], din[2], dout, in[0].data(), in[1].data(), p);
           }};
  check_op(c);
}

// --- pooling --------------------------------------------------------------------
static void pool_case(Rng& rng, bool max, int N, int C, int H, int W, int K, int s, int d, const std::string& auto_pad,
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
           [=](Backend& be, const std::vector<Tensor>& in, float* out) {
             if (max) be.maxpool2d_forward(out, in[0].data(), p); else be.avgpool2d_forward(out, in[0].data(), p);
           },
           [=](Backend& be, const std::vector<Tensor>& in, const float*, const float* dout, std::vector<float*>& din) {
             if (max) be.maxpool2d_backward(din[0], dout, in[0].data(), p); else be.avgpool2d_backward(din[0], dout, p);
           }};
  check_op(c);
}

// --- Gemm -------------------------------------------------------------------------
static void gemm_case(Rng& rng, int M, int N, int K, bool ta, bool tb) {
  char name[96];
  std::snprintf(name, sizeof name, "Gemm M%d N%d K%d ta%d tb%d", M, N, K, ta, tb);
  // out = op(A) op(B) + C (C broadcast as a bias row, added by the caller as Gemm does)
  OpCase c{name, {rand_tensor(rng, {M, K}), rand_tensor(rng, {K, N})}, {ActGrad, ParamGrad}, (int64_t)M * N,
           [=](Backend& be, const std::vector<Tensor>& in, float* out) {
             be.gemm(ta, tb, M, N, K, 1.0f, in[0].data(), in[1].data(), 0.0f, out);
           },
           [=](Backend& be, const std::vector<Tensor>& in, const float*, const float* dout, std::vector<float*>& din) {
             // dA = dout @ op(B)^T (stored as A is stored), dB += op(A)^T @ dout
             if (!ta) be.gemm(false, !tb, M, K, N, 1.0f, dout, in[1].data(), 0.0f, din[0]);
             else be.gemm(tb, true, K, M, N, 1.0f, in[1].data(), dout, 0.0f, din[0]);
             if (!tb) be.gemm(!ta, false, K, N, M, 1.0f, in[0].data(), dout, 1.0f, din[1]);
             else be.gemm(true, ta, N, K, M, 1.0f, dout, in[0].data(), 1.0f, din[1]);
           }};
  check_op(c);
}

// --- BatchNormalization -----------------------------------------------------------
static void bn_case(Rng& rng, int N, int C, int S, bool training) {
  float eps = 1e-3f;
  std::string name = std::string("BatchNormalization ") + (training ? "training" : "inference") + " N" +
                     std::to_string(N) + " C" + std::to_string(C) + " S" + std::to_string(S);
  Tensor mean = rand_tensor(rng, {C}, -0.5f, 0.5f), var = rand_tensor(rng, {C}, 0.5f, 2.0f);
  OpCase c{name,
           {rand_tensor(rng, {N, C, S}, -2, 2), rand_tensor(rng, {C}, 0.5f, 1.5f), rand_tensor(rng, {C})},
           {training ? ActGrad : NoGrad, training ? ParamGrad : NoGrad, training ? ParamGrad : NoGrad},
           (int64_t)N * C * S,
           [=](Backend& be, const std::vector<Tensor>& in, float* out) {
             if (!training) {
               be.batchnorm_forward_infer(out, in[0].data(), in[1].data(), in[2].data(), mean.data(), var.data(), N,
                                          C, S, eps);
               return;
             }
             std::vector<float> m(C), v(C);
             be.batchnorm_forward_train(out, m.data(), v.data(), in[0].data(), in[1].data(), in[2].data(), N, C, S,
                                        eps);
           },
           [=](Backend& be, const std::vector<Tensor>& in, const float*, const float* dout, std::vector<float*>& din) {
             if (!training) return;
             std::vector<float> m(C), v(C), y((size_t)N * C * S);
             be.batchnorm_forward_train(y.data(), m.data(), v.data(), in[0].data(), in[1].data(), in[2].data(), N,
                                        C, S, eps);
             be.batchnorm_backward(din[0], din[1], din[2], dout, in[0].data(), in[1].data(), m.data(), v.data(), N,
                                   C, S, eps);
           }};
  check_op(c);
  if (training) {  // the batch statistics themselves
    ReferenceBackend ref;
    auto cpu = make_backend("cpu");
    std::vector<float> y((size_t)N * C * S), m1(C), v1(C), m2(C), v2(C);
    ref.batchnorm_forward_train(y.data(), m1.data(), v1.data(), c.in[0].data(), c.in[1].data(), c.in[2].data(), N,
                                C, S, eps);
    cpu->batchnorm_forward_train(y.data(), m2.data(), v2.data(), c.in[0].data(), c.in[1].data(), c.in[2].data(), N,
                                 C, S, eps);
    validate_result(m2.data(), m1.data(), name + " batch mean", C);
    validate_result(v2.data(), v1.data(), name + " batch variance", C);
  }
}

// --- activations and softmax ---------------------------------------------------------
static void act_case(Rng& rng, Act kind, const char* label, float alpha = 0, float gamma = 0) {
  ActParams a{kind, alpha, gamma};
  int64_t n = 257;
  OpCase c{label, {rand_away_from_zero(rng, {n})}, {ActGrad}, n,
           [=](Backend& be, const std::vector<Tensor>& in, float* out) { be.act_forward(out, in[0].data(), n, a); },
           [=](Backend& be, const std::vector<Tensor>& in, const float* out, const float* dout,
               std::vector<float*>& din) { be.act_backward(din[0], dout, in[0].data(), out, n, a); }};
  check_op(c);
}

static void softmax_case(Rng& rng, int64_t outer, int64_t K, int64_t inner) {
  OpCase c{"Softmax outer" + std::to_string(outer) + " K" + std::to_string(K) + " inner" + std::to_string(inner),
           {rand_tensor(rng, {outer, K, inner}, -3, 3)}, {ActGrad}, outer * K * inner,
           [=](Backend& be, const std::vector<Tensor>& in, float* out) {
             be.softmax_forward(out, in[0].data(), outer, K, inner);
           },
           [=](Backend& be, const std::vector<Tensor>&, const float* out, const float* dout, std::vector<float*>& din) {
             be.softmax_backward(din[0], dout, out, outer, K, inner);
           }};
  check_op(c);
}

// --- Conv then MaxPool as one op (a fused pair): the CPU backend's slices of the batch
// (main sets them to 2 images here, so 5 images run as 2 + 2 + 1) against the reference's
// whole-batch composition; the backward reads the state its training forward wrote.
static void conv_maxpool_case(Rng& rng, int N, int C, int H, int OC, bool bias, bool relu) {
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
           [=](Backend& be, const std::vector<Tensor>& in, float* out) {
             be.conv_maxpool_forward(out, in[0].data(), in[1].data(), bias ? in[2].data() : nullptr, c, p, nullptr);
           },
           [=](Backend& be, const std::vector<Tensor>& in, const float*, const float* dout, std::vector<float*>& din) {
             std::vector<float> state(be.conv_maxpool_state_size(c, p)), out((size_t)N * OC * p.OH * p.OW);
             be.conv_maxpool_forward(out.data(), in[0].data(), in[1].data(), bias ? in[2].data() : nullptr, c, p,
                                     state.data());
             be.conv_maxpool_backward(din[0], din[1], din[2], dout, out.data(), in[0].data(), in[1].data(), c, p,
                                      state.data());
           }};
  k.fd_eps = C <= 3 ? 1e-4f : 1e-3f;  // at 16 channels the float forward's rounding shows at 1e-4
  check_op(k);
}

// nChw<B>c <-> NCHW, plain loops (C a multiple of B)
static std::vector<float> blocked_from_plain(const float* x, int N, int C, int S, int B) {
  std::vector<float> b((size_t)N * C * S);
  for (int n = 0; n < N; n++)
    for (int ch = 0; ch < C; ch++)
      for (int s = 0; s < S; s++) b[(((size_t)n * (C / B) + ch / B) * S + s) * B + ch % B] = x[((size_t)n * C + ch) * S + s];
  return b;
}
// Whether the backend can hold activations of these channel counts blocked (whole blocks).
static bool in_blocks(const Backend& be, std::initializer_list<int> channels) {
  int B = be.channel_block();
  if (B <= 0) return false;
  for (int c : channels)
    if (c % B != 0) return false;
  return true;
}
static void plain_from_blocked(float* x, const std::vector<float>& b, int N, int C, int S, int B) {
  for (int n = 0; n < N; n++)
    for (int ch = 0; ch < C; ch++)
      for (int s = 0; s < S; s++) x[((size_t)n * C + ch) * S + s] = b[(((size_t)n * (C / B) + ch / B) * S + s) * B + ch % B];
}

// A convolution with its input and output in the CPU backend's blocked layout, as the session
// plans it between layers (on AVX2 machines the 3x3 ones run our Winograd kernel,
// conv3x3_winograd.h), against the reference on plain NCHW; pad > 0: pads of pad top and
// left, pad + 1 bottom and right. The fused Relu is checked on the forward.
static void conv_blocked_case(Rng& rng, int N, int C, int H, int W, int OC, int pad, bool bias) {
  ConvParams p{};
  p.N = N, p.C = C, p.H = H, p.W = W, p.OC = OC, p.KH = p.KW = 3, p.sh = p.sw = p.dh = p.dw = 1;
  p.pt = p.pl = pad, p.pb = p.pr = pad > 0 ? pad + 1 : 0;
  p.OH = H + p.pt + p.pb - 2, p.OW = W + p.pl + p.pr - 2;
  const int S = p.OH * p.OW;
  auto blocked = [=](Backend& be) { return in_blocks(be, {C, OC}); };
  auto forward = [=](Backend& be, const std::vector<Tensor>& in, float* out, bool relu) {
    ConvParams q = p;
    q.relu = relu;
    const float* b = bias ? in[2].data() : nullptr;
    if (!blocked(be)) return be.conv2d_forward(out, in[0].data(), in[1].data(), b, q);
    const int B = be.channel_block();
    q.src_blocked = q.dst_blocked = true;
    std::vector<float> x = blocked_from_plain(in[0].data(), N, C, H * W, B), o((size_t)N * OC * S);
    be.conv2d_forward(o.data(), x.data(), in[1].data(), b, q);
    plain_from_blocked(out, o, N, OC, S, B);
  };
  char name[112];
  std::snprintf(name, sizeof name, "Conv blocked N%d C%d %dx%d OC%d pad%d%s", N, C, H, W, OC, pad, bias ? " bias" : "");
  OpCase k{name,
           {rand_tensor(rng, {N, C, H, W}), rand_tensor(rng, {OC, C, 3, 3}), rand_tensor(rng, {OC})},
           {ActGrad, ParamGrad, bias ? ParamGrad : NoGrad},
           (int64_t)N * OC * S,
           [=](Backend& be, const std::vector<Tensor>& in, float* out) { forward(be, in, out, false); },
           [=](Backend& be, const std::vector<Tensor>& in, const float*, const float* dout, std::vector<float*>& din) {
             if (!blocked(be)) return be.conv2d_backward(din[0], din[1], din[2], dout, in[0].data(), in[1].data(), p);
             const int B = be.channel_block();
             ConvParams q = p;
             q.src_blocked = q.dst_blocked = true;
             std::vector<float> x = blocked_from_plain(in[0].data(), N, C, H * W, B);
             std::vector<float> d = blocked_from_plain(dout, N, OC, S, B), dx(x.size());
             be.conv2d_backward(din[0] ? dx.data() : nullptr, din[1], din[2], d.data(), x.data(), in[1].data(), q);
             if (din[0]) plain_from_blocked(din[0], dx, N, C, H * W, B);
           }};
  // F(4x4, 3x3) scales a tile's values by up to 8 x 8 between the channel sums and the output,
  // so its rounding follows the magnitude of the terms summed, not of one result: 1.1e-4 at
  // outputs below 1 with 64 channels in (9x9, batch 5; the outputs' RMS is about 8), 2.6e-4
  // at 1.08 with 128 (RMS about 11). Relative to the RMS these are 1e-5 to 2e-5.
  k.rms_floor = true;
  check_op(k);
  ReferenceBackend ref;
  auto cpu = make_backend("cpu");
  std::vector<float> want((size_t)N * OC * S), got(want.size());
  forward(ref, k.in, want.data(), true);
  forward(*cpu, k.in, got.data(), true);
  validate_result(got.data(), want.data(), std::string(name) + " relu forward", (int64_t)want.size(), k.tol,
                  rms_floor(want.data(), (int64_t)want.size()));
}

// Conv + MaxPool with its output in the blocked layout, as the session plans it, against the
// reference on plain NCHW: on the CPU backend, the direct kernel (conv_pool_direct.h) for 1-3
// input channels, and oneDNN's convolution with our 2x2 pooling for more. Odd convolution
// outputs leave a row and a column unpooled.
static void conv_maxpool_blocked_case(Rng& rng, int N, int C, int H, int OC, bool bias, bool input_grad, bool relu) {
  ConvParams c{};
  c.N = N, c.C = C, c.H = c.W = H, c.OC = OC, c.KH = c.KW = 3, c.OH = c.OW = H - 2, c.sh = c.sw = c.dh = c.dw = 1;
  c.relu = relu;
  PoolParams p{};
  p.N = N, p.C = OC, p.H = p.W = H - 2, p.KH = p.KW = 2, p.sh = p.sw = 2, p.dh = p.dw = 1, p.OH = p.OW = (H - 2) / 2;
  const int S = p.OH * p.OW;
  auto layout = [=](Backend& be) {
    ConvParams cb = c;
    PoolParams pb = p;
    cb.dst_blocked = pb.blocked = in_blocks(be, {OC});
    return std::make_pair(cb, pb);
  };
  char name[112];
  std::snprintf(name, sizeof name, "Conv+MaxPool blocked N%d C%d %dx%d OC%d%s%s%s", N, C, H, H, OC,
                bias ? " bias" : "", input_grad ? " dinp" : "", relu ? " relu" : "");
  OpCase k{name,
           {rand_tensor(rng, {N, C, H, H}), rand_tensor(rng, {OC, C, 3, 3}), rand_tensor(rng, {OC})},
           {input_grad ? ActGrad : NoGrad, ParamGrad, bias ? ParamGrad : NoGrad},
           (int64_t)N * OC * S,
           [=](Backend& be, const std::vector<Tensor>& in, float* out) {
             auto [cb, pb] = layout(be);
             std::vector<float> o((size_t)N * OC * S);
             be.conv_maxpool_forward(o.data(), in[0].data(), in[1].data(), bias ? in[2].data() : nullptr, cb, pb, nullptr);
             if (cb.dst_blocked) plain_from_blocked(out, o, N, OC, S, be.channel_block());
             else std::copy(o.begin(), o.end(), out);
           },
           [=](Backend& be, const std::vector<Tensor>& in, const float*, const float* dout, std::vector<float*>& din) {
             auto [cb, pb] = layout(be);
             std::vector<float> state(be.conv_maxpool_state_size(cb, pb)), out((size_t)N * OC * S);
             be.conv_maxpool_forward(out.data(), in[0].data(), in[1].data(), bias ? in[2].data() : nullptr, cb, pb,
                                     state.data());
             std::vector<float> d = cb.dst_blocked ? blocked_from_plain(dout, N, OC, S, be.channel_block()) : std::vector<float>(dout, dout + out.size());
             be.conv_maxpool_backward(din[0], din[1], din[2], d.data(), out.data(), in[0].data(), in[1].data(), cb, pb,
                                      state.data());
           }};
  k.fd_eps = C <= 3 ? 1e-4f : 1e-3f;
  check_op(k);
}

// --- broadcasting binaries, layout, gather, reduce, dropout ------------------------
static void binary_case(Rng& rng, Binary op, const char* label, Shape as, Shape bs) {
  Shape os = broadcast_shape(as, bs);
  Tensor b = op == Binary::Div ? rand_tensor(rng, bs, 0.5f, 2.0f) : rand_tensor(rng, bs);
  OpCase c{std::string(label) + " " + shape_str(as) + " " + shape_str(bs), {rand_tensor(rng, as), b},
           {ActGrad, ActGrad}, numel(os),
           [=](Backend& be, const std::vector<Tensor>& in, float* out) {
             be.binary_forward(out, in[0].data(), in[1].data(), as, bs, os, op);
           },
           [=](Backend& be, const std::vector<Tensor>& in, const float*, const float* dout, std::vector<float*>& din) {
             be.binary_backward(din[0], din[1], dout, in[0].data(), in[1].data(), as, bs, os, op);
           }};
  check_op(c);
}

static void transpose_case(Rng& rng, Shape s, std::vector<int64_t> perm) {
  std::vector<int64_t> inv(perm.size());
  Shape os(s.size());
  for (size_t k = 0; k < perm.size(); k++) inv[perm[k]] = (int64_t)k, os[k] = s[perm[k]];
  OpCase c{"Transpose " + shape_str(s) + " perm " + shape_str(perm), {rand_tensor(rng, s)}, {ActGrad}, numel(s),
           [=](Backend& be, const std::vector<Tensor>& in, float* out) { be.transpose(out, in[0].data(), s, perm); },
           [=](Backend& be, const std::vector<Tensor>&, const float*, const float* dout, std::vector<float*>& din) {
             be.transpose(din[0], dout, os, inv);
           }};
  check_op(c);
}

static void concat_case(Rng& rng) {
  std::vector<int64_t> len{2, 3, 1};
  int64_t outer = 3, inner = 4;
  OpCase c{"Concat axis1 of (3,2|3|1,4)",
           {rand_tensor(rng, {outer, 2, inner}), rand_tensor(rng, {outer, 3, inner}), rand_tensor(rng, {outer, 1, inner})},
           {ActGrad, ActGrad, ActGrad}, outer * 6 * inner,
           [=](Backend& be, const std::vector<Tensor>& in, float* out) {
             be.concat_forward(out, {in[0].data(), in[1].data(), in[2].data()}, len, outer, inner);
           },
           [=](Backend& be, const std::vector<Tensor>&, const float*, const float* dout, std::vector<float*>& din) {
             be.concat_backward(din, dout, len, outer, inner);
           }};
  check_op(c);
}

static void gather_case(Rng& rng) {
  int64_t rows = 7, D = 5;
  std::vector<int64_t> idx{0, 3, 3, -1, 6, 2, 3};  // repeats must accumulate, -1 is the last row
  int64_t n = (int64_t)idx.size();
  OpCase c{"Gather rows7 D5 (repeated and negative indices)", {rand_tensor(rng, {rows, D})}, {ParamGrad}, n * D,
           [=](Backend& be, const std::vector<Tensor>& in, float* out) {
             be.gather_forward(out, in[0].data(), idx.data(), n, rows, D);
           },
           [=](Backend& be, const std::vector<Tensor>&, const float*, const float* dout, std::vector<float*>& din) {
             be.gather_backward(din[0], dout, idx.data(), n, rows, D);
           }};
  check_op(c);
}

static void reduce_mean_case(Rng& rng, Shape s, Shape keep) {
  OpCase c{"ReduceMean " + shape_str(s) + " -> " + shape_str(keep), {rand_tensor(rng, s)}, {ActGrad}, numel(keep),
           [=](Backend& be, const std::vector<Tensor>& in, float* out) {
             be.reduce_mean_forward(out, in[0].data(), s, keep);
           },
           [=](Backend& be, const std::vector<Tensor>&, const float*, const float* dout, std::vector<float*>& din) {
             be.reduce_mean_backward(din[0], dout, s, keep);
           }};
  check_op(c);
}

static void dropout_case(Rng& rng) {
  int64_t n = 300;
  OpCase c{"Dropout ratio 0.3 (training)", {rand_tensor(rng, {n})}, {ActGrad}, n,
           [=](Backend& be, const std::vector<Tensor>& in, float* out) {
             std::vector<float> mask(n);
             be.dropout_forward(out, mask.data(), in[0].data(), n, 0.3f, 42);
           },
           [=](Backend& be, const std::vector<Tensor>& in, const float*, const float* dout, std::vector<float*>& din) {
             std::vector<float> mask(n), out(n);
             be.dropout_forward(out.data(), mask.data(), in[0].data(), n, 0.3f, 42);
             be.dropout_backward(din[0], dout, mask.data(), n);
           }};
  check_op(c);
  // the mask drops about the ratio and scales the rest by 1/(1-ratio)
  std::vector<float> mask(10000), out(10000), x(10000, 1.0f);
  ReferenceBackend ref;
  ref.dropout_forward(out.data(), mask.data(), x.data(), 10000, 0.3f, 7);
  int zeros = 0;
  for (float m : mask) zeros += m == 0;
  expect(zeros > 2700 && zeros < 3300, "Dropout drops ~30% (dropped " + std::to_string(zeros) + " of 10000)");
  expect(std::fabs(out[mask[0] == 0 ? 1 : 0] - 1 / 0.7f) < 1e-6 || mask[0] == 0, "Dropout scales kept values");
}

int main() {
  setenv("STRATA_CONV_POOL_SLICE_BYTES", "8192", 1);  // 2 images of conv_maxpool_case's 16x8x8 outputs
  Rng rng(2024);
  // test_ops_avx2 (ctest) caps oneDNN to AVX2: the backend's blocked layout must follow, else
  // that run would test the AVX-512 path a second time.
  if (const char* isa = std::getenv("ONEDNN_MAX_CPU_ISA"); isa && std::strcmp(isa, "AVX2") == 0)
    expect(make_backend("cpu")->channel_block() == 8, "ONEDNN_MAX_CPU_ISA=AVX2 gives the CPU backend nChw8c");
  // Conv: strides, explicit asymmetric pads, SAME_UPPER (Keras "same"), VALID, dilations, Conv1D (H = 1)
  conv_case(rng, 2, 3, 7, 6, 4, 3, 3, 1, 1, "NOTSET", 0, true);
  conv_case(rng, 2, 3, 8, 9, 5, 3, 3, 2, 1, "SAME_UPPER", 0, true);
  conv_case(rng, 1, 2, 9, 9, 3, 3, 2, 2, 2, "NOTSET", 1, false);
  conv_case(rng, 2, 4, 10, 8, 3, 5, 5, 1, 1, "SAME_UPPER", 0, false);
  conv_case(rng, 1, 3, 11, 10, 2, 3, 3, 3, 2, "VALID", 0, true);
  conv_case(rng, 2, 3, 1, 12, 4, 1, 3, 1, 1, "SAME_UPPER", 0, true);
  // 16+ channels in and out, 3x3, stride 1: the oneDNN backend runs these as Winograd
  conv_case(rng, 2, 16, 9, 10, 16, 3, 3, 1, 1, "NOTSET", 0, true);
  conv_case(rng, 1, 32, 8, 8, 16, 3, 3, 1, 1, "SAME_UPPER", 0, false);
  // random geometries: any stride, dilation, explicit or SAME_UPPER/VALID padding
  const char* pads[] = {"NOTSET", "SAME_UPPER", "VALID"};
  for (int t = 0; t < 10; t++) {
    int K = 1 + (int)(rng.next() % 4), d = 1 + (int)(rng.next() % 2), s = 1 + (int)(rng.next() % 3);
    int H = (K - 1) * d + 1 + (int)(rng.next() % 6), W = (K - 1) * d + 1 + (int)(rng.next() % 6);
    conv_case(rng, 1 + (int)(rng.next() % 3), 1 + (int)(rng.next() % 4), H, W, 1 + (int)(rng.next() % 5), K, K, s, d,
              pads[rng.next() % 3], (int)(rng.next() % 2), rng.next() % 2);
    int PK = 1 + (int)(rng.next() % 3);
    pool_case(rng, rng.next() % 2, 1 + (int)(rng.next() % 2), 1 + (int)(rng.next() % 3), PK + 2 + (int)(rng.next() % 5),
              PK + 2 + (int)(rng.next() % 5), PK, 1 + (int)(rng.next() % 2), 1, pads[rng.next() % 3],
              PK > 1 ? (int)(rng.next() % 2) : 0, rng.next() % 2);
  }
  // pooling
  pool_case(rng, true, 2, 3, 8, 8, 2, 2, 1, "NOTSET", 0, false);
  pool_case(rng, true, 1, 2, 7, 7, 3, 2, 1, "SAME_UPPER", 0, false);
  pool_case(rng, true, 1, 2, 9, 9, 2, 1, 2, "NOTSET", 1, false);
  pool_case(rng, false, 2, 3, 8, 8, 2, 2, 1, "NOTSET", 0, false);
  pool_case(rng, false, 1, 2, 7, 7, 3, 2, 1, "SAME_UPPER", 0, false);
  pool_case(rng, false, 1, 2, 7, 7, 3, 2, 1, "NOTSET", 1, true);
  pool_case(rng, false, 2, 3, 5, 6, 5, 1, 1, "NOTSET", 0, false);  // a GlobalAveragePool-sized window (5 of 5)
  // gemm
  for (int ta = 0; ta < 2; ta++)
    for (int tb = 0; tb < 2; tb++) gemm_case(rng, 5, 7, 6, ta, tb);
  gemm_case(rng, 33, 17, 65, false, false);
  for (int t = 0; t < 6; t++)  // random sizes and transposes
    gemm_case(rng, 1 + (int)(rng.next() % 40), 1 + (int)(rng.next() % 40), 1 + (int)(rng.next() % 70), rng.next() % 2,
              rng.next() % 2);
  // batch normalization
  bn_case(rng, 4, 3, 5, true);
  bn_case(rng, 8, 2, 1, true);  // Dense-style (N, C)
  bn_case(rng, 2, 3, 6, false);
  for (int t = 0; t < 4; t++)
    bn_case(rng, 2 + (int)(rng.next() % 7), 1 + (int)(rng.next() % 6), 1 + (int)(rng.next() % 20), rng.next() % 2);
  // activations (ONNX defaults: LeakyRelu 0.01, Elu 1.0, Selu 1.67326, 1.0507)
  act_case(rng, Act::Relu, "Relu");
  act_case(rng, Act::LeakyRelu, "LeakyRelu", 0.2f);
  act_case(rng, Act::Elu, "Elu", 1.0f);
  act_case(rng, Act::Selu, "Selu", 1.67326319217681884765625f, 1.05070102214813232421875f);
  act_case(rng, Act::Sigmoid, "Sigmoid");
  act_case(rng, Act::Tanh, "Tanh");
  act_case(rng, Act::Gelu, "Gelu");
  act_case(rng, Act::GeluTanh, "Gelu tanh");
  act_case(rng, Act::Erf, "Erf");
  softmax_case(rng, 4, 10, 1);
  softmax_case(rng, 2, 5, 3);
  // the rest
  // with the fused Relu (relu: the last argument), its backward applied inside the backward
  conv_maxpool_case(rng, 5, 3, 10, 16, true, false);
  conv_maxpool_case(rng, 4, 16, 10, 16, false, true);  // Winograd's shape class
  conv_maxpool_case(rng, 3, 1, 13, 32, true, true);
  conv_maxpool_case(rng, 2, 3, 10, 16, false, false);
  conv_maxpool_blocked_case(rng, 3, 1, 13, 32, true, false, true);  // 11x11 -> 5x5
  conv_maxpool_blocked_case(rng, 2, 3, 10, 16, false, false, false);
  conv_maxpool_blocked_case(rng, 2, 3, 9, 16, true, true, true);  // 7x7 -> 3x3; the input's grad too
  conv_maxpool_blocked_case(rng, 5, 2, 8, 16, true, true, false);  // several slices (8192 bytes: 2 images)
  conv_maxpool_blocked_case(rng, 5, 2, 8, 16, true, true, true);
  conv_maxpool_blocked_case(rng, 3, 16, 9, 16, true, true, true);  // oneDNN's convolution, our pooling
  conv_maxpool_blocked_case(rng, 3, 16, 9, 16, true, true, false);
  conv_maxpool_blocked_case(rng, 2, 8, 12, 32, false, false, true);
  conv_maxpool_blocked_case(rng, 2, 3, 10, 24, true, true, false);  // blocked in nChw8c only
  conv_blocked_case(rng, 2, 16, 9, 9, 16, 0, true);   // 7x7: the last tiles half outside
  conv_blocked_case(rng, 3, 16, 8, 10, 24, 1, false);  // pads 1 and 2; nChw8c only
  conv_blocked_case(rng, 2, 32, 13, 13, 64, 0, true);  // the 28x28 seed CNN's second convolution
  conv_blocked_case(rng, 1, 16, 22, 21, 16, 1, false);  // an input grad of 20x20 or more: 4x4 tiles
  conv_blocked_case(rng, 1, 24, 5, 6, 40, 2, true);    // pads 2 and 3: oneDNN's (ours takes up to 2)
  conv_blocked_case(rng, 2, 32, 21, 20, 32, 1, true);  // 32 channels: 2 vectors with AVX-512 (kRows2 x 2)
  conv_blocked_case(rng, 1, 16, 9, 8, 48, 0, false);   // 48 output channels: 3 vectors with AVX-512
  conv_blocked_case(rng, 1, 64, 7, 6, 128, 1, true);   // 36 x 64 x 128 transformed weights: 64-tile chunks
  conv_blocked_case(rng, 1, 128, 6, 6, 144, 0, false); // past 128 x 128: oneDNN's with AVX-512, ours with AVX2
  // the weight grads' one shared sum (sums_shared) instead of partial sums per thread
  setenv("STRATA_WINOGRAD_PARTIALS_BYTES", "0", 1);
  conv_blocked_case(rng, 5, 64, 9, 9, 32, 1, true);    // 45 tiles: rounds; 64 rows of dU: 2 row blocks
  conv_blocked_case(rng, 2, 32, 13, 13, 64, 0, false);
  unsetenv("STRATA_WINOGRAD_PARTIALS_BYTES");
  binary_case(rng, Binary::Add, "Add", {4, 3}, {3});
  binary_case(rng, Binary::Add, "Add", {2, 3, 4}, {2, 1, 4});
  binary_case(rng, Binary::Sub, "Sub", {3, 1}, {1, 4});
  binary_case(rng, Binary::Mul, "Mul", {2, 3, 4}, {2, 3, 4});
  binary_case(rng, Binary::Mul, "Mul", {2, 3, 4}, {1});
  binary_case(rng, Binary::Div, "Div", {2, 3}, {2, 3});
  // past one chunk of the CPU backend's threaded loops: scalar, same-shape and row operands
  binary_case(rng, Binary::Mul, "Mul", {64, 28, 28}, {1});
  binary_case(rng, Binary::Sub, "Sub", {1}, {50, 1000});
  binary_case(rng, Binary::Add, "Add", {50, 1000}, {50, 1000});
  binary_case(rng, Binary::Add, "Add", {70, 1000}, {1, 1000});
  binary_case(rng, Binary::Div, "Div", {40, 999}, {999});
  transpose_case(rng, {2, 3, 4}, {2, 0, 1});
  transpose_case(rng, {2, 3, 4, 5}, {0, 2, 3, 1});  // NCHW -> NHWC
  concat_case(rng);
  gather_case(rng);
  reduce_mean_case(rng, {2, 5, 3}, {2, 1, 3});  // GlobalAveragePooling1D over the steps axis
  reduce_mean_case(rng, {2, 3, 4}, {1, 1, 1});
  dropout_case(rng);
  return finish("test_ops");
}
