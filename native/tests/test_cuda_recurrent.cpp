// test_cuda_recurrent.cpp: the CUDA backend's LSTM, GRU and RNN (cuda/cuda_recurrent.cuh,
// kernels/recurrent.cuh) against the reference backend (recurrent.cpp's loops, which
// test_recurrent checks by finite differences), every value in the backend's memory: Y, Y_h,
// Y_c and the grads of X, W, R, B, the initial states and P, the parameter grads added to
// what they held. The cases are test_recurrent's (every cell, direction and layout, biases,
// initial states, peepholes, both GRU forms), then sizes that fill no tile or block evenly
// (T*B rows past the GEMM's 64-row tiles, B*H threads past a 256-thread block), the outputs a
// model may leave unread, and the activations the exporter can write.
//
//   test_cuda_recurrent [cuda-emu|cuda]
//
// ctest runs it on "cuda-emu" (its race detector on) in strict FP32, then the large LSTM and GRU
// cases in TF32.
#include <cstdio>

#include "op_cases.h"
#include "recurrent_cases.h"

using namespace strata;
using namespace strata_test;

namespace {

struct Outputs {
  std::vector<float> y, yh, yc, dx, dw, dr, db, dh0, dc0, dp;
};

// Forward and backward on `be`. only_last: Y neither computed nor given a grad, nor Y_c (a
// Keras layer without return_sequences and return_state), and no grad wanted for X (a model's
// first layer).
Outputs run(Backend& be, const Case& c, const Data& d, bool only_last) {
  const RecurrentParams& p = c.p;
  const float seed = 0.25f;  // what the parameter grads held before the backward
  auto up = [&](const Tensor& t) { return Buffer(be, t.f); };
  auto filled = [&](const Tensor& like, float v) { return Buffer(be, std::vector<float>(like.f.size(), v)); };
  Buffer x = up(d.x), w = up(d.w), r = up(d.r), b = up(d.b), h0 = up(d.h0), c0 = up(d.c0), pp = up(d.pp);
  Buffer dy = up(d.dy), dyh = up(d.dyh), dyc = up(d.dyc);
  auto at = [](const Tensor& t, const Buffer& buf) -> float* { return t.f.empty() ? nullptr : buf.get(); };
  RecurrentInputs in{x.get(), w.get(), r.get(), at(d.b, b), at(d.h0, h0), at(d.c0, c0), at(d.pp, pp)};
  Buffer state(be, recurrent_state_size(p));
  Buffer y = filled(d.dy, 0), yh = filled(d.dyh, 0), yc = filled(d.dyc, 0);
  RecurrentOutputs out{only_last ? nullptr : y.get(), yh.get(), only_last ? nullptr : at(d.dyc, yc)};
  be.recurrent_forward(out, state.get(), in, p);
  Buffer dx = filled(d.x, 7), dh0 = filled(d.h0, 7), dc0 = filled(d.c0, 7);  // =: overwritten
  Buffer dw = filled(d.w, seed), dr = filled(d.r, seed), db = filled(d.b, seed), dp = filled(d.pp, seed);
  RecurrentGrads g{only_last ? nullptr : dx.get(), dw.get(), dr.get(), at(d.b, db), at(d.h0, dh0), at(d.c0, dc0), at(d.pp, dp)};
  be.recurrent_backward(g, only_last ? nullptr : dy.get(), dyh.get(), only_last ? nullptr : at(d.dyc, dyc), state.get(),
                        in, p);
  Outputs o{y.download(), yh.download(), yc.download(), dx.download(), dw.download(), dr.download(),
            db.download(), dh0.download(), dc0.download(), dp.download()};
  return o;
}

void compare(Rng& rng, const Case& c, bool only_last = false) {
  Data d = make_data(rng, c);
  std::string name = c.name + (only_last ? ", Y_h alone, no dX" : "");
  ReferenceBackend ref;
  auto be = target().make();
  Outputs want = run(ref, c, d, only_last), got;
  try {
    got = run(*be, c, d, only_last);
  } catch (const Error& e) {
    expect(false, name + ": " + e.what());
    return;
  }
  // TF32 rounds every product's inputs: over the steps the errors compound, so its tolerance
  // is op_cases.h's for matrix products, 5e-3 of the results' magnitude
  const float tol = target().tf32() ? 5e-3f : 1e-4f;
  auto same = [&](const std::vector<float>& g, const std::vector<float>& w, const char* what) {
    if (w.empty()) return;
    float floor = target().tf32() ? rms_floor(w.data(), (int64_t)w.size()) : 1.0f;
    validate_result(g.data(), w.data(), name + " (" + be->name() + ") " + what, (int64_t)w.size(), tol, floor);
  };
  same(got.y, want.y, "Y"), same(got.yh, want.yh, "Y_h"), same(got.yc, want.yc, "Y_c");
  same(got.dx, want.dx, "dX"), same(got.dw, want.dw, "dW"), same(got.dr, want.dr, "dR"), same(got.db, want.db, "dB");
  same(got.dh0, want.dh0, "dinitial_h"), same(got.dc0, want.dc0, "dinitial_c"), same(got.dp, want.dp, "dP");
}

// Past a tile and a block: T*B = 77 rows (two 64-row tiles), G*H columns not a multiple of
// 64, B*H = 315 threads (two 256-thread blocks).
std::vector<Case> large_cases() {
  const ActParams sig{Act::Sigmoid}, tanh_{Act::Tanh};
  std::vector<Case> cases = {
      {"LSTM T=11 B=7 H=45 bidirectional, peepholes", params(Cell::LSTM, 11, 7, 19, 45, 2, false, false, {sig, tanh_, tanh_}),
       true, true, true},
      {"GRU T=11 B=7 H=45 batch-major linear_before_reset=0", params(Cell::GRU, 11, 7, 19, 45, 1, false, true, {sig, tanh_}),
       true, true},
      {"GRU T=11 B=7 H=45 reverse linear_before_reset=1", params(Cell::GRU, 11, 7, 19, 45, 1, true, false, {sig, tanh_}),
       true, true},
      {"RNN T=11 B=7 H=45", params(Cell::RNN, 11, 7, 19, 45, 1, false, false, {tanh_}), true, true},
  };
  cases[2].p.linear_before_reset = true;
  return cases;
}

// The other activations ONNX names and the engine accepts, with their alpha and beta.
std::vector<Case> activation_cases() {
  const ActParams sig{Act::Sigmoid}, tanh_{Act::Tanh};
  const ActParams leaky{Act::LeakyRelu, 0.1f}, thresholded{Act::ThresholdedRelu, 0.2f}, elu{Act::Elu, 0.8f};
  const ActParams softplus{Act::Softplus}, hard{Act::HardSigmoid, 0.3f, 0.4f}, relu{Act::Relu};
  return {
      {"LSTM LeakyRelu, Elu, Softplus", params(Cell::LSTM, 4, 3, 3, 5, 1, false, false, {hard, elu, softplus}), true,
       true, true},
      {"GRU ThresholdedRelu", params(Cell::GRU, 4, 3, 3, 5, 1, false, false, {sig, thresholded}), true, true},
      {"RNN LeakyRelu bidirectional", params(Cell::RNN, 4, 3, 3, 5, 2, false, true, {leaky}), true, true},
      {"RNN Relu reverse", params(Cell::RNN, 4, 3, 3, 5, 1, true, false, {relu}), false},
      {"LSTM Relu cell", params(Cell::LSTM, 3, 2, 3, 4, 1, false, false, {sig, relu, tanh_}), true, true},
  };
}

void all_cases(Rng& rng) {
  for (const Case& c : recurrent_case_list()) compare(rng, c);
  for (const Case& c : large_cases()) compare(rng, c);
  for (const Case& c : activation_cases()) compare(rng, c);
  for (const Case& c : recurrent_case_list())
    if (c.p.directions == 2 || c.p.reverse) compare(rng, c, true);
}

}  // namespace

int main(int argc, char** argv) {
  target().backend = argc > 1 ? argv[1] : "cuda-emu";
  std::printf("test_cuda_recurrent on '%s'\n", target().backend.c_str());
  target().options.tf32 = false;  // strict FP32: the CPU backend's tolerance
  Rng rng(1879);
  all_cases(rng);
  // the default: the GEMMs on TF32 tensor cores. Not the RNN: a plain tanh cell whose R (45
  // units, uniform in +-0.6) has a gain past 1 grows any rounding difference step by step (0.03
  // in Y after 11 steps), a property of that model rather than of the kernels, which FP32 checks
  target().options.tf32 = true;
  Rng rng_tf32(1879);
  for (const Case& c : large_cases())
    if (c.p.cell != Cell::RNN) compare(rng_tf32, c);
  return finish("test_cuda_recurrent");
}
