// cuda_backend.cuh: the CUDA backend, the launchers of kernels/*.cuh behind Backend's
// functions. Compiled twice (gpu.cuh): by nvcc into the real backend ("cuda",
// cuda_backend.cu) and by g++ against the host emulation ("cuda-emu", cuda_backend_emu.cpp),
// so that every launcher and kernel here runs in CI.
//
// Every pointer lives in device memory (Backend's contract); all work goes to one stream, in
// order, so a workspace or a freed buffer can be reused by the next kernel without waiting.
// Nothing here synchronizes with the host except download, a Gather (its indices are checked
// at once), sync() and finish_read(). Memory:
//   - freed buffers are kept for the next allocation of the same size (a session re-plans
//     between a few batch sizes: no cudaMalloc inside a step after the first of each);
//   - uploads go through pinned host memory, so cudaMemcpyAsync returns at once and the copy
//     runs in the stream's order; the staging area is reused after each sync point.
// A training step may be recorded as a CUDA graph and replayed (begin_recording, replay): its
// kernels then read the values that change from step to step (StepValues) from step_, and
// what it freed stays its own (held_, retired_) until the recordings are dropped.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>
#include <unordered_map>
#include <vector>

#include "../core/backend.h"
#include "cuda_recurrent.cuh"
#include "kernels/augment.cuh"
#include "kernels/conv.cuh"
#include "kernels/elementwise.cuh"
#include "kernels/layout.cuh"
#include "kernels/norm.cuh"
#include "kernels/optim.cuh"
#include "kernels/pool.cuh"
#include "kernels/resize.cuh"
#include "kernels/softmax_loss.cuh"

STRATA_GPU_NAMESPACE_BEGIN

static_assert((int)Act::Erf == kErf && (int)Act::GeluTanh == kGeluTanh && (int)Act::HardSigmoid == kHardSigmoid &&
                  (int)Act::Sqrt == kSqrt,
              "ActKind follows strata::Act");
static_assert((int)Binary::Div == kDiv && (int)Binary::Min == kMin, "BinaryKind follows strata::Binary");
static_assert((int)LossKind::MeanAbsoluteError == kMAE, "LossCode follows strata::LossKind");
static_assert((int)MetricKind::MeanSquaredError == kMeanSquared, "MetricCode follows strata::MetricKind");
static_assert((int)OptKind::RMSprop == kRMSprop, "OptCode follows strata::OptKind");

inline int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

inline ConvGeom conv_geom(const ConvParams& p) {
  STRATA_CHECK(!p.src_blocked && !p.dst_blocked, "the CUDA backend has no blocked layout (channel_block is 0)");
  return ConvGeom{p.N, p.C, p.H, p.W, p.OC, p.KH, p.KW, p.OH, p.OW, p.sh, p.sw, p.dh, p.dw, p.pt, p.pl, p.G};
}
inline PoolGeom pool_geom(const PoolParams& p) {
  STRATA_CHECK(!p.blocked, "the CUDA backend has no blocked layout (channel_block is 0)");
  return PoolGeom{p.N, p.C, p.H, p.W, p.OH, p.OW, p.KH, p.KW, p.sh, p.sw, p.dh, p.dw, p.pt, p.pl, p.pb, p.pr,
                  p.count_include_pad};
}

inline void check_rank(const Shape& s) {
  STRATA_CHECK(s.size() <= (size_t)kMaxRank, "tensors of rank " << s.size() << " " << shape_str(s)
                                                                  << " are beyond the CUDA backend's " << kMaxRank);
}

// a (as) and b (bs) inside their broadcast shape os
inline Broadcast make_broadcast(const Shape& as, const Shape& bs, const Shape& os) {
  check_rank(os);
  Broadcast bc{};
  bc.rank = (int)os.size();
  std::vector<int64_t> sa = broadcast_strides(as, os), sb = broadcast_strides(bs, os);
  for (int k = 0; k < bc.rank; k++) bc.dims[k] = os[k], bc.sa[k] = sa[k], bc.sb[k] = sb[k];
  return bc;
}

// x (xs, right-aligned) broadcast into os: its axes and the axes it is repeated along
inline ReduceMap make_reduce_map(const Shape& xs, const Shape& os) {
  check_rank(os);
  ReduceMap m{};
  m.red_count = 1;
  std::vector<int64_t> out_strides(os.size(), 1);
  for (int k = (int)os.size() - 2; k >= 0; k--) out_strides[k] = out_strides[k + 1] * os[k + 1];
  for (size_t k = 0; k < os.size(); k++) {
    int64_t xk = k + xs.size() < os.size() ? 1 : xs[k + xs.size() - os.size()];
    if (xk == os[k]) {
      m.kept_dims[m.kept_rank] = os[k], m.kept_strides[m.kept_rank++] = out_strides[k];
    } else {
      m.red_dims[m.red_rank] = os[k], m.red_strides[m.red_rank++] = out_strides[k];
      m.red_count *= os[k];
    }
  }
  return m;
}

class CudaBackend : public Backend {
 public:
  // The convolution algorithm, the CUDA backend's one table: implicit GEMM (conv.cuh) for every
  // pass and shape, on tensor cores in TF32 unless options.tf32 is false, K split as
  // gemm_splits says. "direct" names the same; oneDNN's Winograd is the CPU backend's.
  CudaBackend(std::string name, const BackendOptions& options)
      : name_(std::move(name)), tf32_(options.tf32), graphs_(options.cuda_graphs) {
    STRATA_CHECK(options.conv != ConvAlgorithm::OneDnnWinograd,
                 "the CUDA backend computes convolutions as implicit GEMM: the convolution algorithm may be auto or "
                 "direct, not '"
                     << conv_algorithm_name(options.conv) << "' (the CPU backend's)");
    CUDA_CHECK(cudaStreamCreate(&stream_));
    // non-blocking: the legacy default stream's copies (check_faults) need not wait for a staged batch
    CUDA_CHECK(cudaStreamCreateWithFlags(&copy_stream_, cudaStreamNonBlocking));
    for (StagingArea& a : areas_) CUDA_CHECK(cudaEventCreateWithFlags(&a.uploaded, cudaEventDisableTiming));
    CUDA_CHECK(cudaMalloc(&fault_, sizeof(FaultRecord)));
    CUDA_CHECK(cudaMemsetAsync(fault_, 0, sizeof(FaultRecord), stream_));
    CUDA_CHECK(cudaMalloc(&step_, sizeof(StepValues)));
    CUDA_CHECK(cudaMemsetAsync(step_, 0, sizeof(StepValues), stream_));  // = step_mirror_
  }
  ~CudaBackend() override {
    cudaStreamSynchronize(stream_);
    cudaStreamSynchronize(copy_stream_);
    release_recordings();
    cudaFree(step_);
    cudaFreeHost(readback_);
    for (cudaEvent_t e : marks_) cudaEventDestroy(e);
    for (StagingArea& a : areas_) {
      cudaFree(a.device);
      cudaFreeHost(a.pinned);
      cudaEventDestroy(a.uploaded);
    }
    cudaStreamDestroy(copy_stream_);
    for (auto& w : ws_) cudaFree(w.p);
    for (auto& [n, list] : cache_)
      for (float* p : list) cudaFree(p);
    cudaFreeHost(staging_);
    cudaFree(fault_);
    cudaStreamDestroy(stream_);
  }
  std::string name() const override { return name_; }

  // --- memory ------------------------------------------------------------------------------------
  bool host_memory() const override { return false; }
  float* alloc(int64_t n) override {
    n = n > 0 ? n : 1;
    auto& kept = cache_[n];
    float* p = nullptr;
    if (!kept.empty()) {
      p = kept.back();
      kept.pop_back();
    } else if (cudaMalloc(&p, (size_t)n * sizeof(float)) != cudaSuccess) {
      cudaGetLastError();
      release_cache();  // out of memory: give back what is kept and try once more
      CUDA_CHECK(cudaMalloc(&p, (size_t)n * sizeof(float)));
    }
    sizes_[p] = n;
    if (recording_) freed_in_recording_.erase(p);
    return p;
  }
  // Kept for the next alloc of its size: kernels queued before may still use it, and any
  // kernel queued after runs after them (one stream). Outside a recording, memory the
  // recordings use may be changing hands: they are stale.
  void free(float* p) override {
    auto it = sizes_.find(p);
    STRATA_CHECK(it != sizes_.end(), "free() of memory this CUDA backend did not allocate");
    cache_[it->second].push_back(p);
    if (recording_) freed_in_recording_[p] = it->second;
    else memory_generation_++;
    sizes_.erase(it);
  }
  void upload(float* dst, const float* src, int64_t n) override {
    if (n <= 0) return;
    if (needs_host("an upload of host data")) return;
    const size_t bytes = (size_t)n * sizeof(float), at = (staged_ + 255) / 256 * 256;
    if (at + bytes > staging_bytes_) {  // full: wait for the queued copies, then reuse it from the start
      CUDA_CHECK(cudaStreamSynchronize(stream_));
      staged_ = 0;
      if (bytes > staging_bytes_) grow_staging(bytes);
      return upload(dst, src, n);
    }
    std::memcpy(staging_ + at, src, bytes);
    CUDA_CHECK(cudaMemcpyAsync(dst, staging_ + at, bytes, cudaMemcpyHostToDevice, stream_));
    staged_ = at + bytes;
  }
  void download(float* dst, const float* src, int64_t n) override {
    if (n <= 0) return sync();
    if (needs_host("a download")) return (void)std::fill(dst, dst + n, 0.0f);
    const size_t bytes = (size_t)n * sizeof(float);
    if (bytes > staging_bytes_) {
      CUDA_CHECK(cudaStreamSynchronize(stream_));
      grow_staging(bytes);
    }
    // in the stream's order: the uploads queued before have read their staging by then
    CUDA_CHECK(cudaMemcpyAsync(staging_, src, bytes, cudaMemcpyDeviceToHost, stream_));
    sync();
    std::memcpy(dst, staging_, bytes);
  }
  void sync() override {
    if (needs_host("a wait for the device")) return;
    CUDA_CHECK(cudaStreamSynchronize(stream_));
    staged_ = 0;
    check_faults();
  }
  // The parts go, 256-byte aligned, into the area the running step does not read: into its
  // pinned host buffer, then in one copy on copy_stream_, which the compute stream waits for
  // in await_staged.
  std::vector<const float*> stage(const HostParts& parts) override {
    STRATA_CHECK(!recording_, "internal error: a batch staged while a step is recorded");
    StagingArea& a = areas_[area_ ^= 1];
    CUDA_CHECK(cudaEventSynchronize(a.uploaded));  // its last copy read the pinned buffer
    std::vector<size_t> at;
    size_t bytes = 0;
    for (auto& [p, n] : parts) at.push_back(bytes), bytes += ((size_t)n * sizeof(float) + 255) / 256 * 256;
    if (bytes > a.bytes) {  // the last step that read this area has ended (its metrics were read)
      CUDA_CHECK(cudaFree(a.device));
      CUDA_CHECK(cudaFreeHost(a.pinned));
      a.device = nullptr, a.pinned = nullptr, a.bytes = 0;
      CUDA_CHECK(cudaMalloc(&a.device, bytes));
      CUDA_CHECK(cudaMallocHost(&a.pinned, bytes));
      a.bytes = bytes;
    }
    std::vector<const float*> where;
    for (size_t k = 0; k < parts.size(); k++) {
      if (parts[k].second > 0) std::memcpy(a.pinned + at[k], parts[k].first, (size_t)parts[k].second * sizeof(float));
      where.push_back(reinterpret_cast<const float*>(reinterpret_cast<char*>(a.device) + at[k]));
    }
    if (bytes) CUDA_CHECK(cudaMemcpyAsync(a.device, a.pinned, bytes, cudaMemcpyHostToDevice, copy_stream_));
    CUDA_CHECK(cudaEventRecord(a.uploaded, copy_stream_));
    return where;
  }
  void await_staged() override { CUDA_CHECK(cudaStreamWaitEvent(stream_, areas_[area_].uploaded, 0)); }

  // Profiling: timing events on the compute stream, kept for the next step's marks.
  int mark() override {
    STRATA_CHECK(!recording_, "internal error: a profiled step is never recorded");
    if (marks_used_ == marks_.size()) {
      marks_.emplace_back();
      CUDA_CHECK(cudaEventCreate(&marks_.back()));
    }
    CUDA_CHECK(cudaEventRecord(marks_[marks_used_], stream_));
    return (int)marks_used_++;
  }
  double elapsed_ms(int from, int to) override {
    float ms = 0;
    CUDA_CHECK(cudaEventSynchronize(marks_.at(to)));
    CUDA_CHECK(cudaEventElapsedTime(&ms, marks_.at(from), marks_.at(to)));
    return ms;
  }
  void release_marks() override { marks_used_ = 0; }

  // The metrics' copy into pinned memory, in the stream's order (a recorded step includes it).
  void queue_read(const float* src, int64_t n) override {
    if (n > readback_n_) {
      STRATA_CHECK(!recording_, "internal error: the metrics grew while a step is recorded");
      CUDA_CHECK(cudaStreamSynchronize(stream_));
      CUDA_CHECK(cudaFreeHost(readback_));
      readback_ = nullptr, readback_n_ = 0;
      CUDA_CHECK(cudaMallocHost(&readback_, (size_t)n * sizeof(float)));
      readback_n_ = n;
    }
    read_n_ = n;
    if (n > 0) CUDA_CHECK(cudaMemcpyAsync(readback_, src, (size_t)n * sizeof(float), cudaMemcpyDeviceToHost, stream_));
  }
  std::vector<float> finish_read() override {
    sync();
    return std::vector<float>(readback_, readback_ + read_n_);
  }

  // --- recording a step as a CUDA graph ---------------------------------------------------------------
  bool records_steps() const override { return graphs_; }
  void set_step_values(const OptimizerConfig& c, int64_t step, uint64_t seed_step) override {
    write_step_values(StepValues{c.learning_rate, adam_alpha(c, step), seed_step});
  }
  // Relaxed mode: a cudaMalloc (a buffer the cache lacks) may happen while recording; nothing
  // here synchronizes then (needs_host).
  void begin_recording() override {
    STRATA_CHECK(!recording_, "internal error: a recording inside a recording");
    CUDA_CHECK(cudaStreamBeginCapture(stream_, cudaStreamCaptureModeRelaxed));
    recording_ = true;
    unrecordable_.clear();
    freed_in_recording_.clear();
  }
  int end_recording() override {
    recording_ = false;
    cudaGraph_t graph = nullptr;
    cudaError_t e = cudaStreamEndCapture(stream_, &graph);
    // what the recorded work freed and nothing took again stays its own
    for (auto& [p, n] : freed_in_recording_) {
      auto& kept = cache_[n];
      kept.erase(std::find(kept.begin(), kept.end(), p));
      held_.push_back({p, n});
    }
    freed_in_recording_.clear();
    if (e != cudaSuccess || !unrecordable_.empty()) {
      if (graph) cudaGraphDestroy(graph);
      cudaGetLastError();
      return -1;
    }
    cudaGraphExec_t exec = nullptr;
    e = cudaGraphInstantiate(&exec, graph, 0);
    cudaGraphDestroy(graph);
    CUDA_CHECK(e);
    recordings_.push_back(exec);
    return (int)recordings_.size() - 1;
  }
  void replay(int recording) override { CUDA_CHECK(cudaGraphLaunch(recordings_.at(recording), stream_)); }
  void drop_recordings() override {
    if (recordings_.empty() && held_.empty() && retired_.empty()) return;
    CUDA_CHECK(cudaStreamSynchronize(stream_));  // no replay still runs
    release_recordings();
  }
  uint64_t host_interactions() const override { return host_interactions_; }
  uint64_t memory_generation() const override { return memory_generation_; }

  void fill(float* p, float value, int64_t n) override {
    launch("fill", gpu::fill, dim3(blocks_for(n, kThreads)), dim3(kThreads), stream_, p, value, n);
  }
  void copy(float* dst, const float* src, int64_t n) override {
    if (n > 0 && dst != src)
      CUDA_CHECK(cudaMemcpyAsync(dst, src, (size_t)n * sizeof(float), cudaMemcpyDeviceToDevice, stream_));
  }
  void add_scaled(float* y, const float* x, float a, int64_t n) override {
    launch("add_into", add_into, dim3(blocks_for(n, kThreads)), dim3(kThreads), stream_, y, x, a, n);
  }
  void scale(float* y, const float* x, float a, int64_t n) override {
    launch("scale_into", scale_into, dim3(blocks_for(n, kThreads)), dim3(kThreads), stream_, y, x, a, n);
  }
  void blend(float* y, const float* a, float wa, const float* b, float wb, int64_t n) override {
    launch("blend", gpu::blend, dim3(blocks_for(n, kThreads)), dim3(kThreads), stream_, y, a, wa, b, wb, n);
  }

  // --- convolution ------------------------------------------------------------------------------
  void conv2d_forward(float* out, const float* inp, const float* weight, const float* bias,
                      const ConvParams& p) override {
    ConvGeom g = conv_geom(p);
    if (p.G > 1) {
      const int64_t n = (int64_t)p.N * p.OC * p.OH * p.OW;
      launch("grouped_conv_forward", grouped_conv_forward, dim3(blocks_for(n, kThreads)), dim3(kThreads), stream_,
             out, inp, weight, bias, g, p.relu);
      return;
    }
    const int K = p.C * p.KH * p.KW;
    run_gemm(DenseA{weight, p.OC, K, false}, Im2col{inp, g}, ConvOut{out, bias, p.OC, p.OH * p.OW, p.relu}, p.OC,
             p.N * p.OH * p.OW, K);
  }
  void conv2d_backward(float* dinp, float* dweight, float* dbias, const float* dout, const float* inp,
                       const float* weight, const ConvParams& p) override {
    ConvGeom g = conv_geom(p);
    if (p.G > 1) return grouped_conv_backward(dinp, dweight, dbias, dout, inp, weight, p, g);
    if (dinp)
      run_gemm(WeightsT{weight, g}, DoutGather{dout, g}, DinpOut{dinp, p.C, p.H * p.W}, p.C, p.N * p.H * p.W,
               p.OC * p.KH * p.KW);
    if (dweight)
      run_gemm(DoutRows{dout, p.OC, p.OH * p.OW}, Im2colT{Im2col{inp, g}}, AccumulateOut{dweight, p.C * p.KH * p.KW},
               p.OC, p.C * p.KH * p.KW, p.N * p.OH * p.OW);
    if (dbias) launch("conv_bias_grad", conv_bias_grad, dim3(p.OC), dim3(kThreads), stream_, dbias, dout, p.N, p.OC, p.OH * p.OW);
  }
  void grouped_conv_backward(float* dinp, float* dweight, float* dbias, const float* dout, const float* inp,
                             const float* weight, const ConvParams& p, const ConvGeom& g) {
    const int64_t n = (int64_t)p.N * p.C * p.H * p.W;
    if (dinp)
      launch("grouped_conv_backward_data", grouped_conv_backward_data, dim3(blocks_for(n, kThreads)), dim3(kThreads),
             stream_, dinp, dout, weight, g);
    if (dweight)
      launch("grouped_conv_backward_weights", grouped_conv_backward_weights,
             dim3((unsigned)((int64_t)p.OC * (p.C / p.G) * p.KH * p.KW)), dim3(kThreads), stream_, dweight, dout, inp, g);
    if (dbias) launch("conv_bias_grad", conv_bias_grad, dim3(p.OC), dim3(kThreads), stream_, dbias, dout, p.N, p.OC, p.OH * p.OW);
  }
  // The pair on the whole batch: the convolution's output in `state` (training) or a
  // workspace (inference), then the pooling; the backward as backend.h's default, on the device.
  void conv_maxpool_forward(float* out, const float* inp, const float* weight, const float* bias,
                            const ConvParams& c, const PoolParams& p, float* state) override {
    float* mid = state ? state : workspace(kTempA, conv_maxpool_state_size(c, p));
    conv2d_forward(mid, inp, weight, bias, c);
    maxpool2d_forward(out, mid, p);
  }
  void conv_maxpool_backward(float* dinp, float* dweight, float* dbias, const float* dout, const float* out,
                             const float* inp, const float* weight, const ConvParams& c, const PoolParams& p,
                             const float* state) override {
    const int64_t pooled = (int64_t)p.N * p.C * p.OH * p.OW;
    if (c.relu) {  // the Relu's backward on the pooled grad (backend.h)
      float* masked = workspace(kTempB, pooled);
      act_backward(masked, dout, out, out, pooled, ActParams{Act::Relu});
      dout = masked;
    }
    float* dmid = workspace(kTempC, conv_maxpool_state_size(c, p));
    maxpool2d_backward(dmid, dout, state, p);
    conv2d_backward(dinp, dweight, dbias, dmid, inp, weight, c);
  }

  // --- pooling ---------------------------------------------------------------------------------------
  void maxpool2d_forward(float* out, const float* inp, const PoolParams& p) override {
    int64_t n = (int64_t)p.N * p.C * p.OH * p.OW;
    launch("maxpool_forward", maxpool_forward, dim3(blocks_for(n, kThreads)), dim3(kThreads), stream_, out, inp, pool_geom(p));
  }
  void maxpool2d_backward(float* dinp, const float* dout, const float* inp, const PoolParams& p) override {
    int64_t n = (int64_t)p.N * p.C * p.H * p.W;
    launch("maxpool_backward", maxpool_backward, dim3(blocks_for(n, kThreads)), dim3(kThreads), stream_, dinp, dout, inp,
           pool_geom(p));
  }
  void avgpool2d_forward(float* out, const float* inp, const PoolParams& p) override {
    int64_t n = (int64_t)p.N * p.C * p.OH * p.OW;
    launch("avgpool_forward", avgpool_forward, dim3(blocks_for(n, kThreads)), dim3(kThreads), stream_, out, inp, pool_geom(p));
  }
  void avgpool2d_backward(float* dinp, const float* dout, const PoolParams& p) override {
    int64_t n = (int64_t)p.N * p.C * p.H * p.W;
    launch("avgpool_backward", avgpool_backward, dim3(blocks_for(n, kThreads)), dim3(kThreads), stream_, dinp, dout,
           pool_geom(p));
  }

  // --- matrix product -------------------------------------------------------------------------------
  void gemm(bool ta, bool tb, int M, int N, int K, float alpha, const float* A, const float* B, float beta,
            float* C) override {
    run_gemm(DenseA{A, M, K, ta}, DenseB{B, K, N, tb}, GemmEpilogue{C, N, alpha, beta}, M, N, K);
  }

  // --- batch normalization ------------------------------------------------------------------------------
  void batchnorm_forward_train(float* y, float* mean, float* var, const float* x, const float* scale,
                               const float* bias, int N, int C, int S, float eps) override {
    launch("batchnorm_stats", batchnorm_stats, dim3(C), dim3(kThreads), stream_, mean, var, x, N, C, S);
    batchnorm_forward_infer(y, x, scale, bias, mean, var, N, C, S, eps);
  }
  void batchnorm_forward_infer(float* y, const float* x, const float* scale, const float* bias, const float* mean,
                               const float* var, int N, int C, int S, float eps) override {
    int64_t n = (int64_t)N * C * S;
    launch("batchnorm_apply", batchnorm_apply, dim3(blocks_for(n, kThreads)), dim3(kThreads), stream_, y, x, scale, bias,
           mean, var, C, S, n, eps);
  }
  void batchnorm_backward(float* dx, float* dscale, float* dbias, const float* dy, const float* x,
                          const float* scale, const float* mean, const float* var, int N, int C, int S,
                          float eps) override {
    float* sums = workspace(kTempA, 2 * (int64_t)C);
    launch("batchnorm_grad_sums", batchnorm_grad_sums, dim3(C), dim3(kThreads), stream_, sums, dscale, dbias, dy, x, mean,
           var, N, C, S, eps);
    if (dx)
      launch("batchnorm_dx", batchnorm_dx, dim3(blocks_for((int64_t)N * C * S, kThreads)), dim3(kThreads), stream_, dx, dy,
             x, scale, mean, var, sums, N, C, S, eps);
  }

  // LayerNormalization: a warp per row for the statistics and the input grad, a block per
  // column for the scale and bias grads (sums over the rows, in a fixed order).
  void layer_norm_forward(float* y, float* mean, float* inv_std, const float* x, const float* scale, const float* bias,
                          int64_t rows, int64_t D, float eps) override {
    launch("layer_norm_forward", layer_norm_forward_rows, dim3(blocks_for(rows, kThreads / 32)), dim3(kThreads), stream_,
           y, mean, inv_std, x, scale, bias, rows, D, eps);
  }
  void layer_norm_backward(float* dx, float* dscale, float* dbias, const float* dy, const float* x, const float* scale,
                           const float* mean, const float* inv_std, int64_t rows, int64_t D) override {
    if (dx)
      launch("layer_norm_dx", layer_norm_dx, dim3(blocks_for(rows, kThreads / 32)), dim3(kThreads), stream_, dx, dy, x,
             scale, mean, inv_std, rows, D);
    if ((dscale || dbias) && D > 0)
      launch("layer_norm_param_grads", layer_norm_param_grads, dim3(D), dim3(kThreads), stream_, dscale, dbias, dy, x,
             mean, inv_std, rows, D);
  }

  // --- activations and softmax -----------------------------------------------------------------------
  void act_forward(float* out, const float* inp, int64_t n, const ActParams& a) override {
    launch("act_forward", gpu::act_forward, dim3(blocks_for(n, kThreads)), dim3(kThreads), stream_, out, inp, n,
           (int)a.kind, a.alpha, a.gamma);
  }
  void act_backward(float* dinp, const float* dout, const float* inp, const float* out, int64_t n,
                    const ActParams& a) override {
    launch("act_backward", gpu::act_backward, dim3(blocks_for(n, kThreads)), dim3(kThreads), stream_, dinp, dout, inp, out,
           n, (int)a.kind, a.alpha, a.gamma);
  }
  void softmax_forward(float* out, const float* inp, int64_t outer, int64_t K, int64_t inner, bool log) override {
    int64_t rows = outer * inner;
    launch("softmax_forward", gpu::softmax_forward, dim3(blocks_for(rows, kThreads / 32)), dim3(kThreads), stream_, out, inp,
           rows, K, inner, log);
  }
  void softmax_backward(float* dinp, const float* dout, const float* out, int64_t outer, int64_t K, int64_t inner,
                        bool log) override {
    int64_t rows = outer * inner;
    launch("softmax_backward", gpu::softmax_backward, dim3(blocks_for(rows, kThreads / 32)), dim3(kThreads), stream_, dinp,
           dout, out, rows, K, inner, log);
  }


  // --- element-wise binaries ----------------------------------------------------------------------------
  void binary_forward(float* out, const float* a, const float* b, const Shape& as, const Shape& bs, const Shape& os,
                      Binary op) override {
    int64_t n = numel(os);
    launch("binary_forward", gpu::binary_forward, dim3(blocks_for(n, kThreads)), dim3(kThreads), stream_, out, a, b,
           make_broadcast(as, bs, os), n, (int)op);
  }
  void binary_backward(float* da, float* db, const float* dout, const float* a, const float* b, const Shape& as,
                       const Shape& bs, const Shape& os, Binary op) override {
    Broadcast bc = make_broadcast(as, bs, os);
    if (da) operand_grad(da, true, dout, a, b, bc, as, os, op);
    if (db) operand_grad(db, false, dout, a, b, bc, bs, os, op);
  }
  void transpose(float* out, const float* inp, const Shape& shape, const std::vector<int64_t>& perm) override {
    check_rank(shape);
    Permutation p{};
    p.rank = (int)shape.size();
    std::vector<int64_t> in_strides(shape.size(), 1);
    for (int k = (int)shape.size() - 2; k >= 0; k--) in_strides[k] = in_strides[k + 1] * shape[k + 1];
    for (int k = 0; k < p.rank; k++) p.out_dims[k] = shape[perm[k]], p.in_strides[k] = in_strides[perm[k]];
    int64_t n = numel(shape);
    launch("transpose", gpu::transpose, dim3(blocks_for(n, kThreads)), dim3(kThreads), stream_, out, inp, p, n);
  }
  PadGeom pad_geom(const Shape& in_shape, const Shape& out_shape, const std::vector<int64_t>& begin, PadMode mode) {
    check_rank(out_shape);
    PadGeom g{};
    g.rank = (int)out_shape.size();
    g.mode = mode;
    for (int k = 0; k < g.rank; k++) g.out_dims[k] = out_shape[k], g.in_dims[k] = in_shape[k], g.begin[k] = begin[k];
    return g;
  }
  void pad_forward(float* out, const float* inp, const Shape& in_shape, const Shape& out_shape,
                   const std::vector<int64_t>& begin, PadMode mode, float value) override {
    int64_t n = numel(out_shape);
    launch("pad_forward", gpu::pad_forward, dim3(blocks_for(n, kThreads)), dim3(kThreads), stream_, out, inp,
           pad_geom(in_shape, out_shape, begin, mode), n, value);
  }
  void pad_backward(float* dinp, const float* dout, const Shape& in_shape, const Shape& out_shape,
                    const std::vector<int64_t>& begin, PadMode mode) override {
    int64_t n = numel(in_shape);
    launch("pad_backward", gpu::pad_backward, dim3(blocks_for(n, kThreads)), dim3(kThreads), stream_, dinp, dout,
           pad_geom(in_shape, out_shape, begin, mode), n);
  }
  void resize_forward(float* out, const float* inp, const ResizeParams& p) override {
    int64_t n = p.planes * p.h.out * p.w.out;
    launch("resize_forward", gpu::resize_forward, dim3(blocks_for(n, kThreads)), dim3(kThreads), stream_, out, inp, p, n);
  }
  void resize_backward(float* dinp, const float* dout, const ResizeParams& p) override {
    int64_t n = p.planes * p.h.in * p.w.in;
    launch("resize_backward", gpu::resize_backward, dim3(blocks_for(n, kThreads)), dim3(kThreads), stream_, dinp, dout,
           p, n);
  }
  void concat_forward(float* out, const std::vector<const float*>& inps, const std::vector<int64_t>& len,
                      int64_t outer, int64_t inner) override {
    concat_copies(out, std::vector<float*>(inps.size()), &inps, len, outer, inner);
  }
  void concat_backward(const std::vector<float*>& dinps, const float* dout, const std::vector<int64_t>& len,
                       int64_t outer, int64_t inner) override {
    concat_copies(const_cast<float*>(dout), dinps, nullptr, len, outer, inner);
  }
  void gather_forward(float* out, const float* table, const int64_t* idx, int64_t n_idx, int64_t rows,
                      int64_t D) override {
    launch("gather_forward", gpu::gather_forward, dim3(blocks_for(n_idx * D, kThreads)), dim3(kThreads), stream_, out, table,
           idx, n_idx, rows, D, fault_);
    sync();  // a bad index is the caller's to hear about here, naming the node
  }
  void gather_backward(float* dtable, const float* dout, const int64_t* idx, int64_t n_idx, int64_t rows,
                       int64_t D) override {
    launch("gather_backward", gpu::gather_backward, dim3(blocks_for(D, kThreads)), dim3(kThreads), stream_, dtable, dout,
           idx, n_idx, rows, D);
  }
  void reduce_mean_forward(float* out, const float* inp, const Shape& in_shape, const Shape& out_keep) override {
    ReduceMap map = make_reduce_map(out_keep, in_shape);
    int64_t n_out = numel(out_keep);
    bool per_block = map.red_count >= kThreads;
    launch("reduce_mean_forward", gpu::reduce_mean_forward,
           dim3(per_block ? blocks_for(n_out, 1) : blocks_for(n_out, kThreads)), dim3(kThreads), stream_, out, inp, map,
           n_out, per_block);
  }
  void reduce_mean_backward(float* dinp, const float* dout, const Shape& in_shape, const Shape& out_keep) override {
    int64_t n = numel(in_shape);
    float inv = (float)numel(out_keep) / n;
    launch("reduce_mean_backward", gpu::reduce_mean_backward, dim3(blocks_for(n, kThreads)), dim3(kThreads), stream_, dinp,
           dout, make_broadcast(in_shape, out_keep, in_shape), n, inv);
  }
  // The kernel adds the step block's seed_step back (unsigned: wraps exactly).
  void dropout_forward(float* out, float* mask, const float* inp, int64_t n, float ratio, uint64_t seed) override {
    float scale = ratio < 1 ? 1.0f / (1.0f - ratio) : 0.0f;
    launch("dropout_forward", gpu::dropout_forward, dim3(blocks_for(n, kThreads)), dim3(kThreads), stream_, out, mask, inp,
           n, ratio, scale, seed - step_mirror_.seed_step, (const StepValues*)step_);
  }
  void dropout_backward(float* dinp, const float* dout, const float* mask, int64_t n) override {
    launch("multiply", multiply, dim3(blocks_for(n, kThreads)), dim3(kThreads), stream_, dinp, dout, mask, n);
  }

  // --- Keras's image augmentation (kernels/augment.cuh) ------------------------------------------------
  void affine_sample_forward(float* out, const float* in, const float* maps, const ImageDims& d, const SampleParams& p) override {
    int64_t n = (int64_t)d.N * d.H * d.W * d.C;
    launch("affine_sample_forward", gpu::affine_sample_forward, dim3(blocks_for(n, kThreads)), dim3(kThreads), stream_, out, in, maps,
           d.N, d.H, d.W, d.C, (int)p.fill, p.interp == Interp::Nearest, p.fill_value);
  }
  void affine_sample_backward(float* din, const float* dout, const float* maps, const ImageDims& d, const SampleParams& p) override {
    int64_t n = (int64_t)d.N * d.H * d.W * d.C;
    fill(din, 0.0f, n);
    launch("affine_sample_backward", gpu::affine_sample_backward, dim3(blocks_for(n, kThreads)), dim3(kThreads), stream_, din, dout,
           maps, d.N, d.H, d.W, d.C, (int)p.fill, p.interp == Interp::Nearest);
  }
  void contrast_forward(float* out, float* scratch, const float* in, const float* factors, const ImageDims& d, float lo,
                        float hi) override {
    int P = d.H * d.W;
    int64_t n = (int64_t)d.N * P * d.C;
    launch("channel_means", gpu::channel_means, dim3(blocks_for((int64_t)d.N * d.C, kThreads)), dim3(kThreads), stream_, scratch, in,
           (const float*)nullptr, d.N, P, d.C, 0.0f, 0.0f);
    launch("contrast_forward", gpu::contrast_forward, dim3(blocks_for(n, kThreads)), dim3(kThreads), stream_, out, in,
           (const float*)scratch, factors, d.N, P, d.C, lo, hi);
  }
  void contrast_backward(float* din, float* scratch, const float* dout, const float* out, const float* factors, const ImageDims& d,
                         float lo, float hi) override {
    int P = d.H * d.W;
    int64_t n = (int64_t)d.N * P * d.C;
    launch("channel_means", gpu::channel_means, dim3(blocks_for((int64_t)d.N * d.C, kThreads)), dim3(kThreads), stream_, scratch,
           dout, out, d.N, P, d.C, lo, hi);
    launch("contrast_backward", gpu::contrast_backward, dim3(blocks_for(n, kThreads)), dim3(kThreads), stream_, din, dout, out,
           (const float*)scratch, factors, d.N, P, d.C, lo, hi);
  }

  // --- losses and optimizers ------------------------------------------------------------------------------
  void loss(float* result, float* dpred, const float* pred, const float* target, int64_t rows, int64_t K,
            LossKind kind, bool from_logits, float weight, const float* row_weight) override {
    STRATA_CHECK(rows > 0 && K > 0, "loss on an empty tensor (" << rows << " rows of " << K << ")");
    bool categorical = kind == LossKind::SparseCategoricalCrossentropy || kind == LossKind::CategoricalCrossentropy;
    int64_t n_terms = categorical ? rows : rows * K;
    float* terms = workspace(kTempA, n_terms);
    LossArgs a{dpred, pred, target, row_weight, rows, K, (int)kind, from_logits, weight, terms, fault_};
    if (categorical)
      launch("loss_categorical", loss_categorical, dim3(blocks_for(rows, kThreads / 32)), dim3(kThreads), stream_, a);
    else
      launch("loss_elementwise", loss_elementwise, dim3(blocks_for(n_terms, kThreads)), dim3(kThreads), stream_, a);
    launch("loss_finish", loss_finish, dim3(1), dim3(1024), stream_, result, (const float*)terms, n_terms, weight);
  }
  void metric(float* result, const float* pred, const float* target, int64_t rows, int64_t K, MetricKind kind,
              bool from_logits) override {
    STRATA_CHECK(rows > 0 && K > 0, "metric on an empty tensor (" << rows << " rows of " << K << ")");
    float* terms = workspace(kTempA, rows);
    launch("metric_rows", metric_rows, dim3(blocks_for(rows, kThreads)), dim3(kThreads), stream_, terms, pred, target,
           rows, K, (int)kind, from_logits);
    launch("loss_finish", loss_finish, dim3(1), dim3(1024), stream_, result, (const float*)terms, rows, 1.0f);
  }
  void clip_gradients(const OptimizerConfig& c, const std::vector<float*>& grads,
                      const std::vector<int64_t>& sizes) override {
    int set = (c.clipnorm > 0) + (c.global_clipnorm > 0) + (c.clipvalue > 0);
    STRATA_CHECK(set <= 1, "only one of clipnorm, global_clipnorm and clipvalue may be set (as in Keras)");
    const int count = (int)grads.size();
    if (count == 0 || set == 0) return;
    if (c.clipvalue > 0) {
      for (int t = 0; t < count; t++)
        launch("clip_values", clip_values, dim3(blocks_for(sizes[t], kThreads)), dim3(kThreads), stream_, grads[t], sizes[t],
               c.clipvalue);
      return;
    }
    float* partial = workspace(kTempA, (int64_t)count * kNormBlocks + count + 1);
    float* norms = partial + (int64_t)count * kNormBlocks;
    for (int t = 0; t < count; t++)
      launch("sum_squares", sum_squares, dim3(kNormBlocks), dim3(kThreads), stream_, partial + (int64_t)t * kNormBlocks,
             (const float*)grads[t], sizes[t]);
    bool global = c.global_clipnorm > 0;
    launch("finish_norms", finish_norms, dim3(1), dim3(32), stream_, norms, (const float*)partial, count, global);
    for (int t = 0; t < count; t++)
      launch("clip_to_norm", clip_to_norm, dim3(blocks_for(sizes[t], kThreads)), dim3(kThreads), stream_, grads[t], sizes[t],
             (const float*)(global ? norms + count : norms + t), global ? c.global_clipnorm : c.clipnorm);
  }
  // The learning rate and Adam's step size from the step block: set_step_values put this step's
  // there (a direct call with others writes them first).
  void optimizer_update(const OptimizerConfig& c, float* w, const float* g, int64_t n, float* m, float* v, float* mg,
                        int64_t step) override {
    write_step_values(StepValues{c.learning_rate, adam_alpha(c, step), step_mirror_.seed_step});
    OptStep o{(int)c.kind, c.momentum, 1 - c.beta_1, 1 - c.beta_2, c.epsilon, c.weight_decay, c.rho, c.nesterov,
              c.amsgrad, c.centered};
    launch("optimizer_update", gpu::optimizer_update, dim3(blocks_for(n, kThreads)), dim3(kThreads), stream_, o,
           (const StepValues*)step_, w, g, m, v, mg, n);
  }

  // --- LSTM, GRU and RNN (cuda_recurrent.cuh) ---------------------------------------------------------------
  void recurrent_forward(const RecurrentOutputs& out, float* state, const RecurrentInputs& in,
                         const RecurrentParams& p) override {
    RecurrentLauncher(*this, stream_, p).forward(out, state, in);
  }
  void recurrent_backward(const RecurrentGrads& g, const float* dy, const float* dy_h, const float* dy_c,
                          const float* state, const RecurrentInputs& in, const RecurrentParams& p) override {
    RecurrentLauncher(*this, stream_, p).backward(g, dy, dy_h, dy_c, state, in);
  }

 private:
  enum Slot { kSplitK, kTempA, kTempB, kTempC, kSlots };  // workspaces that may be in use at once
  struct Workspace {
    float* p = nullptr;
    int64_t n = 0;
  };
  std::string name_;
  bool tf32_, graphs_;
  cudaStream_t stream_ = nullptr;
  FaultRecord* fault_ = nullptr;  // device memory, zeroed
  Workspace ws_[kSlots];
  std::unordered_map<int64_t, std::vector<float*>> cache_;  // freed buffers by size
  std::unordered_map<float*, int64_t> sizes_;               // allocated buffers' sizes
  struct StagingArea {  // a batch staged for the next step (stage)
    float* device = nullptr;
    char* pinned = nullptr;
    size_t bytes = 0;
    cudaEvent_t uploaded = nullptr;  // recorded after its copy
  };
  cudaStream_t copy_stream_ = nullptr;
  StagingArea areas_[2];
  std::vector<cudaEvent_t> marks_;  // profiling's timing events
  size_t marks_used_ = 0;
  int area_ = 0;             // the one staged last
  char* staging_ = nullptr;  // pinned host memory for uploads and downloads
  size_t staging_bytes_ = 0, staged_ = 0;  // its size; bytes in use by copies queued since the last sync
  float* readback_ = nullptr;             // pinned: queue_read's copy
  int64_t readback_n_ = 0, read_n_ = 0;   // its size; the floats queued
  // Recording (CUDA graphs):
  StepValues* step_ = nullptr;            // device memory: the step's values the kernels read
  StepValues step_mirror_{0, 0, 0};       // what step_ holds once the work queued so far has run
  bool recording_ = false;
  std::string unrecordable_;              // what the work being recorded needed the host for
  std::unordered_map<float*, int64_t> freed_in_recording_;  // freed while recording, not taken again
  std::vector<std::pair<float*, int64_t>> held_;  // the recordings' own memory, freed by their work
  std::vector<float*> retired_;           // workspaces regrown while recording, which it still uses
  std::vector<cudaGraphExec_t> recordings_;
  uint64_t host_interactions_ = 0, memory_generation_ = 0;

  // Counts a call that needs the host. While recording it is not made (a replay could not
  // repeat it, and CUDA refuses a wait): the recording is marked unusable, returns true.
  bool needs_host(const char* what) {
    host_interactions_++;
    if (!recording_) return false;
    if (unrecordable_.empty()) unrecordable_ = what;
    return true;
  }
  void release_recordings() {  // the stream is idle
    for (cudaGraphExec_t g : recordings_) cudaGraphExecDestroy(g);
    recordings_.clear();
    for (auto& [p, n] : held_) cache_[n].push_back(p);
    held_.clear();
    for (float* p : retired_) cudaFree(p);
    retired_.clear();
  }
  static float adam_alpha(const OptimizerConfig& c, int64_t step) {  // lr * sqrt(1 - b2^t) / (1 - b1^t)
    double t = (double)step;
    return (float)(c.learning_rate * std::sqrt(1 - std::pow((double)c.beta_2, t)) / (1 - std::pow((double)c.beta_1, t)));
  }
  // The step block, written in the stream's order when it changes (from the staging area).
  void write_step_values(const StepValues& s) {
    if (s.lr == step_mirror_.lr && s.alpha == step_mirror_.alpha && s.seed_step == step_mirror_.seed_step) return;
    STRATA_CHECK(!recording_, "internal error: the step's values changed while the step is recorded");
    static_assert(sizeof(StepValues) % sizeof(float) == 0, "the step block is uploaded as floats");
    upload(reinterpret_cast<float*>(step_), reinterpret_cast<const float*>(&s), sizeof(StepValues) / sizeof(float));
    step_mirror_ = s;
  }

  void grow_staging(size_t bytes) {  // the stream is idle when called
    CUDA_CHECK(cudaFreeHost(staging_));
    staging_ = nullptr, staging_bytes_ = 0;
    size_t want = bytes < (1u << 22) ? (1u << 22) : bytes;
    CUDA_CHECK(cudaMallocHost(&staging_, want));
    staging_bytes_ = want;
  }
  void release_cache() {
    CUDA_CHECK(cudaStreamSynchronize(stream_));
    for (auto& [n, list] : cache_)
      for (float* p : list) cudaFree(p);
    cache_.clear();
  }

  // A device buffer of at least n floats for the slot, kept and grown (cudaFree waits for the
  // kernels still using the old one).
  float* workspace(int slot, int64_t n) {
    Workspace& w = ws_[slot];
    if (w.n < n) {
      if (recording_) {
        retired_.push_back(w.p);  // the work recorded before still uses it
      } else {
        memory_generation_++;
        CUDA_CHECK(cudaFree(w.p));
      }
      w.p = nullptr, w.n = 0;
      CUDA_CHECK(cudaMalloc(&w.p, (size_t)n * sizeof(float)));
      w.n = n;
    }
    return w.p;
  }

  void check_faults() {
    FaultRecord f{};
    CUDA_CHECK(cudaMemcpy(&f, fault_, sizeof f, cudaMemcpyDeviceToHost));
    if (f.code == kNoFault) return;
    CUDA_CHECK(cudaMemset(fault_, 0, sizeof(FaultRecord)));
    STRATA_CHECK(f.code != kGatherIndex,
                 "Gather index " << (int64_t)f.value << " is out of range for " << f.limit << " rows");
    STRATA_FAIL("sparse label " << f.value << " is not a class index in [0, " << f.limit << ")");
  }

  // C = A B through gemm_tiles, with K split when C has few tiles (gemm.cuh).
  template <class A, class B, class Epi>
  void run_gemm(A a, B b, Epi epi, int M, int N, int K) {
    if (M <= 0 || N <= 0) return;
    int splits = gemm_splits(M, N, K);
    const int k_per_split = splits > 1 ? (int)(ceil_div(ceil_div(K, splits), kTileK) * kTileK) : K;
    if (splits > 1) splits = (int)ceil_div(K, k_per_split);
    dim3 grid((unsigned)ceil_div(N, kTileN), (unsigned)ceil_div(M, kTileM), (unsigned)splits);
    STRATA_CHECK(grid.y <= 65535, "a matrix product of " << M << " rows is beyond the CUDA backend's tiling");
    if (splits == 1) return gemm_launch(a, b, epi, grid, M, N, K, K);
    float* ws = workspace(kSplitK, (int64_t)splits * M * N);
    gemm_launch(a, b, PartialEpilogue{ws, M, N}, grid, M, N, K, k_per_split);
    launch("splitk_reduce", splitk_reduce<Epi>, dim3(blocks_for((int64_t)M * N, kThreads)), dim3(kThreads), stream_,
           (const float*)ws, epi, M, N, splits);
  }
  template <class A, class B, class Epi>
  void gemm_launch(A a, B b, Epi epi, dim3 grid, int M, int N, int K, int k_per_split) {
    if (tf32_) launch("gemm_tiles<tf32>", gemm_tiles<A, B, Epi, true>, grid, dim3(kGemmThreads), stream_, a, b, epi, M, N, K, k_per_split);
    else launch("gemm_tiles<fp32>", gemm_tiles<A, B, Epi, false>, grid, dim3(kGemmThreads), stream_, a, b, epi, M, N, K, k_per_split);
  }

  // The grad of one operand of a binary: element-wise where it has the output's size, else
  // summed over the axes it was broadcast along.
  void operand_grad(float* dx, bool wrt_a, const float* dout, const float* a, const float* b, const Broadcast& bc,
                    const Shape& xs, const Shape& os, Binary op) {
    int64_t n_out = numel(os), n_x = numel(xs);
    if (n_x == n_out) {
      launch("binary_backward_full", binary_backward_full, dim3(blocks_for(n_out, kThreads)), dim3(kThreads), stream_, dx,
             wrt_a, dout, a, b, bc, n_out, (int)op);
      return;
    }
    ReduceMap map = make_reduce_map(xs, os);
    bool per_block = map.red_count >= kThreads;
    launch("binary_backward_reduce", binary_backward_reduce,
           dim3(per_block ? blocks_for(n_x, 1) : blocks_for(n_x, kThreads)), dim3(kThreads), stream_, dx, wrt_a, dout,
           a, b, bc, map, n_x, per_block, (int)op);
  }

  // Each part (outer, len[t] * inner) to or from its columns of the whole (outer, total * inner):
  // from `from` into whole when given (forward), else from whole into parts (backward).
  void concat_copies(float* whole, const std::vector<float*>& parts, const std::vector<const float*>* from,
                     const std::vector<int64_t>& len, int64_t outer, int64_t inner) {
    int64_t total = 0, offset = 0;
    for (int64_t l : len) total += l;
    for (size_t t = 0; t < len.size(); t++) {
      float* part = from ? const_cast<float*>((*from)[t]) : parts[t];
      if (part)
        launch("concat_copy", concat_copy, dim3(blocks_for(outer * len[t] * inner, kThreads)), dim3(kThreads), stream_,
               whole, part, outer, len[t] * inner, total * inner, offset * inner, from != nullptr);
      offset += len[t];
    }
  }
};

STRATA_GPU_NAMESPACE_END
