// conv.cuh: 2-D convolution (NCHW, group 1) as implicit GEMM on gemm.cuh: the loaders
// gather the convolution's operands straight from the tensors, no im2col buffer.
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

STRATA_GPU_NAMESPACE_END
