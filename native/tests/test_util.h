// test_util.h: the helpers every native test shares: random tensors,
// validate_result (llm.c's dev/cuda/common.h: print the first mismatching
// pairs, stop after 10) and a finite-difference gradient check.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

#include "core/rng.h"
#include "core/tensor.h"

namespace strata_test {
using namespace strata;

inline int g_failures = 0;
inline int g_checks = 0;

inline Tensor rand_tensor(Rng& rng, Shape s, float lo = -1, float hi = 1) {
  Tensor t(std::move(s));
  for (auto& v : t.f) v = rng.uniform(lo, hi);
  return t;
}

// Values in [lo,hi] kept at least `gap` away from 0 (finite differences across
// a kink like Relu's at 0 measure nothing useful).
inline Tensor rand_away_from_zero(Rng& rng, Shape s, float gap = 0.05f, float hi = 1.5f) {
  Tensor t(std::move(s));
  for (auto& v : t.f) {
    float m = rng.uniform(gap, hi);
    v = rng.uniform() < 0.5f ? -m : m;
  }
  return t;
}

// The root mean square of want (at least 1): the magnitude of an op's results. Winograd's
// rounding is relative to the terms it sums, not to one result (which may cancel to ~0).
inline float rms_floor(const float* want, int64_t n) {
  double s = 0;
  for (int64_t i = 0; i < n; i++) s += (double)want[i] * want[i];
  return n ? std::max(1.0f, (float)std::sqrt(s / n)) : 1.0f;
}

// got vs want elementwise, |got - want| <= tol * max(floor, |want|): relative for
// values beyond floor, absolute below (sums that cancel to ~0 keep their absolute error).
inline bool validate_result(const float* got, const float* want, const std::string& name, int64_t n,
                            float tol = 1e-4f, float floor = 1.0f) {
  g_checks++;
  int bad = 0;
  for (int64_t i = 0; i < n; i++) {
    float scale = std::fabs(want[i]) > floor ? std::fabs(want[i]) : floor;
    bool ok = std::fabs(got[i] - want[i]) <= tol * scale;
    if (!ok || std::isnan(got[i]) != std::isnan(want[i])) {
      if (bad < 5) std::printf("  %s[%lld]: got %.7g want %.7g\n", name.c_str(), (long long)i, got[i], want[i]);
      if (++bad >= 10) break;
    }
  }
  if (bad) {
    std::printf("FAIL %s: mismatches (tolerance %g x max(%g, |want|))\n", name.c_str(), tol, floor);
    g_failures++;
  }
  return bad == 0;
}

inline bool expect(bool cond, const std::string& what) {
  g_checks++;
  if (!cond) {
    std::printf("FAIL %s\n", what.c_str());
    g_failures++;
  }
  return cond;
}

// Checks dL/dx for L = loss(x) at up to `samples` coordinates of x by central
// differences, computed in double. analytic holds the backward's dL/dx.
inline bool grad_check(const std::string& name, std::vector<float>& x, const std::vector<float>& analytic,
                       const std::function<double()>& loss, float eps = 1e-3f, float tol = 1e-2f,
                       int samples = 40) {
  g_checks++;
  Rng rng(1234);
  int n = (int)x.size(), bad = 0;
  for (int s = 0; s < std::min(n, samples); s++) {
    int i = n <= samples ? s : (int)(rng.next() % n);
    float keep = x[i];
    x[i] = keep + eps;
    double lp = loss();
    x[i] = keep - eps;
    double lm = loss();
    x[i] = keep;
    double num = (lp - lm) / (2.0 * eps);
    double scale = std::fabs(num) > 1 ? std::fabs(num) : 1.0;
    if (std::fabs(num - analytic[i]) > tol * scale) {
      if (bad < 5) std::printf("  %s grad[%d]: analytic %.6g numeric %.6g\n", name.c_str(), i, analytic[i], num);
      bad++;
    }
  }
  if (bad) {
    std::printf("FAIL %s: gradient check (%d bad)\n", name.c_str(), bad);
    g_failures++;
  }
  return bad == 0;
}

inline int finish(const char* suite) {
  std::printf("%s: %d checks, %d failures\n", suite, g_checks, g_failures);
  return g_failures ? 1 : 0;
}

}  // namespace strata_test
