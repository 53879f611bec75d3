// recurrent_cpu.cpp: see recurrent_cpu.h. The order of the math in each cell follows the
// reference (core/ops/recurrent.cpp) so that the two agree to rounding.
#include "recurrent_cpu.h"

#include <omp.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "../core/ops/recurrent_layout.h"
#include "fast_act.h"

namespace strata {
namespace cpu {

using namespace recurrent_layout;

namespace {

// A step's rows are split over the threads from this many gate values (B * G * H) on. Below
// it a step's cell work is a few microseconds (the LSTM example's step, 32 x 128 gate values,
// takes about 8 us forward on one thread with its GEMM, bench_cpu_ops), the order of what a
// parallel region's start and end cost.
constexpr int64_t kParallelGateValues = int64_t(1) << 13;

// The rows of a step, in one slice per thread where the step is big enough; each slice has
// scratch floats of its own.
class Rows {
 public:
  Rows(const RecurrentParams& p, int64_t scratch_per_slice)
      : B_(p.B), per_slice_(scratch_per_slice),
        slices_((int64_t)p.B * p.gates() * p.H >= kParallelGateValues ? std::max(1, std::min(omp_get_max_threads(), p.B)) : 1),
        scratch_((size_t)(slices_ * per_slice_)) {}

  // f(first_row, end_row, scratch) over every row once
  template <class F>
  void run(F f) {
    if (slices_ == 1) return f(0, B_, scratch_.data());
#pragma omp parallel for num_threads(slices_) schedule(static)
    for (int s = 0; s < slices_; s++)
      f((int)((int64_t)B_ * s / slices_), (int)((int64_t)B_ * (s + 1) / slices_), scratch_.data() + s * per_slice_);
  }

 private:
  int B_;
  int64_t per_slice_;
  int slices_;
  std::vector<float> scratch_;
};

void act(float* y, const float* x, int n, const ActParams& f) { act_forward_fast(y, x, n, f); }
void act_grad(float* dx, const float* dy, const float* x, const float* y, int n, const ActParams& f) {
  ref::act_backward(dx, dy, x, y, n, f);
}
void add_into(float* a, const float* b, int n) {
  for (int j = 0; j < n; j++) a[j] += b[j];
}
// out += the sums of the rows of m (rows, cols)
void add_column_sums(float* out, const float* m, int64_t rows, int cols) {
  for (int64_t r = 0; r < rows; r++) add_into(out, m + r * cols, cols);
}

// The biases that add to the pre-activations, Wb + Rb (GRU linear_before_reset: Rbh goes
// inside r * (...), so only Wbh there); empty without B.
std::vector<float> summed_bias(const float* Wb, const float* Rb, const RecurrentParams& p) {
  if (!Wb) return {};
  const int GH = p.gates() * p.H, rb_cols = p.cell == Cell::GRU && p.linear_before_reset ? 2 * p.H : GH;
  std::vector<float> sum(Wb, Wb + GH);
  add_into(sum.data(), Rb, rb_cols);
  return sum;
}

// One direction's forward steps: Hn (and Cn) from Hp (and Cp) for the step at time t; a and s
// are that step's rows of pre and act, whose input projection is already in a.
struct CellForward {
  const RecurrentParams& p;
  int d;
  const float *R, *bias, *Rbh, *P;  // bias: summed_bias (null without B); Rbh: GRU's
  const ActParams* f;
  const GemmFn& gemm;
  Rows& rows;
  std::vector<float>& rec;  // recurrent products that cannot go straight into pre
  float* y;                 // out.y, or null

  void lstm(int t, float* a, float* s, const float* Hp, float* Hn, const float* Cp, float* Cn) {
    const int H = p.H, GH = 4 * H;
    gemm(false, true, p.B, GH, H, 1.0f, Hp, R, 1.0f, a);
    rows.run([&](int b0, int b1, float* hc) {
      for (int b = b0; b < b1; b++) {
        lstm_row(a + (int64_t)b * GH, s + (int64_t)b * GH, Cp + (int64_t)b * H, Cn + (int64_t)b * H,
                 Hn + (int64_t)b * H, hc);
        copy_y(t, b, Hn + (int64_t)b * H);
      }
    });
  }
  // gates i, o, f, c~ at 0, H, 2H, 3H of a and s; hc: H floats of scratch
  void lstm_row(float* a, float* s, const float* cp, float* cn, float* hn, float* hc) const {
    const int H = p.H;
    if (bias) add_into(a, bias, 4 * H);
    if (P) {
      for (int j = 0; j < H; j++) a[j] += P[j] * cp[j], a[2 * H + j] += P[2 * H + j] * cp[j];
      act(s, a, H, f[0]), act(s + 2 * H, a + 2 * H, H, f[0]);
    } else {
      act(s, a, 3 * H, f[0]);  // i, o, f at once
    }
    act(s + 3 * H, a + 3 * H, H, f[1]);
    for (int j = 0; j < H; j++) cn[j] = s[2 * H + j] * cp[j] + s[j] * s[3 * H + j];
    if (P) {  // o sees the new cell
      for (int j = 0; j < H; j++) a[H + j] += P[H + j] * cn[j];
      act(s + H, a + H, H, f[0]);
    }
    act(hc, cn, H, f[2]);
    for (int j = 0; j < H; j++) hn[j] = s[H + j] * hc[j];
  }

  // gates z, r, h~ at 0, H, 2H
  void gru(int t, float* a, float* s, float* extra, const float* Hp, float* Hn) {
    const int B = p.B, H = p.H, GH = 3 * H;
    if (p.linear_before_reset) {  // rec = Hp R^T (B, 3H); extra = its h part + Rbh
      rec.resize((size_t)B * GH);
      gemm(false, true, B, GH, H, 1.0f, Hp, R, 0.0f, rec.data());
      rows.run([&](int b0, int b1, float*) {
        for (int b = b0; b < b1; b++) {
          const int64_t g = (int64_t)b * GH, h = (int64_t)b * H;
          gru_lbr_row(a + g, s + g, extra + h, rec.data() + g, Hp + h, Hn + h);
          copy_y(t, b, Hn + h);
        }
      });
      return;
    }
    rec.resize((size_t)B * 3 * H);
    float *zr = rec.data(), *hh = zr + (int64_t)B * 2 * H;  // Hp Rzr^T (B, 2H); (r * Hp) Rh^T (B, H)
    gemm(false, true, B, 2 * H, H, 1.0f, Hp, R, 0.0f, zr);
    rows.run([&](int b0, int b1, float*) {
      for (int b = b0; b < b1; b++) {
        float *ar = a + (int64_t)b * GH, *sr = s + (int64_t)b * GH, *er = extra + (int64_t)b * H;
        const float* hp = Hp + (int64_t)b * H;
        if (bias) add_into(ar, bias, GH);
        add_into(ar, zr + (int64_t)b * 2 * H, 2 * H);
        act(sr, ar, 2 * H, f[0]);
        for (int j = 0; j < H; j++) er[j] = sr[H + j] * hp[j];
      }
    });
    gemm(false, true, B, H, H, 1.0f, extra, R + (int64_t)2 * H * H, 0.0f, hh);
    rows.run([&](int b0, int b1, float*) {
      for (int b = b0; b < b1; b++) {
        float *ar = a + (int64_t)b * GH, *sr = s + (int64_t)b * GH, *hn = Hn + (int64_t)b * H;
        add_into(ar + 2 * H, hh + (int64_t)b * H, H);
        act(sr + 2 * H, ar + 2 * H, H, f[1]);
        gru_blend(hn, sr, Hp + (int64_t)b * H);
        copy_y(t, b, hn);
      }
    });
  }
  void gru_lbr_row(float* a, float* s, float* extra, const float* rec, const float* hp, float* hn) const {
    const int H = p.H;
    if (bias) add_into(a, bias, 3 * H);
    add_into(a, rec, 2 * H);
    act(s, a, 2 * H, f[0]);
    std::memcpy(extra, rec + 2 * H, sizeof(float) * H);
    if (Rbh) add_into(extra, Rbh, H);
    for (int j = 0; j < H; j++) a[2 * H + j] += s[H + j] * extra[j];
    act(s + 2 * H, a + 2 * H, H, f[1]);
    gru_blend(hn, s, hp);
  }
  // Hn = (1 - z) h~ + z Hp
  void gru_blend(float* hn, const float* s, const float* hp) const {
    const int H = p.H;
    for (int j = 0; j < H; j++) hn[j] = (1.0f - s[j]) * s[2 * H + j] + s[j] * hp[j];
  }

  void rnn(int t, float* a, float* s, const float* Hp, float* Hn) {
    const int H = p.H;
    gemm(false, true, p.B, H, H, 1.0f, Hp, R, 1.0f, a);
    rows.run([&](int b0, int b1, float*) {
      for (int b = b0; b < b1; b++) {
        float *ar = a + (int64_t)b * H, *sr = s + (int64_t)b * H, *hn = Hn + (int64_t)b * H;
        if (bias) add_into(ar, bias, H);
        act(sr, ar, H, f[0]);
        std::memcpy(hn, sr, sizeof(float) * H);
        copy_y(t, b, hn);
      }
    });
  }

  void copy_y(int t, int b, const float* hn) const {
    if (y) std::memcpy(y + y_at(p, t, d, b), hn, sizeof(float) * p.H);
  }
};

}  // namespace

void recurrent_forward(RecurrentOutputs out, float* state, const RecurrentInputs& in, const RecurrentParams& p,
                       const GemmFn& gemm) {
  const int T = p.T, B = p.B, H = p.H, GH = p.gates() * H;
  const int64_t BH = (int64_t)B * H;
  Layout l(p);
  const float* X = time_major_x(p, in.x, state);
  Rows rows(p, H);
  std::vector<float> rec;
  for (int d = 0; d < p.directions; d++) {
    float* st = l.dir(state, d);
    float *pre = st + l.pre, *act = st + l.act, *extra = st + l.extra, *hs = st + l.hs, *cs = st + l.cs;
    const float* Wb = in.b ? in.b + (int64_t)d * 2 * GH : nullptr;
    const float* Rb = Wb ? Wb + GH : nullptr;
    gemm(false, true, T * B, GH, p.I, 1.0f, X, in.w + (int64_t)d * GH * p.I, 0.0f, pre);
    const std::vector<float> bias = summed_bias(Wb, Rb, p);
    read_states(p, d, in.h0, hs);
    if (p.cell == Cell::LSTM) read_states(p, d, in.c0, cs);
    CellForward cell{p,
                     d,
                     in.r + (int64_t)d * GH * H,
                     bias.empty() ? nullptr : bias.data(),
                     Rb && p.cell == Cell::GRU && p.linear_before_reset ? Rb + 2 * H : nullptr,
                     in.p ? in.p + (int64_t)d * 3 * H : nullptr,
                     p.acts.data() + d * p.acts_per_direction(),
                     gemm,
                     rows,
                     rec,
                     out.y};
    for (int k = 0; k < T; k++) {
      const int t = time_of(p, d, k);
      float *a = pre + (int64_t)t * B * GH, *s = act + (int64_t)t * B * GH;
      const float* Hp = hs + k * BH;
      float* Hn = hs + (k + 1) * BH;
      if (p.cell == Cell::LSTM) cell.lstm(t, a, s, Hp, Hn, cs + k * BH, cs + (k + 1) * BH);
      else if (p.cell == Cell::GRU) cell.gru(t, a, s, extra + t * BH, Hp, Hn);
      else cell.rnn(t, a, s, Hp, Hn);
    }
    write_states(p, d, hs + T * BH, out.y_h);
    if (p.cell == Cell::LSTM) write_states(p, d, cs + T * BH, out.y_c);
  }
}

namespace {

// One direction's backward steps: from dHp (H_next's grad, in) and dC (C_next's) to the step's
// gate grads da (its rows of dpre) and H_prev's and C_prev's grads (dHp, dC, out).
struct CellBackward {
  const RecurrentParams& p;
  int d;
  const float *R, *P;
  const ActParams* f;
  float* dP;  // null: not wanted
  const GemmFn& gemm;
  Rows& rows;
  const float* dy;  // Y's grad, or null

  // dh = dHp + this step's Y grad
  void h_grad(int t, int b, const float* dhp, float* dh) const {
    if (!dy) return (void)std::memcpy(dh, dhp, sizeof(float) * p.H);
    const float* dyr = dy + y_at(p, t, d, b);
    for (int j = 0; j < p.H; j++) dh[j] = dhp[j] + dyr[j];
  }

  void lstm(int t, float* da, const float* a, const float* s, const float* Cp, const float* Cn, float* dHp,
            float* dC) {
    const int B = p.B, H = p.H, GH = 4 * H;
    rows.run([&](int b0, int b1, float* tmp) {
      for (int b = b0; b < b1; b++) {
        const int64_t g = (int64_t)b * GH, h = (int64_t)b * H;
        lstm_row(t, b, da + g, a + g, s + g, Cp + h, Cn + h, dHp + h, dC + h, tmp);
      }
    });
    if (dP)
      for (int b = 0; b < B; b++)
        for (int j = 0; j < H; j++) {
          const int64_t e = (int64_t)b * H + j;
          const float* dg = da + (int64_t)b * GH;
          dP[j] += dg[j] * Cp[e], dP[H + j] += dg[H + j] * Cn[e], dP[2 * H + j] += dg[2 * H + j] * Cp[e];
        }
    gemm(false, false, B, H, GH, 1.0f, da, R, 0.0f, dHp);
  }
  // tmp: 4H floats of scratch; dc: in C_next's grad, out C_prev's
  void lstm_row(int t, int b, float* da, const float* a, const float* s, const float* cp, const float* cn,
                const float* dhp, float* dc, float* tmp) const {
    const int H = p.H;
    float *dh = tmp, *hc = tmp + H, *ds = tmp + 2 * H, *dhc = tmp + 3 * H;
    h_grad(t, b, dhp, dh);
    act(hc, cn, H, f[2]);
    for (int j = 0; j < H; j++) ds[j] = dh[j] * hc[j];  // d o
    act_grad(da + H, ds, a + H, s + H, H, f[0]);
    for (int j = 0; j < H; j++) ds[j] = dh[j] * s[H + j];  // d h(C)
    act_grad(dhc, ds, cn, hc, H, f[2]);
    add_into(dc, dhc, H);
    if (P)
      for (int j = 0; j < H; j++) dc[j] += da[H + j] * P[H + j];
    for (int j = 0; j < H; j++) ds[j] = dc[j] * s[3 * H + j];  // d i
    act_grad(da, ds, a, s, H, f[0]);
    for (int j = 0; j < H; j++) ds[j] = dc[j] * cp[j];  // d f
    act_grad(da + 2 * H, ds, a + 2 * H, s + 2 * H, H, f[0]);
    for (int j = 0; j < H; j++) ds[j] = dc[j] * s[j];  // d c~
    act_grad(da + 3 * H, ds, a + 3 * H, s + 3 * H, H, f[1]);
    for (int j = 0; j < H; j++) dc[j] *= s[2 * H + j];
    if (P)
      for (int j = 0; j < H; j++) dc[j] += da[j] * P[j] + da[2 * H + j] * P[2 * H + j];
  }

  // drec: this step's rows of the recurrent product's grads, (B, 3H) with linear_before_reset,
  // else (B, 2H) for z and r with dah (B, H) for h~'s (r * Hp) Rh^T; work: 2 (B, H) buffers.
  void gru(int t, float* da, const float* a, const float* s, const float* extra, const float* Hp, float* dHp,
           float* drec, float* dah, float* work) {
    const int B = p.B, H = p.H, GH = 3 * H;
    if (p.linear_before_reset) {
      rows.run([&](int b0, int b1, float* tmp) {
        for (int b = b0; b < b1; b++) {
          const int64_t g = (int64_t)b * GH, h = (int64_t)b * H;
          gru_lbr_row(t, b, da + g, a + g, s + g, extra + h, Hp + h, dHp + h, drec + g, tmp);
        }
      });
      gemm(false, false, B, H, GH, 1.0f, drec, R, 1.0f, dHp);
      return;
    }
    float *dH = work, *drh = work + (int64_t)B * H;  // dH kept for z's grad; drh = dah Rh
    rows.run([&](int b0, int b1, float* tmp) {
      for (int b = b0; b < b1; b++) {
        const int64_t g = (int64_t)b * GH, h = (int64_t)b * H;
        float *dh = dH + h, *ds = tmp;
        h_grad(t, b, dHp + h, dh);
        for (int j = 0; j < H; j++) ds[j] = dh[j] * (1.0f - s[g + j]);  // d h~
        act_grad(da + g + 2 * H, ds, a + g + 2 * H, s + g + 2 * H, H, f[1]);
        std::memcpy(dah + h, da + g + 2 * H, sizeof(float) * H);
        for (int j = 0; j < H; j++) dHp[h + j] = dh[j] * s[g + j];
      }
    });
    gemm(false, false, B, H, H, 1.0f, dah, R + (int64_t)2 * H * H, 0.0f, drh);
    rows.run([&](int b0, int b1, float* ds) {
      for (int b = b0; b < b1; b++) {
        const int64_t g = (int64_t)b * GH, h = (int64_t)b * H;
        const float *hp = Hp + h, *dr = drh + h, *dh = dH + h, *sr = s + g;
        for (int j = 0; j < H; j++) ds[j] = dr[j] * hp[j];  // d r
        for (int j = 0; j < H; j++) dHp[h + j] += dr[j] * sr[H + j];
        act_grad(da + g + H, ds, a + g + H, sr + H, H, f[0]);
        for (int j = 0; j < H; j++) ds[j] = dh[j] * (hp[j] - sr[2 * H + j]);  // d z
        act_grad(da + g, ds, a + g, sr, H, f[0]);
        std::memcpy(drec + (int64_t)b * 2 * H, da + g, sizeof(float) * 2 * H);
      }
    });
    gemm(false, false, B, H, 2 * H, 1.0f, drec, R, 1.0f, dHp);
  }
  // tmp: 2H floats of scratch; drec: the row's (3H); dhp: in H_next's grad, out H_prev's (less R's part)
  void gru_lbr_row(int t, int b, float* da, const float* a, const float* s, const float* extra, const float* hp,
                   float* dhp, float* drec, float* tmp) const {
    const int H = p.H;
    float *dh = tmp, *ds = tmp + H;
    h_grad(t, b, dhp, dh);
    for (int j = 0; j < H; j++) ds[j] = dh[j] * (1.0f - s[j]);  // d h~
    act_grad(da + 2 * H, ds, a + 2 * H, s + 2 * H, H, f[1]);
    for (int j = 0; j < H; j++) {
      drec[2 * H + j] = da[2 * H + j] * s[H + j];  // d (Hp Rh^T + Rbh)
      ds[j] = da[2 * H + j] * extra[j];            // d r
    }
    act_grad(da + H, ds, a + H, s + H, H, f[0]);
    for (int j = 0; j < H; j++) ds[j] = dh[j] * (hp[j] - s[2 * H + j]);  // d z
    act_grad(da, ds, a, s, H, f[0]);
    for (int j = 0; j < H; j++) dhp[j] = dh[j] * s[j];
    std::memcpy(drec, da, sizeof(float) * 2 * H);
  }

  void rnn(int t, float* da, const float* a, const float* s, float* dHp) {
    const int H = p.H;
    rows.run([&](int b0, int b1, float* dh) {
      for (int b = b0; b < b1; b++) {
        const int64_t h = (int64_t)b * H;
        h_grad(t, b, dHp + h, dh);
        act_grad(da + h, dh, a + h, s + h, H, f[0]);
      }
    });
    gemm(false, false, p.B, H, H, 1.0f, da, R, 0.0f, dHp);
  }
};

// H_prev of every step in time order (T, B, H): hs itself for a direction that runs forward,
// else hs's first T blocks reversed into `room`.
const float* h_prev_by_time(const RecurrentParams& p, int d, const float* hs, std::vector<float>& room) {
  if (!runs_backwards(p, d)) return hs;
  const int64_t BH = (int64_t)p.B * p.H;
  room.resize((size_t)(p.T * BH));
  for (int k = 0; k < p.T; k++) std::memcpy(room.data() + time_of(p, d, k) * BH, hs + k * BH, sizeof(float) * BH);
  return room.data();
}

}  // namespace

void recurrent_backward(const RecurrentGrads& g, const float* dy, const float* dy_h, const float* dy_c,
                        const float* state, const RecurrentInputs& in, const RecurrentParams& p, const GemmFn& gemm) {
  const int T = p.T, B = p.B, H = p.H, GH = p.gates() * H;
  const int64_t BH = (int64_t)B * H, TB = (int64_t)T * B;
  const bool gru = p.cell == Cell::GRU, lbr = gru && p.linear_before_reset;
  Layout l(p);
  const float* X = p.batch_major ? state : in.x;
  // drec: GRU's recurrent-product grads of every step (T, B, 3H or 2H), dah: h~'s (T, B, H)
  const int rec_cols = lbr ? GH : 2 * H;
  std::vector<float> dpre((size_t)(TB * GH)), dHp(BH), dC(BH), column_sums(GH), h_room;
  std::vector<float> drec(gru ? (size_t)(TB * rec_cols) : 0), dah(gru && !lbr ? (size_t)(TB * H) : 0),
      work(gru ? 2 * BH : 0);
  std::vector<float> dx_time_major(p.batch_major && g.dx ? (size_t)(TB * p.I) : 0);
  float* dX = p.batch_major ? dx_time_major.data() : g.dx;
  Rows rows(p, 4 * H);
  for (int d = 0; d < p.directions; d++) {
    const float* st = l.dir(state, d);
    const float *pre = st + l.pre, *act = st + l.act, *extra = st + l.extra, *hs = st + l.hs, *cs = st + l.cs;
    const float* W = in.w + (int64_t)d * GH * p.I;
    float* dR = g.dr ? g.dr + (int64_t)d * GH * H : nullptr;
    float* dWb = g.db ? g.db + (int64_t)d * 2 * GH : nullptr;
    float* dRb = dWb ? dWb + GH : nullptr;
    CellBackward cell{p,  d,    in.r + (int64_t)d * GH * H, in.p ? in.p + (int64_t)d * 3 * H : nullptr,
                      p.acts.data() + d * p.acts_per_direction(), g.dp ? g.dp + (int64_t)d * 3 * H : nullptr,
                      gemm, rows, dy};
    read_states(p, d, dy_h, dHp.data());
    read_states(p, d, dy_c, dC.data());
    for (int k = T; k-- > 0;) {
      const int t = time_of(p, d, k);
      const int64_t at = (int64_t)t * B * GH;
      float* da = dpre.data() + at;
      if (p.cell == Cell::LSTM) cell.lstm(t, da, pre + at, act + at, cs + k * BH, cs + (k + 1) * BH, dHp.data(), dC.data());
      else if (gru)
        cell.gru(t, da, pre + at, act + at, extra + t * BH, hs + k * BH, dHp.data(), drec.data() + (int64_t)t * B * rec_cols,
                 lbr ? nullptr : dah.data() + t * BH, work.data());
      else cell.rnn(t, da, pre + at, act + at, dHp.data());
    }
    write_states(p, d, dHp.data(), g.dh0);
    if (p.cell == Cell::LSTM) write_states(p, d, dC.data(), g.dc0);
    // the recurrent side's weight grads, every step at once: dR += sum over t of drec_t^T Hp_t
    if (dR) {
      const float* Hp = h_prev_by_time(p, d, hs, h_room);
      if (!gru) gemm(true, false, GH, H, (int)TB, 1.0f, dpre.data(), Hp, 1.0f, dR);
      else gemm(true, false, rec_cols, H, (int)TB, 1.0f, drec.data(), Hp, 1.0f, dR);
      if (gru && !lbr) gemm(true, false, H, H, (int)TB, 1.0f, dah.data(), extra, 1.0f, dR + (int64_t)2 * H * H);
    }
    // the input side of every step at once
    if (g.dw) gemm(true, false, GH, p.I, (int)TB, 1.0f, dpre.data(), X, 1.0f, g.dw + (int64_t)d * GH * p.I);
    if (dX) gemm(false, false, (int)TB, p.I, GH, 1.0f, dpre.data(), W, d > 0 ? 1.0f : 0.0f, dX);
    if (dWb) {
      std::fill(column_sums.begin(), column_sums.end(), 0.0f);
      add_column_sums(column_sums.data(), dpre.data(), TB, GH);
      add_into(dWb, column_sums.data(), GH);
      // Rb adds where Wb does (its grad is the same) except GRU linear_before_reset's Rbh
      if (lbr) add_column_sums(dRb, drec.data(), TB, GH);
      else add_into(dRb, column_sums.data(), GH);
    }
  }
  if (p.batch_major && g.dx) swap_first_axes(g.dx, dX, T, B, p.I);
}

}  // namespace cpu
}  // namespace strata
