// wmma_emu.h: the tensor-core fragment operations of nvcuda::wmma that the kernels use,
// with their defined semantics, for the emulation (cuda_emu.h includes it).
//
// Supported: the m16n16k8 shape with TF32 inputs (matrix_a 16x8, matrix_b 8x16, each
// row_major or col_major in memory) and FP32 accumulators (16x16). A fragment's element-to-
// lane mapping is unspecified in CUDA; here lane l holds the elements l, l + 32, l + 64...
// of the fragment's matrix in row-major order. Kernels may only treat the elements
// uniformly (fill, convert), as CUDA requires.
//
// load_matrix_sync, store_matrix_sync and mma_sync are warp collectives: all 32 lanes must
// call them with the same pointer, stride and layout, the pointer 32-byte aligned and the
// stride a multiple of 4 floats (CUDA's rules); shared-memory operands go through the race
// detector, each element attributed to the lane that holds it. mma_sync reads only the 19
// high bits of each input (sign, exponent, 10-bit mantissa: TF32, as the hardware does with
// unconverted floats), multiplies exactly (a TF32 product fits a float) and adds the
// products to C in k order in FP32. __float_to_tf32 rounds to nearest, ties away from zero.
#pragma once
#include <cstdint>
#include <cstring>
#include <string>
#include <type_traits>

namespace nvcuda {
namespace wmma {

struct matrix_a {};
struct matrix_b {};
struct accumulator {};
struct row_major {};
struct col_major {};
namespace precision {
struct tf32 {};
}  // namespace precision
enum layout_t { mem_row_major, mem_col_major };

template <class Use, int M, int N, int K>
struct FragmentDims;
template <int M, int N, int K>
struct FragmentDims<matrix_a, M, N, K> {
  static constexpr int rows = M, cols = K;
};
template <int M, int N, int K>
struct FragmentDims<matrix_b, M, N, K> {
  static constexpr int rows = K, cols = N;
};
template <int M, int N, int K>
struct FragmentDims<accumulator, M, N, K> {
  static constexpr int rows = M, cols = N;
};

template <class Use, int M, int N, int K, class T, class Layout = void>
class fragment {
  static_assert(M == 16 && N == 16 && K == 8, "the emulation has the m16n16k8 TF32 shape only");
  static_assert(std::is_same_v<Use, accumulator> ? std::is_same_v<T, float> : std::is_same_v<T, precision::tf32>,
                "the emulation has TF32 inputs and FP32 accumulators only");

 public:
  static constexpr int rows = FragmentDims<Use, M, N, K>::rows, cols = FragmentDims<Use, M, N, K>::cols;
  static constexpr int num_elements = rows * cols / 32;
  using element_type = float;
  float x[num_elements];
};

inline float __float_to_tf32(float f) {
  uint32_t b;
  std::memcpy(&b, &f, 4);
  if ((b & 0x7f800000u) != 0x7f800000u) b = (b + 0x1000u) & 0xffffe000u;  // NaN and infinities stay
  std::memcpy(&f, &b, 4);
  return f;
}

template <class Use, int M, int N, int K, class T, class L>
inline void fill_fragment(fragment<Use, M, N, K, T, L>& f, float v) {
  for (int i = 0; i < f.num_elements; i++) f.x[i] = v;
}

namespace detail {

inline const void* address_of(const float* p) { return p; }
inline const void* address_of(const strata::emu::SharedPtr<float>& p) { return p.raw(); }

// One lane's part of a load or store: its fragment elements and the operation's arguments.
template <class P>
struct MemoryArg {
  float* x;
  P p;
  unsigned ldm;
  bool row_major, write;
};

template <class P>
inline void access(const MemoryArg<P>& a, ptrdiff_t off, float* x, int thread) {
  if constexpr (std::is_same_v<P, strata::emu::SharedPtr<float>>) {
    strata::emu::shared_access(*a.p.a, a.p.i + off, a.write, thread);
    float* e = static_cast<float*>(a.p.a->data) + a.p.i + off;
    if (a.write) *e = *x;
    else *x = *e;
  } else if constexpr (std::is_const_v<std::remove_pointer_t<P>>) {
    *x = a.p[off];
  } else {
    if (a.write) a.p[off] = *x;
    else *x = a.p[off];
  }
}

template <class P, int Rows, int Cols>
inline void complete_memory(void* const* args, uint32_t, uint64_t) {
  const int warp_base = strata::emu::this_thread().warp * 32;
  for (int lane = 0; lane < 32; lane++) {
    auto& a = *static_cast<MemoryArg<P>*>(args[lane]);
    for (int e = 0; e < Rows * Cols / 32; e++) {
      int idx = lane + 32 * e, r = idx / Cols, c = idx % Cols;
      access(a, a.row_major ? (ptrdiff_t)r * a.ldm + c : (ptrdiff_t)c * a.ldm + r, &a.x[e], warp_base + lane);
    }
  }
}

template <int Rows, int Cols, class P>
inline void memory_op(const char* what, float* x, P p, unsigned ldm, bool row_major, bool write) {
  uintptr_t addr = (uintptr_t)address_of(p);
  if (addr % 32 != 0) strata::emu::fault(std::string(what) + ": the pointer is not 32-byte aligned");
  if (ldm % 4 != 0) strata::emu::fault(std::string(what) + ": ldm " + std::to_string(ldm) + " is not a multiple of 4");
  MemoryArg<P> arg{x, p, ldm, row_major, write};
  uint64_t key = (uint64_t)addr * 0x9E3779B97F4A7C15ull ^ ((uint64_t)ldm << 2 | (uint64_t)row_major << 1 | write);
  strata::emu::warp_collective(what, 0xffffffffu, key, &arg, complete_memory<P, Rows, Cols>);
}

struct MmaArg {
  float* d;
  const float *a, *b, *c;
};

inline float tf32_bits(float f) {
  uint32_t b;
  std::memcpy(&b, &f, 4);
  b &= 0xffffe000u;
  std::memcpy(&f, &b, 4);
  return f;
}

inline void complete_mma(void* const* args, uint32_t, uint64_t) {
  float A[16][8], B[8][16], C[16][16];
  for (int lane = 0; lane < 32; lane++) {
    auto& m = *static_cast<MmaArg*>(args[lane]);
    for (int e = 0; e < 4; e++) {
      int i = lane + 32 * e;
      A[i / 8][i % 8] = tf32_bits(m.a[e]);
      B[i / 16][i % 16] = tf32_bits(m.b[e]);
    }
    for (int e = 0; e < 8; e++) {
      int i = lane + 32 * e;
      C[i / 16][i % 16] = m.c[e];
    }
  }
  for (int lane = 0; lane < 32; lane++) {
    auto& m = *static_cast<MmaArg*>(args[lane]);
    for (int e = 0; e < 8; e++) {
      int i = lane + 32 * e, r = i / 16, col = i % 16;
      float acc = C[r][col];
      for (int k = 0; k < 8; k++) acc += A[r][k] * B[k][col];
      m.d[e] = acc;
    }
  }
}

}  // namespace detail

template <class Use, class L, class P>
inline void load_matrix_sync(fragment<Use, 16, 16, 8, precision::tf32, L>& f, P p, unsigned ldm) {
  static_assert(std::is_same_v<L, row_major> || std::is_same_v<L, col_major>, "an input fragment needs its layout");
  using F = fragment<Use, 16, 16, 8, precision::tf32, L>;
  detail::memory_op<F::rows, F::cols>("wmma::load_matrix_sync", f.x, p, ldm, std::is_same_v<L, row_major>, false);
}
template <class P>
inline void load_matrix_sync(fragment<accumulator, 16, 16, 8, float>& f, P p, unsigned ldm, layout_t layout) {
  detail::memory_op<16, 16>("wmma::load_matrix_sync", f.x, p, ldm, layout == mem_row_major, false);
}
template <class P>
inline void store_matrix_sync(P p, const fragment<accumulator, 16, 16, 8, float>& f, unsigned ldm, layout_t layout) {
  detail::memory_op<16, 16>("wmma::store_matrix_sync", const_cast<float*>(f.x), p, ldm, layout == mem_row_major, true);
}

template <class LA, class LB>
inline void mma_sync(fragment<accumulator, 16, 16, 8, float>& d, const fragment<matrix_a, 16, 16, 8, precision::tf32, LA>& a,
                     const fragment<matrix_b, 16, 16, 8, precision::tf32, LB>& b,
                     const fragment<accumulator, 16, 16, 8, float>& c) {
  detail::MmaArg arg{d.x, a.x, b.x, c.x};
  strata::emu::warp_collective("wmma::mma_sync", 0xffffffffu, 0, &arg, detail::complete_mma);
}

}  // namespace wmma
}  // namespace nvcuda
