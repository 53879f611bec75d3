// recurrent_cpu.h: the CPU backend's LSTM, GRU and RNN (core/ops/recurrent.h's contract and
// state layout, recurrent_layout.h), forward and backward through time.
//
// The same math as the reference, arranged for speed: each step's elementwise cell work (the
// biases, the gates' activations, the state update, the copy into Y; backward: every gate's
// grad) runs row by row of the batch, each row in one pass over its contiguous gates, with
// vectorized Sigmoid and Tanh (fast_act.h), split over the threads when the step is big enough
// to pay for them. The weight grads of the recurrent products (dR, dRb) are one matrix product
// over all steps after the loop instead of one per step; only H_prev's grad stays per step.
#pragma once
#include "../core/ops/recurrent.h"

namespace strata {
namespace cpu {

void recurrent_forward(RecurrentOutputs out, float* state, const RecurrentInputs& in, const RecurrentParams& p,
                       const GemmFn& gemm);
void recurrent_backward(const RecurrentGrads& g, const float* dy, const float* dy_h, const float* dy_c,
                        const float* state, const RecurrentInputs& in, const RecurrentParams& p, const GemmFn& gemm);

}  // namespace cpu
}  // namespace strata
