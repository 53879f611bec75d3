// tensor_ops.h: broadcasting binaries (Add, Sub, Mul, Div), Transpose, Concat,
// Gather along axis 0 (the Embedding lookup; other axes loop over leading slices),
// ReduceMean and Dropout.
// Gradient contract: activation grads = (da, db, dinp...); parameter grads +=
// (Gather's dtable, so rows used several times accumulate).
// Shapes follow numpy broadcasting as ONNX defines it.
#pragma once
#include <cstdint>
#include <vector>

#include "../tensor.h"

namespace strata {

Shape broadcast_shape(const Shape& a, const Shape& b);
// The strides of a tensor of shape s (right-aligned) inside the broadcast shape os: one per
// axis of os, 0 along the axes s is broadcast along.
std::vector<int64_t> broadcast_strides(const Shape& s, const Shape& os);

enum class Binary { Add, Sub, Mul, Div };

namespace ref {
// out (os) = a (as) op b (bs), os = broadcast_shape(as, bs)
void binary_forward(float* out, const float* a, const float* b, const Shape& as, const Shape& bs, const Shape& os,
                    Binary op);
// da = sum over broadcast dims of dout * d(out)/da; likewise db. Either may be null.
void binary_backward(float* da, float* db, const float* dout, const float* a, const float* b, const Shape& as,
                     const Shape& bs, const Shape& os, Binary op);

// out[o] = inp[i] with out.shape[k] = shape[perm[k]]
void transpose(float* out, const float* inp, const Shape& shape, const std::vector<int64_t>& perm);

// Concat along an axis: each input is viewed as (outer, len[i] * inner).
void concat_forward(float* out, const std::vector<const float*>& inps, const std::vector<int64_t>& len,
                    int64_t outer, int64_t inner);
// dinps[i] = slice of dout (null entries skipped)
void concat_backward(const std::vector<float*>& dinps, const float* dout, const std::vector<int64_t>& len,
                     int64_t outer, int64_t inner);

// out (n_idx, D) = table (rows, D)[idx]; negative indices count from the end.
void gather_forward(float* out, const float* table, const int64_t* idx, int64_t n_idx, int64_t rows, int64_t D);
// dtable += dout rows scattered to the rows used
void gather_backward(float* dtable, const float* dout, const int64_t* idx, int64_t n_idx, int64_t rows, int64_t D);

// out = mean of inp over the axes where out_keep (inp's rank, reduced axes 1) is 1
void reduce_mean_forward(float* out, const float* inp, const Shape& in_shape, const Shape& out_keep);
void reduce_mean_backward(float* dinp, const float* dout, const Shape& in_shape, const Shape& out_keep);

// Training-mode dropout: mask[i] = 0 with probability ratio, else 1/(1-ratio); out = inp*mask.
void dropout_forward(float* out, float* mask, const float* inp, int64_t n, float ratio, uint64_t seed);
void dropout_backward(float* dinp, const float* dout, const float* mask, int64_t n);
}  // namespace ref

}  // namespace strata
