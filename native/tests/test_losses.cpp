// test_losses.cpp: each loss against hand-computed values, finite-difference
// gradients for every loss and input form, stability at saturated logits, and
// the fusion identity CE(softmax(x)) == CE_from_logits(x).
#include <algorithm>

#include "core/check.h"
#include "core/losses.h"
#include "core/ops/softmax.h"
#include "test_util.h"

using namespace strata;
using namespace strata_test;

static void near(float got, double want, const std::string& what, double tol = 1e-5) {
  expect(std::fabs(got - want) <= tol * std::fmax(1.0, std::fabs(want)),
         what + ": got " + std::to_string(got) + " want " + std::to_string(want));
}

static void grad_case(LossKind kind, bool logits, int64_t rows, int64_t K, Rng& rng, bool weighted = false) {
  std::string name = std::string(loss_name(kind)) + (logits ? " from logits" : " from probabilities");
  Tensor pred = logits ? rand_tensor(rng, {rows, K}, -3, 3) : rand_tensor(rng, {rows, K}, 0.05f, 0.95f);
  Tensor target({kind == LossKind::SparseCategoricalCrossentropy ? rows : rows * K});
  for (int64_t i = 0; i < target.size(); i++) {
    if (kind == LossKind::SparseCategoricalCrossentropy) target.f[i] = (float)(rng.next() % K);
    else if (kind == LossKind::CategoricalCrossentropy) target.f[i] = (i % K) == (i / K) % K ? 1.0f : 0.0f;
    else if (kind == LossKind::BinaryCrossentropy) target.f[i] = rng.uniform() < 0.5f ? 0.0f : 1.0f;
    else target.f[i] = rng.uniform(-1, 1);
  }
  std::vector<float> d(pred.size());
  float weight = 0.7f;  // the loss weight scales the gradient
  Tensor rw = rand_tensor(rng, {rows}, 0.0f, 2.0f);
  const float* w = weighted ? rw.data() : nullptr;
  if (weighted) name += " with sample weights";
  loss_forward_backward(d.data(), pred.data(), target.data(), rows, K, kind, logits, weight, w);
  grad_check(name, pred.f, d, [&]() {
    return (double)loss_forward_backward(nullptr, pred.data(), target.data(), rows, K, kind, logits, weight, w);
  }, 1e-3f, 5e-3f);
}

// Every metric on random data against a plain reference written as Keras states it: the
// mean over the last axis per sample, then the mean over samples (double, own loops).
static void metric_cases(Rng& rng, int64_t rows, int64_t K) {
  Tensor pred = rand_tensor(rng, {rows, K}, -2, 2), target = rand_tensor(rng, {rows, K}, -2, 2), labels({rows});
  for (auto& v : labels.f) v = (float)(rng.next() % K);
  if (K > 1) pred.f[1] = pred.f[0];  // a tie: the first maximum wins
  auto per_sample = [&](auto value) {
    double sum = 0;
    for (int64_t r = 0; r < rows; r++) {
      double row = 0;
      for (int64_t k = 0; k < K; k++) row += value(pred.f[r * K + k], target.f[r * K + k]);
      sum += row / K;
    }
    return sum / rows;
  };
  auto first_max = [&](const float* x) { return (int64_t)(std::max_element(x, x + K) - x); };
  double mae = per_sample([](double p, double y) { return std::fabs(p - y); });
  double mse = per_sample([](double p, double y) { return (p - y) * (p - y); });
  double binary = per_sample([](float p, float y) { return (p > 0.5f) == (y > 0.5f) ? 1.0 : 0.0; });
  double binary_logits = per_sample([](float p, float y) { return (p > 0.0f) == (y > 0.5f) ? 1.0 : 0.0; });
  double categorical = 0, sparse = 0;
  for (int64_t r = 0; r < rows; r++) {
    categorical += first_max(&pred.f[r * K]) == first_max(&target.f[r * K]);
    sparse += first_max(&pred.f[r * K]) == (int64_t)labels.f[r];
  }
  const std::string at = " (" + std::to_string(rows) + " x " + std::to_string(K) + ")";
  auto value = [&](MetricKind m, bool logits = false) {
    return metric_value(pred.data(), m == MetricKind::SparseCategoricalAccuracy ? labels.data() : target.data(), rows, K, m, logits);
  };
  near(value(MetricKind::MeanAbsoluteError), mae, "mean_absolute_error" + at);
  near(value(MetricKind::MeanSquaredError), mse, "mean_squared_error" + at);
  near(value(MetricKind::BinaryAccuracy), binary, "binary_accuracy" + at);
  near(value(MetricKind::BinaryAccuracy, true), binary_logits, "binary_accuracy on logits" + at);
  near(value(MetricKind::CategoricalAccuracy), categorical / rows, "categorical_accuracy" + at);
  near(value(MetricKind::SparseCategoricalAccuracy), sparse / rows, "sparse_categorical_accuracy" + at);
  // for equal widths Keras's mean of per-sample means is the mean over all elements
  double all = 0;
  for (int64_t i = 0; i < rows * K; i++) all += std::fabs((double)pred.f[i] - target.f[i]);
  near(value(MetricKind::MeanAbsoluteError), all / (rows * K), "mean_absolute_error over all elements" + at);
}

int main() {
  Rng rng(7);
  // hand-computed values
  {
    float logits[] = {1, 2, 3}, label[] = {2};
    double lse = std::log(std::exp(1.0) + std::exp(2.0) + std::exp(3.0));
    near(loss_forward_backward(nullptr, logits, label, 1, 3, LossKind::SparseCategoricalCrossentropy, true),
         lse - 3, "sparse CE from logits");
    float probs[] = {0.2f, 0.3f, 0.5f}, onehot[] = {0, 1, 0};
    near(loss_forward_backward(nullptr, probs, onehot, 1, 3, LossKind::CategoricalCrossentropy, false),
         -std::log(0.3), "CE from probabilities");
    float unnorm[] = {0.4f, 0.6f, 1.0f};  // Keras renormalizes rows that do not sum to 1
    near(loss_forward_backward(nullptr, unnorm, onehot, 1, 3, LossKind::CategoricalCrossentropy, false),
         -std::log(0.3), "CE renormalizes");
    float p[] = {0.9f, 0.2f}, y[] = {1, 0};
    near(loss_forward_backward(nullptr, p, y, 1, 2, LossKind::BinaryCrossentropy, false),
         -(std::log(0.9 + 1e-7) + std::log(0.8 + 1e-7)) / 2, "BCE from probabilities");
    float x[] = {2.0f, -1.0f};
    near(loss_forward_backward(nullptr, x, y, 1, 2, LossKind::BinaryCrossentropy, true),
         (std::log1p(std::exp(-2.0)) + std::log1p(std::exp(-1.0))) / 2, "BCE from logits");
    float a[] = {1, 2, 3, 4}, b[] = {1.5f, 2, 2, 4};
    near(loss_forward_backward(nullptr, a, b, 2, 2, LossKind::MeanSquaredError, false), (0.25 + 1) / 4, "MSE");
    near(loss_forward_backward(nullptr, a, b, 2, 2, LossKind::MeanAbsoluteError, false), (0.5 + 1) / 4, "MAE");
  }
  // gradients
  for (bool logits : {true, false}) {
    grad_case(LossKind::SparseCategoricalCrossentropy, logits, 5, 4, rng);
    grad_case(LossKind::CategoricalCrossentropy, logits, 5, 4, rng);
    grad_case(LossKind::BinaryCrossentropy, logits, 4, 3, rng);
  }
  grad_case(LossKind::MeanSquaredError, false, 4, 3, rng);
  grad_case(LossKind::MeanAbsoluteError, false, 4, 3, rng);
  for (bool logits : {true, false}) {
    grad_case(LossKind::SparseCategoricalCrossentropy, logits, 5, 4, rng, true);
    grad_case(LossKind::BinaryCrossentropy, logits, 4, 3, rng, true);
  }
  grad_case(LossKind::MeanSquaredError, false, 4, 3, rng, true);
  {  // Keras divides the weighted sum by the number of rows, not by the sum of weights
    float a[] = {1, 2, 3, 4}, b[] = {1.5f, 2, 2, 4}, w[] = {2, 0};
    near(loss_forward_backward(nullptr, a, b, 2, 2, LossKind::MeanSquaredError, false, 1.0f, w), 2 * 0.25 / 4,
         "sample-weighted MSE");
  }
  // stability: saturated logits stay finite with the exact limiting values
  {
    float x[] = {1000, -1000, 0}, lab[] = {1};
    float d[3];
    float l = loss_forward_backward(d, x, lab, 1, 3, LossKind::SparseCategoricalCrossentropy, true);
    near(l, 2000, "sparse CE at saturated logits");
    expect(std::isfinite(d[0]) && std::fabs(d[0] - 1) < 1e-6 && std::fabs(d[1] + 1) < 1e-6,
           "sparse CE gradient at saturated logits");
    float z[] = {-200, 200}, y[] = {1, 0};
    float db[2];
    float lb = loss_forward_backward(db, z, y, 1, 2, LossKind::BinaryCrossentropy, true);
    near(lb, 200, "BCE at saturated logits");
    expect(std::isfinite(db[0]) && std::isfinite(db[1]), "BCE gradient at saturated logits is finite");
  }
  // fusion identity: CE on softmax probabilities == CE from the logits
  {
    Tensor x = rand_tensor(rng, {6, 5}, -2, 2), probs({6, 5});
    ref::softmax_forward(probs.data(), x.data(), 6, 5, 1, false);
    float labels[] = {0, 4, 2, 1, 3, 3};
    float a = loss_forward_backward(nullptr, x.data(), labels, 6, 5, LossKind::SparseCategoricalCrossentropy, true);
    float b = loss_forward_backward(nullptr, probs.data(), labels, 6, 5, LossKind::SparseCategoricalCrossentropy,
                                    false);
    near(a, b, "CE(softmax(x)) == CE_logits(x)", 1e-5);
  }
  // metrics against hand-computed values
  {
    float pred[] = {0.1f, 0.9f, 0.8f, 0.2f, 0.3f, 0.7f}, lab[] = {1, 1, 1};
    near(metric_value(pred, lab, 3, 2, MetricKind::SparseCategoricalAccuracy, false), 2.0 / 3, "sparse accuracy");
    float bp[] = {0.6f, 0.4f, 0.7f}, by[] = {1, 1, 0};
    near(metric_value(bp, by, 1, 3, MetricKind::BinaryAccuracy, false), 1.0 / 3, "binary accuracy");
    float logits[] = {0.2f, -0.1f, 0.3f};  // on logits the threshold is 0
    near(metric_value(logits, by, 1, 3, MetricKind::BinaryAccuracy, true), 1.0 / 3, "binary accuracy on logits");
    float ep[] = {1, 2, 3, 4}, ey[] = {0, 4, 3, 1};  // errors 1, -2, 0, 3
    near(metric_value(ep, ey, 2, 2, MetricKind::MeanAbsoluteError, false), 6.0 / 4, "mean absolute error");
    near(metric_value(ep, ey, 2, 2, MetricKind::MeanSquaredError, false), 14.0 / 4, "mean squared error");
  }
  for (int64_t K : {1, 3, 40}) metric_cases(rng, 23, K);
  expect(accuracy_for(LossKind::BinaryCrossentropy) == MetricKind::BinaryAccuracy &&
             accuracy_for(LossKind::SparseCategoricalCrossentropy) == MetricKind::SparseCategoricalAccuracy &&
             !accuracy_for(LossKind::MeanSquaredError),
         "accuracy_for: Keras's accuracy per loss, none for regression");
  expect(metric_fits(MetricKind::SparseCategoricalAccuracy, LossKind::SparseCategoricalCrossentropy) &&
             !metric_fits(MetricKind::MeanAbsoluteError, LossKind::SparseCategoricalCrossentropy) &&
             !metric_fits(MetricKind::SparseCategoricalAccuracy, LossKind::MeanSquaredError) &&
             metric_fits(MetricKind::MeanAbsoluteError, LossKind::CategoricalCrossentropy),
         "metric_fits: the sparse accuracy reads class indices, the others a target shaped as the output");
  {
    std::string msg;
    try {
      metric_from_name("f1_score");
    } catch (const Error& e) {
      msg = e.what();
    }
    expect(msg.find("unknown metric 'f1_score'; expected binary_accuracy") != std::string::npos, "an unknown metric names itself: " + msg);
  }
  // a bad sparse label names itself
  {
    float x[] = {0, 0}, lab[] = {5};
    bool threw = false;
    try {
      loss_forward_backward(nullptr, x, lab, 1, 2, LossKind::SparseCategoricalCrossentropy, true);
    } catch (const Error& e) {
      threw = std::string(e.what()).find("sparse label 5") != std::string::npos;
    }
    expect(threw, "out-of-range sparse label throws and quotes the label");
  }
  return finish("test_losses");
}
