// gemm.cuh: the tiled matrix product behind GEMM and the implicit-GEMM convolutions.
//
//   C (M,N) = A (M,K) B (K,N), then epi(m, n, c) for every element of C
//
// A and B are not matrices in memory but loaders, a(m, k) and b(k, n), called only inside
// [0,M)x[0,K) and [0,K)x[0,N): a dense matrix (transposed or not), or a convolution's input
// gathered on the fly (im2col without the copy, conv.cuh). The epilogue writes C where
// it belongs (with alpha/beta, a bias, a Relu, +=).
//
// One block of 128 threads (4 warps, 2x2) computes a 64x64 tile of C, stepping through K
// 16 at a time: the block stages A's 64x16 and B's 16x64 slices in shared memory, then
//   TF32 (the default): each warp multiplies its 32x32 quarter on tensor cores, 2x2
//     wmma m16n16k8 fragments, inputs rounded to TF32 as they are staged (PyTorch's and
//     TensorFlow's default for float32 convolutions and matrix products on Ampere and later);
//   FP32 (strict): each thread computes an 8x4 patch with FMAs.
// The accumulators go through shared memory to the epilogue, so that consecutive threads
// write consecutive n (coalesced for row-major C and for NCHW outputs).
//
// Split K (gridDim.z > 1): each z computes the product over its own slice of K into a
// workspace; splitk_reduce then adds the slices in order and applies the epilogue, so the
// sum is the same bits every run (no atomics).
#pragma once
#include "common.cuh"

STRATA_GPU_NAMESPACE_BEGIN

constexpr int kTileM = 64, kTileN = 64, kTileK = 16, kGemmThreads = 128;
constexpr int kPadA = kTileK + 4, kPadB = kTileN + 4, kPadC = kTileN + 4;  // row strides (multiples of 4 for wmma)

// Dense row-major matrices: A stored (M,K) or, transposed, (K,M); B stored (K,N) or (N,K).
struct DenseA {
  const float* p;
  int M, K;
  bool trans;
  __device__ __forceinline__ float operator()(int m, int k) const {
    return trans ? p[(int64_t)k * M + m] : p[(int64_t)m * K + k];
  }
};
struct DenseB {
  const float* p;
  int K, N;
  bool trans;
  __device__ __forceinline__ float operator()(int k, int n) const {
    return trans ? p[(int64_t)n * K + k] : p[(int64_t)k * N + n];
  }
};

// C = alpha * AB + beta * C (beta 0 ignores C, which may hold garbage)
struct GemmEpilogue {
  float* c;
  int N;
  float alpha, beta;
  __device__ __forceinline__ void operator()(int m, int n, float v) const {
    float* p = c + (int64_t)m * N + n;
    *p = alpha * v + (beta == 0.0f ? 0.0f : beta * *p);
  }
};

// Split K's first pass: slice z's product into its own plane of the workspace.
struct PartialEpilogue {
  float* ws;
  int M, N;
  __device__ __forceinline__ void operator()(int m, int n, float v) const {
    ws[((int64_t)blockIdx.z * M + m) * N + n] = v;
  }
};

template <class LoadA, class LoadB, class Epi, bool kTF32>
__global__ void __launch_bounds__(kGemmThreads)
    gemm_tiles(LoadA a, LoadB b, Epi epi, int M, int N, int K, int k_per_split) {
  __shared__ __align__(32) smem<float[kTileM][kPadA]> As;
  __shared__ __align__(32) smem<float[kTileK][kPadB]> Bs;
  __shared__ __align__(32) smem<float[kTileM][kPadC]> Cs;
  const int tid = threadIdx.x, m0 = blockIdx.y * kTileM, n0 = blockIdx.x * kTileN;
  const int k_begin = blockIdx.z * k_per_split, k_end = min(K, k_begin + k_per_split);
  const int warp = tid / 32, wm = warp / 2, wn = warp % 2;  // this warp's 32x32 quarter

  using namespace nvcuda;
  wmma::fragment<wmma::accumulator, 16, 16, 8, float> acc[2][2];
  float patch[8][4];  // FP32: rows (tid / 16) * 8 + i, columns (tid % 16) * 4 + j
  if (kTF32) {
    for (int i = 0; i < 2; i++)
      for (int j = 0; j < 2; j++) wmma::fill_fragment(acc[i][j], 0.0f);
  } else {
    for (int i = 0; i < 8; i++)
      for (int j = 0; j < 4; j++) patch[i][j] = 0.0f;
  }

  for (int k0 = k_begin; k0 < k_end; k0 += kTileK) {
    // stage A (k fastest) and B (n fastest): 8 elements each per thread, zeros outside
#pragma unroll
    for (int e = tid; e < kTileM * kTileK; e += kGemmThreads) {
      int m = e / kTileK, k = e % kTileK;
      float v = m0 + m < M && k0 + k < k_end ? a(m0 + m, k0 + k) : 0.0f;
      As[m][k] = kTF32 ? wmma::__float_to_tf32(v) : v;
    }
#pragma unroll
    for (int e = tid; e < kTileK * kTileN; e += kGemmThreads) {
      int k = e / kTileN, n = e % kTileN;
      float v = k0 + k < k_end && n0 + n < N ? b(k0 + k, n0 + n) : 0.0f;
      Bs[k][n] = kTF32 ? wmma::__float_to_tf32(v) : v;
    }
    __syncthreads();
    if (kTF32) {
      for (int kk = 0; kk < kTileK; kk += 8) {
        wmma::fragment<wmma::matrix_a, 16, 16, 8, wmma::precision::tf32, wmma::row_major> fa[2];
        wmma::fragment<wmma::matrix_b, 16, 16, 8, wmma::precision::tf32, wmma::row_major> fb[2];
        for (int i = 0; i < 2; i++) wmma::load_matrix_sync(fa[i], &As[wm * 32 + i * 16][kk], kPadA);
        for (int j = 0; j < 2; j++) wmma::load_matrix_sync(fb[j], &Bs[kk][wn * 32 + j * 16], kPadB);
        for (int i = 0; i < 2; i++)
          for (int j = 0; j < 2; j++) wmma::mma_sync(acc[i][j], fa[i], fb[j], acc[i][j]);
      }
    } else {
      const int r0 = tid / 16 * 8, c0 = tid % 16 * 4;
      for (int k = 0; k < kTileK; k++) {
        float av[8], bv[4];
        for (int i = 0; i < 8; i++) av[i] = As[r0 + i][k];
        for (int j = 0; j < 4; j++) bv[j] = Bs[k][c0 + j];
        for (int i = 0; i < 8; i++)
          for (int j = 0; j < 4; j++) patch[i][j] += av[i] * bv[j];  // one FMA on the device (nvcc contracts it)
      }
    }
    __syncthreads();
  }

  if (kTF32) {
    for (int i = 0; i < 2; i++)
      for (int j = 0; j < 2; j++)
        wmma::store_matrix_sync(&Cs[wm * 32 + i * 16][wn * 32 + j * 16], acc[i][j], kPadC, wmma::mem_row_major);
  } else {
    const int r0 = tid / 16 * 8, c0 = tid % 16 * 4;
    for (int i = 0; i < 8; i++)
      for (int j = 0; j < 4; j++) Cs[r0 + i][c0 + j] = patch[i][j];
  }
  __syncthreads();
  for (int e = tid; e < kTileM * kTileN; e += kGemmThreads) {
    int m = e / kTileN, n = e % kTileN;
    if (m0 + m < M && n0 + n < N) epi(m0 + m, n0 + n, Cs[m][n]);
  }
}

// Split K's second pass: C = epi(sum of the slices, in slice order).
template <class Epi>
__global__ void splitk_reduce(const float* ws, Epi epi, int M, int N, int splits) {
  STRATA_GRID_LOOP(i, (int64_t)M * N) {
    float s = 0.0f;
    for (int z = 0; z < splits; z++) s += ws[(int64_t)z * M * N + i];
    epi((int)(i / N), (int)(i % N), s);
  }
}

// How many slices of K: enough blocks to fill a large GPU when C has few tiles, each slice
// at least 4 K-steps long. The rule is the same on every device (and in the emulation), so
// the sums are too.
inline int gemm_splits(int M, int N, int K) {
  int64_t tiles = (int64_t)((M + kTileM - 1) / kTileM) * ((N + kTileN - 1) / kTileN);
  int64_t by_k = (K + 4 * kTileK - 1) / (4 * kTileK), by_tiles = (264 + tiles - 1) / tiles;
  int64_t s = by_k < by_tiles ? by_k : by_tiles;
  return (int)(s < 1 ? 1 : (s > 32 ? 32 : s));
}

STRATA_GPU_NAMESPACE_END
