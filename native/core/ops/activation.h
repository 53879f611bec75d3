// activation.h: elementwise activations Relu, LeakyRelu, Elu, Selu, Sigmoid, Tanh, Gelu
// (exact erf form and the tanh approximation), and Erf (Strata's translator writes
// Keras's gelu as 0.5 * x * (1 + Erf(x / sqrt 2))). Swish reaches us as x * Sigmoid(x).
// Clip (Keras's ReLU(max_value), relu6), ThresholdedRelu (ReLU(threshold)), Softplus and
// HardSigmoid (Keras's activations of those names); Sqrt (the standard deviation in Keras's
// LayerNormalization, which the translator writes as ReduceMean, Sub, Mul, Sqrt, Div). Where a function has a kink (Clip,
// ThresholdedRelu, HardSigmoid's ends) the gradient there is 0, as TensorFlow's relu6.
// Gradient contract: activation grads = (dinp).
#pragma once
#include <cstdint>

namespace strata {

enum class Act { Relu, LeakyRelu, Elu, Selu, Sigmoid, Tanh, Gelu, GeluTanh, Erf, Clip, ThresholdedRelu, Softplus, HardSigmoid, Sqrt };

struct ActParams {
  Act kind;
  float alpha = 0;  // LeakyRelu slope (ONNX default 0.01), Elu alpha (1.0), Selu alpha, Clip min,
                    // ThresholdedRelu alpha (1.0), HardSigmoid alpha (0.2)
  float gamma = 0;  // Selu gamma, Clip max, HardSigmoid beta (0.5)
};

namespace ref {
void act_forward(float* out, const float* inp, int64_t n, const ActParams& a);
// dinp = dout * f'(inp); out is the forward's output (Sigmoid, Tanh reuse it)
void act_backward(float* dinp, const float* dout, const float* inp, const float* out, int64_t n, const ActParams& a);
}  // namespace ref

}  // namespace strata
