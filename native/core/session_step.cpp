// session_step.cpp: how a Session runs a step: the forward pass in ONNX order, the losses,
// the backward pass in reverse with the gradients routed to their values (kernel.h's
// contract), then the optimizer on the trainable initializers.
#include <algorithm>
#include <cmath>
#include <set>

#include "check.h"
#include "session.h"

namespace strata {

namespace {
struct LossRows {  // a loss's prediction as rows of K values (its last axis; 1 for a vector)
  int64_t rows, K;
};
LossRows loss_rows(const Tensor& pred) {
  int64_t K = pred.shape.size() >= 2 ? pred.shape.back() : 1;
  return {pred.size() / K, K};
}
}  // namespace

// With profile, each node's work lies between two of the backend's marks (on a GPU, events
// on its stream), read in collect_node_times once the step has run. The thread probes' passes
// are left out: they run the step's nodes several times more, on other thread counts.
void Session::run_node(size_t k, bool training, bool backward) {
  if (!desc_.profile || probing_ > 0) return run_node_timed(k, training, backward);
  int from = be_->mark();
  run_node_timed(k, training, backward);
  node_marks_.push_back({k, backward, from, be_->mark()});
}

void Session::collect_node_times() {
  for (const NodeMarks& m : node_marks_) {
    NodeTime& t = times_[m.node];
    (m.backward ? t.backward_ms : t.forward_ms) += be_->elapsed_ms(m.from, m.to);
    (m.backward ? t.backward_runs : t.forward_runs)++;
  }
  node_marks_.clear();
  be_->release_marks();
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
  ctx.seed = desc_.seed * 0x9E3779B97F4A7C15ull + seed_step() + node_key;
  Ins in;
  Outs out;
  for (int v : s.in) in.push_back(v >= 0 ? &values_[v].t : nullptr);
  for (int v : s.out) out.push_back(v >= 0 ? &values_[v].t : nullptr);
  try {
    if (!backward) {
      if (runs_folded(k, training)) return run_folded_conv(s, ctx);
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
        if (!val.written) be_->fill(val.grad.data(), 0.0f, val.grad.size());
        din[i] = &val.grad;
      } else if (!val.written) {
        din[i] = &val.grad;
      } else {
        scratch_[i].device = device_;
        scratch_[i].reset(val.t.shape);
        din[i] = &scratch_[i];
        add_back.push_back((int)i);
      }
      val.written = true;
    }
    if (s.kernel->grad_outputs() == 1) {
      s.kernel->backward(ctx, in, out, values_[s.out[0]].grad, din);
    } else {  // the grads of the outputs that got one this step
      std::vector<const Tensor*> douts;
      for (size_t k = 0; k < s.out.size() && (int)k < s.kernel->grad_outputs(); k++)
        douts.push_back(s.out[k] >= 0 && values_[s.out[k]].written ? &values_[s.out[k]].grad : nullptr);
      s.kernel->backward_outputs(ctx, in, out, douts, din);
    }
    for (int i : add_back) be_->add_scaled(values_[s.in[i]].grad.data(), scratch_[i].data(), 1.0f, scratch_[i].size());
  } catch (const Error& e) {
    std::string msg = e.what();
    throw Error(msg.find(s.kernel->node.where()) == std::string::npos ? s.kernel->node.where() + ": " + msg : msg, e.source());
  }
}

void Session::prepare_forward(const std::vector<Tensor>& inputs, bool training) {
  // OpenMP's thread count belongs to the calling thread (the compute thread, shared by
  // every session), so it is set on every call rather than once.
  be_->set_num_threads(step_threads(training));
  plan(inputs);
  load_inputs(inputs);
}

void Session::run_forward(const std::vector<Tensor>& inputs, bool training) {
  prepare_forward(inputs, training);
  for (size_t k = 0; k < steps_.size(); k++)
    if (!runs_folded(k, training) || bn_folds_[steps_[k].bn_fold].conv == k) run_node(k, training, false);
}

void Session::step_work() {
  for (size_t k = 0; k < steps_.size(); k++) run_node(k, true, false);
  queue_losses(true);
  run_backward();
  apply_optimizer();
}

void Session::compute_losses(const std::vector<Tensor>& targets, const std::vector<Tensor>& sample_weights,
                             bool with_grad) {
  load_targets(targets, sample_weights);
  queue_losses(with_grad);
}

void Session::load_targets(const std::vector<Tensor>& targets, const std::vector<Tensor>& sample_weights) {
  STRATA_CHECK(targets.size() == desc_.losses.size(),
               "the training description has " << desc_.losses.size() << " losses, got " << targets.size()
                                                << " targets");
  STRATA_CHECK(sample_weights.empty() || sample_weights.size() == desc_.losses.size(),
               "sample weights: expected none or one tensor per loss (" << desc_.losses.size() << "), got "
                                                                       << sample_weights.size());
  targets_.resize(desc_.losses.size()), row_weights_.resize(desc_.losses.size());
  target_data_.assign(desc_.losses.size(), nullptr), row_weight_data_.assign(desc_.losses.size(), nullptr);
  for (size_t k = 0; k < desc_.losses.size(); k++) {
    const LossSpec& l = desc_.losses[k];
    const Value& pred = values_[loss_plans_[k].pred];
    const int64_t rows = loss_rows(pred.t).rows;
    int64_t want = l.kind == LossKind::SparseCategoricalCrossentropy ? rows : pred.t.size();
    STRATA_CHECK(targets[k].dtype == DType::F32 && targets[k].size() == want,
                 "target for '" << l.output << "' (" << loss_name(l.kind) << ") must have " << want
                                << " float values, got shape " << shape_str(targets[k].shape));
    if (!sample_weights.empty() && !sample_weights[k].f.empty()) {  // Tensor() means none
      STRATA_CHECK(sample_weights[k].dtype == DType::F32 && sample_weights[k].size() == rows,
                   "sample weights for '" << l.output << "' must have one float per row (" << rows << "), got shape "
                                          << shape_str(sample_weights[k].shape));
      row_weight_data_[k] = backend_copy(sample_weights[k], row_weights_[k], arrived(inputs_.size() + desc_.losses.size() + k));
    }
    target_data_[k] = backend_copy(targets[k], targets_[k], arrived(inputs_.size() + k));
  }
}

void Session::queue_losses(bool with_grad) {
  if (with_grad)  // evaluate() keeps the last train_step's gradients readable
    for (auto& v : values_) v.written = false;
  int64_t count = 0;
  for (const LossSpec& l : desc_.losses) count += 1 + (int64_t)l.metrics.size();
  metrics_.device = device_;
  metrics_.reset({count});
  float* result = metrics_.data();
  for (size_t k = 0; k < desc_.losses.size(); k++) {
    const LossSpec& l = desc_.losses[k];
    const LossPlan& p = loss_plans_[k];
    Value& pred = values_[p.pred];
    const LossRows shape = loss_rows(pred.t);
    float* d = nullptr;
    if (with_grad && pred.needs_grad) {
      if (pred.written) {
        loss_grad_.device = device_;
        loss_grad_.reset(pred.t.shape);
      }
      d = pred.written ? loss_grad_.data() : pred.grad.data();
    }
    be_->loss(result++, d, pred.t.data(), target_data_[k], shape.rows, shape.K, l.kind, p.from_logits, l.weight,
              row_weight_data_[k]);
    if (d && pred.written) be_->add_scaled(pred.grad.data(), loss_grad_.data(), 1.0f, loss_grad_.size());
    if (d) pred.written = true;
    queue_metrics(result, k);
    result += l.metrics.size();
  }
  if (device_) be_->queue_read(metrics_.data(), metrics_.size());  // into pinned memory, in the step's order
}

// The categorical accuracies read what the loss reads (the logits of a fused Softmax: the
// same argmax), and so does binary_accuracy beside binary_crossentropy (logits, of a fused
// Sigmoid or the user's: its threshold moves to 0, as the accuracy Keras picks for that loss);
// everything else reads the output itself, as Keras's metrics do (a fused node still runs
// forward), binary_accuracy thresholding it at 0.5.
void Session::queue_metrics(float* result, size_t k) {
  const LossSpec& l = desc_.losses[k];
  const LossPlan& p = loss_plans_[k];
  for (size_t i = 0; i < l.metrics.size(); i++) {
    const MetricKind m = l.metrics[i];
    const bool reads_loss_input = m == MetricKind::CategoricalAccuracy || m == MetricKind::SparseCategoricalAccuracy ||
                                  (m == MetricKind::BinaryAccuracy && l.kind == LossKind::BinaryCrossentropy);
    const Tensor& pred = values_[reads_loss_input ? p.pred : value_index(l.output)].t;
    const LossRows shape = loss_rows(pred);
    be_->metric(result + i, pred.data(), target_data_[k], shape.rows, shape.K, m, reads_loss_input && p.from_logits);
  }
}

StepResult Session::read_metrics() const {
  // on a device: waits for the step and raises what its kernels recorded (a bad label)
  std::vector<float> m = device_ ? be_->finish_read() : metrics_.values();
  StepResult r;
  const float* next = m.data();
  for (const LossSpec& l : desc_.losses) {
    float loss = *next++;
    r.output_losses.push_back(l.weight != 0 ? loss / l.weight : 0.0f);
    r.loss += loss;
    r.metrics.emplace_back(next, next + l.metrics.size());
    next += l.metrics.size();
  }
  // Keras's loss includes the layers' own (activity regularization) and the weights'
  // regularization beside the outputs'
  for (auto& s : steps_) r.loss += (float)s.kernel->penalty();
  r.loss += (float)penalty_;
  return r;
}

// Whether an output that carries gradients (OpKernel::grad_outputs) got one this step.
bool Session::any_output_grad(const Step& s) const {
  for (size_t k = 0; k < s.out.size() && (int)k < s.kernel->grad_outputs(); k++)
    if (s.out[k] >= 0 && values_[s.out[k]].written) return true;
  return false;
}

void Session::run_backward() {
  std::set<int> skip;
  for (auto& p : loss_plans_) skip.insert(p.skip_node);
  for (size_t k = steps_.size(); k-- > 0;) {
    if (skip.count((int)k) || !any_output_grad(steps_[k])) continue;
    run_node(k, true, true);
  }
}

double Session::weight_penalty(bool add_grads) {
  double sum = 0;
  for (size_t i = 0; i < desc_.weight_rules.size(); i++) {
    const WeightRule& r = desc_.weight_rules[i];
    if (r.l1 == 0 && r.l2 == 0) continue;
    Value& v = values_[rule_values_[i]];
    std::vector<float> w = v.t.values();
    sum += regularization_penalty(w, r);
    if (!add_grads) continue;
    if (!v.written) be_->fill(v.grad.data(), 0.0f, v.grad.size());  // the penalty alone reaches it
    v.written = true;
    Tensor g = Tensor::from(v.t.shape, regularization_gradient(w, r));
    rule_grads_.resize(desc_.weight_rules.size());
    be_->add_scaled(v.grad.data(), backend_copy(g, rule_grads_[i]), 1.0f, v.grad.size());
  }
  return sum;
}

// A constrained weight is read to the host, projected and written back (row order does not
// matter: a folded Dense kernel's rows are permuted whole, and norms run along or across them).
void Session::apply_constraints() {
  for (size_t i = 0; i < desc_.weight_rules.size(); i++) {
    const WeightRule& r = desc_.weight_rules[i];
    if (r.constraint == ConstraintKind::None) continue;
    Value& v = values_[rule_values_[i]];
    std::vector<float> w = v.t.values();
    apply_constraint(w, r);
    v.t.assign(std::move(w));
  }
}

void Session::apply_optimizer() {
  penalty_ = weight_penalty(true);  // this step's weights, before the update
  iterations_++;
  std::vector<float*> grads;
  std::vector<int64_t> sizes;
  for (int k : trainable_)
    if (values_[k].written) grads.push_back(values_[k].grad.data()), sizes.push_back(values_[k].grad.size());
  be_->clip_gradients(desc_.optimizer, grads, sizes);
  const OptimizerSlots need = optimizer_slots(desc_.optimizer);
  for (int k : trainable_) {
    Value& v = values_[k];
    if (!v.written) continue;  // no gradient reached it (Keras skips such variables too)
    Slots& s = slots_[k];
    auto slot = [&](Tensor& t, bool needed) -> float* {  // zeros on first use
      if (!needed) return nullptr;
      if (!t.holds_values()) {
        t.device = device_;
        t.reset(v.t.shape);
        be_->fill(t.data(), 0.0f, t.size());
      }
      return t.data();
    };
    be_->optimizer_update(desc_.optimizer, v.t.data(), v.grad.data(), v.t.size(), slot(s.m, need.m),
                          slot(s.v, need.v), slot(s.mg, need.mg), iterations_);
  }
  apply_constraints();  // as Keras's optimizer, after the update
}

}  // namespace strata
