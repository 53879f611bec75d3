// conv.h: 2-D convolution, NCHW as ONNX defines it (Conv1D is H == 1), in G groups: output
// channel oc reads the C/G input channels of its group, oc / (OC/G) (Keras's DepthwiseConv2D
// is G == C, grouped Conv2D's `groups` is G).
// Gradient contract: parameter grads += (dweight, dbias), activation grads = (dinp).
// Any grad pointer may be null when that grad is not needed.
#pragma once
#include <cstdint>
#include <string>

namespace strata {

struct ConvParams {
  int N, C, H, W;      // input (N,C,H,W)
  int OC, KH, KW;      // weight (OC,C/G,KH,KW)
  int OH, OW;          // output (N,OC,OH,OW)
  int sh, sw, dh, dw;  // strides and dilations (1 = dense)
  int pt, pl, pb, pr;  // pads: top, left, bottom, right
  bool relu = false;   // forward only: out = max(conv + bias, 0) (a Conv + Relu pair fused by the
                       // session); the backward takes the grad of the conv's own output
  bool clip = false;   // forward only: out = min(max(conv + bias, clip_lo), clip_hi) (a Clip folded in
  float clip_lo = 0, clip_hi = 0;  // by the session's inference passes: Session::fold_batchnorms)
  bool src_blocked = false, dst_blocked = false;  // inp/dinp, out/dout in nChw<B>c (Backend::channel_block)
  int G = 1;           // groups: C and OC are multiples of G
};

// ONNX window arithmetic for one spatial axis: resolves auto_pad (NOTSET uses the
// given pads; SAME_UPPER puts the odd pad at the end, as Keras's "same"; VALID none)
// and returns the output length.
int64_t window_out(int64_t in, int64_t k, int64_t stride, int64_t dil, const std::string& auto_pad,
                   int64_t& pad_begin, int64_t& pad_end, bool ceil_mode = false);

namespace ref {
// out (N,OC,OH,OW) = conv(inp, weight) + bias; bias (OC) may be null.
void conv2d_forward(float* out, const float* inp, const float* weight, const float* bias, const ConvParams& p);
// dinp = ..., dweight += ..., dbias += ...
void conv2d_backward(float* dinp, float* dweight, float* dbias, const float* dout, const float* inp,
                     const float* weight, const ConvParams& p);
}  // namespace ref

}  // namespace strata
