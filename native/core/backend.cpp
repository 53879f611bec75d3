// backend.cpp: the reference backend forwards to the plain loops in core/ops.
#include "backend.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>

#include "check.h"
#include "ops/batchnorm.h"
#include "ops/gemm.h"
#include "ops/softmax.h"

namespace strata {

std::unique_ptr<Backend> make_dnnl_backend(const BackendOptions& options);  // cpu/dnnl_backend.cpp

ConvAlgorithm conv_algorithm_from_name(const std::string& name) {
  if (name == "auto") return ConvAlgorithm::Auto;
  if (name == "direct") return ConvAlgorithm::Direct;
  if (name == "onednn-winograd") return ConvAlgorithm::OneDnnWinograd;
  STRATA_FAIL("unknown convolution algorithm '" << name << "'; expected auto, direct or onednn-winograd");
}
const char* conv_algorithm_name(ConvAlgorithm a) {
  switch (a) {
    case ConvAlgorithm::Auto: return "auto";
    case ConvAlgorithm::Direct: return "direct";
    case ConvAlgorithm::OneDnnWinograd: return "onednn-winograd";
  }
  return "?";
}
#ifdef STRATA_WITH_CUDA
std::unique_ptr<Backend> make_cuda_backend(const BackendOptions& options);  // cuda/cuda_backend.cu
#endif

#ifndef STRATA_WITH_CUDA
std::string cuda_unavailable_reason() {
  return "this build of Strata has no CUDA backend (nvcc was not found when it was compiled)";
}
#endif

static std::map<std::string, BackendFactory>& registered() {
  static std::map<std::string, BackendFactory> r;
  return r;
}
void register_backend(const std::string& name, BackendFactory factory) { registered()[name] = factory; }

std::unique_ptr<Backend> make_backend(const std::string& name, const BackendOptions& options) {
  if (name == "reference") return std::make_unique<ReferenceBackend>();
  if (name == "cpu") return make_dnnl_backend(options);
#ifdef STRATA_WITH_CUDA
  if (name == "cuda") return make_cuda_backend(options);
#endif
  auto it = registered().find(name);
  if (it != registered().end()) return it->second(options);
  std::string known;
  for (auto& n : available_backends()) known += " '" + n + "'";
  STRATA_FAIL("unknown backend '" << name << "'; this build has" << known);
}

std::vector<std::string> available_backends() {
  std::vector<std::string> r = {"cpu", "reference"};
#ifdef STRATA_WITH_CUDA
  r.push_back("cuda");
#endif
  for (auto& [name, factory] : registered()) r.push_back(name);
  return r;
}

void Backend::fill(float* p, float value, int64_t n) { std::fill(p, p + n, value); }
void Backend::resize_forward(float* out, const float* inp, const ResizeParams& p) { ref::resize_forward(out, inp, p); }
void Backend::resize_backward(float* dinp, const float* dout, const ResizeParams& p) {
  ref::resize_backward(dinp, dout, p);
}
// The host path (recurrent.cpp) with this backend's matrix products: oneDNN's on the CPU.
GemmFn Backend::gemm_fn() {
  return [this](bool ta, bool tb, int M, int N, int K, float alpha, const float* A, const float* B, float beta,
                float* C) { gemm(ta, tb, M, N, K, alpha, A, B, beta, C); };
}
void Backend::recurrent_forward(const RecurrentOutputs& out, float* state, const RecurrentInputs& in,
                                const RecurrentParams& p) {
  STRATA_CHECK(host_memory(), "the " << name() << " backend has no recurrent kernels; train this model on 'cpu'");
  strata::recurrent_forward(out, state, in, p, gemm_fn());
}
void Backend::recurrent_backward(const RecurrentGrads& g, const float* dy, const float* dy_h, const float* dy_c,
                                 const float* state, const RecurrentInputs& in, const RecurrentParams& p) {
  STRATA_CHECK(host_memory(), "the " << name() << " backend has no recurrent kernels; train this model on 'cpu'");
  strata::recurrent_backward(g, dy, dy_h, dy_c, state, in, p, gemm_fn());
}
void Backend::copy(float* dst, const float* src, int64_t n) {
  if (n > 0 && dst != src) std::memcpy(dst, src, (size_t)n * sizeof(float));
}
void Backend::add_scaled(float* y, const float* x, float a, int64_t n) {
  for (int64_t i = 0; i < n; i++) y[i] += a * x[i];
}
void Backend::scale(float* y, const float* x, float a, int64_t n) {
  for (int64_t i = 0; i < n; i++) y[i] = a * x[i];
}
void Backend::blend(float* y, const float* a, float wa, const float* b, float wb, int64_t n) {
  for (int64_t i = 0; i < n; i++) y[i] = a[i] * wa + b[i] * wb;
}

// The augmentation's host loops (ops/augment.h), for the backends whose memory is the host's.
void Backend::affine_sample_forward(float* out, const float* in, const float* maps, const ImageDims& d, const SampleParams& p) {
  ::strata::affine_sample_forward(out, in, reinterpret_cast<const AffineMap*>(maps), d, p);
}
void Backend::affine_sample_backward(float* din, const float* dout, const float* maps, const ImageDims& d, const SampleParams& p) {
  ::strata::affine_sample_backward(din, dout, reinterpret_cast<const AffineMap*>(maps), d, p);
}
void Backend::contrast_forward(float* out, float* scratch, const float* in, const float* factors, const ImageDims& d, float lo,
                               float hi) {
  ::strata::contrast_forward(out, scratch, in, factors, d, lo, hi);
}
void Backend::contrast_backward(float* din, float*, const float* dout, const float* out, const float* factors, const ImageDims& d,
                                float lo, float hi) {
  ::strata::contrast_backward(din, dout, out, factors, d, lo, hi);
}

int Backend::mark() {
  marks_.push_back(std::chrono::steady_clock::now());
  return (int)marks_.size() - 1;
}
double Backend::elapsed_ms(int from, int to) {
  return std::chrono::duration<double, std::milli>(marks_.at(to) - marks_.at(from)).count();
}

void Backend::queue_read(const float* src, int64_t n) { read_src_ = src, read_n_ = n; }
std::vector<float> Backend::finish_read() {
  std::vector<float> r((size_t)read_n_);
  if (read_n_ > 0) download(r.data(), read_src_, read_n_);
  return r;
}

std::vector<const float*> Backend::stage(const HostParts& parts) {
  std::vector<float>& area = staged_[staged_area_ ^= 1];  // the other area may be in use
  int64_t total = 0;
  for (auto& [p, n] : parts) total += n;
  area.resize(total);
  std::vector<const float*> at;
  float* next = area.data();
  for (auto& [p, n] : parts) {
    std::copy(p, p + n, next);
    at.push_back(next);
    next += n;
  }
  return at;
}

void Backend::loss(float* result, float* dpred, const float* pred, const float* target, int64_t rows, int64_t K,
                   LossKind kind, bool from_logits, float weight, const float* row_weight) {
  result[0] = loss_forward_backward(dpred, pred, target, rows, K, kind, from_logits, weight, row_weight);
}
void Backend::metric(float* result, const float* pred, const float* target, int64_t rows, int64_t K, MetricKind kind,
                     bool from_logits) {
  result[0] = metric_value(pred, target, rows, K, kind, from_logits);
}
void Backend::clip_gradients(const OptimizerConfig& c, const std::vector<float*>& grads,
                             const std::vector<int64_t>& sizes) {
  strata::clip_gradients(c, grads, sizes);
}
void Backend::optimizer_update(const OptimizerConfig& c, float* w, const float* g, int64_t n, float* m, float* v,
                               float* mg, int64_t step) {
  strata::optimizer_update(c, w, g, n, m, v, mg, step);
}

// Conv then max pooling, composed on the whole batch; state holds the convolution's output.
int64_t Backend::conv_maxpool_state_size(const ConvParams& c, const PoolParams&) {
  return (int64_t)c.N * c.OC * c.OH * c.OW;
}
void Backend::conv_maxpool_forward(float* out, const float* inp, const float* weight, const float* bias,
                                   const ConvParams& c, const PoolParams& p, float* state) {
  if (!state) {
    std::vector<float> mid((size_t)conv_maxpool_state_size(c, p));
    conv2d_forward(mid.data(), inp, weight, bias, c);
    return maxpool2d_forward(out, mid.data(), p);
  }
  conv2d_forward(state, inp, weight, bias, c);
  maxpool2d_forward_train(out, state, p);
}
void Backend::conv_maxpool_backward(float* dinp, float* dweight, float* dbias, const float* dout, const float* out,
                                    const float* inp, const float* weight, const ConvParams& c, const PoolParams& p,
                                    const float* state) {
  std::vector<float> masked;
  if (c.relu) {
    masked.resize((size_t)p.N * p.C * p.OH * p.OW);
    act_backward(masked.data(), dout, out, out, (int64_t)masked.size(), ActParams{Act::Relu});
    dout = masked.data();
  }
  std::vector<float> dmid((size_t)conv_maxpool_state_size(c, p));
  maxpool2d_backward(dmid.data(), dout, state, p);
  conv2d_backward(dinp, dweight, dbias, dmid.data(), inp, weight, c);
}

float* ReferenceBackend::alloc(int64_t n) { return new float[n]; }
void ReferenceBackend::free(float* p) { delete[] p; }
void ReferenceBackend::upload(float* dst, const float* src, int64_t n) { std::memcpy(dst, src, n * sizeof(float)); }
void ReferenceBackend::download(float* dst, const float* src, int64_t n) { std::memcpy(dst, src, n * sizeof(float)); }

void ReferenceBackend::conv2d_forward(float* out, const float* inp, const float* weight, const float* bias,
                                      const ConvParams& p) {
  ref::conv2d_forward(out, inp, weight, bias, p);
  if (p.relu) ref::act_forward(out, out, (int64_t)p.N * p.OC * p.OH * p.OW, ActParams{Act::Relu});
  if (p.clip) ref::act_forward(out, out, (int64_t)p.N * p.OC * p.OH * p.OW, ActParams{Act::Clip, p.clip_lo, p.clip_hi});
}
void ReferenceBackend::conv2d_backward(float* dinp, float* dweight, float* dbias, const float* dout,
                                       const float* inp, const float* weight, const ConvParams& p) {
  ref::conv2d_backward(dinp, dweight, dbias, dout, inp, weight, p);
}
void ReferenceBackend::maxpool2d_forward(float* out, const float* inp, const PoolParams& p) {
  ref::maxpool2d_forward(out, inp, p);
}
void ReferenceBackend::maxpool2d_backward(float* dinp, const float* dout, const float* inp, const PoolParams& p) {
  ref::maxpool2d_backward(dinp, dout, inp, p);
}
void ReferenceBackend::avgpool2d_forward(float* out, const float* inp, const PoolParams& p) {
  ref::avgpool2d_forward(out, inp, p);
}
void ReferenceBackend::avgpool2d_backward(float* dinp, const float* dout, const PoolParams& p) {
  ref::avgpool2d_backward(dinp, dout, p);
}
void ReferenceBackend::gemm(bool ta, bool tb, int M, int N, int K, float alpha, const float* A, const float* B,
                            float beta, float* C) {
  ref::gemm(ta, tb, M, N, K, alpha, A, B, beta, C);
}
void ReferenceBackend::batchnorm_forward_train(float* y, float* mean, float* var, const float* x, const float* scale,
                                               const float* bias, int N, int C, int S, float eps) {
  ref::batchnorm_forward_train(y, mean, var, x, scale, bias, N, C, S, eps);
}
void ReferenceBackend::batchnorm_forward_infer(float* y, const float* x, const float* scale, const float* bias,
                                               const float* mean, const float* var, int N, int C, int S, float eps) {
  ref::batchnorm_forward_infer(y, x, scale, bias, mean, var, N, C, S, eps);
}
void ReferenceBackend::batchnorm_backward(float* dx, float* dscale, float* dbias, const float* dy, const float* x,
                                          const float* scale, const float* mean, const float* var, int N, int C,
                                          int S, float eps) {
  ref::batchnorm_backward(dx, dscale, dbias, dy, x, scale, mean, var, N, C, S, eps);
}
void ReferenceBackend::act_forward(float* out, const float* inp, int64_t n, const ActParams& a) {
  ref::act_forward(out, inp, n, a);
}
void ReferenceBackend::act_backward(float* dinp, const float* dout, const float* inp, const float* out, int64_t n,
                                    const ActParams& a) {
  ref::act_backward(dinp, dout, inp, out, n, a);
}
void ReferenceBackend::softmax_forward(float* out, const float* inp, int64_t outer, int64_t K, int64_t inner, bool log) {
  ref::softmax_forward(out, inp, outer, K, inner, log);
}
void ReferenceBackend::softmax_backward(float* dinp, const float* dout, const float* out, int64_t outer, int64_t K,
                                        int64_t inner, bool log) {
  ref::softmax_backward(dinp, dout, out, outer, K, inner, log);
}
void ReferenceBackend::layer_norm_forward(float* y, float* mean, float* inv_std, const float* x, const float* scale,
                                          const float* bias, int64_t rows, int64_t D, float eps) {
  ref::layer_norm_forward(y, mean, inv_std, x, scale, bias, rows, D, eps);
}
void ReferenceBackend::layer_norm_backward(float* dx, float* dscale, float* dbias, const float* dy, const float* x,
                                           const float* scale, const float* mean, const float* inv_std, int64_t rows,
                                           int64_t D) {
  ref::layer_norm_backward(dx, dscale, dbias, dy, x, scale, mean, inv_std, rows, D);
}
void ReferenceBackend::binary_forward(float* out, const float* a, const float* b, const Shape& as, const Shape& bs,
                                      const Shape& os, Binary op) {
  ref::binary_forward(out, a, b, as, bs, os, op);
}
void ReferenceBackend::binary_backward(float* da, float* db, const float* dout, const float* a, const float* b,
                                       const Shape& as, const Shape& bs, const Shape& os, Binary op) {
  ref::binary_backward(da, db, dout, a, b, as, bs, os, op);
}
void Backend::blocked_nhwc(float* out, const float* inp, int N, int C, int H, int W, bool to_nhwc) {
  const int64_t B = channel_block();
  for (int64_t n = 0; n < N; n++)
    for (int64_t c = 0; c < C; c++)
      for (int64_t h = 0; h < H; h++)
        for (int64_t w = 0; w < W; w++) {
          int64_t blk = (((n * (C / B) + c / B) * H + h) * W + w) * B + c % B, nhwc = ((n * H + h) * W + w) * C + c;
          if (to_nhwc) out[nhwc] = inp[blk];
          else out[blk] = inp[nhwc];
        }
}

void ReferenceBackend::transpose(float* out, const float* inp, const Shape& shape, const std::vector<int64_t>& perm) {
  ref::transpose(out, inp, shape, perm);
}
void ReferenceBackend::pad_forward(float* out, const float* inp, const Shape& in_shape, const Shape& out_shape,
                                   const std::vector<int64_t>& begin, PadMode mode, float value) {
  ref::pad_forward(out, inp, in_shape, out_shape, begin, mode, value);
}
void ReferenceBackend::pad_backward(float* dinp, const float* dout, const Shape& in_shape, const Shape& out_shape,
                                    const std::vector<int64_t>& begin, PadMode mode) {
  ref::pad_backward(dinp, dout, in_shape, out_shape, begin, mode);
}
void ReferenceBackend::concat_forward(float* out, const std::vector<const float*>& inps,
                                      const std::vector<int64_t>& len, int64_t outer, int64_t inner) {
  ref::concat_forward(out, inps, len, outer, inner);
}
void ReferenceBackend::concat_backward(const std::vector<float*>& dinps, const float* dout,
                                       const std::vector<int64_t>& len, int64_t outer, int64_t inner) {
  ref::concat_backward(dinps, dout, len, outer, inner);
}
void ReferenceBackend::gather_forward(float* out, const float* table, const int64_t* idx, int64_t n_idx, int64_t rows,
                                      int64_t D) {
  ref::gather_forward(out, table, idx, n_idx, rows, D);
}
void ReferenceBackend::gather_backward(float* dtable, const float* dout, const int64_t* idx, int64_t n_idx,
                                       int64_t rows, int64_t D) {
  ref::gather_backward(dtable, dout, idx, n_idx, rows, D);
}
void ReferenceBackend::reduce_mean_forward(float* out, const float* inp, const Shape& in_shape,
                                           const Shape& out_keep) {
  ref::reduce_mean_forward(out, inp, in_shape, out_keep);
}
void ReferenceBackend::reduce_mean_backward(float* dinp, const float* dout, const Shape& in_shape,
                                            const Shape& out_keep) {
  ref::reduce_mean_backward(dinp, dout, in_shape, out_keep);
}
void ReferenceBackend::dropout_forward(float* out, float* mask, const float* inp, int64_t n, float ratio,
                                       uint64_t seed) {
  ref::dropout_forward(out, mask, inp, n, ratio, seed);
}
void ReferenceBackend::dropout_backward(float* dinp, const float* dout, const float* mask, int64_t n) {
  ref::dropout_backward(dinp, dout, mask, n);
}

}  // namespace strata
