// test_corrupt_models.cpp: every model in onnx_cases/, with a few random bytes
// overwritten, many times over. Loading and running may fail, but only with an
// exception (strata::Error naming what is wrong), never a crash: models come from
// users' files. Build with -fsanitize=address,undefined to check more strictly.
//
//   test_corrupt_models <onnx_cases folder> [mutations per model, default 40]
#include <algorithm>
#include <cstdio>
#include <filesystem>

#include "core/check.h"
#include "core/graph.h"
#include "core/rng.h"
#include "core/session.h"

namespace fs = std::filesystem;
using namespace strata;

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: test_corrupt_models <onnx_cases folder> [mutations per model]\n");
    return 2;
  }
  int per_model = argc > 2 ? std::atoi(argv[2]) : 40, ran = 0, refused = 0, models = 0;
  Rng rng(12345);
  std::vector<fs::path> files;
  for (auto& e : fs::directory_iterator(argv[1]))
    if (fs::exists(e.path() / "model.onnx")) files.push_back(e.path() / "model.onnx");
  std::sort(files.begin(), files.end());
  for (auto& f : files) {
    std::string original = read_file(f.string());
    models++;
    for (int it = 0; it < per_model; it++) {
      std::string b = original;
      for (int k = 1 + (int)(rng.next() % 4); k > 0; k--) b[rng.next() % b.size()] = (char)(rng.next() & 0xff);
      try {
        Graph g = load_onnx(b.data(), b.size());
        TrainingDescription d;
        d.backend = "reference";
        std::vector<Tensor> inputs;
        for (auto& v : g.inputs) {
          Shape s = v.shape;
          for (auto& x : s) x = x < 0 ? 2 : std::min<int64_t>(x, 64);
          inputs.push_back(Tensor(s));
        }
        Session(std::move(g), d).forward(inputs);
        ran++;
      } catch (const std::exception&) {
        refused++;
      }
    }
  }
  std::printf("test_corrupt_models: %d models x %d mutations: %d ran, %d refused with an error, no crash\n", models,
              per_model, ran, refused);
  return models > 0 ? 0 : 1;
}
