// cuda_recurrent.cuh: LSTM, GRU and RNN on the device (Backend::recurrent_forward/backward of
// CudaBackend), shaped as recurrent.cpp's host path: per direction, the input projection of
// every step is one GEMM (T*B rows), then each step is a GEMM with R and one launch of the cell
// kernel (kernels/recurrent.cuh; GRU with linear_before_reset 0: two GEMMs and the kernel's two
// phases). The backward runs the steps in reverse, each one cell-backward launch and the GEMMs
// for H_prev's grad and dR; dW, dX and the bias grads are GEMMs over every step at once. Every
// value stays on the device; the scratch comes from the backend's allocator (kept for reuse).
#pragma once
#include <utility>

#include "../core/backend.h"
#include "kernels/recurrent.cuh"

STRATA_GPU_NAMESPACE_BEGIN

static_assert((int)Cell::RNN == kRNNCell && (int)Cell::GRU == kGRUCell, "CellCode follows strata::Cell");

class RecurrentLauncher {
 public:
  RecurrentLauncher(Backend& be, cudaStream_t stream, const RecurrentParams& p)
      : be_(be), stream_(stream), p_(p), l_(p), H_(p.H), GH_(p.gates() * p.H), BH_((int64_t)p.B * p.H) {}

  void forward(const RecurrentOutputs& out, float* state, const RecurrentInputs& in) {
    const int T = p_.T, B = p_.B;
    const float* X = in.x;
    if (p_.batch_major) {  // X made time-major, kept for the backward's dW
      be_.transpose(state, in.x, {B, T, p_.I}, {1, 0, 2});
      X = state;
    }
    Scratch rec(be_, p_.cell == Cell::GRU ? (int64_t)B * GH_ : 1);
    for (int d = 0; d < p_.directions; d++) {
      float* st = l_.dir(state, d);
      float *pre = st + l_.pre, *act = st + l_.act, *extra = st + l_.extra, *hs = st + l_.hs, *cs = st + l_.cs;
      const float* R = in.r + (int64_t)d * GH_ * H_;
      be_.gemm(false, true, T * B, GH_, p_.I, 1.0f, X, in.w + (int64_t)d * GH_ * p_.I, 0.0f, pre);
      rows_from_state(hs, in.h0, d);
      if (p_.cell == Cell::LSTM) rows_from_state(cs, in.c0, d);
      CellForward c = cell_forward(in, d);
      for (int k = 0; k < T; k++) {
        const int t = recurrent_time(p_, d, k);
        c.a = pre + (int64_t)t * B * GH_, c.s = act + (int64_t)t * B * GH_, c.extra = extra + t * BH_;
        c.hp = hs + k * BH_, c.hn = hs + (k + 1) * BH_, c.cp = cs + k * BH_, c.cn = cs + (k + 1) * BH_;
        c.y = out.y ? out.y + recurrent_y_offset(p_, t, d, 0) : nullptr;
        c.y_h = k == T - 1 && out.y_h ? out.y_h + recurrent_state_offset(p_, d, 0) : nullptr;
        c.y_c = k == T - 1 && out.y_c ? out.y_c + recurrent_state_offset(p_, d, 0) : nullptr;
        if (p_.cell != Cell::GRU) {
          be_.gemm(false, true, B, GH_, H_, 1.0f, c.hp, R, 1.0f, c.a);
          run_cell(c, 0);
        } else if (p_.linear_before_reset) {
          be_.gemm(false, true, B, GH_, H_, 1.0f, c.hp, R, 0.0f, rec.p);
          c.rec = rec.p;
          run_cell(c, 0);
        } else {
          be_.gemm(false, true, B, 2 * H_, H_, 1.0f, c.hp, R, 0.0f, rec.p);  // z and r
          c.rec = rec.p;
          run_cell(c, 0);
          be_.gemm(false, true, B, H_, H_, 1.0f, c.extra, R + (int64_t)2 * H_ * H_, 0.0f, rec.p);  // (r * H_prev) Rh^T
          run_cell(c, 1);
        }
      }
    }
  }

  void backward(const RecurrentGrads& g, const float* dy, const float* dy_h, const float* dy_c, const float* state,
                const RecurrentInputs& in) {
    const int T = p_.T, B = p_.B, TB = T * B;
    const bool gru = p_.cell == Cell::GRU, lstm = p_.cell == Cell::LSTM;
    const float* X = p_.batch_major ? state : in.x;
    Scratch dpre(be_, (int64_t)TB * GH_), dh_a(be_, BH_), dh_b(be_, BH_), dc(be_, lstm ? BH_ : 1);
    Scratch drec(be_, gru ? (int64_t)TB * GH_ : 1), drh(be_, gru ? BH_ : 1), ones(be_, TB);
    Scratch dx_time_major(be_, p_.batch_major && g.dx ? (int64_t)TB * p_.I : 1);
    float* dX = !g.dx ? nullptr : p_.batch_major ? dx_time_major.p : g.dx;
    be_.fill(ones.p, 1.0f, TB);
    for (int d = 0; d < p_.directions; d++) {
      const float* st = l_.dir(state, d);
      const float *pre = st + l_.pre, *act = st + l_.act, *extra = st + l_.extra, *hs = st + l_.hs, *cs = st + l_.cs;
      const float* R = in.r + (int64_t)d * GH_ * H_;
      float* dR = g.dr ? g.dr + (int64_t)d * GH_ * H_ : nullptr;
      float *dh_next = dh_a.p, *dh_prev = dh_b.p;
      rows_from_state(dh_next, dy_h, d);
      if (lstm) rows_from_state(dc.p, dy_c, d);
      CellBackward c = cell_backward(in, d);
      c.dc = dc.p;
      for (int k = T; k-- > 0;) {
        const int t = recurrent_time(p_, d, k);
        const int64_t at = (int64_t)t * B * GH_;
        c.da = dpre.p + at, c.a = pre + at, c.s = act + at, c.extra = extra + t * BH_;
        c.hp = hs + k * BH_, c.cp = cs + k * BH_, c.cn = cs + (k + 1) * BH_;
        c.dh_next = dh_next, c.dh_prev = dh_prev;
        c.dy = dy ? dy + recurrent_y_offset(p_, t, d, 0) : nullptr;
        if (!gru) {
          run_cell_backward(c, 0);
          recurrent_product_grads(c.da, GH_, R, c.hp, dR, dh_prev, 0.0f);
        } else if (p_.linear_before_reset) {
          c.drec = drec.p + at;
          run_cell_backward(c, 0);
          recurrent_product_grads(c.drec, GH_, R, c.hp, dR, dh_prev, 1.0f);
        } else {
          float *dah = drec.p + at, *dzr = dah + BH_;  // the candidate's da (B, H), then z's and r's (B, 2H)
          c.drec = dah;
          run_cell_backward(c, 0);
          const float* Rh = R + (int64_t)2 * H_ * H_;
          be_.gemm(false, false, B, H_, H_, 1.0f, dah, Rh, 0.0f, drh.p);  // d (r * H_prev)
          if (dR) be_.gemm(true, false, H_, H_, B, 1.0f, dah, c.extra, 1.0f, dR + (int64_t)2 * H_ * H_);
          c.drec = dzr, c.drh = drh.p;
          run_cell_backward(c, 1);
          recurrent_product_grads(dzr, 2 * H_, R, c.hp, dR, dh_prev, 1.0f);
        }
        std::swap(dh_next, dh_prev);
      }
      if (g.dh0) rows_to_state(g.dh0, dh_next, d);
      if (g.dc0 && lstm) rows_to_state(g.dc0, dc.p, d);
      if (g.dp && lstm)
        launch("recurrent_peephole_grads", recurrent_peephole_grads, dim3(blocks_for(3 * H_, kThreads)), dim3(kThreads),
               stream_, g.dp + (int64_t)d * 3 * H_, (const float*)dpre.p, cs, T, B, H_, recurrent_time(p_, d, 0) != 0);
      // the input side of every step at once; the bias grads as column sums (ones^T dpre)
      if (g.dw) be_.gemm(true, false, GH_, p_.I, TB, 1.0f, dpre.p, X, 1.0f, g.dw + (int64_t)d * GH_ * p_.I);
      if (dX) be_.gemm(false, false, TB, p_.I, GH_, 1.0f, dpre.p, in.w + (int64_t)d * GH_ * p_.I, d > 0 ? 1.0f : 0.0f, dX);
      if (g.db) {
        float* dWb = g.db + (int64_t)d * 2 * GH_;
        be_.gemm(false, false, 1, GH_, TB, 1.0f, ones.p, dpre.p, 1.0f, dWb);
        // Rb's grad is the gates' da but for GRU's candidate with linear_before_reset 1 (r * its da)
        be_.gemm(false, false, 1, GH_, TB, 1.0f, ones.p, gru && p_.linear_before_reset ? drec.p : dpre.p, 1.0f,
                 dWb + GH_);
      }
    }
    if (p_.batch_major && g.dx) be_.transpose(g.dx, dX, {T, B, p_.I}, {1, 0, 2});
  }

 private:
  // n floats of the backend's memory for one call (freed buffers are kept for the next alloc of
  // their size, and the stream's order makes reuse safe).
  struct Scratch {
    Backend& be;
    float* p;
    Scratch(Backend& b, int64_t n) : be(b), p(b.alloc(n)) {}
    ~Scratch() { be.free(p); }
    Scratch(const Scratch&) = delete;
  };

  Backend& be_;
  cudaStream_t stream_;
  const RecurrentParams& p_;
  RecurrentLayout l_;
  const int H_, GH_;
  const int64_t BH_;

  CellAct act(int d, int k) const {
    const ActParams& a = p_.acts[(size_t)d * p_.acts_per_direction() + std::min(k, p_.acts_per_direction() - 1)];
    return CellAct{(int)a.kind, a.alpha, a.gamma};
  }
  CellForward cell_forward(const RecurrentInputs& in, int d) const {
    CellForward c{};
    c.cell = (int)p_.cell, c.B = p_.B, c.H = H_, c.linear_before_reset = p_.linear_before_reset;
    c.wb = in.b ? in.b + (int64_t)d * 2 * GH_ : nullptr;
    c.rb = c.wb ? c.wb + GH_ : nullptr;
    c.p = in.p ? in.p + (int64_t)d * 3 * H_ : nullptr;
    for (int k = 0; k < 3; k++) c.f[k] = act(d, k);
    c.y_stride = recurrent_y_offset(p_, 0, d, 1) - recurrent_y_offset(p_, 0, d, 0);
    c.state_stride = state_stride(d);
    return c;
  }
  CellBackward cell_backward(const RecurrentInputs& in, int d) const {
    CellBackward c{};
    c.cell = (int)p_.cell, c.B = p_.B, c.H = H_, c.linear_before_reset = p_.linear_before_reset;
    c.p = in.p ? in.p + (int64_t)d * 3 * H_ : nullptr;
    for (int k = 0; k < 3; k++) c.f[k] = act(d, k);
    c.y_stride = recurrent_y_offset(p_, 0, d, 1) - recurrent_y_offset(p_, 0, d, 0);
    return c;
  }
  int64_t state_stride(int d) const { return recurrent_state_offset(p_, d, 1) - recurrent_state_offset(p_, d, 0); }

  void run_cell(const CellForward& c, int phase) {
    launch("recurrent_cell_forward", recurrent_cell_forward, dim3(blocks_for(BH_, kThreads)), dim3(kThreads), stream_, c,
           phase);
  }
  void run_cell_backward(const CellBackward& c, int phase) {
    launch("recurrent_cell_backward", recurrent_cell_backward, dim3(blocks_for(BH_, kThreads)), dim3(kThreads), stream_,
           c, phase);
  }
  // dH_prev (beta 0: =, 1: +=) da R over the cols of R's rows that da covers; dR += da^T H_prev.
  void recurrent_product_grads(const float* da, int cols, const float* R, const float* hp, float* dR, float* dh_prev,
                               float beta) {
    be_.gemm(false, false, p_.B, H_, cols, 1.0f, da, R, beta, dh_prev);
    if (dR) be_.gemm(true, false, cols, H_, p_.B, 1.0f, da, hp, 1.0f, dR);
  }
  // (B, H) rows from direction d's rows of a state-shaped tensor (zeros when it is absent), and back.
  void rows_from_state(float* rows, const float* state, int d) {
    launch("copy_rows", copy_rows, dim3(blocks_for(BH_, kThreads)), dim3(kThreads), stream_, rows, (int64_t)H_,
           state ? state + recurrent_state_offset(p_, d, 0) : nullptr, state_stride(d), p_.B, H_);
  }
  void rows_to_state(float* state, const float* rows, int d) {
    launch("copy_rows", copy_rows, dim3(blocks_for(BH_, kThreads)), dim3(kThreads), stream_,
           state + recurrent_state_offset(p_, d, 0), state_stride(d), rows, (int64_t)H_, p_.B, H_);
  }
};

STRATA_GPU_NAMESPACE_END
