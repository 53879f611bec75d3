// test_conv_folds.cpp: the rewrites that fold a neighbour into a convolution on the CPU
// backend (session_fusions.cpp): a BatchNormalization after a Conv folded into its weights and
// bias in inference passes, and a zero spatial Pad before a Conv folded into its pads. The folded model's outputs, losses and gradients equal the
// reference backend's (which never folds), also after train steps and set_weight changed the
// weights and moving statistics the folded copy was made from; where the rewrite must not
// apply, it does not.
#include <string>
#include <vector>

#include "core/check.h"
#include "core/session.h"
#include "model_builder.h"
#include "test_util.h"

using namespace strata;
using namespace strata_test;

// A BatchNormalization over `c` channels with parameters far from the identity.
static void add_batchnorm(ModelBuilder& b, Rng& rng, const std::string& name, int64_t c, const std::string& x,
                          const std::string& y) {
  b.init(name + "_gamma", rand_tensor(rng, {c}, 0.5f, 1.5f)).init(name + "_beta", rand_tensor(rng, {c}, -0.5f, 0.5f));
  b.init(name + "_mean", rand_tensor(rng, {c}, -0.3f, 0.3f)).init(name + "_var", rand_tensor(rng, {c}, 0.5f, 2.0f));
  b.node("BatchNormalization", {x, name + "_gamma", name + "_beta", name + "_mean", name + "_var"}, {y},
         {Attr::f("epsilon", 1e-3f), Attr::f("momentum", 0.5f)});
}

// x (-1,8,7,7) -> depthwise Conv 3x3 (no bias) -> BN -> Relu -> Conv 1x1 16 (bias) -> BN
//   -> Clip 0..0.6 (ReLU6-like) -> grouped Conv 3x3 stride 2 (group 4, bias) -> BN -> Clip -0.3..0.4
//   -> Conv 1x1 -> BN -> y; all four BNs fold, with the Relu and Clips after them.
// With `shared`, the 1x1 Conv's output is also read by a second node and its BN must not fold.
static std::string conv_bn_model(Rng& rng, bool shared) {
  ModelBuilder b;
  b.input("x", {-1, 8, 7, 7}).output("y");
  if (shared) b.output("side");
  b.init("dw", rand_tensor(rng, {8, 1, 3, 3}, -0.5f, 0.5f));
  b.init("pw", rand_tensor(rng, {16, 8, 1, 1}, -0.4f, 0.4f)).init("pb", rand_tensor(rng, {16}, -0.2f, 0.2f));
  b.init("gw", rand_tensor(rng, {16, 4, 3, 3}, -0.3f, 0.3f)).init("gb", rand_tensor(rng, {16}, -0.2f, 0.2f));
  b.init("ow", rand_tensor(rng, {16, 16, 1, 1}, -0.4f, 0.4f));
  b.init("zero", Tensor::from({}, {0.0f})).init("six", Tensor::from({}, {0.6f}));
  b.init("lo", Tensor::from({}, {-0.3f})).init("hi", Tensor::from({}, {0.4f}));
  b.node("Conv", {"x", "dw"}, {"d"}, {Attr::i("group", 8), Attr::ints("pads", {1, 1, 1, 1})});
  add_batchnorm(b, rng, "bn1", 8, "d", "dn");
  b.node("Relu", {"dn"}, {"dr"}).node("Conv", {"dr", "pw", "pb"}, {"p"});
  if (shared) b.node("Sigmoid", {"p"}, {"side"});
  add_batchnorm(b, rng, "bn2", 16, "p", "pn");
  b.node("Clip", {"pn", "zero", "six"}, {"pc"});
  b.node("Conv", {"pc", "gw", "gb"}, {"g"}, {Attr::i("group", 4), Attr::ints("strides", {2, 2})});
  add_batchnorm(b, rng, "bn3", 16, "g", "gn");
  b.node("Clip", {"gn", "lo", "hi"}, {"gc"}).node("Conv", {"gc", "ow"}, {"o"});
  add_batchnorm(b, rng, "bn4", 16, "o", "y");
  return b.bytes();
}

static int folded_count(const Session& s) {
  int n = 0;
  for (auto& t : s.node_times()) n += t.node.find("(inference)") != std::string::npos;
  return n;
}

static std::unique_ptr<Session> session(const std::string& model, const std::string& backend, bool shared) {
  TrainingDescription d;
  d.losses = {{"y", LossKind::MeanSquaredError}};
  if (shared) d.losses.push_back({"side", LossKind::MeanSquaredError});
  d.optimizer = OptimizerConfig::keras_default(OptKind::SGD);
  d.optimizer.learning_rate = 0.05f;
  d.backend = backend;
  return Session::from_onnx(model.data(), model.size(), d);
}

static void same_outputs(Session& got, Session& want, const Tensor& x, const std::string& what) {
  auto a = got.forward({x}), b = want.forward({x});
  for (size_t k = 0; k < a.size(); k++)
    validate_result(a[k].data(), b[k].data(), what + " output " + std::to_string(k), a[k].size());
}

// A train step on both: the same loss and weight gradients.
static void same_step(Session& got, Session& want, const Tensor& x, const std::vector<Tensor>& targets,
                      const std::string& what) {
  float a = got.train_step({x}, targets).loss, b = want.train_step({x}, targets).loss;
  validate_result(&a, &b, what + " loss", 1);
  for (auto& n : got.trainable_names()) {
    Tensor ga = got.get_gradient(n), gb = want.get_gradient(n);
    validate_result(ga.data(), gb.data(), what + " d(" + n + ")", ga.size());
  }
}

// Inference, train steps (new weights and moving statistics), inference again, set_weight,
// inference again: the CPU's folded passes give the reference's outputs each time, and the
// train steps its losses and gradients.
static void test_batchnorm_fold(bool shared) {
  Rng rng(7);
  std::string model = conv_bn_model(rng, shared);
  const std::string name = shared ? "BN fold, a Conv output read twice" : "BN fold";
  Tensor x = rand_tensor(rng, {5, 8, 7, 7}), y = rand_tensor(rng, {5, 16, 3, 3}), side = rand_tensor(rng, {5, 16, 7, 7});
  std::vector<Tensor> targets = {y};
  if (shared) targets.push_back(side);
  auto cpu = session(model, "cpu", shared), ref = session(model, "reference", shared);
  expect(folded_count(*cpu) == (shared ? 3 : 4), name + ": folded Conv + BN pairs on cpu: " + std::to_string(folded_count(*cpu)));
  expect(folded_count(*ref) == 0, name + ": the reference backend folds nothing");
  same_outputs(*cpu, *ref, x, name + " before training");
  for (int step = 0; step < 3; step++) {
    same_step(*cpu, *ref, x, targets, name + " step " + std::to_string(step));
    same_outputs(*cpu, *ref, x, name + " after train step " + std::to_string(step));
  }
  for (const char* w : {"bn3_gamma", "bn3_var", "gb", "bn4_mean"}) {
    Tensor v = ref->get_weight(w);
    for (float& f : v.f) f = f * 1.5f + 0.25f;
    cpu->set_weight(w, v), ref->set_weight(w, v);
    same_outputs(*cpu, *ref, x, name + " after set_weight('" + std::string(w) + "')");
  }
  float a = cpu->evaluate({x}, targets).loss, b = ref->evaluate({x}, targets).loss;
  validate_result(&a, &b, name + " evaluate loss", 1);
}

// A BN in training mode (training_mode=1: batch statistics even in inference) or one that a
// Conv's fused Relu stands between never folds.
static void test_batchnorm_not_folded() {
  Rng rng(9);
  ModelBuilder b;
  b.input("x", {-1, 4, 5, 5}).output("y").output("z");
  b.init("w", rand_tensor(rng, {4, 4, 3, 3}, -0.5f, 0.5f)).init("w2", rand_tensor(rng, {4, 4, 1, 1}, -0.5f, 0.5f));
  b.node("Conv", {"x", "w"}, {"c"}).node("Relu", {"c"}, {"r"});
  add_batchnorm(b, rng, "bn1", 4, "r", "y");
  b.node("Conv", {"x", "w2"}, {"c2"});
  b.init("g", rand_tensor(rng, {4}, 0.5f, 1.5f)).init("be", rand_tensor(rng, {4})).init("m", Tensor({4}));
  b.init("v", rand_tensor(rng, {4}, 0.5f, 1.5f));
  b.node("BatchNormalization", {"c2", "g", "be", "m", "v"}, {"z"}, {Attr::i("training_mode", 1)});
  std::string model = b.bytes();
  TrainingDescription d;
  d.losses = {{"y", LossKind::MeanSquaredError}};
  d.backend = "cpu";
  auto cpu = Session::from_onnx(model.data(), model.size(), d);
  d.backend = "reference";
  auto ref = Session::from_onnx(model.data(), model.size(), d);
  expect(folded_count(*cpu) == 0, "no fold through a fused Relu or into a training-mode BN: " + std::to_string(folded_count(*cpu)));
  same_outputs(*cpu, *ref, rand_tensor(rng, {3, 4, 5, 5}), "unfolded BNs");
}

// x (-1,4,6,6) -> Conv 1x1 8 -> a: Pad zeros (H: 0 before, 1 after; W: 1 before, 0 after) ->
// depthwise Conv 3x3 stride 2 -> y (folds); b: Pad with 0.5 -> Conv -> z (not zero: stays);
// c: Pad on the channel axis -> Conv -> u (not spatial: stays); d: Pad zeros -> v, a graph
// output (visible: stays) -> Conv -> q.
static std::string pad_model(Rng& rng) {
  ModelBuilder b;
  b.input("x", {-1, 4, 6, 6}).output("y").output("z").output("u").output("v").output("q");
  b.init("w1", rand_tensor(rng, {8, 4, 1, 1}, -0.5f, 0.5f)).init("b1", rand_tensor(rng, {8}, -0.2f, 0.2f));
  b.init("dw", rand_tensor(rng, {8, 1, 3, 3}, -0.5f, 0.5f)).init("db", rand_tensor(rng, {8}, -0.2f, 0.2f));
  b.init("cw", rand_tensor(rng, {8, 8, 3, 3}, -0.3f, 0.3f)).init("cw9", rand_tensor(rng, {8, 9, 3, 3}, -0.3f, 0.3f));
  b.init("spatial", Tensor::from_i64({8}, {0, 0, 0, 1, 0, 0, 1, 0}));
  b.init("channels", Tensor::from_i64({8}, {0, 1, 1, 1, 0, 0, 1, 1})).init("half", Tensor::from({}, {0.5f}));
  b.node("Conv", {"x", "w1", "b1"}, {"h"});
  b.node("Pad", {"h", "spatial"}, {"hp"});
  b.node("Conv", {"hp", "dw", "db"}, {"y"}, {Attr::i("group", 8), Attr::ints("strides", {2, 2})});
  b.node("Pad", {"h", "spatial", "half"}, {"hz"}).node("Conv", {"hz", "cw"}, {"z"});
  b.node("Pad", {"h", "channels"}, {"hc"}).node("Conv", {"hc", "cw9"}, {"u"});
  b.node("Pad", {"h", "spatial"}, {"v"}).node("Conv", {"v", "cw"}, {"q"}, {Attr::ints("pads", {1, 0, 0, 1})});
  return b.bytes();
}

// Only the zero, spatial, invisible Pad folds; the folded model gives the reference's outputs,
// losses and gradients (the 1x1 Conv's weights get theirs through the folded Pad's input).
static void test_pad_fold() {
  Rng rng(11);
  std::string model = pad_model(rng);
  TrainingDescription d;
  d.losses = {{"y", LossKind::MeanSquaredError}, {"z", LossKind::MeanSquaredError}, {"u", LossKind::MeanSquaredError},
              {"q", LossKind::MeanSquaredError}};
  d.optimizer = OptimizerConfig::keras_default(OptKind::SGD);
  d.backend = "cpu";
  auto cpu = Session::from_onnx(model.data(), model.size(), d);
  d.backend = "reference";
  auto ref = Session::from_onnx(model.data(), model.size(), d);
  int folded = 0;
  for (auto& t : cpu->node_times()) folded += t.node.find(" + Pad node") != std::string::npos;
  expect(folded == 1, "Pad fold: only the zero spatial Pad folds: " + std::to_string(folded));
  Tensor x = rand_tensor(rng, {3, 4, 6, 6});
  std::vector<Tensor> targets = {rand_tensor(rng, {3, 8, 3, 3}), rand_tensor(rng, {3, 8, 5, 5}),
                                 rand_tensor(rng, {3, 8, 6, 6}), rand_tensor(rng, {3, 8, 6, 6})};
  same_outputs(*cpu, *ref, x, "Pad fold");
  for (int step = 0; step < 2; step++) {
    same_step(*cpu, *ref, x, targets, "Pad fold step " + std::to_string(step));
  }
  same_outputs(*cpu, *ref, x, "Pad fold after training");
}

// x (-1,4,6,6) -> Conv 3x3 same -> Clip -0.2..0.3 -> grouped Conv 3x3 (bias) -> Clip 0..0.6
//   -> MaxPool 2 -> y; and Conv 1x1 -> u (a graph output, so its Clip stays apart) -> Clip -> v.
// The first two Clips run inside their Convs, in training too, and not the third; the MaxPool
// stays apart (the Conv + MaxPool kernels apply no Clip).
static std::string conv_clip_model(Rng& rng) {
  ModelBuilder b;
  b.input("x", {-1, 4, 6, 6}).output("y").output("v").output("u");
  b.init("w1", rand_tensor(rng, {8, 4, 3, 3}, -0.4f, 0.4f)).init("w2", rand_tensor(rng, {8, 2, 3, 3}, -0.4f, 0.4f));
  b.init("b2", rand_tensor(rng, {8}, -0.2f, 0.2f)).init("w3", rand_tensor(rng, {4, 4, 1, 1}, -0.5f, 0.5f));
  b.init("lo", Tensor::from({}, {-0.2f})).init("hi", Tensor::from({}, {0.3f}));
  b.init("zero", Tensor::from({}, {0.0f})).init("six", Tensor::from({}, {0.6f}));
  b.node("Conv", {"x", "w1"}, {"a"}, {Attr::s("auto_pad", "SAME_UPPER")}).node("Clip", {"a", "lo", "hi"}, {"ac"});
  b.node("Conv", {"ac", "w2", "b2"}, {"g"}, {Attr::i("group", 4), Attr::s("auto_pad", "SAME_UPPER")});
  b.node("Clip", {"g", "zero", "six"}, {"c"});
  b.node("MaxPool", {"c"}, {"y"}, {Attr::ints("kernel_shape", {2, 2}), Attr::ints("strides", {2, 2})});
  b.node("Conv", {"x", "w3"}, {"u"}).node("Clip", {"u", "zero", "six"}, {"v"});
  return b.bytes();
}

// The Clips fused into their Convs give the reference's outputs, losses and gradients.
static void test_clip_fusion() {
  Rng rng(13);
  std::string model = conv_clip_model(rng);
  TrainingDescription d;
  d.losses = {{"y", LossKind::MeanSquaredError}, {"v", LossKind::MeanSquaredError}};
  d.optimizer = OptimizerConfig::keras_default(OptKind::SGD);
  d.optimizer.learning_rate = 0.1f;
  d.backend = "cpu";
  auto cpu = Session::from_onnx(model.data(), model.size(), d);
  d.backend = "reference";
  auto ref = Session::from_onnx(model.data(), model.size(), d);
  int fused = 0;
  for (auto& t : cpu->node_times()) fused += t.node.find(" + Clip node") != std::string::npos;
  expect(fused == 2, "Clip fusion: the two Clips fuse, not the one after a graph output: " +
                         std::to_string(fused));
  Tensor x = rand_tensor(rng, {3, 4, 6, 6});
  std::vector<Tensor> targets = {rand_tensor(rng, {3, 8, 3, 3}), rand_tensor(rng, {3, 4, 6, 6}, 0.2f, 0.8f)};
  same_outputs(*cpu, *ref, x, "Clip fusion");
  for (int step = 0; step < 3; step++) {
    same_step(*cpu, *ref, x, targets, "Clip fusion step " + std::to_string(step));
  }
  same_outputs(*cpu, *ref, x, "Clip fusion after training");
}

int main() {
  try {
    test_clip_fusion();
    test_pad_fold();
    test_batchnorm_fold(false);
    test_batchnorm_fold(true);
    test_batchnorm_not_folded();
  } catch (const std::exception& e) {
    std::printf("FAIL: exception: %s\n", e.what());
    return 1;
  }
  return finish("test_conv_folds");
}
