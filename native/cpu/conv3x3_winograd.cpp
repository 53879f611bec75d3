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

// One convolution's geometry as the Winograd pass sees it: Ci channels in (H x W), Co out
// (OH x OW), the input read at (2 ty - pt + i, 2 tx - pl + j) for tile (ty, tx).
struct Geo {
  int N, Ci, H, W, Co, OH, OW, pt, pl;
  int TH() const { return (OH + 1) / 2; }
  int TW() const { return (OW + 1) / 2; }
  int64_t tiles() const { return (int64_t)N * TH() * TW(); }
  // Tiles per chunk: a thread's transformed inputs and products, 16 x chunk x (Ci + Co)
  // floats, within about 256 KB (a core's L2 holds 512 KB on the machines measured).
  int chunk() const { return std::clamp(4096 / (Ci + Co) / 4 * 4, 8, 64); }
};

// The transformed tiles are stored tile-major, [tile][e][channels], each tile's 16 x ch
// floats padded by a cache line: the 16 values of a tile and channel block, which the
// transforms read or write together, then lie in one 4 KB span, and the matrix products'
// row stride is no multiple of 4 KB (with [e][tile][ch] the output transform's 16 loads hit
// 2 of L1's 64 sets and took twice as long as the products).
inline int64_t tile_stride(int ch) { return 16 * (int64_t)ch + 16; }

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

// V[r][e][Ci] (e = 4 i + j) = Bᵀ d B for the chunk's tiles t0 .. t0 + n, d read from the
// nChw8c input, zeros outside it.
STRATA_AVX2 void input_transform(float* V, int64_t t0, int n, const float* inp, const Geo& g) {
  const int TH = g.TH(), TW = g.TW(), CB = g.Ci / L;
  const int64_t estride = g.Ci;
  for (int r = 0; r < n; r++) {
    int64_t t = t0 + r;
    int tx = (int)(t % TW), ty = (int)(t / TW % TH), img = (int)(t / ((int64_t)TW * TH));
    int h0 = 2 * ty - g.pt, w0 = 2 * tx - g.pl;
    bool inside = h0 >= 0 && w0 >= 0 && h0 + 4 <= g.H && w0 + 4 <= g.W;
    for (int cb = 0; cb < CB; cb++) {
      const float* x = inp + ((int64_t)img * CB + cb) * g.H * g.W * L;
      v8 d[4][4];
      for (int i = 0; i < 4; i++)
        for (int j = 0; j < 4; j++) {
          int h = h0 + i, w = w0 + j;
          d[i][j] = inside || (h >= 0 && h < g.H && w >= 0 && w < g.W) ? load(x + ((int64_t)h * g.W + w) * L) : v8{};
        }
      v8 u[4][4];
      for (int j = 0; j < 4; j++) {  // Bᵀ d
        u[0][j] = d[0][j] - d[2][j], u[1][j] = d[1][j] + d[2][j];
        u[2][j] = d[2][j] - d[1][j], u[3][j] = d[1][j] - d[3][j];
      }
      float* o = V + r * tile_stride(g.Ci) + cb * L;
      for (int i = 0; i < 4; i++) {  // (Bᵀ d) B
        store(o + (4 * i + 0) * estride, u[i][0] - u[i][2]);
        store(o + (4 * i + 1) * estride, u[i][1] + u[i][2]);
        store(o + (4 * i + 2) * estride, u[i][2] - u[i][1]);
        store(o + (4 * i + 3) * estride, u[i][1] - u[i][3]);
      }
    }
  }
}

// out (nChw8c) = relu?(Aᵀ m A + bias) for the chunk's tiles, m from M[r][e][Co].
STRATA_AVX2 void output_transform(float* out, const float* M, int64_t t0, int n, const float* bias, bool relu,
                                  const Geo& g) {
  const int TH = g.TH(), TW = g.TW(), OB = g.Co / L;
  const int64_t estride = g.Co;
  for (int r = 0; r < n; r++) {
    int64_t t = t0 + r;
    int tx = (int)(t % TW), ty = (int)(t / TW % TH), img = (int)(t / ((int64_t)TW * TH));
    int rows = std::min(2, g.OH - 2 * ty), cols = std::min(2, g.OW - 2 * tx);
    for (int ob = 0; ob < OB; ob++) {
      const float* m = M + r * tile_stride(g.Co) + ob * L;
      v8 s[2][4];
      for (int j = 0; j < 4; j++) {  // Aᵀ m
        v8 m0 = load(m + (0 * 4 + j) * estride), m1 = load(m + (1 * 4 + j) * estride);
        v8 m2 = load(m + (2 * 4 + j) * estride), m3 = load(m + (3 * 4 + j) * estride);
        s[0][j] = m0 + m1 + m2, s[1][j] = m1 - m2 - m3;
      }
      v8 b = bias ? load(bias + ob * L) : v8{};
      float* y = out + ((int64_t)img * OB + ob) * g.OH * g.OW * L;
      for (int i = 0; i < rows; i++) {
        v8 y2[2] = {s[i][0] + s[i][1] + s[i][2] + b, s[i][1] - s[i][2] - s[i][3] + b};  // (Aᵀ m) A
        for (int j = 0; j < cols; j++) {
          v8 v = relu ? (y2[j] > v8{} ? y2[j] : v8{}) : y2[j];
          store(y + ((int64_t)(2 * ty + i) * g.OW + 2 * tx + j) * L, v);
        }
      }
    }
  }
}

// U[e][ci][co] = G k Gᵀ, k the 3x3 kernel from input channel ci to output channel co: for
// the forward weight[co][ci]; for the input's grad (flip) weight[ci][co] turned by 180°.
void weight_transform(float* U, const float* weight, int Ci, int Co, bool flip) {
  for (int ci = 0; ci < Ci; ci++)
    for (int co = 0; co < Co; co++) {
      float k[3][3];
      for (int a = 0; a < 3; a++)
        for (int b = 0; b < 3; b++)
          k[a][b] = flip ? weight[(((int64_t)ci * Co + co) * 3 + 2 - a) * 3 + 2 - b]
                         : weight[(((int64_t)co * Ci + ci) * 3 + a) * 3 + b];
      float gk[4][3];  // G k
      for (int b = 0; b < 3; b++) {
        gk[0][b] = k[0][b], gk[3][b] = k[2][b];
        gk[1][b] = 0.5f * (k[0][b] + k[1][b] + k[2][b]), gk[2][b] = 0.5f * (k[0][b] - k[1][b] + k[2][b]);
      }
      for (int i = 0; i < 4; i++) {  // (G k) Gᵀ
        float u[4] = {gk[i][0], 0.5f * (gk[i][0] + gk[i][1] + gk[i][2]), 0.5f * (gk[i][0] - gk[i][1] + gk[i][2]),
                      gk[i][2]};
        for (int j = 0; j < 4; j++) U[((int64_t)(4 * i + j) * Ci + ci) * Co + co] = u[j];
      }
    }
}

// The forward pass for geometry g with transformed weights U (16 x Ci x Co at the front of
// scratch): the convolution and, with the flipped weights, the input's grad.
STRATA_AVX2 void run(float* out, const float* inp, const float* bias, bool relu, const Geo& g,
                     std::vector<float>& scratch, bool flip, const float* weight) {
  const int Tc = g.chunk(), threads = omp_get_max_threads();
  const size_t u = (size_t)16 * g.Ci * g.Co, per = (size_t)Tc * (tile_stride(g.Ci) + tile_stride(g.Co));
  if (scratch.size() < u + per * threads) scratch.resize(u + per * threads);
  const float* U = scratch.data();
  weight_transform(scratch.data(), weight, g.Ci, g.Co, flip);
  const int64_t T = g.tiles(), chunks = (T + Tc - 1) / Tc;
  float* base = scratch.data() + u;
#pragma omp parallel for schedule(static)
  for (int64_t k = 0; k < chunks; k++) {
    float* V = base + per * omp_get_thread_num();
    float* M = V + Tc * tile_stride(g.Ci);
    int64_t t0 = k * Tc;
    int n = (int)std::min<int64_t>(Tc, T - t0);
    input_transform(V, t0, n, inp, g);
    for (int e = 0; e < 16; e++)
      gemm(M + e * g.Co, tile_stride(g.Co), V + e * g.Ci, tile_stride(g.Ci), 1, U + (int64_t)e * g.Ci * g.Co, g.Co,
           n, g.Ci, g.Co / L, false);
    output_transform(out, M, t0, n, bias, relu, g);
  }
}

Geo forward_geo(const ConvParams& p) { return Geo{p.N, p.C, p.H, p.W, p.OC, p.OH, p.OW, p.pt, p.pl}; }

bool have_avx2() {
  static const bool has = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  return has;
}


STRATA_AVX2 void backward_weights(float* dweight, float* dbias, const float* dout, const float* inp,
                                  const ConvParams& p, std::vector<float>& scratch) {
  const Geo g = forward_geo(p);
  const int Tc = g.chunk(), threads = omp_get_max_threads(), C = p.C, OC = p.OC, OB = OC / L;
  const size_t u = (size_t)16 * C * OC, vm = Tc * (tile_stride(C) + tile_stride(OC)), per = vm + u + OC;
  scratch.assign(per * threads, 0.0f);  // per thread: V, dM, its dU and dbias partial sums
  const int64_t T = g.tiles(), chunks = (T + Tc - 1) / Tc;
  const int TH = g.TH(), TW = g.TW();
#pragma omp parallel
  {
    float* V = scratch.data() + per * omp_get_thread_num();
    float* dM = V + Tc * tile_stride(C);
    float* dU = V + vm;
    float* db = dU + u;
#pragma omp for schedule(static)
    for (int64_t k = 0; k < chunks; k++) {
      int64_t t0 = k * Tc;
      int n = (int)std::min<int64_t>(Tc, T - t0);
      input_transform(V, t0, n, inp, g);
      // dM[r][e][OC] = A dy Aᵀ, dy the tile's 2x2 output grad (zeros past the output's edge)
      const int64_t estride = OC;
      for (int r = 0; r < n; r++) {
        int64_t t = t0 + r;
        int tx = (int)(t % TW), ty = (int)(t / TW % TH), img = (int)(t / ((int64_t)TW * TH));
        int rows = std::min(2, g.OH - 2 * ty), cols = std::min(2, g.OW - 2 * tx);
        for (int ob = 0; ob < OB; ob++) {
          const float* y = dout + ((int64_t)img * OB + ob) * g.OH * g.OW * L;
          v8 d[2][2] = {};
          for (int i = 0; i < rows; i++)
            for (int j = 0; j < cols; j++) d[i][j] = load(y + ((int64_t)(2 * ty + i) * g.OW + 2 * tx + j) * L);
          store(db + ob * L, load(db + ob * L) + d[0][0] + d[0][1] + d[1][0] + d[1][1]);
          v8 s[4][2];
          for (int j = 0; j < 2; j++)  // A dy
            s[0][j] = d[0][j], s[1][j] = d[0][j] + d[1][j], s[2][j] = d[0][j] - d[1][j], s[3][j] = -d[1][j];
          float* o = dM + r * tile_stride(OC) + ob * L;
          for (int i = 0; i < 4; i++) {  // (A dy) Aᵀ
            store(o + (4 * i + 0) * estride, s[i][0]);
            store(o + (4 * i + 1) * estride, s[i][0] + s[i][1]);
            store(o + (4 * i + 2) * estride, s[i][0] - s[i][1]);
            store(o + (4 * i + 3) * estride, -s[i][1]);
          }
        }
      }
      // dU[e] (C x OC) += V[., e]ᵀ (C x n) dM[., e] (n x OC)
      for (int e = 0; e < 16; e++)
        gemm(dU + (int64_t)e * C * OC, OC, V + e * C, 1, tile_stride(C), dM + e * OC, tile_stride(OC), C, n, OB, true);
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
      float m[4][4];
      for (int e = 0; e < 16; e++) m[e / 4][e % 4] = dU[((int64_t)e * C + ci) * OC + oc];
      float gm[3][4];  // Gᵀ m
      for (int j = 0; j < 4; j++) {
        gm[0][j] = m[0][j] + 0.5f * (m[1][j] + m[2][j]);
        gm[1][j] = 0.5f * (m[1][j] - m[2][j]);
        gm[2][j] = 0.5f * (m[1][j] + m[2][j]) + m[3][j];
      }
      float* w = dweight + ((int64_t)oc * C + ci) * 9;
      for (int a = 0; a < 3; a++) {  // (Gᵀ m) G
        w[a * 3 + 0] += gm[a][0] + 0.5f * (gm[a][1] + gm[a][2]);
        w[a * 3 + 1] += 0.5f * (gm[a][1] - gm[a][2]);
        w[a * 3 + 2] += 0.5f * (gm[a][1] + gm[a][2]) + gm[a][3];
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
  run(out, inp, bias, p.relu, forward_geo(p), scratch, false, weight);
}

void winograd_backward_data(float* dinp, const float* dout, const float* weight, const ConvParams& p,
                            std::vector<float>& scratch) {
  // dinp[h] = sum_k dout[h + pt - k] w[k] = sum_k' dout[h - (2 - pt) + k'] w[2 - k']
  Geo g{p.N, p.OC, p.OH, p.OW, p.C, p.H, p.W, 2 - p.pt, 2 - p.pl};
  run(dinp, dout, nullptr, false, g, scratch, true, weight);
}

void winograd_backward_weights(float* dweight, float* dbias, const float* dout, const float* inp, const ConvParams& p,
                               std::vector<float>& scratch) {
  backward_weights(dweight, dbias, dout, inp, p, scratch);
}

}  // namespace strata
