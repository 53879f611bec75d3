// fuzz_onnx_model.cpp: libFuzzer target for the engine's ONNX reader and graph builder. Any
// bytes: load_onnx, then a Session on the reference backend (graph checks, shape inference,
// planning) and one forward pass on small inputs. A file may be refused with strata::Error
// (or another std::exception naming it); a crash, a sanitizer report or a leak is a finding.
//   build/fuzz/fuzz_onnx_model native/fuzz/corpus/onnx_model   (native/fuzz/README.md)
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <vector>

#include "core/graph.h"
#include "core/session.h"

using namespace strata;

// Inputs with unknown or large dims get small ones: the fuzzer looks for bugs, not big tensors.
static std::vector<Tensor> small_inputs(const Graph& g) {
  std::vector<Tensor> inputs;
  for (auto& v : g.inputs) {
    Shape s = v.shape;
    for (auto& x : s) x = x < 0 ? 2 : std::min<int64_t>(x, 16);
    inputs.push_back(Tensor(s));
  }
  return inputs;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    Graph g = load_onnx(data, size);
    TrainingDescription d;
    d.backend = "reference";
    auto inputs = small_inputs(g);
    Session(std::move(g), d).forward(inputs);
  } catch (const std::exception&) {
    // refused with a message: what a bad file must get
  }
  return 0;
}
