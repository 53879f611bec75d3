// recurrent_cases.h: the LSTM, GRU and RNN cases test_recurrent (the reference against finite
// differences and the CPU's GEMMs) and test_cuda_recurrent (the CUDA kernels against the
// reference) share: a case's parameters and its random tensors.
#pragma once
#include <string>
#include <vector>

#include "core/ops/recurrent.h"
#include "core/rng.h"
#include "test_util.h"

namespace strata_test {
using namespace strata;

struct Case {
  std::string name;
  RecurrentParams p;
  bool bias = true, initial = false, peepholes = false;
};

// The tensors of one case; the grads of the outputs are random weights of L = sum(dY Y) + ...
struct Data {
  Tensor x, w, r, b, h0, c0, pp, dy, dyh, dyc;
  RecurrentInputs inputs() const {
    auto at = [](const Tensor& t) -> const float* { return t.f.empty() ? nullptr : t.f.data(); };
    return {at(x), at(w), at(r), at(b), at(h0), at(c0), at(pp)};
  }
};

inline Data make_data(Rng& rng, const Case& c) {
  const RecurrentParams& p = c.p;
  const int64_t D = p.directions, G = p.gates(), H = p.H;
  const Shape state = p.batch_major ? Shape{p.B, D, H} : Shape{D, p.B, H};
  Data d;
  d.x = rand_tensor(rng, p.batch_major ? Shape{p.B, p.T, p.I} : Shape{p.T, p.B, p.I});
  d.w = rand_tensor(rng, {D, G * H, p.I}, -0.6f, 0.6f);
  d.r = rand_tensor(rng, {D, G * H, H}, -0.6f, 0.6f);
  if (c.bias) d.b = rand_tensor(rng, {D, 2 * G * H}, -0.5f, 0.5f);
  if (c.initial) {
    d.h0 = rand_tensor(rng, state);
    if (p.cell == Cell::LSTM) d.c0 = rand_tensor(rng, state);
  }
  if (c.peepholes) d.pp = rand_tensor(rng, {D, 3 * H}, -0.5f, 0.5f);
  d.dy = rand_tensor(rng, p.batch_major ? Shape{p.B, p.T, D, H} : Shape{p.T, D, p.B, H});
  d.dyh = rand_tensor(rng, state);
  if (p.cell == Cell::LSTM) d.dyc = rand_tensor(rng, state);
  return d;
}

inline RecurrentParams params(Cell cell, int T, int B, int I, int H, int directions, bool reverse, bool batch_major,
                       std::vector<ActParams> acts) {
  RecurrentParams p;
  p.cell = cell, p.T = T, p.B = B, p.I = I, p.H = H, p.directions = directions, p.reverse = reverse;
  p.batch_major = batch_major;
  for (int d = 0; d < directions; d++) p.acts.insert(p.acts.end(), acts.begin(), acts.end());
  return p;
}

// Every cell in every direction and layout, with and without biases, initial states and
// peepholes, GRU with linear_before_reset 0 and 1.
inline std::vector<Case> recurrent_case_list() {
  const ActParams sig{Act::Sigmoid}, tanh_{Act::Tanh}, relu{Act::Relu};
  const ActParams hard_sigmoid{Act::HardSigmoid, 1.0f / 6, 0.5f};  // Keras 3's hard_sigmoid
  const std::vector<ActParams> lstm = {sig, tanh_, tanh_}, gru = {sig, tanh_};
  std::vector<Case> cases = {
      {"LSTM forward", params(Cell::LSTM, 5, 3, 4, 6, 1, false, false, lstm)},
      {"LSTM reverse, states, peepholes", params(Cell::LSTM, 4, 2, 3, 5, 1, true, false, lstm), true, true, true},
      {"LSTM bidirectional batch-major", params(Cell::LSTM, 3, 3, 2, 4, 2, false, true, lstm), true, true, true},
      {"LSTM no bias, hard_sigmoid gates", params(Cell::LSTM, 4, 2, 3, 3, 1, false, false, {hard_sigmoid, tanh_, tanh_}),
       false},
      {"GRU forward", params(Cell::GRU, 5, 3, 4, 6, 1, false, false, gru)},
      {"GRU reverse, initial_h", params(Cell::GRU, 4, 2, 3, 5, 1, true, false, gru), true, true},
      {"GRU bidirectional batch-major", params(Cell::GRU, 3, 2, 3, 4, 2, false, true, gru), true, true},
      {"RNN forward", params(Cell::RNN, 5, 3, 4, 6, 1, false, false, {tanh_})},
      {"RNN bidirectional, initial_h", params(Cell::RNN, 4, 2, 3, 5, 2, false, false, {tanh_}), true, true},
      {"RNN relu batch-major", params(Cell::RNN, 3, 2, 3, 4, 1, true, true, {relu}), true, true},
  };
  std::vector<Case> all;
  for (bool lbr : {false, true})
    for (Case c : cases) {
      if (c.p.cell != Cell::GRU && lbr) continue;
      c.p.linear_before_reset = lbr;
      if (c.p.cell == Cell::GRU) c.name += lbr ? " linear_before_reset=1" : " linear_before_reset=0";
      all.push_back(c);
    }
  return all;
}

}  // namespace strata_test
