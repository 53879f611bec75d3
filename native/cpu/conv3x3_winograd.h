// Winograd convolution, forward and backward, on the CPU backend's blocked layouts. With AVX2
// oneDNN 2.6 has no Winograd kernel: its direct AVX2 convolution runs the seed CNN's second
// convolution at ~110 GFLOP/s (OpenBLAS's sgemm peaks at ~145 on the 2-core AMD EPYC Zen 3).
// With AVX-512 it has one, but ours is faster up to 128 -> 128 channels (AMD Zen 5, the seed
// CNN's second convolution at batch 128: forward 1.08 against 1.46 ms at 28x28, 7.4 against
// 11.8 at 64x64); winograd_wins says where the backend uses it.
//
// F(4x4, 3x3) (Lavin & Gray, "Fast Algorithms for Convolutional Neural Networks", 2015):
// each 4x4 output tile is Aᵀ [(G g Gᵀ) ⊙ (Bᵀ d B)] A of its 6x6 input patch d, 4x fewer
// multiplications than the direct sum. Per tile and channel the input transform gives 36
// values, and the channel sum is 36 matrix products, [tiles x C] x [C x OC]. Tiles are
// processed in chunks per thread, so the transformed inputs and products stay in the core's
// cache. The input's grad is the same convolution of the output's grad with the kernel
// flipped and transposed (with F(2x2, 3x3) below 20x20); the weights' grad is
// Gᵀ [Σ_tiles V ⊙ (A dY Aᵀ)] G. Results differ from the direct sum by rounding only, which
// grows with the channels summed (1.1e-4 with 64 channels in; the tests allow 2e-4).
//
// The shapes it takes: 3x3, stride 1, no dilation, pads of 0-2, 16+
// channels in and out in multiples of the block, input and output blocked: nChw16c (block
// 16) needs AVX-512, nChw8c (block 8) AVX2 and FMA, checked at run time.
#pragma once

#include <vector>

#include "../core/ops/conv.h"

namespace strata {

enum class WinogradPass { Forward, InputGrad, WeightGrad };
// Whether ours takes this shape and, for this pass, was faster than oneDNN's kernel.
bool winograd_wins(const ConvParams& p, int block, WinogradPass pass);
// out = relu?(conv(inp, weight) + bias), bias may be null. scratch: grown to what it needs.
void winograd_forward(float* out, const float* inp, const float* weight, const float* bias, const ConvParams& p,
                      int block, std::vector<float>& scratch);
// dinp = the input's grad (overwritten).
void winograd_backward_data(float* dinp, const float* dout, const float* weight, const ConvParams& p, int block,
                            std::vector<float>& scratch);
// dweight += , dbias += (either may be null). Partial sums per thread, added in thread order,
// while they take at most partials_bytes in all (36 x C x OC floats a thread: 600 MB for a
// 512 -> 512 layer on 16 threads), else the threads share one sum, in rounds of one chunk of
// tiles each. Either way the same bits for the same thread count.
void winograd_backward_weights(float* dweight, float* dbias, const float* dout, const float* inp, const ConvParams& p,
                               int block, std::vector<float>& scratch, int64_t partials_bytes);

}  // namespace strata
