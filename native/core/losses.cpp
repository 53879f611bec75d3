// losses.cpp: the losses in double accumulators; see losses.h for the conventions.
#include "losses.h"

#include <cmath>
#include <vector>

#include "check.h"

namespace strata {

LossKind loss_from_name(const std::string& n) {
  if (n == "sparse_categorical_crossentropy") return LossKind::SparseCategoricalCrossentropy;
  if (n == "categorical_crossentropy") return LossKind::CategoricalCrossentropy;
  if (n == "binary_crossentropy") return LossKind::BinaryCrossentropy;
  if (n == "mean_squared_error" || n == "mse") return LossKind::MeanSquaredError;
  if (n == "mean_absolute_error" || n == "mae") return LossKind::MeanAbsoluteError;
  STRATA_FAIL("unknown loss '" << n << "'; expected sparse_categorical_crossentropy, categorical_crossentropy, "
                                  "binary_crossentropy, mean_squared_error or mean_absolute_error");
}

const char* loss_name(LossKind k) {
  switch (k) {
    case LossKind::SparseCategoricalCrossentropy: return "sparse_categorical_crossentropy";
    case LossKind::CategoricalCrossentropy: return "categorical_crossentropy";
    case LossKind::BinaryCrossentropy: return "binary_crossentropy";
    case LossKind::MeanSquaredError: return "mean_squared_error";
    case LossKind::MeanAbsoluteError: return "mean_absolute_error";
  }
  return "?";
}

static int64_t label_of(float t, int64_t K) {
  int64_t c = (int64_t)t;
  STRATA_CHECK(c >= 0 && c < K && (float)c == t,
               "sparse label " << t << " is not a class index in [0, " << K << ")");
  return c;
}

// One row of categorical cross-entropy. y is the (possibly one-hot) target row.
static double cce_row(float* d, const float* p, const double* y, int64_t K, bool from_logits, double scale) {
  if (from_logits) {  // L = sum(y) * logsumexp(x) - sum(y * x)
    double m = p[0], s = 0, sy = 0, yx = 0;
    for (int64_t k = 1; k < K; k++) m = std::fmax(m, (double)p[k]);
    for (int64_t k = 0; k < K; k++) s += std::exp(p[k] - m), sy += y[k], yx += y[k] * p[k];
    double lse = m + std::log(s);
    if (d)
      for (int64_t k = 0; k < K; k++) d[k] = (float)(scale * (std::exp(p[k] - lse) * sy - y[k]));
    return sy * lse - yx;
  }
  // probabilities: q = p / sum(p), clipped; L = -sum(y * log(clip(q)))
  double S = 0, L = 0, gq_dot_q = 0;
  for (int64_t k = 0; k < K; k++) S += p[k];
  std::vector<double> gq(K);
  for (int64_t k = 0; k < K; k++) {
    double q = p[k] / S;
    bool clipped = q < kKerasEpsilon || q > 1 - kKerasEpsilon;
    double qc = q < kKerasEpsilon ? kKerasEpsilon : (q > 1 - kKerasEpsilon ? 1 - kKerasEpsilon : q);
    L -= y[k] * std::log(qc);
    gq[k] = clipped ? 0.0 : -y[k] / q;
    gq_dot_q += gq[k] * q;
  }
  if (d)  // dL/dp_k = (gq_k - sum_i gq_i q_i) / S
    for (int64_t k = 0; k < K; k++) d[k] = (float)(scale * (gq[k] - gq_dot_q) / S);
  return L;
}

float loss_forward_backward(float* dpred, const float* pred, const float* target, int64_t rows, int64_t K,
                            LossKind kind, bool from_logits, float weight, const float* row_weight) {
  auto rw = [&](int64_t r) { return row_weight ? (double)row_weight[r] : 1.0; };
  STRATA_CHECK(rows > 0 && K > 0, "loss on an empty tensor (" << rows << " rows of " << K << ")");
  double total = 0;
  int64_t n = rows * K;
  switch (kind) {
    case LossKind::SparseCategoricalCrossentropy:
    case LossKind::CategoricalCrossentropy: {
      std::vector<double> y(K);
      double scale = (double)weight / rows;
      for (int64_t r = 0; r < rows; r++) {
        if (kind == LossKind::SparseCategoricalCrossentropy) {
          std::fill(y.begin(), y.end(), 0.0);
          y[label_of(target[r], K)] = 1.0;
        } else {
          for (int64_t k = 0; k < K; k++) y[k] = target[r * K + k];
        }
        total += rw(r) * cce_row(dpred ? dpred + r * K : nullptr, pred + r * K, y.data(), K, from_logits, scale * rw(r));
      }
      return (float)(weight * total / rows);
    }
    case LossKind::BinaryCrossentropy: {
      double scale = (double)weight / n;
      for (int64_t i = 0; i < n; i++) {
        double x = pred[i], y = target[i], l, g;
        if (from_logits) {  // max(x,0) - x*y + log(1 + exp(-|x|))
          l = std::fmax(x, 0.0) - x * y + std::log1p(std::exp(-std::fabs(x)));
          g = 1.0 / (1.0 + std::exp(-x)) - y;
        } else {
          const double e = kKerasEpsilon;
          bool clipped = x < e || x > 1 - e;
          double p = x < e ? e : (x > 1 - e ? 1 - e : x);
          l = -(y * std::log(p + e) + (1 - y) * std::log(1 - p + e));
          g = clipped ? 0.0 : -(y / (p + e)) + (1 - y) / (1 - p + e);
        }
        total += rw(i / K) * l;
        if (dpred) dpred[i] = (float)(scale * rw(i / K) * g);
      }
      return (float)(weight * total / n);
    }
    case LossKind::MeanSquaredError:
    case LossKind::MeanAbsoluteError: {
      double scale = (double)weight / n;
      bool mse = kind == LossKind::MeanSquaredError;
      for (int64_t i = 0; i < n; i++) {
        double e = (double)pred[i] - target[i];
        total += rw(i / K) * (mse ? e * e : std::fabs(e));
        if (dpred) dpred[i] = (float)(scale * rw(i / K) * (mse ? 2 * e : (e > 0) - (e < 0)));
      }
      return (float)(weight * total / n);
    }
  }
  return 0;
}

static int64_t argmax(const float* x, int64_t K) {
  int64_t a = 0;
  for (int64_t k = 1; k < K; k++)
    if (x[k] > x[a]) a = k;
  return a;
}

MetricKind metric_from_name(const std::string& n) {
  for (MetricKind k : {MetricKind::BinaryAccuracy, MetricKind::CategoricalAccuracy, MetricKind::SparseCategoricalAccuracy,
                       MetricKind::MeanAbsoluteError, MetricKind::MeanSquaredError})
    if (n == metric_name(k)) return k;
  STRATA_FAIL("unknown metric '" << n << "'; expected binary_accuracy, categorical_accuracy, "
                                    "sparse_categorical_accuracy, mean_absolute_error or mean_squared_error");
}

const char* metric_name(MetricKind k) {
  switch (k) {
    case MetricKind::BinaryAccuracy: return "binary_accuracy";
    case MetricKind::CategoricalAccuracy: return "categorical_accuracy";
    case MetricKind::SparseCategoricalAccuracy: return "sparse_categorical_accuracy";
    case MetricKind::MeanAbsoluteError: return "mean_absolute_error";
    case MetricKind::MeanSquaredError: return "mean_squared_error";
  }
  return "?";
}

bool metric_fits(MetricKind metric, LossKind loss) {
  return (metric == MetricKind::SparseCategoricalAccuracy) == (loss == LossKind::SparseCategoricalCrossentropy);
}

std::optional<MetricKind> accuracy_for(LossKind loss) {
  switch (loss) {
    case LossKind::SparseCategoricalCrossentropy: return MetricKind::SparseCategoricalAccuracy;
    case LossKind::CategoricalCrossentropy: return MetricKind::CategoricalAccuracy;
    case LossKind::BinaryCrossentropy: return MetricKind::BinaryAccuracy;
    default: return std::nullopt;
  }
}

// One row's value of the metric: a hit (0 or 1) for the categorical accuracies, else the
// mean over the row's K elements.
static double metric_row(const float* p, const float* target, int64_t r, int64_t K, MetricKind kind, bool from_logits) {
  if (kind == MetricKind::SparseCategoricalAccuracy) return (float)argmax(p, K) == target[r];
  const float* y = target + r * K;
  if (kind == MetricKind::CategoricalAccuracy) return argmax(p, K) == argmax(y, K);
  double sum = 0;
  const float threshold = from_logits ? 0.0f : 0.5f;
  for (int64_t k = 0; k < K; k++) {
    double e = (double)p[k] - y[k];
    switch (kind) {
      case MetricKind::BinaryAccuracy: sum += (p[k] > threshold) == (y[k] > 0.5f); break;
      case MetricKind::MeanAbsoluteError: sum += std::fabs(e); break;
      default: sum += e * e; break;
    }
  }
  return sum / K;
}

float metric_value(const float* pred, const float* target, int64_t rows, int64_t K, MetricKind kind,
                   bool from_logits) {
  STRATA_CHECK(rows > 0 && K > 0, "metric on an empty tensor (" << rows << " rows of " << K << ")");
  double total = 0;
  for (int64_t r = 0; r < rows; r++) total += metric_row(pred + r * K, target, r, K, kind, from_logits);
  return (float)(total / rows);
}

}  // namespace strata
