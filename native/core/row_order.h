// row_order.h: a Dense weight whose rows the engine keeps in another order than the graph's.
//
// Keras flattens NHWC activations, so the ONNX translation puts a Transpose (NCHW -> NHWC)
// and a Flatten before the first Dense, and that Dense's kernel rows follow (h, w, c).
// Session::fold_flattens drops both nodes and lets the Gemm read the activation in its own
// memory order (NCHW, or oneDNN's blocked nChw<b>c); the kernel's rows are reordered to match
// once, and converted back wherever a weight leaves or enters the session.
#pragma once
#include <cstdint>
#include <vector>

namespace strata {

// For each row of a flattened (C, H, W) activation held in memory as NCHW (block 0) or as
// nChw<block>c, the row of the same feature in Keras's (h, w, c) order.
std::vector<int64_t> nhwc_rows_of(int64_t C, int64_t H, int64_t W, int block);

// order[r]: the graph's row held at row r; empty: the graph's order. Rows are `row` floats.
// to_graph: out[order[r]] = in[r]; from_graph: out[r] = in[order[r]].
std::vector<float> rows_to_graph(const std::vector<int64_t>& order, const std::vector<float>& in, int64_t row);
std::vector<float> rows_from_graph(const std::vector<int64_t>& order, const std::vector<float>& in, int64_t row);

}  // namespace strata
