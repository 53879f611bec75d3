// row_order.cpp: see row_order.h.
#include "row_order.h"

#include <algorithm>

#include "check.h"

namespace strata {

std::vector<int64_t> nhwc_rows_of(int64_t C, int64_t H, int64_t W, int block) {
  STRATA_CHECK(block <= 0 || C % block == 0, C << " channels are not whole blocks of " << block);
  std::vector<int64_t> order((size_t)(C * H * W));
  int64_t b = block > 0 ? block : 1, r = 0;
  // memory order: channel block, h, w, channel within the block (NCHW when b == 1)
  for (int64_t cb = 0; cb < C / b; cb++)
    for (int64_t h = 0; h < H; h++)
      for (int64_t w = 0; w < W; w++)
        for (int64_t ci = 0; ci < b; ci++) order[(size_t)r++] = (h * W + w) * C + cb * b + ci;
  return order;
}

namespace {
std::vector<float> reorder(const std::vector<int64_t>& order, const std::vector<float>& in, int64_t row, bool to_graph) {
  if (order.empty() || in.empty()) return in;
  STRATA_CHECK((int64_t)in.size() == (int64_t)order.size() * row, "a reordered weight of " << order.size() << " rows of "
                                                                                              << row << " given " << in.size() << " values");
  std::vector<float> out(in.size());
  for (size_t r = 0; r < order.size(); r++) {
    int64_t engine = (int64_t)r * row, graph = order[r] * row;
    std::copy_n(in.begin() + (to_graph ? engine : graph), row, out.begin() + (to_graph ? graph : engine));
  }
  return out;
}
}  // namespace

std::vector<float> rows_to_graph(const std::vector<int64_t>& order, const std::vector<float>& in, int64_t row) {
  return reorder(order, in, row, true);
}
std::vector<float> rows_from_graph(const std::vector<int64_t>& order, const std::vector<float>& in, int64_t row) {
  return reorder(order, in, row, false);
}

}  // namespace strata
