// bench_train: milliseconds per training step, per backend, batch 64, of
//   cnn: an MNIST-sized seed CNN (Conv 32 3x3 relu, MaxPool 2, Conv 64 3x3 relu,
//        MaxPool 2, Flatten, Dense 128 relu, Dropout 0.5, Dense 10 softmax)
//   mlp: Dense 784-512-512-10 with relu, bias adds as MatMul + Add
//
//   model.onnx: any single-input float model whose output feeds a sparse
//        categorical cross-entropy (e.g. a seed model exported by the translator)
//
//   bench_train [steps=10] [backends=cpu,reference] [threads=0] [model=cnn|mlp|file.onnx] [batch=64]
//
// With INFER=1 in the environment it times forward() (inference) instead.
#include <xmmintrin.h>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <sstream>

#include "core/graph.h"
#include "core/rng.h"
#include "core/session.h"
#include "../tests/model_builder.h"

using namespace strata;
using namespace strata_test;

static Tensor uniform(Rng& rng, Shape s, float lim) {
  Tensor t(std::move(s));
  for (auto& v : t.f) v = rng.uniform(-lim, lim);
  return t;
}

int main(int argc, char** argv) {
  if (getenv("FTZ")) _mm_setcsr(_mm_getcsr() | 0x8040);
  int steps = argc > 1 ? std::atoi(argv[1]) : 10;
  std::string backends = argc > 2 ? argv[2] : "cpu,reference";
  int threads = argc > 3 ? std::atoi(argv[3]) : 0;
  std::string which = argc > 4 ? argv[4] : "cnn";
  int batch = argc > 5 ? std::atoi(argv[5]) : 64;
  bool infer = getenv("INFER") != nullptr;
  Rng rng(0);
  ModelBuilder b;
  Tensor x;
  std::string model, out = "probs";
  if (which.size() > 5 && which.substr(which.size() - 5) == ".onnx") {
    Graph g = load_onnx_file(which);
    Shape shape = g.inputs.at(0).shape;
    for (auto& dim : shape)
      if (dim < 0) dim = batch;
    x = uniform(rng, shape, 1.0f);
    out = g.outputs.at(0).name;
    FILE* f = std::fopen(which.c_str(), "rb");
    for (int c; (c = std::fgetc(f)) != EOF;) model.push_back((char)c);
    std::fclose(f);
  } else if (which == "mlp") {
    b.input("x", {-1, 784}).output("probs");
    b.init("w1", uniform(rng, {784, 512}, 0.07f)).init("b1", Tensor({512}));
    b.init("w2", uniform(rng, {512, 512}, 0.07f)).init("b2", Tensor({512}));
    b.init("w3", uniform(rng, {512, 10}, 0.1f)).init("b3", Tensor({10}));
    b.node("MatMul", {"x", "w1"}, {"m1"}).node("Add", {"m1", "b1"}, {"a1"}).node("Relu", {"a1"}, {"r1"});
    b.node("MatMul", {"r1", "w2"}, {"m2"}).node("Add", {"m2", "b2"}, {"a2"}).node("Relu", {"a2"}, {"r2"});
    b.node("MatMul", {"r2", "w3"}, {"m3"}).node("Add", {"m3", "b3"}, {"z"}).node("Softmax", {"z"}, {"probs"});
    x = uniform(rng, {batch, 784}, 1.0f);
  } else {
    b.input("x", {-1, 1, 28, 28}).output("probs");
    b.init("k1", uniform(rng, {32, 1, 3, 3}, 0.3f)).init("c1", Tensor({32}));
    b.init("k2", uniform(rng, {64, 32, 3, 3}, 0.08f)).init("c2", Tensor({64}));
    b.init("w3", uniform(rng, {1600, 128}, 0.06f)).init("b3", Tensor({128}));
    b.init("w4", uniform(rng, {128, 10}, 0.2f)).init("b4", Tensor({10}));
    b.init("ratio", Tensor::from({}, {0.5f}));
    b.node("Conv", {"x", "k1", "c1"}, {"a1"}).node("Relu", {"a1"}, {"a2"});
    b.node("MaxPool", {"a2"}, {"a3"}, {Attr::ints("kernel_shape", {2, 2}), Attr::ints("strides", {2, 2})});
    b.node("Conv", {"a3", "k2", "c2"}, {"a4"}).node("Relu", {"a4"}, {"a5"});
    b.node("MaxPool", {"a5"}, {"a6"}, {Attr::ints("kernel_shape", {2, 2}), Attr::ints("strides", {2, 2})});
    b.node("Flatten", {"a6"}, {"a7"}).node("MatMul", {"a7", "w3"}, {"a8"}).node("Add", {"a8", "b3"}, {"a9"});
    b.node("Relu", {"a9"}, {"a10"}).node("Dropout", {"a10", "ratio"}, {"a11"});
    b.node("MatMul", {"a11", "w4"}, {"a12"}).node("Add", {"a12", "b4"}, {"a13"}).node("Softmax", {"a13"}, {"probs"});
    x = uniform(rng, {batch, 1, 28, 28}, 1.0f);
  }
  if (model.empty()) model = b.bytes();
  Tensor y({batch});
  for (int i = 0; i < batch; i++) y.f[i] = (float)(i % 10);

  std::stringstream ss(backends);
  std::string be;
  while (std::getline(ss, be, ',')) {
    TrainingDescription d;
    d.losses = {{out, LossKind::SparseCategoricalCrossentropy}};
    d.optimizer = OptimizerConfig::keras_default(OptKind::Adam);
    d.backend = be;
    d.num_threads = threads;
    d.profile = true;
    auto s = Session::from_onnx(model.data(), model.size(), d);
    // The batch is built once: copying it into a fresh vector every step (6 MB at 64x64x3,
    // batch 128) cost this tool 10 ms of a 45 ms step in page faults and heap trimming on
    // the AMD Zen 5, which the app's steps do not spend: in Node the binding's copy reuses
    // freed heap memory (about 50,000 page faults in 103 steps, start-up included, where
    // faulting each step would be 160,000), and reusing its buffer measured no difference.
    const std::vector<Tensor> xs{x}, ys{y};
    auto step = [&] { return infer ? (s->forward(xs), 0.0f) : s->train_step(xs, ys).loss; };
    float first = step();  // plans buffers, warms oneDNN
    auto t0 = std::chrono::steady_clock::now();
    float last = first;
    for (int k = 0; k < steps; k++) last = step();
    double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count() / steps;
    std::printf("%-10s %8.2f ms/%s  (batch %d, %.0f samples/s, loss %.4f -> %.4f)\n", be.c_str(), ms,
                infer ? "forward" : "step", batch, batch * 1000.0 / ms, first, last);
    for (auto& t : s->node_times())  // the warm-up step included
      std::printf("    %-34s forward %7.2f ms  backward %7.2f ms per step\n", t.node.c_str(),
                  t.forward_ms / std::max(1, t.forward_runs), t.backward_ms / std::max(1, t.backward_runs));
  }
  return 0;
}
