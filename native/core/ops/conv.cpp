// conv.cpp: reference convolution, plain loops. The algorithmic reference and
// the fallback for the oneDNN path in cpu/dnnl_backend.cpp.
#include "conv.h"

#include <cstring>

#include "../check.h"

namespace strata {

int64_t window_out(int64_t in, int64_t k, int64_t stride, int64_t dil, const std::string& auto_pad,
                   int64_t& pad_begin, int64_t& pad_end, bool ceil_mode) {
  int64_t keff = (k - 1) * dil + 1;
  if (auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER") {
    int64_t out = (in + stride - 1) / stride;
    int64_t total = (out - 1) * stride + keff - in;
    if (total < 0) total = 0;
    pad_begin = auto_pad == "SAME_UPPER" ? total / 2 : (total + 1) / 2;
    pad_end = total - pad_begin;
    return out;
  }
  if (auto_pad == "VALID") pad_begin = pad_end = 0;
  else STRATA_CHECK(auto_pad == "NOTSET" || auto_pad.empty(), "unsupported auto_pad '" << auto_pad << "'");
  int64_t span = in + pad_begin + pad_end - keff;
  STRATA_CHECK(span >= 0, "window of " << keff << " (kernel " << k << ", dilation " << dil
                                       << ") is larger than the padded input " << in + pad_begin + pad_end);
  return (ceil_mode ? (span + stride - 1) / stride : span / stride) + 1;
}

namespace ref {

void conv2d_forward(float* out, const float* inp, const float* weight, const float* bias, const ConvParams& p) {
  const int Cg = p.C / p.G, OCg = p.OC / p.G;
  for (int n = 0; n < p.N; n++)
    for (int oc = 0; oc < p.OC; oc++)
      for (int oh = 0; oh < p.OH; oh++)
        for (int ow = 0; ow < p.OW; ow++) {
          float acc = bias ? bias[oc] : 0.0f;
          for (int cg = 0; cg < Cg; cg++) {
            const int c = oc / OCg * Cg + cg;  // the input channel: its group's cg-th
            for (int kh = 0; kh < p.KH; kh++) {
              int ih = oh * p.sh - p.pt + kh * p.dh;
              if (ih < 0 || ih >= p.H) continue;
              for (int kw = 0; kw < p.KW; kw++) {
                int iw = ow * p.sw - p.pl + kw * p.dw;
                if (iw < 0 || iw >= p.W) continue;
                acc += inp[((int64_t)(n * p.C + c) * p.H + ih) * p.W + iw] *
                       weight[((int64_t)(oc * Cg + cg) * p.KH + kh) * p.KW + kw];
              }
            }
          }
          out[((int64_t)(n * p.OC + oc) * p.OH + oh) * p.OW + ow] = acc;
        }
}

void conv2d_backward(float* dinp, float* dweight, float* dbias, const float* dout, const float* inp,
                     const float* weight, const ConvParams& p) {
  const int Cg = p.C / p.G, OCg = p.OC / p.G;
  if (dinp) std::memset(dinp, 0, sizeof(float) * p.N * p.C * p.H * p.W);
  for (int n = 0; n < p.N; n++)
    for (int oc = 0; oc < p.OC; oc++)
      for (int oh = 0; oh < p.OH; oh++)
        for (int ow = 0; ow < p.OW; ow++) {
          float d = dout[((int64_t)(n * p.OC + oc) * p.OH + oh) * p.OW + ow];
          if (dbias) dbias[oc] += d;
          for (int cg = 0; cg < Cg; cg++) {
            const int c = oc / OCg * Cg + cg;
            for (int kh = 0; kh < p.KH; kh++) {
              int ih = oh * p.sh - p.pt + kh * p.dh;
              if (ih < 0 || ih >= p.H) continue;
              for (int kw = 0; kw < p.KW; kw++) {
                int iw = ow * p.sw - p.pl + kw * p.dw;
                if (iw < 0 || iw >= p.W) continue;
                int64_t ii = ((int64_t)(n * p.C + c) * p.H + ih) * p.W + iw;
                int64_t wi = ((int64_t)(oc * Cg + cg) * p.KH + kh) * p.KW + kw;
                if (dinp) dinp[ii] += d * weight[wi];
                if (dweight) dweight[wi] += d * inp[ii];
              }
            }
          }
        }
}

}  // namespace ref
}  // namespace strata
