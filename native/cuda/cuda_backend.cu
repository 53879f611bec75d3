// cuda_backend.cu: the CUDA backend, compiled when CMake finds nvcc.
//
// Memory is real (cudaMalloc/cudaMemcpy behind the Backend memory functions); the
// op functions are not written yet and throw "not implemented on CUDA yet", so a
// session asked for "cuda" fails loudly instead of computing on the wrong device.
// The CUDA issue fills these in, each with a launcher checked by CUDA_CHECK and a
// test against the reference backend, as llm.c's dev/cuda does.
#include <cuda_runtime.h>

#include "../core/backend.h"
#include "../core/check.h"

#define CUDA_CHECK(call)                                                                            \
  do {                                                                                              \
    cudaError_t e_ = (call);                                                                        \
    STRATA_CHECK(e_ == cudaSuccess, "CUDA error " << cudaGetErrorString(e_) << " in " #call         \
                                                  << "\n---> HINT: is a GPU visible (nvidia-smi)?"); \
  } while (0)

namespace strata {

#define NOT_YET(fn) STRATA_FAIL(#fn " is not implemented on CUDA yet; use the 'cpu' backend")

class CudaBackend : public Backend {
 public:
  std::string name() const override { return "cuda"; }

  float* alloc(int64_t n) override {
    float* p = nullptr;
    CUDA_CHECK(cudaMalloc(&p, n * sizeof(float)));
    return p;
  }
  void free(float* p) override { CUDA_CHECK(cudaFree(p)); }
  void upload(float* dst, const float* src, int64_t n) override {
    CUDA_CHECK(cudaMemcpy(dst, src, n * sizeof(float), cudaMemcpyHostToDevice));
  }
  void download(float* dst, const float* src, int64_t n) override {
    CUDA_CHECK(cudaMemcpy(dst, src, n * sizeof(float), cudaMemcpyDeviceToHost));
  }

  void conv2d_forward(float*, const float*, const float*, const float*, const ConvParams&) override {
    NOT_YET(conv2d_forward);
  }
  void conv2d_backward(float*, float*, float*, const float*, const float*, const float*, const ConvParams&) override {
    NOT_YET(conv2d_backward);
  }
  void maxpool2d_forward(float*, const float*, const PoolParams&) override { NOT_YET(maxpool2d_forward); }
  void maxpool2d_backward(float*, const float*, const float*, const PoolParams&) override {
    NOT_YET(maxpool2d_backward);
  }
  void avgpool2d_forward(float*, const float*, const PoolParams&) override { NOT_YET(avgpool2d_forward); }
  void avgpool2d_backward(float*, const float*, const PoolParams&) override { NOT_YET(avgpool2d_backward); }
  void gemm(bool, bool, int, int, int, float, const float*, const float*, float, float*) override { NOT_YET(gemm); }
  void batchnorm_forward_train(float*, float*, float*, const float*, const float*, const float*, int, int, int,
                               float) override {
    NOT_YET(batchnorm_forward_train);
  }
  void batchnorm_forward_infer(float*, const float*, const float*, const float*, const float*, const float*, int, int,
                               int, float) override {
    NOT_YET(batchnorm_forward_infer);
  }
  void batchnorm_backward(float*, float*, float*, const float*, const float*, const float*, const float*,
                          const float*, int, int, int, float) override {
    NOT_YET(batchnorm_backward);
  }
  void act_forward(float*, const float*, int64_t, const ActParams&) override { NOT_YET(act_forward); }
  void act_backward(float*, const float*, const float*, const float*, int64_t, const ActParams&) override {
    NOT_YET(act_backward);
  }
  void softmax_forward(float*, const float*, int64_t, int64_t, int64_t) override { NOT_YET(softmax_forward); }
  void softmax_backward(float*, const float*, const float*, int64_t, int64_t, int64_t) override {
    NOT_YET(softmax_backward);
  }
  void binary_forward(float*, const float*, const float*, const Shape&, const Shape&, const Shape&, Binary) override {
    NOT_YET(binary_forward);
  }
  void binary_backward(float*, float*, const float*, const float*, const float*, const Shape&, const Shape&,
                       const Shape&, Binary) override {
    NOT_YET(binary_backward);
  }
  void transpose(float*, const float*, const Shape&, const std::vector<int64_t>&) override { NOT_YET(transpose); }
  void concat_forward(float*, const std::vector<const float*>&, const std::vector<int64_t>&, int64_t,
                      int64_t) override {
    NOT_YET(concat_forward);
  }
  void concat_backward(const std::vector<float*>&, const float*, const std::vector<int64_t>&, int64_t,
                       int64_t) override {
    NOT_YET(concat_backward);
  }
  void gather_forward(float*, const float*, const int64_t*, int64_t, int64_t, int64_t) override {
    NOT_YET(gather_forward);
  }
  void gather_backward(float*, const float*, const int64_t*, int64_t, int64_t, int64_t) override {
    NOT_YET(gather_backward);
  }
  void reduce_mean_forward(float*, const float*, const Shape&, const Shape&) override { NOT_YET(reduce_mean_forward); }
  void reduce_mean_backward(float*, const float*, const Shape&, const Shape&) override {
    NOT_YET(reduce_mean_backward);
  }
  void dropout_forward(float*, float*, const float*, int64_t, float, uint64_t) override { NOT_YET(dropout_forward); }
  void dropout_backward(float*, const float*, const float*, int64_t) override { NOT_YET(dropout_backward); }
};

std::unique_ptr<Backend> make_cuda_backend() { return std::make_unique<CudaBackend>(); }

}  // namespace strata
