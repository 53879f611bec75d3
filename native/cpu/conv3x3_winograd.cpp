#include "conv3x3_winograd.h"

#include <omp.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>

namespace strata {

namespace {

// F(M x M, 3x3): M x M outputs per tile from its (M + 2)^2 input patch. The 1-D transforms
// (Lavin & Gray's matrices, applied to columns and then rows): input r = Bᵀ d, output
// y = Aᵀ m, the output grad's s = A dy, the kernel's u = G k and its grad w = Gᵀ m.
template <int M>
struct F;
template <>
struct F<2> {
  static constexpr int A = 4;
  template <class T>
  static void input(const T* d, T* r) {
    r[0] = d[0] - d[2], r[1] = d[1] + d[2], r[2] = d[2] - d[1], r[3] = d[1] - d[3];
  }
  template <class T>
  static void output(const T* m, T* y) {
    y[0] = m[0] + m[1] + m[2], y[1] = m[1] - m[2] - m[3];
  }
  template <class T>
  static void output_grad(const T* y, T* s) {
    s[0] = y[0], s[1] = y[0] + y[1], s[2] = y[0] - y[1], s[3] = -y[1];
  }
  static void kernel(const float* k, float* u) {
    u[0] = k[0], u[1] = 0.5f * (k[0] + k[1] + k[2]), u[2] = 0.5f * (k[0] - k[1] + k[2]), u[3] = k[2];
  }
  template <class T>
  static void kernel_grad(const T* m, T* w) {
    w[0] = m[0] + 0.5f * (m[1] + m[2]), w[1] = 0.5f * (m[1] - m[2]), w[2] = 0.5f * (m[1] + m[2]) + m[3];
  }
};
template <>
struct F<4> {
  static constexpr int A = 6;
  template <class T>
  static void input(const T* d, T* r) {
    T a = d[4] - 4 * d[2], b = d[3] - 4 * d[1], c = d[4] - d[2], e = 2 * (d[3] - d[1]);
    r[0] = 4 * d[0] - 5 * d[2] + d[4], r[1] = a + b, r[2] = a - b, r[3] = c + e, r[4] = c - e;
    r[5] = 4 * d[1] - 5 * d[3] + d[5];
  }
  template <class T>
  static void output(const T* m, T* y) {
    T a = m[1] + m[2], b = m[1] - m[2], c = m[3] + m[4], e = m[3] - m[4];
    y[0] = m[0] + a + c, y[1] = b + 2 * e, y[2] = a + 4 * c, y[3] = b + 8 * e + m[5];
  }
  template <class T>
  static void output_grad(const T* y, T* s) {
    T a = y[0] + y[2], b = y[1] + y[3], c = y[0] + 4 * y[2], e = 2 * y[1] + 8 * y[3];
    s[0] = y[0], s[1] = a + b, s[2] = a - b, s[3] = c + e, s[4] = c - e, s[5] = y[3];
  }
  // Multiplications by the fractions' reciprocals, not divisions: a division takes several
  // times as long, and these transforms ran serially at a fifth of the forward pass.
  static constexpr float q4 = 1.0f / 4, q6 = 1.0f / 6, q12 = 1.0f / 12, q24 = 1.0f / 24;
  static void kernel(const float* k, float* u) {
    float a = -(k[0] + k[2]) * q6, b = k[1] * q6, c = k[0] * q24 + k[2] * q6, e = k[1] * q12;
    u[0] = k[0] * q4, u[1] = a - b, u[2] = a + b, u[3] = c + e, u[4] = c - e, u[5] = k[2];
  }
  template <class T>
  static void kernel_grad(const T* m, T* w) {
    w[0] = m[0] * q4 - (m[1] + m[2]) * q6 + (m[3] + m[4]) * q24;
    w[1] = (m[2] - m[1]) * q6 + (m[3] - m[4]) * q12;
    w[2] = (m[3] + m[4] - m[1] - m[2]) * q6 + m[5];
  }
};

// One convolution's geometry as the Winograd pass sees it: Ci channels in (H x W), Co out
// (OH x OW), the input read at (M ty - pt + i, M tx - pl + j) for tile (ty, tx).
template <int M>
struct Geo {
  static constexpr int A = F<M>::A, E = A * A;  // patch side, values per tile and channel
  int N, Ci, H, W, Co, OH, OW, pt, pl;
  int TH() const { return (OH + M - 1) / M; }
  int TW() const { return (OW + M - 1) / M; }
  int64_t tiles() const { return (int64_t)N * TH() * TW(); }
  // Tiles per chunk: a thread's transformed inputs and products, E x chunk x (Ci + Co)
  // floats, within about 256 KB (a core's L2 holds 512 KB on the machines measured). Each
  // chunk also reads all E x Ci x Co transformed weights; past 1 MB of them the chunk may
  // take 8 MB instead (up to 64 tiles), else rereading the weights bounds the pass: at
  // 256 -> 256 channels, batch 16 at 16x16 out, 8 tiles a chunk ran the forward at 14.4 ms,
  // 64 at 7.6.
  int chunk() const {
    const bool big = (int64_t)E * Ci * Co > (1 << 18);
    return std::clamp((big ? 1 << 21 : 1 << 16) / (E * (Ci + Co)) / 4 * 4, 8, 64);
  }
  // The transformed tiles are stored tile-major, [tile][e][channels], each tile's E x ch
  // floats padded by a cache line: the E values of a tile and channel block, which the
  // transforms read or write together, then lie close, and the matrix products' row stride
  // is no multiple of 4 KB (with [e][tile][ch] the output transform's loads hit 2 of L1's
  // 64 sets and took twice as long as the products).
  static int64_t tile_stride(int ch) { return E * (int64_t)ch + 16; }
  void tile(int64_t t, int& img, int& ty, int& tx) const {
    tx = (int)(t % TW()), ty = (int)(t / TW() % TH()), img = (int)(t / ((int64_t)TW() * TH()));
  }
};

// U[e][ci][co] = G k Gᵀ, k the 3x3 kernel from input channel ci to output channel co: for
// the forward weight[co][ci]; for the input's grad (flip) weight[ci][co] turned by 180°.
// 16 output channels at a time go through a local buffer and then out as 36 runs of 64
// bytes: stored one by one, the E values of one (ci, co) lie Ci x Co floats apart, in the
// same L1 set for power-of-two channel counts, and the transform took a fifth of the forward.
template <int M>
void weight_transform(float* U, const float* weight, int Ci, int Co, bool flip) {
  constexpr int A = F<M>::A, E = A * A, R = 16;
#pragma omp parallel for schedule(static)
  for (int ci = 0; ci < Ci; ci++)
    for (int co0 = 0; co0 < Co; co0 += R) {
      const int n = std::min(R, Co - co0);
      float run[E][R];
      for (int r = 0; r < n; r++) {
        const int co = co0 + r;
        float k[3][3], gk[A][3], col[3], t[A];
        for (int a = 0; a < 3; a++)
          for (int b = 0; b < 3; b++)
            k[a][b] = flip ? weight[(((int64_t)ci * Co + co) * 3 + 2 - a) * 3 + 2 - b]
                           : weight[(((int64_t)co * Ci + ci) * 3 + a) * 3 + b];
        for (int b = 0; b < 3; b++) {  // G k
          for (int a = 0; a < 3; a++) col[a] = k[a][b];
          F<M>::kernel(col, t);
          for (int i = 0; i < A; i++) gk[i][b] = t[i];
        }
        for (int i = 0; i < A; i++) {  // (G k) Gᵀ
          F<M>::kernel(gk[i], t);
          for (int j = 0; j < A; j++) run[A * i + j][r] = t[j];
        }
      }
      for (int e = 0; e < E; e++) std::memcpy(U + ((int64_t)e * Ci + ci) * Co + co0, run[e], n * sizeof(float));
    }
}

template <int M>
Geo<M> forward_geo(const ConvParams& p) {
  return Geo<M>{p.N, p.C, p.H, p.W, p.OC, p.OH, p.OW, p.pt, p.pl};
}
// The input grad's pass over the output grad:
// dinp[h] = sum_k dout[h + pt - k] w[k] = sum_k' dout[h - (2 - pt) + k'] w[2 - k']
template <int M>
Geo<M> input_grad_geo(const ConvParams& p) {
  return Geo<M>{p.N, p.OC, p.OH, p.OW, p.C, p.H, p.W, 2 - p.pt, 2 - p.pl};
}


namespace avx512 {  // nChw16c: 32 vector registers, 6 x 4 accumulators
constexpr int kLanes = 16, kRows = 6, kVecs = 4, kRows2 = 12;
typedef float vf __attribute__((vector_size(64)));
#define STRATA_TARGET __attribute__((target("avx512f")))
#include "conv3x3_winograd_kernels.inc"
#undef STRATA_TARGET
}  // namespace avx512

namespace avx2 {  // nChw8c: 16 vector registers, 4 x 3 accumulators
constexpr int kLanes = 8, kRows = 4, kVecs = 3, kRows2 = 0;
typedef float vf __attribute__((vector_size(32)));
#define STRATA_TARGET __attribute__((target("avx2,fma")))
#include "conv3x3_winograd_kernels.inc"
#undef STRATA_TARGET
}  // namespace avx2

// Whether this CPU runs the kernels for this channel block.
bool have_kernels(int block) {
  static const bool has_avx512 = __builtin_cpu_supports("avx512f");
  static const bool has_avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  return (block == 16 && has_avx512) || (block == 8 && has_avx2);
}

bool winograd_fits(const ConvParams& p, int block) {
  auto pad_ok = [](int x) { return x >= 0 && x <= 2; };
  return have_kernels(block) && p.KH == 3 && p.KW == 3 && p.sh == 1 && p.sw == 1 && p.dh == 1 && p.dw == 1 &&
         pad_ok(p.pt) && pad_ok(p.pl) && pad_ok(p.pb) && pad_ok(p.pr) && p.C >= 16 && p.OC >= 16 &&
         p.C % block == 0 && p.OC % block == 0 && p.src_blocked && p.dst_blocked && p.OH == p.H + p.pt + p.pb - 2 &&
         p.OW == p.W + p.pl + p.pr - 2;
}

}  // namespace

void winograd_forward(float* out, const float* inp, const float* weight, const float* bias, const ConvParams& p,
                      int block, std::vector<float>& scratch) {
  auto f = block == 16 ? avx512::run<4> : avx2::run<4>;
  f(out, inp, bias, p.relu, forward_geo<4>(p), scratch, false, weight);
}

bool winograd_wins(const ConvParams& p, int block, WinogradPass pass) {
  if (!winograd_fits(p, block)) return false;
  // AVX2: ours for every pass; oneDNN has only its direct kernel there. On the AMD Zen 5 with
  // oneDNN capped to AVX2 that was slower on each pass compared (up to 256 -> 256 channels)
  // but the input grad below 20x20 (13x13, batch 128: 3.5 against our F(2x2)'s 4.5 ms; whole
  // training steps 0.97x the time with it). The AVX2 CPU itself (AMD Zen 3) was not asked.
  if (block == 8) return true;
  // AVX-512 (AMD Zen 5, medians of alternating calls): ours was faster on all three passes
  // from 32 -> 64 to 64 -> 128 channels (about even on the weight grads at 128 -> 128),
  // slower on all three at 256 -> 256 (forward 11.6 against 9.8 ms at 32x32, weight grads
  // 17.0 against 11.9): its chunks of tiles then reread 9 MB of transformed weights.
  if ((int64_t)p.C * p.OC > 128 * 128) return false;
  // Its input grad below 20x20 (2x2 tiles) lost to oneDNN's direct kernel: the 28x28 seed
  // CNN's conv2 at batch 128 took 2.05 against 1.79 ms; at 31x31 (4x4 tiles) it was 1.9x faster.
  return pass != WinogradPass::InputGrad || p.H * p.W >= 400;
}

void winograd_backward_data(float* dinp, const float* dout, const float* weight, const ConvParams& p, int block,
                            std::vector<float>& scratch) {
  // Below 20x20, 2x2 tiles: 4x4 ones waste up to half their outputs past the edge (13x13 in
  // 16x16, no faster there), and their rounding reached the tests' 1e-4 on a 13x13 input grad.
  if (p.H * p.W < 400) {
    auto f = block == 16 ? avx512::run<2> : avx2::run<2>;
    return f(dinp, dout, nullptr, false, input_grad_geo<2>(p), scratch, true, weight);
  }
  auto f = block == 16 ? avx512::run<4> : avx2::run<4>;
  f(dinp, dout, nullptr, false, input_grad_geo<4>(p), scratch, true, weight);
}

void winograd_backward_weights(float* dweight, float* dbias, const float* dout, const float* inp, const ConvParams& p,
                               int block, std::vector<float>& scratch, int64_t partials_bytes) {
  auto f = block == 16 ? avx512::backward_weights<4> : avx2::backward_weights<4>;
  f(dweight, dbias, dout, inp, p, scratch, partials_bytes);
}

}  // namespace strata
