// session.cpp: the executor. Forward runs the nodes in ONNX order, backward runs
// them in reverse, then the optimizer updates the trainable initializers.
#include "session.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <set>

#include "check.h"
#include "compute_thread.h"
#include "row_order.h"

namespace strata {

Session::~Session() = default;

std::unique_ptr<Session> Session::from_onnx(const void* bytes, size_t size, const TrainingDescription& d) {
  return std::make_unique<Session>(load_onnx(bytes, size), d);
}

std::unique_ptr<Session> Session::from_onnx_file(const std::string& path, const TrainingDescription& d) {
  return std::make_unique<Session>(load_onnx_file(path), d);
}

int Session::value_index(const std::string& name) const {
  auto it = index_.find(name);
  return it == index_.end() ? -1 : it->second;
}

Session::Session(Graph graph, TrainingDescription desc) : graph_(std::move(graph)), desc_(std::move(desc)) {
  be_ = make_backend(desc_.backend, desc_.backend_options);
  threads_ = ThreadChooser(be_->max_threads());
  auto add_value = [&](const std::string& name) {
    STRATA_CHECK(!index_.count(name), "value '" << name << "' is defined twice in the graph");
    index_[name] = (int)values_.size();
    values_.emplace_back();
    values_.back().name = name;
    return (int)values_.size() - 1;
  };
  for (auto& v : graph_.inputs) inputs_.push_back(add_value(v.name));
  for (auto& [name, t] : graph_.initializers) {  // moved, not copied: weights live once
    int k = add_value(name);
    values_[k].t = std::move(t);
    values_[k].is_weight = true;
  }
  graph_.initializers.clear();
  for (auto& n : graph_.nodes) {
    Step s;
    s.kernel = make_kernel(n, graph_.opset);
    for (auto& name : n.inputs) {
      int k = name.empty() ? -1 : value_index(name);
      STRATA_CHECK(name.empty() || k >= 0, n.where() << ": input '" << name << "' is not produced by any earlier node");
      s.in.push_back(k);
    }
    for (auto& name : n.outputs) s.out.push_back(name.empty() ? -1 : add_value(name));
    int required = s.kernel->required_inputs();
    STRATA_CHECK((int)s.in.size() >= required, n.where() << " has " << s.in.size() << " inputs, needs " << required);
    for (int i = 0; i < required; i++)
      STRATA_CHECK(s.in[i] >= 0, n.where() << ": required input " << i << " is missing");
    STRATA_CHECK(!s.out.empty() && s.out[0] >= 0, n.where() << " has no output");
    steps_.push_back(std::move(s));
  }
  fuse_relus();
  fuse_conv_pools();
  fold_flattens();
  for (auto& s : steps_)
    times_.push_back(NodeTime{s.kernel->node.where() + (s.relu_fused ? " + Relu" : "") +
                              (s.pool_fused.empty() ? "" : " + " + s.pool_fused) +
                              (s.flatten_folded.empty() ? "" : " + " + s.flatten_folded)});
  for (auto& v : graph_.outputs) {
    int k = value_index(v.name);
    STRATA_CHECK(k >= 0, "graph output '" << v.name << "' is not produced by any node");
    outputs_.push_back(k);
  }

  pick_trainable();
  for (int k : trainable_) values_[k].needs_grad = true;
  for (auto& s : steps_) {
    bool any = false;
    for (size_t i = 0; i < s.in.size(); i++)
      any |= s.in[i] >= 0 && values_[s.in[i]].needs_grad && s.kernel->differentiable((int)i);
    for (int o : s.out)
      if (o >= 0) values_[o].needs_grad = any;
  }
  for (auto& l : desc_.losses)
    STRATA_CHECK(value_index(l.output) >= 0, "loss on '" << l.output << "', which is not a value of the graph");
}

// A Relu that is the only reader of a kernel's output runs inside that kernel (oneDNN
// applies it as a post-op of the convolution): the kernel writes the Relu's output
// value and the Relu step goes away. Values the caller can see (graph outputs, loss
// inputs) are never fused away.
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

// Puts each folded Gemm weight's rows in the order its input lies in memory, once its
// layout is planned; a later plan that changes the layout reorders them again.
void Session::order_folded_rows() {
  for (const FlattenFold& fold : folds_) {
    const Shape& x = values_[fold.source].t.shape;
    Value& w = values_[fold.weight];
    STRATA_CHECK(x.size() == 4 && w.t.shape.size() == 2 && w.t.shape[0] == x[1] * x[2] * x[3],
                 "a folded Flatten's input " << shape_str(x) << " does not match the Dense weight '" << w.name << "' "
                                             << shape_str(w.t.shape));
    std::vector<int64_t> want = nhwc_rows_of(x[1], x[2], x[3], blocked_[fold.source] ? be_->channel_block() : 0);
    if (want == w.row_order) continue;
    auto reorder = [&](std::vector<float>& values) { values = rows_from_graph(want, to_graph_order(w, std::move(values)), w.t.shape[1]); };
    reorder(w.t.f);
    if (w.grad.shape == w.t.shape) reorder(w.grad.f);
    auto st = opt_state_.find(fold.weight);
    if (st != opt_state_.end())
      for (auto* slot : {&st->second.m, &st->second.v, &st->second.mg}) reorder(*slot);
    w.row_order = std::move(want);
  }
}

// By value: a weight in the graph's order (every one but the folded) passes through unmoved.
std::vector<float> Session::to_graph_order(const Value& v, std::vector<float> values) const {
  if (v.row_order.empty()) return values;
  return rows_to_graph(v.row_order, values, v.t.shape[1]);
}
std::vector<float> Session::from_graph_order(const Value& v, std::vector<float> values) const {
  if (v.row_order.empty()) return values;
  return rows_from_graph(v.row_order, values, v.t.shape[1]);
}

// Trainable weights: the listed ones, or by default the float initializers in a
// kernel's parameter slot (accumulates(i): Conv W/B, Gemm B/C, MatMul B,
// BatchNormalization scale/bias, Gather's table) and the bias of MatMul + Add
// (Dense on 3-D input). Constants the translator stores as initializers (gelu's
// sqrt 2, Dropout's ratio, Reshape's shape) are never trained by default.
void Session::pick_trainable() {
  if (desc_.trainable.empty()) {
    std::map<int, std::string> producer_op;
    for (auto& s : steps_)
      for (int o : s.out) producer_op[o] = s.kernel->node.op_type;
    std::set<int> seen;
    for (auto& s : steps_)
      for (size_t i = 0; i < s.in.size(); i++) {
        int k = s.in[i];
        if (k < 0 || !values_[k].is_weight || values_[k].t.dtype != DType::F32) continue;
        bool param = s.kernel->accumulates((int)i);
        if (s.kernel->node.op_type == "Add" && s.in.size() == 2) {
          int other = s.in[1 - i];
          param |= other >= 0 && producer_op.count(other) && producer_op[other] == "MatMul";
        }
        if (param && seen.insert(k).second) trainable_.push_back(k);
      }
  } else {
    for (auto& name : desc_.trainable) {
      int k = value_index(name);
      STRATA_CHECK(k >= 0 && values_[k].is_weight, "trainable '" << name << "' is not an initializer of the graph");
      STRATA_CHECK(values_[k].t.dtype == DType::F32, "trainable '" << name << "' is not a float tensor");
      trainable_.push_back(k);
    }
  }
}

// Shapes are inferred and every buffer sized here, once per input-shape signature.
void Session::plan(const std::vector<Tensor>& inputs) {
  STRATA_CHECK(inputs.size() == inputs_.size(),
               "the model takes " << inputs_.size() << " inputs, got " << inputs.size());
  std::vector<Shape> shapes;
  for (size_t k = 0; k < inputs.size(); k++) {
    const Shape &want = graph_.inputs[k].shape, &got = inputs[k].shape;
    bool ok = want.empty() || want.size() == got.size();
    for (size_t d = 0; ok && d < want.size(); d++) ok = want[d] < 0 || want[d] == got[d];
    STRATA_CHECK(ok, "input '" << graph_.inputs[k].name << "' expects shape " << shape_str(want) << ", got "
                               << shape_str(got));
    shapes.push_back(got);
    // int64 inputs may be shapes or axes that inference reads, so their values count too
    if (inputs[k].dtype == DType::I64 && inputs[k].size() <= 16) shapes.push_back(inputs[k].i);
  }
  if (shapes == planned_) return;
  for (size_t k = 0; k < inputs.size(); k++) values_[inputs_[k]].t = inputs[k];
  for (size_t k = 0; k < steps_.size(); k++) {
    Step& s = steps_[k];
    Ins in;
    Outs out;
    for (int v : s.in) in.push_back(v >= 0 ? &values_[v].t : nullptr);
    for (int v : s.out) out.push_back(v >= 0 ? &values_[v].t : nullptr);
    try {
      for (size_t i = 0; i < in.size(); i++)
        STRATA_CHECK(!in[i] || in[i]->dtype == DType::F32 || s.kernel->accepts_int((int)i),
                     "input " << i << " ('" << s.kernel->node.inputs[i] << "') is an integer tensor; Strata computes "
                              << s.kernel->node.op_type << " in float32 only");
      s.kernel->infer(in, out);
    } catch (const Error& e) {
      std::string msg = e.what();
      throw Error(msg.find(s.kernel->node.where()) == std::string::npos ? s.kernel->node.where() + ": " + msg : msg);
    }
  }
  for (auto& v : values_)
    if (v.needs_grad) v.grad.reset(v.t.shape);

  // Losses: fuse with a last-axis Softmax (categorical) or a Sigmoid (binary) that
  // only the loss reads, as Keras does, so the loss is computed from logits.
  std::map<int, int> producer, readers;
  for (size_t k = 0; k < steps_.size(); k++) {
    for (int o : steps_[k].out)
      if (o >= 0) producer[o] = (int)k;
    for (int i : steps_[k].in)
      if (i >= 0) readers[i]++;
  }
  loss_plans_.clear();
  for (auto& l : desc_.losses) {
    LossPlan p{value_index(l.output), l.from_logits, -1};
    auto it = producer.find(p.pred);
    if (!l.from_logits && it != producer.end() && readers[p.pred] == 0) {
      const Node& n = steps_[it->second].kernel->node;
      int64_t rank = (int64_t)values_[p.pred].t.shape.size();
      int64_t axis = n.get_int("axis", graph_.opset >= 13 ? -1 : 1);
      bool categorical = l.kind == LossKind::CategoricalCrossentropy || l.kind == LossKind::SparseCategoricalCrossentropy;
      bool softmax_last = n.op_type == "Softmax" && (axis == -1 || axis == rank - 1);
      if ((categorical && softmax_last) || (l.kind == LossKind::BinaryCrossentropy && n.op_type == "Sigmoid")) {
        p.pred = steps_[it->second].in[0];
        p.from_logits = true;
        p.skip_node = it->second;
      }
    }
    loss_plans_.push_back(p);
  }
  plan_layouts();
  order_folded_rows();
  planned_ = shapes;
}

// Which activations stay in the backend's blocked layout (kernel.h, blocked_io): a
// value written by a kernel that can write it blocked, 4-D with channels in whole
// blocks (Backend::channel_block), invisible to the caller, and read only through slots that accept it
// (a pooling's output must then be blocked too). Candidates are found from the last
// node back, then settled from the first node on (a pooling is blocked only when its
// input is). Its gradient has the same layout.
void Session::plan_layouts() {
  blocked_.assign(values_.size(), false);
  for (auto& s : steps_) s.kernel->set_blocked(false, false);
  const int block = be_->channel_block();
  if (block <= 0) return;
  std::set<int> visible(outputs_.begin(), outputs_.end());
  for (auto& p : loss_plans_) visible.insert(p.pred);
  for (auto& l : desc_.losses) visible.insert(value_index(l.output));
  auto readers = value_readers();
  std::vector<bool> cand(values_.size(), false);
  for (size_t k = steps_.size(); k-- > 0;) {
    int o = steps_[k].out[0];
    const Tensor& t = values_[o].t;
    if (!(steps_[k].kernel->blocked_io() & OpKernel::kWritesBlocked) || visible.count(o) || t.dtype != DType::F32 ||
        t.shape.size() != 4 || t.shape[1] % block != 0)
      continue;
    bool ok = true;
    for (auto [r, slot] : readers[o]) {
      int io = steps_[r].kernel->blocked_io();
      ok &= slot == 0 && (io & OpKernel::kReadsBlocked) && (!(io & OpKernel::kSameLayout) || cand[steps_[r].out[0]]);
    }
    cand[o] = ok;
  }
  for (auto& s : steps_) {
    bool in0 = !s.in.empty() && s.in[0] >= 0 && blocked_[s.in[0]];
    bool same = s.kernel->blocked_io() & OpKernel::kSameLayout;
    bool out0 = cand[s.out[0]] && (!same || in0);
    blocked_[s.out[0]] = out0;
    s.kernel->set_blocked(in0, out0);
  }
}

std::vector<std::string> Session::blocked_values() const {
  std::vector<std::string> r;
  for (size_t k = 0; k < blocked_.size(); k++)
    if (blocked_[k]) r.push_back(values_[k].name);
  return r;
}

void Session::run_node(size_t k, bool training, bool backward) {
  if (desc_.profile) {
    auto t0 = std::chrono::steady_clock::now();
    run_node_timed(k, training, backward);
    double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    (backward ? times_[k].backward_ms : times_[k].forward_ms) += ms;
    return;
  }
  run_node_timed(k, training, backward);
}

void Session::run_node_timed(size_t k, bool training, bool backward) {
  Step& s = steps_[k];
  KernelContext ctx;
  ctx.be = be_.get();
  ctx.training = training;
  ctx.update_statistics = probing_ == 0;
  // A different Dropout mask per node and per step, reproducible from the seed. Keyed by the
  // node's name (FNV-1a; its position for unnamed nodes), so that fusing other nodes away
  // does not change the masks and runs stay comparable across engine versions.
  uint64_t node_key = k;
  if (!s.kernel->node.name.empty()) {
    node_key = 0xcbf29ce484222325ull;
    for (unsigned char c : s.kernel->node.name) node_key = (node_key ^ c) * 0x100000001b3ull;
  }
  ctx.seed = desc_.seed * 0x9E3779B97F4A7C15ull + (uint64_t)iterations_ * 1000003ull + node_key;
  Ins in;
  Outs out;
  for (int v : s.in) in.push_back(v >= 0 ? &values_[v].t : nullptr);
  for (int v : s.out) out.push_back(v >= 0 ? &values_[v].t : nullptr);
  try {
    if (!backward) {
      s.kernel->forward(ctx, in, out);
      return;
    }
    // Gradient routing (kernel.h): += slots get the value's grad (zeroed by its first
    // writer); = slots get it directly when nobody wrote it yet, else a scratch buffer
    // that is added in afterwards.
    Grads din(s.in.size(), nullptr);
    std::vector<int> add_back;
    if (scratch_.size() < s.in.size()) scratch_.resize(s.in.size());
    for (size_t i = 0; i < s.in.size(); i++) {
      int v = s.in[i];
      if (v < 0 || !values_[v].needs_grad || !s.kernel->differentiable((int)i)) continue;
      Value& val = values_[v];
      if (s.kernel->accumulates((int)i)) {
        if (!val.written) std::fill(val.grad.f.begin(), val.grad.f.end(), 0.0f);
        din[i] = &val.grad;
      } else if (!val.written) {
        din[i] = &val.grad;
      } else {
        scratch_[i].reset(val.t.shape);
        din[i] = &scratch_[i];
        add_back.push_back((int)i);
      }
      val.written = true;
    }
    s.kernel->backward(ctx, in, out, values_[s.out[0]].grad, din);
    for (int i : add_back) {
      float* g = values_[s.in[i]].grad.data();
      const float* d = scratch_[i].data();
      for (int64_t j = 0; j < scratch_[i].size(); j++) g[j] += d[j];
    }
  } catch (const Error& e) {
    std::string msg = e.what();
    throw Error(msg.find(s.kernel->node.where()) == std::string::npos ? s.kernel->node.where() + ": " + msg : msg);
  }
}

void Session::run_forward(const std::vector<Tensor>& inputs, bool training) {
  // OpenMP's thread count belongs to the calling thread (the compute thread, shared by
  // every session), so it is set on every call rather than once.
  be_->set_num_threads(step_threads());
  plan(inputs);
  for (size_t k = 0; k < inputs.size(); k++) {
    Tensor& t = values_[inputs_[k]].t;
    t.dtype = inputs[k].dtype;
    t.f = inputs[k].f;  // reuses the planned allocation
    t.i = inputs[k].i;
  }
  for (size_t k = 0; k < steps_.size(); k++) run_node(k, training, false);
}

StepResult Session::compute_losses(const std::vector<Tensor>& targets, const std::vector<Tensor>& sample_weights,
                                   bool with_grad) {
  STRATA_CHECK(targets.size() == desc_.losses.size(),
               "the training description has " << desc_.losses.size() << " losses, got " << targets.size()
                                                << " targets");
  STRATA_CHECK(sample_weights.empty() || sample_weights.size() == desc_.losses.size(),
               "sample weights: expected none or one tensor per loss (" << desc_.losses.size() << "), got "
                                                                       << sample_weights.size());
  StepResult r;
  if (with_grad)  // evaluate() keeps the last train_step's gradients readable
    for (auto& v : values_) v.written = false;
  for (size_t k = 0; k < desc_.losses.size(); k++) {
    const LossSpec& l = desc_.losses[k];
    const LossPlan& p = loss_plans_[k];
    Value& pred = values_[p.pred];
    int64_t K = pred.t.shape.size() >= 2 ? pred.t.shape.back() : 1, rows = pred.t.size() / K;
    int64_t want = l.kind == LossKind::SparseCategoricalCrossentropy ? rows : pred.t.size();
    STRATA_CHECK(targets[k].dtype == DType::F32 && targets[k].size() == want,
                 "target for '" << l.output << "' (" << loss_name(l.kind) << ") must have " << want
                                << " float values, got shape " << shape_str(targets[k].shape));
    float* d = nullptr;
    Tensor tmp;
    if (with_grad && pred.needs_grad) {
      if (pred.written) tmp.reset(pred.t.shape);
      d = pred.written ? tmp.data() : pred.grad.data();
    }
    const float* rw = nullptr;
    if (!sample_weights.empty() && !sample_weights[k].f.empty()) {  // Tensor() means none
      STRATA_CHECK(sample_weights[k].dtype == DType::F32 && sample_weights[k].size() == rows,
                   "sample weights for '" << l.output << "' must have one float per row (" << rows << "), got shape "
                                          << shape_str(sample_weights[k].shape));
      rw = sample_weights[k].data();
    }
    float loss = loss_forward_backward(d, pred.t.data(), targets[k].data(), rows, K, l.kind, p.from_logits, l.weight, rw);
    if (d && pred.written)
      for (int64_t j = 0; j < tmp.size(); j++) pred.grad.f[j] += tmp.f[j];
    if (d) pred.written = true;
    r.output_losses.push_back(l.weight != 0 ? loss / l.weight : 0.0f);
    r.loss += loss;
    r.accuracy.push_back(accuracy(pred.t.data(), targets[k].data(), rows, K, l.kind, p.from_logits));
  }
  return r;
}

void Session::run_backward() {
  std::set<int> skip;
  for (auto& p : loss_plans_) skip.insert(p.skip_node);
  for (size_t k = steps_.size(); k-- > 0;) {
    int o = steps_[k].out[0];
    if (skip.count((int)k) || o < 0 || !values_[o].written) continue;
    run_node(k, true, true);
  }
}

void Session::apply_optimizer() {
  iterations_++;
  std::vector<float*> grads;
  std::vector<int64_t> sizes;
  for (int k : trainable_)
    if (values_[k].written) grads.push_back(values_[k].grad.data()), sizes.push_back(values_[k].grad.size());
  clip_gradients(desc_.optimizer, grads, sizes);
  for (int k : trainable_) {
    Value& v = values_[k];
    if (!v.written) continue;  // no gradient reached it (Keras skips such variables too)
    optimizer_update(desc_.optimizer, v.t.data(), v.grad.data(), v.t.size(), opt_state_[k], iterations_);
  }
}

StepResult Session::train_step(const std::vector<Tensor>& inputs, const std::vector<Tensor>& targets,
                               const std::vector<Tensor>& sample_weights) {
  if (stop_) return StepResult{0, {}, {}, true};
  STRATA_CHECK(!desc_.losses.empty(), "train_step needs at least one loss in the training description");
  StepResult r;
  run_on_compute_thread([&] {
    if (desc_.num_threads < 0 && threads_.wants_probe() && !planned_.empty()) probe_threads(inputs, targets, sample_weights);
    auto t0 = std::chrono::steady_clock::now();
    std::vector<Shape> planned = planned_;
    run_forward(inputs, true);
    r = compute_losses(targets, sample_weights, true);
    run_backward();
    apply_optimizer();
    if (desc_.num_threads < 0 && planned == planned_)  // a step that (re)planned is no measure of speed
      threads_.record_step(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  });
  return r;
}

int Session::step_threads() const {
  if (probing_) return probing_;
  if (desc_.num_threads > 0) return desc_.num_threads;
  if (desc_.num_threads == 0) return be_->max_threads();
  return threads_.current();
}

// Times the forward and backward passes of this batch on each candidate count, alternating,
// after one untimed pass on each (a count's first pass creates its primitives). It runs before
// a train step, which then overwrites every activation and gradient the probe wrote; the
// optimizer does not run, the step count stays and BatchNormalization keeps its statistics.
// Forward passes alone would mislead: with one core busy, two threads ran the 28x28 seed
// CNN's forward faster than one (0.85 against 1.24 ms at batch 32), its train step 5x slower.
void Session::probe_threads(const std::vector<Tensor>& inputs, const std::vector<Tensor>& targets,
                            const std::vector<Tensor>& sample_weights) {
  // Each count runs until its timed passes add up to 30 ms (at most 20 passes): a load shares
  // a core in scheduler slices of a few ms, and two threads sharing one are fast for a pass
  // or two and then wait a slice at a barrier, so a short probe can catch a lucky stretch.
  constexpr double enough_ms = 30;
  constexpr int most_passes = 20;
  const std::vector<int>& counts = threads_.candidates();
  std::vector<double> total(counts.size(), 0);
  std::vector<int> passes(counts.size(), 0);
  struct Reset {
    int& n;
    ~Reset() { n = 0; }
  } reset{probing_};
  for (int round = -1;; round++) {
    bool done = true;
    for (size_t c = 0; c < counts.size(); c++) {
      if (round >= 0 && (total[c] >= enough_ms || passes[c] >= most_passes)) continue;
      done = false;
      probing_ = counts[c];
      auto t0 = std::chrono::steady_clock::now();
      run_forward(inputs, true);
      compute_losses(targets, sample_weights, true);
      run_backward();
      if (round < 0) continue;
      total[c] += std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
      passes[c]++;
    }
    if (done) break;
  }
  std::vector<double> mean_ms;
  for (size_t c = 0; c < counts.size(); c++) mean_ms.push_back(total[c] / passes[c]);
  threads_.record_probe(mean_ms);
}

StepResult Session::evaluate(const std::vector<Tensor>& inputs, const std::vector<Tensor>& targets,
                             const std::vector<Tensor>& sample_weights) {
  if (stop_) return StepResult{0, {}, {}, true};
  StepResult r;
  run_on_compute_thread([&] {
    run_forward(inputs, false);
    r = compute_losses(targets, sample_weights, false);
  });
  return r;
}

std::vector<Tensor> Session::forward(const std::vector<Tensor>& inputs) {
  std::vector<Tensor> r;
  run_on_compute_thread([&] {
    run_forward(inputs, false);
    for (int k : outputs_) r.push_back(values_[k].t);
  });
  return r;
}

std::vector<std::string> Session::input_names() const {
  std::vector<std::string> r;
  for (int k : inputs_) r.push_back(values_[k].name);
  return r;
}
std::vector<std::string> Session::output_names() const {
  std::vector<std::string> r;
  for (int k : outputs_) r.push_back(values_[k].name);
  return r;
}
std::vector<std::string> Session::weight_names() const {
  std::vector<std::string> r;
  for (auto& v : values_)
    if (v.is_weight) r.push_back(v.name);
  return r;
}
std::vector<std::string> Session::trainable_names() const {
  std::vector<std::string> r;
  for (int k : trainable_) r.push_back(values_[k].name);
  return r;
}

Tensor Session::get_weight(const std::string& name) const {
  int k = value_index(name);
  STRATA_CHECK(k >= 0 && values_[k].is_weight, "'" << name << "' is not a weight (initializer) of the model");
  Tensor t = values_[k].t;
  t.f = to_graph_order(values_[k], std::move(t.f));
  return t;
}

Tensor Session::get_gradient(const std::string& name) const {
  int k = value_index(name);
  STRATA_CHECK(k >= 0 && values_[k].is_weight, "'" << name << "' is not a weight (initializer) of the model");
  const Value& v = values_[k];
  if (!(v.needs_grad && v.written && v.grad.shape == v.t.shape)) return Tensor(v.t.shape);
  Tensor g = v.grad;
  g.f = to_graph_order(v, std::move(g.f));
  return g;
}

namespace {
template <class State>  // OptimizerState or const OptimizerState
auto& slot_of(State& state, const std::string& slot) {
  if (slot == "m") return state.m;
  if (slot == "v") return state.v;
  STRATA_CHECK(slot == "mg", "unknown optimizer slot '" << slot << "'; expected m, v or mg");
  return state.mg;
}
}  // namespace

std::vector<float> Session::get_optimizer_slot(const std::string& weight, const std::string& slot) const {
  int k = value_index(weight);
  STRATA_CHECK(k >= 0 && values_[k].is_weight, "'" << weight << "' is not a weight (initializer) of the model");
  auto it = opt_state_.find(k);
  if (it == opt_state_.end()) return {};
  return to_graph_order(values_[k], slot_of(it->second, slot));
}

void Session::set_optimizer_slot(const std::string& weight, const std::string& slot, std::vector<float> values) {
  int k = value_index(weight);
  STRATA_CHECK(k >= 0 && values_[k].is_weight, "'" << weight << "' is not a weight (initializer) of the model");
  STRATA_CHECK(values.empty() || (int64_t)values.size() == values_[k].t.size(),
               "optimizer slot '" << slot << "' of '" << weight << "' has " << values.size() << " values, the weight has " << values_[k].t.size());
  slot_of(opt_state_[k], slot) = from_graph_order(values_[k], std::move(values));
}

void Session::set_weight(const std::string& name, const Tensor& value) {
  int k = value_index(name);
  STRATA_CHECK(k >= 0 && values_[k].is_weight, "'" << name << "' is not a weight (initializer) of the model");
  Tensor& t = values_[k].t;
  STRATA_CHECK(value.shape == t.shape && value.dtype == t.dtype,
               "weight '" << name << "' has shape " << shape_str(t.shape) << ", got " << shape_str(value.shape));
  t.f = from_graph_order(values_[k], value.f);
  t.i = value.i;
}

}  // namespace strata
