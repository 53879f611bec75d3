// regularization.cpp: see regularization.h.
#include "regularization.h"

#include <algorithm>
#include <cmath>

#include "check.h"

namespace strata {

ConstraintKind constraint_from_name(const std::string& name) {
  if (name == "none") return ConstraintKind::None;
  if (name == "max_norm") return ConstraintKind::MaxNorm;
  if (name == "non_neg") return ConstraintKind::NonNeg;
  if (name == "unit_norm") return ConstraintKind::UnitNorm;
  if (name == "min_max_norm") return ConstraintKind::MinMaxNorm;
  STRATA_FAIL("unknown constraint '" << name << "'; known: none, max_norm, non_neg, unit_norm, min_max_norm");
}

double regularization_penalty(const std::vector<float>& w, const WeightRule& r) {
  double sum = 0;
  for (float v : w) sum += r.l1 * std::fabs((double)v) + r.l2 * (double)v * v;
  return sum;
}

std::vector<float> regularization_gradient(const std::vector<float>& w, const WeightRule& r) {
  std::vector<float> g(w.size());
  for (size_t i = 0; i < w.size(); i++) g[i] = r.l1 * (float)((w[i] > 0) - (w[i] < 0)) + 2 * r.l2 * w[i];
  return g;
}

// The norm a constraint wants for a slice whose norm is `norm`.
static double desired_norm(double norm, const WeightRule& r) {
  switch (r.constraint) {
    case ConstraintKind::MaxNorm: return std::min(norm, (double)r.max_value);
    case ConstraintKind::UnitNorm: return 1.0;
    case ConstraintKind::MinMaxNorm:
      return r.rate * std::clamp(norm, (double)r.min_value, (double)r.max_value) + (1 - r.rate) * norm;
    default: return norm;
  }
}

void apply_constraint(std::vector<float>& w, const WeightRule& r) {
  if (r.constraint == ConstraintKind::None) return;
  if (r.constraint == ConstraintKind::NonNeg) {
    for (float& v : w) v = v >= 0 ? v : 0.0f;
    return;
  }
  STRATA_CHECK(r.outer * r.reduce * r.inner == (int64_t)w.size(),
               "constraint on '" << r.name << "': axes (" << r.outer << ", " << r.reduce << ", " << r.inner
                                 << ") do not cover its " << w.size() << " values");
  const double eps = 1e-7;  // Keras's backend.epsilon()
  for (int64_t o = 0; o < r.outer; o++)
    for (int64_t i = 0; i < r.inner; i++) {
      auto at = [&](int64_t k) -> float& { return w[(o * r.reduce + k) * r.inner + i]; };
      double sum = 0;
      for (int64_t k = 0; k < r.reduce; k++) sum += (double)at(k) * at(k);
      double norm = std::sqrt(sum), scale = desired_norm(norm, r) / (eps + norm);
      for (int64_t k = 0; k < r.reduce; k++) at(k) = (float)(at(k) * scale);
    }
}

}  // namespace strata
