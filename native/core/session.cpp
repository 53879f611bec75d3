// session.cpp: a Session's construction and its public API (train_step, evaluate, forward,
// weights, gradients, optimizer slots). The rest of it, by job:
//   session_fusions.cpp  which nodes run fused (Conv + Relu, Conv + MaxPool, Flatten into Gemm)
//   session_plan.cpp     shapes, buffers and layouts, planned once per input-shape signature
//   session_step.cpp     how a step runs: forward, losses, backward, optimizer
//   session_graphs.cpp   a step's device work recorded once per plan and replayed (CUDA graphs)
//   session_threads.cpp  the thread count under load (probes)
#include "session.h"

#include <algorithm>
#include <chrono>

#include "check.h"
#include "compute_thread.h"

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
  threads_ = infer_threads_ = ThreadChooser(be_->max_threads());
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
    // The recurrent ops may leave out Y and keep Y_h; the executor wants an output 0, so Y
    // gets an unnamed value of its own.
    if (!s.out.empty() && s.out[0] < 0 && s.kernel->grad_outputs() > 1) s.out[0] = add_value(n.where() + " output 0");
    int required = s.kernel->required_inputs();
    STRATA_CHECK((int)s.in.size() >= required, n.where() << " has " << s.in.size() << " inputs, needs " << required);
    for (int i = 0; i < required; i++)
      STRATA_CHECK(s.in[i] >= 0, n.where() << ": required input " << i << " is missing");
    STRATA_CHECK(!s.out.empty() && s.out[0] >= 0, n.where() << " has no output");
    steps_.push_back(std::move(s));
  }
  fold_pads();
  fuse_relus();
  fuse_clips();
  fuse_conv_pools();
  fold_flattens();
  fold_batchnorms();
  place_values();
  auto folded_label = [&](const Step& s) -> std::string {  // " + BN node 'b' + Clip node 'c' (inference)"
    if (s.bn_fold < 0 || bn_folds_[s.bn_fold].conv != (size_t)(&s - steps_.data())) return "";
    const BnFold& f = bn_folds_[s.bn_fold];
    return " + " + steps_[f.bn].kernel->node.where() +
           (f.clip >= 0 ? " + " + steps_[f.clip].kernel->node.where() : std::string()) + " (inference)";
  };
  for (auto& s : steps_)
    times_.push_back(NodeTime{s.kernel->node.where() + (s.pad_folded.empty() ? "" : " + " + s.pad_folded) +
                              (s.relu_fused ? " + Relu" : "") + (s.clip_fused.empty() ? "" : " + " + s.clip_fused) +
                              (s.pool_fused.empty() ? "" : " + " + s.pool_fused) +
                              (s.flatten_folded.empty() ? "" : " + " + s.flatten_folded) +
                              folded_label(s)});
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
  for (auto& l : desc_.losses) {
    STRATA_CHECK(value_index(l.output) >= 0, "loss on '" << l.output << "', which is not a value of the graph");
    for (MetricKind m : l.metrics)
      STRATA_CHECK(metric_fits(m, l.kind), "metric " << metric_name(m) << " on '" << l.output << "' cannot read the target of "
                                                     << loss_name(l.kind) << " (sparse_categorical_accuracy needs "
                                                        "sparse_categorical_crossentropy's class indices, the others "
                                                        "a target shaped as the output)");
  }
  for (auto& r : desc_.weight_rules) {
    int k = value_index(r.name);
    STRATA_CHECK(k >= 0 && std::count(trainable_.begin(), trainable_.end(), k),
                 "weight rule on '" << r.name << "', which is not a trainable weight of the graph");
    STRATA_CHECK(r.l1 >= 0 && r.l2 >= 0, "weight rule on '" << r.name << "': l1 and l2 must be >= 0");
    STRATA_CHECK(r.constraint == ConstraintKind::None || r.constraint == ConstraintKind::NonNeg ||
                     r.outer * r.reduce * r.inner == values_[k].t.size(),
                 "weight rule on '" << r.name << "': the constraint's axes (" << r.outer << ", " << r.reduce << ", "
                                    << r.inner << ") do not cover its shape " << shape_str(values_[k].t.shape));
    rule_values_.push_back(k);
  }
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

StepResult Session::train_step(const std::vector<Tensor>& inputs, const std::vector<Tensor>& targets,
                               const std::vector<Tensor>& sample_weights) {
  std::optional<Batch> none;
  return run_train_step(inputs, targets, sample_weights, none);
}

StepResult Session::train_step(const std::vector<Tensor>& inputs, const std::vector<Tensor>& targets,
                               const std::vector<Tensor>& sample_weights, std::optional<Batch> next) {
  return run_train_step(inputs, targets, sample_weights, next);
}

StepResult Session::train_staged(std::optional<Batch> next) {
  STRATA_CHECK(staged_, "train_staged: no batch is staged (give the step before it a next batch)");
  Staged s = std::move(*staged_);
  staged_.reset();
  arrived_ = std::move(s.floats);
  struct Forget {  // the areas are the backend's to reuse once this step has read them
    std::vector<const float*>& arrived;
    ~Forget() { arrived.clear(); }
  } forget{arrived_};
  return run_train_step(s.batch.inputs, s.batch.targets, s.batch.sample_weights, next);
}

StepResult Session::run_train_step(const std::vector<Tensor>& inputs, const std::vector<Tensor>& targets,
                                   const std::vector<Tensor>& sample_weights, std::optional<Batch>& next) {
  if (stop_) return StepResult{0, {}, {}, true};
  STRATA_CHECK(!desc_.losses.empty(), "train_step needs at least one loss in the training description");
  StepResult r;
  run_on_compute_thread([&] {
    if (!arrived_.empty()) be_->await_staged();  // before anything reads the staged batch
    if (desc_.num_threads < 0 && threads_.wants_probe() && !planned_.empty()) probe_threads(inputs, targets, sample_weights);
    auto t0 = std::chrono::steady_clock::now();
    std::vector<Shape> planned = planned_;
    prepare_forward(inputs, true);
    load_targets(targets, sample_weights);  // the batch in place before the step's work (a recording reads it there)
    run_step_work();
    if (next) stage(std::move(*next));  // its upload overlaps the step queued above
    r = read_metrics();  // the step's one wait for the backend
    collect_node_times();
    if (desc_.num_threads < 0 && planned == planned_)  // a step that (re)planned is no measure of speed
      threads_.record_step(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  });
  return r;
}

StepResult Session::evaluate(const std::vector<Tensor>& inputs, const std::vector<Tensor>& targets,
                             const std::vector<Tensor>& sample_weights) {
  if (stop_) return StepResult{0, {}, {}, true};
  StepResult r;
  run_on_compute_thread([&] {
    run_inference(inputs);
    compute_losses(targets, sample_weights, false);
    penalty_ = weight_penalty(false);
    r = read_metrics();
    collect_node_times();
  });
  return r;
}

std::vector<Tensor> Session::forward(const std::vector<Tensor>& inputs) {
  std::vector<Tensor> r;
  run_on_compute_thread([&] {
    run_inference(inputs);
    for (int k : outputs_) r.push_back(values_[k].t.to_host());
    collect_node_times();
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
  Tensor t = values_[k].t.to_host();
  t.f = to_graph_order(values_[k], std::move(t.f));
  return t;
}

Tensor Session::get_gradient(const std::string& name) const {
  int k = value_index(name);
  STRATA_CHECK(k >= 0 && values_[k].is_weight, "'" << name << "' is not a weight (initializer) of the model");
  const Value& v = values_[k];
  if (!(v.needs_grad && v.written && v.grad.shape == v.t.shape)) return Tensor(v.t.shape);
  Tensor g = v.grad.to_host();
  g.f = to_graph_order(v, std::move(g.f));
  return g;
}

namespace {
template <class S>  // Session::Slots, const or not
auto& slot_of(S& s, const std::string& slot) {
  if (slot == "m") return s.m;
  if (slot == "v") return s.v;
  STRATA_CHECK(slot == "mg", "unknown optimizer slot '" << slot << "'; expected m, v or mg");
  return s.mg;
}
}  // namespace

std::vector<float> Session::get_optimizer_slot(const std::string& weight, const std::string& slot) const {
  int k = value_index(weight);
  STRATA_CHECK(k >= 0 && values_[k].is_weight, "'" << weight << "' is not a weight (initializer) of the model");
  auto it = slots_.find(k);
  if (it == slots_.end()) return {};
  const Tensor& t = slot_of(it->second, slot);
  return t.holds_values() ? to_graph_order(values_[k], t.values()) : std::vector<float>();
}

void Session::set_optimizer_slot(const std::string& weight, const std::string& slot, std::vector<float> values) {
  int k = value_index(weight);
  STRATA_CHECK(k >= 0 && values_[k].is_weight, "'" << weight << "' is not a weight (initializer) of the model");
  STRATA_CHECK(values.empty() || (int64_t)values.size() == values_[k].t.size(),
               "optimizer slot '" << slot << "' of '" << weight << "' has " << values.size() << " values, the weight has " << values_[k].t.size());
  Tensor& t = slot_of(slots_[k], slot);
  t = Tensor();
  if (values.empty()) return;
  t.device = device_;
  t.reset(values_[k].t.shape);
  t.assign(from_graph_order(values_[k], std::move(values)));
}

void Session::set_weight(const std::string& name, const Tensor& value) {
  int k = value_index(name);
  STRATA_CHECK(k >= 0 && values_[k].is_weight, "'" << name << "' is not a weight (initializer) of the model");
  Tensor& t = values_[k].t;
  STRATA_CHECK(value.shape == t.shape && value.dtype == t.dtype,
               "weight '" << name << "' has shape " << shape_str(t.shape) << ", got " << shape_str(value.shape));
  if (t.dtype == DType::F32) t.assign(from_graph_order(values_[k], value.f));
  t.i = value.i;
  weights_version_++;
}

}  // namespace strata
