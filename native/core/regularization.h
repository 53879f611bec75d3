// regularization.h: Keras's weight regularizers and constraints (kernel_regularizer,
// kernel_constraint, ... on Dense and Conv layers), as Keras 3 computes them:
//   a regularizer adds l1 * sum|w| + l2 * sum w^2 to the loss (training and evaluation), and
//   l1 * sign(w) + 2 l2 w to the weight's gradient before clipping and the optimizer;
//   a constraint replaces the weight after each optimizer step: MaxNorm (norms clipped to
//   max_value), NonNeg (negatives to 0), UnitNorm (norms 1), MinMaxNorm (norms moved by `rate`
//   into [min_value, max_value]), each norm sqrt(sum w^2) over the constraint's axes, and the
//   weight scaled by desired / (1e-7 + norm) (Keras's backend epsilon).
// The weight is viewed as (outer, reduce, inner): one norm per (outer, inner) pair, over reduce
// (the caller maps Keras's axes onto the initializer's layout).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace strata {

enum class ConstraintKind { None, MaxNorm, NonNeg, UnitNorm, MinMaxNorm };
ConstraintKind constraint_from_name(const std::string& name);  // "none", "max_norm", "non_neg", "unit_norm", "min_max_norm"

struct WeightRule {
  std::string name;  // the initializer
  float l1 = 0, l2 = 0;
  ConstraintKind constraint = ConstraintKind::None;
  float min_value = 0, max_value = 0, rate = 1;
  int64_t outer = 1, reduce = 1, inner = 1;
};

// l1 * sum|w| + l2 * sum w^2, in double
double regularization_penalty(const std::vector<float>& w, const WeightRule& r);
// l1 * sign(w) + 2 l2 w
std::vector<float> regularization_gradient(const std::vector<float>& w, const WeightRule& r);
// w = the rule's constraint applied to w (nothing for None)
void apply_constraint(std::vector<float>& w, const WeightRule& r);

}  // namespace strata
