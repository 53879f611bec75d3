// recurrent.cpp: LSTM, GRU and RNN forward and backward through time (see recurrent.h): the
// reference's cell loops; the state they keep is recurrent_layout.h's.
#include "recurrent.h"

#include <algorithm>
#include <cstring>

#include "gemm.h"
#include "recurrent_layout.h"

namespace strata {

using namespace recurrent_layout;

namespace {

// The activation of `cols` columns at `col` of each of `rows` rows of `stride` floats.
void act_block(float* s, const float* a, int rows, int cols, int stride, int col, const ActParams& f) {
  for (int r = 0; r < rows; r++) ref::act_forward(s + (int64_t)r * stride + col, a + (int64_t)r * stride + col, cols, f);
}
// da = ds * f'(a) on such a block (ds is (rows, cols), contiguous).
void act_block_grad(float* da, const float* ds, const float* a, const float* s, int rows, int cols, int stride,
                    int col, const ActParams& f) {
  for (int r = 0; r < rows; r++) {
    int64_t at = (int64_t)r * stride + col;
    ref::act_backward(da + at, ds + (int64_t)r * cols, a + at, s + at, cols, f);
  }
}

// One processed step of one direction: Hn (and Cn) from Hp (and Cp); a and s are this step's
// rows of pre and act, whose input projection and biases are already in a.
struct StepForward {
  const RecurrentParams& p;
  const float *R, *Rb, *P;  // this direction's
  const ActParams* f;       // its activations
  const GemmFn& gemm;
  std::vector<float>& tmp;

  void lstm(float* a, float* s, const float* Hp, float* Hn, const float* Cp, float* Cn) {
    const int B = p.B, H = p.H, GH = 4 * H;
    gemm(false, true, B, GH, H, 1.0f, Hp, R, 1.0f, a);
    if (P)
      for (int b = 0; b < B; b++)
        for (int j = 0; j < H; j++) {
          a[b * GH + j] += P[j] * Cp[b * H + j];              // i
          a[b * GH + 2 * H + j] += P[2 * H + j] * Cp[b * H + j];  // f
        }
    act_block(s, a, B, H, GH, 0, f[0]);
    act_block(s, a, B, H, GH, 2 * H, f[0]);
    act_block(s, a, B, H, GH, 3 * H, f[1]);
    for (int b = 0; b < B; b++)
      for (int j = 0; j < H; j++) {
        const float* g = s + b * GH;
        Cn[b * H + j] = g[2 * H + j] * Cp[b * H + j] + g[j] * g[3 * H + j];
        if (P) a[b * GH + H + j] += P[H + j] * Cn[b * H + j];  // o sees the new cell
      }
    act_block(s, a, B, H, GH, H, f[0]);
    tmp.resize((size_t)B * H);
    ref::act_forward(tmp.data(), Cn, (int64_t)B * H, f[2]);
    for (int b = 0; b < B; b++)
      for (int j = 0; j < H; j++) Hn[b * H + j] = s[b * GH + H + j] * tmp[b * H + j];
  }

  void gru(float* a, float* s, float* extra, const float* Hp, float* Hn) {
    const int B = p.B, H = p.H, GH = 3 * H;
    tmp.resize((size_t)B * GH);
    float* rec = tmp.data();
    if (p.linear_before_reset) {  // rec = Hp R^T, then extra = its h part + Rbh
      gemm(false, true, B, GH, H, 1.0f, Hp, R, 0.0f, rec);
      for (int b = 0; b < B; b++)
        for (int j = 0; j < H; j++) extra[b * H + j] = rec[b * GH + 2 * H + j] + (Rb ? Rb[2 * H + j] : 0.0f);
    } else {
      gemm(false, true, B, 2 * H, H, 1.0f, Hp, R, 0.0f, rec);  // z and r: rec (B, 2H)
    }
    const int rec_stride = p.linear_before_reset ? GH : 2 * H;
    for (int b = 0; b < B; b++)
      for (int j = 0; j < 2 * H; j++) a[b * GH + j] += rec[b * rec_stride + j];
    act_block(s, a, B, 2 * H, GH, 0, f[0]);
    if (p.linear_before_reset) {
      for (int b = 0; b < B; b++)
        for (int j = 0; j < H; j++) a[b * GH + 2 * H + j] += s[b * GH + H + j] * extra[b * H + j];
    } else {
      for (int b = 0; b < B; b++)
        for (int j = 0; j < H; j++) extra[b * H + j] = s[b * GH + H + j] * Hp[b * H + j];
      gemm(false, true, B, H, H, 1.0f, extra, R + (int64_t)2 * H * H, 0.0f, rec);  // (r * Hp) Rh^T
      for (int b = 0; b < B; b++)
        for (int j = 0; j < H; j++) a[b * GH + 2 * H + j] += rec[b * H + j];
    }
    act_block(s, a, B, H, GH, 2 * H, f[1]);
    for (int b = 0; b < B; b++)
      for (int j = 0; j < H; j++) {
        float z = s[b * GH + j];
        Hn[b * H + j] = (1.0f - z) * s[b * GH + 2 * H + j] + z * Hp[b * H + j];
      }
  }

  void rnn(float* a, float* s, const float* Hp, float* Hn) {
    gemm(false, true, p.B, p.H, p.H, 1.0f, Hp, R, 1.0f, a);
    ref::act_forward(s, a, (int64_t)p.B * p.H, f[0]);
    std::memcpy(Hn, s, sizeof(float) * p.B * p.H);
  }
};

// Sums of the rows of m (rows, cols) added into out.
void add_column_sums(float* out, const float* m, int64_t rows, int cols) {
  for (int64_t r = 0; r < rows; r++)
    for (int c = 0; c < cols; c++) out[c] += m[r * cols + c];
}

}  // namespace

int64_t recurrent_state_size(const RecurrentParams& p) {
  Layout l(p);
  return l.x + p.directions * l.per_direction;
}

void recurrent_forward(RecurrentOutputs out, float* state, const RecurrentInputs& in, const RecurrentParams& p,
                       const GemmFn& gemm) {
  const int T = p.T, B = p.B, H = p.H, G = p.gates(), GH = G * H;
  const int64_t BH = (int64_t)B * H;
  Layout l(p);
  const float* X = time_major_x(p, in.x, state);
  std::vector<float> tmp;
  for (int d = 0; d < p.directions; d++) {
    float* st = l.dir(state, d);
    float *pre = st + l.pre, *act = st + l.act, *extra = st + l.extra, *hs = st + l.hs, *cs = st + l.cs;
    const float* Wb = in.b ? in.b + (int64_t)d * 2 * GH : nullptr;
    const float* Rb = Wb ? Wb + GH : nullptr;
    gemm(false, true, T * B, GH, p.I, 1.0f, X, in.w + (int64_t)d * GH * p.I, 0.0f, pre);
    // GRU linear_before_reset adds Rbh inside r * (...): not here
    const int rb_cols = p.cell == Cell::GRU && p.linear_before_reset ? 2 * H : GH;
    if (Wb)
      for (int64_t r = 0; r < (int64_t)T * B; r++)
        for (int c = 0; c < GH; c++) pre[r * GH + c] += Wb[c] + (c < rb_cols ? Rb[c] : 0.0f);
    read_states(p, d, in.h0, hs);
    if (p.cell == Cell::LSTM) read_states(p, d, in.c0, cs);
    StepForward step{p, in.r + (int64_t)d * GH * H, Rb, in.p ? in.p + (int64_t)d * 3 * H : nullptr,
                     p.acts.data() + d * p.acts_per_direction(), gemm, tmp};
    for (int k = 0; k < T; k++) {
      const int t = time_of(p, d, k);
      float *a = pre + (int64_t)t * B * GH, *s = act + (int64_t)t * B * GH;
      const float* Hp = hs + k * BH;
      float* Hn = hs + (k + 1) * BH;
      if (p.cell == Cell::LSTM) step.lstm(a, s, Hp, Hn, cs + k * BH, cs + (k + 1) * BH);
      else if (p.cell == Cell::GRU) step.gru(a, s, extra + t * BH, Hp, Hn);
      else step.rnn(a, s, Hp, Hn);
      if (out.y)
        for (int b = 0; b < B; b++) std::memcpy(out.y + y_at(p, t, d, b), Hn + b * H, sizeof(float) * H);
    }
    write_states(p, d, hs + T * BH, out.y_h);
    if (p.cell == Cell::LSTM) write_states(p, d, cs + T * BH, out.y_c);
  }
}

namespace {

// One processed step's backward: from dHn (and dCn) to the gates' pre-activation grads (da,
// this step's rows of dpre), dHp (and dCp), and the recurrent weights' grads.
struct StepBackward {
  const RecurrentParams& p;
  const float *R, *P;
  const ActParams* f;
  float *dR, *dRb, *dP;
  const GemmFn& gemm;
  std::vector<float>& t1;
  std::vector<float>& t2;
  std::vector<float>& t3;

  // da = dHn's chain to the gates; dHp = da R; dR += da^T Hp
  void recurrent_product(const float* da, int cols, const float* Hp, float* dHp, float beta) {
    gemm(false, false, p.B, p.H, cols, 1.0f, da, R, beta, dHp);
    if (dR) gemm(true, false, cols, p.H, p.B, 1.0f, da, Hp, 1.0f, dR);
  }

  void lstm(float* da, const float* a, const float* s, const float* Hp, const float* Cp, const float* Cn,
            const float* dHn, float* dHp, float* dC /* in: dCn, out: dCp */) {
    const int B = p.B, H = p.H, GH = 4 * H;
    const int64_t BH = (int64_t)B * H;
    t1.resize(BH), t2.resize(BH), t3.resize(BH);
    float *hC = t1.data(), *ds = t2.data(), *dhC = t3.data();
    ref::act_forward(hC, Cn, BH, f[2]);
    for (int64_t e = 0; e < BH; e++) ds[e] = dHn[e] * s[(e / H) * GH + H + e % H];  // dH * o
    ref::act_backward(dhC, ds, Cn, hC, BH, f[2]);
    for (int64_t e = 0; e < BH; e++) dC[e] += dhC[e], ds[e] = dHn[e] * hC[e];  // ds: d o
    act_block_grad(da, ds, a, s, B, H, GH, H, f[0]);
    for (int b = 0; b < B; b++)
      for (int j = 0; j < H; j++) {
        const int64_t e = (int64_t)b * H + j;
        const float* g = s + b * GH;
        if (P) dC[e] += da[b * GH + H + j] * P[H + j];
        t3[e] = dC[e] * g[3 * H + j];  // d i
        t1[e] = dC[e] * Cp[e];          // d f
        t2[e] = dC[e] * g[j];           // d c~
      }
    act_block_grad(da, t3.data(), a, s, B, H, GH, 0, f[0]);
    act_block_grad(da, t1.data(), a, s, B, H, GH, 2 * H, f[0]);
    act_block_grad(da, t2.data(), a, s, B, H, GH, 3 * H, f[1]);
    for (int b = 0; b < B; b++)
      for (int j = 0; j < H; j++) {
        const int64_t e = (int64_t)b * H + j;
        const float *g = s + b * GH, *dg = da + b * GH;
        dC[e] *= g[2 * H + j];
        if (!P) continue;
        dC[e] += dg[j] * P[j] + dg[2 * H + j] * P[2 * H + j];
        if (dP) dP[j] += dg[j] * Cp[e], dP[H + j] += dg[H + j] * Cn[e], dP[2 * H + j] += dg[2 * H + j] * Cp[e];
      }
    recurrent_product(da, GH, Hp, dHp, 0.0f);
    if (dRb) add_column_sums(dRb, da, B, GH);
  }

  void gru(float* da, const float* a, const float* s, const float* extra, const float* Hp, const float* dHn,
           float* dHp) {
    const int B = p.B, H = p.H, GH = 3 * H;
    const int64_t BH = (int64_t)B * H;
    t1.resize(BH), t2.resize((size_t)B * GH), t3.resize(BH);
    float* ds = t1.data();  // d h~, then d r
    for (int b = 0; b < B; b++)
      for (int j = 0; j < H; j++) {
        const int64_t e = (int64_t)b * H + j;
        const float z = s[b * GH + j];
        ds[e] = dHn[e] * (1.0f - z);
        dHp[e] = dHn[e] * z;
      }
    act_block_grad(da, ds, a, s, B, H, GH, 2 * H, f[1]);
    float* drec = t2.data();  // the recurrent product's grads: (B, 3H) or (B, 2H)
    if (p.linear_before_reset) {
      for (int b = 0; b < B; b++)
        for (int j = 0; j < H; j++) {
          const float dah = da[b * GH + 2 * H + j];
          drec[b * GH + 2 * H + j] = dah * s[b * GH + H + j];  // d (Hp Rh^T + Rbh)
          ds[b * H + j] = dah * extra[b * H + j];              // d r
        }
    } else {
      float *dah = t3.data(), *drh = drec;  // d (r * Hp) = dah Rh, in drec's room for now
      for (int b = 0; b < B; b++) std::memcpy(dah + b * H, da + b * GH + 2 * H, sizeof(float) * H);
      gemm(false, false, B, H, H, 1.0f, dah, R + (int64_t)2 * H * H, 0.0f, drh);
      if (dR) gemm(true, false, H, H, B, 1.0f, dah, extra, 1.0f, dR + (int64_t)2 * H * H);
      if (dRb) add_column_sums(dRb + 2 * H, dah, B, H);
      for (int64_t e = 0; e < BH; e++) {
        ds[e] = drh[e] * Hp[e];
        dHp[e] += drh[e] * s[(e / H) * GH + H + e % H];
      }
    }
    act_block_grad(da, ds, a, s, B, H, GH, H, f[0]);
    for (int b = 0; b < B; b++)
      for (int j = 0; j < H; j++) {
        const int64_t e = (int64_t)b * H + j;
        ds[e] = dHn[e] * (Hp[e] - s[b * GH + 2 * H + j]);  // d z
      }
    act_block_grad(da, ds, a, s, B, H, GH, 0, f[0]);
    const int cols = p.linear_before_reset ? GH : 2 * H;
    for (int b = 0; b < B; b++) std::memcpy(drec + (int64_t)b * cols, da + (int64_t)b * GH, sizeof(float) * 2 * H);
    recurrent_product(drec, cols, Hp, dHp, 1.0f);
    if (dRb) add_column_sums(dRb, drec, B, cols);
  }

  void rnn(float* da, const float* a, const float* s, const float* Hp, const float* dHn, float* dHp) {
    ref::act_backward(da, dHn, a, s, (int64_t)p.B * p.H, f[0]);
    recurrent_product(da, p.H, Hp, dHp, 0.0f);
    if (dRb) add_column_sums(dRb, da, p.B, p.H);
  }
};

}  // namespace

void recurrent_backward(const RecurrentGrads& g, const float* dy, const float* dy_h, const float* dy_c,
                        const float* state, const RecurrentInputs& in, const RecurrentParams& p, const GemmFn& gemm) {
  const int T = p.T, B = p.B, H = p.H, G = p.gates(), GH = G * H;
  const int64_t BH = (int64_t)B * H;
  Layout l(p);
  const float* X = p.batch_major ? state : in.x;
  std::vector<float> dpre((size_t)T * B * GH), dH(BH), dHp(BH), dC(BH), t1, t2, t3;
  std::vector<float> dx_time_major(p.batch_major && g.dx ? (size_t)T * B * p.I : 0);
  float* dX = p.batch_major ? dx_time_major.data() : g.dx;
  for (int d = 0; d < p.directions; d++) {
    const float* st = l.dir(state, d);
    const float *pre = st + l.pre, *act = st + l.act, *extra = st + l.extra, *hs = st + l.hs, *cs = st + l.cs;
    const float* W = in.w + (int64_t)d * GH * p.I;
    float* dWb = g.db ? g.db + (int64_t)d * 2 * GH : nullptr;
    StepBackward step{p, in.r + (int64_t)d * GH * H, in.p ? in.p + (int64_t)d * 3 * H : nullptr,
                      p.acts.data() + d * p.acts_per_direction(), g.dr ? g.dr + (int64_t)d * GH * H : nullptr,
                      dWb ? dWb + GH : nullptr, g.dp ? g.dp + (int64_t)d * 3 * H : nullptr, gemm, t1, t2, t3};
    read_states(p, d, dy_h, dHp.data());
    read_states(p, d, dy_c, dC.data());
    for (int k = T; k-- > 0;) {
      const int t = time_of(p, d, k);
      for (int b = 0; b < B; b++)
        for (int j = 0; j < H; j++) dH[b * H + j] = dHp[b * H + j] + (dy ? dy[y_at(p, t, d, b) + j] : 0.0f);
      const int64_t at = (int64_t)t * B * GH;
      float* da = dpre.data() + at;
      const float* Hp = hs + k * BH;
      if (p.cell == Cell::LSTM)
        step.lstm(da, pre + at, act + at, Hp, cs + k * BH, cs + (k + 1) * BH, dH.data(), dHp.data(), dC.data());
      else if (p.cell == Cell::GRU) step.gru(da, pre + at, act + at, extra + t * BH, Hp, dH.data(), dHp.data());
      else step.rnn(da, pre + at, act + at, Hp, dH.data(), dHp.data());
    }
    write_states(p, d, dHp.data(), g.dh0);
    if (p.cell == Cell::LSTM) write_states(p, d, dC.data(), g.dc0);
    // the input side of every step at once
    if (g.dw) gemm(true, false, GH, p.I, T * B, 1.0f, dpre.data(), X, 1.0f, g.dw + (int64_t)d * GH * p.I);
    if (dX) gemm(false, false, T * B, p.I, GH, 1.0f, dpre.data(), W, d > 0 ? 1.0f : 0.0f, dX);
    if (dWb) add_column_sums(dWb, dpre.data(), (int64_t)T * B, GH);
  }
  if (p.batch_major && g.dx) swap_first_axes(g.dx, dX, T, B, p.I);
}

namespace ref {
void recurrent_forward(RecurrentOutputs out, float* state, const RecurrentInputs& in, const RecurrentParams& p) {
  strata::recurrent_forward(out, state, in, p, ref::gemm);
}
void recurrent_backward(const RecurrentGrads& g, const float* dy, const float* dy_h, const float* dy_c,
                        const float* state, const RecurrentInputs& in, const RecurrentParams& p) {
  strata::recurrent_backward(g, dy, dy_h, dy_c, state, in, p, ref::gemm);
}
}  // namespace ref

}  // namespace strata
