#include "conv_pool_direct.h"

#include <omp.h>

#include <cstring>
#include <type_traits>
#include <vector>

namespace strata {

namespace {

// [ob][c][ky][kx][lanes] from ONNX's (OC, C, KH, KW)
std::vector<float> pack_weights(const float* weight, const ConvParams& c, int lanes) {
  int taps = c.C * c.KH * c.KW;
  std::vector<float> w((size_t)c.OC * taps);
  for (int oc = 0; oc < c.OC; oc++)
    for (int t = 0; t < taps; t++) w[((size_t)(oc / lanes) * taps + t) * lanes + oc % lanes] = weight[(size_t)oc * taps + t];
  return w;
}

// The window's input offsets, ci-major as the weights: (ci * H + ky) * W + kx.
template <int C>
inline void window_offsets(int* off, const ConvParams& c) {
  for (int ci = 0, t = 0; ci < C; ci++)
    for (int ky = 0; ky < 3; ky++)
      for (int kx = 0; kx < 3; kx++) off[t++] = (ci * c.H + ky) * c.W + kx;
}

template <class F>
void by_channels(int C, F f) {
  if (C == 1) f(std::integral_constant<int, 1>{});
  else if (C == 2) f(std::integral_constant<int, 2>{});
  else f(std::integral_constant<int, 3>{});
}

namespace avx512 {  // nChw16c
constexpr int kLanes = 16, kForwardBlocks = 1;  // 27 weights + 4 accumulators: 31 of 32 registers
typedef float vf __attribute__((vector_size(64)));
typedef int32_t vi __attribute__((vector_size(64)));
#define STRATA_TARGET __attribute__((target("avx512f,avx512dq,avx512bw,avx512vl")))
#include "conv_pool_direct_kernels.inc"
#undef STRATA_TARGET
}  // namespace avx512

namespace avx2 {  // nChw8c
constexpr int kLanes = 8, kForwardBlocks = 2;
typedef float vf __attribute__((vector_size(32)));
typedef int32_t vi __attribute__((vector_size(32)));
#define STRATA_TARGET __attribute__((target("avx2,fma")))
#include "conv_pool_direct_kernels.inc"
#undef STRATA_TARGET
}  // namespace avx2

// Whether this CPU runs the kernels for this channel block.
bool have_kernels(int block) {
  static const bool has_avx512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                                 __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl");
  static const bool has_avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  return (block == 16 && has_avx512) || (block == 8 && has_avx2);
}

}  // namespace

bool maxpool2x2_blocked_fits(const ConvParams& c, const PoolParams& p, int block) {
  return have_kernels(block) && c.OC % block == 0 && c.dst_blocked && p.blocked && p.KH == 2 && p.KW == 2 &&
         p.sh == 2 && p.sw == 2 && p.dh == 1 && p.dw == 1 && p.pt == 0 && p.pl == 0 && p.pb == 0 && p.pr == 0 &&
         p.H == c.OH && p.W == c.OW && p.OH == c.OH / 2 && p.OW == c.OW / 2 && p.OH > 0 && p.OW > 0;
}

bool conv_pool_direct_fits(const ConvParams& c, const PoolParams& p, int block) {
  return maxpool2x2_blocked_fits(c, p, block) && c.G == 1 && c.C >= 1 && c.C <= 3 && c.KH == 3 && c.KW == 3 && c.sh == 1 &&
         c.sw == 1 && c.dh == 1 && c.dw == 1 && c.pt == 0 && c.pl == 0 && c.pb == 0 && c.pr == 0 && !c.src_blocked;
}

int64_t argmax_bytes(const PoolParams& p) { return (int64_t)p.N * p.C * p.OH * p.OW; }

void conv_pool_direct_forward(float* out, uint8_t* argmax, const float* inp, const float* weight, const float* bias,
                              const ConvParams& c, const PoolParams& p, int block) {
  by_channels(c.C, [&](auto C) {
    if (block == 16) avx512::forward<C.value>(out, argmax, inp, weight, bias, c, p);
    else avx2::forward<C.value>(out, argmax, inp, weight, bias, c, p);
  });
}

void conv_pool_direct_backward_weights(float* dweight, float* dbias, const float* dout, const float* out,
                                       const uint8_t* argmax, const float* inp, const ConvParams& c,
                                       const PoolParams& p, int block) {
  const float* relu_out = c.relu ? out : nullptr;
  by_channels(c.C, [&](auto C) {
    if (block == 16) avx512::backward_weights<C.value>(dweight, dbias, dout, relu_out, argmax, inp, c, p);
    else avx2::backward_weights<C.value>(dweight, dbias, dout, relu_out, argmax, inp, c, p);
  });
}

void maxpool2x2_blocked_forward(float* out, uint8_t* argmax, const float* mid, const ConvParams& c,
                                const PoolParams& p, int block) {
  if (block == 16) avx512::pool_forward(out, argmax, mid, c, p);
  else avx2::pool_forward(out, argmax, mid, c, p);
}

void maxpool2x2_blocked_unpool(float* dmid, const float* dout, const float* out, const uint8_t* argmax,
                               const ConvParams& c, const PoolParams& p, int block) {
  const float* relu_out = c.relu ? out : nullptr;
  if (block == 16) avx512::unpool(dmid, dout, relu_out, argmax, c, p);
  else avx2::unpool(dmid, dout, relu_out, argmax, c, p);
}

}  // namespace strata
