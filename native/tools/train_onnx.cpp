// train_onnx: trains any single-input, single-output ONNX model on random data
// for a few steps and prints the loss per step; a smoke test for the
// translator -> engine path without Node.
//
//   train_onnx <model.onnx> [--loss sparse_categorical_crossentropy] [--optimizer adam]
//              [--lr 0.001] [--steps 20] [--batch 16] [--backend cpu] [--seed 0]
//
// Sparse labels are random classes of the output's last dimension; other losses get
// random targets in [0, 1). Exit 0 when the last loss is below the first.
#include <cstdio>
#include <cstring>
#include <string>

#include "core/graph.h"
#include "core/rng.h"
#include "core/session.h"

using namespace strata;

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: train_onnx <model.onnx> [--loss L] [--optimizer O] [--lr X] [--steps N] [--batch B]"
                         " [--backend cpu|reference] [--seed S]\n");
    return 2;
  }
  std::string path = argv[1], loss = "sparse_categorical_crossentropy", opt = "adam";
  float lr = -1;
  int steps = 20, batch = 16;
  TrainingDescription d;
  for (int k = 2; k + 1 < argc; k += 2) {
    std::string a = argv[k], v = argv[k + 1];
    if (a == "--loss") loss = v;
    else if (a == "--optimizer") opt = v;
    else if (a == "--lr") lr = std::stof(v);
    else if (a == "--steps") steps = std::stoi(v);
    else if (a == "--batch") batch = std::stoi(v);
    else if (a == "--backend") d.backend = v;
    else if (a == "--seed") d.seed = std::stoull(v);
    else { std::fprintf(stderr, "unknown option %s\n", a.c_str()); return 2; }
  }
  try {
    Graph g = load_onnx_file(path);
    if (g.inputs.size() != 1 || g.outputs.size() != 1) {
      std::fprintf(stderr, "train_onnx handles one input and one output; this model has %zu and %zu\n",
                   g.inputs.size(), g.outputs.size());
      return 2;
    }
    d.losses = {{g.outputs[0].name, loss_from_name(loss)}};
    d.optimizer = OptimizerConfig::keras_default(OptimizerConfig::kind_from_name(opt));
    if (lr > 0) d.optimizer.learning_rate = lr;
    Shape in_shape = g.inputs[0].shape;
    for (auto& dim : in_shape)
      if (dim < 0) dim = batch;
    Session s(std::move(g), d);
    std::printf("trainable:");
    for (auto& n : s.trainable_names()) std::printf(" %s", n.c_str());
    std::printf("\n");
    Rng rng(d.seed + 1);
    Tensor x(in_shape);
    for (auto& v : x.f) v = rng.uniform(-1, 1);
    Tensor y0 = s.forward({x})[0];
    int64_t K = y0.shape.back(), rows = y0.size() / K;
    Tensor y(d.losses[0].kind == LossKind::SparseCategoricalCrossentropy ? Shape{rows} : y0.shape);
    for (auto& v : y.f) v = d.losses[0].kind == LossKind::SparseCategoricalCrossentropy ? (float)(rng.next() % K) : rng.uniform();
    float first = 0, last = 0;
    for (int k = 0; k < steps; k++) {
      StepResult r = s.train_step({x}, {y});
      if (k == 0) first = r.loss;
      last = r.loss;
      std::printf("step %3d  loss %.5f%s\n", k + 1, r.loss,
                  r.accuracy[0] ? ("  accuracy " + std::to_string(*r.accuracy[0])).c_str() : "");
    }
    return last < first ? 0 : 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "train_onnx: %s\n", e.what());
    return 2;
  }
}
