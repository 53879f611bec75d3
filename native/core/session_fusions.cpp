// session_fusions.cpp: the graph rewrites a Session makes once, at construction: which
// nodes run fused with another (a Relu inside its Conv, a MaxPool with its Conv) and which
// never run (a Transpose and Flatten folded into the Gemm that reads them), and which run
// folded in inference passes only (a BatchNormalization into the Conv before it).
#include <cfloat>
#include <cmath>
#include <set>

#include "check.h"
#include "session.h"

namespace strata {

namespace {
using Readers = std::map<int, std::vector<std::pair<size_t, size_t>>>;  // Session::value_readers
// The step that alone reads `value`, as its input 0, where the caller cannot see the value; else -1.
int only_reader(const Readers& readers, int value, bool visible) {
  auto it = readers.find(value);
  if (visible || it == readers.end() || it->second.size() != 1 || it->second[0].second != 0) return -1;
  return (int)it->second[0].first;
}
}  // namespace

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

// A Clip with constant bounds (Keras's ReLU6) that is the only reader of a Conv's output runs
// inside it, as a Relu does (fuse_relus), in training too: oneDNN clamps the output as a
// post-op, and the backward masks the output grad with lo < out < hi, which holds exactly where
// the Clip's input was inside the bounds. The CPU backend only (the reference stays unfused).
void Session::fuse_clips() {
  if (desc_.backend != "cpu") return;
  std::set<std::string> visible = visible_names();
  auto readers = value_readers();
  std::vector<bool> drop(steps_.size(), false);
  for (size_t k = 0; k < steps_.size(); k++) {
    int o = steps_[k].out[0], r = only_reader(readers, o, visible.count(values_[o].name));
    if (steps_[k].kernel->node.op_type != "Conv" || r < 0) continue;
    Step& clip = steps_[r];
    float lo, hi;
    if (clip.kernel->node.op_type != "Clip" || !constant_clip_bounds(clip, lo, hi) || !steps_[k].kernel->fuse_clip(lo, hi))
      continue;
    steps_[k].out[0] = clip.out[0];
    steps_[k].clip_fused = clip.kernel->node.where();
    drop[r] = true;
  }
  drop_steps(drop);
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
  auto reader = [&](int v) -> Step* {
    int r = only_reader(readers, v, visible.count(values_[v].name));
    return r < 0 ? nullptr : &steps_[r];
  };
  std::vector<bool> drop(steps_.size(), false);
  for (size_t k = 0; k < steps_.size(); k++) {
    Step& t = steps_[k];
    const Node& n = t.kernel->node;
    if (n.op_type != "Transpose" || n.get_ints("perm") != std::vector<int64_t>{0, 2, 3, 1} || t.in[0] < 0) continue;
    Step* f = reader(t.out[0]);
    if (!f || f->kernel->node.op_type != "Flatten" || f->kernel->node.get_int("axis", 1) != 1) continue;
    Step* g = reader(f->out[0]);
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


// A Conv whose output only a BatchNormalization reads (input 0; the caller cannot see it; the
// BN in inference mode, writing no statistics outputs; every parameter an initializer) runs in
// inference passes as one convolution with w' = w * s and b' = (b - mean) * s + beta per output
// channel, s = gamma / sqrt(var + eps), writing the BN's output; the BN step is skipped.
// Training steps run both as before (batch statistics). The CPU backend only: the reference
// stays unfused, the truth the tests compare against. In MobileNet-style inference the BNs
// after every convolution were 40% of a batch-128 pass. A Clip with constant bounds (ReLU6) or a
// Relu that alone reads the BN's output comes along as the convolution's clamp (BnFold).
void Session::fold_batchnorms() {
  if (desc_.backend != "cpu") return;
  std::set<std::string> visible = visible_names();
  auto readers = value_readers();
  auto is_weight = [&](const std::vector<int>& in, size_t from, size_t to) {
    for (size_t i = from; i < to && i < in.size(); i++)
      if (in[i] >= 0 && !values_[in[i]].is_weight) return false;
    return true;
  };
  for (size_t k = 0; k < steps_.size(); k++) {
    Step& conv = steps_[k];
    int o = conv.out[0], b = only_reader(readers, o, visible.count(values_[o].name));
    if (conv.kernel->node.op_type != "Conv" || conv.relu_fused || !conv.clip_fused.empty() || !conv.pool_fused.empty() ||
        !is_weight(conv.in, 1, 3) || b < 0)
      continue;
    Step& bn = steps_[b];
    const Node& n = bn.kernel->node;
    bool statistics_out = false;
    for (size_t i = 1; i < bn.out.size(); i++) statistics_out |= bn.out[i] >= 0;
    if (n.op_type != "BatchNormalization" || n.get_int("training_mode", 0) != 0 || statistics_out ||
        !is_weight(bn.in, 1, 5))
      continue;
    BnFold f{k, (size_t)b};
    int c = only_reader(readers, bn.out[0], visible.count(values_[bn.out[0]].name));
    if (c >= 0) {
      Step& clip = steps_[c];
      const std::string& op = clip.kernel->node.op_type;
      if (op == "Relu") f.clip_lo = 0, f.clip_hi = FLT_MAX;
      if ((op == "Relu" && clip.in.size() == 1) || (op == "Clip" && constant_clip_bounds(clip, f.clip_lo, f.clip_hi))) {
        f.clip = c;
        clip.bn_fold = (int)bn_folds_.size();
      }
    }
    conv.bn_fold = bn.bn_fold = (int)bn_folds_.size();
    bn_folds_.push_back(f);
  }
}

bool Session::constant_clip_bounds(const Step& clip, float& lo, float& hi) const {
  auto bound = [&](size_t i, float open, float& into) {
    if (i >= clip.in.size() || clip.in[i] < 0) return into = open, true;
    const Value& v = values_[clip.in[i]];
    if (!v.is_weight || v.t.dtype != DType::F32 || v.t.f.size() != 1) return false;
    return into = v.t.f[0], true;
  };
  return bound(1, -FLT_MAX, lo) && bound(2, FLT_MAX, hi) && lo <= hi;
}

bool Session::runs_folded(size_t k, bool training) const {
  return !training && steps_[k].bn_fold >= 0 && bn_folds_[steps_[k].bn_fold].usable;
}

void Session::run_folded_conv(Step& conv, KernelContext& ctx) {
  BnFold& f = bn_folds_[conv.bn_fold];
  if (f.version != weights_version_) refold_batchnorm(f);
  Ins in{&values_[conv.in[0]].t, &f.weight, &f.bias};
  Outs out{&values_[steps_[f.clip >= 0 ? f.clip : f.bn].out[0]].t};
  if (f.clip >= 0) conv_forward_clamped(*conv.kernel, ctx, in, out, f.clip_lo, f.clip_hi);
  else conv.kernel->forward(ctx, in, out);
}

// On the host (the CPU backend's memory): the weights are small beside a pass's activations.
void Session::refold_batchnorm(BnFold& f) {
  const Step &conv = steps_[f.conv], &bn = steps_[f.bn];
  const Tensor& w = values_[conv.in[1]].t;
  const int64_t channels = w.shape[0], per_channel = w.size() / channels;
  std::vector<float> weight = w.values();
  std::vector<float> bias = conv.in.size() > 2 && conv.in[2] >= 0 ? values_[conv.in[2]].t.values()
                                                                   : std::vector<float>(channels, 0.0f);
  std::vector<float> gamma = values_[bn.in[1]].t.values(), beta = values_[bn.in[2]].t.values(),
                     mean = values_[bn.in[3]].t.values(), var = values_[bn.in[4]].t.values();
  const float eps = bn.kernel->node.get_float("epsilon", 1e-5f);
  for (int64_t c = 0; c < channels; c++) {
    const float s = gamma[c] / std::sqrt(var[c] + eps);
    for (int64_t j = 0; j < per_channel; j++) weight[c * per_channel + j] *= s;
    bias[c] = (bias[c] - mean[c]) * s + beta[c];
  }
  if (f.clip >= 0 && steps_[f.clip].kernel->node.op_type == "Clip")  // bounds given by set_weight too
    constant_clip_bounds(steps_[f.clip], f.clip_lo, f.clip_hi);
  f.weight = Tensor::from(w.shape, std::move(weight));
  f.bias = Tensor::from({channels}, std::move(bias));
  f.version = weights_version_;
}


// A Pad with zeros on the spatial axes only (constant mode, value 0, no crop) whose output only
// a Conv's input reads, and the caller cannot see, becomes that Conv's padding: the Conv reads
// the Pad's input with its pads widened by the Pad's, and the Pad step goes, in training too
// (the Conv's backward then gives the Pad's input its gradient). Keras's ZeroPadding2D before a
// stride-2 DepthwiseConv2D, as in MobileNet. The CPU backend only (the reference stays unfused).
void Session::fold_pads() {
  if (desc_.backend != "cpu") return;
  std::set<std::string> visible = visible_names();
  auto readers = value_readers();
  std::vector<bool> drop(steps_.size(), false);
  for (size_t k = 0; k < steps_.size(); k++) {
    Step& pad = steps_[k];
    std::vector<int64_t> pads;
    if (pad.kernel->node.op_type != "Pad" || !zero_spatial_pads(pad, pads)) continue;
    int r = only_reader(readers, pad.out[0], visible.count(values_[pad.out[0]].name));
    if (r < 0) continue;
    Step& conv = steps_[r];
    Node n = conv.kernel->node;
    const std::string auto_pad = n.get_string("auto_pad", "NOTSET");
    if (n.op_type != "Conv" || (auto_pad != "NOTSET" && auto_pad != "VALID")) continue;
    std::vector<int64_t> own = auto_pad == "VALID" ? std::vector<int64_t>{} : n.get_ints("pads");
    if (own.empty()) own.assign(4, 0);
    if (own.size() != 4) continue;
    // the Pad's (N, C, H, W) begins, then ends; the Conv's (H, W) begins, then ends
    for (int a = 0; a < 2; a++) own[a] += pads[2 + a], own[2 + a] += pads[6 + a];
    n.attrs.erase("auto_pad");
    n.attrs["pads"].kind = Attribute::Ints;
    n.attrs["pads"].ints = own;
    conv.kernel = make_kernel(n, graph_.opset);
    conv.in[0] = pad.in[0];
    conv.pad_folded = pad.kernel->node.where();
    drop[k] = true;
  }
  drop_steps(drop);
}

// Whether a Pad step pads a 4-D tensor with zeros on axes 2 and 3 alone, by constant amounts
// (none negative), which it returns in `pads` (ONNX's order: every axis's begin, then its end).
bool Session::zero_spatial_pads(const Step& pad, std::vector<int64_t>& pads) const {
  const Node& n = pad.kernel->node;
  auto constant = [&](size_t i) -> const Tensor* {
    return i < pad.in.size() && pad.in[i] >= 0 && values_[pad.in[i]].is_weight ? &values_[pad.in[i]].t : nullptr;
  };
  auto given = [&](size_t i) { return i < pad.in.size() && pad.in[i] >= 0; };
  if (n.get_string("mode", "constant") != "constant" || given(3)) return false;
  pads = n.get_ints("pads");
  if (given(1)) {
    const Tensor* p = constant(1);
    if (!p || p->dtype != DType::I64) return false;
    pads = p->i;
  }
  float value = n.get_float("value", 0.0f);
  if (given(2)) {
    const Tensor* v = constant(2);
    if (!v || v->dtype != DType::F32 || v->f.size() != 1) return false;
    value = v->f[0];
  }
  if (value != 0.0f || pads.size() != 8 || pads[0] || pads[1] || pads[4] || pads[5]) return false;
  for (int64_t p : pads)
    if (p < 0) return false;
  return true;
}

}  // namespace strata
