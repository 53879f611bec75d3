// tensor_ops.cpp: reference layout, broadcast, gather, reduce and dropout ops.
#include "tensor_ops.h"

#include <cstring>

#include "../check.h"
#include "../rng.h"

namespace strata {

Shape broadcast_shape(const Shape& a, const Shape& b) {
  size_t r = a.size() > b.size() ? a.size() : b.size();
  Shape o(r);
  for (size_t k = 0; k < r; k++) {
    int64_t da = k < r - a.size() ? 1 : a[k - (r - a.size())];
    int64_t db = k < r - b.size() ? 1 : b[k - (r - b.size())];
    STRATA_CHECK(da == db || da == 1 || db == 1,
                 "shapes " << shape_str(a) << " and " << shape_str(b) << " do not broadcast");
    o[k] = da == 1 ? db : da;
  }
  return o;
}

std::vector<int64_t> broadcast_strides(const Shape& as, const Shape& os) {
  std::vector<int64_t> st(os.size(), 0);
  int64_t s = 1;
  for (int k = (int)as.size() - 1; k >= 0; k--) {
    size_t ok = k + os.size() - as.size();
    st[ok] = as[k] == 1 ? 0 : s;
    s *= as[k];
  }
  return st;
}

namespace ref {

// Calls f(o, ia, ib) for each output offset o with the matching offsets of a and b.
template <class F>
static void for_each_broadcast(const Shape& as, const Shape& bs, const Shape& os, F f) {
  std::vector<int64_t> sa = broadcast_strides(as, os), sb = broadcast_strides(bs, os), idx(os.size(), 0);
  int64_t n = numel(os), ia = 0, ib = 0;
  for (int64_t o = 0; o < n; o++) {
    f(o, ia, ib);
    for (int k = (int)os.size() - 1; k >= 0; k--) {  // odometer increment
      ia += sa[k];
      ib += sb[k];
      if (++idx[k] < os[k]) break;
      ia -= sa[k] * os[k];
      ib -= sb[k] * os[k];
      idx[k] = 0;
    }
  }
}

void binary_forward(float* out, const float* a, const float* b, const Shape& as, const Shape& bs, const Shape& os,
                    Binary op) {
  for_each_broadcast(as, bs, os, [&](int64_t o, int64_t i, int64_t j) {
    switch (op) {
      case Binary::Add: out[o] = a[i] + b[j]; break;
      case Binary::Sub: out[o] = a[i] - b[j]; break;
      case Binary::Mul: out[o] = a[i] * b[j]; break;
      case Binary::Div: out[o] = a[i] / b[j]; break;
      case Binary::Max: out[o] = a[i] >= b[j] ? a[i] : b[j]; break;
      case Binary::Min: out[o] = a[i] <= b[j] ? a[i] : b[j]; break;
    }
  });
}

void binary_backward(float* da, float* db, const float* dout, const float* a, const float* b, const Shape& as,
                     const Shape& bs, const Shape& os, Binary op) {
  if (da) std::memset(da, 0, sizeof(float) * numel(as));
  if (db) std::memset(db, 0, sizeof(float) * numel(bs));
  for_each_broadcast(as, bs, os, [&](int64_t o, int64_t i, int64_t j) {
    float d = dout[o];
    switch (op) {
      case Binary::Add: if (da) da[i] += d; if (db) db[j] += d; break;
      case Binary::Sub: if (da) da[i] += d; if (db) db[j] -= d; break;
      case Binary::Mul: if (da) da[i] += d * b[j]; if (db) db[j] += d * a[i]; break;
      case Binary::Div: if (da) da[i] += d / b[j]; if (db) db[j] -= d * a[i] / (b[j] * b[j]); break;
      case Binary::Max: if (a[i] >= b[j]) { if (da) da[i] += d; } else if (db) db[j] += d; break;
      case Binary::Min: if (a[i] <= b[j]) { if (da) da[i] += d; } else if (db) db[j] += d; break;
    }
  });
}

// The input offset of output element o (-1 where o lies in the constant mode's padding): o's
// coordinates minus begin, mapped into the input's shape by the mode.
static int64_t padded_source(int64_t o, const Shape& in_shape, const Shape& out_shape, const std::vector<int64_t>& begin,
                             PadMode mode) {
  int64_t i = 0, stride = 1;
  for (int k = (int)out_shape.size() - 1; k >= 0; k--) {
    int64_t c = pad_source_coord(o % out_shape[k] - begin[k], in_shape[k], mode);
    o /= out_shape[k];
    if (c < 0) return -1;
    i += c * stride;
    stride *= in_shape[k];
  }
  return i;
}

void pad_forward(float* out, const float* inp, const Shape& in_shape, const Shape& out_shape,
                 const std::vector<int64_t>& begin, PadMode mode, float value) {
  int64_t n = numel(out_shape);
  for (int64_t o = 0; o < n; o++) {
    int64_t i = padded_source(o, in_shape, out_shape, begin, mode);
    out[o] = i >= 0 ? inp[i] : value;
  }
}

void pad_backward(float* dinp, const float* dout, const Shape& in_shape, const Shape& out_shape,
                  const std::vector<int64_t>& begin, PadMode mode) {
  std::memset(dinp, 0, sizeof(float) * numel(in_shape));
  int64_t n = numel(out_shape);
  for (int64_t o = 0; o < n; o++) {
    int64_t i = padded_source(o, in_shape, out_shape, begin, mode);
    if (i >= 0) dinp[i] += dout[o];
  }
}

void transpose(float* out, const float* inp, const Shape& shape, const std::vector<int64_t>& perm) {
  size_t r = shape.size();
  if (r == 0) {  // a scalar
    out[0] = inp[0];
    return;
  }
  std::vector<int64_t> in_st(r), os(r), st(r);  // st: input stride of each output axis
  int64_t s = 1;
  for (int k = (int)r - 1; k >= 0; k--) { in_st[k] = s; s *= shape[k]; }
  for (size_t k = 0; k < r; k++) { os[k] = shape[perm[k]]; st[k] = in_st[perm[k]]; }
  // walk the output in order, tracking the input offset
  std::vector<int64_t> idx(r, 0);
  int64_t n = numel(shape), i = 0;
  for (int64_t o = 0; o < n; o++) {
    out[o] = inp[i];
    for (int k = (int)r - 1; k >= 0; k--) {
      i += st[k];
      if (++idx[k] < os[k]) break;
      i -= st[k] * os[k];
      idx[k] = 0;
    }
  }
}

void concat_forward(float* out, const std::vector<const float*>& inps, const std::vector<int64_t>& len,
                    int64_t outer, int64_t inner) {
  int64_t total = 0;
  for (int64_t l : len) total += l;
  for (int64_t o = 0; o < outer; o++) {
    int64_t off = 0;
    for (size_t t = 0; t < inps.size(); t++) {
      // an empty input may have no memory at all, and memcpy's pointers must not be null even for 0 bytes
      if (len[t] * inner > 0)
        std::memcpy(out + (o * total + off) * inner, inps[t] + o * len[t] * inner, sizeof(float) * len[t] * inner);
      off += len[t];
    }
  }
}

void concat_backward(const std::vector<float*>& dinps, const float* dout, const std::vector<int64_t>& len,
                     int64_t outer, int64_t inner) {
  int64_t total = 0;
  for (int64_t l : len) total += l;
  for (int64_t o = 0; o < outer; o++) {
    int64_t off = 0;
    for (size_t t = 0; t < dinps.size(); t++) {
      if (dinps[t] && len[t] * inner > 0)
        std::memcpy(dinps[t] + o * len[t] * inner, dout + (o * total + off) * inner, sizeof(float) * len[t] * inner);
      off += len[t];
    }
  }
}

static int64_t row_of(int64_t v, int64_t rows) {
  int64_t r = v < 0 ? v + rows : v;
  STRATA_CHECK(r >= 0 && r < rows, "Gather index " << v << " is out of range for " << rows << " rows");
  return r;
}

void gather_forward(float* out, const float* table, const int64_t* idx, int64_t n_idx, int64_t rows, int64_t D) {
  for (int64_t t = 0; t < n_idx; t++) std::memcpy(out + t * D, table + row_of(idx[t], rows) * D, sizeof(float) * D);
}

void gather_backward(float* dtable, const float* dout, const int64_t* idx, int64_t n_idx, int64_t rows, int64_t D) {
  for (int64_t t = 0; t < n_idx; t++) {
    float* row = dtable + row_of(idx[t], rows) * D;
    for (int64_t d = 0; d < D; d++) row[d] += dout[t * D + d];
  }
}

void reduce_mean_forward(float* out, const float* inp, const Shape& in_shape, const Shape& out_keep) {
  const int64_t n_out = numel(out_keep);
  if (n_out == 0) return;  // an empty result (out may then be null)
  const int64_t count = numel(in_shape) / n_out;
  std::memset(out, 0, sizeof(float) * n_out);
  // out_keep broadcasts against in_shape: the same walk as a binary op
  for_each_broadcast(in_shape, out_keep, in_shape, [&](int64_t, int64_t i, int64_t j) { out[j] += inp[i]; });
  for (int64_t j = 0; j < n_out; j++) out[j] /= count;
}

void reduce_mean_backward(float* dinp, const float* dout, const Shape& in_shape, const Shape& out_keep) {
  float inv = (float)numel(out_keep) / numel(in_shape);
  for_each_broadcast(in_shape, out_keep, in_shape, [&](int64_t, int64_t i, int64_t j) { dinp[i] = dout[j] * inv; });
}

void dropout_forward(float* out, float* mask, const float* inp, int64_t n, float ratio, uint64_t seed) {
  Rng rng(seed);
  float scale = ratio < 1 ? 1.0f / (1.0f - ratio) : 0.0f;
  for (int64_t i = 0; i < n; i++) {
    mask[i] = rng.uniform() < ratio ? 0.0f : scale;
    out[i] = inp[i] * mask[i];
  }
}

void dropout_backward(float* dinp, const float* dout, const float* mask, int64_t n) {
  for (int64_t i = 0; i < n; i++) dinp[i] = dout[i] * mask[i];
}

}  // namespace ref
}  // namespace strata
