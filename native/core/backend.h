// backend.h: the compute interface every device implements.
//
//   ReferenceBackend  core/backend.cpp    plain loops, the oracle for the tests
//   DnnlBackend       cpu/dnnl_backend    oneDNN for conv, pooling, gemm, batchnorm;
//                                         the reference loops for the rest
//   CudaBackend       cuda/cuda_backend   compiled when nvcc exists (cuda/cuda_backend.cuh);
//                                         "cuda-emu": the same kernels on the host emulation of
//                                         CUDA (cuda/emu/), registered by the tests and tools
//
// Every function takes raw pointers that live in the backend's memory (host memory
// for the CPU backends, device memory for CUDA) and follows the same gradient
// contract as the op headers: parameter grads +=, activation grads =. Shapes are
// plain ints so the CUDA launchers need no engine types.
#pragma once
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "losses.h"
#include "ops/activation.h"
#include "ops/augment.h"
#include "ops/conv.h"
#include "ops/pool.h"
#include "ops/recurrent.h"
#include "ops/resize.h"
#include "ops/tensor_ops.h"
#include "optim.h"

namespace strata {

// How convolutions are computed: auto, each backend's own table of rules (DnnlBackend's
// conv_kernel, CudaBackend's), or one algorithm forced everywhere it applies, for benchmarks
// and tests: direct (no Winograd), onednn-winograd (the CPU: oneDNN's Winograd where it has one,
// never ours).
enum class ConvAlgorithm { Auto, Direct, OneDnnWinograd };
ConvAlgorithm conv_algorithm_from_name(const std::string& name);  // "auto", "direct", "onednn-winograd"
const char* conv_algorithm_name(ConvAlgorithm a);

// What a backend may be asked for at creation.
struct BackendOptions {
  // CUDA: convolutions and matrix products on tensor cores with TF32 inputs (10-bit mantissas,
  // FP32 sums), as PyTorch and TensorFlow do by default on Ampere and later; false: strict FP32.
  bool tf32 = true;
  ConvAlgorithm conv = ConvAlgorithm::Auto;
  // CPU: a fused Conv + MaxPool computes slices of the batch of at most this many bytes of
  // convolution output, which stay in the cache between the two (at least one image a slice).
  int64_t conv_pool_slice_bytes = int64_t(4) << 20;
  // CPU, our Winograd's weight grads: partial sums per thread while they take at most this many
  // bytes in all, else the threads share one sum (conv3x3_winograd.h).
  int64_t winograd_partials_bytes = int64_t(64) << 20;
  // CUDA: a training step's device work recorded once per plan as a CUDA graph and replayed
  // (Backend::begin_recording; session_graphs.cpp); false runs every step's launches one by one.
  bool cuda_graphs = true;
};

class Backend {
 public:
  virtual ~Backend() = default;
  virtual std::string name() const = 0;
  virtual void set_num_threads(int n) { (void)n; }
  virtual int max_threads() const { return 1; }  // the most set_num_threads can use (cores)
  // The channel block B of the layout conv/pooling accept through ConvParams::src_blocked/
  // dst_blocked and PoolParams::blocked, 0 for none: oneDNN's nChw<B>c, element (n, c, h, w)
  // at (((n * C/B + c/B) * H + h) * W + w) * B + c%B (C a multiple of B). The CPU's vector
  // width decides it: 16 floats with AVX-512, 8 with AVX2, as oneDNN's own kernels pick.
  virtual int channel_block() const { return 0; }

  // Memory: buffers of n floats in this backend's memory, and copies from/to the host.
  // host_memory(): that memory is the host's (the CPU backends); false for a GPU's, where a
  // session keeps its values (Tensor::device) and computes without host round-trips.
  virtual bool host_memory() const { return true; }
  virtual float* alloc(int64_t n) = 0;
  virtual void free(float* p) = 0;
  virtual void upload(float* dst, const float* host_src, int64_t n) = 0;
  virtual void download(float* host_dst, const float* src, int64_t n) = 0;
  // The session's and kernels' housekeeping on this memory (defaults: host loops).
  virtual void fill(float* p, float value, int64_t n);                      // p = value
  virtual void copy(float* dst, const float* src, int64_t n);               // dst = src
  virtual void add_scaled(float* y, const float* x, float a, int64_t n);    // y += a x
  virtual void scale(float* y, const float* x, float a, int64_t n);         // y = a x
  virtual void blend(float* y, const float* a, float wa, const float* b, float wb, int64_t n);  // y = a wa + b wb

  // conv.h
  virtual void conv2d_forward(float* out, const float* inp, const float* weight, const float* bias,
                              const ConvParams& p) = 0;
  virtual void conv2d_backward(float* dinp, float* dweight, float* dbias, const float* dout, const float* inp,
                               const float* weight, const ConvParams& p) = 0;
  // pool.h
  virtual void maxpool2d_forward(float* out, const float* inp, const PoolParams& p) = 0;
  virtual void maxpool2d_backward(float* dinp, const float* dout, const float* inp, const PoolParams& p) = 0;
  // The forward of a training step: the backend may keep what maxpool2d_backward needs
  // (oneDNN's argmax workspace) for a backward on the same, unchanged inp.
  virtual void maxpool2d_forward_train(float* out, const float* inp, const PoolParams& p) {
    maxpool2d_forward(out, inp, p);
  }
  virtual void avgpool2d_forward(float* out, const float* inp, const PoolParams& p) = 0;
  virtual void avgpool2d_backward(float* dinp, const float* dout, const PoolParams& p) = 0;
  // A Conv (c.relu: with its Relu) and a max pooling of its output as one step, out =
  // maxpool(relu(conv(inp))) (kernel.h, fuse_conv_maxpool); c.dst_blocked == p.blocked
  // is the intermediate's layout. `state`, of conv_maxpool_state_size floats and owned by
  // the caller, keeps what the backward needs from a training forward (null: inference).
  // The backward takes dout, the pooled grad, and out, the forward's output: with c.relu it
  // applies the Relu's backward there (dout where out > 0: the max is > 0 exactly where the
  // element it came from is); dinp =, dweight and dbias +=. This default runs the two ops on the whole batch and
  // keeps the convolution's output in state; the CPU backend computes slices of the batch
  // and keeps only the pooling's argmax.
  virtual int64_t conv_maxpool_state_size(const ConvParams& c, const PoolParams& p);
  virtual void conv_maxpool_forward(float* out, const float* inp, const float* weight, const float* bias,
                                    const ConvParams& c, const PoolParams& p, float* state);
  virtual void conv_maxpool_backward(float* dinp, float* dweight, float* dbias, const float* dout, const float* out,
                                     const float* inp, const float* weight, const ConvParams& c, const PoolParams& p,
                                     const float* state);
  // gemm.h
  virtual void gemm(bool ta, bool tb, int M, int N, int K, float alpha, const float* A, const float* B, float beta,
                    float* C) = 0;
  // batchnorm.h
  virtual void batchnorm_forward_train(float* y, float* mean, float* var, const float* x, const float* scale,
                                       const float* bias, int N, int C, int S, float eps) = 0;
  virtual void batchnorm_forward_infer(float* y, const float* x, const float* scale, const float* bias,
                                       const float* mean, const float* var, int N, int C, int S, float eps) = 0;
  virtual void batchnorm_backward(float* dx, float* dscale, float* dbias, const float* dy, const float* x,
                                  const float* scale, const float* mean, const float* var, int N, int C, int S,
                                  float eps) = 0;
  // activation.h
  virtual void act_forward(float* out, const float* inp, int64_t n, const ActParams& a) = 0;
  virtual void act_backward(float* dinp, const float* dout, const float* inp, const float* out, int64_t n,
                            const ActParams& a) = 0;
  // softmax.h
  // softmax.h; log: LogSoftmax
  virtual void softmax_forward(float* out, const float* inp, int64_t outer, int64_t K, int64_t inner, bool log) = 0;
  virtual void softmax_backward(float* dinp, const float* dout, const float* out, int64_t outer, int64_t K,
                                int64_t inner, bool log) = 0;
  // batchnorm.h: LayerNormalization over rows of D
  virtual void layer_norm_forward(float* y, float* mean, float* inv_std, const float* x, const float* scale,
                                  const float* bias, int64_t rows, int64_t D, float eps) = 0;
  virtual void layer_norm_backward(float* dx, float* dscale, float* dbias, const float* dy, const float* x,
                                   const float* scale, const float* mean, const float* inv_std, int64_t rows,
                                   int64_t D) = 0;
  // tensor_ops.h
  virtual void binary_forward(float* out, const float* a, const float* b, const Shape& as, const Shape& bs,
                              const Shape& os, Binary op) = 0;
  virtual void binary_backward(float* da, float* db, const float* dout, const float* a, const float* b,
                               const Shape& as, const Shape& bs, const Shape& os, Binary op) = 0;
  virtual void transpose(float* out, const float* inp, const Shape& shape, const std::vector<int64_t>& perm) = 0;
  virtual void pad_forward(float* out, const float* inp, const Shape& in_shape, const Shape& out_shape,
                           const std::vector<int64_t>& begin, PadMode mode, float value) = 0;
  virtual void pad_backward(float* dinp, const float* dout, const Shape& in_shape, const Shape& out_shape,
                            const std::vector<int64_t>& begin, PadMode mode) = 0;
  // out (N,H,W,C) = inp (N,C,H,W) stored blocked (channel_block), or back when to_nhwc is false.
  virtual void blocked_nhwc(float* out, const float* inp, int N, int C, int H, int W, bool to_nhwc);
  virtual void concat_forward(float* out, const std::vector<const float*>& inps, const std::vector<int64_t>& len,
                              int64_t outer, int64_t inner) = 0;
  virtual void concat_backward(const std::vector<float*>& dinps, const float* dout, const std::vector<int64_t>& len,
                               int64_t outer, int64_t inner) = 0;
  virtual void gather_forward(float* out, const float* table, const int64_t* idx, int64_t n_idx, int64_t rows,
                              int64_t D) = 0;
  virtual void gather_backward(float* dtable, const float* dout, const int64_t* idx, int64_t n_idx, int64_t rows,
                               int64_t D) = 0;
  virtual void reduce_mean_forward(float* out, const float* inp, const Shape& in_shape, const Shape& out_keep) = 0;
  virtual void reduce_mean_backward(float* dinp, const float* dout, const Shape& in_shape,
                                    const Shape& out_keep) = 0;
  virtual void dropout_forward(float* out, float* mask, const float* inp, int64_t n, float ratio,
                               uint64_t seed) = 0;
  virtual void dropout_backward(float* dinp, const float* dout, const float* mask, int64_t n) = 0;
  // Keras's image augmentation on NHWC images (ops/augment.h): maps holds d.N AffineMaps (6
  // floats each), factors d.N floats, scratch d.N * d.C floats, all in this backend's memory.
  // The defaults are ops/augment.h's host loops (the CPU backends).
  virtual void affine_sample_forward(float* out, const float* in, const float* maps, const ImageDims& d, const SampleParams& p);
  virtual void affine_sample_backward(float* din, const float* dout, const float* maps, const ImageDims& d, const SampleParams& p);
  virtual void contrast_forward(float* out, float* scratch, const float* in, const float* factors, const ImageDims& d, float lo,
                                float hi);
  virtual void contrast_backward(float* din, float* scratch, const float* dout, const float* out, const float* factors,
                                 const ImageDims& d, float lo, float hi);
  // resize.h (defaults: the reference's host loops, for the CPU backends)
  virtual void resize_forward(float* out, const float* inp, const ResizeParams& p);
  virtual void resize_backward(float* dinp, const float* dout, const ResizeParams& p);
  // recurrent.h: LSTM, GRU and RNN through time; state holds recurrent_state_size(p) floats of
  // this backend's memory. The defaults run recurrent.h's host path with this backend's gemm, so
  // a backend with its own memory must override them (they refuse, naming the backend).
  virtual void recurrent_forward(const RecurrentOutputs& out, float* state, const RecurrentInputs& in,
                                 const RecurrentParams& p);
  virtual void recurrent_backward(const RecurrentGrads& g, const float* dy, const float* dy_h, const float* dy_c,
                                  const float* state, const RecurrentInputs& in, const RecurrentParams& p);
  // gemm as recurrent.h's GemmFn (the recurrent ops' matrix products)
  GemmFn gemm_fn();

  // --- the rest of a training step, on this backend's memory (the defaults are the host's
  // loops in losses.cpp and optim.cpp, for the CPU backends) ---
  // losses.h: dpred as loss_forward_backward (may be null); result[0] = the reduced loss
  // loss_forward_backward returns.
  virtual void loss(float* result, float* dpred, const float* pred, const float* target, int64_t rows, int64_t K,
                    LossKind kind, bool from_logits, float weight, const float* row_weight);
  // losses.h: result[0] = metric_value (forward only).
  virtual void metric(float* result, const float* pred, const float* target, int64_t rows, int64_t K,
                      MetricKind kind, bool from_logits);
  // optim.h's clip_gradients and optimizer_update; the slots m, v, mg hold n zeros before the
  // first update and are null where optimizer_slots says the configuration needs none.
  virtual void clip_gradients(const OptimizerConfig& c, const std::vector<float*>& grads,
                              const std::vector<int64_t>& sizes);
  virtual void optimizer_update(const OptimizerConfig& c, float* w, const float* g, int64_t n, float* m, float* v,
                                float* mg, int64_t step);
  // Waits for the work queued so far and raises any bad input a device kernel recorded (an
  // invalid sparse label). The CPU backends compute as they are called: nothing to do.
  virtual void sync() {}

  // The next step's batch, uploaded while this step computes (Session::train_step's `next`):
  // stage() copies the host arrays (parts: pointer and float count) into one of two areas of
  // this backend's memory, the other being the one the running step may read, and returns
  // where each part will be; on a GPU the copy runs on a stream of its own. Nothing may read
  // them before await_staged(), after which the work queued reads the last staged batch.
  // The CPU backends never need it (a session there keeps the host batch): these defaults copy
  // at once.
  using HostParts = std::vector<std::pair<const float*, int64_t>>;
  virtual std::vector<const float*> stage(const HostParts& parts);
  virtual void await_staged() {}

  // Profiling (TrainingDescription::profile): mark() puts a mark in this backend's order of
  // work; elapsed_ms(a, b) is the time between two marks, asked once the work queued before b
  // has run (after the step's wait); release_marks() lets the next step reuse them. On a GPU a
  // mark is a CUDA event on the compute stream, so a node's time is the GPU's for its kernels;
  // the CPU backends compute as they are called, and these defaults read the host's clock.
  virtual int mark();
  virtual double elapsed_ms(int from, int to);
  virtual void release_marks() { marks_.clear(); }

  // The step's metrics toward the host: queue_read queues their copy in this backend's order of
  // work (on a GPU into pinned memory, so that a recorded step includes it); finish_read waits
  // for the work queued and returns them. These defaults download at finish_read.
  virtual void queue_read(const float* src, int64_t n);
  virtual std::vector<float> finish_read();

  // --- recording a training step (CUDA Graphs, BackendOptions::cuda_graphs; session_graphs.cpp) ---
  // A backend that records (records_steps()) keeps the values that change from step to step
  // where its kernels read them: the learning rate, Adam's step (its bias correction: optim.h's
  // step) and the step's part of the Dropout seeds (a node's seed is its own part plus
  // seed_step), set before each step, so that a recorded step replays with the current ones.
  virtual bool records_steps() const { return false; }
  virtual void set_step_values(const OptimizerConfig& c, int64_t step, uint64_t seed_step) {
    (void)c, (void)step, (void)seed_step;
  }
  // Work queued between begin_recording() and end_recording() is recorded, not run.
  // end_recording() returns the recording, or -1 when the work needed the host (an upload of
  // host data, a download, a wait): a replay could not repeat it, so it is dropped, and none of
  // it ran. replay() queues a recording's work again; drop_recordings() forgets them all.
  virtual void begin_recording() {}
  virtual int end_recording() { return -1; }
  virtual void replay(int recording) { (void)recording; }
  virtual void drop_recordings() {}
  // Counts the calls that made the host feed or wait for this backend (uploads, downloads,
  // waits): a step whose work made none can be recorded.
  virtual uint64_t host_interactions() const { return 0; }
  // Changes when memory a recording may use can have changed hands (freed outside a recording,
  // a workspace regrown): the recordings made before it are stale.
  virtual uint64_t memory_generation() const { return 0; }

 private:
  std::vector<float> staged_[2];  // the defaults' two areas
  int staged_area_ = 0;
  std::vector<std::chrono::steady_clock::time_point> marks_;
  const float* read_src_ = nullptr;  // queue_read's
  int64_t read_n_ = 0;
};

// The reference backend: every function is the plain loop from core/ops.
class ReferenceBackend : public Backend {
 public:
  std::string name() const override { return "reference"; }
  float* alloc(int64_t n) override;
  void free(float* p) override;
  void upload(float* dst, const float* host_src, int64_t n) override;
  void download(float* host_dst, const float* src, int64_t n) override;
  void conv2d_forward(float* out, const float* inp, const float* weight, const float* bias,
                      const ConvParams& p) override;
  void conv2d_backward(float* dinp, float* dweight, float* dbias, const float* dout, const float* inp,
                       const float* weight, const ConvParams& p) override;
  void maxpool2d_forward(float* out, const float* inp, const PoolParams& p) override;
  void maxpool2d_backward(float* dinp, const float* dout, const float* inp, const PoolParams& p) override;
  void avgpool2d_forward(float* out, const float* inp, const PoolParams& p) override;
  void avgpool2d_backward(float* dinp, const float* dout, const PoolParams& p) override;
  void gemm(bool ta, bool tb, int M, int N, int K, float alpha, const float* A, const float* B, float beta,
            float* C) override;
  void batchnorm_forward_train(float* y, float* mean, float* var, const float* x, const float* scale,
                               const float* bias, int N, int C, int S, float eps) override;
  void batchnorm_forward_infer(float* y, const float* x, const float* scale, const float* bias, const float* mean,
                               const float* var, int N, int C, int S, float eps) override;
  void batchnorm_backward(float* dx, float* dscale, float* dbias, const float* dy, const float* x,
                          const float* scale, const float* mean, const float* var, int N, int C, int S,
                          float eps) override;
  void act_forward(float* out, const float* inp, int64_t n, const ActParams& a) override;
  void act_backward(float* dinp, const float* dout, const float* inp, const float* out, int64_t n,
                    const ActParams& a) override;
  void softmax_forward(float* out, const float* inp, int64_t outer, int64_t K, int64_t inner, bool log) override;
  void softmax_backward(float* dinp, const float* dout, const float* out, int64_t outer, int64_t K, int64_t inner,
                        bool log) override;
  void layer_norm_forward(float* y, float* mean, float* inv_std, const float* x, const float* scale, const float* bias,
                          int64_t rows, int64_t D, float eps) override;
  void layer_norm_backward(float* dx, float* dscale, float* dbias, const float* dy, const float* x, const float* scale,
                           const float* mean, const float* inv_std, int64_t rows, int64_t D) override;
  void binary_forward(float* out, const float* a, const float* b, const Shape& as, const Shape& bs, const Shape& os,
                      Binary op) override;
  void binary_backward(float* da, float* db, const float* dout, const float* a, const float* b, const Shape& as,
                       const Shape& bs, const Shape& os, Binary op) override;
  void transpose(float* out, const float* inp, const Shape& shape, const std::vector<int64_t>& perm) override;
  void pad_forward(float* out, const float* inp, const Shape& in_shape, const Shape& out_shape,
                   const std::vector<int64_t>& begin, PadMode mode, float value) override;
  void pad_backward(float* dinp, const float* dout, const Shape& in_shape, const Shape& out_shape,
                    const std::vector<int64_t>& begin, PadMode mode) override;
  void concat_forward(float* out, const std::vector<const float*>& inps, const std::vector<int64_t>& len,
                      int64_t outer, int64_t inner) override;
  void concat_backward(const std::vector<float*>& dinps, const float* dout, const std::vector<int64_t>& len,
                       int64_t outer, int64_t inner) override;
  void gather_forward(float* out, const float* table, const int64_t* idx, int64_t n_idx, int64_t rows,
                      int64_t D) override;
  void gather_backward(float* dtable, const float* dout, const int64_t* idx, int64_t n_idx, int64_t rows,
                       int64_t D) override;
  void reduce_mean_forward(float* out, const float* inp, const Shape& in_shape, const Shape& out_keep) override;
  void reduce_mean_backward(float* dinp, const float* dout, const Shape& in_shape, const Shape& out_keep) override;
  void dropout_forward(float* out, float* mask, const float* inp, int64_t n, float ratio, uint64_t seed) override;
  void dropout_backward(float* dinp, const float* dout, const float* mask, int64_t n) override;
};

// "reference", "cpu" (oneDNN), "cuda" (only when built with CUDA) or a registered one.
// Throws for others, and for "cuda" where no usable GPU is found (the message says why).
std::unique_ptr<Backend> make_backend(const std::string& name, const BackendOptions& options = {});
// The names make_backend accepts in this build.
std::vector<std::string> available_backends();
// Why make_backend("cuda") would fail here, in one line ("" when a usable GPU is there): no
// CUDA in this build, no driver or GPU, a driver too old, a GPU older than Ampere.
std::string cuda_unavailable_reason();
// A backend built outside strata_core (the CUDA emulation, linked into tests and tools).
using BackendFactory = std::unique_ptr<Backend> (*)(const BackendOptions&);
void register_backend(const std::string& name, BackendFactory factory);

}  // namespace strata
