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

// The accuracy Keras picks for each loss: sparse_categorical_accuracy,
// categorical_accuracy, binary_accuracy (threshold 0.5 on probabilities, 0 on
// logits); none for the regression losses.
std::optional<float> accuracy(const float* pred, const float* target, int64_t rows, int64_t K, LossKind kind,
                              bool from_logits);

}  // namespace strata
