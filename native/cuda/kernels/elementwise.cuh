// elementwise.cuh: activations (activation.h), the broadcasting binaries (tensor_ops.h),
// Dropout with the engine's generator, and the small vector helpers of the session.
// Gradient contract: activation grads =.
#pragma once
#include "common.cuh"

STRATA_GPU_NAMESPACE_BEGIN

// --- activations: the formulas of core/ops/activation.cpp -------------------------------------
enum ActKind { kRelu, kLeakyRelu, kElu, kSelu, kSigmoid, kTanh, kGelu, kGeluTanh, kErf, kClip, kThresholdedRelu, kSoftplus,
               kHardSigmoid, kSqrt };  // = strata::Act
constexpr float kSqrt2OverPi = 0.7978845608028654f;

__device__ __forceinline__ float sigmoid(float x) {
  if (x >= 0) return 1.0f / (1.0f + expf(-x));
  float e = expf(x);
  return e / (1.0f + e);
}

__device__ __forceinline__ float act_value(int kind, float x, float al, float ga) {
  switch (kind) {
    case kRelu: return x > 0 ? x : 0.0f;
    case kLeakyRelu: return x * (x >= 0 ? 1.0f : al);
    case kElu: return x >= 0 ? x : al * expm1f(x);
    case kSelu: return ga * (x > 0 ? x : al * expm1f(x));
    case kSigmoid: return sigmoid(x);
    case kTanh: return tanhf(x);
    case kGelu: return 0.5f * x * (1.0f + erff(x * 0.7071067811865476f));
    case kGeluTanh: return 0.5f * x * (1.0f + tanhf(kSqrt2OverPi * (x + 0.044715f * x * x * x)));
    case kClip: return x < al ? al : x > ga ? ga : x;
    case kThresholdedRelu: return x > al ? x : 0.0f;
    case kSoftplus: return x > 0 ? x + log1pf(expf(-x)) : log1pf(expf(x));
    case kHardSigmoid: return fminf(1.0f, fmaxf(0.0f, al * x + ga));
    case kSqrt: return sqrtf(x);
    default: return erff(x);
  }
}

// f'(x), from the input x or, for Sigmoid, Tanh and Sqrt, from the output y
__device__ __forceinline__ float act_slope(int kind, float x, float y, float al, float ga) {
  switch (kind) {
    case kRelu: return x > 0 ? 1.0f : 0.0f;
    case kLeakyRelu: return x >= 0 ? 1.0f : al;
    case kElu: return x >= 0 ? 1.0f : al * expf(x);
    case kSelu: return ga * (x > 0 ? 1.0f : al * expf(x));
    case kSigmoid: return y * (1.0f - y);
    case kTanh: return 1.0f - y * y;
    case kGelu: {
      float cdf = 0.5f * (1.0f + erff(x * 0.7071067811865476f));
      return cdf + x * 0.3989422804014327f * expf(-0.5f * x * x);
    }
    case kGeluTanh: {
      float t = tanhf(kSqrt2OverPi * (x + 0.044715f * x * x * x));
      return 0.5f * (1.0f + t) + 0.5f * x * (1.0f - t * t) * kSqrt2OverPi * (1.0f + 3.0f * 0.044715f * x * x);
    }
    case kClip: return x > al && x < ga ? 1.0f : 0.0f;
    case kThresholdedRelu: return x > al ? 1.0f : 0.0f;
    case kSoftplus: return sigmoid(x);
    case kHardSigmoid: return al * x + ga > 0.0f && al * x + ga < 1.0f ? al : 0.0f;
    case kSqrt: return 0.5f / y;
    default: return 1.1283791670955126f * expf(-x * x);
  }
}

// dout * f'(x) with y = f(x) (read only by the kinds whose slope comes from the output). Relu
// selects (dout where x > 0) rather than multiplying: 0 * inf would be NaN.
__device__ __forceinline__ bool slope_from_output(int kind) { return kind == kSigmoid || kind == kTanh || kind == kSqrt; }
__device__ __forceinline__ float act_grad(int kind, float dout, float x, float y, float al, float ga) {
  if (kind == kRelu) return x > 0 ? dout : 0.0f;
  return dout * act_slope(kind, x, y, al, ga);
}

__global__ void act_forward(float* out, const float* inp, int64_t n, int kind, float al, float ga) {
  STRATA_GRID_LOOP(i, n) out[i] = act_value(kind, inp[i], al, ga);
}

__global__ void act_backward(float* dinp, const float* dout, const float* inp, const float* out, int64_t n, int kind,
                             float al, float ga) {
  STRATA_GRID_LOOP(i, n) dinp[i] = act_grad(kind, dout[i], inp[i], slope_from_output(kind) ? out[i] : 0.0f, al, ga);
}

// --- broadcasting binaries --------------------------------------------------------------------
enum BinaryKind { kAdd, kSub, kMul, kDiv, kMax, kMin };  // = strata::Binary

__device__ __forceinline__ float binary_value(int op, float a, float b) {
  switch (op) {
    case kAdd: return a + b;
    case kSub: return a - b;
    case kMul: return a * b;
    case kMax: return a >= b ? a : b;
    case kMin: return a <= b ? a : b;
    default: return a / b;
  }
}

__global__ void binary_forward(float* out, const float* a, const float* b, Broadcast bc, int64_t n, int op) {
  STRATA_GRID_LOOP(o, n) {
    int64_t ia, ib;
    bc.offsets(o, ia, ib);
    out[o] = binary_value(op, a[ia], b[ib]);
  }
}

// d(out)/d(a) or d(out)/d(b) at one output element, times its grad
__device__ __forceinline__ float binary_grad(int op, bool wrt_a, float d, const float* a, const float* b, int64_t ia,
                                             int64_t ib) {
  switch (op) {
    case kAdd: return d;
    case kSub: return wrt_a ? d : -d;
    case kMul: return wrt_a ? d * b[ib] : d * a[ia];
    // the whole grad to a where a >= b (Min: a <= b), else to b: TensorFlow's rule, a wins ties
    case kMax: return (a[ia] >= b[ib]) == wrt_a ? d : 0.0f;
    case kMin: return (a[ia] <= b[ib]) == wrt_a ? d : 0.0f;
    default: return wrt_a ? d / b[ib] : -d * a[ia] / (b[ib] * b[ib]);
  }
}

// The grad of an operand as large as the output: one element each.
__global__ void binary_backward_full(float* dx, bool wrt_a, const float* dout, const float* a, const float* b,
                                     Broadcast bc, int64_t n, int op) {
  STRATA_GRID_LOOP(o, n) {
    int64_t ia, ib;
    bc.offsets(o, ia, ib);
    dx[o] = binary_grad(op, wrt_a, dout[o], a, b, ia, ib);
  }
}

// The grad of a broadcast operand: element j sums over the output elements it reached, one
// thread per element (few reached) or one block per element (many), in a fixed order.
__global__ void binary_backward_reduce(float* dx, bool wrt_a, const float* dout, const float* a, const float* b,
                                       Broadcast bc, ReduceMap map, int64_t n_x, bool per_block, int op) {
  auto term = [&](int64_t o) {
    int64_t ia, ib;
    bc.offsets(o, ia, ib);
    return binary_grad(op, wrt_a, dout[o], a, b, ia, ib);
  };
  if (per_block) {
    for (int64_t j = blockIdx.x; j < n_x; j += gridDim.x) {  // the whole block takes each j
      const int64_t base = map.base(j);
      float s = 0.0f;
      for (int64_t t = threadIdx.x; t < map.red_count; t += blockDim.x) s += term(base + map.red(t));
      s = block_sum(s);
      if (threadIdx.x == 0) dx[j] = s;
    }
    return;
  }
  STRATA_GRID_LOOP(j, n_x) {
    const int64_t base = map.base(j);
    float s = 0.0f;
    for (int64_t t = 0; t < map.red_count; t++) s += term(base + map.red(t));
    dx[j] = s;
  }
}

// --- Dropout: the engine's splitmix64 stream (rng.h), element i from the (i+1)-th draw ------------
__device__ __forceinline__ uint64_t splitmix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// The seed is seed_base + step->seed_step (the engine's seed for the node and step, split so
// that a recorded step draws each step's masks).
__global__ void dropout_forward(float* out, float* mask, const float* inp, int64_t n, float ratio, float scale,
                                uint64_t seed_base, const StepValues* step) {
  const uint64_t seed = seed_base + step->seed_step;
  STRATA_GRID_LOOP(i, n) {
    uint64_t z = splitmix64(seed + (uint64_t)(i + 1) * 0x9E3779B97F4A7C15ull);
    float u = (float)(z >> 40) * (1.0f / 16777216.0f);
    float m = u < ratio ? 0.0f : scale;
    mask[i] = m;
    out[i] = inp[i] * m;
  }
}

__global__ void multiply(float* out, const float* a, const float* b, int64_t n) {
  STRATA_GRID_LOOP(i, n) out[i] = a[i] * b[i];
}

// --- vector helpers ---------------------------------------------------------------------------------
__global__ void fill(float* p, float v, int64_t n) {
  STRATA_GRID_LOOP(i, n) p[i] = v;
}
__global__ void add_into(float* y, const float* x, float alpha, int64_t n) {  // y += alpha * x
  STRATA_GRID_LOOP(i, n) y[i] += alpha * x[i];
}
__global__ void scale_into(float* y, const float* x, float alpha, int64_t n) {  // y = alpha * x
  STRATA_GRID_LOOP(i, n) y[i] = alpha * x[i];
}
__global__ void blend(float* y, const float* a, float wa, const float* b, float wb, int64_t n) {  // y = a wa + b wb
  STRATA_GRID_LOOP(i, n) y[i] = a[i] * wa + b[i] * wb;
}

STRATA_GPU_NAMESPACE_END
