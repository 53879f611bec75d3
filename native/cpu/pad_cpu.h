// pad_cpu.h: ONNX Pad on the CPU backend, by rows (core/ops/tensor_ops.h has the contract and
// the reference). Each output row (every axis but the last) reads one input row or none, and
// the last axis reads through a table of source columns with the run it copies whole in one
// memcpy, so no element pays the reference's division per axis (a ZeroPadding2D's pad and its
// backward took 42% of the MobileNet-style example's training step on the reference's loop).
#pragma once
#include <vector>

#include "../core/ops/tensor_ops.h"

namespace strata {
namespace cpu {

void pad_forward(float* out, const float* inp, const Shape& in_shape, const Shape& out_shape,
                 const std::vector<int64_t>& begin, PadMode mode, float value);
void pad_backward(float* dinp, const float* dout, const Shape& in_shape, const Shape& out_shape,
                  const std::vector<int64_t>& begin, PadMode mode);

}  // namespace cpu
}  // namespace strata
