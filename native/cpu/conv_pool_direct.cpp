#include "conv_pool_direct.h"

#include <omp.h>

#include <cstring>
#include <type_traits>
#include <vector>

namespace strata {

// 16 output channels, one AVX-512 register (GCC/Clang vector extensions, compiled for
// AVX-512 in these functions only and called only where the CPU has it).
typedef float v16 __attribute__((vector_size(64)));
typedef int32_t vi16 __attribute__((vector_size(64)));
#define STRATA_AVX512 __attribute__((target("avx512f,avx512dq,avx512bw,avx512vl")))

namespace {

constexpr int kLanes = 16;

STRATA_AVX512 inline v16 load(const float* p) {
  v16 v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
STRATA_AVX512 inline void store(float* p, v16 v) { std::memcpy(p, &v, sizeof v); }
STRATA_AVX512 inline vi16 load_argmax(const uint8_t* a) {
  vi16 v;
  for (int l = 0; l < kLanes; l++) v[l] = a[l];
  return v;
}

// The maximum of a 2x2 window's four values, (0,0) (0,1) (1,0) (1,1), per lane, and where it
// was; the first maximum wins ties, as the reference's max pooling.
STRATA_AVX512 inline v16 max4(v16 a0, v16 a1, v16 a2, v16 a3, uint8_t* argmax) {
  const vi16 one = vi16{} + 1;
  v16 m = a0;
  vi16 at{};
  vi16 gt = a1 > m;
  m = gt ? a1 : m, at = gt ? one : at;
  gt = a2 > m, m = gt ? a2 : m, at = gt ? one + one : at;
  gt = a3 > m, m = gt ? a3 : m, at = gt ? one + one + one : at;
  if (argmax)
    for (int l = 0; l < kLanes; l++) argmax[l] = (uint8_t)at[l];
  return m;
}

// [ob][c][ky][kx][16] from ONNX's (OC, C, KH, KW)
std::vector<float> pack_weights(const float* weight, const ConvParams& c) {
  int taps = c.C * c.KH * c.KW;
  std::vector<float> w((size_t)c.OC * taps);
  for (int oc = 0; oc < c.OC; oc++)
    for (int t = 0; t < taps; t++) w[((size_t)(oc / kLanes) * taps + t) * kLanes + oc % kLanes] = weight[(size_t)oc * taps + t];
  return w;
}

// The window's input offsets, ci-major as the weights: (ci * H + ky) * W + kx.
template <int C>
inline void window_offsets(int* off, const ConvParams& c) {
  for (int ci = 0, t = 0; ci < C; ci++)
    for (int ky = 0; ky < 3; ky++)
      for (int kx = 0; kx < 3; kx++) off[t++] = (ci * c.H + ky) * c.W + kx;
}

template <int C>
STRATA_AVX512 void forward(float* out, uint8_t* argmax, const float* inp, const float* weight, const float* bias,
                           const ConvParams& c, const PoolParams& p) {
  constexpr int taps = C * 9;
  const int OB = c.OC / kLanes, PH = p.OH, PW = p.OW, W = c.W;
  std::vector<float> wp = pack_weights(weight, c);
  int off[taps];
  window_offsets<C>(off, c);
#pragma omp parallel for collapse(2) schedule(static)
  for (int n = 0; n < c.N; n++)
    for (int ob = 0; ob < OB; ob++) {
      v16 w[taps];
      for (int t = 0; t < taps; t++) w[t] = load(&wp[((size_t)ob * taps + t) * kLanes]);
      v16 b = bias ? load(bias + ob * kLanes) : v16{};
      const float* x = inp + (size_t)n * C * c.H * W;
      size_t plane = ((size_t)n * OB + ob) * PH * PW;
      for (int py = 0; py < PH; py++)
        for (int px = 0; px < PW; px++) {
          const float* r = x + (2 * py) * W + 2 * px;  // the window's top-left input
          v16 a0 = b, a1 = b, a2 = b, a3 = b;          // conv at (0,0) (0,1) (1,0) (1,1)
          for (int t = 0; t < taps; t++) {
            const float* s = r + off[t];
            a0 += w[t] * s[0], a1 += w[t] * s[1], a2 += w[t] * s[W], a3 += w[t] * s[W + 1];
          }
          size_t o = (plane + (size_t)py * PW + px) * kLanes;
          v16 m = max4(a0, a1, a2, a3, argmax ? argmax + o : nullptr);
          if (c.relu) m = m > v16{} ? m : v16{};
          store(out + o, m);
        }
    }
}

template <int C>
STRATA_AVX512 void backward_weights(float* dweight, float* dbias, const float* dout, const uint8_t* argmax,
                                    const float* inp, const ConvParams& c, const PoolParams& p) {
  constexpr int taps = C * 9;
  const int OB = c.OC / kLanes, PH = p.OH, PW = p.OW, W = c.W;
  int off[taps];
  window_offsets<C>(off, c);
  // Per thread partial sums, added in thread order: the same result for the same count.
  const int threads = omp_get_max_threads();
  const size_t per = (size_t)OB * (taps + 1) * kLanes;
  std::vector<float> part((size_t)threads * per, 0.0f);
#pragma omp parallel
  {
    float* mine = &part[(size_t)omp_get_thread_num() * per];
#pragma omp for collapse(2) schedule(static)
    for (int n = 0; n < c.N; n++)
      for (int ob = 0; ob < OB; ob++) {
        const float* x = inp + (size_t)n * C * c.H * W;
        size_t plane = ((size_t)n * OB + ob) * PH * PW;
        float* acc = mine + (size_t)ob * (taps + 1) * kLanes;
        // One input channel at a time: its 9 accumulators stay in registers (all 27 of an
        // RGB input's would not), and the plane's grads and argmaxes are read from the cache.
        for (int ci = 0; ci < C; ci++) {
          v16 g[9] = {}, gb{};
          for (int py = 0; py < PH; py++)
            for (int px = 0; px < PW; px++) {
              size_t o = (plane + (size_t)py * PW + px) * kLanes;
              v16 d = load(dout + o);
              if (ci == 0) gb += d;
              vi16 at = load_argmax(argmax + o);
              const float* r = x + (2 * py) * W + 2 * px;
              for (int q = 0; q < 4; q++) {
                v16 dq = at == vi16{} + q ? d : v16{};
                const float* s = r + (q >> 1) * W + (q & 1);
                for (int t = 0; t < 9; t++) g[t] += dq * s[off[ci * 9 + t]];
              }
            }
          for (int t = 0; t < 9; t++) store(acc + (ci * 9 + t) * kLanes, load(acc + (ci * 9 + t) * kLanes) + g[t]);
          if (ci == 0) store(acc + taps * kLanes, load(acc + taps * kLanes) + gb);
        }
      }
  }
  for (int th = 0; th < threads; th++) {
    const float* acc = &part[(size_t)th * per];
    for (int oc = 0; oc < c.OC; oc++) {
      const float* a = acc + (size_t)(oc / kLanes) * (taps + 1) * kLanes + oc % kLanes;
      if (dweight)
        for (int t = 0; t < taps; t++) dweight[(size_t)oc * taps + t] += a[t * kLanes];
      if (dbias) dbias[oc] += a[taps * kLanes];
    }
  }
}

template <class F>
void by_channels(int C, F f) {
  if (C == 1) f(std::integral_constant<int, 1>{});
  else if (C == 2) f(std::integral_constant<int, 2>{});
  else f(std::integral_constant<int, 3>{});
}

}  // namespace

bool maxpool2x2_blocked_fits(const ConvParams& c, const PoolParams& p) {
  static const bool avx512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                             __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl");
  return avx512 && c.OC % kLanes == 0 && c.dst_blocked && p.blocked && p.KH == 2 && p.KW == 2 && p.sh == 2 &&
         p.sw == 2 && p.dh == 1 && p.dw == 1 && p.pt == 0 && p.pl == 0 && p.pb == 0 && p.pr == 0 && p.H == c.OH &&
         p.W == c.OW && p.OH == c.OH / 2 && p.OW == c.OW / 2 && p.OH > 0 && p.OW > 0;
}

bool conv_pool_direct_fits(const ConvParams& c, const PoolParams& p) {
  return maxpool2x2_blocked_fits(c, p) && c.C >= 1 && c.C <= 3 && c.KH == 3 && c.KW == 3 && c.sh == 1 &&
         c.sw == 1 && c.dh == 1 && c.dw == 1 && c.pt == 0 && c.pl == 0 && c.pb == 0 && c.pr == 0 && !c.src_blocked;
}

int64_t argmax_bytes(const PoolParams& p) { return (int64_t)p.N * p.C * p.OH * p.OW; }

STRATA_AVX512 void maxpool2x2_blocked_forward(float* out, uint8_t* argmax, const float* mid, const ConvParams& c,
                                              const PoolParams& p) {
  const size_t mid_plane = (size_t)c.OH * c.OW * kLanes, pool_plane = (size_t)p.OH * p.OW * kLanes;
  const size_t row = (size_t)c.OW * kLanes;
#pragma omp parallel for schedule(static)
  for (int64_t k = 0; k < (int64_t)c.N * (c.OC / kLanes); k++)
    for (int py = 0; py < p.OH; py++)
      for (int px = 0; px < p.OW; px++) {
        const float* m = mid + k * mid_plane + ((size_t)(2 * py) * c.OW + 2 * px) * kLanes;
        size_t o = k * pool_plane + ((size_t)py * p.OW + px) * kLanes;
        store(out + o, max4(load(m), load(m + kLanes), load(m + row), load(m + row + kLanes), argmax ? argmax + o : nullptr));
      }
}

void conv_pool_direct_forward(float* out, uint8_t* argmax, const float* inp, const float* weight, const float* bias,
                              const ConvParams& c, const PoolParams& p) {
  by_channels(c.C, [&](auto C) { forward<C.value>(out, argmax, inp, weight, bias, c, p); });
}

void conv_pool_direct_backward_weights(float* dweight, float* dbias, const float* dout, const uint8_t* argmax,
                                       const float* inp, const ConvParams& c, const PoolParams& p) {
  by_channels(c.C, [&](auto C) { backward_weights<C.value>(dweight, dbias, dout, argmax, inp, c, p); });
}

void maxpool2x2_blocked_unpool(float* dmid, const float* dout, const uint8_t* argmax, const ConvParams& c,
                             const PoolParams& p) {
  const int OB = c.OC / kLanes;
  const size_t mid_plane = (size_t)c.OH * c.OW * kLanes, pool_plane = (size_t)p.OH * p.OW * kLanes;
#pragma omp parallel for schedule(static)
  for (int64_t k = 0; k < (int64_t)c.N * OB; k++) {
    float* m = dmid + k * mid_plane;
    std::memset(m, 0, mid_plane * sizeof(float));
    const float* d = dout + k * pool_plane;
    const uint8_t* a = argmax + k * pool_plane;
    for (int py = 0; py < p.OH; py++)
      for (int px = 0; px < p.OW; px++)
        for (int l = 0; l < kLanes; l++) {
          size_t o = ((size_t)py * p.OW + px) * kLanes + l;
          int q = a[o];
          m[((size_t)(2 * py + (q >> 1)) * c.OW + 2 * px + (q & 1)) * kLanes + l] = d[o];
        }
  }
}

}  // namespace strata
