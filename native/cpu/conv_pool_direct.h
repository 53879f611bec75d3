// A direct kernel for Conv (+ Relu) + 2x2 max pooling when the convolution has few input
// channels (a CNN's first layer: 1 for grayscale, 3 for RGB), where oneDNN 2.6 has no fast
// kernel: the seed CNN's conv1 took a third of a 28x28 training step for 6% of its FLOPs.
//
// Each pooled output computes its four convolution outputs for a block of output channels at once
// (the weights of the whole window stay in vector registers), keeps their maximum and which
// of the four it was (one byte per output, the only state the backward needs), and never
// writes the convolution's output. The backward routes each pooled grad to its argmax and
// accumulates the weight and bias grads from the input window there.
//
// The shapes it takes (conv_pool_direct_fits): input plain NCHW with C * KH * KW <= 27,
// stride 1, no dilation or padding; OC a multiple of the channel block and the output
// blocked; pooling 2x2, stride 2, no padding. Other shapes go to oneDNN. `block` is the
// backend's channel block (Backend::channel_block): 16 (nChw16c) needs AVX-512, 8 (nChw8c)
// AVX2 and FMA, checked at run time; the *_fits functions are false without them.
#pragma once

#include <cstdint>

#include "../core/ops/conv.h"
#include "../core/ops/pool.h"

namespace strata {

bool conv_pool_direct_fits(const ConvParams& c, const PoolParams& p, int block);
// The pooling alone for any such Conv + MaxPool whose output is blocked (the convolution by
// oneDNN): oneDNN 2.6's pooling took 0.11 ms each way on the 28x28 seed CNN's 1 MB second
// convolution output at batch 32, a tenth of the step.
bool maxpool2x2_blocked_fits(const ConvParams& c, const PoolParams& p, int block);
// Bytes of state a training forward keeps for either: one argmax byte per pooled output.
int64_t argmax_bytes(const PoolParams& p);
// out (blocked) = maxpool(relu?(conv(inp) + bias)); argmax: null for inference.
void conv_pool_direct_forward(float* out, uint8_t* argmax, const float* inp, const float* weight, const float* bias,
                              const ConvParams& c, const PoolParams& p, int block);
// dout: the pooled grad (blocked); with c.relu, out (the forward's) gives the Relu's backward
// (dout where out > 0). dweight, dbias +=. The grad of the input is not computed here (see
// DnnlBackend::conv_maxpool_backward).
void conv_pool_direct_backward_weights(float* dweight, float* dbias, const float* dout, const float* out,
                                       const uint8_t* argmax, const float* inp, const ConvParams& c,
                                       const PoolParams& p, int block);
// out (blocked) = maxpool(mid), mid the convolution's blocked output (c.OH x c.OW); argmax:
// null for inference.
void maxpool2x2_blocked_forward(float* out, uint8_t* argmax, const float* mid, const ConvParams& c,
                                const PoolParams& p, int block);
// The convolution's output grad (blocked, c.OH x c.OW) from dout and argmax: each pooled
// grad at its argmax, zeros elsewhere; with c.relu, out (the pooled output) masks it as above.
void maxpool2x2_blocked_unpool(float* dmid, const float* dout, const float* out, const uint8_t* argmax,
                               const ConvParams& c, const PoolParams& p, int block);

}  // namespace strata
