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

// Where the state's values lie (recurrent.cpp's header comment), shared by every backend's path:
// X made time-major (layout 1 only) at 0, then per direction pre, act, extra (GRU), hs, cs (LSTM).
struct RecurrentLayout {
  int64_t x = 0, per_direction = 0, pre = 0, act = 0, extra = 0, hs = 0, cs = 0;
  explicit RecurrentLayout(const RecurrentParams& p) {
    const int64_t T = p.T, B = p.B, GH = (int64_t)p.gates() * p.H, BH = B * p.H;
    x = p.batch_major ? T * B * p.I : 0;
    pre = 0, act = T * B * GH, extra = 2 * act;
    hs = extra + (p.cell == Cell::GRU ? T * BH : 0);
    cs = hs + (T + 1) * BH;
    per_direction = cs + (p.cell == Cell::LSTM ? (T + 1) * BH : 0);
  }
  float* dir(float* state, int d) const { return state + x + d * per_direction; }
  const float* dir(const float* state, int d) const { return state + x + d * per_direction; }
};
// Offsets of row b of Y (T, D, B, H) or (B, T, D, H) batch-major, and of the states (D, B, H) or
// (B, D, H); the direction d processes its k-th step at time recurrent_time(p, d, k).
inline int64_t recurrent_y_offset(const RecurrentParams& p, int t, int d, int b) {
  return (p.batch_major ? ((int64_t)b * p.T + t) * p.directions + d : ((int64_t)t * p.directions + d) * p.B + b) * p.H;
}
inline int64_t recurrent_state_offset(const RecurrentParams& p, int d, int b) {
  return (p.batch_major ? (int64_t)b * p.directions + d : (int64_t)d * p.B + b) * p.H;
}
inline int recurrent_time(const RecurrentParams& p, int d, int k) {
  const bool backwards = p.directions == 2 ? d == 1 : p.reverse;
  return backwards ? p.T - 1 - k : k;
}
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
