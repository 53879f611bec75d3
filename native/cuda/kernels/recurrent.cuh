// recurrent.cuh: the elementwise cell of ONNX's LSTM, GRU and RNN (core/ops/recurrent.h), one
// thread per (batch row b, hidden unit j) of a step: the gates with their biases and peepholes,
// the state update, Y, Y_h and Y_c, and everything the backward keeps, in one kernel; its
// backward likewise. The matrix products around it (the input projection of every step, each
// step's recurrent product, the weight grads) are the backend's GEMMs (cuda_recurrent.cuh).
// The math is recurrent.cpp's host loops, term for term; the state layout is its too
// (RecurrentLayout): pre (the gates' pre-activations), act (after the activations), extra (GRU),
// hs and cs (the states in the order the direction runs).
//
// GRU with linear_before_reset 0 needs (r * H_prev) Rh^T, a product of the step's own reset
// gate: there the cell runs in two phases around that GEMM (phase 0: z and r; phase 1: the
// candidate and the new state), each one launch of the same kernel.
#pragma once
#include "elementwise.cuh"

STRATA_GPU_NAMESPACE_BEGIN

enum CellCode { kLSTMCell, kGRUCell, kRNNCell };  // = strata::Cell

struct CellAct {  // an activation (strata::ActParams)
  int kind;
  float alpha, gamma;
  __device__ __forceinline__ float operator()(float x) const { return act_value(kind, x, alpha, gamma); }
  // d * f'(x), y = f(x)
  __device__ __forceinline__ float grad(float d, float x, float y) const { return act_grad(kind, d, x, y, alpha, gamma); }
};

// One step of one direction, forward. Rows are (B, G*H) for a and s, (B, H) for the states.
struct CellForward {
  int cell, B, H;
  bool linear_before_reset;
  float *a, *s;             // this step's rows of pre (the input projection; LSTM, RNN: + the recurrent product) and act
  const float* rec;         // GRU: the recurrent product, (B, 3H) or (B, 2H); phase 1: (r * H_prev) Rh^T (B, H)
  float* extra;             // GRU: this step's (B, H)
  const float* hp;          // H_prev
  float* hn;                // H_next
  const float *cp;          // LSTM: C_prev
  float* cn;                // LSTM: C_next
  const float *wb, *rb, *p;  // this direction's biases and peepholes, null when absent
  CellAct f[3];             // ONNX's f, g, h
  float* y;                 // Y's rows of this step (row b at y + b * y_stride), null: not wanted
  int64_t y_stride;
  float *y_h, *y_c;         // the last step: Y_h's and Y_c's rows (stride state_stride), else null
  int64_t state_stride;
};

__global__ void recurrent_cell_forward(CellForward c, int phase) {
  const int H = c.H, GH = (c.cell == kLSTMCell ? 4 : c.cell == kGRUCell ? 3 : 1) * H;
  STRATA_GRID_LOOP(e, (int64_t)c.B * H) {
    const int64_t b = e / H;
    const int j = (int)(e % H);
    float *a = c.a + b * GH, *s = c.s + b * GH;
    auto bias = [&](int col) { return c.wb ? c.wb[col] + c.rb[col] : 0.0f; };
    float h;
    if (c.cell == kLSTMCell) {
      const float cp = c.cp[e];
      float ai = a[j] + bias(j), ao = a[H + j] + bias(H + j), af = a[2 * H + j] + bias(2 * H + j);
      const float ac = a[3 * H + j] + bias(3 * H + j);
      if (c.p) ai += c.p[j] * cp, af += c.p[2 * H + j] * cp;
      const float si = c.f[0](ai), sf = c.f[0](af), sc = c.f[1](ac);
      const float cn = sf * cp + si * sc;
      if (c.p) ao += c.p[H + j] * cn;  // o sees the new cell
      const float so = c.f[0](ao);
      h = so * c.f[2](cn);
      a[j] = ai, a[H + j] = ao, a[2 * H + j] = af, a[3 * H + j] = ac;
      s[j] = si, s[H + j] = so, s[2 * H + j] = sf, s[3 * H + j] = sc;
      c.cn[e] = cn;
      if (c.y_c) c.y_c[b * c.state_stride + j] = cn;
    } else if (c.cell == kGRUCell) {
      float ah, sz;
      if (phase == 0) {
        const int rs = c.linear_before_reset ? GH : 2 * H;  // rec's row stride
        const float az = a[j] + c.rec[b * rs + j] + bias(j), ar = a[H + j] + c.rec[b * rs + H + j] + bias(H + j);
        sz = c.f[0](az);
        const float sr = c.f[0](ar);
        a[j] = az, a[H + j] = ar, s[j] = sz, s[H + j] = sr;
        if (!c.linear_before_reset) {  // phase 1 goes on after (r * H_prev) Rh^T
          c.extra[e] = sr * c.hp[e];
          continue;
        }
        const float ex = c.rec[b * rs + 2 * H + j] + (c.rb ? c.rb[2 * H + j] : 0.0f);  // H_prev Rh^T + Rbh
        c.extra[e] = ex;
        ah = a[2 * H + j] + (c.wb ? c.wb[2 * H + j] : 0.0f) + sr * ex;
      } else {
        ah = a[2 * H + j] + c.rec[e] + bias(2 * H + j);
        sz = s[j];
      }
      const float sh = c.f[1](ah);
      a[2 * H + j] = ah, s[2 * H + j] = sh;
      h = (1.0f - sz) * sh + sz * c.hp[e];
    } else {
      const float ar = a[j] + bias(j);
      h = c.f[0](ar);
      a[j] = ar, s[j] = h;
    }
    c.hn[e] = h;
    if (c.y) c.y[b * c.y_stride + j] = h;
    if (c.y_h) c.y_h[b * c.state_stride + j] = h;
  }
}

// One step of one direction, backward: from H_next's grad (the later steps' and Y's) to the
// gates' pre-activation grads da, H_prev's grad before the recurrent product's part (which
// the GEMM adds, or, LSTM and RNN, writes), C_prev's, and what the GRU's GEMMs need.
struct CellBackward {
  int cell, B, H;
  bool linear_before_reset;
  float* da;                     // this step's rows of dpre (B, G*H)
  const float *a, *s, *extra;    // the forward's
  const float *hp, *cp, *cn, *p;
  CellAct f[3];
  const float* dh_next;          // H_next's grad from the later steps (B, H)
  const float* dy;               // Y's grad at this step (row b at dy + b * y_stride), null: none
  int64_t y_stride;
  float* dh_prev;                // GRU: H_prev's grad through z (and r * H_prev), = (B, H)
  float* dc;                     // LSTM: in C_next's grad, out C_prev's (B, H)
  float* drec;                   // GRU: the recurrent product's grads, (B, 3H); linear_before_reset 0:
                                 // phase 0 the candidate's da (B, H), phase 1 z's and r's (B, 2H)
  const float* drh;              // GRU phase 1: (r * H_prev)'s grad, da_h Rh (B, H)
};

__global__ void recurrent_cell_backward(CellBackward c, int phase) {
  const int H = c.H, GH = (c.cell == kLSTMCell ? 4 : c.cell == kGRUCell ? 3 : 1) * H;
  STRATA_GRID_LOOP(e, (int64_t)c.B * H) {
    const int64_t b = e / H;
    const int j = (int)(e % H);
    const float *a = c.a + b * GH, *s = c.s + b * GH;
    float* da = c.da + b * GH;
    const float dh = c.dh_next[e] + (c.dy ? c.dy[b * c.y_stride + j] : 0.0f);
    if (c.cell == kLSTMCell) {
      const float si = s[j], so = s[H + j], sf = s[2 * H + j], sc = s[3 * H + j];
      const float cp = c.cp[e], cn = c.cn[e], hc = c.f[2](cn);
      float dc = c.dc[e] + c.f[2].grad(dh * so, cn, hc);
      const float dao = c.f[0].grad(dh * hc, a[H + j], so);
      if (c.p) dc += dao * c.p[H + j];
      const float dai = c.f[0].grad(dc * sc, a[j], si), daf = c.f[0].grad(dc * cp, a[2 * H + j], sf);
      const float dac = c.f[1].grad(dc * si, a[3 * H + j], sc);
      da[j] = dai, da[H + j] = dao, da[2 * H + j] = daf, da[3 * H + j] = dac;
      c.dc[e] = dc * sf + (c.p ? dai * c.p[j] + daf * c.p[2 * H + j] : 0.0f);
    } else if (c.cell == kGRUCell) {
      const float sz = s[j], sr = s[H + j], sh = s[2 * H + j], hp = c.hp[e];
      float dr;  // d r (after the activation)
      if (phase == 0) {
        const float dah = c.f[1].grad(dh * (1.0f - sz), a[2 * H + j], sh);
        da[2 * H + j] = dah;
        c.dh_prev[e] = dh * sz;
        if (!c.linear_before_reset) {  // phase 1 goes on after da_h Rh
          c.drec[e] = dah;
          continue;
        }
        c.drec[b * GH + 2 * H + j] = dah * sr;  // d (H_prev Rh^T + Rbh)
        dr = dah * c.extra[e];
      } else {
        dr = c.drh[e] * hp;
        c.dh_prev[e] += c.drh[e] * sr;
      }
      const float dar = c.f[0].grad(dr, a[H + j], sr), daz = c.f[0].grad(dh * (hp - sh), a[j], sz);
      da[j] = daz, da[H + j] = dar;
      const int rs = c.linear_before_reset ? GH : 2 * H;
      c.drec[b * rs + j] = daz, c.drec[b * rs + H + j] = dar;
    } else {
      da[j] = c.f[0].grad(dh, a[j], s[j]);
    }
  }
}

// LSTM's peephole grads, added into dp (3H: Pi, Po, Pf): the sums over every step and row of
// the gate's da times the cell state it saw (i and f: C_prev, o: C_next), in a fixed order.
__global__ void recurrent_peephole_grads(float* dp, const float* dpre, const float* cs, int T, int B, int H,
                                         bool backwards) {
  STRATA_GRID_LOOP(q, 3 * H) {
    const int gate = (int)(q / H), j = (int)(q % H);  // the gates' columns in da: i 0, o H, f 2H
    const int64_t BH = (int64_t)B * H;
    float sum = 0.0f;
    for (int k = 0; k < T; k++) {
      const int t = backwards ? T - 1 - k : k;
      const float* seen = cs + (k + (gate == 1 ? 1 : 0)) * BH;
      for (int b = 0; b < B; b++) sum += dpre[((int64_t)t * B + b) * 4 * H + q] * seen[(int64_t)b * H + j];
    }
    dp[q] += sum;
  }
}

// rows rows of cols floats: dst's row r (at dst + r * dst_stride) = src's (zeros when src is null)
__global__ void copy_rows(float* dst, int64_t dst_stride, const float* src, int64_t src_stride, int rows, int cols) {
  STRATA_GRID_LOOP(e, (int64_t)rows * cols) {
    const int64_t r = e / cols, k = e % cols;
    dst[r * dst_stride + k] = src ? src[r * src_stride + k] : 0.0f;
  }
}

STRATA_GPU_NAMESPACE_END
