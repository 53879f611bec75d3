// recurrent.h: ONNX's LSTM, GRU (linear_before_reset 0 and 1) and RNN, forward and backward
// through time, for the directions forward, reverse and bidirectional and both layouts.
//
// Shapes (ONNX's; layout 1 swaps the first two axes of X, Y, Y_h, Y_c and the initial states):
//   X (T, B, I); W (D, G*H, I); R (D, G*H, H); B (D, 2*G*H): [Wb, Rb]; initial_h, initial_c (D, B, H);
//   P (D, 3*H): LSTM's peepholes [Pi, Po, Pf]; Y (T, D, B, H); Y_h, Y_c (D, B, H).
//   G gates: LSTM 4 (i, o, f, c), GRU 3 (z, r, h), RNN 1.
// The input projection of every step is one matrix product (X W^T, T*B rows); each step then
// adds its recurrent product H_prev R^T. Here the cell's elementwise math is plain loops and the
// matrix products go through `gemm` (ref::gemm: the reference; Backend::recurrent_forward's
// default passes the backend's); the CPU backend has its own cells (cpu/recurrent_cpu.h).
// Gradient contract: dx, dh0, dc0 = (activation grads); dw, dr, db, dp += (parameter grads).
#pragma once
#include <cstdint>
#include <functional>
#include <vector>

#include "activation.h"

namespace strata {

enum class Cell { LSTM, GRU, RNN };

struct RecurrentParams {
  Cell cell = Cell::LSTM;
  int T = 0, B = 0, I = 0, H = 0;
  int directions = 1;        // 2: bidirectional (the second direction runs from the last step)
  bool reverse = false;      // one direction, from the last step (ONNX "reverse")
  bool batch_major = false;  // ONNX layout 1
  bool linear_before_reset = false;  // GRU: r multiplies (H_prev Rh^T + Rbh)
  // per direction, in ONNX's order: LSTM f, g, h; GRU f, g; RNN f (acts[d * per_direction + j])
  std::vector<ActParams> acts;

  int gates() const { return cell == Cell::LSTM ? 4 : cell == Cell::GRU ? 3 : 1; }
  int acts_per_direction() const { return cell == Cell::LSTM ? 3 : cell == Cell::GRU ? 2 : 1; }
};

// Pointers absent in the node (B, initial states, P) are null and read as zeros.
struct RecurrentInputs {
  const float *x = nullptr, *w = nullptr, *r = nullptr, *b = nullptr;
  const float *h0 = nullptr, *c0 = nullptr, *p = nullptr;
};
struct RecurrentOutputs {
  float *y = nullptr, *y_h = nullptr, *y_c = nullptr;  // null: not wanted
};
// Gradients of the inputs; null where none is wanted.
struct RecurrentGrads {
  float *dx = nullptr, *dw = nullptr, *dr = nullptr, *db = nullptr;
  float *dh0 = nullptr, *dc0 = nullptr, *dp = nullptr;
};

// C (M,N) = alpha op(A) op(B) + beta C, as Backend::gemm and ref::gemm.
using GemmFn = std::function<void(bool ta, bool tb, int M, int N, int K, float alpha, const float* A, const float* B,
                                  float beta, float* C)>;

// Floats the forward keeps for the backward (X time-major, each step's gates and states).
int64_t recurrent_state_size(const RecurrentParams& p);
void recurrent_forward(RecurrentOutputs out, float* state, const RecurrentInputs& in, const RecurrentParams& p,
                       const GemmFn& gemm);
// dy, dy_h, dy_c: the outputs' grads, null where an output got none.
void recurrent_backward(const RecurrentGrads& g, const float* dy, const float* dy_h, const float* dy_c,
                        const float* state, const RecurrentInputs& in, const RecurrentParams& p, const GemmFn& gemm);

namespace ref {
// The reference: the functions above with ref::gemm's plain loops.
void recurrent_forward(RecurrentOutputs out, float* state, const RecurrentInputs& in, const RecurrentParams& p);
void recurrent_backward(const RecurrentGrads& g, const float* dy, const float* dy_h, const float* dy_c,
                        const float* state, const RecurrentInputs& in, const RecurrentParams& p);
}  // namespace ref

}  // namespace strata
