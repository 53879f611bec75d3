// train_onnx: trains any single-output ONNX model on random data for a few steps
// and prints the loss per step; a smoke test for the translator -> engine path
// without Node. Inputs are uniform in [-1, 1), except those used as Gather indices
// (directly or through a Cast), which get valid row numbers.
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
    if (g.outputs.size() != 1) {
      std::fprintf(stderr, "train_onnx handles one output; this model has %zu\n", g.outputs.size());
      return 2;
    }
    d.losses = {{g.outputs[0].name, loss_from_name(loss)}};
    if (auto accuracy = accuracy_for(d.losses[0].kind)) d.losses[0].metrics = {*accuracy};
    d.optimizer = OptimizerConfig::keras_default(OptimizerConfig::kind_from_name(opt));
    if (lr > 0) d.optimizer.learning_rate = lr;
    Rng rng(d.seed + 1);
    std::vector<Tensor> inputs;
    for (auto& in : g.inputs) {
      Shape shape = in.shape;
      for (auto& dim : shape)
        if (dim < 0) dim = batch;
      int64_t rows = 0;  // > 0 when the input indexes a Gather's table
      for (auto& n : g.nodes) {
        std::string idx = n.op_type == "Gather" && n.inputs.size() > 1 ? n.inputs[1] : "";
        for (auto& c : g.nodes)  // through a Cast
          if (c.op_type == "Cast" && c.inputs[0] == in.name && c.outputs[0] == idx) idx = in.name;
        if (idx == in.name && g.initializers.count(n.inputs[0])) rows = g.initializers[n.inputs[0]].shape[0];
      }
      Tensor t(shape);
      for (auto& v : t.f) v = rows > 0 ? (float)(rng.next() % rows) : rng.uniform(-1, 1);
      inputs.push_back(std::move(t));
    }
    Session s(std::move(g), d);
    std::printf("trainable:");
    for (auto& n : s.trainable_names()) std::printf(" %s", n.c_str());
    std::printf("\n");
    Tensor y0 = s.forward(inputs)[0];
    int64_t K = y0.shape.back(), rows = y0.size() / K;
    Tensor y(d.losses[0].kind == LossKind::SparseCategoricalCrossentropy ? Shape{rows} : y0.shape);
    for (auto& v : y.f) v = d.losses[0].kind == LossKind::SparseCategoricalCrossentropy ? (float)(rng.next() % K) : rng.uniform();
    float first = 0, last = 0;
    for (int k = 0; k < steps; k++) {
      StepResult r = s.train_step(inputs, {y});
      if (k == 0) first = r.loss;
      last = r.loss;
      std::printf("step %3d  loss %.5f%s\n", k + 1, r.loss,
                  r.metrics[0].empty() ? "" : ("  accuracy " + std::to_string(r.metrics[0][0])).c_str());
    }
    return last < first ? 0 : 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "train_onnx: %s\n", e.what());
    return 2;
  }
}
