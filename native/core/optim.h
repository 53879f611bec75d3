// optim.h: Keras's optimizers with Keras's defaults and update rules (Keras 3,
// keras/src/optimizers/*.py). `step` is Keras's iterations + 1 (1 on the first update).
//
//   SGD      lr 0.01;  momentum 0, nesterov false
//            v = momentum*v - lr*g;  w += v  (nesterov: w += momentum*v - lr*g)
//   Adam     lr 0.001; beta_1 0.9, beta_2 0.999, epsilon 1e-7
//            m += (g - m)(1 - b1); v += (g^2 - v)(1 - b2)
//            w -= lr*sqrt(1 - b2^t)/(1 - b1^t) * m / (sqrt(v) + eps)
//            amsgrad: the denominator uses the running maximum of v instead of v
//   AdamW    Adam with weight_decay 0.004
//   RMSprop  lr 0.001; rho 0.9, momentum 0, epsilon 1e-7, centered false
//            v = rho*v + (1-rho)*g^2; w -= lr*g / sqrt(v + eps)
// weight_decay (any optimizer, as Keras) is decoupled: w -= w * weight_decay * lr first.
// Gradient clipping, as Keras's optimizer arguments (at most one of them, as Keras):
// clipnorm scales each gradient to an L2 norm of at most clipnorm, global_clipnorm
// scales all of them together, clipvalue clips each element to [-clipvalue, clipvalue].
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace strata {

enum class OptKind { SGD, Adam, AdamW, RMSprop };

struct OptimizerConfig {
  OptKind kind = OptKind::Adam;
  float learning_rate = 0.001f;
  float momentum = 0.0f;  // SGD, RMSprop
  bool nesterov = false;  // SGD
  float beta_1 = 0.9f, beta_2 = 0.999f;
  float epsilon = 1e-7f;
  bool amsgrad = false;   // Adam, AdamW
  float weight_decay = 0.0f;
  float rho = 0.9f;       // RMSprop
  bool centered = false;  // RMSprop
  float clipnorm = 0, global_clipnorm = 0, clipvalue = 0;  // 0 = off

  // Keras's defaults for "sgd", "adam", "adamw", "rmsprop".
  static OptimizerConfig keras_default(OptKind kind);
  static OptKind kind_from_name(const std::string& name);
};

// Per-parameter slots (sized on first use).
struct OptimizerState {
  std::vector<float> m;   // SGD/RMSprop momentum, Adam first moment
  std::vector<float> v;   // Adam second moment, RMSprop velocity
  std::vector<float> mg;  // centered RMSprop: average gradient; amsgrad: max of v
};

// Which slots a configuration updates (the others stay empty).
struct OptimizerSlots {
  bool m, v, mg;
};
OptimizerSlots optimizer_slots(const OptimizerConfig& c);

// Applies the configured clipping to the gradients of one step, in place.
void clip_gradients(const OptimizerConfig& c, const std::vector<float*>& grads, const std::vector<int64_t>& sizes);

// One update of the n weights w given their gradient g (sizes s's slots on first use).
void optimizer_update(const OptimizerConfig& c, float* w, const float* g, int64_t n, OptimizerState& s,
                      int64_t step);
// The same on slots of n floats (null where optimizer_slots says none), zeros before the first update.
void optimizer_update(const OptimizerConfig& c, float* w, const float* g, int64_t n, float* m, float* v, float* mg,
                      int64_t step);

}  // namespace strata
