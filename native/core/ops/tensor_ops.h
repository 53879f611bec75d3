// tensor_ops.h: broadcasting binaries (Add, Sub, Mul, Div, Max, Min), Transpose, Concat,
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

// Max and Min route each output's grad to one operand, as TensorFlow's Maximum/Minimum grads do:
// to a where a >= b (Min: a <= b), else to b, so at a tie a gets all of it (PyTorch would split).
enum class Binary { Add, Sub, Mul, Div, Max, Min };

// ONNX Pad's modes: constant fills with a value; reflect mirrors about the edge element
// (numpy's "reflect": abc -> cba|abc|cba without repeating the edge), edge repeats it, wrap
// continues from the other side. Pads longer than the axis keep reflecting or wrapping.
enum class PadMode { Constant, Reflect, Edge, Wrap };

// The input coordinate that output coordinate c (already minus the axis's begin) reads along
// an axis of n elements; -1 for the constant mode's padding. Written once for the host and the
// CUDA kernels (layout.cuh).
#if defined(__CUDACC__)
#define STRATA_HD __host__ __device__
#else
#define STRATA_HD
#endif
inline STRATA_HD int64_t pad_source_coord(int64_t c, int64_t n, PadMode mode) {
  if (c >= 0 && c < n) return c;
  switch (mode) {
    case PadMode::Constant: return -1;
    case PadMode::Edge: return c < 0 ? 0 : n - 1;
    case PadMode::Wrap: return ((c % n) + n) % n;
    case PadMode::Reflect: {
      if (n == 1) return 0;
      int64_t period = 2 * (n - 1), r = ((c % period) + period) % period;
      return r < n ? r : period - r;
    }
  }
  return -1;
}

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

// Padding (ONNX Pad; Keras's ZeroPadding): out (out_shape) holds inp (in_shape) from `begin` on
// along each axis, and elsewhere `value` (constant mode) or the input element the mode maps
// there. A negative begin (or an out_shape smaller than in_shape + begin) crops instead. The
// backward sums each output element's grad into the input element it read (0 where the input
// was cropped away).
void pad_forward(float* out, const float* inp, const Shape& in_shape, const Shape& out_shape,
                 const std::vector<int64_t>& begin, PadMode mode, float value);
void pad_backward(float* dinp, const float* dout, const Shape& in_shape, const Shape& out_shape,
                  const std::vector<int64_t>& begin, PadMode mode);

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
