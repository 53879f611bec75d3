#include "conv3x3_winograd.h"

#include <omp.h>

#include <algorithm>
#include <cstdint>
#include <cstring>

namespace strata {

namespace {

// 8 channels, one AVX2 register (GCC/Clang vector extensions, compiled for AVX2 and FMA in
// these functions only; winograd_fits is false on CPUs without them).
typedef float v8 __attribute__((vector_size(32)));
#define STRATA_AVX2 __attribute__((target("avx2,fma")))
constexpr int L = 8;

STRATA_AVX2 inline v8 load(const float* p) {
  v8 v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
STRATA_AVX2 inline void store(float* p, v8 v) { std::memcpy(p, &v, sizeof v); }

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
  static void kernel_grad(const float* m, float* w) {
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
  static void kernel(const float* k, float* u) {
    float a = -(k[0] + k[2]) / 6, b = k[1] / 6, c = k[0] / 24 + k[2] / 6, e = k[1] / 12;
    u[0] = k[0] / 4, u[1] = a - b, u[2] = a + b, u[3] = c + e, u[4] = c - e, u[5] = k[2];
  }
  static void kernel_grad(const float* m, float* w) {
    w[0] = m[0] / 4 - (m[1] + m[2]) / 6 + (m[3] + m[4]) / 24;
    w[1] = (m[2] - m[1]) / 6 + (m[3] - m[4]) / 12;
    w[2] = (m[3] + m[4] - m[1] - m[2]) / 6 + m[5];
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
  // floats, within about 256 KB (a core's L2 holds 512 KB on the machines measured).
  int chunk() const { return std::clamp(65536 / (E * (Ci + Co)) / 4 * 4, 8, 64); }
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

// C[i][v] (+)= sum_k A(i, k) B[k][v] for RT rows and RV vectors of 8 columns; A(i, k) at
// A[i * ars + k * aks], B[k] at B + k * ldb, C[i] at C + i * ldc. The accumulators stay in
// registers (4 x 3 of AVX2's 16).
template <int RT, int RV>
STRATA_AVX2 void micro(float* C, int ldc, const float* A, int ars, int aks, const float* B, int ldb, int K, bool acc) {
  v8 c[RT][RV];
  for (int i = 0; i < RT; i++)
    for (int v = 0; v < RV; v++) c[i][v] = acc ? load(C + i * ldc + v * L) : v8{};
  for (int k = 0; k < K; k++) {
    v8 b[RV];
    for (int v = 0; v < RV; v++) b[v] = load(B + (int64_t)k * ldb + v * L);
    for (int i = 0; i < RT; i++) {
      float a = A[i * ars + (int64_t)k * aks];
      for (int v = 0; v < RV; v++) c[i][v] += a * b[v];
    }
  }
  for (int i = 0; i < RT; i++)
    for (int v = 0; v < RV; v++) store(C + i * ldc + v * L, c[i][v]);
}

template <int RT>
STRATA_AVX2 void micro_row(float* C, int ldc, const float* A, int ars, int aks, const float* B, int ldb, int K,
                           int vecs, bool acc) {
  int v = 0;
  for (; v + 3 <= vecs; v += 3) micro<RT, 3>(C + v * L, ldc, A, ars, aks, B + v * L, ldb, K, acc);
  if (vecs - v == 2) micro<RT, 2>(C + v * L, ldc, A, ars, aks, B + v * L, ldb, K, acc);
  if (vecs - v == 1) micro<RT, 1>(C + v * L, ldc, A, ars, aks, B + v * L, ldb, K, acc);
}

// C (rows x 8 vecs) (+)= A (rows x K) B (K x 8 vecs), strides as in micro.
STRATA_AVX2 void gemm(float* C, int ldc, const float* A, int ars, int aks, const float* B, int ldb, int rows, int K,
                      int vecs, bool acc) {
  int i = 0;
  for (; i + 4 <= rows; i += 4) micro_row<4>(C + i * ldc, ldc, A + i * ars, ars, aks, B, ldb, K, vecs, acc);
  switch (rows - i) {
    case 3: micro_row<3>(C + i * ldc, ldc, A + i * ars, ars, aks, B, ldb, K, vecs, acc); break;
    case 2: micro_row<2>(C + i * ldc, ldc, A + i * ars, ars, aks, B, ldb, K, vecs, acc); break;
    case 1: micro_row<1>(C + i * ldc, ldc, A + i * ars, ars, aks, B, ldb, K, vecs, acc); break;
  }
}

// V[r][e][Ci] (e = A i + j) = Bᵀ d B for the chunk's tiles t0 .. t0 + n, d read from the
// nChw8c input, zeros outside it.
template <int M>
STRATA_AVX2 void input_transform(float* V, int64_t t0, int n, const float* inp, const Geo<M>& g) {
  constexpr int A = F<M>::A;
  const int CB = g.Ci / L;
  for (int r = 0; r < n; r++) {
    int img, ty, tx;
    g.tile(t0 + r, img, ty, tx);
    int h0 = M * ty - g.pt, w0 = M * tx - g.pl;
    bool inside = h0 >= 0 && w0 >= 0 && h0 + A <= g.H && w0 + A <= g.W;
    for (int cb = 0; cb < CB; cb++) {
      const float* x = inp + ((int64_t)img * CB + cb) * g.H * g.W * L;
      v8 d[A][A], u[A][A], col[A], t[A];
      for (int i = 0; i < A; i++)
        for (int j = 0; j < A; j++) {
          int h = h0 + i, w = w0 + j;
          d[i][j] = inside || (h >= 0 && h < g.H && w >= 0 && w < g.W) ? load(x + ((int64_t)h * g.W + w) * L) : v8{};
        }
      for (int j = 0; j < A; j++) {  // Bᵀ d
        for (int i = 0; i < A; i++) col[i] = d[i][j];
        F<M>::input(col, t);
        for (int i = 0; i < A; i++) u[i][j] = t[i];
      }
      float* o = V + r * g.tile_stride(g.Ci) + cb * L;
      for (int i = 0; i < A; i++) {  // (Bᵀ d) B
        F<M>::input(u[i], t);
        for (int j = 0; j < A; j++) store(o + (A * i + j) * g.Ci, t[j]);
      }
    }
  }
}

// out (nChw8c) = relu?(Aᵀ m A + bias) for the chunk's tiles, m from M[r][e][Co].
template <int M>
STRATA_AVX2 void output_transform(float* out, const float* Mt, int64_t t0, int n, const float* bias, bool relu,
                                  const Geo<M>& g) {
  constexpr int A = F<M>::A;
  const int OB = g.Co / L;
  for (int r = 0; r < n; r++) {
    int img, ty, tx;
    g.tile(t0 + r, img, ty, tx);
    int rows = std::min(M, g.OH - M * ty), cols = std::min(M, g.OW - M * tx);
    for (int ob = 0; ob < OB; ob++) {
      const float* m = Mt + r * g.tile_stride(g.Co) + ob * L;
      v8 s[M][A], col[A], t[M];
      for (int j = 0; j < A; j++) {  // Aᵀ m
        for (int i = 0; i < A; i++) col[i] = load(m + (A * i + j) * g.Co);
        F<M>::output(col, t);
        for (int i = 0; i < M; i++) s[i][j] = t[i];
      }
      v8 b = bias ? load(bias + ob * L) : v8{};
      float* y = out + ((int64_t)img * OB + ob) * g.OH * g.OW * L;
      for (int i = 0; i < rows; i++) {  // (Aᵀ m) A
        F<M>::output(s[i], t);
        for (int j = 0; j < cols; j++) {
          v8 v = t[j] + b;
          if (relu) v = v > v8{} ? v : v8{};
          store(y + ((int64_t)(M * ty + i) * g.OW + M * tx + j) * L, v);
        }
      }
    }
  }
}

// U[e][ci][co] = G k Gᵀ, k the 3x3 kernel from input channel ci to output channel co: for
// the forward weight[co][ci]; for the input's grad (flip) weight[ci][co] turned by 180°.
template <int M>
void weight_transform(float* U, const float* weight, int Ci, int Co, bool flip) {
  constexpr int A = F<M>::A;
  for (int ci = 0; ci < Ci; ci++)
    for (int co = 0; co < Co; co++) {
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
        for (int j = 0; j < A; j++) U[((int64_t)(A * i + j) * Ci + ci) * Co + co] = t[j];
      }
    }
}

// The forward pass for geometry g: the convolution and, with the flipped weights, the
// input's grad. The transformed weights U (E x Ci x Co) are at the front of scratch.
template <int M>
STRATA_AVX2 void run(float* out, const float* inp, const float* bias, bool relu, const Geo<M>& g,
                     std::vector<float>& scratch, bool flip, const float* weight) {
  constexpr int E = Geo<M>::E;
  const int Tc = g.chunk(), threads = omp_get_max_threads();
  const size_t u = (size_t)E * g.Ci * g.Co, per = (size_t)Tc * (g.tile_stride(g.Ci) + g.tile_stride(g.Co));
  if (scratch.size() < u + per * threads) scratch.resize(u + per * threads);
  const float* U = scratch.data();
  weight_transform<M>(scratch.data(), weight, g.Ci, g.Co, flip);
  const int64_t T = g.tiles(), chunks = (T + Tc - 1) / Tc;
  float* base = scratch.data() + u;
#pragma omp parallel for schedule(static)
  for (int64_t k = 0; k < chunks; k++) {
    float* V = base + per * omp_get_thread_num();
    float* Mt = V + Tc * g.tile_stride(g.Ci);
    int64_t t0 = k * Tc;
    int n = (int)std::min<int64_t>(Tc, T - t0);
    input_transform(V, t0, n, inp, g);
    for (int e = 0; e < E; e++)
      gemm(Mt + e * g.Co, g.tile_stride(g.Co), V + e * g.Ci, g.tile_stride(g.Ci), 1, U + (int64_t)e * g.Ci * g.Co,
           g.Co, n, g.Ci, g.Co / L, false);
    output_transform(out, Mt, t0, n, bias, relu, g);
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

bool have_avx2() {
  static const bool has = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  return has;
}

template <int M>
STRATA_AVX2 void backward_weights(float* dweight, float* dbias, const float* dout, const float* inp,
                                  const ConvParams& p, std::vector<float>& scratch) {
  constexpr int A = F<M>::A, E = A * A;
  const Geo<M> g = forward_geo<M>(p);
  const int Tc = g.chunk(), threads = omp_get_max_threads(), C = p.C, OC = p.OC, OB = OC / L;
  const size_t u = (size_t)E * C * OC, vm = Tc * (g.tile_stride(C) + g.tile_stride(OC)), per = vm + u + OC;
  // per thread: V, dM (both written before they are read), its dU and dbias partial sums
  if (scratch.size() < per * threads) scratch.resize(per * threads);
  for (int th = 0; th < threads; th++) std::fill_n(scratch.data() + per * th + vm, u + OC, 0.0f);
  const int64_t T = g.tiles(), chunks = (T + Tc - 1) / Tc;
#pragma omp parallel
  {
    float* V = scratch.data() + per * omp_get_thread_num();
    float* dM = V + Tc * g.tile_stride(C);
    float* dU = V + vm;
    float* db = dU + u;
#pragma omp for schedule(static)
    for (int64_t k = 0; k < chunks; k++) {
      int64_t t0 = k * Tc;
      int n = (int)std::min<int64_t>(Tc, T - t0);
      input_transform(V, t0, n, inp, g);
      // dM[r][e][OC] = A dy Aᵀ, dy the tile's M x M output grad (zeros past the output's edge)
      for (int r = 0; r < n; r++) {
        int img, ty, tx;
        g.tile(t0 + r, img, ty, tx);
        int rows = std::min(M, g.OH - M * ty), cols = std::min(M, g.OW - M * tx);
        for (int ob = 0; ob < OB; ob++) {
          const float* y = dout + ((int64_t)img * OB + ob) * g.OH * g.OW * L;
          v8 d[M][M] = {}, s[A][M], col[M], t[A], sum{};
          for (int i = 0; i < rows; i++)
            for (int j = 0; j < cols; j++) {
              d[i][j] = load(y + ((int64_t)(M * ty + i) * g.OW + M * tx + j) * L);
              sum += d[i][j];
            }
          store(db + ob * L, load(db + ob * L) + sum);
          for (int j = 0; j < M; j++) {  // A dy
            for (int i = 0; i < M; i++) col[i] = d[i][j];
            F<M>::output_grad(col, t);
            for (int i = 0; i < A; i++) s[i][j] = t[i];
          }
          float* o = dM + r * g.tile_stride(OC) + ob * L;
          for (int i = 0; i < A; i++) {  // (A dy) Aᵀ
            F<M>::output_grad(s[i], t);
            for (int j = 0; j < A; j++) store(o + (A * i + j) * OC, t[j]);
          }
        }
      }
      // dU[e] (C x OC) += V[., e]ᵀ (C x n) dM[., e] (n x OC)
      for (int e = 0; e < E; e++)
        gemm(dU + (int64_t)e * C * OC, OC, V + e * C, 1, g.tile_stride(C), dM + e * OC, g.tile_stride(OC), C, n, OB,
             true);
    }
  }
  // the threads' sums in thread order, then dw = Gᵀ dU G per (oc, ci)
  float* dU = scratch.data() + vm;
  float* db = dU + u;
  for (int th = 1; th < threads; th++) {
    const float* other = dU + per * th;
    for (size_t i = 0; i < u + OC; i++) dU[i] += other[i];
  }
  if (dbias)
    for (int oc = 0; oc < OC; oc++) dbias[oc] += db[oc];
  if (!dweight) return;
  for (int ci = 0; ci < C; ci++)
    for (int oc = 0; oc < OC; oc++) {
      float m[A][A], gm[3][A], col[A], t[3];
      for (int e = 0; e < E; e++) m[e / A][e % A] = dU[((int64_t)e * C + ci) * OC + oc];
      for (int j = 0; j < A; j++) {  // Gᵀ m
        for (int i = 0; i < A; i++) col[i] = m[i][j];
        F<M>::kernel_grad(col, t);
        for (int a = 0; a < 3; a++) gm[a][j] = t[a];
      }
      float* w = dweight + ((int64_t)oc * C + ci) * 9;
      for (int a = 0; a < 3; a++) {  // (Gᵀ m) G
        F<M>::kernel_grad(gm[a], t);
        for (int b = 0; b < 3; b++) w[a * 3 + b] += t[b];
      }
    }
}

}  // namespace

bool winograd_fits(const ConvParams& p, int block) {
  auto pad_ok = [](int x) { return x >= 0 && x <= 2; };
  return block == L && have_avx2() && p.KH == 3 && p.KW == 3 && p.sh == 1 && p.sw == 1 && p.dh == 1 && p.dw == 1 &&
         pad_ok(p.pt) && pad_ok(p.pl) && pad_ok(p.pb) && pad_ok(p.pr) && p.C >= 16 && p.OC >= 16 && p.C % L == 0 &&
         p.OC % L == 0 && p.src_blocked && p.dst_blocked && p.OH == p.H + p.pt + p.pb - 2 &&
         p.OW == p.W + p.pl + p.pr - 2;
}

void winograd_forward(float* out, const float* inp, const float* weight, const float* bias, const ConvParams& p,
                      std::vector<float>& scratch) {
  run(out, inp, bias, p.relu, forward_geo<4>(p), scratch, false, weight);
}

void winograd_backward_data(float* dinp, const float* dout, const float* weight, const ConvParams& p,
                            std::vector<float>& scratch) {
  // Below 20x20, 2x2 tiles: 4x4 ones waste up to half their outputs past the edge (13x13 in
  // 16x16, no faster there), and their rounding reached the tests' 1e-4 on a 13x13 input grad.
  if (p.H * p.W < 400) return run(dinp, dout, nullptr, false, input_grad_geo<2>(p), scratch, true, weight);
  run(dinp, dout, nullptr, false, input_grad_geo<4>(p), scratch, true, weight);
}

void winograd_backward_weights(float* dweight, float* dbias, const float* dout, const float* inp, const ConvParams& p,
                               std::vector<float>& scratch) {
  backward_weights<4>(dweight, dbias, dout, inp, p, scratch);
}

}  // namespace strata
