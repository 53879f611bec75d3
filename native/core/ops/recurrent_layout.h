// recurrent_layout.h: the host loops' helpers around recurrent.h's state layout
// (RecurrentLayout) and ONNX's layouts, shared by the reference (recurrent.cpp) and the CPU
// backend's cells (cpu/recurrent_cpu.cpp), which keep the same state.
//
// Every step's values are kept time-major: pre (T, B, G*H) holds the gates' pre-activations
// (the input projection, the biases, the recurrent product), act the same after the gate
// activations, hs and cs (T+1, B, H) the hidden and cell states in the order the direction
// processes the steps (hs[0] is the initial state). GRU keeps `extra` (T, B, H): r * H_prev
// (linear_before_reset 0) or H_prev Rh^T + Rbh (1), what its backward needs.
#pragma once
#include <cstdint>
#include <cstring>

#include "recurrent.h"

namespace strata {
namespace recurrent_layout {

// recurrent.h's RecurrentLayout and offsets under the short names the loops use
using Layout = RecurrentLayout;
inline int64_t y_at(const RecurrentParams& p, int t, int d, int b) { return recurrent_y_offset(p, t, d, b); }
inline int64_t state_at(const RecurrentParams& p, int d, int b) { return recurrent_state_offset(p, d, b); }
inline int time_of(const RecurrentParams& p, int d, int k) { return recurrent_time(p, d, k); }
inline bool runs_backwards(const RecurrentParams& p, int d) { return p.directions == 2 ? d == 1 : p.reverse; }

// (T, B, I) <-> (B, T, I)
inline void swap_first_axes(float* out, const float* in, int A0, int A1, int inner) {
  for (int i = 0; i < A0; i++)
    for (int j = 0; j < A1; j++)
      std::memcpy(out + ((int64_t)j * A0 + i) * inner, in + ((int64_t)i * A1 + j) * inner, sizeof(float) * inner);
}

// X time-major: x itself, or a batch-major X copied into the state's first T * B * I floats.
inline const float* time_major_x(const RecurrentParams& p, const float* x, float* state) {
  if (!p.batch_major) return x;
  swap_first_axes(state, x, p.B, p.T, p.I);
  return state;
}

// Direction d's states (D, B, H) or (B, D, H) to and from rows (B, H): `from` null reads as zeros,
// `to` null is not wanted.
inline void read_states(const RecurrentParams& p, int d, const float* from, float* rows) {
  for (int b = 0; b < p.B; b++)
    for (int j = 0; j < p.H; j++) rows[(int64_t)b * p.H + j] = from ? from[state_at(p, d, b) + j] : 0.0f;
}
inline void write_states(const RecurrentParams& p, int d, const float* rows, float* to) {
  if (!to) return;
  for (int b = 0; b < p.B; b++) std::memcpy(to + state_at(p, d, b), rows + (int64_t)b * p.H, sizeof(float) * p.H);
}

}  // namespace recurrent_layout
}  // namespace strata
