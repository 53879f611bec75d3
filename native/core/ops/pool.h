// pool.h: MaxPool, AveragePool and GlobalAveragePool (a window over all of H,W), NCHW.
// Gradient contract: activation grads = (no parameters).
#pragma once

namespace strata {

struct PoolParams {
  int N, C, H, W;       // input (N,C,H,W)
  int OH, OW;           // output (N,C,OH,OW)
  int KH, KW;           // window
  int sh, sw, dh, dw;   // strides, dilations
  int pt, pl, pb, pr;   // pads
  bool count_include_pad;  // AveragePool only; ONNX's default is false (as Keras)
  bool blocked = false;    // inp, out and their grads in nChw<B>c (Backend::channel_block)
};

namespace ref {
void maxpool2d_forward(float* out, const float* inp, const PoolParams& p);
// dinp = grad routed to the first maximum of each window
void maxpool2d_backward(float* dinp, const float* dout, const float* inp, const PoolParams& p);
void avgpool2d_forward(float* out, const float* inp, const PoolParams& p);
void avgpool2d_backward(float* dinp, const float* dout, const PoolParams& p);
}  // namespace ref

}  // namespace strata
