// dnnl_backend.cpp: the CPU backend. oneDNN for convolution, pooling, matrix
// products and batch normalization, forward and backward; everything else is the
// reference loop (inherited from ReferenceBackend).
//
// Plans (primitives, buffers) are built once per geometry and thread count; oneDNN
// picks its layouts (format_tag::any); activations may arrive in its blocked layout
// (nChw16c or nChw8c, planned by the session); Relu fuses into the convolution as a post-op;
// dense 3x3 convolutions with 16+ channels use Winograd. See native/README.md,
// Performance.
#include <omp.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <dnnl.hpp>
#include <map>
#include <vector>

#include "../core/backend.h"
#include "../core/check.h"
#include "../core/threads.h"
#include "../core/ops/batchnorm.h"
#include "../core/ops/softmax.h"
#include "conv3x3_winograd.h"
#include "conv_pool_direct.h"
#include "fast_act.h"
#include "layer_norm_cpu.h"
#include "pad_cpu.h"
#include "recurrent_cpu.h"

namespace strata {

using dnnl::memory;
using tag = dnnl::memory::format_tag;
using dt = dnnl::memory::data_type;

// A float's bits, for plan keys made of ints (a fused Clip's bounds).
static int float_bits(float f) {
  int i;
  std::memcpy(&i, &f, sizeof i);
  return i;
}

// Every oneDNN call goes through here so an error names the op, file and line.
#define STRATA_DNNL_TRY(op_name, ...)                                                             \
  do {                                                                                  \
    try {                                                                               \
      __VA_ARGS__;                                                                      \
    } catch (const dnnl::error& e) {                                                    \
      STRATA_FAIL("oneDNN failed in " << op_name << ": " << e.what() << " (status " << e.status << ")"); \
    }                                                                                   \
  } while (0)

#define STRATA_DNNL_CHECK(call)                                                                             \
  do {                                                                                               \
    dnnl_status_t s_ = (call);                                                                       \
    STRATA_CHECK(s_ == dnnl_success, "oneDNN call " #call " returned status " << (int)s_);          \
  } while (0)

class DnnlBackend : public ReferenceBackend {
 public:
  explicit DnnlBackend(const BackendOptions& options)
      : eng_(dnnl::engine::kind::cpu, 0), stream_(eng_), block_(oneDNN_channel_block()), options_(options) {
    STRATA_CHECK(options.conv_pool_slice_bytes >= 1 && options.winograd_partials_bytes >= 0,
                 "CPU backend options: conv_pool_slice_bytes must be at least 1 and winograd_partials_bytes at "
                 "least 0, got "
                     << options.conv_pool_slice_bytes << " and " << options.winograd_partials_bytes);
  }
  std::string name() const override { return "cpu"; }
  void set_num_threads(int n) override { set_team_size(n); }  // throws ResourceError where the system refuses threads
  int channel_block() const override { return block_; }
  // OMP_NUM_THREADS where set (the usual way to share a machine), else every core we may run on.
  int max_threads() const override {
    const char* env = std::getenv("OMP_NUM_THREADS");
    int n = env ? std::atoi(env) : 0;
    return n > 0 ? n : available_cores();
  }

  // Plans are keyed by the thread count too: a oneDNN primitive divides its work for the
  // thread count it was created under and asks OpenMP for that many threads whatever
  // omp_set_num_threads says later.
  //
  // Convolution: one plan per geometry, built on first use and kept. oneDNN picks
  // its own (blocked) layouts through format_tag::any; we reorder from and to the
  // engine's NCHW at the call boundary, into buffers allocated once per plan.
  void conv2d_forward(float* out, const float* inp, const float* weight, const float* bias,
                      const ConvParams& p) override {
    if (ours_winograd(p, WinogradPass::Forward)) return winograd_forward(out, inp, weight, bias, p, block_, wino_);
    STRATA_DNNL_TRY("conv2d_forward", {
      ConvPlan& c = conv_plan(p, bias != nullptr);
      std::unordered_map<int, memory> args{{DNNL_ARG_SRC, in(c.fwd.src_desc(), inp, c.user_src, c.f_src)},
                                           {DNNL_ARG_WEIGHTS, in(c.fwd.weights_desc(), weight, c.user_wei, c.f_wei)},
                                           {DNNL_ARG_DST, target(c.fwd.dst_desc(), out, c.user_dst, c.f_dst)}};
      if (bias) args.insert({DNNL_ARG_BIAS, mem(md1(p.OC), bias)});
      args.insert({DNNL_ARG_SCRATCHPAD, scratchpad(c.fwd.scratchpad_desc())});
      c.fwd_prim.execute(stream_, args);
      back(c.fwd.dst_desc(), c.f_dst, out, c.user_dst);
      stream_.wait();
    });
  }

  void conv2d_backward(float* dinp, float* dweight, float* dbias, const float* dout, const float* inp,
                       const float* weight, const ConvParams& p) override {
    // ours for the passes it wins (winograd_wins), oneDNN below for the rest
    if ((dweight || dbias) && ours_winograd(p, WinogradPass::WeightGrad)) {
      winograd_backward_weights(dweight, dbias, dout, inp, p, block_, wino_, options_.winograd_partials_bytes);
      dweight = dbias = nullptr;
    }
    if (dinp && ours_winograd(p, WinogradPass::InputGrad)) {
      winograd_backward_data(dinp, dout, weight, p, block_, wino_);
      dinp = nullptr;
    }
    if (!dinp && !dweight && !dbias) return;
    STRATA_DNNL_TRY("conv2d_backward", {
      ConvPlan& c = conv_plan(p, true);
      // dout is reordered once when both backward primitives want the same layout
      bool shared = dinp && c.bwd_data.diff_dst_desc() == c.bwd_weights.diff_dst_desc() &&
                    c.bwd_data.diff_dst_desc() != c.user_dst;
      memory ddst_data;
      if (dinp) {
        auto& pd = c.bwd_data;
        ddst_data = in(pd.diff_dst_desc(), dout, c.user_dst, c.bd_ddst);
        c.bwd_data_prim.execute(stream_, {{DNNL_ARG_DIFF_DST, ddst_data},
                                          {DNNL_ARG_SCRATCHPAD, scratchpad(pd.scratchpad_desc())},
                                          {DNNL_ARG_WEIGHTS, in(pd.weights_desc(), weight, c.user_wei, c.bd_wei)},
                                          {DNNL_ARG_DIFF_SRC, target(pd.diff_src_desc(), dinp, c.user_src, c.bd_dsrc)}});
        back(pd.diff_src_desc(), c.bd_dsrc, dinp, c.user_src);
      }
      if (dweight || dbias) {
        // oneDNN overwrites the weight grads; our contract accumulates, so go through scratch
        auto& pd = c.bwd_weights;
        memory dw(c.user_wei, eng_, c.dw.data()), db(md1(p.OC), eng_, c.db.data());
        c.bwd_weights_prim.execute(stream_,
                                   {{DNNL_ARG_SRC, in(pd.src_desc(), inp, c.user_src, c.bw_src)},
                                    {DNNL_ARG_SCRATCHPAD, scratchpad(pd.scratchpad_desc())},
                                    {DNNL_ARG_DIFF_DST, shared ? ddst_data : in(pd.diff_dst_desc(), dout, c.user_dst, c.bw_ddst)},
                                    {DNNL_ARG_DIFF_WEIGHTS, target(pd.diff_weights_desc(), c.dw.data(), c.user_wei, c.bw_dwei)},
                                    {DNNL_ARG_DIFF_BIAS, db}});
        back(pd.diff_weights_desc(), c.bw_dwei, c.dw.data(), c.user_wei);
        stream_.wait();
        if (dweight) add_into(dweight, c.dw.data(), c.dw.size());
        if (dbias) add_into(dbias, c.db.data(), c.db.size());
      }
      stream_.wait();
    });
  }

  // The elementwise loops are the reference's, run in chunks on OpenMP's threads (each element
  // is computed exactly as in the reference), except the forwards of Sigmoid and Tanh: those are
  // fast_act.h's, as in the recurrent cells, within 3 ulps of the reference's.
  void act_forward(float* out, const float* inp, int64_t n, const ActParams& a) override {
    in_chunks(n, [&](int64_t b, int64_t k) { act_forward_fast(out + b, inp + b, k, a); });
  }
  void act_backward(float* dinp, const float* dout, const float* inp, const float* out, int64_t n,
                    const ActParams& a) override {
    in_chunks(n, [&](int64_t b, int64_t k) { ref::act_backward(dinp + b, dout + b, inp + b, out + b, k, a); });
  }
  void softmax_forward(float* out, const float* inp, int64_t outer, int64_t K, int64_t inner, bool log) override {
    int64_t row = K * inner;
    in_chunks(outer, [&](int64_t b, int64_t k) { ref::softmax_forward(out + b * row, inp + b * row, k, K, inner, log); },
              std::max<int64_t>(1, (1 << 15) / row));
  }
  void softmax_backward(float* dinp, const float* dout, const float* out, int64_t outer, int64_t K, int64_t inner,
                        bool log) override {
    int64_t row = K * inner;
    in_chunks(outer, [&](int64_t b, int64_t k) {
      ref::softmax_backward(dinp + b * row, dout + b * row, out + b * row, k, K, inner, log);
    }, std::max<int64_t>(1, (1 << 15) / row));
  }
  // LayerNormalization's forward in slices of rows; its backward: layer_norm_cpu.h.
  void layer_norm_forward(float* y, float* mean, float* inv_std, const float* x, const float* scale, const float* bias,
                          int64_t rows, int64_t D, float eps) override {
    in_chunks(rows, [&](int64_t b, int64_t k) {
      ref::layer_norm_forward(y + b * D, mean + b, inv_std + b, x + b * D, scale, bias, k, D, eps);
    }, std::max<int64_t>(1, (1 << 15) / std::max<int64_t>(D, 1)));
  }
  void layer_norm_backward(float* dx, float* dscale, float* dbias, const float* dy, const float* x, const float* scale,
                           const float* mean, const float* inv_std, int64_t rows, int64_t D) override {
    cpu::layer_norm_backward(dx, dscale, dbias, dy, x, scale, mean, inv_std, rows, D);
  }
  void dropout_backward(float* dinp, const float* dout, const float* mask, int64_t n) override {
    in_chunks(n, [&](int64_t b, int64_t k) { ref::dropout_backward(dinp + b, dout + b, mask + b, k); });
  }
  // recurrent_cpu.h: the cells fused row by row, threaded over the batch, oneDNN's GEMMs
  void recurrent_forward(const RecurrentOutputs& out, float* state, const RecurrentInputs& in,
                         const RecurrentParams& p) override {
    cpu::recurrent_forward(out, state, in, p, gemm_fn());
  }
  void recurrent_backward(const RecurrentGrads& g, const float* dy, const float* dy_h, const float* dy_c,
                          const float* state, const RecurrentInputs& in, const RecurrentParams& p) override {
    cpu::recurrent_backward(g, dy, dy_h, dy_c, state, in, p, gemm_fn());
  }

  // Binaries whose operands are each the output's size or a scalar (Rescaling's x * scale +
  // offset, a residual add), or whose second operand runs along the last axis (a Dense bias),
  // run as plain loops in chunks on the OpenMP threads; the reference's loop walks every
  // broadcast through index arithmetic (4 ns an element). Each element is computed as there.
  void binary_forward(float* out, const float* a, const float* b, const Shape& as, const Shape& bs, const Shape& os,
                      Binary op) override {
    int64_t n = numel(os), na = numel(as), nb = numel(bs), last = os.empty() ? 1 : os.back();
    bool a_ok = na == n || na == 1, b_ok = nb == n || nb == 1;
    bool row = na == n && !bs.empty() && nb == last && bs.back() == last && last > 1;  // b along the last axis
    if (n == 0 || !a_ok || !(b_ok || row)) return ReferenceBackend::binary_forward(out, a, b, as, bs, os, op);
    auto run = [&](auto f) {
      int64_t chunk = row ? std::max<int64_t>(last, (1 << 15) / last * last) : 1 << 15;
      in_chunks(n, [&](int64_t s, int64_t k) {
        for (int64_t i = s; i < s + k; i++) out[i] = f(a[na == 1 ? 0 : i], b[row ? i % last : nb == 1 ? 0 : i]);
      }, chunk);
    };
    switch (op) {
      case Binary::Add: return run([](float x, float y) { return x + y; });
      case Binary::Sub: return run([](float x, float y) { return x - y; });
      case Binary::Mul: return run([](float x, float y) { return x * y; });
      case Binary::Div: return run([](float x, float y) { return x / y; });
      case Binary::Max: return run([](float x, float y) { return x >= y ? x : y; });
      case Binary::Min: return run([](float x, float y) { return x <= y ? x : y; });
    }
  }

  // Pooling: one plan per geometry and algorithm (primitives and buffers built once).
  // Max pooling's backward needs the argmax workspace of a training forward: kept
  // from maxpool2d_forward_train on the same input, else recomputed (so a backward
  // after a plain forward still depends on nothing but its arguments).
  void maxpool2d_forward(float* out, const float* inp, const PoolParams& p) override {
    STRATA_DNNL_TRY("maxpool2d_forward", {
      PoolPlan& c = pool_plan(p, true);
      c.ws_of = nullptr;
      c.run_forward(stream_, eng_, out, inp, false);
    });
  }
  void maxpool2d_forward_train(float* out, const float* inp, const PoolParams& p) override {
    STRATA_DNNL_TRY("maxpool2d_forward_train", {
      PoolPlan& c = pool_plan(p, true);
      c.run_forward(stream_, eng_, out, inp, true);
      c.ws_of = inp;
    });
  }
  void avgpool2d_forward(float* out, const float* inp, const PoolParams& p) override {
    STRATA_DNNL_TRY("avgpool2d_forward", pool_plan(p, false).run_forward(stream_, eng_, out, inp, false));
  }
  void maxpool2d_backward(float* dinp, const float* dout, const float* inp, const PoolParams& p) override {
    STRATA_DNNL_TRY("maxpool2d_backward", {
      PoolPlan& c = pool_plan(p, true);
      if (c.ws_of != inp) {  // no training forward on this input kept its workspace
        if (c.tmp.empty()) c.tmp.resize((size_t)p.N * p.C * p.OH * p.OW);
        c.run_forward(stream_, eng_, c.tmp.data(), inp, true);  // fills c.ws
      }
      c.ws_of = nullptr;  // one backward per training forward
      c.run_backward(stream_, eng_, dinp, dout);
    });
  }
  void avgpool2d_backward(float* dinp, const float* dout, const PoolParams& p) override {
    STRATA_DNNL_TRY("avgpool2d_backward", pool_plan(p, false).run_backward(stream_, eng_, dinp, dout));
  }

  // Conv (+ Relu) and max pooling in slices of the batch (backend.h): each slice's
  // convolution output, at most options_.conv_pool_slice_bytes (4 MB), goes into the pooling
  // while it is still in the cache (the whole-batch output of the 64x64 seed CNN's first
  // convolution is 63 MB, written and read again forward and backward at memory speed), and
  // only the pooling's argmax is kept for the backward, one workspace per slice in `state`.
  // The tests ask for small slices to run several.
  int conv_pool_slice(const ConvParams& c) const {
    int64_t image = (int64_t)c.OC * c.OH * c.OW * (int64_t)sizeof(float);
    return (int)std::clamp<int64_t>(options_.conv_pool_slice_bytes / std::max<int64_t>(image, 1), 1, c.N);
  }
  // f(first image, the slice's conv params, its pool params) for each slice; N is its size
  template <class F>
  void for_slices(const ConvParams& c, const PoolParams& p, F f) const {
    int S = conv_pool_slice(c);
    for (int n0 = 0; n0 < c.N; n0 += S) {
      ConvParams cs = c;
      PoolParams ps = p;
      cs.N = ps.N = std::min(S, c.N - n0);
      f(n0, cs, ps);
    }
  }
  std::vector<float> slice_;  // one slice of the convolution's output (or of its grad)
  float* slice_buffer(const ConvParams& c) {
    size_t n = (size_t)conv_pool_slice(c) * c.OC * c.OH * c.OW;
    if (slice_.size() < n) slice_.resize(n);
    return slice_.data();
  }
  std::vector<float> relu_masked_;  // conv_maxpool_backward's dout through the Relu, for oneDNN's pooling

  // With a blocked output and a 2x2 pooling (conv_pool_direct.h) the pooling is ours, and keeps
  // one argmax byte per pooled output; for a first convolution (few input channels, where
  // oneDNN 2.6 has no fast kernel) the convolution is too. Otherwise oneDNN pools and keeps
  // its workspace.
  int64_t conv_maxpool_state_size(const ConvParams& c, const PoolParams& p) override {
    if (maxpool2x2_blocked_fits(c, p, block_)) return (argmax_bytes(p) + 3) / 4;
    int64_t bytes = 0;
    STRATA_DNNL_TRY("conv_maxpool_state_size", for_slices(c, p, [&](int, const ConvParams&, const PoolParams& ps) {
                      bytes += (int64_t)pool_plan(ps, true).ws_md.get_size();
                    }));
    return (bytes + 3) / 4;
  }
  void conv_maxpool_forward(float* out, const float* inp, const float* weight, const float* bias,
                            const ConvParams& c, const PoolParams& p, float* state) override {
    if (conv_pool_direct_fits(c, p, block_))
      return conv_pool_direct_forward(out, (uint8_t*)state, inp, weight, bias, c, p, block_);
    float* mid = slice_buffer(c);
    bool ours = maxpool2x2_blocked_fits(c, p, block_);
    char* ws = (char*)state;
    for_slices(c, p, [&](int n0, const ConvParams& cs, const PoolParams& ps) {
      conv2d_forward(mid, inp + (int64_t)n0 * c.C * c.H * c.W, weight, bias, cs);
      int64_t pooled = (int64_t)n0 * p.C * p.OH * p.OW;
      if (ours) return maxpool2x2_blocked_forward(out + pooled, state ? (uint8_t*)state + pooled : nullptr, mid, cs, ps, block_);
      STRATA_DNNL_TRY("conv_maxpool_forward", {
        PoolPlan& pp = pool_plan(ps, true);
        if (!state) return pp.run_forward(stream_, eng_, out + pooled, mid, false);
        memory w(pp.ws_md, eng_, ws);
        ws += pp.ws_md.get_size();
        pp.run_forward(stream_, eng_, out + pooled, mid, true, &w);
      });
    });
  }
  // Our kernels apply the Relu's backward as they read dout; before oneDNN's pooling it is a
  // pass of its own.
  void conv_maxpool_backward(float* dinp, float* dweight, float* dbias, const float* dout, const float* out,
                             const float* inp, const float* weight, const ConvParams& c, const PoolParams& p,
                             const float* state) override {
    bool direct = conv_pool_direct_fits(c, p, block_), ours = maxpool2x2_blocked_fits(c, p, block_);
    if (direct && (dweight || dbias))
      conv_pool_direct_backward_weights(dweight, dbias, dout, out, (const uint8_t*)state, inp, c, p, block_);
    if (direct && !dinp) return;  // a network's first layer needs no input grad
    if (!ours && c.relu) {
      const int64_t n = (int64_t)p.N * p.C * p.OH * p.OW;
      if ((int64_t)relu_masked_.size() < n) relu_masked_.resize(n);
      act_backward(relu_masked_.data(), dout, out, out, n, ActParams{Act::Relu});
      dout = relu_masked_.data();
    }
    float* dmid = slice_buffer(c);
    const char* ws = (const char*)state;
    for_slices(c, p, [&](int n0, const ConvParams& cs, const PoolParams& ps) {
      int64_t pooled = (int64_t)n0 * p.C * p.OH * p.OW;
      if (ours) {
        maxpool2x2_blocked_unpool(dmid, dout + pooled, out + pooled, (const uint8_t*)state + pooled, cs, ps, block_);
      } else {
        STRATA_DNNL_TRY("conv_maxpool_backward", {
          PoolPlan& pp = pool_plan(ps, true);
          memory w(pp.ws_md, eng_, (void*)ws);
          ws += pp.ws_md.get_size();
          pp.run_backward(stream_, eng_, dmid, dout + pooled, &w);
        });
      }
      int64_t at = (int64_t)n0 * c.C * c.H * c.W;
      conv2d_backward(dinp ? dinp + at : nullptr, direct ? nullptr : dweight, direct ? nullptr : dbias, dmid, inp + at,
                      weight, cs);
    });
  }

  // Transpose as a oneDNN reorder: the input is read as the output's dims with permuted
  // strides (multithreaded; the Keras NHWC <-> NCHW transposes of every CNN go here).
  // Padding (ZeroPadding2D, F.pad, CenterCrop's window) by rows (cpu/pad_cpu.h).
  void pad_forward(float* out, const float* inp, const Shape& in_shape, const Shape& out_shape,
                   const std::vector<int64_t>& begin, PadMode mode, float value) override {
    cpu::pad_forward(out, inp, in_shape, out_shape, begin, mode, value);
  }
  void pad_backward(float* dinp, const float* dout, const Shape& in_shape, const Shape& out_shape,
                    const std::vector<int64_t>& begin, PadMode mode) override {
    cpu::pad_backward(dinp, dout, in_shape, out_shape, begin, mode);
  }
  void transpose(float* out, const float* inp, const Shape& shape, const std::vector<int64_t>& perm) override {
    size_t r = shape.size();
    if (r < 2 || r > 6 || numel(shape) == 0) return ReferenceBackend::transpose(out, inp, shape, perm);
    memory::dims in_strides(r), dims(r), strides(r);
    for (size_t k = r; k-- > 0;) in_strides[k] = k + 1 == r ? 1 : in_strides[k + 1] * shape[k + 1];
    for (size_t k = 0; k < r; k++) dims[k] = shape[perm[k]], strides[k] = in_strides[perm[k]];
    STRATA_DNNL_TRY("transpose", {
      memory src(memory::desc(dims, dt::f32, strides), eng_, (void*)inp);
      memory dst(plain(dims), eng_, out);
      dnnl::reorder(src, dst).execute(stream_, src, dst);
      stream_.wait();
    });
  }

  void blocked_nhwc(float* out, const float* inp, int N, int C, int H, int W, bool to_nhwc) override {
    STRATA_DNNL_TRY("blocked_nhwc", {
      memory blk(md4(N, C, H, W, true), eng_, to_nhwc ? (void*)inp : out);
      memory nhwc(memory::desc({N, C, H, W}, dt::f32, tag::nhwc), eng_, to_nhwc ? out : (void*)inp);
      if (to_nhwc) dnnl::reorder(blk, nhwc).execute(stream_, blk, nhwc);
      else dnnl::reorder(nhwc, blk).execute(stream_, nhwc, blk);
      stream_.wait();
    });
  }

  // GEMM as a oneDNN matmul primitive, one per geometry, with our scratchpad: inside a
  // training step dnnl_sgemm took 3-4x what it takes alone (0.16-0.2 against 0.05 ms for
  // the 28x28 seed CNN's first Dense at batch 32), the primitive 0.05-0.09. alpha is an
  // output scale, beta a sum post-op (beta = 0 overwrites C).
  void gemm(bool ta, bool tb, int M, int N, int K, float alpha, const float* A, const float* B, float beta,
            float* C) override {
    STRATA_DNNL_TRY("gemm", {
      MatmulPlan& c = matmul_plan(ta, tb, M, N, K, alpha, beta);
      c.prim.execute(stream_, {{DNNL_ARG_SRC, mem(c.a, A)},
                               {DNNL_ARG_WEIGHTS, mem(c.b, B)},
                               {DNNL_ARG_DST, memory(c.c, eng_, C)},
                               {DNNL_ARG_SCRATCHPAD, scratchpad(c.scratch)}});
      stream_.wait();
    });
  }

  // Batch normalization: one plan per (N, C, S, eps), primitives and scratch built once.
  void batchnorm_forward_train(float* y, float* mean, float* var, const float* x, const float* scale,
                               const float* bias, int N, int C, int S, float eps) override {
    STRATA_DNNL_TRY("batchnorm_forward_train", {
      BnPlan& c = bn_plan(N, C, S, eps);
      c.train.execute(stream_, {{DNNL_ARG_SCRATCHPAD, scratchpad(c.train_sp)}, {DNNL_ARG_SRC, mem(c.data, x)}, {DNNL_ARG_DST, mem(c.data, y)},
                                {DNNL_ARG_SCALE, mem(c.chan, scale)}, {DNNL_ARG_SHIFT, mem(c.chan, bias)},
                                {DNNL_ARG_MEAN, mem(c.chan, mean)}, {DNNL_ARG_VARIANCE, mem(c.chan, var)}});
      stream_.wait();
    });
  }

  void batchnorm_forward_infer(float* y, const float* x, const float* scale, const float* bias, const float* mean,
                               const float* var, int N, int C, int S, float eps) override {
    STRATA_DNNL_TRY("batchnorm_forward_infer", {
      BnPlan& c = bn_plan(N, C, S, eps);
      c.infer.execute(stream_, {{DNNL_ARG_SCRATCHPAD, scratchpad(c.infer_sp)}, {DNNL_ARG_SRC, mem(c.data, x)}, {DNNL_ARG_DST, mem(c.data, y)},
                                {DNNL_ARG_SCALE, mem(c.chan, scale)}, {DNNL_ARG_SHIFT, mem(c.chan, bias)},
                                {DNNL_ARG_MEAN, mem(c.chan, mean)}, {DNNL_ARG_VARIANCE, mem(c.chan, var)}});
      stream_.wait();
    });
  }

  void batchnorm_backward(float* dx, float* dscale, float* dbias, const float* dy, const float* x, const float* scale,
                          const float* mean, const float* var, int N, int C, int S, float eps) override {
    STRATA_DNNL_TRY("batchnorm_backward", {
      BnPlan& c = bn_plan(N, C, S, eps);
      if (!dx) c.dx.resize((size_t)N * C * S);
      // oneDNN wants the shift although the backward never reads it, and overwrites the
      // scale/shift grads, which our contract accumulates
      c.bwd.execute(stream_, {{DNNL_ARG_SCRATCHPAD, scratchpad(c.bwd_sp)}, {DNNL_ARG_SRC, mem(c.data, x)}, {DNNL_ARG_MEAN, mem(c.chan, mean)},
                              {DNNL_ARG_VARIANCE, mem(c.chan, var)}, {DNNL_ARG_DIFF_DST, mem(c.data, dy)},
                              {DNNL_ARG_SCALE, mem(c.chan, scale)}, {DNNL_ARG_SHIFT, mem(c.chan, c.zeros.data())},
                              {DNNL_ARG_DIFF_SRC, mem(c.data, dx ? dx : c.dx.data())},
                              {DNNL_ARG_DIFF_SCALE, mem(c.chan, c.dscale.data())},
                              {DNNL_ARG_DIFF_SHIFT, mem(c.chan, c.dshift.data())}});
      stream_.wait();
      if (dscale) add_into(dscale, c.dscale.data(), C);
      if (dbias) add_into(dbias, c.dshift.data(), C);
    });
  }

 private:
  dnnl::engine eng_;
  dnnl::stream stream_;
  const int block_;  // channel_block()
  const BackendOptions options_;

  // The block oneDNN's kernels pick for this CPU (or the instruction set ONEDNN_MAX_CPU_ISA
  // caps it to): 16 floats with AVX-512, else 8. Given the other one, its convolutions
  // reorder every output and its pooling falls back to the reference loop (100x slower on
  // an AVX2 machine when this was always 16).
  static int oneDNN_channel_block() {
    auto isa = dnnl_get_effective_cpu_isa();
    return (isa & dnnl_cpu_isa_avx512_core) == dnnl_cpu_isa_avx512_core ? 16 : 8;
  }
  // NCHW, or nChw<block>c when blocked (backend.h)
  memory::desc md4(int a, int b, int c, int d, bool blocked = false) const {
    return memory::desc({a, b, c, d}, dt::f32, !blocked ? tag::nchw : block_ == 16 ? tag::nChw16c : tag::nChw8c);
  }
  // Scratchpads are ours, one buffer for every primitive (they run one at a time): with
  // oneDNN's default, a primitive sizes a per-thread scratchpad on the thread that
  // created it, and the binding runs steps on whichever worker thread is free, where
  // Winograd then wrote past a smaller one (a crash seen from Node).
  static dnnl::primitive_attr user_scratchpad() {
    dnnl::primitive_attr a;
    a.set_scratchpad_mode(dnnl::scratchpad_mode::user);
    return a;
  }
  memory scratch_;  // bytes, allocated (aligned) by oneDNN, grown to the largest need
  memory scratchpad(const memory::desc& d) {
    size_t need = d.get_size();
    if (!scratch_ || scratch_.get_desc().get_size() < need)
      scratch_ = memory(memory::desc({(memory::dim)need}, dt::u8, tag::a), eng_);
    return memory(d, eng_, scratch_.get_data_handle());
  }

  static memory::desc plain(const memory::dims& d) {  // row-major
    memory::dims st(d.size());
    for (size_t k = d.size(); k-- > 0;) st[k] = k + 1 == d.size() ? 1 : st[k + 1] * d[k + 1];
    return memory::desc(d, dt::f32, st);
  }
  static memory::desc md1(int a) { return memory::desc({a}, dt::f32, tag::a); }
  memory mem(const memory::desc& md, const float* p) { return memory(md, eng_, (void*)p); }
  // f(begin, count) over [0, n) in chunks of `chunk`, in parallel when there are several.
  template <class F>
  static void in_chunks(int64_t n, F f, int64_t chunk = 1 << 15) {
    int64_t chunks = (n + chunk - 1) / chunk;
#pragma omp parallel for schedule(static) if (chunks > 1)
    for (int64_t c = 0; c < chunks; c++) f(c * chunk, std::min(chunk, n - c * chunk));
  }
  static void add_into(float* dst, const float* src, size_t n) {
    for (size_t i = 0; i < n; i++) dst[i] += src[i];
  }

  struct ConvPlan {
    memory::desc user_src, user_wei, user_dst;  // the engine's NCHW / OIHW
    dnnl::convolution_forward::primitive_desc fwd;
    dnnl::convolution_forward fwd_prim;
    dnnl::convolution_backward_data::primitive_desc bwd_data;
    dnnl::convolution_backward_data bwd_data_prim;
    dnnl::convolution_backward_weights::primitive_desc bwd_weights;
    dnnl::convolution_backward_weights bwd_weights_prim;
    // buffers in oneDNN's layouts, used only where they differ from the user's
    memory f_src, f_wei, f_dst, bd_ddst, bd_wei, bd_dsrc, bw_src, bw_ddst, bw_dwei;
    std::vector<float> dw, db;  // weight grads before they are added into ours
  };
  std::map<std::pair<std::vector<int>, bool>, ConvPlan> conv_plans_;

  // How each pass of a convolution is computed: the one table of the CPU backend's rules
  // (options_.conv forces direct, or oneDNN's Winograd, for benchmarks). A network's first
  // convolution fused with its pooling runs our direct kernel whatever this says
  // (conv_pool_direct.h: oneDNN 2.6 has no fast kernel for 1-3 input channels).
  //   - our Winograd (conv3x3_winograd.h) where winograd_wins says it beats oneDNN's kernels:
  //     with AVX2 every pass (oneDNN 2.6 has no Winograd there); with AVX-512 up to 128 -> 128
  //     channels, the input grad from 20x20 on;
  //   - oneDNN's Winograd F(4x4, 3x3) for dense 3x3 convolutions with 16+ channels in and
  //     out: on the seed CNN's second convolution ~1.6x faster than its direct kernel forward
  //     and backward (its first, 3 channels in, is 3-8x slower with Winograd); but its input
  //     grad loses on small outputs: 28x28 (11x11 output) direct took 2.9 ms against 3.4 at
  //     batch 128, 64x64 (29x29) 19.5 against 15.0, so below 20x20 outputs that pass is
  //     direct. Where oneDNN has no Winograd kernel (no AVX-512) its direct one runs;
  //   - oneDNN's direct kernels otherwise.
  // Winograd's results differ from the direct sum by rounding (within the tests' 1e-4).
  enum class ConvKernel { OursWinograd, OneDnnWinograd, OneDnnDirect };
  ConvKernel conv_kernel(const ConvParams& p, WinogradPass pass, ConvAlgorithm setting) const {
    if (setting == ConvAlgorithm::Direct) return ConvKernel::OneDnnDirect;
    if (setting == ConvAlgorithm::Auto && winograd_wins(p, block_, pass)) return ConvKernel::OursWinograd;
    bool dense3x3 = p.G == 1 && p.KH == 3 && p.KW == 3 && p.sh == 1 && p.sw == 1 && p.dh == 1 && p.dw == 1 &&
                    p.C >= 16 && p.OC >= 16;
    if (!dense3x3 || (pass == WinogradPass::InputGrad && p.OH * p.OW < 400)) return ConvKernel::OneDnnDirect;
    return ConvKernel::OneDnnWinograd;
  }
  bool ours_winograd(const ConvParams& p, WinogradPass pass) const {  // its epilogue has Relu, not Clip
    return !(p.clip && pass == WinogradPass::Forward) && conv_kernel(p, pass, options_.conv) == ConvKernel::OursWinograd;
  }
  std::vector<float> wino_;  // our Winograd's scratch

  ConvPlan& conv_plan(const ConvParams& p, bool with_bias) {
    std::vector<int> key{p.N,  p.C,  p.H,  p.W,  p.OC, p.KH, p.KW, p.OH,          p.OW,         p.sh,
                         p.sw, p.dh, p.dw, p.pt, p.pl, p.pb, p.pr, p.relu, p.src_blocked, p.dst_blocked,
                         p.G,  omp_get_max_threads(), p.clip, float_bits(p.clip_lo), float_bits(p.clip_hi)};
    auto it = conv_plans_.find({key, with_bias});
    if (it != conv_plans_.end()) return it->second;
    ConvPlan c;
    // grouped weights: the engine's (OC, C/G, KH, KW) is oneDNN's goihw (G, OC/G, C/G, KH, KW)
    const memory::dims wei_dims = p.G == 1 ? memory::dims{p.OC, p.C, p.KH, p.KW}
                                           : memory::dims{p.G, p.OC / p.G, p.C / p.G, p.KH, p.KW};
    c.user_src = md4(p.N, p.C, p.H, p.W, p.src_blocked);
    c.user_wei = memory::desc(wei_dims, dt::f32, p.G == 1 ? tag::oihw : tag::goihw);
    c.user_dst = md4(p.N, p.OC, p.OH, p.OW, p.dst_blocked);
    memory::dims st{p.sh, p.sw}, dil{p.dh - 1, p.dw - 1}, pl{p.pt, p.pl}, pr{p.pb, p.pr};
    auto any = [](memory::dims d) { return memory::desc(d, dt::f32, tag::any); };
    auto src = any({p.N, p.C, p.H, p.W}), wei = any(wei_dims), dst = any({p.N, p.OC, p.OH, p.OW});
    dnnl::primitive_attr attr = user_scratchpad();  // a fused Relu runs as a post-op on the output
    if (p.relu || p.clip) {
      dnnl::post_ops ops;
      if (p.relu) ops.append_eltwise(1.0f, dnnl::algorithm::eltwise_relu, 0.0f, 0.0f);
      if (p.clip) ops.append_eltwise(1.0f, dnnl::algorithm::eltwise_clip, p.clip_lo, p.clip_hi);
      attr.set_post_ops(ops);
    }
    // oneDNN's algorithm for each pass, by conv_kernel's rules without ours (a pass ours
    // computes keeps the primitive oneDNN would have run, unused)
    const ConvAlgorithm without_ours = options_.conv == ConvAlgorithm::Auto ? ConvAlgorithm::OneDnnWinograd : options_.conv;
    auto onednn = [&](WinogradPass pass) {
      return conv_kernel(p, pass, without_ours) == ConvKernel::OneDnnWinograd ? dnnl::algorithm::convolution_winograd
                                                                              : dnnl::algorithm::convolution_direct;
    };
    auto alg = onednn(WinogradPass::Forward);
    auto desc = [&](dnnl::algorithm a) {
      return with_bias ? dnnl::convolution_forward::desc(dnnl::prop_kind::forward_training, a, src, wei, md1(p.OC),
                                                         dst, st, dil, pl, pr)
                       : dnnl::convolution_forward::desc(dnnl::prop_kind::forward_training, a, src, wei, dst, st,
                                                         dil, pl, pr);
    };
    try {
      c.fwd = dnnl::convolution_forward::primitive_desc(desc(alg), attr, eng_);
    } catch (const dnnl::error&) {  // no Winograd kernel for this shape or machine
      alg = dnnl::algorithm::convolution_direct;
      c.fwd = dnnl::convolution_forward::primitive_desc(desc(alg), attr, eng_);
    }
    c.fwd_prim = dnnl::convolution_forward(c.fwd);
    auto bwd_data = [&](dnnl::algorithm a) {
      return dnnl::convolution_backward_data::primitive_desc(
          dnnl::convolution_backward_data::desc(a, src, wei, dst, st, dil, pl, pr), user_scratchpad(), eng_, c.fwd);
    };
    auto bwd_weights = [&](dnnl::algorithm a) {
      return dnnl::convolution_backward_weights::primitive_desc(
          dnnl::convolution_backward_weights::desc(a, src, wei, md1(p.OC), dst, st, dil, pl, pr), user_scratchpad(),
          eng_, c.fwd);
    };
    auto direct = dnnl::algorithm::convolution_direct;
    try {
      c.bwd_data = bwd_data(onednn(WinogradPass::InputGrad));
    } catch (const dnnl::error&) {
      c.bwd_data = bwd_data(direct);
    }
    c.bwd_data_prim = dnnl::convolution_backward_data(c.bwd_data);
    try {
      c.bwd_weights = bwd_weights(onednn(WinogradPass::WeightGrad));
    } catch (const dnnl::error&) {
      c.bwd_weights = bwd_weights(direct);
    }
    c.bwd_weights_prim = dnnl::convolution_backward_weights(c.bwd_weights);
    c.dw.resize((size_t)p.OC * (p.C / p.G) * p.KH * p.KW), c.db.resize(p.OC);
    return conv_plans_.emplace(std::make_pair(key, with_bias), std::move(c)).first->second;
  }

  // The memory a primitive reads for `want`: the user's buffer when the layouts agree,
  // else `buf` (allocated on first use) filled by a reorder.
  memory in(const memory::desc& want, const float* user, const memory::desc& user_md, memory& buf) {
    memory u(user_md, eng_, (void*)user);
    if (want == user_md) return u;
    if (!buf) buf = memory(want, eng_);
    dnnl::reorder(u, buf).execute(stream_, u, buf);
    return buf;
  }
  // The memory a primitive writes for `want`; back() copies it to the user's layout.
  memory target(const memory::desc& want, float* user, const memory::desc& user_md, memory& buf) {
    if (want == user_md) return memory(user_md, eng_, user);
    if (!buf) buf = memory(want, eng_);
    return buf;
  }
  void back(const memory::desc& want, memory& buf, float* user, const memory::desc& user_md) {
    if (want == user_md) return;
    memory u(user_md, eng_, user);
    dnnl::reorder(buf, u).execute(stream_, buf, u);
  }

  struct MatmulPlan {
    memory::desc a, b, c, scratch;
    dnnl::matmul prim;
  };
  std::map<std::vector<int>, MatmulPlan> matmul_plans_;

  MatmulPlan& matmul_plan(bool ta, bool tb, int M, int N, int K, float alpha, float beta) {
    int ab[2];
    std::memcpy(&ab[0], &alpha, sizeof(float)), std::memcpy(&ab[1], &beta, sizeof(float));
    std::vector<int> key{ta, tb, M, N, K, ab[0], ab[1], omp_get_max_threads()};
    auto it = matmul_plans_.find(key);
    if (it != matmul_plans_.end()) return it->second;
    MatmulPlan c;
    // op(A) (M,K) and op(B) (K,N) read in place: a transposed operand is a stride swap
    c.a = memory::desc({M, K}, dt::f32, ta ? memory::dims{1, M} : memory::dims{K, 1});
    c.b = memory::desc({K, N}, dt::f32, tb ? memory::dims{1, K} : memory::dims{N, 1});
    c.c = memory::desc({M, N}, dt::f32, memory::dims{N, 1});
    dnnl::primitive_attr attr = user_scratchpad();
    if (alpha != 1.0f) attr.set_output_scales(0, {alpha});
    if (beta != 0.0f) {
      dnnl::post_ops ops;
      ops.append_sum(beta);
      attr.set_post_ops(ops);
    }
    dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(c.a, c.b, c.c), attr, eng_);
    c.scratch = pd.scratchpad_desc();
    c.prim = dnnl::matmul(pd);
    return matmul_plans_.emplace(key, std::move(c)).first->second;
  }

  struct BnPlan {
    memory::desc data, chan;  // (N,C,S,1) and (C)
    dnnl::batch_normalization_forward train, infer;
    dnnl::batch_normalization_backward bwd;
    memory::desc train_sp, infer_sp, bwd_sp;  // scratchpads
    std::vector<float> dscale, dshift, zeros, dx;
  };
  std::map<std::vector<int>, BnPlan> bn_plans_;

  BnPlan& bn_plan(int N, int C, int S, float eps) {
    int eps_bits;
    std::memcpy(&eps_bits, &eps, sizeof eps_bits);
    std::vector<int> key{N, C, S, eps_bits, omp_get_max_threads()};
    auto it = bn_plans_.find(key);
    if (it != bn_plans_.end()) return it->second;
    BnPlan c;
    c.data = md4(N, C, S, 1), c.chan = md1(C);
    auto f = dnnl::normalization_flags::use_scale | dnnl::normalization_flags::use_shift;
    dnnl::batch_normalization_forward::primitive_desc train(
        dnnl::batch_normalization_forward::desc(dnnl::prop_kind::forward_training, c.data, eps, f), user_scratchpad(),
        eng_);
    dnnl::batch_normalization_forward::primitive_desc infer(
        dnnl::batch_normalization_forward::desc(dnnl::prop_kind::forward_inference, c.data, eps,
                                                f | dnnl::normalization_flags::use_global_stats),
        user_scratchpad(), eng_);
    dnnl::batch_normalization_backward::primitive_desc bwd(
        dnnl::batch_normalization_backward::desc(dnnl::prop_kind::backward, c.data, c.data, eps, f), user_scratchpad(),
        eng_, train);
    c.train_sp = train.scratchpad_desc(), c.infer_sp = infer.scratchpad_desc(), c.bwd_sp = bwd.scratchpad_desc();
    c.train = dnnl::batch_normalization_forward(train), c.infer = dnnl::batch_normalization_forward(infer);
    c.bwd = dnnl::batch_normalization_backward(bwd);
    c.dscale.resize(C), c.dshift.resize(C), c.zeros.assign(C, 0.0f);
    return bn_plans_.emplace(key, std::move(c)).first->second;
  }

  struct PoolPlan {
    memory::desc src, dst;
    dnnl::pooling_v2_forward fwd, fwd_ws;  // plain, and writing the workspace
    dnnl::pooling_v2_backward bwd;
    memory::desc ws_md;      // max pooling's argmax (empty for average pooling)
    memory ws;               // max pooling's argmax, written by the training forward
    std::vector<float> tmp;  // the recomputed forward's output (max pooling backward)
    const float* ws_of = nullptr;  // the input whose training forward wrote ws
    bool has_ws = false;
    memory fwd_sp, fwd_ws_sp, bwd_sp;  // their scratchpads (user mode, see user_scratchpad)

    // with_ws: the training forward, writing the argmax into `into` (default: ws)
    void run_forward(dnnl::stream& st, dnnl::engine& eng, float* out, const float* inp, bool with_ws,
                     const memory* into = nullptr) {
      std::unordered_map<int, memory> args{{DNNL_ARG_SRC, memory(src, eng, (void*)inp)},
                                           {DNNL_ARG_DST, memory(dst, eng, out)}};
      if (with_ws && has_ws) args.insert({DNNL_ARG_WORKSPACE, into ? *into : ws});
      args.insert({DNNL_ARG_SCRATCHPAD, with_ws ? fwd_ws_sp : fwd_sp});
      (with_ws ? fwd_ws : fwd).execute(st, args);
      st.wait();
    }
    void run_backward(dnnl::stream& st, dnnl::engine& eng, float* dinp, const float* dout,
                      const memory* from = nullptr) {
      std::unordered_map<int, memory> args{{DNNL_ARG_DIFF_DST, memory(dst, eng, (void*)dout)},
                                           {DNNL_ARG_DIFF_SRC, memory(src, eng, dinp)}};
      if (has_ws) args.insert({DNNL_ARG_WORKSPACE, from ? *from : ws});
      args.insert({DNNL_ARG_SCRATCHPAD, bwd_sp});
      bwd.execute(st, args);
      st.wait();
    }
  };
  std::map<std::pair<std::vector<int>, bool>, PoolPlan> pool_plans_;

  PoolPlan& pool_plan(const PoolParams& p, bool max) {
    std::vector<int> key{p.N,  p.C,  p.H,  p.W,  p.OH, p.OW, p.KH, p.KW, p.sh,
                         p.sw, p.dh, p.dw, p.pt, p.pl, p.pb, p.pr, p.count_include_pad, p.blocked,
                         omp_get_max_threads()};
    auto it = pool_plans_.find({key, max});
    if (it != pool_plans_.end()) return it->second;
    auto alg = max ? dnnl::algorithm::pooling_max
                   : (p.count_include_pad ? dnnl::algorithm::pooling_avg_include_padding
                                          : dnnl::algorithm::pooling_avg_exclude_padding);
    PoolPlan c;
    c.src = md4(p.N, p.C, p.H, p.W, p.blocked), c.dst = md4(p.N, p.C, p.OH, p.OW, p.blocked);
    memory::dims st{p.sh, p.sw}, k{p.KH, p.KW}, dil{p.dh - 1, p.dw - 1}, pl{p.pt, p.pl}, pr{p.pb, p.pr};
    dnnl::pooling_v2_forward::primitive_desc fwd(
        dnnl::pooling_v2_forward::desc(dnnl::prop_kind::forward_training, alg, c.src, c.dst, st, k, dil, pl, pr),
        user_scratchpad(), eng_);
    dnnl::pooling_v2_backward::primitive_desc bwd(
        dnnl::pooling_v2_backward::desc(alg, c.src, c.dst, st, k, dil, pl, pr), user_scratchpad(), eng_, fwd);
    c.fwd_ws = dnnl::pooling_v2_forward(fwd), c.bwd = dnnl::pooling_v2_backward(bwd);
    dnnl::pooling_v2_forward::primitive_desc infer(
        dnnl::pooling_v2_forward::desc(dnnl::prop_kind::forward_inference, alg, c.src, c.dst, st, k, dil, pl, pr),
        user_scratchpad(), eng_);
    c.fwd = dnnl::pooling_v2_forward(infer);
    c.fwd_sp = memory(infer.scratchpad_desc(), eng_), c.fwd_ws_sp = memory(fwd.scratchpad_desc(), eng_);
    c.bwd_sp = memory(bwd.scratchpad_desc(), eng_);
    c.ws_md = fwd.workspace_desc();
    c.has_ws = c.ws_md.get_size() > 0;
    if (c.has_ws) c.ws = memory(c.ws_md, eng_);
    return pool_plans_.emplace(std::make_pair(key, max), std::move(c)).first->second;
  }
};

std::unique_ptr<Backend> make_dnnl_backend(const BackendOptions& options) {
  return std::make_unique<DnnlBackend>(options);
}

}  // namespace strata
