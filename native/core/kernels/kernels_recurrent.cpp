// kernels_recurrent.cpp: ONNX's LSTM, GRU and RNN (ops/recurrent.h) as kernels, run by the
// backend's recurrent_forward/backward: on the CPU the host path with oneDNN's matrix products,
// on CUDA the device path (cuda/cuda_recurrent.cuh). A backend without them is refused by name.
#include <algorithm>

#include "../check.h"
#include "../kernel.h"
#include "../ops/recurrent.h"

namespace strata {

namespace {

// ONNX's activation names with their default alpha and beta (ONNX's RNN operators' table);
// Affine, ScaledTanh and Softsign have no Act.
bool recurrent_act(const std::string& name, ActParams& a, bool& takes_alpha, bool& takes_beta, float& alpha,
                   float& beta) {
  takes_alpha = takes_beta = false;
  if (name == "Sigmoid") a.kind = Act::Sigmoid;
  else if (name == "Tanh") a.kind = Act::Tanh;
  else if (name == "Relu") a.kind = Act::Relu;
  else if (name == "Softplus") a.kind = Act::Softplus;
  else if (name == "LeakyRelu") a.kind = Act::LeakyRelu, takes_alpha = true, alpha = 0.01f;
  else if (name == "ThresholdedRelu") a.kind = Act::ThresholdedRelu, takes_alpha = true, alpha = 1.0f;
  else if (name == "Elu") a.kind = Act::Elu, takes_alpha = true, alpha = 1.0f;
  else if (name == "HardSigmoid") a.kind = Act::HardSigmoid, takes_alpha = takes_beta = true, alpha = 0.2f, beta = 0.5f;
  else return false;
  return true;
}

class RecurrentKernel : public OpKernel {
 public:
  RecurrentKernel(const Node& n, Cell cell) : OpKernel(n) {
    p_.cell = cell;
    STRATA_CHECK(!node.has("clip"), node.where() << ": the clip attribute is not supported (leave it out)");
    STRATA_CHECK(node.get_int("input_forget", 0) == 0, node.where() << ": input_forget=1 is not supported");
    const std::string dir = node.get_string("direction", "forward");
    STRATA_CHECK(dir == "forward" || dir == "reverse" || dir == "bidirectional",
                 node.where() << ": direction '" << dir << "' is not forward, reverse or bidirectional");
    p_.directions = dir == "bidirectional" ? 2 : 1;
    p_.reverse = dir == "reverse";
    const int64_t layout = node.get_int("layout", 0);
    STRATA_CHECK(layout == 0 || layout == 1, node.where() << ": layout " << layout << " is not 0 or 1");
    p_.batch_major = layout == 1;
    p_.linear_before_reset = cell == Cell::GRU && node.get_int("linear_before_reset", 0) != 0;
    parse_activations();
  }

  void infer(const Ins& in, Outs& out) override {
    const Shape& x = in[0]->shape;
    STRATA_CHECK(x.size() == 3, node.where() << ": X must be 3-D (steps, batch, features), got " << shape_str(x));
    p_.T = (int)(p_.batch_major ? x[1] : x[0]), p_.B = (int)(p_.batch_major ? x[0] : x[1]), p_.I = (int)x[2];
    const int64_t D = p_.directions, G = p_.gates();
    p_.H = (int)node.get_int("hidden_size", in[2]->shape.size() == 3 ? in[2]->shape[2] : 0);
    const int64_t H = p_.H;
    expect(in[1], "W", {D, G * H, p_.I});
    expect(in[2], "R", {D, G * H, H});
    if (has(in, 3)) expect(in[3], "B", {D, 2 * G * H});
    if (has(in, 4)) check_sequence_lens(*in[4]);
    const Shape state = p_.batch_major ? Shape{p_.B, D, H} : Shape{D, p_.B, H};
    if (has(in, 5)) expect(in[5], "initial_h", state);
    if (has(in, 6)) expect(in[6], "initial_c", state);
    if (has(in, 7)) expect(in[7], "P", {D, 3 * H});
    if (out[0]) out[0]->reset(p_.batch_major ? Shape{p_.B, p_.T, D, H} : Shape{p_.T, D, p_.B, H});
    for (size_t k = 1; k < out.size(); k++)
      if (out[k]) out[k]->reset(state);
  }

  void forward(KernelContext& ctx, const Ins& in, Outs& out) override {
    reset_beside(state_, *in[0], {recurrent_state_size(p_)});  // the backend's memory
    RecurrentOutputs o{data(out, 0), data(out, 1), data(out, 2)};
    ctx.be->recurrent_forward(o, state_.data(), inputs(in), p_);
  }

  void backward_outputs(KernelContext& ctx, const Ins& in, const Outs&, const std::vector<const Tensor*>& douts,
                        Grads& din) override {
    RecurrentGrads g{grad(din, 0), grad(din, 1), grad(din, 2), grad(din, 3), grad(din, 5), grad(din, 6), grad(din, 7)};
    auto dout = [&](size_t k) { return k < douts.size() && douts[k] ? douts[k]->data() : nullptr; };
    ctx.be->recurrent_backward(g, dout(0), dout(1), dout(2), state_.data(), inputs(in), p_);
  }
  void backward(KernelContext& ctx, const Ins& in, const Outs& out, const Tensor& dout, Grads& din) override {
    backward_outputs(ctx, in, out, {&dout}, din);
  }
  int grad_outputs() const override { return 3; }
  bool accumulates(int i) const override { return i == 1 || i == 2 || i == 3 || i == 7; }
  bool differentiable(int i) const override { return i != 4; }
  bool accepts_int(int i) const override { return i == 4; }
  int required_inputs() const override { return 3; }

 private:
  RecurrentParams p_;
  Tensor state_;  // what the last forward keeps for the backward, in the backend's memory

  static bool has(const Ins& in, size_t k) { return in.size() > k && in[k]; }
  static float* data(const Outs& out, size_t k) { return out.size() > k && out[k] ? out[k]->data() : nullptr; }
  static float* grad(Grads& din, size_t k) { return din.size() > k && din[k] ? din[k]->data() : nullptr; }
  RecurrentInputs inputs(const Ins& in) const {
    auto at = [&](size_t k) -> const float* { return has(in, k) ? in[k]->data() : nullptr; };
    return {at(0), at(1), at(2), at(3), at(5), p_.cell == Cell::LSTM ? at(6) : nullptr,
            p_.cell == Cell::LSTM ? at(7) : nullptr};
  }
  void expect(const Tensor* t, const char* what, const Shape& want) const {
    STRATA_CHECK(t->shape == want, node.where() << ": " << what << " must be " << shape_str(want) << " for hidden_size "
                                                << p_.H << ", got " << shape_str(t->shape));
  }
  // Steps shorter than the sequence (padding) are not supported: every length must be T.
  void check_sequence_lens(const Tensor& lens) const {
    STRATA_CHECK(lens.shape == Shape{p_.B}, node.where() << ": sequence_lens must be [" << p_.B << "], got "
                                                         << shape_str(lens.shape));
    if (!lens.holds_values()) return;
    for (int64_t v : lens.as_i64())
      STRATA_CHECK(v == p_.T, node.where() << ": sequence_lens " << v << " differs from the " << p_.T
                                           << " steps; only full-length sequences are supported");
  }

  // ONNX's activations attribute, with activation_alpha/beta read in order for the
  // activations that take them (as onnxruntime does); one direction's list serves both.
  void parse_activations() {
    const std::vector<std::string> defaults =
        p_.cell == Cell::LSTM ? std::vector<std::string>{"Sigmoid", "Tanh", "Tanh"}
        : p_.cell == Cell::GRU ? std::vector<std::string>{"Sigmoid", "Tanh"}
                               : std::vector<std::string>{"Tanh"};
    auto it = node.attrs.find("activations");
    std::vector<std::string> names = it == node.attrs.end() ? defaults : it->second.strings;
    const size_t per = (size_t)p_.acts_per_direction();
    if (names.size() == per && p_.directions == 2) {  // a copy: a vector's insert of its own range is undefined
      const std::vector<std::string> one_direction = names;
      names.insert(names.end(), one_direction.begin(), one_direction.end());
    }
    STRATA_CHECK(names.size() == per * p_.directions,
                 node.where() << ": activations has " << names.size() << " names, expected " << per * p_.directions);
    auto floats = [&](const char* a) {
      auto f = node.attrs.find(a);
      return f == node.attrs.end() ? std::vector<float>{} : f->second.floats;
    };
    const std::vector<float> alphas = floats("activation_alpha"), betas = floats("activation_beta");
    size_t next_alpha = 0, next_beta = 0;
    for (const std::string& name : names) {
      ActParams a{Act::Tanh};
      bool takes_alpha, takes_beta;
      float alpha = 0, beta = 0;
      STRATA_CHECK(recurrent_act(name, a, takes_alpha, takes_beta, alpha, beta),
                   node.where() << ": activation '" << name
                                << "' is not supported; supported: Sigmoid, Tanh, Relu, HardSigmoid, LeakyRelu, "
                                   "ThresholdedRelu, Elu, Softplus");
      if (takes_alpha && next_alpha < alphas.size()) alpha = alphas[next_alpha++];
      if (takes_beta && next_beta < betas.size()) beta = betas[next_beta++];
      a.alpha = alpha, a.gamma = beta;  // ActParams: HardSigmoid's beta is gamma
      p_.acts.push_back(a);
    }
  }
};

}  // namespace

std::unique_ptr<OpKernel> make_recurrent_kernel(const Node& n) {
  if (n.op_type == "LSTM") return std::make_unique<RecurrentKernel>(n, Cell::LSTM);
  if (n.op_type == "GRU") return std::make_unique<RecurrentKernel>(n, Cell::GRU);
  if (n.op_type == "RNN") return std::make_unique<RecurrentKernel>(n, Cell::RNN);
  return nullptr;
}

}  // namespace strata
