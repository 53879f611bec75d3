// test_session.cpp: the training session end to end on models built in C++:
// a Dense net and a small CNN (Conv, BatchNormalization, MaxPool, Dropout, Gemm,
// Softmax) train on random data and their loss falls; runs are deterministic for a
// seed; frozen weights stay put; whole-graph gradients (fan-out, Swish, residual,
// Concat, Embedding, the translator's LayerNormalization and MultiHeadAttention, fused losses)
// match finite differences; errors name the node.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <regex>
#include <set>
#include <thread>

#include "core/check.h"
#include "core/kernel.h"
#include "core/ops/augment.h"
#include "core/session.h"
#include "model_builder.h"
#include "test_util.h"

using namespace strata;
using namespace strata_test;

static Tensor glorot(Rng& rng, Shape s, int64_t fan_in, int64_t fan_out) {
  float lim = std::sqrt(6.0f / (fan_in + fan_out));
  return rand_tensor(rng, std::move(s), -lim, lim);
}

// x (-1, 8) -> Dense 16 relu -> Dense 3 -> Softmax
static std::string dense_model(Rng& rng) {
  ModelBuilder b;
  b.input("x", {-1, 8}).output("probs");
  b.init("w1", glorot(rng, {8, 16}, 8, 16)).init("b1", Tensor({16})).init("w2", glorot(rng, {16, 3}, 16, 3));
  b.init("b2", Tensor({3})).init("unused", Tensor::from({2}, {1, 2}));
  b.node("MatMul", {"x", "w1"}, {"h0"}).node("Add", {"h0", "b1"}, {"h1"}).node("Relu", {"h1"}, {"h2"});
  b.node("MatMul", {"h2", "w2"}, {"z0"}).node("Add", {"z0", "b2"}, {"z"}).node("Softmax", {"z"}, {"probs"});
  return b.bytes();
}

// Labels a fixed random linear map of x can predict.
static void dense_data(Rng& rng, int n, Tensor& x, Tensor& y) {
  x = rand_tensor(rng, {n, 8});
  Tensor w = rand_tensor(rng, {8, 3});
  y.reset({n});
  for (int r = 0; r < n; r++) {
    float best = -1e9f;
    for (int c = 0; c < 3; c++) {
      float s = 0;
      for (int k = 0; k < 8; k++) s += x.f[r * 8 + k] * w.f[k * 3 + c];
      if (s > best) best = s, y.f[r] = (float)c;
    }
  }
}

static std::vector<float> train(Session& s, const Tensor& x, const Tensor& y, int steps) {
  std::vector<float> losses;
  for (int k = 0; k < steps; k++) losses.push_back(s.train_step({x}, {y}).loss);
  return losses;
}

static void test_dense() {
  Rng rng(1);
  std::string model = dense_model(rng);
  Tensor x, y;
  dense_data(rng, 64, x, y);
  TrainingDescription d;
  d.losses = {{"probs", LossKind::SparseCategoricalCrossentropy, false, 1.0f, {MetricKind::SparseCategoricalAccuracy}}};
  d.optimizer = OptimizerConfig::keras_default(OptKind::Adam);
  d.optimizer.learning_rate = 0.01f;
  auto s = Session::from_onnx(model.data(), model.size(), d);
  expect(s->trainable_names().size() == 4, "Dense: 4 trainable weights (unused initializer excluded)");
  Tensor w1 = s->get_weight("w1");
  auto losses = train(*s, x, y, 60);
  std::printf("Dense net: loss %.4f -> %.4f\n", losses.front(), losses.back());
  expect(losses.back() < 0.5f * losses.front(), "Dense net loss falls by half in 60 steps");
  StepResult ev = s->evaluate({x}, {y});
  expect(ev.metrics[0].size() == 1 && ev.metrics[0][0] > 0.8f, "Dense net fits its training data (accuracy > 0.8)");
  expect(s->get_weight("w1").f != w1.f, "trained weights changed");
  expect(s->get_weight("unused").f == std::vector<float>({1, 2}), "an initializer no gradient reaches is untouched");
  auto probs = s->forward({x})[0];
  float row = probs.f[0] + probs.f[1] + probs.f[2];
  expect(probs.shape == Shape({64, 3}) && std::fabs(row - 1) < 1e-5, "forward returns softmax rows");

  // determinism: same seed, same model, same data -> identical losses
  auto s2 = Session::from_onnx(model.data(), model.size(), d);
  expect(train(*s2, x, y, 60) == losses, "Dense net training is deterministic");

  // frozen weights: only w2, b2 trainable -> w1, b1 stay exactly as loaded
  TrainingDescription f = d;
  f.trainable = {"w2", "b2"};
  auto s3 = Session::from_onnx(model.data(), model.size(), f);
  Tensor b2 = s3->get_weight("b2");
  train(*s3, x, y, 3);
  expect(s3->get_weight("w1").f == w1.f, "frozen w1 unchanged");
  expect(s3->get_weight("b2").f != b2.f, "trainable b2 changed");
  Tensor g2 = s3->get_gradient("w2");
  s3->evaluate({x}, {y});
  expect(g2.f == s3->get_gradient("w2").f && s3->get_gradient("w1").f == std::vector<float>(w1.size(), 0.0f),
         "get_gradient: the last step's gradients, zeros for frozen weights, kept across evaluate()");
  // learning rate 0: a step changes nothing
  s3->set_learning_rate(0.0f);
  Tensor w2 = s3->get_weight("w2");
  s3->train_step({x}, {y});
  expect(s3->get_weight("w2").f == w2.f && s3->description().optimizer.learning_rate == 0.0f,
         "set_learning_rate(0) freezes the next step");

  // a new batch size re-plans the buffers
  Tensor x8({8, 8}), y8({8});
  std::copy(x.f.begin(), x.f.begin() + 64, x8.f.begin());
  std::copy(y.f.begin(), y.f.begin() + 8, y8.f.begin());
  expect(std::isfinite(s->train_step({x8}, {y8}).loss), "a different batch size trains");
  // stop
  s->request_stop();
  expect(s->train_step({x}, {y}).stopped, "train_step after request_stop reports stopped");
}

// Resuming: a fresh session given the weights, the optimizer slots and the step count of a
// trained one continues exactly as the trained one does (Adam's moments and bias correction).
// On "cuda-emu" the weights and slots cross the device's memory both ways.
static void test_resume(const std::string& backend) {
  Rng rng(4);
  std::string model = dense_model(rng);
  Tensor x, y;
  dense_data(rng, 32, x, y);
  for (OptKind kind : {OptKind::Adam, OptKind::SGD, OptKind::RMSprop}) {
    TrainingDescription d;
    d.backend = backend;
    d.losses = {{"probs", LossKind::SparseCategoricalCrossentropy}};
    d.optimizer = OptimizerConfig::keras_default(kind);
    if (kind == OptKind::SGD) d.optimizer.momentum = 0.9f;
    if (kind == OptKind::RMSprop) d.optimizer.centered = true;
    auto a = Session::from_onnx(model.data(), model.size(), d);
    train(*a, x, y, 5);
    auto b = Session::from_onnx(model.data(), model.size(), d);
    for (const auto& name : a->trainable_names()) {
      b->set_weight(name, a->get_weight(name));
      for (const char* slot : {"m", "v", "mg"}) b->set_optimizer_slot(name, slot, a->get_optimizer_slot(name, slot));
    }
    b->set_iterations(a->iterations());
    train(*a, x, y, 2);
    train(*b, x, y, 2);
    bool same = true;
    for (const auto& name : a->trainable_names()) same = same && a->get_weight(name).f == b->get_weight(name).f;
    expect(same, "a session resumed from weights, optimizer slots and iterations continues exactly (" + backend + ", " +
                     (kind == OptKind::Adam ? "Adam" : kind == OptKind::SGD ? "SGD momentum" : "RMSprop centered") + ")");
  }
  auto s = Session::from_onnx(model.data(), model.size(), TrainingDescription{{{"probs", LossKind::SparseCategoricalCrossentropy}}});
  bool threw = false;
  try {
    s->set_optimizer_slot("w1", "m", {1, 2, 3});
  } catch (const Error& e) {
    threw = std::string(e.what()).find("has 3 values, the weight has 128") != std::string::npos;
  }
  expect(threw, "an optimizer slot of the wrong size is an error naming the weight");
}

// x (-1,1,8,8) -> Conv 4 3x3 same -> BN -> Relu -> MaxPool 2 -> Dropout .25 -> Conv 8 3x3 valid
//   -> Relu -> Flatten -> Gemm 3 (transB) -> Softmax
// x (-1, 1, 8, 8) -> Conv 4 -> BatchNormalization -> Relu -> MaxPool -> Dropout -> Conv 8 relu
// -> Flatten -> Gemm 3 -> Softmax
static std::string small_cnn_model(Rng& rng) {
  ModelBuilder b;
  b.input("x", {-1, 1, 8, 8}).output("probs");
  b.init("k1", glorot(rng, {4, 1, 3, 3}, 9, 36)).init("c1", Tensor({4}));
  b.init("gamma", Tensor::from({4}, {1, 1, 1, 1})).init("beta", Tensor({4}));
  b.init("mean", Tensor({4})).init("var", Tensor::from({4}, {1, 1, 1, 1}));
  b.init("k2", glorot(rng, {8, 4, 3, 3}, 36, 72)).init("c2", Tensor({8}));
  b.init("wd", glorot(rng, {3, 32}, 32, 3)).init("bd", Tensor({3}));
  b.init("ratio", Tensor::from({}, {0.25f}));
  b.node("Conv", {"x", "k1", "c1"}, {"a1"}, {Attr::s("auto_pad", "SAME_UPPER"), Attr::ints("kernel_shape", {3, 3})});
  b.node("BatchNormalization", {"a1", "gamma", "beta", "mean", "var"}, {"a2"},
         {Attr::f("epsilon", 1e-3f), Attr::f("momentum", 0.99f)});
  b.node("Relu", {"a2"}, {"a3"}).node("MaxPool", {"a3"}, {"a4"},
                                      {Attr::ints("kernel_shape", {2, 2}), Attr::ints("strides", {2, 2})});
  b.node("Dropout", {"a4", "ratio"}, {"a5"});
  b.node("Conv", {"a5", "k2", "c2"}, {"a6"}).node("Relu", {"a6"}, {"a7"}).node("Flatten", {"a7"}, {"a8"});
  b.node("Gemm", {"a8", "wd", "bd"}, {"z"}, {Attr::i("transB", 1)}).node("Softmax", {"z"}, {"probs"});
  return b.bytes();
}

static void test_cnn(const std::string& backend) {
  Rng rng(2);
  std::string model = small_cnn_model(rng);
  Tensor x = rand_tensor(rng, {32, 1, 8, 8}), y({32});
  for (int r = 0; r < 32; r++) {  // label: which third of the image is brightest
    float s[3] = {0, 0, 0};
    for (int i = 0; i < 64; i++) s[(i / 8) * 3 / 8] += x.f[r * 64 + i];
    y.f[r] = (float)(s[1] > s[0] ? (s[2] > s[1] ? 2 : 1) : (s[2] > s[0] ? 2 : 0));
  }
  TrainingDescription d;
  d.losses = {{"probs", LossKind::SparseCategoricalCrossentropy}};
  d.optimizer = OptimizerConfig::keras_default(OptKind::SGD);
  d.optimizer.learning_rate = 0.05f;
  d.optimizer.momentum = 0.9f;
  d.seed = 5;
  d.backend = backend;
  auto s = Session::from_onnx(model.data(), model.size(), d);
  float before = s->evaluate({x}, {y}).loss;
  auto losses = train(*s, x, y, 40);
  float after = s->evaluate({x}, {y}).loss;
  std::printf("CNN (%s): train loss %.4f -> %.4f, evaluate %.4f -> %.4f\n", backend.c_str(), losses.front(),
              losses.back(), before, after);
  expect(after < 0.7f * before, "CNN (" + backend + ") evaluation loss falls");
  expect(s->get_weight("mean").f != std::vector<float>(4, 0.0f), "BatchNormalization moving mean was updated");
  expect(s->trainable_names().size() == 8, "CNN: 8 trainable weights (moving stats and ratio excluded)");
  if (backend == "cpu") {  // two threads, twice: the same losses bit for bit
    d.num_threads = 2;
    auto a = Session::from_onnx(model.data(), model.size(), d), b2 = Session::from_onnx(model.data(), model.size(), d);
    expect(train(*a, x, y, 5) == train(*b2, x, y, 5), "CNN training on 2 threads is deterministic");
    auto probed = Session::from_onnx(model.data(), model.size(), d);
    train(*probed, x, y, 1);
    for (int k = 0; k < 4; k++) probed->probe_threads({x}, {y}), train(*probed, x, y, 1);
    expect(probed->get_weight("mean").f == a->get_weight("mean").f && probed->get_weight("var").f == a->get_weight("var").f,
           "thread probes leave BatchNormalization's moving statistics as they were");
  }
}

// Prefetching: steps handed the next batch (train_step's `next`, then train_staged) give the
// step-by-step results bit for bit: losses, accuracies, every weight and optimizer slot. The
// batches change size (a re-plan), carry sample weights or not, and the CNN's Dropout and
// BatchNormalization follow the step count. On "cuda-emu" the staged uploads go through the
// emulated copy stream, which reports a read that does not wait for them.
static void test_prefetch() {
  Rng rng(3);
  std::string model = small_cnn_model(rng);
  std::vector<Batch> batches;
  for (int64_t rows : {16, 16, 16, 7, 16, 5}) {
    Batch b;
    b.inputs = {rand_tensor(rng, {rows, 1, 8, 8})};
    Tensor y({rows});
    for (auto& v : y.f) v = (float)(int)rng.uniform(0, 2.99f);
    b.targets = {y};
    if (rows != 16) b.sample_weights = {rand_tensor(rng, {rows}, 0.5f, 2)};
    batches.push_back(b);
  }
  for (std::string be : {"reference", "cpu", "cuda-emu"}) {
    TrainingDescription d;
    d.losses = {{"probs", LossKind::SparseCategoricalCrossentropy, false, 1.0f, {MetricKind::SparseCategoricalAccuracy}}};
    d.optimizer = OptimizerConfig::keras_default(OptKind::Adam);
    d.optimizer.learning_rate = 0.01f;
    d.seed = 9;
    d.backend = be;
    auto one_by_one = Session::from_onnx(model.data(), model.size(), d);
    auto prefetched = Session::from_onnx(model.data(), model.size(), d);
    bool same = true;
    for (size_t k = 0; k < batches.size(); k++) {
      const Batch& b = batches[k];
      StepResult want = one_by_one->train_step(b.inputs, b.targets, b.sample_weights);
      std::optional<Batch> next;
      if (k + 1 < batches.size()) next = batches[k + 1];
      StepResult got = k == 0 ? prefetched->train_step(b.inputs, b.targets, b.sample_weights, std::move(next))
                              : prefetched->train_staged(std::move(next));
      same &= got.loss == want.loss && got.metrics == want.metrics;
      if (k == 2) {  // a learning-rate change between steps reaches the staged step
        one_by_one->set_learning_rate(0.003f);
        prefetched->set_learning_rate(0.003f);
      }
    }
    expect(same, "prefetched steps (" + be + ") give the step-by-step losses and accuracies bit for bit");
    bool weights = true;
    for (auto& name : one_by_one->weight_names()) weights &= prefetched->get_weight(name).f == one_by_one->get_weight(name).f;
    for (auto& name : one_by_one->trainable_names())
      for (const char* slot : {"m", "v"})
        weights &= prefetched->get_optimizer_slot(name, slot) == one_by_one->get_optimizer_slot(name, slot);
    expect(weights, "prefetched steps (" + be + ") leave every weight and optimizer slot as step-by-step ones");
    expect(!prefetched->has_staged(), "the last step, handed no next batch, leaves none staged");
    std::string msg;
    try {
      prefetched->train_staged();
    } catch (const Error& e) {
      msg = e.what();
    }
    expect(msg.find("no batch is staged") != std::string::npos, "train_staged with nothing staged says so: " + msg);
  }
}

// CUDA graphs: on "cuda-emu" a step's work is recorded once per plan and replayed, and gives
// what the same steps launched one by one give, bit for bit: Dropout's masks and Adam's bias
// correction follow the step, the learning rate changes every step (a schedule), and an
// epoch's last, smaller batch re-plans (recorded at its own plan in the second epoch), and
// in the second epoch every other batch carries sample weights (a recording of its own).
static void test_cuda_graphs() {
  Rng rng(8);
  std::string model = small_cnn_model(rng);
  std::vector<Batch> batches;
  for (int epoch = 0; epoch < 2; epoch++)
    for (int64_t rows : {16, 16, 16, 16, 7}) {
      Batch b;
      b.inputs = {rand_tensor(rng, {rows, 1, 8, 8})};
      Tensor y({rows});
      for (auto& v : y.f) v = (float)(int)rng.uniform(0, 2.99f);
      b.targets = {y};
      if (epoch == 1 && batches.size() % 2 == 0) b.sample_weights = {rand_tensor(rng, {rows}, 0.5f, 2)};
      batches.push_back(b);
    }
  TrainingDescription d;
  d.losses = {{"probs", LossKind::SparseCategoricalCrossentropy, false, 1.0f, {MetricKind::SparseCategoricalAccuracy}}};
  d.optimizer = OptimizerConfig::keras_default(OptKind::Adam);
  d.seed = 3;
  d.backend = "cuda-emu";
  auto graphs = Session::from_onnx(model.data(), model.size(), d);
  d.backend_options.cuda_graphs = false;
  auto launches = Session::from_onnx(model.data(), model.size(), d);
  bool same = true;
  for (size_t k = 0; k < batches.size(); k++) {
    float lr = 0.02f * std::pow(0.8f, (float)k);  // as a LearningRateScheduler sets it before each step
    graphs->set_learning_rate(lr), launches->set_learning_rate(lr);
    StepResult a = graphs->train_step(batches[k].inputs, batches[k].targets, batches[k].sample_weights);
    StepResult b = launches->train_step(batches[k].inputs, batches[k].targets, batches[k].sample_weights);
    same &= a.loss == b.loss && a.metrics == b.metrics;
  }
  std::printf("CUDA graphs (cuda-emu): %lld of %zu steps replayed\n", (long long)graphs->replayed_steps(), batches.size());
  expect(graphs->replayed_steps() >= 6 && launches->replayed_steps() == 0,
         "cuda-emu replays recorded steps (" + std::to_string(graphs->replayed_steps()) + "), and none with cuda_graphs off");
  expect(same, "replayed steps give the launched steps' losses and accuracies bit for bit");
  bool weights = graphs->iterations() == launches->iterations();
  for (auto& name : graphs->weight_names()) weights &= graphs->get_weight(name).f == launches->get_weight(name).f;
  for (auto& name : graphs->trainable_names())
    for (const char* slot : {"m", "v"})
      weights &= graphs->get_optimizer_slot(name, slot) == launches->get_optimizer_slot(name, slot);
  expect(weights, "replayed steps leave every weight, moving statistic and Adam slot as launched steps do");
  // a slot replaced between steps frees the memory the recording updated: it records anew
  for (auto* s : {graphs.get(), launches.get()}) s->set_optimizer_slot("k2", "m", s->get_optimizer_slot("k2", "m"));
  int64_t replayed = graphs->replayed_steps();
  for (int k = 0; k < 3; k++) {
    StepResult a = graphs->train_step(batches[k].inputs, batches[k].targets);
    StepResult b = launches->train_step(batches[k].inputs, batches[k].targets);
    same &= a.loss == b.loss;
  }
  expect(same && graphs->get_weight("k2").f == launches->get_weight("k2").f && graphs->replayed_steps() > replayed,
         "after set_optimizer_slot the steps record anew and still match the launched ones");

  // GaussianNoise's draws are uploaded from the host at every step: such a step is never
  // recorded (a replay would add the recorded step's noise) and runs as launched
  ModelBuilder nb;
  Tensor ones({1, 64});
  for (auto& v : ones.f) v = 1.0f;
  nb.input("x", {-1, 64}).output("y").init("w", ones).node("Mul", {"x", "w"}, {"xw"});
  nb.strata_node("GaussianNoise", {"xw"}, {"y"}, {Attr::f("stddev", 0.5f)});
  std::string noisy = nb.bytes();
  d.losses = {{"y", LossKind::MeanSquaredError}};
  d.trainable = {"w"};
  auto noise_launched = Session::from_onnx(noisy.data(), noisy.size(), d);
  d.backend_options.cuda_graphs = true;
  auto noise_graphs = Session::from_onnx(noisy.data(), noisy.size(), d);
  Tensor nx = rand_tensor(rng, {8, 64}), ny = rand_tensor(rng, {8, 64});
  bool noise_same = true;
  for (int k = 0; k < 4; k++) noise_same &= noise_graphs->train_step({nx}, {ny}).loss == noise_launched->train_step({nx}, {ny}).loss;
  expect(noise_same && noise_graphs->get_weight("w").f == noise_launched->get_weight("w").f &&
             noise_graphs->replayed_steps() == 0,
         "a step that uploads GaussianNoise's draws runs unrecorded, as launched (" +
             std::to_string(noise_graphs->replayed_steps()) + " replayed)");
}

// profile: every node that ran has its time, and they add up to no more than the step's wall
// time (on "cuda-emu" they come from events on the compute stream, the GPU's clock on a GPU).
static void test_profile() {
  Rng rng(4);
  std::string model = small_cnn_model(rng);
  Tensor x = rand_tensor(rng, {8, 1, 8, 8}), y({8});
  for (std::string be : {"reference", "cuda-emu"}) {
    TrainingDescription d;
    d.losses = {{"probs", LossKind::SparseCategoricalCrossentropy}};
    d.optimizer = OptimizerConfig::keras_default(OptKind::SGD);
    d.backend = be;
    d.profile = true;
    auto s = Session::from_onnx(model.data(), model.size(), d);
    auto t0 = std::chrono::steady_clock::now();
    s->train_step({x}, {y});
    double wall = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    double sum = 0;
    bool each = true;
    for (auto& t : s->node_times()) {
      sum += t.forward_ms + t.backward_ms;
      each &= t.forward_ms > 0 && t.backward_ms >= 0;
    }
    expect(each && sum <= wall, "profile (" + be + "): every node has a forward time, " + std::to_string(sum) +
                                    " ms in all within the step's " + std::to_string(wall) + " ms");
  }
  // With auto threads the steps after the first probe thread counts, running every node a few
  // times more: the profile counts the steps' own passes alone.
  TrainingDescription d;
  d.losses = {{"probs", LossKind::SparseCategoricalCrossentropy}};
  d.optimizer = OptimizerConfig::keras_default(OptKind::SGD);
  d.backend = "cpu";
  d.num_threads = -1;
  d.profile = true;
  auto s = Session::from_onnx(model.data(), model.size(), d);
  for (int step = 0; step < 3; step++) s->train_step({x}, {y});
  std::string runs;
  bool three = true;
  for (auto& t : s->node_times()) {
    three &= t.forward_runs == 3 && (t.backward_runs == 3 || t.backward_runs == 0);
    runs += " " + std::to_string(t.forward_runs) + "/" + std::to_string(t.backward_runs);
  }
  expect(three, "profile with auto threads: 3 forward passes (and 3 or 0 backward) per node after 3 steps, " +
                    std::to_string(s->thread_chooser().probes()) + " probes:" + runs);
}

// The translator's seed CNN in small: x NHWC -> Transpose -> Conv 16 relu -> MaxPool ->
// Conv 32 relu -> MaxPool -> Transpose to NHWC -> Flatten -> Gemm -> Softmax. With
// `expose`, the convolutions' pre-Relu outputs and the NHWC activation are graph outputs
// too, which keeps the session from fusing the Relus into them and from folding the
// Transpose and Flatten into the Gemm.
static std::string seed_cnn_model(Rng& rng, bool expose) {
  ModelBuilder b;
  b.input("x", {-1, 14, 14, 3}).output("probs");
  if (expose) b.output("c1").output("c2").output("pt");
  b.init("k1", glorot(rng, {16, 3, 3, 3}, 27, 144)).init("b1", rand_tensor(rng, {16}, -0.1f, 0.1f));
  b.init("k2", glorot(rng, {32, 16, 3, 3}, 144, 288)).init("b2", rand_tensor(rng, {32}, -0.1f, 0.1f));
  b.init("wd", glorot(rng, {32 * 2 * 2, 5}, 128, 5)).init("bd", Tensor({5}));
  b.node("Transpose", {"x"}, {"xt"}, {Attr::ints("perm", {0, 3, 1, 2})});
  b.node("Conv", {"xt", "k1", "b1"}, {"c1"}, {Attr::ints("kernel_shape", {3, 3})}).node("Relu", {"c1"}, {"r1"});
  b.node("MaxPool", {"r1"}, {"p1"}, {Attr::ints("kernel_shape", {2, 2}), Attr::ints("strides", {2, 2})});
  b.node("Conv", {"p1", "k2", "b2"}, {"c2"}, {Attr::ints("kernel_shape", {3, 3})}).node("Relu", {"c2"}, {"r2"});
  b.node("MaxPool", {"r2"}, {"p2"}, {Attr::ints("kernel_shape", {2, 2}), Attr::ints("strides", {2, 2})});
  b.node("Transpose", {"p2"}, {"pt"}, {Attr::ints("perm", {0, 2, 3, 1})}).node("Flatten", {"pt"}, {"f"});
  b.node("Gemm", {"f", "wd", "bd"}, {"z"}).node("Softmax", {"z"}, {"probs"});
  return b.bytes();
}

static void graph_grad_check(const std::string& name, const std::string& model, const TrainingDescription& d0,
                             const std::vector<Tensor>& in, const std::vector<Tensor>& tgt);
static void backends_agree(const std::string& name, const std::string& model, TrainingDescription d,
                           const std::vector<Tensor>& in, const std::vector<Tensor>& tgt);

// Fused paths (Conv + Relu as one kernel, and that with the MaxPool reading it, in
// slices of the batch) and oneDNN's blocked layout between
// kernels, against the same graph run unfused, and against the reference backend:
// outputs, loss and every weight gradient to 1e-4 (the second step reuses the max
// pooling workspace kept from the training forward); and the fused graph's gradients
// against finite differences.
static void test_fusions() {
  Rng rng(4);
  Rng r1(9), r2(9);
  std::string fused = seed_cnn_model(r1, false), unfused = seed_cnn_model(r2, true);
  Tensor x = rand_tensor(rng, {6, 14, 14, 3}), y = Tensor::from({6}, {0, 1, 2, 3, 4, 0});
  TrainingDescription d;
  d.losses = {{"probs", LossKind::SparseCategoricalCrossentropy}};
  d.optimizer = OptimizerConfig::keras_default(OptKind::SGD);
  // slices of the batch small enough that the fused Conv + MaxPool pairs run in several on the
  // CPU, with a remainder (6 images: 1 a slice in the seed CNN's first pair, 3 in its second)
  d.backend_options.conv_pool_slice_bytes = 10000;
  // "cuda-emu": the CUDA backend's kernels on the host emulation, in strict FP32
  d.backend_options.tf32 = false;
  for (std::string be : {"cpu", "reference", "cuda-emu"}) {
    d.backend = be;
    auto a = Session::from_onnx(fused.data(), fused.size(), d), b = Session::from_onnx(unfused.data(), unfused.size(), d);
    d.backend = "reference";
    auto ref = Session::from_onnx(unfused.data(), unfused.size(), d);
    auto fused_count = [](Session& s) {
      int n = 0;
      for (auto& t : s.node_times()) n += t.node.find(" + Relu") != std::string::npos;
      return n;
    };
    expect(fused_count(*a) == 2 && fused_count(*b) == 0, "both Conv + Relu pairs fused, and only where allowed");
    auto pool_count = [](Session& s) {
      int n = 0;
      for (auto& t : s.node_times()) n += t.node.find(" + MaxPool") != std::string::npos;
      return n;
    };
    expect(pool_count(*a) == 2 && pool_count(*b) == 0, "both Conv + MaxPool pairs fused, only where the pooling alone reads the Conv");
    auto folded = [](Session& s) {
      int n = 0;
      for (auto& t : s.node_times()) n += t.node.find("Gemm node") == 0 && t.node.find(" + Flatten node") != std::string::npos;
      return n;
    };
    expect(folded(*a) == 1 && folded(*b) == 0, "the Transpose + Flatten folded into the Gemm, only where no one else sees them");
    Tensor pa = a->forward({x})[0], pb = b->forward({x})[0], pr = ref->forward({x})[0];
    // on oneDNN the activations between the two Transposes stay in the blocked layout
    // (the exposed pre-Relu outputs and the unfused Relus keep the other graph plain);
    // the convolutions' outputs are no values at all once fused with their poolings
    auto blocked = a->blocked_values();
    expect(be == "cpu" ? blocked == std::vector<std::string>{"p1", "p2"} : blocked.empty(),
           "blocked activations (" + be + "): " + std::to_string(blocked.size()));
    expect(b->blocked_values().empty(), "no blocked activations in the unfused graph (" + be + ")");
    validate_result(pa.data(), pb.data(), "fused vs unfused forward (" + be + ")", pa.size());
    validate_result(pa.data(), pr.data(), "fused (" + be + ") vs reference forward", pa.size());
    for (int step = 0; step < 2; step++) {  // the second step runs on planned buffers
      float la = a->train_step({x}, {y}).loss, lb = b->train_step({x}, {y}).loss, lr = ref->train_step({x}, {y}).loss;
      validate_result(&la, &lb, "fused vs unfused loss (" + be + ")", 1);
      validate_result(&la, &lr, "fused (" + be + ") vs reference loss", 1);
      for (auto& n : a->trainable_names()) {
        Tensor ga = a->get_gradient(n), gb = b->get_gradient(n), gr = ref->get_gradient(n);
        validate_result(ga.data(), gb.data(), "fused vs unfused d(" + n + ") (" + be + ")", ga.size());
        validate_result(ga.data(), gr.data(), "fused (" + be + ") vs reference d(" + n + ")", ga.size());
      }
    }
  }
  graph_grad_check("fused seed CNN", fused, d, {x}, {y});

  // The folded Gemm's weight rows follow its input's layout inside the session (blocked on
  // oneDNN, NCHW on the reference) and the graph's order outside: weights and optimizer
  // slots moved between the two continue the same training; a weight set is read back as set.
  {
    TrainingDescription da = d;
    da.optimizer = OptimizerConfig::keras_default(OptKind::Adam);
    da.backend = "cpu";
    auto a = Session::from_onnx(fused.data(), fused.size(), da);
    for (int k = 0; k < 3; k++) a->train_step({x}, {y});
    auto e = Session::from_onnx(fused.data(), fused.size(), da);
    da.backend = "reference";
    auto b = Session::from_onnx(fused.data(), fused.size(), da), c = Session::from_onnx(unfused.data(), unfused.size(), da);
    da.backend = "cuda-emu";  // its weights and slots in the device's memory, rows in NCHW order
    auto g = Session::from_onnx(fused.data(), fused.size(), da);
    e->forward({x});  // planned first: its slots arrive after the rows were ordered, b's before
    g->forward({x});
    for (Session* s : {b.get(), c.get(), e.get(), g.get()}) {
      for (const auto& name : a->trainable_names()) {
        s->set_weight(name, a->get_weight(name));
        for (const char* slot : {"m", "v", "mg"}) s->set_optimizer_slot(name, slot, a->get_optimizer_slot(name, slot));
      }
      s->set_iterations(a->iterations());
    }
    Tensor wd = a->get_weight("wd");
    a->set_weight("wd", wd);
    expect(a->get_weight("wd").f == wd.f, "a folded weight reads back as it was set");
    for (int k = 0; k < 2; k++) {
      float la = a->train_step({x}, {y}).loss, lb = b->train_step({x}, {y}).loss, lc = c->train_step({x}, {y}).loss,
            le = e->train_step({x}, {y}).loss, lg = g->train_step({x}, {y}).loss;
      validate_result(&la, &lb, "resumed across row orders: loss, step " + std::to_string(k), 1);
      validate_result(&la, &lc, "resumed into the unfolded graph: loss, step " + std::to_string(k), 1);
      validate_result(&la, &le, "resumed into a planned session: loss, step " + std::to_string(k), 1);
      validate_result(&la, &lg, "resumed on the device (cuda-emu): loss, step " + std::to_string(k), 1);
    }
    for (const auto& name : a->trainable_names()) {
      Tensor wa = a->get_weight(name), wb = b->get_weight(name), wc = c->get_weight(name), we = e->get_weight(name),
             wg = g->get_weight(name);
      validate_result(wa.data(), wb.data(), "resumed across row orders: " + name, wa.size());
      validate_result(wa.data(), wc.data(), "resumed into the unfolded graph: " + name, wa.size());
      validate_result(wa.data(), we.data(), "resumed into a planned session: " + name, wa.size());
      validate_result(wa.data(), wg.data(), "resumed on the device (cuda-emu): " + name, wa.size());
      std::vector<float> ma = a->get_optimizer_slot(name, "m"), mg = g->get_optimizer_slot(name, "m");
      validate_result(mg.data(), ma.data(), "the device's Adam moment m of " + name + ", read back", (int64_t)ma.size());
    }
  }

  // The binding runs each step on whichever worker thread is free: a session planned on
  // one thread trains on others (oneDNN's per-thread scratchpads once broke Winograd so).
  d.backend = "cpu";
  auto same = Session::from_onnx(fused.data(), fused.size(), d), moved = Session::from_onnx(fused.data(), fused.size(), d);
  std::vector<float> want, got;
  for (int k = 0; k < 3; k++) {
    want.push_back(same->train_step({x}, {y}).loss);
    std::thread t([&] { got.push_back(moved->train_step({x}, {y}).loss); });
    t.join();
  }
  expect(got == want, "steps on other threads give the same losses");

  // num_threads = -1 (auto) with two counts to choose from. Its probes are forward and
  // backward passes on every candidate count, which must leave the training as it was: two
  // pinned sessions, one probed before each step, train bit for bit alike.
  setenv("OMP_NUM_THREADS", "2", 1);
  d.num_threads = 2;
  auto probed = Session::from_onnx(fused.data(), fused.size(), d), plain = Session::from_onnx(fused.data(), fused.size(), d);
  bool alike = true;
  for (int k = 0; k < 4; k++) {
    if (k) probed->probe_threads({x}, {y});  // after the first step: planned
    alike = alike && probed->train_step({x}, {y}).loss == plain->train_step({x}, {y}).loss;
  }
  for (auto& n : probed->trainable_names()) alike = alike && probed->get_weight(n).f == plain->get_weight(n).f;
  expect(alike, "thread probes between train steps change no loss or weight");
  d.num_threads = -1;
  auto adaptive = Session::from_onnx(fused.data(), fused.size(), d);
  d.num_threads = 2;
  auto pinned = Session::from_onnx(fused.data(), fused.size(), d);
  std::vector<float> auto_losses, pinned_losses;
  for (int k = 0; k < 8; k++) {
    auto_losses.push_back(adaptive->train_step({x}, {y}).loss);
    pinned_losses.push_back(pinned->train_step({x}, {y}).loss);
  }
  setenv("OMP_NUM_THREADS", "1", 1);
  const ThreadChooser& chooser = adaptive->thread_chooser();
  expect(chooser.max() == 2 && chooser.probes() >= 1, "auto threads: a probe ran on the first planned step");
  expect(std::isfinite(auto_losses.back()) && std::fabs(auto_losses[0] - want[0]) < 1e-4f, "auto threads train");
  if (chooser.switches() == 0) {
    bool same = auto_losses == pinned_losses;
    for (auto& n : adaptive->trainable_names()) same = same && adaptive->get_weight(n).f == pinned->get_weight(n).f;
    expect(same, "auto threads on all cores: the same losses and weights as 2 pinned threads, bit for bit");
  } else {
    std::printf("auto threads switched to %d (a busy machine): the bitwise comparison does not apply\n", chooser.current());
  }

  // Inference passes choose their count apart from train steps: the first planned forward
  // pass probes, and a probe changes no output (the pinned session's, bit for bit, while the
  // count stays on all cores).
  setenv("OMP_NUM_THREADS", "2", 1);
  d.num_threads = -1;
  auto inferring = Session::from_onnx(fused.data(), fused.size(), d);
  d.num_threads = 2;
  auto pinned_infer = Session::from_onnx(fused.data(), fused.size(), d);
  bool same_outputs = true;
  for (int k = 0; k < 4; k++) same_outputs = same_outputs && inferring->forward({x})[0].f == pinned_infer->forward({x})[0].f;
  inferring->evaluate({x}, {y});
  setenv("OMP_NUM_THREADS", "1", 1);
  const ThreadChooser& infer_chooser = inferring->inference_thread_chooser();
  expect(infer_chooser.probes() >= 1 && inferring->thread_chooser().probes() == 0,
         "auto threads: the first planned forward pass probes inference's count, not training's");
  if (infer_chooser.switches() == 0) expect(same_outputs, "auto threads for inference on all cores: the pinned outputs, bit for bit");
}

// A MobileNet-style block as the translator writes Keras's DepthwiseConv2D, SeparableConv2D
// and Conv2D(groups): a depthwise Conv (group = C, depth multiplier 2) whose Relu fuses into
// it, a pointwise 1x1 Conv, a grouped stride-2 Conv whose Relu and MaxPool fuse with it, then
// a classifier. Every backend gives the reference backend's outputs, loss and weight
// gradients, on CPU through oneDNN's grouped convolutions and the blocked layout; the
// gradients also against finite differences.
static std::string grouped_conv_model(Rng& rng) {
  ModelBuilder b;
  b.input("x", {-1, 9, 9, 8}).output("probs");
  b.init("dw", glorot(rng, {16, 1, 3, 3}, 9, 18)).init("db", rand_tensor(rng, {16}, -0.1f, 0.1f));
  b.init("pw", glorot(rng, {16, 16, 1, 1}, 16, 16)).init("pb", rand_tensor(rng, {16}, -0.1f, 0.1f));
  b.init("gw", glorot(rng, {16, 4, 3, 3}, 36, 36)).init("gb", rand_tensor(rng, {16}, -0.1f, 0.1f));
  b.init("wd", glorot(rng, {16 * 2 * 2, 5}, 64, 5)).init("bd", Tensor({5}));
  b.node("Transpose", {"x"}, {"xt"}, {Attr::ints("perm", {0, 3, 1, 2})});
  b.node("Conv", {"xt", "dw", "db"}, {"d"}, {Attr::i("group", 8), Attr::s("auto_pad", "SAME_UPPER")});
  b.node("Relu", {"d"}, {"dr"}).node("Conv", {"dr", "pw", "pb"}, {"p"});
  b.node("Conv", {"p", "gw", "gb"}, {"g"}, {Attr::i("group", 4), Attr::ints("strides", {2, 2})}).node("Relu", {"g"}, {"gr"});
  b.node("MaxPool", {"gr"}, {"m"}, {Attr::ints("kernel_shape", {2, 2}), Attr::ints("strides", {2, 2})});
  b.node("Transpose", {"m"}, {"mt"}, {Attr::ints("perm", {0, 2, 3, 1})}).node("Flatten", {"mt"}, {"f"});
  b.node("Gemm", {"f", "wd", "bd"}, {"z"}).node("Softmax", {"z"}, {"probs"});
  return b.bytes();
}

static void test_grouped_convolutions() {
  Rng rng(21);
  std::string model = grouped_conv_model(rng);
  Tensor x = rand_tensor(rng, {4, 9, 9, 8}), y = Tensor::from({4}, {0, 1, 2, 4});
  TrainingDescription d;
  d.losses = {{"probs", LossKind::SparseCategoricalCrossentropy}};
  d.optimizer = OptimizerConfig::keras_default(OptKind::SGD);
  d.backend_options.tf32 = false;
  d.backend = "reference";
  auto ref = Session::from_onnx(model.data(), model.size(), d);
  Tensor want = ref->forward({x})[0];
  float want_loss = ref->train_step({x}, {y}).loss;
  for (std::string be : {"cpu", "cuda-emu"}) {
    d.backend = be;
    auto s = Session::from_onnx(model.data(), model.size(), d);
    Tensor got = s->forward({x})[0];
    validate_result(got.data(), want.data(), "grouped convolutions forward (" + be + ")", got.size());
    // on oneDNN the grouped convolutions read and write the blocked layout (nChw8c/16c)
    auto blocked = s->blocked_values();
    expect(be == "cpu" ? blocked == std::vector<std::string>{"dr", "p", "m"} : blocked.empty(),
           "grouped convolutions: blocked activations (" + be + "): " + std::to_string(blocked.size()));
    float loss = s->train_step({x}, {y}).loss;
    validate_result(&loss, &want_loss, "grouped convolutions loss (" + be + ")", 1);
    for (auto& n : s->trainable_names()) {
      Tensor g = s->get_gradient(n), gr = ref->get_gradient(n);
      validate_result(g.data(), gr.data(), "grouped convolutions d(" + n + ") (" + be + ")", g.size());
    }
  }
  graph_grad_check("grouped convolutions", model, d, {x}, {y});
  // a group that does not divide the channels is an error naming the node
  ModelBuilder b;
  b.input("x", {-1, 6, 5, 5}).output("c").init("w", rand_tensor(rng, {4, 2, 3, 3}));
  b.node("Conv", {"x", "w"}, {"c"}, {Attr::i("group", 4)});
  std::string bad = b.bytes(), msg;
  d.losses = {{"c", LossKind::MeanSquaredError}};
  try {
    Session::from_onnx(bad.data(), bad.size(), d)->forward({rand_tensor(rng, {1, 6, 5, 5})});
  } catch (const Error& e) {
    msg = e.what();
  }
  expect(msg.find("group=4 must divide the input's 6 channels") != std::string::npos, "a bad group is named: " + msg);
}

// One training step of `model` on "cpu" and "cuda-emu" (strict FP32) gives the reference
// backend's loss and weight gradients.
static void backends_agree(const std::string& name, const std::string& model, TrainingDescription d,
                           const std::vector<Tensor>& in, const std::vector<Tensor>& tgt) {
  d.backend_options.tf32 = false;
  d.backend = "reference";
  auto ref = Session::from_onnx(model.data(), model.size(), d);
  float want = ref->train_step(in, tgt).loss;
  for (std::string be : {"cpu", "cuda-emu"}) {
    d.backend = be;
    auto s = Session::from_onnx(model.data(), model.size(), d);
    float got = s->train_step(in, tgt).loss;
    validate_result(&got, &want, name + " loss (" + be + ")", 1);
    for (auto& n : s->trainable_names()) {
      Tensor g = s->get_gradient(n), gr = ref->get_gradient(n);
      validate_result(g.data(), gr.data(), name + " d(" + n + ") (" + be + ")", g.size());
    }
  }
}

// dL/dw from one SGD step with lr 1 (w_before - w_after), against central differences of evaluate().
static void graph_grad_check(const std::string& name, const std::string& model, const TrainingDescription& d0,
                             const std::vector<Tensor>& in, const std::vector<Tensor>& tgt) {
  TrainingDescription d = d0;
  d.backend = "reference";
  d.optimizer = OptimizerConfig::keras_default(OptKind::SGD);
  d.optimizer.learning_rate = 1.0f;
  auto s = Session::from_onnx(model.data(), model.size(), d);
  auto probe = Session::from_onnx(model.data(), model.size(), d);
  std::vector<std::string> names = s->trainable_names();
  std::vector<Tensor> before;
  for (auto& n : names) before.push_back(s->get_weight(n));
  s->train_step(in, tgt);
  for (size_t k = 0; k < names.size(); k++) {
    Tensor w = before[k], after = s->get_weight(names[k]);
    std::vector<float> g(w.size());
    for (int64_t i = 0; i < w.size(); i++) g[i] = w.f[i] - after.f[i];
    grad_check(name + " d(" + names[k] + ")", w.f, g, [&]() {
      probe->set_weight(names[k], w);
      return (double)probe->evaluate(in, tgt).loss;
    }, 1e-3f, 1e-2f, 12);
    probe->set_weight(names[k], before[k]);
  }
}

// One train step's loss and gradients on cpu and cuda-emu against the reference backend.
static void test_graph_gradients() {
  Rng rng(3);
  {  // fan-out: h2 feeds Sigmoid, Mul (Swish), the residual Add and Concat
    ModelBuilder b;
    b.input("x", {-1, 6}).output("y");
    b.init("w", glorot(rng, {6, 5}, 6, 5)).init("b", rand_tensor(rng, {5}, -0.1f, 0.1f));
    b.init("w2", glorot(rng, {10, 3}, 10, 3));
    b.node("MatMul", {"x", "w"}, {"h"}).node("Add", {"h", "b"}, {"h2"}).node("Sigmoid", {"h2"}, {"s"});
    b.node("Mul", {"h2", "s"}, {"sw"}).node("Add", {"sw", "h2"}, {"r"}).node("Tanh", {"r"}, {"t"});
    b.node("Concat", {"t", "h2"}, {"c"}, {Attr::i("axis", 1)}).node("MatMul", {"c", "w2"}, {"y"});
    TrainingDescription d;
    d.losses = {{"y", LossKind::MeanSquaredError}};
    graph_grad_check("Swish/residual/Concat graph", b.bytes(), d, {rand_tensor(rng, {4, 6})},
                     {rand_tensor(rng, {4, 3})});
  }
  {  // Embedding -> GlobalAveragePooling1D -> Dense -> sigmoid, binary cross-entropy (fused)
    ModelBuilder b;
    b.input("ids", {-1, 5}).output("p");
    b.init("table", rand_tensor(rng, {10, 4})).init("wg", glorot(rng, {4, 1}, 4, 1)).init("bg", Tensor({1}));
    b.init("axes", Tensor::from_i64({1}, {1}));
    b.node("Gather", {"table", "ids"}, {"e"}).node("ReduceMean", {"e", "axes"}, {"m"}, {Attr::i("keepdims", 0)});
    b.node("Gemm", {"m", "wg", "bg"}, {"z"}).node("Sigmoid", {"z"}, {"p"});
    Tensor ids = Tensor::from({3, 5}, {1, 2, 2, 9, 0, 3, 3, 3, 1, 4, 7, 8, 0, 0, 5});
    Tensor t = Tensor::from({3, 1}, {1, 0, 1});
    TrainingDescription d;
    d.losses = {{"p", LossKind::BinaryCrossentropy}};
    auto s = Session::from_onnx(b.bytes().data(), b.bytes().size(), d);
    graph_grad_check("Embedding graph", b.bytes(), d, {ids}, {t});
    // rows 6 (never used) keeps its value: the gradient only reaches rows used
    Tensor before = s->get_weight("table");
    s->train_step({ids}, {t});
    Tensor after = s->get_weight("table");
    bool row6 = true, row3 = false;
    for (int k = 0; k < 4; k++) row6 &= after.f[6 * 4 + k] == before.f[6 * 4 + k], row3 |= after.f[12 + k] != before.f[12 + k];
    expect(row6 && row3, "Embedding: only the rows used are updated");
  }
  {  // the translator's shapes: Gemm, Keras gelu as Div/Erf/Add/Mul with constant
     // initializers, Dropout with a ratio initializer, Reshape [0, ...], MatMul + Add on 3-D
    Tensor k1 = glorot(rng, {6, 8}, 6, 8), b1 = rand_tensor(rng, {8}, -0.1f, 0.1f);
    Tensor k2 = glorot(rng, {4, 3}, 4, 3), b2 = rand_tensor(rng, {3}, -0.1f, 0.1f);
    auto build = [&](float ratio) {
      ModelBuilder b;
      b.input("x", {-1, 6}).output("y");
      b.init("d1/kernel", k1).init("d1/bias", b1).init("d2/kernel", k2).init("d2/bias", b2);
      b.init("gelu/sqrt2", Tensor::from({}, {std::sqrt(2.0f)})).init("gelu/one", Tensor::from({}, {1.0f}));
      b.init("gelu/half", Tensor::from({}, {0.5f})).init("drop/ratio", Tensor::from({1}, {ratio}));
      b.init("reshape/shape", Tensor::from_i64({3}, {0, 2, 4}));
      b.node("Gemm", {"x", "d1/kernel", "d1/bias"}, {"h"});
      b.node("Div", {"h", "gelu/sqrt2"}, {"g1"}).node("Erf", {"g1"}, {"g2"}).node("Add", {"g2", "gelu/one"}, {"g3"});
      b.node("Mul", {"h", "g3"}, {"g4"}).node("Mul", {"g4", "gelu/half"}, {"g"});
      b.node("Dropout", {"g", "drop/ratio"}, {"dr"}).node("Reshape", {"dr", "reshape/shape"}, {"r"});
      b.node("MatMul", {"r", "d2/kernel"}, {"m"}).node("Add", {"m", "d2/bias"}, {"y"});
      return b.bytes();
    };
    TrainingDescription d;
    d.losses = {{"y", LossKind::MeanSquaredError}};
    std::string with_dropout = build(0.3f);
    auto s = Session::from_onnx(with_dropout.data(), with_dropout.size(), d);
    auto names = s->trainable_names();
    std::sort(names.begin(), names.end());
    expect(names == std::vector<std::string>({"d1/bias", "d1/kernel", "d2/bias", "d2/kernel"}),
           "default trainable weights are the layer weights, not the translator's constants");
    Tensor x = rand_tensor(rng, {3, 6}), y = rand_tensor(rng, {3, 2, 3});
    s->train_step({x}, {y});
    expect(s->get_weight("gelu/sqrt2").f[0] == std::sqrt(2.0f) && s->get_weight("d1/kernel").f != k1.f,
           "layer weights train, constant initializers do not");
    expect(s->forward({x})[0].shape == Shape({3, 2, 3}), "Reshape [0, 2, 4] then Dense gives (3, 2, 3)");
    // finite differences need a deterministic forward: the same graph with ratio 0
    graph_grad_check("translator-style gelu graph", build(0.0f), d, {x}, {y});
  }
  {  // batched MatMul of two activations (attention-like h @ h^T) and an n-ary Sum
    ModelBuilder b;
    b.input("x", {-1, 3, 4}).output("y");
    b.init("w", glorot(rng, {4, 4}, 4, 4)).init("c", rand_tensor(rng, {3}, -0.5f, 0.5f));
    b.node("MatMul", {"x", "w"}, {"h"}).node("Transpose", {"h"}, {"ht"}, {Attr::ints("perm", {0, 2, 1})});
    b.node("MatMul", {"h", "ht"}, {"m"}).node("Sigmoid", {"m"}, {"s"}).node("Sum", {"m", "s", "c"}, {"y"});
    TrainingDescription d;
    d.losses = {{"y", LossKind::MeanSquaredError}};
    d.trainable = {"w", "c"};
    graph_grad_check("batched MatMul/Sum graph", b.bytes(), d, {rand_tensor(rng, {2, 3, 4})},
                     {rand_tensor(rng, {2, 3, 3})});
  }
  {  // two outputs on a shared trunk, each with its loss and weight; the trunk's
     // activation is also read by the second head, so it must not be fused
    ModelBuilder b;
    b.input("x", {-1, 5}).output("probs").output("reg");
    b.init("w", glorot(rng, {5, 6}, 5, 6)).init("wc", glorot(rng, {6, 3}, 6, 3)).init("wr", glorot(rng, {6, 2}, 6, 2));
    b.node("MatMul", {"x", "w"}, {"h0"}).node("Tanh", {"h0"}, {"h"});
    b.node("MatMul", {"h", "wc"}, {"z"}).node("Softmax", {"z"}, {"probs"});
    b.node("MatMul", {"h", "wr"}, {"reg"});
    TrainingDescription d;
    d.losses = {{"probs", LossKind::SparseCategoricalCrossentropy, false, 0.5f, {MetricKind::SparseCategoricalAccuracy}},
                {"reg", LossKind::MeanAbsoluteError, false, 2.0f}};
    Tensor x = rand_tensor(rng, {4, 5}), labels = Tensor::from({4}, {0, 2, 1, 2}), target = rand_tensor(rng, {4, 2});
    auto s = Session::from_onnx(b.bytes().data(), b.bytes().size(), d);
    StepResult r = s->evaluate({x}, {labels, target});
    expect(std::fabs(r.loss - (0.5f * r.output_losses[0] + 2.0f * r.output_losses[1])) < 1e-6 &&
               r.metrics[0].size() == 1 && r.metrics[1].empty(),
           "two losses: total is the weighted sum, accuracy only where asked (the classifier)");
    graph_grad_check("two-output graph", b.bytes(), d, {x}, {labels, target});
    // sample weights: all ones change nothing; zeros on the classifier leave only the regression loss
    StepResult ones = s->evaluate({x}, {labels, target}, {Tensor::from({4}, {1, 1, 1, 1}), Tensor()});
    StepResult zero = s->evaluate({x}, {labels, target}, {Tensor({4}), Tensor()});
    expect(ones.loss == r.loss && std::fabs(zero.loss - 2.0f * r.output_losses[1]) < 1e-6,
           "sample weights weight each row's loss");
  }
  {  // Keras's ReLU(max_value, negative_slope, threshold) as the translator writes it, softplus, hard_sigmoid
    ModelBuilder b;
    b.input("x", {-1, 6}).output("p");
    b.init("w1", glorot(rng, {6, 8}, 6, 8)).init("w2", glorot(rng, {8, 3}, 8, 3));
    b.init("t", Tensor::from({}, {0.1f})).init("lo", Tensor::from({}, {0.0f})).init("hi", Tensor::from({}, {0.9f}));
    b.init("slope", Tensor::from({}, {0.2f}));
    b.node("MatMul", {"x", "w1"}, {"h"}).node("ThresholdedRelu", {"h"}, {"tr"}, {Attr::f("alpha", 0.1f)});
    b.node("Clip", {"tr", "lo", "hi"}, {"c"}).node("Sub", {"t", "h"}, {"below"}).node("Relu", {"below"}, {"br"});
    b.node("Mul", {"br", "slope"}, {"neg"}).node("Sub", {"c", "neg"}, {"r"});
    b.node("Softplus", {"r"}, {"sp"}).node("HardSigmoid", {"sp"}, {"hs"}, {Attr::f("alpha", 0.5f), Attr::f("beta", 0.1f)});
    b.node("MatMul", {"hs", "w2"}, {"z"}).node("Softmax", {"z"}, {"p"});
    TrainingDescription d;
    d.losses = {{"p", LossKind::SparseCategoricalCrossentropy}};
    Tensor x = rand_tensor(rng, {5, 6}), y = Tensor::from({5}, {0, 1, 2, 1, 0});
    graph_grad_check("ReLU(max_value, slope, threshold)/Softplus/HardSigmoid graph", b.bytes(), d, {x}, {y});
    backends_agree("activation graph", b.bytes(), d, {x}, {y});
  }
  {  // Keras's RepeatVector as the translator writes it (Reshape to (N, 1, F), Expand), and Neg
    ModelBuilder b;
    b.input("x", {-1, 4}).output("p");
    b.init("w1", glorot(rng, {4, 5}, 4, 5)).init("w2", glorot(rng, {15, 3}, 15, 3));
    b.init("row", Tensor::from_i64({3}, {0, 1, 5})).init("repeat", Tensor::from_i64({3}, {1, 3, 1}));
    b.init("flat", Tensor::from_i64({2}, {0, 15})).init("ramp", Tensor::from({3, 1}, {0.5f, 1.0f, 1.5f}));
    b.node("MatMul", {"x", "w1"}, {"h"}).node("Reshape", {"h", "row"}, {"h1"}).node("Expand", {"h1", "repeat"}, {"r"});
    b.node("Mul", {"r", "ramp"}, {"rs"}).node("Neg", {"rs"}, {"n"}).node("Tanh", {"n"}, {"t"});  // each copy scaled apart
    b.node("Reshape", {"t", "flat"}, {"f"}).node("MatMul", {"f", "w2"}, {"z"}).node("Softmax", {"z"}, {"p"});
    TrainingDescription d;
    d.losses = {{"p", LossKind::SparseCategoricalCrossentropy}};
    d.trainable = {"w1", "w2"};
    Tensor x = rand_tensor(rng, {4, 4}), y = Tensor::from({4}, {0, 1, 2, 1});
    graph_grad_check("Expand/Neg graph", b.bytes(), d, {x}, {y});
    backends_agree("Expand/Neg graph", b.bytes(), d, {x}, {y});
    ModelBuilder e;  // the forward itself: (1, 1, 2) repeated twice along axis 1, negated
    e.input("x", {-1, 1, 2}).output("y").init("repeat", Tensor::from_i64({3}, {1, 2, 1}));
    e.node("Expand", {"x", "repeat"}, {"r"}).node("Neg", {"r"}, {"y"});
    Tensor ex = Tensor::from({1, 1, 2}, {1.5f, -2}), want = Tensor::from({1, 2, 2}, {-1.5f, 2, -1.5f, 2});
    for (std::string be : {"cpu", "reference", "cuda-emu"}) {
      TrainingDescription de;
      de.backend = be;
      auto s = Session::from_onnx(e.bytes().data(), e.bytes().size(), de);
      Tensor got = s->forward({ex})[0];
      expect(got.shape == want.shape, "Expand's output shape (" + be + ")");
      validate_result(got.data(), want.data(), "Expand/Neg forward (" + be + ")", 4);
    }
  }
  {  // PyTorch's export of F.pad(mode='reflect') (its pads an integer subgraph, folded at load), a
     // LayerNormalization over the last axis with its bias, LogSoftmax read as logits (an Rng of
     // their own, so that the graphs after these draw what they drew before)
    Rng rng(17);
    ModelBuilder b;
    b.input("x", {-1, 2, 4, 5}).output("lp");
    b.init("w", glorot(rng, {3, 2, 3, 3}, 18, 27)).init("g", rand_tensor(rng, {5}, 0.5f, 1.5f));
    b.init("beta", rand_tensor(rng, {5}, -0.5f, 0.5f)).init("w2", glorot(rng, {60, 4}, 60, 4));
    // pads (1, 1, 2, 0) for (W, H) as F.pad lists them, reversed and interleaved into ONNX's order
    b.init("c_len", Tensor::from_i64({1}, {4})).init("c_pad", Tensor::from_i64({4}, {1, 1, 2, 0}));
    b.init("pairs", Tensor::from_i64({2}, {-1, 2})).init("s0", Tensor::from_i64({1}, {-1}));
    b.init("s1", Tensor::from_i64({1}, {-9223372036854775807LL})).init("sa", Tensor::from_i64({1}, {0}));
    b.init("st", Tensor::from_i64({1}, {-1})).init("flat", Tensor::from_i64({1}, {-1}));
    onnx::AttributeProto zero;
    zero.set_type(onnx::AttributeProto::TENSOR);
    zero.mutable_t()->set_data_type(onnx::TensorProto::INT64);
    zero.mutable_t()->add_dims(1);
    zero.mutable_t()->add_int64_data(0);
    b.node("ConstantOfShape", {"c_len"}, {"zeros"}, {Attr{"value", zero}});
    b.node("Concat", {"c_pad", "zeros"}, {"all"}, {Attr::i("axis", 0)}).node("Reshape", {"all", "pairs"}, {"pr"});
    b.node("Slice", {"pr", "s0", "s1", "sa", "st"}, {"rev"}).node("Transpose", {"rev"}, {"tr"}, {Attr::ints("perm", {1, 0})});
    b.node("Reshape", {"tr", "flat"}, {"pads64"}).node("Cast", {"pads64"}, {"pads"}, {Attr::i("to", 7)});
    b.node("Pad", {"x", "pads"}, {"xp"}, {Attr::s("mode", "reflect")});  // (N, 2, 6, 7)
    b.node("Conv", {"xp", "w"}, {"c"}).node("Tanh", {"c"}, {"t"});   // (N, 3, 4, 5)
    b.node("LayerNormalization", {"t", "g", "beta"}, {"ln"}, {Attr::i("axis", -1), Attr::f("epsilon", 1e-3f)});
    b.node("Flatten", {"ln"}, {"f"}).node("MatMul", {"f", "w2"}, {"z"}).node("LogSoftmax", {"z"}, {"lp"}, {Attr::i("axis", 1)});
    TrainingDescription d;
    d.losses = {{"lp", LossKind::SparseCategoricalCrossentropy, /*from_logits*/ true}};
    Tensor x = rand_tensor(rng, {3, 2, 4, 5}), y = Tensor::from({3}, {0, 3, 1});
    auto s = Session::from_onnx(b.bytes().data(), b.bytes().size(), d);
    std::vector<std::string> trained = s->trainable_names();
    expect(std::set<std::string>(trained.begin(), trained.end()) == std::set<std::string>{"w", "g", "beta", "w2"},
           "the LayerNormalization's scale and bias train by default, the folded pads do not");
    graph_grad_check("reflect Pad/LayerNormalization/LogSoftmax graph", b.bytes(), d, {x}, {y});
    backends_agree("reflect Pad/LayerNormalization/LogSoftmax graph", b.bytes(), d, {x}, {y});
  }
  {  // edge and wrap Pad from an initializer; LayerNormalization over the last two axes without a bias
    Rng rng(19);
    for (const char* mode : {"edge", "wrap"}) {
      ModelBuilder b;
      b.input("x", {-1, 3, 4}).output("lp");
      b.init("pads", Tensor::from_i64({6}, {0, 2, 1, 0, 1, 3})).init("g", rand_tensor(rng, {6, 8}, 0.5f, 1.5f));
      b.init("w2", glorot(rng, {48, 3}, 48, 3));
      b.node("Pad", {"x", "pads"}, {"xp"}, {Attr::s("mode", mode)}).node("LayerNormalization", {"xp", "g"}, {"ln"}, {Attr::i("axis", -2)});
      b.node("Flatten", {"ln"}, {"f"}).node("MatMul", {"f", "w2"}, {"z"}).node("LogSoftmax", {"z"}, {"lp"});
      TrainingDescription d;
      d.losses = {{"lp", LossKind::SparseCategoricalCrossentropy, true}};
      d.trainable = {"g", "w2"};
      Tensor x = rand_tensor(rng, {2, 3, 4}), y = Tensor::from({2}, {2, 0});
      graph_grad_check(std::string(mode) + " Pad/LayerNormalization over two axes graph", b.bytes(), d, {x}, {y});
      backends_agree(std::string(mode) + " Pad/LayerNormalization over two axes graph", b.bytes(), d, {x}, {y});
    }
  }
  {  // ConvTranspose (Keras's Conv2DTranspose): strides, pads, output_padding, dilation, groups, bias; and 1-D
    ModelBuilder b;
    b.input("x", {-1, 4, 3, 3}).input("s", {-1, 2, 5}).output("p");
    b.init("w", glorot(rng, {4, 3, 3, 2}, 24, 18)).init("wb", rand_tensor(rng, {3}, -0.1f, 0.1f));
    b.init("wd", glorot(rng, {4, 1, 2, 2}, 8, 8)).init("w1", glorot(rng, {2, 3, 3}, 6, 9)).init("b1", rand_tensor(rng, {3}, -0.1f, 0.1f));
    b.init("flat", Tensor::from_i64({2}, {0, -1})).init("scale", rand_tensor(rng, {1, 4, 1, 1}, 0.5f, 1.5f));
    b.node("Mul", {"x", "scale"}, {"xs"});  // d(scale) needs ConvTranspose's input grad
    b.node("ConvTranspose", {"xs", "w", "wb"}, {"t"},  // 3x3 -> (3-1)*2 + 1 + 3 - 1 - 0 = 7 x 6
           {Attr::ints("strides", {2, 2}), Attr::ints("pads", {1, 0, 0, 1}), Attr::ints("output_padding", {1, 0})});
    b.node("ConvTranspose", {"xs", "wd"}, {"d"},  // groups 2, dilation 2: 3x3 -> 5x5
           {Attr::ints("dilations", {2, 2}), Attr::i("group", 2)});
    b.node("ConvTranspose", {"s", "w1", "b1"}, {"u"}, {Attr::ints("strides", {2}), Attr::ints("pads", {1, 1})});  // 5 -> 9
    b.node("Tanh", {"t"}, {"tt"}).node("Reshape", {"tt", "flat"}, {"f1"}).node("Reshape", {"d", "flat"}, {"f2"});
    b.node("Reshape", {"u", "flat"}, {"f3"}).node("Concat", {"f1", "f2", "f3"}, {"z"}, {Attr::i("axis", 1)});
    b.node("Softmax", {"z"}, {"p"}, {Attr::i("axis", -1)});
    TrainingDescription d;
    d.losses = {{"p", LossKind::SparseCategoricalCrossentropy}};
    Tensor x = rand_tensor(rng, {2, 4, 3, 3}), sq = rand_tensor(rng, {2, 2, 5}), y = Tensor::from({2}, {3, 150});
    graph_grad_check("ConvTranspose graph", b.bytes(), d, {x, sq}, {y});
    backends_agree("ConvTranspose graph", b.bytes(), d, {x, sq}, {y});
  }
  {  // Resize as Keras's UpSampling2D (bilinear: half_pixel by scales) and a PyTorch export (nearest,
     // align_corners by sizes) write it, behind a Mul so its input grad counts, between convolutions
    Rng rr(2112);  // its own stream: the cases after it keep their inputs
    ModelBuilder b;
    b.input("x", {-1, 3, 3, 4}).output("p");
    b.init("scale", rand_tensor(rr, {1, 3, 1, 1}, 0.5f, 1.5f)).init("k", glorot(rr, {2, 3, 1, 1}, 3, 2));
    b.init("scales", Tensor::from({4}, {1, 1, 2, 2})).init("sizes", Tensor::from_i64({4}, {2, 2, 5, 7}));
    b.init("flat", Tensor::from_i64({2}, {0, -1}));
    b.node("Mul", {"x", "scale"}, {"xs"});
    b.node("Resize", {"xs", "", "scales"}, {"up"},  // 3x4 -> 6x8
           {Attr::s("mode", "linear"), Attr::s("coordinate_transformation_mode", "half_pixel")});
    b.node("Tanh", {"up"}, {"t"}).node("Conv", {"t", "k"}, {"c"});
    b.node("Resize", {"c", "", "", "sizes"}, {"r"},  // 6x8 -> 5x7
           {Attr::s("mode", "nearest"), Attr::s("coordinate_transformation_mode", "align_corners")});
    b.node("Reshape", {"r", "flat"}, {"z"}).node("Softmax", {"z"}, {"p"}, {Attr::i("axis", -1)});
    TrainingDescription d;
    d.losses = {{"p", LossKind::SparseCategoricalCrossentropy}};
    d.trainable = {"scale", "k"};  // d(scale) goes back through both Resizes
    Tensor x = rand_tensor(rr, {2, 3, 3, 4}), y = Tensor::from({2}, {3, 60});
    graph_grad_check("Resize graph", b.bytes(), d, {x}, {y});
    backends_agree("Resize graph", b.bytes(), d, {x}, {y});
  }
  {  // Keras's Conv1D (causal pads, dilation, groups), MaxPooling1D and GlobalMaxPooling1D as the
     // translator writes them (channels-first between Transposes), and GlobalMaxPool over an image
    ModelBuilder b;
    b.input("x", {-1, 4, 9}).output("p");
    b.init("k", glorot(rng, {6, 2, 3}, 6, 18)).init("kb", rand_tensor(rng, {6}, -0.1f, 0.1f));
    b.init("k2", glorot(rng, {3, 6, 2, 2}, 24, 12)).init("shape", Tensor::from_i64({4}, {0, 6, 2, 2}));
    b.node("Conv", {"x", "k", "kb"}, {"c"}, {Attr::ints("pads", {4, 0}), Attr::ints("dilations", {2}), Attr::i("group", 2)});
    b.node("MaxPool", {"c"}, {"m"}, {Attr::ints("kernel_shape", {2}), Attr::ints("strides", {2})});  // 9 -> 4 steps
    b.node("GlobalMaxPool", {"m"}, {"g1"}).node("Flatten", {"g1"}, {"f1"});
    b.node("Reshape", {"m", "shape"}, {"img"}).node("Conv", {"img", "k2"}, {"c2"}, {Attr::ints("pads", {1, 1, 0, 0})});
    b.node("GlobalMaxPool", {"c2"}, {"g2"}).node("Flatten", {"g2"}, {"f2"});
    b.node("Concat", {"f1", "f2"}, {"z"}, {Attr::i("axis", 1)}).node("Softmax", {"z"}, {"p"}, {Attr::i("axis", -1)});
    TrainingDescription d;
    d.losses = {{"p", LossKind::SparseCategoricalCrossentropy}};
    Tensor x = rand_tensor(rng, {3, 4, 9}), y = Tensor::from({3}, {0, 4, 8});
    graph_grad_check("Conv1D/MaxPool 1-D/GlobalMaxPool graph", b.bytes(), d, {x}, {y});
    backends_agree("GlobalMaxPool graph", b.bytes(), d, {x}, {y});
    // the forward itself: each channel's largest step
    ModelBuilder g;
    g.input("x", {-1, 2, 3}).output("y").node("GlobalMaxPool", {"x"}, {"y"});
    Tensor seq = Tensor::from({1, 2, 3}, {0.5f, -1, 2, -3, -0.25f, -2}), want = Tensor::from({1, 2, 1}, {2, -0.25f});
    for (std::string be : {"cpu", "reference", "cuda-emu"}) {
      TrainingDescription dg;
      dg.backend = be;
      auto s = Session::from_onnx(g.bytes().data(), g.bytes().size(), dg);
      Tensor got = s->forward({seq})[0];
      validate_result(got.data(), want.data(), "GlobalMaxPool forward (" + be + ")", 2);
    }
  }
  {  // Keras's PReLU as the translator writes it: PRelu with per-channel (c, 1, 1) slopes after a Conv, per-feature after a MatMul
    ModelBuilder b;
    b.input("x", {-1, 2, 5, 5}).output("p");
    b.init("k", glorot(rng, {3, 2, 3, 3}, 18, 27)).init("a1", rand_tensor(rng, {3, 1, 1}, 0.1f, 0.5f));
    b.init("w2", glorot(rng, {27, 6}, 27, 6)).init("a2", rand_tensor(rng, {6}, -0.3f, 0.4f)).init("w3", glorot(rng, {6, 3}, 6, 3));
    b.node("Conv", {"x", "k"}, {"c"}).node("PRelu", {"c", "a1"}, {"p1"}).node("Flatten", {"p1"}, {"f"});
    b.node("MatMul", {"f", "w2"}, {"h"}).node("PRelu", {"h", "a2"}, {"p2"}).node("MatMul", {"p2", "w3"}, {"z"});
    b.node("Softmax", {"z"}, {"p"});
    TrainingDescription d;
    d.losses = {{"p", LossKind::SparseCategoricalCrossentropy}};
    d.backend_options.tf32 = false;
    Tensor x = rand_tensor(rng, {4, 2, 5, 5}), y = Tensor::from({4}, {0, 1, 2, 1});
    graph_grad_check("PRelu graph", b.bytes(), d, {x}, {y});
    backends_agree("PRelu graph", b.bytes(), d, {x}, {y});
  }
  {  // the translator's LayerNormalization (ReduceMean, Sub, Mul, Sqrt, Div, gamma, beta) and
     // MultiHeadAttention (projections split into heads by Reshape/Transpose, scaled query,
     // batched MatMuls of activations, a causal mask, Softmax, heads joined, output MatMul)
    ModelBuilder b;
    b.input("x", {-1, 3, 4}).output("y");
    b.init("ln/gamma", rand_tensor(rng, {4}, 0.5f, 1.5f)).init("ln/beta", rand_tensor(rng, {4}, -0.2f, 0.2f));
    b.init("eps", Tensor::from({}, {1e-3f})).init("scale", Tensor::from({}, {1 / std::sqrt(2.0f)}));
    b.init("mask", Tensor::from({3, 3}, {0, -1e9f, -1e9f, 0, 0, -1e9f, 0, 0, 0}));
    b.init("heads", Tensor::from_i64({4}, {0, 0, 2, 2})).init("joined", Tensor::from_i64({3}, {0, 0, 4}));
    for (const char* p : {"q", "k", "v"}) b.init(std::string(p) + "/kernel", glorot(rng, {4, 4}, 4, 4)).init(std::string(p) + "/bias", rand_tensor(rng, {4}, -0.1f, 0.1f));
    b.init("o/kernel", glorot(rng, {4, 4}, 4, 4));
    b.node("ReduceMean", {"x"}, {"mean"}, {Attr::ints("axes", {-1})}).node("Sub", {"x", "mean"}, {"cx"});
    b.node("Mul", {"cx", "cx"}, {"sq"}).node("ReduceMean", {"sq"}, {"var"}, {Attr::ints("axes", {-1})});
    b.node("Add", {"var", "eps"}, {"ve"}).node("Sqrt", {"ve"}, {"sd"}).node("Div", {"cx", "sd"}, {"nx"});
    b.node("Mul", {"nx", "ln/gamma"}, {"gx"}).node("Add", {"gx", "ln/beta"}, {"h"});
    for (const char* p : {"q", "k", "v"}) {
      std::string n = p;
      b.node("MatMul", {"h", n + "/kernel"}, {n + "m"}).node("Add", {n + "m", n + "/bias"}, {n + "b"});
      b.node("Reshape", {n + "b", "heads"}, {n + "r"});
      b.node("Transpose", {n + "r"}, {n + "t"}, {Attr::ints("perm", n == "k" ? std::vector<int64_t>{0, 2, 3, 1} : std::vector<int64_t>{0, 2, 1, 3})});
    }
    b.node("Mul", {"qt", "scale"}, {"qs"}).node("MatMul", {"qs", "kt"}, {"scores"}).node("Add", {"scores", "mask"}, {"masked"});
    b.node("Softmax", {"masked"}, {"a"}, {Attr::i("axis", -1)}).node("MatMul", {"a", "vt"}, {"ctx"});
    b.node("Transpose", {"ctx"}, {"ctxt"}, {Attr::ints("perm", {0, 2, 1, 3})}).node("Reshape", {"ctxt", "joined"}, {"cj"});
    b.node("MatMul", {"cj", "o/kernel"}, {"y"});
    TrainingDescription d;
    d.losses = {{"y", LossKind::MeanSquaredError}};
    d.trainable = {"ln/gamma", "ln/beta", "q/kernel", "q/bias", "k/kernel", "k/bias", "v/kernel", "v/bias", "o/kernel"};
    Tensor x = rand_tensor(rng, {2, 3, 4}), y = rand_tensor(rng, {2, 3, 4});
    std::string model = b.bytes();
    graph_grad_check("LayerNormalization/MultiHeadAttention graph", model, d, {x}, {y});
    d.backend = "reference";
    d.backend_options.tf32 = false;  // cuda-emu's products in FP32, to compare at 1e-4
    auto ref = Session::from_onnx(model.data(), model.size(), d);
    float want = ref->train_step({x}, {y}).loss;
    for (std::string be : {"cpu", "cuda-emu"}) {
      d.backend = be;
      auto s = Session::from_onnx(model.data(), model.size(), d);
      float got = s->train_step({x}, {y}).loss;
      validate_result(&got, &want, "attention graph loss (" + be + ")", 1);
      for (auto& n : s->trainable_names()) {
        Tensor g = s->get_gradient(n), gr = ref->get_gradient(n);
        validate_result(g.data(), gr.data(), "attention graph d(" + n + ") (" + be + ")", g.size());
      }
    }
  }
  {  // categorical cross-entropy on a softmax over the last axis of a 3-D output (fused), Transpose, Conv1D
    ModelBuilder b;
    b.input("x", {-1, 4, 6}).output("p");
    b.init("k", glorot(rng, {5, 4, 3}, 12, 15)).init("kb", rand_tensor(rng, {5}, -0.1f, 0.1f));
    b.node("Conv", {"x", "k", "kb"}, {"c"}, {Attr::s("auto_pad", "SAME_UPPER")});
    b.node("Elu", {"c"}, {"e"}).node("Transpose", {"e"}, {"t"}, {Attr::ints("perm", {0, 2, 1})});
    b.node("Softmax", {"t"}, {"p"}, {Attr::i("axis", -1)});
    Tensor tgt({2, 6, 5});
    for (int r = 0; r < 12; r++) tgt.f[r * 5 + r % 5] = 1;
    TrainingDescription d;
    d.losses = {{"p", LossKind::CategoricalCrossentropy}};
    graph_grad_check("Conv1D/Transpose/Softmax graph", b.bytes(), d, {rand_tensor(rng, {2, 4, 6})}, {tgt});
  }
}

// Strata's training-only ops (GaussianNoise, GaussianDropout, SpatialDropout, ActivityRegularization):
// the identity in inference; in training the same noise on every backend (drawn from the seed),
// the noise's statistics, SpatialDropout's whole channels, and ActivityRegularization's penalty in
// the loss with its gradient against finite differences.
static void test_training_only_ops() {
  Rng rng(33);
  auto one_op = [](const std::string& op, std::vector<Attr> attrs, Shape shape, bool weight) {
    ModelBuilder b;
    b.input("x", shape).output("y");
    if (weight) {
      Shape w = shape;
      w[0] = 1;
      Tensor ones(w);
      for (auto& v : ones.f) v = 1.0f;
      b.init("w", ones).node("Mul", {"x", "w"}, {"xw"});
    }
    b.strata_node(op, {weight ? "xw" : "x"}, {"y"}, std::move(attrs));
    return b.bytes();
  };
  TrainingDescription d;
  d.losses = {{"y", LossKind::MeanSquaredError}};
  d.optimizer = OptimizerConfig::keras_default(OptKind::SGD);
  d.seed = 7;
  auto loss_of = [&](const std::string& model, const Tensor& x, const Tensor& y, const std::string& be) {
    d.backend = be;
    return Session::from_onnx(model.data(), model.size(), d)->train_step({x}, {y}).loss;
  };
  Tensor zeros({1, 4000}), ones({1, 4000});
  for (auto& v : ones.f) v = 1.0f;
  // GaussianNoise(0.5): mean((x + noise - x)^2) is the noise's variance, 0.25; inference is x
  std::string noise = one_op("GaussianNoise", {Attr::f("stddev", 0.5f)}, {-1, 4000}, false);
  float l = loss_of(noise, zeros, zeros, "cpu");
  expect(std::fabs(l - 0.25f) < 0.02f, "GaussianNoise(0.5) adds noise of variance 0.25: " + std::to_string(l));
  // the same noise on every backend (the losses' sums may differ in order: to 1e-4)
  for (std::string be : {"reference", "cuda-emu"}) {
    float other = loss_of(noise, zeros, zeros, be);
    validate_result(&other, &l, "GaussianNoise draws the same noise on " + be, 1);
  }
  d.seed = 8;
  expect(loss_of(noise, zeros, zeros, "cpu") != l, "another seed, other noise");
  Tensor x = rand_tensor(rng, {3, 4000});
  d.backend = "cpu";
  auto inference = Session::from_onnx(noise.data(), noise.size(), d)->forward({x})[0];
  validate_result(inference.data(), x.data(), "GaussianNoise is the identity in inference", x.size());
  // GaussianDropout(0.3): x * (1 + 0.3 z) against x: 0.09 for x = 1
  std::string gd = one_op("GaussianDropout", {Attr::f("stddev", 0.3f)}, {-1, 4000}, false);
  l = loss_of(gd, ones, ones, "cpu");
  expect(std::fabs(l - 0.09f) < 0.01f, "GaussianDropout(stddev 0.3) multiplies by noise of variance 0.09: " + std::to_string(l));
  float emu = loss_of(gd, ones, ones, "cuda-emu");
  validate_result(&emu, &l, "GaussianDropout draws the same noise on cuda-emu", 1);
  // SpatialDropout(0.5) over channels (axis 1) of one image: d(loss)/dw is 0 on exactly the dropped
  // channels, whole; about half of 64 channels are dropped
  std::string sd = one_op("SpatialDropout", {Attr::f("ratio", 0.5f), Attr::i("axis", 1)}, {-1, 64, 3, 3}, true);
  Tensor img = rand_tensor(rng, {1, 64, 3, 3}, 0.5f, 1.5f), zero_img({1, 64, 3, 3});
  d.trainable = {"w"};
  for (std::string be : {"cpu", "cuda-emu"}) {
    d.backend = be;
    auto s = Session::from_onnx(sd.data(), sd.size(), d);
    s->train_step({img}, {zero_img});
    Tensor g = s->get_gradient("w");
    int dropped = 0;
    bool whole = true;
    for (int c = 0; c < 64; c++) {
      int zeros_here = 0;
      for (int k = 0; k < 9; k++) zeros_here += g.f[c * 9 + k] == 0.0f;
      whole = whole && (zeros_here == 0 || zeros_here == 9);
      dropped += zeros_here == 9;
    }
    expect(whole && dropped > 16 && dropped < 48,
           "SpatialDropout drops whole channels (" + be + "): " + std::to_string(dropped) + " of 64");
  }
  d.trainable = {};
  // ActivityRegularization(l1 0.01, l2 0.02) after a MatMul: its penalty joins the loss, and the
  // weights' gradients (through it) match finite differences
  ModelBuilder b;
  b.input("x", {-1, 5}).output("p");
  b.init("w1", glorot(rng, {5, 6}, 5, 6)).init("w2", glorot(rng, {6, 3}, 6, 3));
  b.node("MatMul", {"x", "w1"}, {"h"});
  b.strata_node("ActivityRegularization", {"h"}, {"r"}, {Attr::f("l1", 0.01f), Attr::f("l2", 0.02f)});
  b.node("MatMul", {"r", "w2"}, {"z"}).node("Softmax", {"z"}, {"p"});
  std::string model = b.bytes();
  d.losses = {{"p", LossKind::SparseCategoricalCrossentropy}};
  Tensor xs = rand_tensor(rng, {4, 5}), ys = Tensor::from({4}, {0, 1, 2, 1});
  graph_grad_check("ActivityRegularization graph", model, d, {xs}, {ys});
  d.backend = "reference";
  auto s = Session::from_onnx(model.data(), model.size(), d);
  StepResult r = s->evaluate({xs}, {ys});
  Tensor w1 = s->get_weight("w1");
  double penalty = 0;
  for (int n = 0; n < 4; n++)
    for (int j = 0; j < 6; j++) {
      double h = 0;
      for (int i = 0; i < 5; i++) h += (double)xs.f[n * 5 + i] * w1.f[i * 6 + j];
      penalty += 0.01 * std::fabs(h) + 0.02 * h * h;
    }
  expect(std::fabs(r.loss - r.output_losses[0] - penalty) < 1e-5 * (1 + penalty),
         "ActivityRegularization's penalty is in the loss: " + std::to_string(r.loss - r.output_losses[0]) + " vs " +
             std::to_string(penalty));
  // an op of Strata's domain that does not exist is named
  ModelBuilder bad;
  bad.input("x", {-1, 2}).output("y").strata_node("Mystery", {"x"}, {"y"});
  std::string bytes = bad.bytes(), msg;
  try {
    Session::from_onnx(bytes.data(), bytes.size(), d);
  } catch (const Error& e) {
    msg = e.what();
  }
  expect(msg.find("'Mystery' is not one of Strata's own (ai.strata)") != std::string::npos, "an unknown ai.strata op is named: " + msg);
}

// Strata's image augmentation ops (RandomFlip, RandomContrast, RandomAffine; ops/augment.h):
// the sampling's exact maps (a flip, a quarter turn, shifts under each fill mode), its backward
// as the exact transpose (<A x, g> = <x, A^T g> for bilinear maps under every fill mode),
// contrast's gradient against finite differences; then the kernels as training runs them:
// about half the images flipped, rotation angles and contrast factors within their ranges, the
// same seed the same augmentation, the identity in inference, and one training step's loss
// the same on every backend.
static double dot(const std::vector<float>& a, const std::vector<float>& b) {
  double s = 0;
  for (size_t i = 0; i < a.size(); i++) s += (double)a[i] * b[i];
  return s;
}

// The kernel of an ai.strata op run once on the reference backend: out for `x`.
static Tensor run_augment(const std::string& op, std::map<std::string, Attribute> attrs, const Tensor& x, bool training,
                          uint64_t seed) {
  Node n;
  n.op_type = op, n.domain = kStrataDomain, n.name = op, n.inputs = {"x"}, n.outputs = {"y"}, n.attrs = std::move(attrs);
  auto kernel = make_kernel(n, 17);
  auto be = make_backend("reference");
  KernelContext ctx;
  ctx.be = be.get(), ctx.training = training, ctx.seed = seed;
  Tensor in = x, out;
  Ins ins{&in};
  Outs outs{&out};
  kernel->infer(ins, outs);
  kernel->forward(ctx, ins, outs);
  return out;
}

static Attribute floats_attr(std::vector<float> v) {
  Attribute a;
  a.kind = Attribute::Floats, a.floats = std::move(v);
  return a;
}
static Attribute string_attr(const std::string& v) {
  Attribute a;
  a.kind = Attribute::String, a.s = v;
  return a;
}
static Attribute int_attr(int64_t v) {
  Attribute a;
  a.kind = Attribute::Int, a.i = v;
  return a;
}

static void test_augmentation_ops() {
  Rng rng(55);
  // exact maps, nearest reads: a horizontal flip, a quarter turn of a square, a shift of 2 under each fill mode
  ImageDims sq{1, 5, 5, 2};
  Tensor img = rand_tensor(rng, {1, 5, 5, 2}), out({1, 5, 5, 2});
  SampleParams nearest{FillMode::Reflect, Interp::Nearest, 0};
  AffineMap flip = flip_map(true, false, 5, 5);
  affine_sample_forward(out.data(), img.data(), &flip, sq, nearest);
  bool flipped = true;
  for (int y = 0; y < 5; y++)
    for (int x = 0; x < 5; x++)
      for (int c = 0; c < 2; c++) flipped = flipped && out.f[(y * 5 + x) * 2 + c] == img.f[(y * 5 + 4 - x) * 2 + c];
  expect(flipped, "a horizontal flip reads column W - 1 - x");
  AffineMap quarter = rotation_map(3.14159265f / 2, 5, 5);
  affine_sample_forward(out.data(), img.data(), &quarter, sq, nearest);
  bool turned = true;
  for (int y = 0; y < 5; y++)
    for (int x = 0; x < 5; x++) turned = turned && out.f[(y * 5 + x) * 2] == img.f[(x * 5 + 4 - y) * 2];
  expect(turned, "a quarter turn: out(y, x) = in(x, W - 1 - y)");
  ImageDims row{1, 1, 4, 1};
  Tensor line = Tensor::from({1, 1, 4, 1}, {10, 20, 30, 40}), shifted({1, 1, 4, 1});
  AffineMap shift2 = translation_map(0, 2);
  struct FillCase { FillMode mode; std::vector<float> want; const char* name; };
  for (const FillCase& fc : {FillCase{FillMode::Reflect, {20, 10, 10, 20}, "reflect"}, FillCase{FillMode::Wrap, {30, 40, 10, 20}, "wrap"},
                             FillCase{FillMode::Nearest, {10, 10, 10, 20}, "nearest"}, FillCase{FillMode::Constant, {-5, -5, 10, 20}, "constant"}}) {
    affine_sample_forward(shifted.data(), line.data(), &shift2, row, SampleParams{fc.mode, Interp::Nearest, -5});
    validate_result(shifted.data(), fc.want.data(), std::string("a shift of 2 filled by ") + fc.name, 4, 0);
  }
  // TensorFlow's wrap divides by len - 1 (its MapCoordinate): a shift of 6 over 4 pixels reads past the end, clamped
  AffineMap shift6 = translation_map(0, 6);
  affine_sample_forward(shifted.data(), line.data(), &shift6, row, SampleParams{FillMode::Wrap, Interp::Nearest, 0});
  std::vector<float> far = {40, 40, 40, 40};
  validate_result(shifted.data(), far.data(), "a shift of 6 filled by wrap, as TensorFlow folds it", 4, 0);
  // backward is the transpose, bilinear, every fill mode, maps of every kind with fractional coordinates
  ImageDims d{3, 6, 7, 2};
  Tensor x = rand_tensor(rng, {3, 6, 7, 2}), g = rand_tensor(rng, {3, 6, 7, 2});
  std::vector<AffineMap> maps = {rotation_map(0.7f, 6, 7), zoom_map(1.3f, 0.8f, 6, 7), translation_map(-1.4f, 2.3f)};
  for (FillMode mode : {FillMode::Reflect, FillMode::Wrap, FillMode::Constant, FillMode::Nearest})
    for (Interp interp : {Interp::Bilinear, Interp::Nearest}) {
      SampleParams p{mode, interp, 0};  // a fill value would be an offset, not linear: the transpose holds for 0
      std::vector<float> ax(x.f.size()), atg(x.f.size());
      affine_sample_forward(ax.data(), x.data(), maps.data(), d, p);
      affine_sample_backward(atg.data(), g.data(), maps.data(), d, p);
      float lhs = (float)dot(ax, g.f), rhs = (float)dot(x.f, atg);
      validate_result(&lhs, &rhs, "affine sampling backward is its transpose (fill " + std::to_string((int)mode) + ", interp " +
                                      std::to_string((int)interp) + ")", 1, 1e-5f);
    }
  // contrast: finite differences of sum(g * y) against contrast_backward, some outputs clipped
  {
    ImageDims cd{2, 3, 4, 2};
    Tensor cx = rand_tensor(rng, {2, 3, 4, 2}, 0, 1), cg = rand_tensor(rng, {2, 3, 4, 2});
    float factors[2] = {1.4f, 0.6f}, lo = 0.1f, hi = 0.9f;
    std::vector<float> y(cx.f.size()), mean(4), dx(cx.f.size());
    contrast_forward(y.data(), mean.data(), cx.data(), factors, cd, lo, hi);
    contrast_backward(dx.data(), cg.data(), y.data(), factors, cd, lo, hi);
    auto objective = [&](const std::vector<float>& in) {
      std::vector<float> yy(in.size()), mm(4);
      contrast_forward(yy.data(), mm.data(), in.data(), factors, cd, lo, hi);
      return dot(yy, cg.f);
    };
    std::vector<float> numeric(cx.f.size());
    for (size_t i = 0; i < cx.f.size(); i++) {
      std::vector<float> plus = cx.f, minus = cx.f;
      plus[i] += 1e-3f, minus[i] -= 1e-3f;
      numeric[i] = (float)((objective(plus) - objective(minus)) / 2e-3);
    }
    int clipped = 0;
    for (float v : y) clipped += v <= lo || v >= hi;
    expect(clipped > 0, "contrast's finite-difference case clips some outputs: " + std::to_string(clipped));
    validate_result(dx.data(), numeric.data(), "contrast backward vs finite differences", (int64_t)dx.size(), 2e-2f, 0.1f);
  }
  // RandomFlip horizontal over 400 two-pixel images [1, 0]: about half flipped; seeded
  Tensor pairs({400, 1, 2, 1});
  for (int n = 0; n < 400; n++) pairs.f[n * 2] = 1;
  std::map<std::string, Attribute> horizontal = {{"horizontal", int_attr(1)}, {"vertical", int_attr(0)}};
  Tensor f1 = run_augment("RandomFlip", horizontal, pairs, true, 9), f2 = run_augment("RandomFlip", horizontal, pairs, true, 9);
  int flips = 0;
  for (int n = 0; n < 400; n++) flips += f1.f[n * 2] == 0 && f1.f[n * 2 + 1] == 1;
  expect(flips > 160 && flips < 240, "RandomFlip flips about half of 400 images: " + std::to_string(flips));
  expect(f1.f == f2.f, "RandomFlip: the same seed flips the same images");
  expect(run_augment("RandomFlip", horizontal, pairs, true, 10).f != f1.f, "RandomFlip: another seed, other images");
  expect(run_augment("RandomFlip", horizontal, pairs, false, 9).f == pairs.f, "RandomFlip is the identity in inference");
  // RandomAffine rotation in [0.05, 0.1] turns (radians [0.314, 0.628]): a bright pixel 12 from
  // the center of a 33 x 33 image ends up (the centroid of its bilinear spread) at angles within the range
  const int S = 33, N = 60;
  Tensor dots({N, S, S, 1});
  for (int n = 0; n < N; n++) dots.f[(size_t)n * S * S + 16 * S + 28] = 1;
  std::map<std::string, Attribute> rotation = {{"rotation", floats_attr({0.05f * 6.2831853f, 0.1f * 6.2831853f})},
                                               {"fill_mode", string_attr("constant")}};
  Tensor turned_dots = run_augment("RandomAffine", rotation, dots, true, 3);
  float least = 10, most = -10;
  for (int n = 0; n < N; n++) {
    double mass = 0, cy = 0, cx = 0;
    for (int k = 0; k < S * S; k++) {
      float v = turned_dots.f[(size_t)n * S * S + k];
      mass += v, cy += v * (k / S - 16), cx += v * (k % S - 16);
    }
    float angle = std::fabs(std::atan2((float)(cy / mass), (float)(cx / mass)));
    least = std::min(least, angle), most = std::max(most, angle);
  }
  expect(least > 0.314f - 0.02f && most < 0.628f + 0.02f && most - least > 0.2f,
         "RandomAffine's rotation angles lie in [0.314, 0.628] rad and spread: " + std::to_string(least) + " .. " + std::to_string(most));
  expect(run_augment("RandomAffine", rotation, dots, false, 3).f == dots.f, "RandomAffine is the identity in inference");
  // RandomContrast factor_range [0.5, 1.5]: each image's spread about its mean scaled by a factor in the range
  Tensor faces = rand_tensor(rng, {50, 4, 4, 1}, 0, 1);
  std::map<std::string, Attribute> contrast = {{"factor_range", floats_attr({0.5f, 1.5f})}, {"value_range", floats_attr({-100, 100})}};
  Tensor contrasted = run_augment("RandomContrast", contrast, faces, true, 4);
  float low = 10, high = 0;
  for (int n = 0; n < 50; n++) {
    double mean = 0, sx = 0, sy = 0;
    for (int k = 0; k < 16; k++) mean += faces.f[n * 16 + k] / 16.0;
    for (int k = 0; k < 16; k++) sx += std::fabs(faces.f[n * 16 + k] - mean), sy += std::fabs(contrasted.f[n * 16 + k] - mean);
    low = std::min(low, (float)(sy / sx)), high = std::max(high, (float)(sy / sx));
  }
  expect(low >= 0.5f - 1e-4f && high <= 1.5f + 1e-4f && high - low > 0.5f,
         "RandomContrast's factors lie in [0.5, 1.5] and spread: " + std::to_string(low) + " .. " + std::to_string(high));
  // a training step through RandomFlip: the loss (images flipped away from their targets) is the
  // same on every backend, and about the fraction flipped
  ModelBuilder b;
  b.input("x", {-1, 1, 2, 1}).output("y");
  b.init("w", Tensor::from({1}, {1.0f})).node("Mul", {"x", "w"}, {"xw"});
  b.strata_node("RandomFlip", {"xw"}, {"y"}, {Attr::i("horizontal", 1), Attr::i("vertical", 0)});
  std::string model = b.bytes();
  TrainingDescription td;
  td.losses = {{"y", LossKind::MeanSquaredError}};
  td.optimizer = OptimizerConfig::keras_default(OptKind::SGD);
  td.seed = 5;
  std::vector<float> losses;
  for (std::string be : {"cpu", "reference", "cuda-emu"}) {
    td.backend = be;
    losses.push_back(Session::from_onnx(model.data(), model.size(), td)->train_step({pairs}, {pairs}).loss);
  }
  expect(losses[0] > 0.4f && losses[0] < 0.6f, "a training step's loss is the fraction flipped: " + std::to_string(losses[0]));
  validate_result(&losses[1], &losses[0], "RandomFlip flips the same images on reference", 1);
  validate_result(&losses[2], &losses[0], "RandomFlip flips the same images on cuda-emu", 1);
  // every op on every backend (the CUDA kernels through cuda-emu against the host loops): a
  // training step's loss and the gradient of a weight before the op (its backward) agree
  struct OpCase { std::string op; std::vector<Attr> attrs; };
  std::vector<OpCase> cases = {
      {"RandomFlip", {Attr::i("horizontal", 1), Attr::i("vertical", 1)}},
      {"RandomContrast", {Attr::floats("factor_range", {0.5f, 1.5f}), Attr::floats("value_range", {0.2f, 0.8f})}},
      {"RandomAffine", {Attr::floats("rotation", {-0.6f, 0.6f}), Attr::s("fill_mode", "reflect")}},
      {"RandomAffine", {Attr::floats("zoom_height", {-0.3f, 0.4f}), Attr::floats("zoom_width", {-0.2f, 0.2f}), Attr::s("fill_mode", "constant"),
                        Attr::f("fill_value", 0.25f)}},
      {"RandomAffine", {Attr::floats("translate_height", {-0.3f, 0.3f}), Attr::floats("translate_width", {-0.2f, 0.4f}),
                        Attr::s("fill_mode", "wrap"), Attr::s("interpolation", "nearest")}},
      {"RandomAffine", {Attr::floats("rotation", {0.1f, 0.9f}), Attr::s("fill_mode", "nearest")}},
  };
  Tensor images = rand_tensor(rng, {6, 5, 7, 3}, 0, 1), targets = rand_tensor(rng, {6, 5, 7, 3}, 0, 1);
  for (const OpCase& oc : cases) {
    ModelBuilder mb;
    mb.input("x", {-1, 5, 7, 3}).output("y");
    mb.init("w", rand_tensor(rng, {1, 5, 7, 3}, 0.5f, 1.5f)).node("Mul", {"x", "w"}, {"xw"});
    mb.strata_node(oc.op, {"xw"}, {"y"}, oc.attrs);
    std::string bytes = mb.bytes();
    TrainingDescription od = td;
    od.trainable = {"w"};
    std::vector<float> step_losses;
    std::vector<Tensor> grads;
    for (std::string be : {"reference", "cpu", "cuda-emu"}) {
      od.backend = be;
      auto s = Session::from_onnx(bytes.data(), bytes.size(), od);
      step_losses.push_back(s->train_step({images}, {targets}).loss);
      grads.push_back(s->get_gradient("w"));
    }
    for (int k : {1, 2}) {
      std::string what = oc.op + " (" + oc.attrs[0].name + ") on " + (k == 1 ? "cpu" : "cuda-emu");
      validate_result(&step_losses[k], &step_losses[0], what + ": the loss", 1);
      validate_result(grads[k].data(), grads[0].data(), what + ": the gradient through it", grads[0].size());
    }
  }
}

// Keras's weight regularizers and constraints (regularization.h): the penalty joins evaluate()'s
// and train_step's loss, its gradient the weight's (finite differences), constraints project the
// weight after the optimizer step as Keras's formulas say, and every backend agrees.
static void test_weight_rules() {
  Rng rng(44);
  ModelBuilder b;
  b.input("x", {-1, 4}).output("y");
  b.init("w", rand_tensor(rng, {4, 3}, -1, 1)).init("b", rand_tensor(rng, {3}, -0.5f, 0.5f));
  b.node("MatMul", {"x", "w"}, {"h"}).node("Add", {"h", "b"}, {"y"});
  std::string model = b.bytes();
  Tensor x = rand_tensor(rng, {5, 4}), t = rand_tensor(rng, {5, 3});
  TrainingDescription d;
  d.losses = {{"y", LossKind::MeanSquaredError}};
  d.optimizer = OptimizerConfig::keras_default(OptKind::SGD);
  d.optimizer.learning_rate = 0.1f;
  d.backend = "reference";
  WeightRule reg;
  reg.name = "w", reg.l1 = 0.03f, reg.l2 = 0.02f;
  WeightRule bias_reg;
  bias_reg.name = "b", bias_reg.l2 = 0.5f;
  d.weight_rules = {reg, bias_reg};
  auto plain = [&]() {
    TrainingDescription p = d;
    p.weight_rules = {};
    return Session::from_onnx(model.data(), model.size(), p);
  };
  auto s = Session::from_onnx(model.data(), model.size(), d);
  Tensor w = s->get_weight("w"), bias = s->get_weight("b");
  double penalty = regularization_penalty(w.f, reg) + regularization_penalty(bias.f, bias_reg), by_hand = 0;
  for (float v : w.f) by_hand += 0.03 * std::fabs(v) + 0.02 * v * v;
  for (float v : bias.f) by_hand += 0.5 * v * v;
  expect(std::fabs(penalty - by_hand) < 1e-6 * by_hand, "the penalty is l1 sum|w| + l2 sum w^2");
  float mse = plain()->evaluate({x}, {t}).loss;
  float got = s->evaluate({x}, {t}).loss;
  expect(std::fabs(got - (mse + (float)penalty)) < 1e-5f, "evaluate's loss adds the penalty: " + std::to_string(got) +
                                                              " vs " + std::to_string(mse + penalty));
  float trained = s->train_step({x}, {t}).loss;
  expect(std::fabs(trained - got) < 1e-5f, "train_step's loss adds the penalty of the step's weights");
  graph_grad_check("regularized Dense", model, d, {x}, {t});
  // constraints: the step of an unconstrained session, then Keras's formula by hand in double
  auto check_constraint = [&](ConstraintKind kind, float lo, float hi, float rate, int64_t outer, int64_t reduce,
                              int64_t inner, const std::string& what) {
    WeightRule c;
    c.name = "w", c.constraint = kind, c.min_value = lo, c.max_value = hi, c.rate = rate;
    c.outer = outer, c.reduce = reduce, c.inner = inner;
    TrainingDescription dc = d;
    dc.weight_rules = {c};
    auto free = plain();
    free->train_step({x}, {t});
    std::vector<float> want = free->get_weight("w").f;
    if (kind == ConstraintKind::NonNeg) {
      for (float& v : want) v = std::max(v, 0.0f);
    } else {
      for (int64_t o = 0; o < outer; o++)
        for (int64_t i = 0; i < inner; i++) {
          double sum = 0;
          for (int64_t k = 0; k < reduce; k++) sum += (double)want[(o * reduce + k) * inner + i] * want[(o * reduce + k) * inner + i];
          double norm = std::sqrt(sum), desired = norm;
          if (kind == ConstraintKind::MaxNorm) desired = std::min(norm, (double)hi);
          if (kind == ConstraintKind::UnitNorm) desired = 1;
          if (kind == ConstraintKind::MinMaxNorm) desired = rate * std::clamp(norm, (double)lo, (double)hi) + (1 - rate) * norm;
          for (int64_t k = 0; k < reduce; k++) {
            float& v = want[(o * reduce + k) * inner + i];
            v = (float)(v * desired / (1e-7 + norm));
          }
        }
    }
    for (std::string be : {"reference", "cpu", "cuda-emu"}) {
      dc.backend = be;
      auto sc = Session::from_onnx(model.data(), model.size(), dc);
      sc->train_step({x}, {t});
      validate_result(sc->get_weight("w").data(), want.data(), what + " (" + be + ")", (int64_t)want.size());
    }
  };
  check_constraint(ConstraintKind::MaxNorm, 0, 0.6f, 1, 1, 4, 3, "MaxNorm(0.6) per column (Keras's axis 0)");
  check_constraint(ConstraintKind::UnitNorm, 0, 0, 1, 4, 3, 1, "UnitNorm per row (axis 1)");
  check_constraint(ConstraintKind::MinMaxNorm, 0.9f, 1.1f, 0.5f, 1, 4, 3, "MinMaxNorm(0.9, 1.1, rate 0.5)");
  check_constraint(ConstraintKind::NonNeg, 0, 0, 1, 1, 1, 1, "NonNeg");
  // a rule on a weight that is not trainable is named
  std::string msg;
  TrainingDescription bad = d;
  bad.weight_rules[0].name = "nope";
  try {
    Session::from_onnx(model.data(), model.size(), bad);
  } catch (const Error& e) {
    msg = e.what();
  }
  expect(msg.find("weight rule on 'nope', which is not a trainable weight") != std::string::npos, "a bad rule is named: " + msg);
}

static void test_errors() {
  ModelBuilder b;
  b.input("x", {-1, 3}).output("y").node("Cosh", {"x"}, {"y"});
  TrainingDescription d;
  std::string msg;
  try {
    Session::from_onnx(b.bytes().data(), b.bytes().size(), d);
  } catch (const Error& e) {
    msg = e.what();
  }
  expect(msg.find("Cosh node 'Cosh_1'") != std::string::npos && msg.find("not supported") != std::string::npos,
         "unsupported op names the op and node: " + msg);
  ModelBuilder c;
  c.input("x", {-1, 3}).output("y").init("w", Tensor({4, 2})).node("MatMul", {"x", "w"}, {"y"});
  auto s = Session::from_onnx(c.bytes().data(), c.bytes().size(), d);
  msg.clear();
  try {
    s->forward({Tensor({2, 3})});
  } catch (const Error& e) {
    msg = e.what();
  }
  expect(msg.find("MatMul node 'MatMul_1'") != std::string::npos, "shape error names the node: " + msg);
  {  // the message ends at the message; where the engine raised it is source(): a base name and line
    std::string source;
    try {
      s->forward({Tensor({2, 3})});
    } catch (const Error& e) {
      source = e.source();
    }
    const std::regex location(R"([A-Za-z0-9_.]+\.(cpp|cc|h|cu|cuh):[0-9]+)");
    expect(!std::regex_search(msg, location), "the message carries no source location: " + msg);
    expect(std::regex_match(source, location), "source() is the raising file's base name and line: '" + source + "'");
  }
  msg.clear();
  try {
    s->forward({Tensor({2, 5})});
  } catch (const Error& e) {
    msg = e.what();
  }
  expect(msg.find("input 'x' expects shape") != std::string::npos, "bad input shape is reported: " + msg);
  {  // on a device a bad label is found by a kernel and raised when the step's metrics are read
    ModelBuilder m;
    m.input("x", {-1, 3}).output("z").init("w", Tensor::from({3, 4}, std::vector<float>(12, 0.1f)));
    m.node("MatMul", {"x", "w"}, {"z"});
    TrainingDescription dd;
    dd.losses = {{"z", LossKind::SparseCategoricalCrossentropy, true}};
    dd.backend = "cuda-emu";
    auto sd = Session::from_onnx(m.bytes().data(), m.bytes().size(), dd);
    msg.clear();
    try {
      sd->train_step({Tensor({2, 3})}, {Tensor::from({2}, {1, 7})});
    } catch (const Error& e) {
      msg = e.what();
    }
    expect(msg.find("sparse label 7 is not a class index in [0, 4)") != std::string::npos,
           "a bad label on the device is raised, naming it: " + msg);
    expect(std::isfinite(sd->train_step({Tensor({2, 3})}, {Tensor::from({2}, {1, 3})}).loss),
           "the device session trains on after a bad batch");
  }
#ifdef STRATA_WITH_CUDA
  {  // the CUDA backend is compiled: where no usable GPU is, it says why in one line
    ModelBuilder r;
    r.input("x", {-1, 3}).output("y").node("Relu", {"x"}, {"y"});
    TrainingDescription dc;
    dc.backend = "cuda";
    std::string why = cuda_unavailable_reason();
    msg.clear();
    try {
      auto sc = Session::from_onnx(r.bytes().data(), r.bytes().size(), dc);
      Tensor x = Tensor::from({2, 3}, {-1, 2, -3, 4, -5, 6});
      msg = sc->forward({x})[0].f == std::vector<float>{0, 2, 0, 4, 0, 6} ? "ran" : "wrong result";
    } catch (const Error& e) {
      msg = e.what();
    }
    expect(why.empty() ? msg == "ran" : msg.find("the CUDA backend cannot run here: " + why) != std::string::npos,
           "the cuda backend runs, or says in one line why it cannot (" + why + "): " + msg);
  }
#endif
  {  // Concat with an empty input (a fuzzer's finding: memcpy of 0 bytes from a null pointer, UBSan)
    ModelBuilder m;
    m.input("a", {-1, 0}).input("b", {-1, 2}).output("y").node("Concat", {"a", "b"}, {"y"}, {Attr::i("axis", 1)});
    auto sc = Session::from_onnx(m.bytes().data(), m.bytes().size(), d);
    Tensor got = sc->forward({Tensor({3, 0}), Tensor::from({3, 2}, {1, 2, 3, 4, 5, 6})})[0];
    expect(got.shape == Shape{3, 2} && got.f == std::vector<float>{1, 2, 3, 4, 5, 6}, "Concat of an empty and a full input");
  }
  {  // Pad's mode and LayerNormalization's scale: one line naming the node and what is valid
    auto error_of = [&](const ModelBuilder& m) {
      try {
        Session::from_onnx(m.bytes().data(), m.bytes().size(), d)->forward({Tensor({2, 3})});
      } catch (const Error& e) {
        return std::string(e.what());
      }
      return std::string("no error");
    };
    ModelBuilder pad;
    pad.input("x", {-1, 3}).output("y").init("pads", Tensor::from_i64({4}, {0, 1, 0, 1}));
    pad.node("Pad", {"x", "pads"}, {"y"}, {Attr::s("mode", "symmetric")});
    msg = error_of(pad);
    expect(msg.find("Pad node 'Pad_1': mode 'symmetric' is not one of constant, reflect, edge, wrap") != std::string::npos,
           "an unknown Pad mode names the node and the modes: " + msg);
    ModelBuilder empty;  // reflect has nothing to mirror in an empty axis
    empty.input("x", {-1, 0}).output("y").init("pads", Tensor::from_i64({4}, {0, 1, 0, 1}));
    empty.node("Pad", {"x", "pads"}, {"y"}, {Attr::s("mode", "reflect")});
    try {
      Session::from_onnx(empty.bytes().data(), empty.bytes().size(), d)->forward({Tensor({2, 0})});
      msg = "no error";
    } catch (const Error& e) {
      msg = e.what();
    }
    expect(msg.find("mode 'reflect' cannot pad the empty axis 1") != std::string::npos, "reflecting an empty axis is an error: " + msg);
    ModelBuilder ln;
    ln.input("x", {-1, 3}).output("y").init("g", Tensor::from({4}, {1, 1, 1, 1}));
    ln.node("LayerNormalization", {"x", "g"}, {"y"});
    msg = error_of(ln);
    expect(msg.find("LayerNormalization node 'LayerNormalization_1': Scale [4] must have the 3 values of the normalized axes [3]") !=
               std::string::npos,
           "a Scale of the wrong size names the node and the size: " + msg);
  }
  msg.clear();
  try {
    make_backend("tpu");
  } catch (const Error& e) {
    msg = e.what();
  }
  expect(msg.find("unknown backend 'tpu'") != std::string::npos, "unknown backend is named: " + msg);
  msg.clear();
  try {
    Session::from_onnx("garbage", 7, d);
  } catch (const Error& e) {
    msg = e.what();
  }
  expect(msg.find("not an ONNX model") != std::string::npos, "garbage bytes are reported: " + msg);
}

// ONNX's LSTM as the exporter writes Keras's: batch-major input transposed to time-major; the
// sequence Y reversed along time by Slice (go_backwards), the last state Y_h and the cell state
// Y_c each read by a Dense, so that gradients reach the node through all three outputs at once;
// against finite differences. Then what the engine refuses, by name.
static void test_recurrent_graph() {
  Rng rng(21);
  const int64_t T = 4, I = 2, H = 3;
  auto lstm_model = [&](std::vector<Attr> attrs, bool lens) {
    ModelBuilder b;
    b.input("x", {-1, T, I}).output("out");
    b.init("W", rand_tensor(rng, {1, 4 * H, I}, -0.6f, 0.6f)).init("R", rand_tensor(rng, {1, 4 * H, H}, -0.6f, 0.6f));
    b.init("B", rand_tensor(rng, {1, 8 * H}, -0.3f, 0.3f));
    b.init("ax0", Tensor::from_i64({1}, {0})).init("ax1", Tensor::from_i64({1}, {1}));
    b.init("start", Tensor::from_i64({1}, {-1})).init("end", Tensor::from_i64({1}, {INT64_MIN}));
    b.init("step", Tensor::from_i64({1}, {-1})).init("flat", Tensor::from_i64({2}, {-1, T * H}));
    b.init("Wy", rand_tensor(rng, {T * H, 2})).init("Wh", rand_tensor(rng, {H, 2})).init("Wc", rand_tensor(rng, {H, 2}));
    std::vector<std::string> in = {"xt", "W", "R", "B"};
    if (lens) b.init("lens", Tensor::from_i64({3}, {T, T - 1, T})), in.push_back("lens");
    attrs.push_back(Attr::i("hidden_size", H));
    b.node("Transpose", {"x"}, {"xt"}, {Attr::ints("perm", {1, 0, 2})});
    b.node("LSTM", in, {"Y", "Y_h", "Y_c"}, attrs);
    b.node("Squeeze", {"Y", "ax1"}, {"seq"}).node("Slice", {"seq", "start", "end", "ax0", "step"}, {"rev"});
    b.node("Transpose", {"rev"}, {"bm"}, {Attr::ints("perm", {1, 0, 2})}).node("Reshape", {"bm", "flat"}, {"f"});
    b.node("Squeeze", {"Y_h", "ax0"}, {"h"}).node("Squeeze", {"Y_c", "ax0"}, {"c"});
    b.node("MatMul", {"f", "Wy"}, {"a"}).node("MatMul", {"h", "Wh"}, {"hb"}).node("MatMul", {"c", "Wc"}, {"cb"});
    b.node("Add", {"a", "hb"}, {"ab"}).node("Add", {"ab", "cb"}, {"out"});
    return b.bytes();
  };
  TrainingDescription d;
  d.losses = {{"out", LossKind::MeanSquaredError}};
  Tensor x = rand_tensor(rng, {3, T, I}), y = rand_tensor(rng, {3, 2});
  graph_grad_check("LSTM: Y reversed by Slice, Y_h and Y_c", lstm_model({}, false), d, {x}, {y});
  auto refusal = [&](const std::string& model, const std::string& backend) {
    d.backend = backend;
    try {
      Session::from_onnx(model.data(), model.size(), d)->forward({x});
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("(no error)");
  };
  std::string msg = refusal(lstm_model({Attr::f("clip", 3.0f)}, false), "cpu");
  expect(msg.find("LSTM node 'LSTM_2': the clip attribute is not supported") != std::string::npos, "clip refused: " + msg);
  msg = refusal(lstm_model({}, true), "cpu");
  expect(msg.find("sequence_lens 3 differs from the 4 steps") != std::string::npos, "short sequences refused: " + msg);
  msg = refusal(lstm_model({Attr::i("input_forget", 1)}, false), "cpu");
  expect(msg.find("input_forget=1 is not supported") != std::string::npos, "input_forget refused: " + msg);
  // a backend with its own memory but no recurrent kernels (the reference's loops standing in
  // for a device) is refused naming the node
  struct DeviceLike : ReferenceBackend {
    std::string name() const override { return "device-like"; }
    bool host_memory() const override { return false; }
  };
  register_backend("device-like", [](const BackendOptions&) -> std::unique_ptr<Backend> {
    return std::make_unique<DeviceLike>();
  });
  msg = refusal(lstm_model({}, false), "device-like");
  expect(msg.find("LSTM node 'LSTM_2': the device-like backend has no recurrent kernels") != std::string::npos,
         "a backend without recurrent kernels refused by name: " + msg);
  // the CUDA kernels: one step's loss and every weight's gradient as the reference's
  backends_agree("LSTM: Y reversed by Slice, Y_h and Y_c", lstm_model({}, false), d, {x}, {y});
}

// A recurrent model trains on "cuda-emu" (the CUDA kernels, strict FP32) with the CPU's loss at
// every step, and the loss falls: Keras's layers as the exporter writes them, batch-major (layout
// 1), an LSTM's sequence read by a reversed RNN's, whose sequence a bidirectional GRU (reset_after:
// linear_before_reset 1) with a trainable initial state reads; its Y_h (both directions) to a Dense.
static void test_recurrent_training_on_cuda() {
  Rng rng(77);
  const int64_t N = 6, T = 5, I = 3, H = 4, K = 3;
  ModelBuilder b;
  b.input("x", {-1, T, I}).output("out");
  b.init("Wl", rand_tensor(rng, {1, 4 * H, I}, -0.5f, 0.5f)).init("Rl", rand_tensor(rng, {1, 4 * H, H}, -0.5f, 0.5f));
  b.init("Bl", rand_tensor(rng, {1, 8 * H}, -0.2f, 0.2f));
  b.init("Wr", rand_tensor(rng, {1, H, H}, -0.5f, 0.5f)).init("Rr", rand_tensor(rng, {1, H, H}, -0.5f, 0.5f));
  b.init("Wg", rand_tensor(rng, {2, 3 * H, H}, -0.5f, 0.5f)).init("Rg", rand_tensor(rng, {2, 3 * H, H}, -0.5f, 0.5f));
  b.init("Bg", rand_tensor(rng, {2, 6 * H}, -0.2f, 0.2f)).init("h0", rand_tensor(rng, {N, 2, H}, -0.2f, 0.2f));
  b.init("ax2", Tensor::from_i64({1}, {2})).init("flat", Tensor::from_i64({2}, {-1, 2 * H}));
  b.init("Wd", rand_tensor(rng, {2 * H, K})).init("bd", Tensor({K}));
  const Attr batch_major = Attr::i("layout", 1), hidden = Attr::i("hidden_size", H);
  b.node("LSTM", {"x", "Wl", "Rl", "Bl"}, {"Yl"}, {batch_major, hidden}).node("Squeeze", {"Yl", "ax2"}, {"sl"});
  b.node("RNN", {"sl", "Wr", "Rr"}, {"Yr"}, {batch_major, hidden, Attr::s("direction", "reverse")});
  b.node("Squeeze", {"Yr", "ax2"}, {"sr"});
  b.node("GRU", {"sr", "Wg", "Rg", "Bg", "", "h0"}, {"", "Yg"},
         {batch_major, hidden, Attr::s("direction", "bidirectional"), Attr::i("linear_before_reset", 1)});
  b.node("Reshape", {"Yg", "flat"}, {"f"}).node("Gemm", {"f", "Wd", "bd"}, {"out"});
  const std::string model = b.bytes();
  TrainingDescription d;
  d.losses = {{"out", LossKind::MeanSquaredError}};
  d.optimizer = OptimizerConfig::keras_default(OptKind::Adam);
  d.optimizer.learning_rate = 0.02f;
  d.backend_options.tf32 = false;
  Tensor x = rand_tensor(rng, {N, T, I}), y = rand_tensor(rng, {N, K});
  std::vector<std::vector<float>> losses;
  for (std::string be : {"cpu", "cuda-emu"}) {
    d.backend = be;
    auto s = Session::from_onnx(model.data(), model.size(), d);
    losses.emplace_back();
    for (int step = 0; step < 8; step++) losses.back().push_back(s->train_step({x}, {y}).loss);
  }
  for (size_t k = 0; k < losses[0].size(); k++)
    validate_result(&losses[1][k], &losses[0][k], "recurrent model on cuda-emu: step " + std::to_string(k) + "'s loss", 1);
  expect(losses[1].back() < 0.8f * losses[1].front(), "recurrent model on cuda-emu: the loss falls (" +
                                                           std::to_string(losses[1].front()) + " -> " +
                                                           std::to_string(losses[1].back()) + ")");
}

// Slice with every step 1 (Keras's CenterCrop): a window of two axes, one start counted from
// the end and one end past the axis (clamped), as one crop through the backends' Pad. The
// cropped values against a loop over the input; the gradients of a weight before the window
// (zero where it was cropped away) and after it against finite differences, and the cpu and
// cuda-emu backends against the reference.
static void test_slice_window() {
  Rng rng(23);
  const int64_t N = 2, C = 2, H = 5, W = 6;
  // x, or x times a trained scale, cropped to rows 1..3 and columns 2..5
  auto window_model = [&](bool scaled, const std::string& output) {
    ModelBuilder b;
    b.input("x", {-1, C, H, W}).output(output);
    b.init("starts", Tensor::from_i64({2}, {1, -4})).init("ends", Tensor::from_i64({2}, {4, 100}));
    b.init("axes", Tensor::from_i64({2}, {2, -1}));
    if (scaled) b.init("scale", rand_tensor(rng, {C, H, W}, 0.5f, 1.5f)).node("Mul", {"x", "scale"}, {"scaled"});
    b.node("Slice", {scaled ? "scaled" : "x", "starts", "ends", "axes"}, {"crop"});
    return b;
  };
  Tensor x = rand_tensor(rng, {N, C, H, W});
  ModelBuilder only = window_model(false, "crop");
  Tensor crop = Session::from_onnx(only.bytes().data(), only.bytes().size(), TrainingDescription{})->forward({x})[0].to_host();
  std::vector<float> want;
  for (int64_t nc = 0; nc < N * C; nc++)
    for (int64_t h = 1; h < 4; h++)
      for (int64_t w = 2; w < W; w++) want.push_back(x.f[(nc * H + h) * W + w]);
  expect(crop.shape == Shape({N, C, 3, 4}), "the window's shape: " + shape_str(crop.shape));
  validate_result(crop.f.data(), want.data(), "Slice window values", (int64_t)want.size());
  ModelBuilder trained = window_model(true, "out");
  trained.init("w", rand_tensor(rng, {C * 3 * 4, 2})).init("flat", Tensor::from_i64({2}, {-1, C * 3 * 4}));
  trained.node("Tanh", {"crop"}, {"t"}).node("Reshape", {"t", "flat"}, {"f"}).node("MatMul", {"f", "w"}, {"out"});
  TrainingDescription d;
  d.losses = {{"out", LossKind::MeanSquaredError}};
  d.trainable = {"scale", "w"};
  Tensor y = rand_tensor(rng, {N, 2});
  graph_grad_check("Slice window", trained.bytes(), d, {x}, {y});
  backends_agree("Slice window", trained.bytes(), d, {x}, {y});
}

// Keras's Maximum, Minimum and Dot(normalize=True) as the translator writes them: a 3-input Max
// with a broadcast (N, 1) operand, Min, Sub, and the L2 normalization x / Sqrt(Max(ReduceSumSquare(x),
// eps)) before a batched MatMul; then the tie rule through whole sessions.
static void test_merge_ops() {
  Rng rng(41);
  {
    ModelBuilder b;
    b.input("x", {-1, 4}).output("p");
    b.init("w1", glorot(rng, {4, 6}, 4, 6)).init("w2", glorot(rng, {4, 6}, 4, 6)).init("w3", glorot(rng, {4, 1}, 4, 1));
    b.init("floor", rand_tensor(rng, {6}, -0.3f, 0.3f)).init("eps", Tensor::from({1}, {1e-14f}));
    b.init("rows", Tensor::from_i64({3}, {0, 2, 3})).init("w4", glorot(rng, {3, 3}, 3, 3));
    b.node("MatMul", {"x", "w1"}, {"h1"}).node("MatMul", {"x", "w2"}, {"h2"}).node("MatMul", {"x", "w3"}, {"h3"});
    b.node("Max", {"h1", "h2", "h3"}, {"m"}).node("Min", {"h1", "floor"}, {"lo"}).node("Sub", {"m", "lo"}, {"d"});
    b.node("Reshape", {"d", "rows"}, {"d3"});  // (N, 2, 3): Dot over the last axis of each row pair
    b.node("ReduceSumSquare", {"d3"}, {"ss"}, {Attr::ints("axes", {2})}).node("Max", {"ss", "eps"}, {"ssf"});
    b.node("Sqrt", {"ssf"}, {"norm"}).node("Div", {"d3", "norm"}, {"u"});
    b.node("Transpose", {"u"}, {"ut"}, {Attr::ints("perm", {0, 2, 1})}).node("MatMul", {"u", "ut"}, {"cos"});  // (N, 2, 2)
    b.node("ReduceSumSquare", {"cos"}, {"c2"}, {Attr::ints("axes", {1}), Attr::i("keepdims", 0)});  // (N, 2)
    b.node("Concat", {"c2", "h3"}, {"f"}, {Attr::i("axis", 1)}).node("MatMul", {"f", "w4"}, {"z"}).node("Softmax", {"z"}, {"p"});
    TrainingDescription d;
    d.losses = {{"p", LossKind::SparseCategoricalCrossentropy}};
    d.trainable = {"w1", "w2", "w3", "floor", "w4"};
    Tensor x = rand_tensor(rng, {5, 4}), y = Tensor::from({5}, {0, 1, 2, 1, 0});
    graph_grad_check("Max/Min/ReduceSumSquare graph", b.bytes(), d, {x}, {y});
    backends_agree("Max/Min/ReduceSumSquare graph", b.bytes(), d, {x}, {y});
  }
  // ties: x * a and x * b with a == b are equal everywhere; Max gives a the whole gradient, Min
  // (b first) gives it to b, Max of one input passes it through
  for (const char* op : {"Max", "Min"}) {
    bool max = std::string(op) == "Max";
    ModelBuilder b;
    b.input("x", {-1, 3}).output("y");
    Tensor w = rand_tensor(rng, {3});
    b.init("a", w).init("b", w);
    b.node("Mul", {"x", "a"}, {"xa"}).node("Mul", {"x", "b"}, {"xb"});
    b.node(op, max ? std::vector<std::string>{"xa", "xb"} : std::vector<std::string>{"xb", "xa"}, {"y"});
    TrainingDescription d;
    d.losses = {{"y", LossKind::MeanSquaredError}};
    d.trainable = {"a", "b"};
    Tensor x = rand_tensor(rng, {4, 3}), t = rand_tensor(rng, {4, 3});
    for (std::string be : {"cpu", "reference", "cuda-emu"}) {
      d.backend = be;
      auto s = Session::from_onnx(b.bytes().data(), b.bytes().size(), d);
      s->train_step({x}, {t});
      Tensor winner = s->get_gradient(max ? "a" : "b"), loser = s->get_gradient(max ? "b" : "a");
      std::vector<float> zeros(3, 0.0f);
      bool moved = false;
      for (float g : winner.f) moved |= g != 0;
      expect(moved, std::string(op) + " at ties: the first input's weight gets the gradient (" + be + ")");
      validate_result(loser.data(), zeros.data(), std::string(op) + " at ties: the second input gets none (" + be + ")", 3, 0, 1);
    }
  }
  for (const char* op : {"Max", "Min", "Sum"}) {  // a variadic op's omitted input (an empty name) is an error naming it
    ModelBuilder b;
    b.input("x", {-1, 2}).output("y").node(op, {"x", "", "x"}, {"y"});
    std::string msg;
    try {
      Session::from_onnx(b.bytes().data(), b.bytes().size(), TrainingDescription{});
    } catch (const Error& e) {
      msg = e.what();
    }
    expect(msg.find(std::string(op) + " node '" + op + "_1': required input 1 is missing") != std::string::npos,
           std::string(op) + ": an omitted input is named: " + msg);
  }
  {  // Max of one input is its identity, forward and backward
    ModelBuilder b;
    b.input("x", {-1, 2}).output("y").node("Max", {"x"}, {"m"}).node("Min", {"m"}, {"y"});
    Tensor x = Tensor::from({2, 2}, {0.5f, -1, 2, -3});
    for (std::string be : {"cpu", "reference", "cuda-emu"}) {
      TrainingDescription d;
      d.backend = be;
      auto s = Session::from_onnx(b.bytes().data(), b.bytes().size(), d);
      validate_result(s->forward({x})[0].data(), x.data(), "Max/Min of one input (" + be + ")", 4, 0, 1);
    }
  }
}

// The message a model's load or first forward pass raises, empty when it runs.
static std::string refusal_of(const ModelBuilder& b, const std::vector<Tensor>& inputs) {
  try {
    TrainingDescription d;
    d.backend = "reference";
    Session::from_onnx(b.bytes().data(), b.bytes().size(), d)->forward(inputs);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

// Malformed nodes the fuzzer found (native/fuzz/corpus/onnx_model/regression-*): each was a read
// past a buffer; each is now an error naming the node.
static void test_malformed_nodes() {
  ModelBuilder conv;
  conv.input("x", {1, 2, 4, 4}).output("y").init("w", Tensor({3, 2, 1, 1})).init("b", Tensor({2}));
  conv.node("Conv", {"x", "w", "b"}, {"y"});
  std::string msg = refusal_of(conv, {Tensor({1, 2, 4, 4})});
  expect(msg.find("Conv node") != std::string::npos && msg.find("bias [2] is not one value per output channel (3)") != std::string::npos,
         "a bias shorter than the output channels is refused: " + msg);
  ModelBuilder sum;
  sum.input("x", {2}).output("y").node("Sum", {}, {"y"});
  msg = refusal_of(sum, {Tensor({2})});
  expect(msg.find("Sum node") != std::string::npos && msg.find("needs 1") != std::string::npos, "a Sum of nothing is refused: " + msg);
  ModelBuilder reshape;
  reshape.input("x", {2}).output("y").init("s", Tensor::from_i64({2}, {2, 1})).node("Reshape", {"s"}, {"t"});
  reshape.node("Add", {"x", "t"}, {"y"});
  msg = refusal_of(reshape, {Tensor({2})});
  expect(msg.find("Reshape node") != std::string::npos && msg.find("needs its shape input") != std::string::npos,
         "a constant Reshape without its shape is refused: " + msg);
  ModelBuilder unsqueeze;
  unsqueeze.input("x", {2}).output("y").init("s", Tensor::from_i64({2}, {2, 1})).init("axes", Tensor::from_i64({2}, {0, 0}));
  unsqueeze.node("Unsqueeze", {"s", "axes"}, {"t"}).node("Add", {"x", "t"}, {"y"});
  msg = refusal_of(unsqueeze, {Tensor({2})});
  expect(msg.find("Unsqueeze node") != std::string::npos && msg.find("axis 0 is repeated") != std::string::npos,
         "an Unsqueeze repeating an axis is refused: " + msg);
  ModelBuilder constants;  // no inputs at all: planned (and checked) all the same
  constants.output("y").init("axes", Tensor::from_i64({2}, {0, 1})).node("ReduceMean", {"axes"}, {"y"});
  msg = refusal_of(constants, {});
  expect(msg.find("ReduceMean node") != std::string::npos && msg.find("is an integer tensor") != std::string::npos,
         "a graph of constants is checked as any other: " + msg);
}

// Metrics from a session on each backend: a classifier whose Softmax the loss fuses (its
// accuracy reads the logits, its errors the probabilities the output holds) and a regression
// head, against values computed here from forward(); a metric that cannot read its loss's
// target is refused at construction, naming both.
static void test_metrics() {
  Rng rng(26);
  ModelBuilder b;
  b.input("x", {-1, 5}).output("probs").output("reg");
  b.init("wc", glorot(rng, {5, 3}, 5, 3)).init("wr", glorot(rng, {5, 2}, 5, 2));
  b.node("MatMul", {"x", "wc"}, {"z"}).node("Softmax", {"z"}, {"probs"}).node("MatMul", {"x", "wr"}, {"reg"});
  Tensor x = rand_tensor(rng, {9, 5}), onehot({9, 3}), target = rand_tensor(rng, {9, 2});
  for (int64_t r = 0; r < 9; r++) onehot.f[r * 3 + r % 3] = 1;
  TrainingDescription d;
  d.losses = {{"probs", LossKind::CategoricalCrossentropy, false, 1.0f,
               {MetricKind::CategoricalAccuracy, MetricKind::MeanAbsoluteError, MetricKind::BinaryAccuracy}},
              {"reg", LossKind::MeanSquaredError, false, 1.0f, {MetricKind::MeanAbsoluteError, MetricKind::MeanSquaredError}}};
  for (std::string be : {"reference", "cpu", "cuda-emu"}) {
    d.backend = be;
    auto s = Session::from_onnx(b.bytes().data(), b.bytes().size(), d);
    std::vector<Tensor> out = s->forward({x});
    StepResult r = s->evaluate({x}, {onehot, target});
    auto mean_over = [](const Tensor& p, const Tensor& y, auto f) {
      double sum = 0;
      for (int64_t i = 0; i < p.size(); i++) sum += f((double)p.f[i] - y.f[i], p.f[i], y.f[i]);
      return sum / p.size();
    };
    double hits = 0;
    for (int64_t r = 0; r < 9; r++) {
      const float* p = &out[0].f[r * 3];
      hits += std::max_element(p, p + 3) - p == r % 3;
    }
    const std::vector<double> want0 = {hits / 9, mean_over(out[0], onehot, [](double e, float, float) { return std::fabs(e); }),
                                       mean_over(out[0], onehot, [](double, float p, float y) { return (p > 0.5f) == (y > 0.5f) ? 1.0 : 0.0; })};
    const std::vector<double> want1 = {mean_over(out[1], target, [](double e, float, float) { return std::fabs(e); }),
                                       mean_over(out[1], target, [](double e, float, float) { return e * e; })};
    bool close = r.metrics.size() == 2 && r.metrics[0].size() == 3 && r.metrics[1].size() == 2;
    for (size_t i = 0; close && i < 3; i++) close &= std::fabs(r.metrics[0][i] - want0[i]) < 1e-5;
    for (size_t i = 0; close && i < 2; i++) close &= std::fabs(r.metrics[1][i] - want1[i]) < 1e-5;
    close &= std::fabs(r.metrics[1][1] - r.output_losses[1]) < 1e-5;  // the MSE metric is the unweighted MSE loss
    expect(close, "metrics (" + be + ") match forward()'s outputs: accuracy, errors of the probabilities, of the regression");
  }
  d.losses[1].metrics = {MetricKind::SparseCategoricalAccuracy};
  std::string msg;
  try {
    Session::from_onnx(b.bytes().data(), b.bytes().size(), d);
  } catch (const Error& e) {
    msg = e.what();
  }
  expect(msg.find("metric sparse_categorical_accuracy on 'reg' cannot read the target of mean_squared_error") != std::string::npos,
         "a metric that does not fit its loss is refused: " + msg);
}

int main() {
  try {
    test_dense();
    test_resume("cpu");
    test_resume("cuda-emu");
    test_cnn("cpu");
    test_cnn("reference");
    test_cnn("cuda-emu");
    test_prefetch();
    test_profile();
    test_graph_gradients();
    test_fusions();
    test_grouped_convolutions();
    test_training_only_ops();
    test_augmentation_ops();
    test_weight_rules();
    test_errors();
    test_malformed_nodes();
    test_recurrent_graph();
    test_recurrent_training_on_cuda();
    test_slice_window();
    test_cuda_graphs();
    test_merge_ops();
    test_metrics();
  } catch (const std::exception& e) {
    std::printf("FAIL: exception: %s\n", e.what());
    return 1;
  }
  return finish("test_session");
}
