// cuda_backend.cu: the CUDA backend on a real GPU: cuda_backend.cuh compiled by nvcc (the
// same kernels and launchers the emulation runs in CI), and the check that a usable GPU is
// there before a session starts on it.
#include "cuda_backend.cuh"

namespace strata {

// Compute capability 8.0 (Ampere) or later: the kernels use TF32 tensor cores, and the fat
// binary holds code for sm_80 up (PTX for newer GPUs).
constexpr int kMinMajor = 8;

std::string cuda_unavailable_reason() {
  int count = 0;
  cudaError_t e = cudaGetDeviceCount(&count);
  cudaGetLastError();  // clear it: the next CUDA call must not report this one
  if (e == cudaErrorNoDevice || (e == cudaSuccess && count == 0)) return "no CUDA GPU was found";
  if (e == cudaErrorInsufficientDriver)
    return "the NVIDIA driver is older than CUDA " + std::to_string(CUDART_VERSION / 1000) + "." +
           std::to_string(CUDART_VERSION % 1000 / 10) + ", which this build needs; update the driver";
  if (e != cudaSuccess) return std::string("the CUDA runtime could not start: ") + cudaGetErrorString(e);
  cudaDeviceProp prop{};
  if (cudaGetDeviceProperties(&prop, 0) != cudaSuccess) return "the CUDA runtime could not query GPU 0";
  if (prop.major < kMinMajor)
    return std::string("GPU 0 (") + prop.name + ") has compute capability " + std::to_string(prop.major) + "." +
           std::to_string(prop.minor) + "; Strata's CUDA kernels need " + std::to_string(kMinMajor) +
           ".0 (Ampere) or later";
  return "";
}

std::unique_ptr<Backend> make_cuda_backend(const BackendOptions& options) {
  std::string why = cuda_unavailable_reason();
  STRATA_CHECK(why.empty(), "the CUDA backend cannot run here: " << why);
  return std::make_unique<gpu::CudaBackend>("cuda", options);
}

}  // namespace strata
