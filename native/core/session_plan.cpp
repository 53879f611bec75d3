// session_plan.cpp: where a Session's values live and how: in the backend's memory (a GPU's)
// or the host's, shapes inferred and buffers sized once per input-shape signature, the
// losses fused with their Softmax or Sigmoid, the activations kept in the backend's blocked
// layout, and the rows of folded Dense weights.
#include <set>

#include "check.h"
#include "row_order.h"
#include "session.h"

namespace strata {

// On a backend with its own memory every value, gradient and scratch tensor lives there
// (Tensor::device): the weights are uploaded here, once; a graph input also keeps its batch on
// the host when a reader may take it as integers (Cast, Gather's indices read it there).
void Session::place_values() {
  device_ = be_->host_memory() ? nullptr : be_.get();
  host_copy_.assign(inputs_.size(), !device_);
  if (!device_) return;
  for (auto& v : values_) {
    v.t.device = v.grad.device = device_;
    if (v.is_weight && v.t.dtype == DType::F32) v.t.assign(v.t.f);  // keeps the host copy: infer() reads constants
  }
  for (auto& s : steps_)
    for (size_t i = 0; i < s.in.size(); i++)
      for (size_t k = 0; k < inputs_.size(); k++)
        if (s.in[i] == inputs_[k] && s.kernel->accepts_int((int)i)) host_copy_[k] = true;
}

// This step's batch into the planned input values: on the host (copied into the planned
// allocation) or the device (uploaded).
void Session::load_inputs(const std::vector<Tensor>& inputs) {
  for (size_t k = 0; k < inputs.size(); k++) {
    Tensor& t = values_[inputs_[k]].t;
    t.dtype = inputs[k].dtype;
    t.i = inputs[k].i;
    if (host_copy_[k]) t.f = inputs[k].f;  // reuses the planned allocation
    if (!t.mem) continue;
    if (const float* at = arrived(k)) be_->copy(t.data(), at, inputs[k].size());
    else be_->upload(t.data(), inputs[k].data(), inputs[k].size());
  }
}

const float* Session::backend_copy(const Tensor& host, Tensor& on_device, const float* arrived) {
  if (!device_) return host.data();
  on_device.device = device_;
  on_device.reset(host.shape);
  if (arrived) be_->copy(on_device.data(), arrived, host.size());
  else be_->upload(on_device.data(), host.data(), host.size());
  return on_device.data();
}

Backend::HostParts Session::batch_parts(const Batch& b) {
  Backend::HostParts parts;
  for (auto* list : {&b.inputs, &b.targets, &b.sample_weights})
    for (const Tensor& t : *list)
      parts.emplace_back(t.dtype == DType::F32 ? t.data() : nullptr, t.dtype == DType::F32 ? (int64_t)t.f.size() : 0);
  return parts;
}

// The next step's batch: on a device, its floats go to the backend's staging area now (the
// upload runs while the step queued before computes); on the host it is kept as it is.
void Session::stage(Batch next) {
  STRATA_CHECK(next.inputs.size() == inputs_.size(),
               "the next batch: the model takes " << inputs_.size() << " inputs, got " << next.inputs.size());
  Staged s{std::move(next), {}};
  if (device_) s.floats = be_->stage(batch_parts(s.batch));
  staged_ = std::move(s);
}

// Shapes are inferred and every buffer sized here, once per input-shape signature.
void Session::plan(const std::vector<Tensor>& inputs) {
  STRATA_CHECK(inputs.size() == inputs_.size(),
               "the model takes " << inputs_.size() << " inputs, got " << inputs.size());
  // led by the input count, so that a graph of no inputs (constants only) is planned once too
  std::vector<Shape> shapes{Shape{(int64_t)inputs.size()}};
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
  for (size_t k = 0; k < inputs.size(); k++) {  // shapes for infer(), values for those it reads
    Tensor& t = values_[inputs_[k]].t;
    t.reset(inputs[k].shape, inputs[k].dtype);
    t.f = inputs[k].f, t.i = inputs[k].i;
  }
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
      throw Error(msg.find(s.kernel->node.where()) == std::string::npos ? s.kernel->node.where() + ": " + msg : msg, e.source());
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
  for (BnFold& f : bn_folds_)  // the folded Conv writes the BN's (or Clip's) output in the layout planned for its own
    f.usable = blocked_[steps_[f.conv].out[0]] == blocked_[steps_[f.clip >= 0 ? f.clip : f.bn].out[0]];
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
    auto reorder = [&](Tensor& t) {  // on the host: plans are rare
      if (t.holds_values()) t.assign(rows_from_graph(want, to_graph_order(w, t.values()), w.t.shape[1]));
    };
    reorder(w.t);
    if (w.grad.shape == w.t.shape) reorder(w.grad);
    auto st = slots_.find(fold.weight);
    if (st != slots_.end())
      for (Tensor* slot : {&st->second.m, &st->second.v, &st->second.mg}) reorder(*slot);
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

}  // namespace strata
