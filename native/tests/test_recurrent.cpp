// test_recurrent.cpp: ONNX's LSTM, GRU and RNN (core/ops/recurrent.h). For each case: finite
// differences of every input's gradient (X, W, R, B, the initial states, P) against the
// reference's backward, with all three outputs carrying gradients; the CPU backend's
// recurrent_forward/backward (cpu/recurrent_cpu.h: fused cells, oneDNN's GEMMs, threads over
// the batch) against the reference, forward and backward, on 1 and 2 threads; the gradient
// contract (parameter grads +=, activation grads =). Also the CPU's fast Sigmoid and Tanh
// (cpu/fast_act.h) against the exact values. The forward's values are checked against ONNX's
// own reference by onnx_node_tests.sh (ONNX's backend node tests for LSTM, GRU and RNN).
#include <cmath>
#include <cstdio>
#include <functional>
#include <string>

#include "core/backend.h"
#include "core/ops/gemm.h"
#include "core/ops/recurrent.h"
#include "core/rng.h"
#include "cpu/fast_act.h"
#include "recurrent_cases.h"
#include "test_util.h"

using namespace strata;
using namespace strata_test;

namespace {

struct Result {
  std::vector<float> y, yh, yc;
  std::vector<float> dx, dw, dr, db, dh0, dc0, dp;
};

using Forward = std::function<void(RecurrentOutputs, float*, const RecurrentInputs&, const RecurrentParams&)>;
using Backward = std::function<void(const RecurrentGrads&, const float*, const float*, const float*, const float*,
                                    const RecurrentInputs&, const RecurrentParams&)>;

// Forward and backward; the parameter grads start at `seed` (they must be added to).
Result run(const Case& c, const Data& d, const Forward& forward, const Backward& backward, float seed) {
  const RecurrentParams& p = c.p;
  Result r;
  r.y.resize(d.dy.f.size()), r.yh.resize(d.dyh.f.size()), r.yc.resize(d.dyc.f.size());
  std::vector<float> state((size_t)recurrent_state_size(p));
  forward({r.y.data(), r.yh.data(), r.yc.empty() ? nullptr : r.yc.data()}, state.data(), d.inputs(), p);
  auto sized = [](const Tensor& like, float v) { return std::vector<float>(like.f.size(), v); };
  r.dx = sized(d.x, 7.0f), r.dh0 = sized(d.h0, 7.0f), r.dc0 = sized(d.c0, 7.0f);  // = : overwritten
  r.dw = sized(d.w, seed), r.dr = sized(d.r, seed), r.db = sized(d.b, seed), r.dp = sized(d.pp, seed);
  auto ptr = [](std::vector<float>& v) { return v.empty() ? nullptr : v.data(); };
  RecurrentGrads g{ptr(r.dx), ptr(r.dw), ptr(r.dr), ptr(r.db), ptr(r.dh0), ptr(r.dc0), ptr(r.dp)};
  backward(g, d.dy.f.data(), d.dyh.f.data(), d.dyc.f.empty() ? nullptr : d.dyc.f.data(), state.data(), d.inputs(), p);
  return r;
}

// L = sum(dY * Y) + sum(dY_h * Y_h) + sum(dY_c * Y_c), by the reference, in double
double loss(const Case& c, const Data& d) {
  Result r;
  r.y.resize(d.dy.f.size()), r.yh.resize(d.dyh.f.size()), r.yc.resize(d.dyc.f.size());
  std::vector<float> state((size_t)recurrent_state_size(c.p));
  ref::recurrent_forward({r.y.data(), r.yh.data(), r.yc.empty() ? nullptr : r.yc.data()}, state.data(), d.inputs(),
                         c.p);
  double s = 0;
  for (size_t i = 0; i < r.y.size(); i++) s += (double)d.dy.f[i] * r.y[i];
  for (size_t i = 0; i < r.yh.size(); i++) s += (double)d.dyh.f[i] * r.yh[i];
  for (size_t i = 0; i < r.yc.size(); i++) s += (double)d.dyc.f[i] * r.yc[i];
  return s;
}

std::vector<float> minus(const std::vector<float>& a, float v) {
  std::vector<float> r(a);
  for (auto& x : r) x -= v;
  return r;
}

// finite_differences: false for the big cases, whose reference the small ones already check
void check_case(Rng& rng, const Case& c, Backend& cpu, bool finite_differences = true) {
  Data d = make_data(rng, c);
  const float seed = 0.25f;  // what the parameter grads held before the backward
  Result want = run(c, d, ref::recurrent_forward, ref::recurrent_backward, seed);
  // finite differences of the reference's backward (the parameter grads less their seed)
  struct Input { const char* name; Tensor* t; std::vector<float> analytic; };
  std::vector<Input> inputs = {{"X", &d.x, want.dx},           {"W", &d.w, minus(want.dw, seed)},
                               {"R", &d.r, minus(want.dr, seed)}, {"B", &d.b, minus(want.db, seed)},
                               {"initial_h", &d.h0, want.dh0},  {"initial_c", &d.c0, want.dc0},
                               {"P", &d.pp, minus(want.dp, seed)}};
  for (Input& in : inputs) {
    if (in.t->f.empty() || !finite_differences) continue;
    grad_check(c.name + " d" + in.name, in.t->f, in.analytic, [&] { return loss(c, d); }, 1e-3f, 1e-2f, 60);
  }
  // the CPU backend's against the reference's, on one thread and on two (the rows split)
  for (int threads : {1, 2}) {
    cpu.set_num_threads(threads);
    Result got = run(
        c, d, [&](auto&&... a) { cpu.recurrent_forward(a...); }, [&](auto&&... a) { cpu.recurrent_backward(a...); },
        seed);
    const std::string where = c.name + " cpu " + std::to_string(threads) + " threads ";
    auto same = [&](const std::vector<float>& g, const std::vector<float>& w, const char* what) {
      if (!w.empty()) validate_result(g.data(), w.data(), where + what, (int64_t)w.size());
    };
    same(got.y, want.y, "Y"), same(got.yh, want.yh, "Y_h"), same(got.yc, want.yc, "Y_c");
    same(got.dx, want.dx, "dX"), same(got.dw, want.dw, "dW"), same(got.dr, want.dr, "dR"), same(got.db, want.db, "dB");
    same(got.dh0, want.dh0, "dinitial_h"), same(got.dc0, want.dc0, "dinitial_c"), same(got.dp, want.dp, "dP");
  }
}

// The CPU's Sigmoid and Tanh against the exact values (in double) from -100 to 100 and at the
// ends: within 3 ulps relative where the value is above 1e-30, 1e-37 absolute below; NaN stays NaN.
void check_fast_activations() {
  std::vector<float> x = {0.0f, -0.0f, 1e-30f, -1e-30f, 1e-8f, 0.625f, -0.625f, 87.0f, -87.0f, 88.5f, -88.5f,
                          1e30f, -1e30f, INFINITY, -INFINITY};
  for (float v = -100.0f; v < 100.0f; v += 0.000731f) x.push_back(v);
  std::vector<float> y(x.size());
  auto check = [&](const char* name, void (*fast)(float*, const float*, int64_t), double (*exact)(double)) {
    fast(y.data(), x.data(), (int64_t)x.size());
    g_checks++;
    int bad = 0;
    for (size_t i = 0; i < x.size() && bad < 5; i++) {
      const double want = exact(x[i]), err = std::fabs(y[i] - want);
      if (err <= std::max(2.5e-7 * std::fabs(want), 1e-37)) continue;
      std::printf("  %s(%.9g): got %.9g want %.9g\n", name, x[i], y[i], want), bad++;
    }
    float nan = NAN, out = 0;
    fast(&out, &nan, 1);
    if (!std::isnan(out)) std::printf("  %s(NaN): got %g\n", name, out), bad++;
    if (bad) std::printf("FAIL fast %s\n", name), g_failures++;
  };
  check("sigmoid", sigmoid_fast, [](double v) { return 1.0 / (1.0 + std::exp(-v)); });
  check("tanh", tanh_fast, [](double v) { return std::tanh(v); });
}

}  // namespace

int main() {
  Rng rng(2112);
  auto cpu = make_backend("cpu");
  for (const Case& c : recurrent_case_list()) check_case(rng, c, *cpu);
  // a longer sequence on sizes past a GEMM tile (the fast path's blocking)
  const ActParams sig{Act::Sigmoid}, tanh_{Act::Tanh};
  const std::vector<ActParams> lstm = {sig, tanh_, tanh_}, gru = {sig, tanh_};
  check_case(rng, {"LSTM T=20 H=40", params(Cell::LSTM, 20, 9, 17, 40, 1, false, false, lstm)}, *cpu);
  // steps of at least 8192 gate values (B * G * H), which the CPU splits over its threads, with
  // a batch that does not divide evenly
  check_case(rng, {"LSTM threaded rows", params(Cell::LSTM, 3, 21, 5, 100, 2, false, false, lstm), true, true, true},
             *cpu, false);
  for (bool lbr : {false, true}) {
    Case c{"GRU threaded rows", params(Cell::GRU, 3, 23, 5, 120, 1, true, true, gru), true, true};
    c.p.linear_before_reset = lbr;
    c.name += lbr ? " linear_before_reset=1" : " linear_before_reset=0";
    check_case(rng, c, *cpu, false);
  }
  check_case(rng, {"RNN threaded rows", params(Cell::RNN, 3, 83, 5, 100, 1, false, false, {tanh_}), true, true}, *cpu,
             false);
  check_fast_activations();
  return finish("test_recurrent");
}
