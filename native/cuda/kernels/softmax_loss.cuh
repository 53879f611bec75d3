// softmax_loss.cuh: Softmax along one axis (softmax.h), Keras's losses, one warp per row, and
// their metrics, one thread per row (losses.h). Gradient contract: dinp =, dpred = weight * dL/dpred.
//
// A loss runs in two kernels: the rows (or elements) write their weighted loss terms to a
// workspace, then one block adds them up in a fixed order and writes result[0] = the reduced
// loss: no host round-trip, the same bits every run. A metric does the same with one term
// per row. A sparse label that is not a class index is recorded for the host to raise
// (CudaBackend::sync).
#pragma once
#include "common.cuh"

STRATA_GPU_NAMESPACE_BEGIN

// Row r of (outer, K, inner) is (o, j) = (r / inner, r % inner); its element k sits at
// o * K * inner + k * inner + j.
// Softmax, or with log LogSoftmax (out = x - max - log(sum(exp(x - max)))): a warp per row.
__global__ void softmax_forward(float* out, const float* inp, int64_t rows, int64_t K, int64_t inner, bool log) {
  const int64_t warps = (int64_t)gridDim.x * (blockDim.x / 32);
  const int lane = threadIdx.x % 32;
  for (int64_t r = (int64_t)blockIdx.x * (blockDim.x / 32) + threadIdx.x / 32; r < rows; r += warps) {
    const int64_t base = r / inner * K * inner + r % inner;
    float m = -INFINITY;
    for (int64_t k = lane; k < K; k += 32) m = fmaxf(m, inp[base + k * inner]);
    m = warp_max(m);
    float s = 0.0f;
    for (int64_t k = lane; k < K; k += 32) s += expf(inp[base + k * inner] - m);
    s = warp_sum(s);
    const float log_s = logf(s);
    for (int64_t k = lane; k < K; k += 32) {
      const float x = inp[base + k * inner];
      out[base + k * inner] = log ? x - m - log_s : expf(x - m) / s;
    }
  }
}

// Softmax: dinp = out * (dout - sum(dout * out)); LogSoftmax: dinp = dout - exp(out) * sum(dout).
__global__ void softmax_backward(float* dinp, const float* dout, const float* out, int64_t rows, int64_t K,
                                 int64_t inner, bool log) {
  const int64_t warps = (int64_t)gridDim.x * (blockDim.x / 32);
  const int lane = threadIdx.x % 32;
  for (int64_t r = (int64_t)blockIdx.x * (blockDim.x / 32) + threadIdx.x / 32; r < rows; r += warps) {
    const int64_t base = r / inner * K * inner + r % inner;
    float s = 0.0f;
    for (int64_t k = lane; k < K; k += 32) s += dout[base + k * inner] * (log ? 1.0f : out[base + k * inner]);
    s = warp_sum(s);
    for (int64_t k = lane; k < K; k += 32) {
      const float d = dout[base + k * inner], y = out[base + k * inner];
      dinp[base + k * inner] = log ? d - expf(y) * s : y * (d - s);
    }
  }
}

// --- losses -----------------------------------------------------------------------------------------
enum LossCode { kSparseCCE, kCCE, kBCE, kMSE, kMAE };  // = strata::LossKind
constexpr float kEpsilon = 1e-7f;                      // Keras's epsilon (losses.h)

struct LossArgs {
  float* dpred;             // null: no gradient
  const float* pred;        // (rows, K)
  const float* target;      // (rows) class indices for the sparse loss, else (rows, K)
  const float* row_weight;  // (rows) or null
  int64_t rows, K;
  int kind;
  bool from_logits;
  float weight;
  float* terms;  // workspace: one weighted loss term per row (categorical) or element
  FaultRecord* fault;
};

// The first maximum of row x within the warp (strictly greater wins, as the reference):
// returns its index to every lane.
__device__ __forceinline__ int64_t warp_argmax(const float* x, int64_t K, int64_t stride) {
  const int lane = threadIdx.x % 32;
  float best = -INFINITY;
  int64_t at = K;  // K: none seen
  for (int64_t k = lane; k < K; k += 32)
    if (at == K || x[k * stride] > best) best = x[k * stride], at = k;
  for (int o = 16; o > 0; o /= 2) {
    float b = __shfl_xor_sync(0xffffffffu, best, o);
    int64_t a = __shfl_xor_sync(0xffffffffu, at, o);
    if (a != K && (at == K || b > best || (b == best && a < at))) best = b, at = a;
  }
  return at;
}

// Categorical cross-entropy, sparse or not, one warp per row (losses.cpp's cce_row).
__global__ void loss_categorical(LossArgs a) {
  const int64_t warps = (int64_t)gridDim.x * (blockDim.x / 32);
  const int lane = threadIdx.x % 32;
  const bool sparse = a.kind == kSparseCCE;
  for (int64_t r = (int64_t)blockIdx.x * (blockDim.x / 32) + threadIdx.x / 32; r < a.rows; r += warps) {
    const float* p = a.pred + r * a.K;
    int64_t label = -1;
    if (sparse) {
      float t = a.target[r];
      if (t >= 0 && t < (float)a.K && floorf(t) == t) label = (int64_t)t;
      else if (lane == 0) record_fault(a.fault, kSparseLabel, t, a.K);
    }
    auto y = [&](int64_t k) { return sparse ? (k == label ? 1.0f : 0.0f) : a.target[r * a.K + k]; };
    const float rw = a.row_weight ? a.row_weight[r] : 1.0f, scale = a.weight / (float)a.rows * rw;
    float loss;
    if (a.from_logits) {  // sum(y) * logsumexp(x) - sum(y * x)
      float m = -INFINITY;
      for (int64_t k = lane; k < a.K; k += 32) m = fmaxf(m, p[k]);
      m = warp_max(m);
      float s = 0.0f, sy = 0.0f, yx = 0.0f;
      for (int64_t k = lane; k < a.K; k += 32) s += expf(p[k] - m), sy += y(k), yx += y(k) * p[k];
      s = warp_sum(s), sy = warp_sum(sy), yx = warp_sum(yx);
      const float lse = m + logf(s);
      loss = sy * lse - yx;
      if (a.dpred)
        for (int64_t k = lane; k < a.K; k += 32) a.dpred[r * a.K + k] = scale * (expf(p[k] - lse) * sy - y(k));
    } else {  // q = p / sum(p), clipped to [eps, 1 - eps]; L = -sum(y log q)
      float S = 0.0f;
      for (int64_t k = lane; k < a.K; k += 32) S += p[k];
      S = warp_sum(S);
      // the clipping bounds in double, as the reference (1 - 1e-7 is not a float)
      auto clipped = [](float q) { return (double)q < (double)kEpsilon || (double)q > 1 - (double)kEpsilon; };
      auto gq = [&](int64_t k, float q) { return clipped(q) ? 0.0f : -y(k) / q; };
      float L = 0.0f, gdq = 0.0f;
      for (int64_t k = lane; k < a.K; k += 32) {
        float q = p[k] / S;
        L -= y(k) * (float)log(fmin(fmax((double)q, (double)kEpsilon), 1 - (double)kEpsilon));
        gdq += gq(k, q) * q;
      }
      loss = warp_sum(L), gdq = warp_sum(gdq);
      if (a.dpred)
        for (int64_t k = lane; k < a.K; k += 32) a.dpred[r * a.K + k] = scale * (gq(k, p[k] / S) - gdq) / S;
    }
    if (lane == 0) a.terms[r] = rw * loss;
  }
}

// Binary cross-entropy, mean squared and mean absolute error, one thread per element.
__global__ void loss_elementwise(LossArgs a) {
  const int64_t n = a.rows * a.K;
  const float scale = a.weight / (float)n;
  STRATA_GRID_LOOP(i, n) {
    const float x = a.pred[i], y = a.target[i], rw = a.row_weight ? a.row_weight[i / a.K] : 1.0f;
    float l, g;
    if (a.kind == kBCE) {
      if (a.from_logits) {  // max(x, 0) - x y + log(1 + exp(-|x|))
        l = fmaxf(x, 0.0f) - x * y + log1pf(expf(-fabsf(x)));
        g = 1.0f / (1.0f + expf(-x)) - y;
      } else {  // in double, as the reference: 1 - (1 - 1e-7) is 1.19e-7 in float, 1e-7 in double
        const double e = kEpsilon, xd = x;
        bool clipped = xd < e || xd > 1 - e;
        double q = fmin(fmax(xd, e), 1 - e);
        l = (float)-(y * log(q + e) + (1 - y) * log(1 - q + e));
        g = clipped ? 0.0f : (float)(-(y / (q + e)) + (1 - y) / (1 - q + e));
      }
    } else {
      float e = x - y;
      l = a.kind == kMSE ? e * e : fabsf(e);
      g = a.kind == kMSE ? 2 * e : (float)((e > 0) - (e < 0));
    }
    if (a.dpred) a.dpred[i] = scale * rw * g;
    a.terms[i] = rw * l;
  }
}

// result[0] = weight * sum(terms) / n_terms. One block, a fixed order.
__global__ void __launch_bounds__(1024) loss_finish(float* result, const float* terms, int64_t n_terms, float weight) {
  float s = 0.0f;
  for (int64_t i = threadIdx.x; i < n_terms; i += blockDim.x) s += terms[i];
  s = block_sum(s);
  if (threadIdx.x == 0) result[0] = weight * s / (float)n_terms;
}

// --- metrics (forward only; reduced by loss_finish with weight 1) ------------------------------------
enum MetricCode { kBinaryAccuracy, kCategoricalAccuracy, kSparseAccuracy, kMeanAbsolute, kMeanSquared };  // = strata::MetricKind

// The first maximum of a row (strictly greater wins, as the reference).
__device__ __forceinline__ int64_t row_argmax(const float* x, int64_t K) {
  int64_t at = 0;
  for (int64_t k = 1; k < K; k++)
    if (x[k] > x[at]) at = k;
  return at;
}

// terms[r] = row r's hit (0 or 1) for the categorical accuracies, else the mean over its K
// elements (losses.cpp's metric_row).
__global__ void metric_rows(float* terms, const float* pred, const float* target, int64_t rows, int64_t K, int kind,
                            bool from_logits) {
  STRATA_GRID_LOOP(r, rows) {
    const float* p = pred + r * K;
    const float* y = target + r * K;
    float v = 0.0f;
    if (kind == kSparseAccuracy) {
      v = (float)row_argmax(p, K) == target[r] ? 1.0f : 0.0f;
    } else if (kind == kCategoricalAccuracy) {
      v = row_argmax(p, K) == row_argmax(y, K) ? 1.0f : 0.0f;
    } else {
      const float threshold = from_logits ? 0.0f : 0.5f;
      for (int64_t k = 0; k < K; k++) {
        const float e = p[k] - y[k];
        v += kind == kBinaryAccuracy ? ((p[k] > threshold) == (y[k] > 0.5f) ? 1.0f : 0.0f)
                                     : (kind == kMeanAbsolute ? fabsf(e) : e * e);
      }
      v /= (float)K;
    }
    terms[r] = v;
  }
}

STRATA_GPU_NAMESPACE_END
