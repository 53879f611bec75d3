// layout.cuh: Transpose, Concat, Gather and ReduceMean (tensor_ops.h). Gradient contract:
// activation grads = (Transpose, Concat, ReduceMean); Gather's table grad +=.
#pragma once
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
