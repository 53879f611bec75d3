// batchnorm.h: BatchNormalization over channel axis 1; x and y are (N,C,S), S = spatial size.
// Gradient contract: parameter grads += (dscale, dbias), activation grads = (dx).
// Variances are biased (divided by N*S), as Keras uses them for the moving average too.
#pragma once

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
}  // namespace ref
}  // namespace strata
