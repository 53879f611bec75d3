// losses.h: Keras's losses, fused and numerically stable, forward and backward in one call.
//
// pred is viewed as (rows, K) with K its last dimension. The reduction is Keras's
// "sum_over_batch_size": the per-row loss (summed over classes for the cross-
// entropies, averaged over K for the others) averaged over the rows.
// Gradient contract: dpred = weight * dL/dpred (=); dpred may be null (evaluation).
//
//   SparseCategoricalCrossentropy  target (rows) class indices, stored as floats
//   CategoricalCrossentropy        target (rows, K) one-hot or soft labels
//   BinaryCrossentropy             target (rows, K) in [0, 1]
//   MeanSquaredError, MeanAbsoluteError  target (rows, K)
//
// from_logits = false takes probabilities and does what Keras does: the
// categorical ones renormalize each row and clip to [1e-7, 1 - 1e-7], binary clips
// and adds 1e-7 inside the logs. The session never takes that path after a
// Softmax/Sigmoid node: it feeds the node's input here with from_logits = true,
// exactly as Keras does, so the loss stays finite however saturated the output.
#pragma once
#include <cstdint>
#include <optional>
#include <string>

namespace strata {

enum class LossKind { SparseCategoricalCrossentropy, CategoricalCrossentropy, BinaryCrossentropy, MeanSquaredError,
                      MeanAbsoluteError };

// Accepts Keras's names: "sparse_categorical_crossentropy", "categorical_crossentropy",
// "binary_crossentropy", "mean_squared_error"/"mse", "mean_absolute_error"/"mae".
LossKind loss_from_name(const std::string& name);
const char* loss_name(LossKind kind);

constexpr float kKerasEpsilon = 1e-7f;

// Returns the reduced loss; writes dpred = weight * dL/dpred when dpred is not null.
// row_weight (rows), when given, weights each row's loss as Keras's sample_weight
// (and class_weight, which becomes one) do: the weighted sum is still divided by
// the number of rows, not by the sum of the weights.
float loss_forward_backward(float* dpred, const float* pred, const float* target, int64_t rows, int64_t K,
                            LossKind kind, bool from_logits, float weight = 1.0f,
                            const float* row_weight = nullptr);

// Keras's metrics beside the loss, computed forward only from a step's prediction and target.
// The accuracies read the prediction the loss reads (logits where the session fused a
// Softmax/Sigmoid: argmax is the same, binary_accuracy thresholds at 0 instead of 0.5); the
// errors read the output itself. Each is a mean over the rows of the row's mean over K (equal
// widths: the mean over all elements), unweighted, as Keras's compiled `metrics` ignore
// sample_weight.
//   BinaryAccuracy               target (rows, K): (pred > threshold) == (target > 0.5)
//   CategoricalAccuracy          target (rows, K): argmax(pred) == argmax(target)
//   SparseCategoricalAccuracy    target (rows) class indices: argmax(pred) == target
//   MeanAbsoluteError, MeanSquaredError  target (rows, K): |pred - target|, (pred - target)^2
// Keras's RootMeanSquaredError is the square root of an epoch's MeanSquaredError: the
// caller takes the root of its running mean (a mean of per-step roots would differ).
enum class MetricKind { BinaryAccuracy, CategoricalAccuracy, SparseCategoricalAccuracy, MeanAbsoluteError,
                        MeanSquaredError };

// Keras's names: "binary_accuracy", "categorical_accuracy", "sparse_categorical_accuracy",
// "mean_absolute_error", "mean_squared_error".
MetricKind metric_from_name(const std::string& name);
const char* metric_name(MetricKind kind);
// Whether the metric can read the loss's target: the sparse accuracy needs class indices
// (the sparse loss), the others a target shaped as the prediction (every other loss).
bool metric_fits(MetricKind metric, LossKind loss);
// The accuracy Keras's "accuracy" resolves to for a loss; none for the regression losses.
std::optional<MetricKind> accuracy_for(LossKind loss);

float metric_value(const float* pred, const float* target, int64_t rows, int64_t K, MetricKind kind,
                   bool from_logits);

}  // namespace strata
