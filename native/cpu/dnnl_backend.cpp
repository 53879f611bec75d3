// dnnl_backend.cpp: the CPU backend. oneDNN for convolution, pooling, matrix
// products and batch normalization, forward and backward; everything else is the
// reference loop (inherited from ReferenceBackend).
//
// Today every call builds its primitive from plain NCHW descriptors; oneDNN's
// primitive cache makes the repeated creation cheap. Performance work still to do
// (see native/README.md): format_tag::any with weights reordered once, ReLU as a
// post-op, keeping the max-pool workspace from the forward pass.
#include <omp.h>

#include <cstring>
#include <dnnl.hpp>
#include <vector>

#include "../core/backend.h"
#include "../core/check.h"

namespace strata {

using dnnl::memory;
using tag = dnnl::memory::format_tag;
using dt = dnnl::memory::data_type;

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
  DnnlBackend() : eng_(dnnl::engine::kind::cpu, 0), stream_(eng_) {}
  std::string name() const override { return "cpu"; }
  void set_num_threads(int n) override { omp_set_num_threads(n > 0 ? n : 1); }

  void conv2d_forward(float* out, const float* inp, const float* weight, const float* bias,
                      const ConvParams& p) override {
    STRATA_DNNL_TRY("conv2d_forward", {
      auto fwd = conv_fwd_pd(p, bias != nullptr);
      memory src(md4(p.N, p.C, p.H, p.W), eng_, (void*)inp), wei(md4(p.OC, p.C, p.KH, p.KW), eng_, (void*)weight),
          dst(md4(p.N, p.OC, p.OH, p.OW), eng_, out);
      std::unordered_map<int, memory> args{{DNNL_ARG_SRC, src}, {DNNL_ARG_WEIGHTS, wei}, {DNNL_ARG_DST, dst}};
      if (bias) args.insert({DNNL_ARG_BIAS, memory(md1(p.OC), eng_, (void*)bias)});
      dnnl::convolution_forward(fwd).execute(stream_, args);
      stream_.wait();
    });
  }

  void conv2d_backward(float* dinp, float* dweight, float* dbias, const float* dout, const float* inp,
                       const float* weight, const ConvParams& p) override {
    STRATA_DNNL_TRY("conv2d_backward", {
      auto fwd = conv_fwd_pd(p, dbias != nullptr);
      memory::dims st{p.sh, p.sw}, dil{p.dh - 1, p.dw - 1}, pl{p.pt, p.pl}, pr{p.pb, p.pr};
      auto src_md = md4(p.N, p.C, p.H, p.W), wei_md = md4(p.OC, p.C, p.KH, p.KW), dst_md = md4(p.N, p.OC, p.OH, p.OW);
      memory ddst(dst_md, eng_, (void*)dout);
      if (dinp) {
        dnnl::convolution_backward_data::desc d(dnnl::algorithm::convolution_direct, src_md, wei_md, dst_md, st, dil,
                                                pl, pr);
        dnnl::convolution_backward_data::primitive_desc pd(d, eng_, fwd);
        dnnl::convolution_backward_data(pd).execute(
            stream_, {{DNNL_ARG_DIFF_DST, ddst}, {DNNL_ARG_WEIGHTS, memory(wei_md, eng_, (void*)weight)},
                      {DNNL_ARG_DIFF_SRC, memory(src_md, eng_, dinp)}});
      }
      if (dweight || dbias) {
        // oneDNN overwrites the weight grads; our contract accumulates, so go through scratch
        std::vector<float> dw((size_t)p.OC * p.C * p.KH * p.KW), db(p.OC);
        auto d = dbias ? dnnl::convolution_backward_weights::desc(dnnl::algorithm::convolution_direct, src_md,
                                                                  wei_md, md1(p.OC), dst_md, st, dil, pl, pr)
                       : dnnl::convolution_backward_weights::desc(dnnl::algorithm::convolution_direct, src_md,
                                                                  wei_md, dst_md, st, dil, pl, pr);
        dnnl::convolution_backward_weights::primitive_desc pd(d, eng_, fwd);
        std::unordered_map<int, memory> args{{DNNL_ARG_SRC, memory(src_md, eng_, (void*)inp)},
                                             {DNNL_ARG_DIFF_DST, ddst},
                                             {DNNL_ARG_DIFF_WEIGHTS, memory(wei_md, eng_, dw.data())}};
        if (dbias) args.insert({DNNL_ARG_DIFF_BIAS, memory(md1(p.OC), eng_, db.data())});
        dnnl::convolution_backward_weights(pd).execute(stream_, args);
        stream_.wait();
        if (dweight) add_into(dweight, dw.data(), dw.size());
        if (dbias) add_into(dbias, db.data(), db.size());
      }
      stream_.wait();
    });
  }

  void maxpool2d_forward(float* out, const float* inp, const PoolParams& p) override {
    pool_forward(out, inp, p, dnnl::algorithm::pooling_max, "maxpool2d_forward");
  }
  void avgpool2d_forward(float* out, const float* inp, const PoolParams& p) override {
    pool_forward(out, inp, p, avg_alg(p), "avgpool2d_forward");
  }

  void maxpool2d_backward(float* dinp, const float* dout, const float* inp, const PoolParams& p) override {
    STRATA_DNNL_TRY("maxpool2d_backward", {
      // The backward needs the forward's workspace (argmax); recompute it here.
      auto fwd = pool_fwd_pd(p, dnnl::algorithm::pooling_max, dnnl::prop_kind::forward_training);
      memory ws(fwd.workspace_desc(), eng_);
      std::vector<float> tmp((size_t)p.N * p.C * p.OH * p.OW);
      dnnl::pooling_v2_forward(fwd).execute(stream_, {{DNNL_ARG_SRC, memory(md4(p.N, p.C, p.H, p.W), eng_, (void*)inp)},
                                                      {DNNL_ARG_DST, memory(md4(p.N, p.C, p.OH, p.OW), eng_, tmp.data())},
                                                      {DNNL_ARG_WORKSPACE, ws}});
      pool_backward(dinp, dout, p, dnnl::algorithm::pooling_max, fwd, &ws);
    });
  }
  void avgpool2d_backward(float* dinp, const float* dout, const PoolParams& p) override {
    STRATA_DNNL_TRY("avgpool2d_backward", {
      auto fwd = pool_fwd_pd(p, avg_alg(p), dnnl::prop_kind::forward_training);
      pool_backward(dinp, dout, p, avg_alg(p), fwd, nullptr);
    });
  }

  void gemm(bool ta, bool tb, int M, int N, int K, float alpha, const float* A, const float* B, float beta,
            float* C) override {
    if (beta == 0) std::memset(C, 0, sizeof(float) * M * N);  // sgemm reads C even when beta is 0
    STRATA_DNNL_CHECK(dnnl_sgemm(ta ? 'T' : 'N', tb ? 'T' : 'N', M, N, K, alpha, A, ta ? M : K, B, tb ? K : N, beta, C, N));
  }

  void batchnorm_forward_train(float* y, float* mean, float* var, const float* x, const float* scale,
                               const float* bias, int N, int C, int S, float eps) override {
    STRATA_DNNL_TRY("batchnorm_forward_train", {
      auto pd = bn_fwd_pd(N, C, S, eps, dnnl::prop_kind::forward_training, flags());
      dnnl::batch_normalization_forward(pd).execute(stream_, {{DNNL_ARG_SRC, mem(md4(N, C, S, 1), x)},
                                                              {DNNL_ARG_DST, mem(md4(N, C, S, 1), y)},
                                                              {DNNL_ARG_SCALE, mem(md1(C), scale)},
                                                              {DNNL_ARG_SHIFT, mem(md1(C), bias)},
                                                              {DNNL_ARG_MEAN, mem(md1(C), mean)},
                                                              {DNNL_ARG_VARIANCE, mem(md1(C), var)}});
      stream_.wait();
    });
  }

  void batchnorm_forward_infer(float* y, const float* x, const float* scale, const float* bias, const float* mean,
                               const float* var, int N, int C, int S, float eps) override {
    STRATA_DNNL_TRY("batchnorm_forward_infer", {
      auto pd = bn_fwd_pd(N, C, S, eps, dnnl::prop_kind::forward_inference,
                          flags() | dnnl::normalization_flags::use_global_stats);
      dnnl::batch_normalization_forward(pd).execute(stream_, {{DNNL_ARG_SRC, mem(md4(N, C, S, 1), x)},
                                                              {DNNL_ARG_DST, mem(md4(N, C, S, 1), y)},
                                                              {DNNL_ARG_SCALE, mem(md1(C), scale)},
                                                              {DNNL_ARG_SHIFT, mem(md1(C), bias)},
                                                              {DNNL_ARG_MEAN, mem(md1(C), mean)},
                                                              {DNNL_ARG_VARIANCE, mem(md1(C), var)}});
      stream_.wait();
    });
  }

  void batchnorm_backward(float* dx, float* dscale, float* dbias, const float* dy, const float* x, const float* scale,
                          const float* mean, const float* var, int N, int C, int S, float eps) override {
    STRATA_DNNL_TRY("batchnorm_backward", {
      auto fwd = bn_fwd_pd(N, C, S, eps, dnnl::prop_kind::forward_training, flags());
      auto data = md4(N, C, S, 1);
      dnnl::batch_normalization_backward::desc d(dnnl::prop_kind::backward, data, data, eps, flags());
      dnnl::batch_normalization_backward::primitive_desc pd(d, eng_, fwd);
      // oneDNN wants the shift as an argument although the backward never reads it
      std::vector<float> dsc(C), dsh(C), shift(C, 0.0f), dxs(dx ? 0 : (size_t)N * C * S);
      dnnl::batch_normalization_backward(pd).execute(
          stream_, {{DNNL_ARG_SRC, mem(data, x)}, {DNNL_ARG_MEAN, mem(md1(C), mean)},
                    {DNNL_ARG_VARIANCE, mem(md1(C), var)}, {DNNL_ARG_DIFF_DST, mem(data, dy)},
                    {DNNL_ARG_SCALE, mem(md1(C), scale)}, {DNNL_ARG_SHIFT, mem(md1(C), shift.data())},
                    {DNNL_ARG_DIFF_SRC, mem(data, dx ? dx : dxs.data())},
                    {DNNL_ARG_DIFF_SCALE, mem(md1(C), dsc.data())}, {DNNL_ARG_DIFF_SHIFT, mem(md1(C), dsh.data())}});
      stream_.wait();
      if (dscale) add_into(dscale, dsc.data(), C);
      if (dbias) add_into(dbias, dsh.data(), C);
    });
  }

 private:
  dnnl::engine eng_;
  dnnl::stream stream_;

  static memory::desc md4(int a, int b, int c, int d) { return memory::desc({a, b, c, d}, dt::f32, tag::nchw); }
  static memory::desc md1(int a) { return memory::desc({a}, dt::f32, tag::a); }
  memory mem(const memory::desc& md, const float* p) { return memory(md, eng_, (void*)p); }
  static void add_into(float* dst, const float* src, size_t n) {
    for (size_t i = 0; i < n; i++) dst[i] += src[i];
  }
  static dnnl::normalization_flags flags() {
    return dnnl::normalization_flags::use_scale | dnnl::normalization_flags::use_shift;
  }
  static dnnl::algorithm avg_alg(const PoolParams& p) {
    return p.count_include_pad ? dnnl::algorithm::pooling_avg_include_padding
                               : dnnl::algorithm::pooling_avg_exclude_padding;
  }

  dnnl::convolution_forward::primitive_desc conv_fwd_pd(const ConvParams& p, bool with_bias) {
    memory::dims st{p.sh, p.sw}, dil{p.dh - 1, p.dw - 1}, pl{p.pt, p.pl}, pr{p.pb, p.pr};
    auto src = md4(p.N, p.C, p.H, p.W), wei = md4(p.OC, p.C, p.KH, p.KW), dst = md4(p.N, p.OC, p.OH, p.OW);
    auto d = with_bias ? dnnl::convolution_forward::desc(dnnl::prop_kind::forward_training,
                                                         dnnl::algorithm::convolution_direct, src, wei, md1(p.OC),
                                                         dst, st, dil, pl, pr)
                       : dnnl::convolution_forward::desc(dnnl::prop_kind::forward_training,
                                                         dnnl::algorithm::convolution_direct, src, wei, dst, st, dil,
                                                         pl, pr);
    return dnnl::convolution_forward::primitive_desc(d, eng_);
  }

  dnnl::batch_normalization_forward::primitive_desc bn_fwd_pd(int N, int C, int S, float eps, dnnl::prop_kind prop,
                                                              dnnl::normalization_flags f) {
    dnnl::batch_normalization_forward::desc d(prop, md4(N, C, S, 1), eps, f);
    return dnnl::batch_normalization_forward::primitive_desc(d, eng_);
  }

  dnnl::pooling_v2_forward::primitive_desc pool_fwd_pd(const PoolParams& p, dnnl::algorithm alg,
                                                       dnnl::prop_kind prop) {
    dnnl::pooling_v2_forward::desc d(prop, alg, md4(p.N, p.C, p.H, p.W), md4(p.N, p.C, p.OH, p.OW), {p.sh, p.sw},
                                     {p.KH, p.KW}, {p.dh - 1, p.dw - 1}, {p.pt, p.pl}, {p.pb, p.pr});
    return dnnl::pooling_v2_forward::primitive_desc(d, eng_);
  }

  void pool_forward(float* out, const float* inp, const PoolParams& p, dnnl::algorithm alg, const char* what) {
    STRATA_DNNL_TRY(what, {
      auto pd = pool_fwd_pd(p, alg, dnnl::prop_kind::forward_inference);
      dnnl::pooling_v2_forward(pd).execute(stream_, {{DNNL_ARG_SRC, mem(md4(p.N, p.C, p.H, p.W), inp)},
                                                     {DNNL_ARG_DST, mem(md4(p.N, p.C, p.OH, p.OW), out)}});
      stream_.wait();
    });
  }

  void pool_backward(float* dinp, const float* dout, const PoolParams& p, dnnl::algorithm alg,
                     const dnnl::pooling_v2_forward::primitive_desc& fwd, memory* ws) {
    dnnl::pooling_v2_backward::desc d(alg, md4(p.N, p.C, p.H, p.W), md4(p.N, p.C, p.OH, p.OW), {p.sh, p.sw},
                                      {p.KH, p.KW}, {p.dh - 1, p.dw - 1}, {p.pt, p.pl}, {p.pb, p.pr});
    dnnl::pooling_v2_backward::primitive_desc pd(d, eng_, fwd);
    std::unordered_map<int, memory> args{{DNNL_ARG_DIFF_DST, mem(md4(p.N, p.C, p.OH, p.OW), dout)},
                                         {DNNL_ARG_DIFF_SRC, mem(md4(p.N, p.C, p.H, p.W), dinp)}};
    if (ws) args.insert({DNNL_ARG_WORKSPACE, *ws});
    dnnl::pooling_v2_backward(pd).execute(stream_, args);
    stream_.wait();
  }
};

std::unique_ptr<Backend> make_dnnl_backend() { return std::make_unique<DnnlBackend>(); }

}  // namespace strata
