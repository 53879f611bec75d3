// cuda_backend_emu.cpp: the CUDA backend's kernels and launchers (cuda_backend.cuh) compiled
// by g++ against the host emulation of CUDA (emu/cuda_emu.h), registered as the backend
// "cuda-emu". Linked into the tests and tools (an object library, so that linking it
// registers the backend), not into the addon.
#include "cuda_backend.cuh"

namespace strata {
namespace {
struct RegisterEmulatedCuda {
  RegisterEmulatedCuda() {
    register_backend("cuda-emu", [](const BackendOptions& o) -> std::unique_ptr<Backend> {
      return std::make_unique<gpu::CudaBackend>("cuda-emu", o);
    });
  }
} register_emulated_cuda;
}  // namespace
}  // namespace strata
