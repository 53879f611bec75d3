// pool.cpp: reference pooling, plain loops.
#include "pool.h"

#include <cfloat>
#include <cstdint>
#include <cstring>

namespace strata {
namespace ref {

// Number of window taps inside the input (or the full window with count_include_pad,
// where ONNX counts the pads but not taps beyond them).
static int avg_count(const PoolParams& p, int oh, int ow) {
  int cnt = 0;
  for (int kh = 0; kh < p.KH; kh++)
    for (int kw = 0; kw < p.KW; kw++) {
      int ih = oh * p.sh - p.pt + kh * p.dh, iw = ow * p.sw - p.pl + kw * p.dw;
      bool inside = ih >= 0 && ih < p.H && iw >= 0 && iw < p.W;
      bool in_pad = ih >= -p.pt && ih < p.H + p.pb && iw >= -p.pl && iw < p.W + p.pr;
      cnt += p.count_include_pad ? in_pad : inside;
    }
  return cnt > 0 ? cnt : 1;
}

void maxpool2d_forward(float* out, const float* inp, const PoolParams& p) {
  for (int nc = 0; nc < p.N * p.C; nc++) {
    const float* x = inp + (int64_t)nc * p.H * p.W;
    for (int oh = 0; oh < p.OH; oh++)
      for (int ow = 0; ow < p.OW; ow++) {
        float m = -FLT_MAX;
        for (int kh = 0; kh < p.KH; kh++)
          for (int kw = 0; kw < p.KW; kw++) {
            int ih = oh * p.sh - p.pt + kh * p.dh, iw = ow * p.sw - p.pl + kw * p.dw;
            if (ih >= 0 && ih < p.H && iw >= 0 && iw < p.W && x[ih * p.W + iw] > m) m = x[ih * p.W + iw];
          }
        out[((int64_t)nc * p.OH + oh) * p.OW + ow] = m;
      }
  }
}

void maxpool2d_backward(float* dinp, const float* dout, const float* inp, const PoolParams& p) {
  std::memset(dinp, 0, sizeof(float) * p.N * p.C * p.H * p.W);
  for (int nc = 0; nc < p.N * p.C; nc++) {
    const float* x = inp + (int64_t)nc * p.H * p.W;
    float* dx = dinp + (int64_t)nc * p.H * p.W;
    for (int oh = 0; oh < p.OH; oh++)
      for (int ow = 0; ow < p.OW; ow++) {
        float m = -FLT_MAX;
        int arg = -1;
        for (int kh = 0; kh < p.KH; kh++)
          for (int kw = 0; kw < p.KW; kw++) {
            int ih = oh * p.sh - p.pt + kh * p.dh, iw = ow * p.sw - p.pl + kw * p.dw;
            if (ih >= 0 && ih < p.H && iw >= 0 && iw < p.W && x[ih * p.W + iw] > m) {
              m = x[ih * p.W + iw];
              arg = ih * p.W + iw;
            }
          }
        if (arg >= 0) dx[arg] += dout[((int64_t)nc * p.OH + oh) * p.OW + ow];
      }
  }
}

void avgpool2d_forward(float* out, const float* inp, const PoolParams& p) {
  for (int nc = 0; nc < p.N * p.C; nc++) {
    const float* x = inp + (int64_t)nc * p.H * p.W;
    for (int oh = 0; oh < p.OH; oh++)
      for (int ow = 0; ow < p.OW; ow++) {
        float s = 0;
        for (int kh = 0; kh < p.KH; kh++)
          for (int kw = 0; kw < p.KW; kw++) {
            int ih = oh * p.sh - p.pt + kh * p.dh, iw = ow * p.sw - p.pl + kw * p.dw;
            if (ih >= 0 && ih < p.H && iw >= 0 && iw < p.W) s += x[ih * p.W + iw];
          }
        out[((int64_t)nc * p.OH + oh) * p.OW + ow] = s / avg_count(p, oh, ow);
      }
  }
}

void avgpool2d_backward(float* dinp, const float* dout, const PoolParams& p) {
  std::memset(dinp, 0, sizeof(float) * p.N * p.C * p.H * p.W);
  for (int nc = 0; nc < p.N * p.C; nc++) {
    float* dx = dinp + (int64_t)nc * p.H * p.W;
    for (int oh = 0; oh < p.OH; oh++)
      for (int ow = 0; ow < p.OW; ow++) {
        float d = dout[((int64_t)nc * p.OH + oh) * p.OW + ow] / avg_count(p, oh, ow);
        for (int kh = 0; kh < p.KH; kh++)
          for (int kw = 0; kw < p.KW; kw++) {
            int ih = oh * p.sh - p.pt + kh * p.dh, iw = ow * p.sw - p.pl + kw * p.dw;
            if (ih >= 0 && ih < p.H && iw >= 0 && iw < p.W) dx[ih * p.W + iw] += d;
          }
      }
  }
}

}  // namespace ref
}  // namespace strata
