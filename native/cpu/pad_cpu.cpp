// pad_cpu.cpp: see pad_cpu.h.
#include "pad_cpu.h"

#include <algorithm>
#include <cstring>

namespace strata {
namespace cpu {

namespace {

// Where each output row and column reads: per axis, the source coordinate of each output
// coordinate (-1 in the constant mode's padding), and the input's strides.
struct PadMap {
  std::vector<std::vector<int64_t>> source;
  std::vector<int64_t> in_stride;
  int64_t rows = 1, width = 1, in_width = 1;
  int64_t copy_from = 0, copy_to = 0;  // the columns that read the input's in order (memcpy)
  int64_t begin_last = 0;

  PadMap(const Shape& in_shape, const Shape& out_shape, const std::vector<int64_t>& begin, PadMode mode) {
    const size_t r = out_shape.size();
    source.resize(r);
    in_stride.assign(r, 1);
    for (size_t k = r; k-- > 1;) in_stride[k - 1] = in_stride[k] * in_shape[k];
    for (size_t k = 0; k < r; k++) {
      source[k].resize((size_t)out_shape[k]);
      for (int64_t o = 0; o < out_shape[k]; o++) source[k][o] = pad_source_coord(o - begin[k], in_shape[k], mode);
      if (k + 1 < r) rows *= out_shape[k];
    }
    width = out_shape[r - 1], in_width = in_shape[r - 1], begin_last = begin[r - 1];
    copy_from = std::clamp<int64_t>(begin_last, 0, width);
    copy_to = std::clamp<int64_t>(begin_last + in_width, copy_from, width);
  }

  // The input offset of output row `row`'s first column, -1 where the row is padding.
  int64_t row_source(int64_t row) const {
    int64_t at = 0;
    for (size_t k = source.size() - 1; k-- > 0;) {
      const int64_t n = (int64_t)source[k].size(), c = source[k][row % n];
      row /= n;
      if (c < 0) return -1;
      at += c * in_stride[k];
    }
    return at;
  }
};

// Rows in parallel from 32768 output values on; the threads then write disjoint rows.
bool parallel(const PadMap& m) { return m.rows > 1 && m.rows * m.width >= 32768; }

}  // namespace

void pad_forward(float* out, const float* inp, const Shape& in_shape, const Shape& out_shape,
                 const std::vector<int64_t>& begin, PadMode mode, float value) {
  if (out_shape.empty() || numel(out_shape) == 0) return ref::pad_forward(out, inp, in_shape, out_shape, begin, mode, value);
  const PadMap m(in_shape, out_shape, begin, mode);
  const std::vector<int64_t>& cols = m.source.back();
#pragma omp parallel for schedule(static) if (parallel(m))
  for (int64_t row = 0; row < m.rows; row++) {
    float* o = out + row * m.width;
    const int64_t src = m.row_source(row);
    if (src < 0) {
      std::fill(o, o + m.width, value);
      continue;
    }
    const float* in = inp + src;
    for (int64_t x = 0; x < m.copy_from; x++) o[x] = cols[x] >= 0 ? in[cols[x]] : value;
    if (m.copy_to > m.copy_from)
      std::memcpy(o + m.copy_from, in + (m.copy_from - m.begin_last), sizeof(float) * (m.copy_to - m.copy_from));
    for (int64_t x = m.copy_to; x < m.width; x++) o[x] = cols[x] >= 0 ? in[cols[x]] : value;
  }
}

void pad_backward(float* dinp, const float* dout, const Shape& in_shape, const Shape& out_shape,
                  const std::vector<int64_t>& begin, PadMode mode) {
  if (out_shape.empty() || numel(out_shape) == 0) return ref::pad_backward(dinp, dout, in_shape, out_shape, begin, mode);
  std::memset(dinp, 0, sizeof(float) * numel(in_shape));
  const PadMap m(in_shape, out_shape, begin, mode);
  const std::vector<int64_t>& cols = m.source.back();
  // constant mode: each input element is read at most once, so rows in parallel write apart;
  // the other modes read edge rows several times (sums in order, one thread)
#pragma omp parallel for schedule(static) if (mode == PadMode::Constant && parallel(m))
  for (int64_t row = 0; row < m.rows; row++) {
    const int64_t src = m.row_source(row);
    if (src < 0) continue;
    const float* d = dout + row * m.width;
    float* in = dinp + src;
    for (int64_t x = 0; x < m.copy_from; x++)
      if (cols[x] >= 0) in[cols[x]] += d[x];
    for (int64_t x = m.copy_from; x < m.copy_to; x++) in[x - m.begin_last] += d[x];
    for (int64_t x = m.copy_to; x < m.width; x++)
      if (cols[x] >= 0) in[cols[x]] += d[x];
  }
}

}  // namespace cpu
}  // namespace strata
