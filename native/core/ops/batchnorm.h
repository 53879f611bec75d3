// batchnorm.h: BatchNormalization over channel axis 1; x and y are (N,C,S), S = spatial size.
// Gradient contract: parameter grads += (dscale, dbias), activation grads = (dx).
// Variances are biased (divided by N*S), as Keras uses them for the moving average too.
#pragma once
#include <cstdint>

namespace strata {
namespace ref {
// Training: normalizes with the batch statistics and returns them in mean, var (C).
void batchnorm_forward_train(float* y, float* mean, float* var, const float* x, const float* scale,
                             const float* bias, int N, int C, int S, float eps);
// Inference: normalizes with the given (moving) statistics.
void batchnorm_forward_infer(float* y, const float* x, const float* scale, const float* bias, const float* mean,
                             const float* var, int N, int C, int S, float eps);
// Backward of the training forward; mean, var are the batch statistics it returned.
void batchnorm_backward(float* dx, float* dscale, float* dbias, const float* dy, const float* x, const float* scale,
                        const float* mean, const float* var, int N, int C, int S, float eps);

// LayerNormalization (ONNX opset 17): x and y are (rows, D), each row normalized over its D
// elements with its own (biased) statistics, then y = xhat * scale + bias (scale, bias: D; bias
// may be null). mean and inv_std (rows) receive each row's mean and 1 / sqrt(var + eps).
void layer_norm_forward(float* y, float* mean, float* inv_std, const float* x, const float* scale, const float* bias,
                        int64_t rows, int64_t D, float eps);
// dx = inv_std * (g - mean(g) - xhat * mean(g * xhat)) with g = dy * scale; dscale += sum of
// dy * xhat and dbias += sum of dy over the rows (either may be null).
void layer_norm_backward(float* dx, float* dscale, float* dbias, const float* dy, const float* x, const float* scale,
                         const float* mean, const float* inv_std, int64_t rows, int64_t D);
}  // namespace ref
}  // namespace strata
