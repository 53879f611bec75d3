// optim.cpp: the update rules documented in optim.h, one loop per optimizer.
#include "optim.h"

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

void optimizer_update(const OptimizerConfig& c, float* w, const float* g, int64_t n, OptimizerState& s,
                      int64_t step) {
  const float lr = c.learning_rate;
  if (c.weight_decay > 0)
    for (int64_t i = 0; i < n; i++) w[i] -= w[i] * c.weight_decay * lr;
  switch (c.kind) {
    case OptKind::SGD:
      if (c.momentum == 0) {
        for (int64_t i = 0; i < n; i++) w[i] -= lr * g[i];
        return;
      }
      s.m.resize(n, 0.0f);
      for (int64_t i = 0; i < n; i++) {
        s.m[i] = c.momentum * s.m[i] - lr * g[i];
        w[i] += c.nesterov ? c.momentum * s.m[i] - lr * g[i] : s.m[i];
      }
      return;
    case OptKind::Adam:
    case OptKind::AdamW: {
      s.m.resize(n, 0.0f);
      s.v.resize(n, 0.0f);
      double t = (double)step;
      float alpha = (float)(lr * std::sqrt(1 - std::pow((double)c.beta_2, t)) / (1 - std::pow((double)c.beta_1, t)));
      for (int64_t i = 0; i < n; i++) {
        s.m[i] += (g[i] - s.m[i]) * (1 - c.beta_1);
        s.v[i] += (g[i] * g[i] - s.v[i]) * (1 - c.beta_2);
        w[i] -= alpha * s.m[i] / (std::sqrt(s.v[i]) + c.epsilon);
      }
      return;
    }
    case OptKind::RMSprop:
      s.v.resize(n, 0.0f);
      if (c.centered) s.mg.resize(n, 0.0f);
      if (c.momentum > 0) s.m.resize(n, 0.0f);
      for (int64_t i = 0; i < n; i++) {
        s.v[i] = c.rho * s.v[i] + (1 - c.rho) * g[i] * g[i];
        float denom = s.v[i] + c.epsilon;
        if (c.centered) {
          s.mg[i] = c.rho * s.mg[i] + (1 - c.rho) * g[i];
          denom = s.v[i] - s.mg[i] * s.mg[i] + c.epsilon;
        }
        float inc = lr * g[i] / std::sqrt(denom);
        if (c.momentum > 0) {
          s.m[i] = c.momentum * s.m[i] + inc;
          w[i] -= s.m[i];
        } else {
          w[i] -= inc;
        }
      }
      return;
  }
}

}  // namespace strata
