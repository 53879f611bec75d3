// layout.cuh: Transpose, Pad, Concat, Gather and ReduceMean (tensor_ops.h). Gradient contract:
// activation grads = (Transpose, Pad, Concat, ReduceMean); Gather's table grad +=.
#pragma once
#include "../../core/ops/tensor_ops.h"
#include "common.cuh"

STRATA_GPU_NAMESPACE_BEGIN

// out[o] = inp[offset of o's coordinates under the permutation]: out_dims are the output's
// dimensions, in_strides the input stride of each output axis.
struct Permutation {
  int rank;
  int64_t out_dims[kMaxRank], in_strides[kMaxRank];
};

__global__ void transpose(float* out, const float* inp, Permutation p, int64_t n) {
  STRATA_GRID_LOOP(o, n) {
    int64_t rest = o, i = 0;
    for (int k = p.rank - 1; k >= 0; k--) i += (rest % p.out_dims[k]) * p.in_strides[k], rest /= p.out_dims[k];
    out[o] = inp[i];
  }
}

// Padding: the output and input shapes, where the input starts in the output, and the mode
// (pad_source_coord, tensor_ops.h, maps an output coordinate to the input's).
struct PadGeom {
  int rank;
  PadMode mode;
  int64_t out_dims[kMaxRank], in_dims[kMaxRank], begin[kMaxRank];
  // the input offset of output element o, -1 in the constant mode's padding
  __device__ __forceinline__ int64_t source(int64_t o) const {
    int64_t i = 0, stride = 1;
    for (int k = rank - 1; k >= 0; k--) {
      int64_t c = pad_source_coord(o % out_dims[k] - begin[k], in_dims[k], mode);
      o /= out_dims[k];
      if (c < 0) return -1;
      i += c * stride, stride *= in_dims[k];
    }
    return i;
  }
  // The output coordinates along axis k that read input coordinate i: at most two arithmetic
  // progressions first[p] + j * step[p], j < count[p] (reflect: the two mirror images; edge: the
  // run of copies of an end element; wrap: one progression of period n).
  __device__ __forceinline__ void preimage(int k, int64_t i, int64_t first[2], int64_t step[2], int64_t count[2]) const {
    const int64_t n = in_dims[k], O = out_dims[k], b = begin[k];
    auto progression = [&](int p, int64_t f, int64_t s, int64_t end) {  // f, f + s, ... below end (<= O)
      if (f < 0) f += ((-f + s - 1) / s) * s;
      first[p] = f, step[p] = s, count[p] = f < end ? (end - 1 - f) / s + 1 : 0;
    };
    auto mod = [](int64_t a, int64_t m) { return ((a % m) + m) % m; };
    count[1] = 0, first[1] = 0, step[1] = 1;
    if (mode == PadMode::Constant || (mode == PadMode::Edge && i > 0 && i < n - 1)) {
      progression(0, b + i, 1, b + i >= 0 ? (b + i + 1 < O ? b + i + 1 : O) : 0);
    } else if (mode == PadMode::Edge || n == 1) {  // an end element: every coordinate at or beyond it
      bool low = i == 0, high = i == n - 1;
      int64_t lo = low ? 0 : b + i, hi = high ? O : b + i + 1;
      progression(0, lo < 0 ? 0 : lo, 1, hi < O ? hi : O);
    } else if (mode == PadMode::Wrap) {
      progression(0, mod(b + i, n), n, O);
    } else {  // reflect, n > 1: period 2(n - 1), images b + i and b - i (one when i is an end)
      int64_t period = 2 * (n - 1);
      progression(0, mod(b + i, period), period, O);
      if (i > 0 && i < n - 1) progression(1, mod(b - i, period), period, O);
    }
  }
};

__global__ void pad_forward(float* out, const float* inp, PadGeom g, int64_t n, float value) {
  STRATA_GRID_LOOP(o, n) {
    int64_t i = g.source(o);
    out[o] = i >= 0 ? inp[i] : value;
  }
}

// dinp[i] = the sum of dout over the output elements that read input element i: each thread
// gathers its element's images (the product of each axis's preimage), so no two threads write
// one element and no atomics are needed.
__global__ void pad_backward(float* dinp, const float* dout, PadGeom g, int64_t n) {
  STRATA_GRID_LOOP(i, n) {
    int64_t coord[kMaxRank], first[kMaxRank][2], step[kMaxRank][2], count[kMaxRank][2], total = 1;
    for (int64_t k = g.rank - 1, rest = i; k >= 0; k--) coord[k] = rest % g.in_dims[k], rest /= g.in_dims[k];
    for (int k = 0; k < g.rank; k++) {
      g.preimage(k, coord[k], first[k], step[k], count[k]);
      total *= count[k][0] + count[k][1];
    }
    float sum = 0.0f;
    for (int64_t t = 0; t < total; t++) {  // t in mixed radix: one image per axis
      int64_t o = 0, rest = t;
      for (int k = g.rank - 1; k >= 0; k--) {
        int64_t per = count[k][0] + count[k][1], j = rest % per;
        rest /= per;
        coord[k] = j < count[k][0] ? first[k][0] + j * step[k][0] : first[k][1] + (j - count[k][0]) * step[k][1];
      }
      for (int k = 0; k < g.rank; k++) o = o * g.out_dims[k] + coord[k];
      sum += dout[o];
    }
    dinp[i] = sum;
  }
}

// One Concat input, viewed as (outer, len * inner), into its columns of the output (outer,
// total * inner) from column `offset` on; to_output false copies the other way (the grad).
__global__ void concat_copy(float* out, float* part, int64_t outer, int64_t part_cols, int64_t total_cols,
                            int64_t offset, bool to_output) {
  STRATA_GRID_LOOP(i, outer * part_cols) {
    int64_t o = i / part_cols, c = i % part_cols;
    float* whole = out + o * total_cols + offset + c;
    if (to_output) *whole = part[i];
    else part[i] = *whole;
  }
}

// out (n_idx, D) = table (rows, D)[idx]; negative indices count from the end. An index out of
// range is recorded (the host raises it) and its row left 0.
__global__ void gather_forward(float* out, const float* table, const int64_t* idx, int64_t n_idx, int64_t rows,
                               int64_t D, FaultRecord* fault) {
  STRATA_GRID_LOOP(i, n_idx * D) {
    int64_t t = i / D, d = i % D, v = idx[t], r = v < 0 ? v + rows : v;
    if (r < 0 || r >= rows) {
      if (d == 0) record_fault(fault, kGatherIndex, (double)v, rows);
      out[i] = 0.0f;
      continue;
    }
    out[i] = table[r * D + d];
  }
}

// dtable[row(idx[t])] += dout[t]: a thread per column d walks the indices in order, so
// repeated rows add up in one fixed order without atomics. Indices were checked forward.
__global__ void gather_backward(float* dtable, const float* dout, const int64_t* idx, int64_t n_idx, int64_t rows,
                                int64_t D) {
  STRATA_GRID_LOOP(d, D) {
    for (int64_t t = 0; t < n_idx; t++) {
      int64_t v = idx[t], r = v < 0 ? v + rows : v;
      if (r >= 0 && r < rows) dtable[r * D + d] += dout[t * D + d];
    }
  }
}

// out[j] = mean over the reduced axes: one block per output element when there are many
// terms, one thread when few (as binary_backward_reduce).
__global__ void reduce_mean_forward(float* out, const float* inp, ReduceMap map, int64_t n_out, bool per_block) {
  const float count = (float)map.red_count;
  if (per_block) {
    for (int64_t j = blockIdx.x; j < n_out; j += gridDim.x) {
      const int64_t base = map.base(j);
      float s = 0.0f;
      for (int64_t t = threadIdx.x; t < map.red_count; t += blockDim.x) s += inp[base + map.red(t)];
      s = block_sum(s);
      if (threadIdx.x == 0) out[j] = s / count;
    }
    return;
  }
  STRATA_GRID_LOOP(j, n_out) {
    const int64_t base = map.base(j);
    float s = 0.0f;
    for (int64_t t = 0; t < map.red_count; t++) s += inp[base + map.red(t)];
    out[j] = s / count;
  }
}

// dinp[i] = dout[the output element i was averaged into] * inv
__global__ void reduce_mean_backward(float* dinp, const float* dout, Broadcast bc, int64_t n, float inv) {
  STRATA_GRID_LOOP(i, n) {
    int64_t ii, io;
    bc.offsets(i, ii, io);
    dinp[i] = dout[io] * inv;
  }
}

STRATA_GPU_NAMESPACE_END
