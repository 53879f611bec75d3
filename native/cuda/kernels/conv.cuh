// conv.cuh: 2-D convolution (NCHW) as implicit GEMM on gemm.cuh: the loaders gather the
// convolution's operands straight from the tensors, no im2col buffer. Grouped convolutions
// (G > 1: depthwise, grouped Conv2D) run as direct kernels at the end of this file.
// Gradient contract (conv.h): dinp =, dweight +=, dbias +=.
//
//   forward        out (OC, N*OH*OW)  = W (OC, C*KH*KW) x im2col(inp) (C*KH*KW, N*OH*OW)  (+ bias, Relu)
//   backward data  dinp (C, N*H*W)    = W^T (C, OC*KH*KW) x dout gathered (OC*KH*KW, N*H*W)
//   backward wgt   dW (OC, C*KH*KW)  += dout (OC, N*OH*OW) x im2col(inp)^T (N*OH*OW, C*KH*KW)
//
// A GEMM column is an output pixel (n, oh, ow) (or an input pixel for the data grad), so
// consecutive threads of the epilogue write consecutive pixels of one channel plane.
#pragma once
#include "gemm.cuh"

STRATA_GPU_NAMESPACE_BEGIN

// The geometry (ConvParams without its flags, in a struct nvcc's device code can copy).
struct ConvGeom {
  int N, C, H, W, OC, KH, KW, OH, OW, sh, sw, dh, dw, pt, pl;
  int G;  // groups (the implicit GEMM loaders take G == 1)
};

// forward A: the weights as stored, (OC, C*KH*KW) row-major: DenseA.

// forward B: element (k = (c, kh, kw), n = (img, oh, ow)) of im2col(inp); 0 in the padding.
struct Im2col {
  const float* x;
  ConvGeom g;
  __device__ __forceinline__ float operator()(int k, int n) const {
    int kw = k % g.KW, kh = k / g.KW % g.KH, c = k / (g.KW * g.KH);
    int ow = n % g.OW, oh = n / g.OW % g.OH, img = n / (g.OW * g.OH);
    int ih = oh * g.sh - g.pt + kh * g.dh, iw = ow * g.sw - g.pl + kw * g.dw;
    if (ih < 0 || ih >= g.H || iw < 0 || iw >= g.W) return 0.0f;
    return x[(((int64_t)img * g.C + c) * g.H + ih) * g.W + iw];
  }
};

// forward epilogue: out[img, oc, oh, ow] = v + bias[oc], through the fused Relu if asked
struct ConvOut {
  float* out;
  const float* bias;
  int OC, OHW;
  bool relu;
  __device__ __forceinline__ void operator()(int oc, int n, float v) const {
    if (bias) v += bias[oc];
    if (relu) v = v > 0.0f ? v : 0.0f;
    int img = n / OHW, p = n % OHW;
    out[((int64_t)img * OC + oc) * OHW + p] = v;
  }
};

// backward data A: W^T, element (c, k = (oc, kh, kw)) = W[oc, c, kh, kw]
struct WeightsT {
  const float* w;
  ConvGeom g;
  __device__ __forceinline__ float operator()(int c, int k) const {
    int khw = k % (g.KH * g.KW), oc = k / (g.KH * g.KW);
    return w[((int64_t)oc * g.C + c) * g.KH * g.KW + khw];
  }
};

// backward data B: element (k = (oc, kh, kw), n = (img, ih, iw)): the output grad at the
// output pixel whose window puts tap (kh, kw) on input pixel (ih, iw), 0 where none does.
struct DoutGather {
  const float* dout;
  ConvGeom g;
  __device__ __forceinline__ float operator()(int k, int n) const {
    int kw = k % g.KW, kh = k / g.KW % g.KH, oc = k / (g.KW * g.KH);
    int iw = n % g.W, ih = n / g.W % g.H, img = n / (g.W * g.H);
    int th = ih + g.pt - kh * g.dh, tw = iw + g.pl - kw * g.dw;
    if (th < 0 || tw < 0 || th % g.sh != 0 || tw % g.sw != 0) return 0.0f;
    int oh = th / g.sh, ow = tw / g.sw;
    if (oh >= g.OH || ow >= g.OW) return 0.0f;
    return dout[(((int64_t)img * g.OC + oc) * g.OH + oh) * g.OW + ow];
  }
};

// backward data epilogue: dinp[img, c, ih, iw] = v
struct DinpOut {
  float* dinp;
  int C, HW;
  __device__ __forceinline__ void operator()(int c, int n, float v) const {
    int img = n / HW, p = n % HW;
    dinp[((int64_t)img * C + c) * HW + p] = v;
  }
};

// backward weights A: dout as (OC, N*OH*OW): element (oc, k = (img, p)) = dout[img, oc, p]
struct DoutRows {
  const float* dout;
  int OC, OHW;
  __device__ __forceinline__ float operator()(int oc, int k) const {
    int img = k / OHW, p = k % OHW;
    return dout[((int64_t)img * OC + oc) * OHW + p];
  }
};

// backward weights B: im2col(inp)^T, element (k = (img, oh, ow), n = (c, kh, kw))
struct Im2colT {
  Im2col cols;
  __device__ __forceinline__ float operator()(int k, int n) const { return cols(n, k); }
};

// backward weights epilogue: dW[oc, k] += v
struct AccumulateOut {
  float* p;
  int N;
  __device__ __forceinline__ void operator()(int m, int n, float v) const { p[(int64_t)m * N + n] += v; }
};

// dbias[oc] += the sum of dout over images and pixels: one block per channel.
__global__ void __launch_bounds__(kThreads) conv_bias_grad(float* dbias, const float* dout, int N, int OC, int OHW) {
  const int oc = blockIdx.x;
  float s = 0.0f;
  for (int64_t i = threadIdx.x; i < (int64_t)N * OHW; i += blockDim.x) {
    int64_t img = i / OHW, p = i % OHW;
    s += dout[(img * OC + oc) * OHW + p];
  }
  s = block_sum(s);
  if (threadIdx.x == 0) dbias[oc] += s;
}

// --- grouped convolution (G > 1), direct ------------------------------------------------
// A depthwise convolution's product has one row per output channel and C/G * KH * KW (often
// 9) terms per output: a 64 x 64 GEMM tile would be almost all padding, so each output (and
// each input grad) is one thread's loop over its window. Weights (OC, C/G, KH, KW). The
// backward passes gather (no atomics), so every sum runs in a fixed order.

// out[img, oc, oh, ow] = bias[oc] + sum over its group's channels and the window (+ Relu)
__global__ void grouped_conv_forward(float* out, const float* inp, const float* w, const float* bias, ConvGeom g,
                                     bool relu) {
  const int Cg = g.C / g.G, OCg = g.OC / g.G;
  STRATA_GRID_LOOP(o, (int64_t)g.N * g.OC * g.OH * g.OW) {
    int ow = o % g.OW, oh = o / g.OW % g.OH, oc = o / ((int64_t)g.OW * g.OH) % g.OC;
    int64_t img = o / ((int64_t)g.OW * g.OH * g.OC);
    float acc = bias ? bias[oc] : 0.0f;
    for (int cg = 0; cg < Cg; cg++) {
      const float* x = inp + (img * g.C + oc / OCg * Cg + cg) * g.H * g.W;
      const float* k = w + ((int64_t)oc * Cg + cg) * g.KH * g.KW;
      for (int kh = 0; kh < g.KH; kh++) {
        int ih = oh * g.sh - g.pt + kh * g.dh;
        if (ih < 0 || ih >= g.H) continue;
        for (int kw = 0; kw < g.KW; kw++) {
          int iw = ow * g.sw - g.pl + kw * g.dw;
          if (iw >= 0 && iw < g.W) acc += x[ih * g.W + iw] * k[kh * g.KW + kw];
        }
      }
    }
    out[o] = relu && acc < 0.0f ? 0.0f : acc;
  }
}

// dinp[img, c, ih, iw] = sum over the group's output channels and the taps that put it in a window
__global__ void grouped_conv_backward_data(float* dinp, const float* dout, const float* w, ConvGeom g) {
  const int Cg = g.C / g.G, OCg = g.OC / g.G;
  STRATA_GRID_LOOP(i, (int64_t)g.N * g.C * g.H * g.W) {
    int iw = i % g.W, ih = i / g.W % g.H, c = i / ((int64_t)g.W * g.H) % g.C;
    int64_t img = i / ((int64_t)g.W * g.H * g.C);
    const int group = c / Cg, cg = c % Cg;
    float acc = 0.0f;
    for (int oc = group * OCg; oc < (group + 1) * OCg; oc++) {
      const float* d = dout + (img * g.OC + oc) * g.OH * g.OW;
      const float* k = w + ((int64_t)oc * Cg + cg) * g.KH * g.KW;
      for (int kh = 0; kh < g.KH; kh++) {
        int th = ih + g.pt - kh * g.dh;
        if (th < 0 || th % g.sh != 0 || th / g.sh >= g.OH) continue;
        for (int kw = 0; kw < g.KW; kw++) {
          int tw = iw + g.pl - kw * g.dw;
          if (tw < 0 || tw % g.sw != 0 || tw / g.sw >= g.OW) continue;
          acc += d[th / g.sh * g.OW + tw / g.sw] * k[kh * g.KW + kw];
        }
      }
    }
    dinp[i] = acc;
  }
}

// dw[oc, cg, kh, kw] += sum over images and output pixels of dout * the input under the tap:
// one block per weight, its threads striding over (img, oh, ow), then a block sum.
__global__ void __launch_bounds__(kThreads) grouped_conv_backward_weights(float* dw, const float* dout,
                                                                         const float* inp, ConvGeom g) {
  const int Cg = g.C / g.G, OCg = g.OC / g.G;
  const int64_t wi = blockIdx.x;
  const int kw = wi % g.KW, kh = wi / g.KW % g.KH, cg = wi / (g.KW * g.KH) % Cg;
  const int oc = (int)(wi / ((int64_t)g.KW * g.KH * Cg)), c = oc / OCg * Cg + cg;
  float s = 0.0f;
  for (int64_t j = threadIdx.x; j < (int64_t)g.N * g.OH * g.OW; j += blockDim.x) {
    int ow = j % g.OW, oh = j / g.OW % g.OH;
    int64_t img = j / ((int64_t)g.OW * g.OH);
    int ih = oh * g.sh - g.pt + kh * g.dh, iw = ow * g.sw - g.pl + kw * g.dw;
    if (ih < 0 || ih >= g.H || iw < 0 || iw >= g.W) continue;
    s += dout[((img * g.OC + oc) * g.OH + oh) * g.OW + ow] * inp[((img * g.C + c) * g.H + ih) * g.W + iw];
  }
  s = block_sum(s);
  if (threadIdx.x == 0) dw[wi] += s;
}

STRATA_GPU_NAMESPACE_END
