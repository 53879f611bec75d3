// onnx_test: runs folders in the ONNX backend-test layout through the engine's
// forward pass (inference mode) and reports the largest error per output.
//
//   onnx_test [--backend cpu|reference|cuda|cuda-emu] [--fp32] [--tol 1e-4] <case folder>...
//
// A case folder holds model.onnx and test_data_set_*/{input,output}_*.pb. Inputs are
// matched to the model's inputs by TensorProto name, else by position. The error
// of one value is |got - want| / max(|want|, 1): relative where |want| >= 1,
// absolute below, so outputs that cancel to ~0 are not judged on noise.
// Exit status: 0 when every output of every case matches within --tol, 1 when
// some output does not, 2 when a case cannot be run at all.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "core/check.h"
#include "core/session.h"

namespace fs = std::filesystem;
using namespace strata;

static std::vector<fs::path> numbered(const fs::path& dir, const std::string& prefix) {
  std::vector<std::pair<int, fs::path>> found;
  for (auto& e : fs::directory_iterator(dir)) {
    std::string n = e.path().filename().string();
    if (n.rfind(prefix, 0) == 0 && n.size() > prefix.size() + 3 && n.substr(n.size() - 3) == ".pb")
      found.push_back({std::atoi(n.c_str() + prefix.size()), e.path()});
  }
  std::sort(found.begin(), found.end());
  std::vector<fs::path> r;
  for (auto& f : found) r.push_back(f.second);
  return r;
}

static double max_error(const Tensor& got, const Tensor& want) {
  double worst = 0;
  for (int64_t k = 0; k < want.size(); k++) {
    double g = got.dtype == DType::F32 ? got.f[k] : (double)got.i[k];
    double w = want.dtype == DType::F32 ? want.f[k] : (double)want.i[k];
    double e = std::fabs(g - w) / std::max(std::fabs(w), 1.0);
    if (std::isnan(g) != std::isnan(w)) e = INFINITY;
    worst = std::max(worst, e);
  }
  return worst;
}

// Returns 0 if all outputs match, 1 on a mismatch, 2 when the case cannot run.
static int run_case(const fs::path& dir, const std::string& backend, const BackendOptions& options, double tol) {
  try {
    TrainingDescription d;
    d.backend = backend;
    d.backend_options = options;
    auto s = Session::from_onnx_file((dir / "model.onnx").string(), d);
    std::vector<std::string> in_names = s->input_names(), out_names = s->output_names();
    std::vector<fs::path> sets;
    for (auto& e : fs::directory_iterator(dir))
      if (e.is_directory() && e.path().filename().string().rfind("test_data_set_", 0) == 0) sets.push_back(e.path());
    std::sort(sets.begin(), sets.end());
    STRATA_CHECK(!sets.empty(), "no test_data_set_* folder");
    int status = 0;
    for (auto& set : sets) {
      std::vector<Tensor> inputs(in_names.size());
      auto in_files = numbered(set, "input_");
      STRATA_CHECK(in_files.size() == in_names.size(),
                   set.filename().string() << " has " << in_files.size() << " inputs, the model takes "
                                           << in_names.size());
      for (size_t k = 0; k < in_files.size(); k++) {
        std::string name;
        Tensor t = load_tensor_file(in_files[k].string(), &name);
        auto it = std::find(in_names.begin(), in_names.end(), name);
        inputs[it != in_names.end() ? it - in_names.begin() : k] = std::move(t);
      }
      std::vector<Tensor> outs = s->forward(inputs);
      auto out_files = numbered(set, "output_");
      for (size_t k = 0; k < out_files.size() && k < outs.size(); k++) {
        std::string name;
        Tensor want = load_tensor_file(out_files[k].string(), &name);
        size_t j = k;
        auto it = std::find(out_names.begin(), out_names.end(), name);
        if (it != out_names.end()) j = it - out_names.begin();
        bool shape_ok = outs[j].size() == want.size();
        double err = shape_ok ? max_error(outs[j], want) : INFINITY;
        bool ok = shape_ok && err <= tol;
        std::printf("%s %s/%s output '%s': max error %.3g%s\n", ok ? "ok  " : "FAIL", dir.filename().c_str(),
                    set.filename().c_str(), out_names[j].c_str(), err,
                    shape_ok ? "" : (" (shape " + shape_str(outs[j].shape) + ", expected " + shape_str(want.shape) + ")").c_str());
        if (!ok) status = 1;
        if (!ok && shape_ok) {  // the first mismatching values, as llm.c's validate_result prints them
          int shown = 0;
          for (int64_t i = 0; i < want.size() && shown < 5; i++) {
            double g = outs[j].dtype == DType::F32 ? outs[j].f[i] : (double)outs[j].i[i];
            double w = want.dtype == DType::F32 ? want.f[i] : (double)want.i[i];
            if (!(std::fabs(g - w) / std::max(std::fabs(w), 1.0) <= tol))
              std::printf("       [%lld] got %.7g want %.7g\n", (long long)i, g, w), shown++;
          }
        }
      }
    }
    return status;
  } catch (const std::exception& e) {
    std::printf("ERROR %s: %s\n", dir.string().c_str(), e.what());
    return 2;
  }
}

int main(int argc, char** argv) {
  std::string backend = "cpu";
  BackendOptions options;
  double tol = 1e-4;
  std::vector<std::string> dirs;
  for (int k = 1; k < argc; k++) {
    std::string a = argv[k];
    if (a == "--backend" && k + 1 < argc) backend = argv[++k];
    else if (a == "--fp32") options.tf32 = false;
    else if (a == "--tol" && k + 1 < argc) tol = std::atof(argv[++k]);
    else if (a == "-h" || a == "--help") dirs.clear(), k = argc;
    else dirs.push_back(a);
  }
  if (dirs.empty()) {
    std::fprintf(stderr, "usage: onnx_test [--backend cpu|reference|cuda|cuda-emu] [--fp32] [--tol 1e-4] <case folder>...\n"
                         "  --fp32: strict FP32 matrix products on CUDA (TF32 otherwise)\n"
                         "  a case folder holds model.onnx and test_data_set_*/input_*.pb, output_*.pb;\n"
                         "  a folder without model.onnx is searched one level down for case folders\n");
    return 2;
  }
  int worst = 0, cases = 0, failed = 0;
  for (auto& d : dirs) {
    std::vector<fs::path> todo;
    if (fs::exists(fs::path(d) / "model.onnx")) todo.push_back(d);
    else if (fs::is_directory(d))
      for (auto& e : fs::directory_iterator(d))
        if (fs::exists(e.path() / "model.onnx")) todo.push_back(e.path());
    if (todo.empty()) {
      std::printf("ERROR %s: no model.onnx here or one level down\n", d.c_str());
      worst = 2;
    }
    std::sort(todo.begin(), todo.end());
    for (auto& c : todo) {
      int r = run_case(c, backend, options, tol);
      cases++, failed += r != 0;
      worst = std::max(worst, r);
    }
  }
  std::printf("%d cases, %d failed (backend %s, tolerance %g)\n", cases, failed, backend.c_str(), tol);
  return worst;
}
