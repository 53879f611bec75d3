// common.cuh: helpers the kernels share: grid-stride loops, warp and block reductions,
// the broadcast index arithmetic of the element-wise ops, and the fault record through
// which a kernel reports bad input (a Gather index, a sparse label) to the host.
#pragma once
#include <cfloat>

#include "../gpu.cuh"

STRATA_GPU_NAMESPACE_BEGIN

constexpr int kThreads = 256;  // threads per block of the element-wise and reduction kernels
constexpr int kMaxRank = 8;    // tensors of the broadcasting ops, transpose and reductions

// The values of a training step that change from one step to the next, which the kernels read
// from device memory (CudaBackend's step block) rather than from their arguments, so that a
// step recorded once as a CUDA graph replays with each step's own: the learning rate, Adam's
// step size (lr with its bias correction, optim.h) and the step's part of the Dropout seeds.
struct StepValues {
  float lr, alpha;
  uint64_t seed_step;
};

// for (i = this thread's first item; i < n; i += all threads of the grid)
#define STRATA_GRID_LOOP(i, n)                                                                      \
  for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < (int64_t)(n);               \
       i += (int64_t)blockDim.x * gridDim.x)

__device__ __forceinline__ float warp_sum(float v) {
  for (int o = 16; o > 0; o /= 2) v += __shfl_xor_sync(0xffffffffu, v, o);
  return v;
}
__device__ __forceinline__ float warp_max(float v) {
  for (int o = 16; o > 0; o /= 2) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
  return v;
}

// The sum of v over the block (blockDim.x a multiple of 32, at most 1024), returned to every
// thread. The tree is fixed, so a block sums the same values to the same bits every time.
__device__ __forceinline__ float block_sum(float v) {
  __shared__ smem<float[32]> partial;
  __shared__ smem<float> total;
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32, warps = blockDim.x / 32;
  v = warp_sum(v);
  if (lane == 0) partial[warp] = v;
  __syncthreads();
  if (warp == 0) {
    float s = lane < warps ? (float)partial[lane] : 0.0f;
    s = warp_sum(s);
    if (lane == 0) total = s;
  }
  __syncthreads();
  float r = total;
  __syncthreads();  // the next call may overwrite partial and total
  return r;
}

// A tensor's shape and the strides of two operands inside it (0 along broadcast axes):
// the offsets of output element o in a and b.
struct Broadcast {
  int rank;
  int64_t dims[kMaxRank], sa[kMaxRank], sb[kMaxRank];
  __device__ __forceinline__ void offsets(int64_t o, int64_t& ia, int64_t& ib) const {
    ia = 0, ib = 0;
    for (int k = rank - 1; k >= 0; k--) {
      int64_t c = o % dims[k];
      o /= dims[k];
      ia += c * sa[k], ib += c * sb[k];
    }
  }
};

// Reduction of an output-shaped tensor onto a smaller operand x broadcast into it: x's
// element j covers the output offsets base(j) + red(t) for t < red_count.
struct ReduceMap {
  int kept_rank, red_rank;
  int64_t kept_dims[kMaxRank], kept_strides[kMaxRank];  // x's axes, their strides in the output
  int64_t red_dims[kMaxRank], red_strides[kMaxRank];    // the broadcast axes
  int64_t red_count;
  __device__ __forceinline__ int64_t base(int64_t j) const {
    int64_t o = 0;
    for (int k = kept_rank - 1; k >= 0; k--) o += (j % kept_dims[k]) * kept_strides[k], j /= kept_dims[k];
    return o;
  }
  __device__ __forceinline__ int64_t red(int64_t t) const {
    int64_t o = 0;
    for (int k = red_rank - 1; k >= 0; k--) o += (t % red_dims[k]) * red_strides[k], t /= red_dims[k];
    return o;
  }
};

// Bad input a kernel met, for the host to raise at the next check (CudaBackend::sync).
struct FaultRecord {
  int code;      // 0: none; else one of the codes below (the first fault wins)
  int pad;
  double value;  // the offending value
  int64_t limit;  // what it had to be below
};
enum FaultCode { kNoFault = 0, kGatherIndex = 1, kSparseLabel = 2 };

__device__ __forceinline__ void record_fault(FaultRecord* f, int code, double value, int64_t limit) {
  if (atomicCAS(&f->code, 0, code) == 0) f->value = value, f->limit = limit;
}

STRATA_GPU_NAMESPACE_END
