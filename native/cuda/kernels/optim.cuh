// optim.cuh: Keras's optimizers and gradient clipping as optim.h defines them, on the
// device: one element-wise update per weight tensor, and norms by fixed-order reductions.
#pragma once
#include "common.cuh"

STRATA_GPU_NAMESPACE_BEGIN

enum OptCode { kSGD, kAdam, kAdamW, kRMSprop };  // = strata::OptKind

struct OptStep {  // the configuration's constants; the learning rate and Adam's step come from StepValues
  int kind;
  float momentum, k1, k2, eps, weight_decay, rho;  // k1 = 1 - beta_1, k2 = 1 - beta_2
  bool nesterov, amsgrad, centered;
};

// w, g (n); the slots m, v, mg as optim.h names them (null where the configuration uses none)
__global__ void optimizer_update(OptStep o, const StepValues* step, float* w, const float* g, float* m, float* v,
                                 float* mg, int64_t n) {
  const float lr = step->lr, alpha = step->alpha;
  STRATA_GRID_LOOP(i, n) {
    float wi = w[i], gi = g[i];
    if (o.weight_decay > 0) wi -= wi * o.weight_decay * lr;
    switch (o.kind) {
      case kSGD:
        if (o.momentum == 0) {
          wi -= lr * gi;
        } else {
          float mi = o.momentum * m[i] - lr * gi;
          m[i] = mi;
          wi += o.nesterov ? o.momentum * mi - lr * gi : mi;
        }
        break;
      case kAdam:
      case kAdamW: {
        float mi = m[i] + (gi - m[i]) * o.k1, vi = v[i] + (gi * gi - v[i]) * o.k2;
        m[i] = mi, v[i] = vi;
        if (o.amsgrad) vi = mg[i] = fmaxf(mg[i], vi);
        wi -= alpha * mi / (sqrtf(vi) + o.eps);
        break;
      }
      default: {  // RMSprop
        float vi = o.rho * v[i] + (1 - o.rho) * gi * gi, denom = vi + o.eps;
        v[i] = vi;
        if (o.centered) {
          float gm = o.rho * mg[i] + (1 - o.rho) * gi;
          mg[i] = gm;
          denom = vi - gm * gm + o.eps;
        }
        float inc = lr * gi / sqrtf(denom);
        if (o.momentum > 0) {
          float mi = o.momentum * m[i] + inc;
          m[i] = mi;
          wi -= mi;
        } else {
          wi -= inc;
        }
      }
    }
    w[i] = wi;
  }
}

// --- clipping ----------------------------------------------------------------------------------------
constexpr int kNormBlocks = 64;  // partial sums per tensor

// partial[b] = the sum of g[i]^2 over block b's grid-stride elements
__global__ void __launch_bounds__(kThreads) sum_squares(float* partial, const float* g, int64_t n) {
  float s = 0.0f;
  STRATA_GRID_LOOP(i, n) s += g[i] * g[i];
  s = block_sum(s);
  if (threadIdx.x == 0) partial[blockIdx.x] = s;
}

// norms[t] = sqrt(the sum of tensor t's partials); with `global`, norms[count] = the norm of them all
__global__ void __launch_bounds__(kThreads) finish_norms(float* norms, const float* partial, int count, bool global) {
  if (threadIdx.x == 0) {
    double total = 0;
    for (int t = 0; t < count; t++) {
      double s = 0;
      for (int b = 0; b < kNormBlocks; b++) s += partial[t * kNormBlocks + b];
      norms[t] = (float)sqrt(s);
      total += s;
    }
    if (global) norms[count] = (float)sqrt(total);
  }
}

// g *= limit / norm when norm > limit
__global__ void clip_to_norm(float* g, int64_t n, const float* norm, float limit) {
  const float nrm = *norm;
  if (!(nrm > limit)) return;
  const float f = limit / nrm;
  STRATA_GRID_LOOP(i, n) g[i] *= f;
}

__global__ void clip_values(float* g, int64_t n, float limit) {
  STRATA_GRID_LOOP(i, n) g[i] = fminf(fmaxf(g[i], -limit), limit);
}

STRATA_GPU_NAMESPACE_END
