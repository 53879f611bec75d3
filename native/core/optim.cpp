// optim.cpp: the update rules documented in optim.h, one loop per optimizer.
#include "optim.h"

#include <algorithm>
#include <cmath>

#include "check.h"

namespace strata {

OptimizerConfig OptimizerConfig::keras_default(OptKind kind) {
  OptimizerConfig c;
  c.kind = kind;
  if (kind == OptKind::SGD) c.learning_rate = 0.01f;
  if (kind == OptKind::AdamW) c.weight_decay = 0.004f;
  return c;
}

OptKind OptimizerConfig::kind_from_name(const std::string& n) {
  if (n == "sgd" || n == "SGD") return OptKind::SGD;
  if (n == "adam" || n == "Adam") return OptKind::Adam;
  if (n == "adamw" || n == "AdamW") return OptKind::AdamW;
  if (n == "rmsprop" || n == "RMSprop") return OptKind::RMSprop;
  STRATA_FAIL("unknown optimizer '" << n << "'; expected sgd, adam, adamw or rmsprop");
}

void clip_gradients(const OptimizerConfig& c, const std::vector<float*>& grads, const std::vector<int64_t>& sizes) {
  int set = (c.clipnorm > 0) + (c.global_clipnorm > 0) + (c.clipvalue > 0);
  STRATA_CHECK(set <= 1, "only one of clipnorm, global_clipnorm and clipvalue may be set (as in Keras)");
  auto norm = [](const float* g, int64_t n) {
    double s = 0;
    for (int64_t i = 0; i < n; i++) s += (double)g[i] * g[i];
    return std::sqrt(s);
  };
  auto scale = [](float* g, int64_t n, double f) {
    for (int64_t i = 0; i < n; i++) g[i] = (float)(g[i] * f);
  };
  if (c.clipnorm > 0)
    for (size_t k = 0; k < grads.size(); k++) {
      double nk = norm(grads[k], sizes[k]);
      if (nk > c.clipnorm) scale(grads[k], sizes[k], c.clipnorm / nk);
    }
  if (c.global_clipnorm > 0) {
    double total = 0;
    for (size_t k = 0; k < grads.size(); k++) total += std::pow(norm(grads[k], sizes[k]), 2);
    total = std::sqrt(total);
    if (total > c.global_clipnorm)
      for (size_t k = 0; k < grads.size(); k++) scale(grads[k], sizes[k], c.global_clipnorm / total);
  }
  if (c.clipvalue > 0)
    for (size_t k = 0; k < grads.size(); k++)
      for (int64_t i = 0; i < sizes[k]; i++) grads[k][i] = std::fmin(std::fmax(grads[k][i], -c.clipvalue), c.clipvalue);
}

// f(begin, end) over [0, n) in chunks, on OpenMP's threads when there are several
// (elementwise updates: every element is computed the same way however it is split).
template <class F>
static void in_chunks(int64_t n, F f) {
  const int64_t chunk = 1 << 14, chunks = (n + chunk - 1) / chunk;
#pragma omp parallel for schedule(static) if (chunks > 1)
  for (int64_t c = 0; c < chunks; c++) f(c * chunk, std::min(n, (c + 1) * chunk));
}

OptimizerSlots optimizer_slots(const OptimizerConfig& c) {
  switch (c.kind) {
    case OptKind::SGD: return {c.momentum != 0, false, false};
    case OptKind::Adam:
    case OptKind::AdamW: return {true, true, c.amsgrad};
    case OptKind::RMSprop: return {c.momentum > 0, true, c.centered};
  }
  return {false, false, false};
}

void optimizer_update(const OptimizerConfig& c, float* w, const float* g, int64_t n, OptimizerState& s,
                      int64_t step) {
  OptimizerSlots need = optimizer_slots(c);
  if (need.m) s.m.resize(n, 0.0f);
  if (need.v) s.v.resize(n, 0.0f);
  if (need.mg) s.mg.resize(n, 0.0f);
  optimizer_update(c, w, g, n, need.m ? s.m.data() : nullptr, need.v ? s.v.data() : nullptr,
                   need.mg ? s.mg.data() : nullptr, step);
}

void optimizer_update(const OptimizerConfig& c, float* w, const float* g, int64_t n, float* m_slot, float* v_slot,
                      float* mg_slot, int64_t step) {
  const float lr = c.learning_rate;
  if (c.weight_decay > 0)
    for (int64_t i = 0; i < n; i++) w[i] -= w[i] * c.weight_decay * lr;
  switch (c.kind) {
    case OptKind::SGD:
      if (c.momentum == 0) {
        for (int64_t i = 0; i < n; i++) w[i] -= lr * g[i];
        return;
      }
      for (int64_t i = 0; i < n; i++) {
        m_slot[i] = c.momentum * m_slot[i] - lr * g[i];
        w[i] += c.nesterov ? c.momentum * m_slot[i] - lr * g[i] : m_slot[i];
      }
      return;
    case OptKind::Adam:
    case OptKind::AdamW: {
      double t = (double)step;
      float alpha = (float)(lr * std::sqrt(1 - std::pow((double)c.beta_2, t)) / (1 - std::pow((double)c.beta_1, t)));
      // constants in locals and unaliased pointers, so that the loop vectorizes (sqrt and
      // division are exact in SIMD too: the same results as one element at a time)
      float* __restrict m = m_slot;
      float* __restrict sv = v_slot;
      float* __restrict mg = mg_slot;
      float* __restrict wr = w;
      const float* __restrict gr = g;
      const float k1 = 1 - c.beta_1, k2 = 1 - c.beta_2, eps = c.epsilon;
      const bool amsgrad = c.amsgrad;
      in_chunks(n, [=](int64_t b, int64_t e) {
        if (amsgrad) {
          for (int64_t i = b; i < e; i++) {
            m[i] += (gr[i] - m[i]) * k1;
            sv[i] += (gr[i] * gr[i] - sv[i]) * k2;
            float v = mg[i] = std::fmax(mg[i], sv[i]);
            wr[i] -= alpha * m[i] / (std::sqrt(v) + eps);
          }
          return;
        }
#pragma omp simd
        for (int64_t i = b; i < e; i++) {
          m[i] += (gr[i] - m[i]) * k1;
          sv[i] += (gr[i] * gr[i] - sv[i]) * k2;
          wr[i] -= alpha * m[i] / (std::sqrt(sv[i]) + eps);
        }
      });
      return;
    }
    case OptKind::RMSprop:
      for (int64_t i = 0; i < n; i++) {
        v_slot[i] = c.rho * v_slot[i] + (1 - c.rho) * g[i] * g[i];
        float denom = v_slot[i] + c.epsilon;
        if (c.centered) {
          mg_slot[i] = c.rho * mg_slot[i] + (1 - c.rho) * g[i];
          denom = v_slot[i] - mg_slot[i] * mg_slot[i] + c.epsilon;
        }
        float inc = lr * g[i] / std::sqrt(denom);
        if (c.momentum > 0) {
          m_slot[i] = c.momentum * m_slot[i] + inc;
          w[i] -= m_slot[i];
        } else {
          w[i] -= inc;
        }
      }
      return;
  }
}

}  // namespace strata
