// gpu.cuh: what every CUDA kernel file includes first. The same source compiles two ways:
//   nvcc (cuda_backend.cu):     real device code, CUDA's runtime and <mma.h>;
//   g++ (cuda_backend_emu.cpp): against the host emulation of the execution model
//                               (emu/cuda_emu.h), so every kernel runs in CI without a GPU.
// Kernels live in namespace strata::gpu, inside an inline namespace that differs between the
// two builds (both may be linked into one test binary).
//
// Shared memory is declared through smem<T> so that the emulation's race detector sees
// every access:   __shared__ __align__(32) smem<float[64][40]> tile;
// and kernels are launched through launch(), which checks the launch and names the kernel.
#pragma once
#include <cstdint>

#ifdef __CUDACC__
#include <cuda_runtime.h>
#include <mma.h>
#define STRATA_GPU_BUILD device_build
#else
#include "emu/cuda_emu.h"
#define STRATA_GPU_BUILD emu_build
#endif

#include "../core/check.h"

#define STRATA_GPU_NAMESPACE_BEGIN \
  namespace strata {               \
  namespace gpu {                  \
  inline namespace STRATA_GPU_BUILD {
#define STRATA_GPU_NAMESPACE_END \
  }                              \
  }                              \
  }

// CUDA_CHECK(call): a CUDA runtime call that must succeed, else strata::Error naming it.
// In the emulation a call that breaks the ordering rules (a copy racing another stream's)
// throws emu::Fault: that too becomes a strata::Error, naming the call.
#ifdef __CUDACC__
#define CUDA_CHECK(call)                                                                                \
  do {                                                                                                  \
    cudaError_t e_ = (call);                                                                            \
    STRATA_CHECK(e_ == cudaSuccess, "CUDA error '" << cudaGetErrorString(e_) << "' in " #call);         \
  } while (0)
#else
#define CUDA_CHECK(call)                                                                                \
  do {                                                                                                  \
    cudaError_t e_ = cudaSuccess;                                                                       \
    try {                                                                                               \
      e_ = (call);                                                                                      \
    } catch (const ::strata::emu::Fault& f_) {                                                          \
      STRATA_FAIL("CUDA emulation: " << f_.what() << " (in " #call ")");                                \
    }                                                                                                   \
    STRATA_CHECK(e_ == cudaSuccess, "CUDA error '" << cudaGetErrorString(e_) << "' in " #call);         \
  } while (0)
#endif

STRATA_GPU_NAMESPACE_BEGIN

#ifdef __CUDACC__
template <class T>
using smem = T;
#else
template <class T>
using smem = ::strata::emu::Shared<T>;
#endif

// Blocks of `threads` covering n items, one item per thread (capped: kernels loop with a grid stride).
inline unsigned blocks_for(int64_t n, int threads) {
  int64_t b = (n + threads - 1) / threads;
  return (unsigned)(b < 1 ? 1 : (b > 65535 * 8 ? 65535 * 8 : b));
}

#ifndef __CUDACC__
// A kernel argument's address when it is a pointer (the emulation checks it against the copies
// other streams have not finished), else null.
template <class A>
const void* pointer_argument(const A& a) {
  if constexpr (std::is_pointer_v<A>) return static_cast<const void*>(a);
  else return nullptr;
}
#endif

// launch("name", kernel, grid, block, stream, args...): kernel<<<grid, block, 0, stream>>>(args...),
// checked. An empty grid launches nothing (CUDA refuses a dimension of 0).
template <class... P, class... A>
void launch(const char* name, void (*kernel)(P...), dim3 grid, dim3 block, cudaStream_t stream, A... args) {
  if ((uint64_t)grid.x * grid.y * grid.z == 0) return;
#ifdef __CUDACC__
  kernel<<<grid, block, 0, stream>>>(static_cast<P>(args)...);
  cudaError_t e = cudaGetLastError();
  STRATA_CHECK(e == cudaSuccess, "CUDA kernel " << name << " failed to launch: " << cudaGetErrorString(e));
#else
  try {  // the arguments by value: a capturing stream records the launch (a CUDA graph)
    ::strata::emu::launch_on_stream(name, stream, grid, block, {pointer_argument(args)...},
                                    [=] { kernel(static_cast<P>(args)...); });
  } catch (const ::strata::emu::Fault& f) {
    STRATA_FAIL("CUDA emulation: " << f.what());
  }
#endif
}

STRATA_GPU_NAMESPACE_END
