// session_fusions.cpp: the graph rewrites a Session makes once, at construction: which
// nodes run fused with another (a Relu inside its Conv, a MaxPool with its Conv) and which
// never run (a Transpose and Flatten folded into the Gemm that reads them).
#include <set>

#include "check.h"
#include "session.h"

namespace strata {

// The helpers of the fusions below: names the caller can see (graph outputs, loss inputs),
// which are never fused away; each value's readers as (step, input slot); and the steps
// left once the fused ones are dropped.
std::set<std::string> Session::visible_names() const {
  std::set<std::string> visible;
  for (auto& v : graph_.outputs) visible.insert(v.name);
  for (auto& l : desc_.losses) visible.insert(l.output);
  return visible;
}
std::map<int, std::vector<std::pair<size_t, size_t>>> Session::value_readers() const {
  std::map<int, std::vector<std::pair<size_t, size_t>>> readers;
  for (size_t k = 0; k < steps_.size(); k++)
    for (size_t i = 0; i < steps_[k].in.size(); i++)
      if (steps_[k].in[i] >= 0) readers[steps_[k].in[i]].push_back({k, i});
  return readers;
}
void Session::drop_steps(const std::vector<bool>& drop) {
  std::vector<Step> kept;
  for (size_t k = 0; k < steps_.size(); k++)
    if (!drop[k]) kept.push_back(std::move(steps_[k]));
  steps_ = std::move(kept);
}

// A Relu that is the only reader of a kernel's output runs inside that kernel (oneDNN
// applies it as a post-op of the convolution): the kernel writes the Relu's output
// value and the Relu step goes away. Values the caller can see (graph outputs, loss
// inputs) are never fused away.
void Session::fuse_relus() {
  std::set<std::string> visible = visible_names();
  auto readers = value_readers();
  std::vector<bool> drop(steps_.size(), false);
  for (size_t k = 0; k < steps_.size(); k++) {
    int o = steps_[k].out[0];
    auto it = readers.find(o);
    if (it == readers.end() || it->second.size() != 1 || visible.count(values_[o].name)) continue;
    Step& relu = steps_[it->second[0].first];
    if (relu.kernel->node.op_type != "Relu" || relu.in.size() != 1 || relu.out.size() != 1) continue;
    if (!steps_[k].kernel->fuse_relu()) continue;
    steps_[k].out[0] = relu.out[0];
    steps_[k].relu_fused = true;
    drop[it->second[0].first] = true;
  }
  drop_steps(drop);
  // a fused Relu read only by a max pooling: the pooling applies its backward (kernel.h)
  readers = value_readers();
  for (auto& s : steps_) {
    auto it = readers.find(s.out[0]);
    if (!s.relu_fused || it == readers.end() || it->second.size() != 1) continue;
    Step& r = steps_[it->second[0].first];
    if (r.in[0] == s.out[0] && r.kernel->absorb_input_relu()) s.kernel->skip_relu_backward();
  }
}

// A Conv (+ Relu) whose output only a MaxPool reads, and the caller cannot see, runs with
// that pooling as one step (kernels_nn.cpp, ConvMaxPoolKernel): the convolution's output,
// a CNN's largest activation, is then never stored whole, and the CPU backend computes
// the pair in slices of the batch that stay in the cache (backend.h, conv_maxpool_*).
void Session::fuse_conv_pools() {
  std::set<std::string> visible = visible_names();
  auto readers = value_readers();
  std::vector<bool> drop(steps_.size(), false);
  for (size_t k = 0; k < steps_.size(); k++) {
    if (drop[k]) continue;  // a pooling already fused into its convolution
    Step& conv = steps_[k];
    int o = conv.out[0];
    auto it = readers.find(o);
    if (conv.kernel->node.op_type != "Conv" || it == readers.end() || it->second.size() != 1 ||
        it->second[0].second != 0 || visible.count(values_[o].name))
      continue;
    Step& pool = steps_[it->second[0].first];
    if (pool.kernel->node.op_type != "MaxPool" || (pool.out.size() > 1 && pool.out[1] >= 0)) continue;
    std::string label = pool.kernel->node.where();
    auto fused = fuse_conv_maxpool(conv.kernel, pool.kernel);
    if (!fused) continue;
    conv.kernel = std::move(fused);
    conv.out = pool.out;
    conv.pool_fused = label;
    drop[it->second[0].first] = true;
  }
  drop_steps(drop);
}

// Keras's Flatten of a CNN's NCHW activation, exported as Transpose (to NHWC) + Flatten
// before a Dense's Gemm: when each value between them has that one reader and the caller
// cannot see it, and the Gemm's weight B (K x N, not transposed) is read by that Gemm only,
// the Gemm reads the activation flattened in its own memory order (NCHW or blocked) and
// both nodes go. B's rows are then put in that order (order_folded_rows) and converted back
// at the session's boundary (get/set_weight, get_gradient, optimizer slots). The pair was 5%
// of a 64x64x3 batch-128 step of the seed CNN, two copies of its largest Dense input.
void Session::fold_flattens() {
  std::set<std::string> visible = visible_names();
  auto readers = value_readers();
  auto only_reader = [&](int v) -> Step* {
    auto it = readers.find(v);
    if (it == readers.end() || it->second.size() != 1 || it->second[0].second != 0 || visible.count(values_[v].name))
      return nullptr;
    return &steps_[it->second[0].first];
  };
  std::vector<bool> drop(steps_.size(), false);
  for (size_t k = 0; k < steps_.size(); k++) {
    Step& t = steps_[k];
    const Node& n = t.kernel->node;
    if (n.op_type != "Transpose" || n.get_ints("perm") != std::vector<int64_t>{0, 2, 3, 1} || t.in[0] < 0) continue;
    Step* f = only_reader(t.out[0]);
    if (!f || f->kernel->node.op_type != "Flatten" || f->kernel->node.get_int("axis", 1) != 1) continue;
    Step* g = only_reader(f->out[0]);
    if (!g || g->kernel->node.op_type != "Gemm" || g->kernel->node.get_int("transB", 0) != 0 || g->in.size() < 2 ||
        g->in[1] < 0 || !values_[g->in[1]].is_weight || readers[g->in[1]].size() != 1 || !g->kernel->read_flattened())
      continue;
    g->in[0] = t.in[0];
    g->flatten_folded = n.where() + " + " + f->kernel->node.where();
    folds_.push_back({t.in[0], g->in[1]});
    drop[k] = true;
    drop[f - steps_.data()] = true;
  }
  drop_steps(drop);
}

}  // namespace strata
