// test_train_cases.cpp: one training step of each case in train_cases/ (written by
// train_cases/generate.py from PyTorch autograd): the loss, every weight gradient
// and the BatchNormalization moving statistics must match the oracle, on the
// oneDNN and the reference backend, or on the backends named (CUDA in strict FP32).
//
//   test_train_cases <train_cases folder> [backend...]
#include <algorithm>
#include <filesystem>

#include "core/check.h"
#include "core/session.h"
#include "test_util.h"

namespace fs = std::filesystem;
using namespace strata;
using namespace strata_test;

static std::vector<fs::path> files(const fs::path& dir, const std::string& prefix) {
  std::vector<fs::path> r;
  for (auto& e : fs::directory_iterator(dir))
    if (e.path().filename().string().rfind(prefix, 0) == 0) r.push_back(e.path());
  std::sort(r.begin(), r.end());
  return r;
}

static std::string stem_after(const fs::path& p, const std::string& prefix) {
  std::string s = p.stem().string();
  return s.substr(prefix.size());
}

static void run_case(const fs::path& dir, const std::string& backend) {
  std::string tag = dir.filename().string() + " (" + backend + ")";
  std::string target_name;
  Tensor target = load_tensor_file((dir / "target_0.pb").string(), &target_name);
  size_t colon = target_name.find(':');
  TrainingDescription d;
  d.backend = backend;
  d.backend_options.tf32 = false;  // the oracle's tolerance is FP32's
  d.losses = {{target_name.substr(0, colon), loss_from_name(target_name.substr(colon + 1))}};
  d.optimizer = OptimizerConfig::keras_default(OptKind::SGD);
  for (auto& g : files(dir, "grad_")) d.trainable.push_back(stem_after(g, "grad_"));
  auto s = Session::from_onnx_file((dir / "model.onnx").string(), d);
  std::vector<Tensor> inputs;
  for (auto& f : files(dir, "input_")) inputs.push_back(load_tensor_file(f.string()));
  Tensor want_loss = load_tensor_file((dir / "loss.pb").string());
  StepResult r = s->train_step(inputs, {target});
  validate_result(&r.loss, want_loss.data(), tag + " loss", 1);
  for (auto& name : d.trainable) {
    Tensor want = load_tensor_file((dir / ("grad_" + name + ".pb")).string());
    Tensor got = s->get_gradient(name);
    expect(got.shape == want.shape, tag + " grad " + name + " shape " + shape_str(got.shape));
    validate_result(got.data(), want.data(), tag + " d(" + name + ")", want.size());
  }
  for (auto& f : files(dir, "state_")) {
    std::string name = stem_after(f, "state_");
    Tensor want = load_tensor_file(f.string());
    validate_result(s->get_weight(name).data(), want.data(), tag + " moving " + name, want.size());
  }
  std::printf("%s: loss %.6f (want %.6f), %zu gradients checked\n", tag.c_str(), r.loss, want_loss.f[0],
              d.trainable.size());
}

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: test_train_cases <train_cases folder> [backend...]\n");
    return 2;
  }
  try {
    std::vector<fs::path> cases;
    for (auto& e : fs::directory_iterator(argv[1]))
      if (fs::exists(e.path() / "model.onnx")) cases.push_back(e.path());
    std::sort(cases.begin(), cases.end());
    expect(!cases.empty(), std::string("cases found in ") + argv[1]);
    std::vector<std::string> backends(argv + 2, argv + argc);
    if (backends.empty()) backends = {"cpu", "reference"};
    for (auto& c : cases)
      for (auto& be : backends) run_case(c, be);
  } catch (const std::exception& e) {
    std::printf("FAIL: exception: %s\n", e.what());
    return 1;
  }
  return finish("test_train_cases");
}
