// test_recurrent.cpp: ONNX's LSTM, GRU and RNN (core/ops/recurrent.h). For each case: finite
// differences of every input's gradient (X, W, R, B, the initial states, P) against the
// reference's backward, with all three outputs carrying gradients; the CPU fast path (oneDNN's
// GEMMs) against the reference, forward and backward; the gradient contract (parameter grads
// +=, activation grads =). The forward's values are checked against ONNX's own reference by
// onnx_node_tests.sh (ONNX's backend node tests for LSTM, GRU and RNN).
#include <cstdio>
#include <string>

#include "core/backend.h"
#include "core/ops/gemm.h"
#include "core/ops/recurrent.h"
#include "core/rng.h"
#include "recurrent_cases.h"
#include "test_util.h"

using namespace strata;
using namespace strata_test;

namespace {

struct Result {
  std::vector<float> y, yh, yc;
  std::vector<float> dx, dw, dr, db, dh0, dc0, dp;
};

// Forward and backward with `gemm`; the parameter grads start at `seed` (they must be added to).
Result run(const Case& c, const Data& d, const GemmFn& gemm, float seed) {
  const RecurrentParams& p = c.p;
  Result r;
  r.y.resize(d.dy.f.size()), r.yh.resize(d.dyh.f.size()), r.yc.resize(d.dyc.f.size());
  std::vector<float> state((size_t)recurrent_state_size(p));
  recurrent_forward({r.y.data(), r.yh.data(), r.yc.empty() ? nullptr : r.yc.data()}, state.data(), d.inputs(), p, gemm);
  auto sized = [](const Tensor& like, float v) { return std::vector<float>(like.f.size(), v); };
  r.dx = sized(d.x, 7.0f), r.dh0 = sized(d.h0, 7.0f), r.dc0 = sized(d.c0, 7.0f);  // = : overwritten
  r.dw = sized(d.w, seed), r.dr = sized(d.r, seed), r.db = sized(d.b, seed), r.dp = sized(d.pp, seed);
  auto ptr = [](std::vector<float>& v) { return v.empty() ? nullptr : v.data(); };
  RecurrentGrads g{ptr(r.dx), ptr(r.dw), ptr(r.dr), ptr(r.db), ptr(r.dh0), ptr(r.dc0), ptr(r.dp)};
  recurrent_backward(g, d.dy.f.data(), d.dyh.f.data(), d.dyc.f.empty() ? nullptr : d.dyc.f.data(), state.data(),
                     d.inputs(), p, gemm);
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

void check_case(Rng& rng, const Case& c, Backend& cpu) {
  Data d = make_data(rng, c);
  const float seed = 0.25f;  // what the parameter grads held before the backward
  Result want = run(c, d, ref::gemm, seed);
  // finite differences of the reference's backward (the parameter grads less their seed)
  struct Input { const char* name; Tensor* t; std::vector<float> analytic; };
  std::vector<Input> inputs = {{"X", &d.x, want.dx},           {"W", &d.w, minus(want.dw, seed)},
                               {"R", &d.r, minus(want.dr, seed)}, {"B", &d.b, minus(want.db, seed)},
                               {"initial_h", &d.h0, want.dh0},  {"initial_c", &d.c0, want.dc0},
                               {"P", &d.pp, minus(want.dp, seed)}};
  for (Input& in : inputs) {
    if (in.t->f.empty()) continue;
    grad_check(c.name + " d" + in.name, in.t->f, in.analytic, [&] { return loss(c, d); }, 1e-3f, 1e-2f, 60);
  }
  // the CPU backend's GEMMs against the reference's loops
  GemmFn fast = [&](bool ta, bool tb, int M, int N, int K, float alpha, const float* A, const float* B, float beta,
                    float* C) { cpu.gemm(ta, tb, M, N, K, alpha, A, B, beta, C); };
  Result got = run(c, d, fast, seed);
  auto same = [&](const std::vector<float>& g, const std::vector<float>& w, const char* what) {
    if (!w.empty()) validate_result(g.data(), w.data(), c.name + " cpu " + what, (int64_t)w.size());
  };
  same(got.y, want.y, "Y"), same(got.yh, want.yh, "Y_h"), same(got.yc, want.yc, "Y_c");
  same(got.dx, want.dx, "dX"), same(got.dw, want.dw, "dW"), same(got.dr, want.dr, "dR"), same(got.db, want.db, "dB");
  same(got.dh0, want.dh0, "dinitial_h"), same(got.dc0, want.dc0, "dinitial_c"), same(got.dp, want.dp, "dP");
}

}  // namespace

int main() {
  Rng rng(2112);
  auto cpu = make_backend("cpu");
  for (const Case& c : recurrent_case_list()) check_case(rng, c, *cpu);
  // a longer sequence on sizes past a GEMM tile (the fast path's blocking)
  const ActParams sig{Act::Sigmoid}, tanh_{Act::Tanh};
  check_case(rng, {"LSTM T=20 H=40", params(Cell::LSTM, 20, 9, 17, 40, 1, false, false, {sig, tanh_, tanh_})}, *cpu);
  return finish("test_recurrent");
}
