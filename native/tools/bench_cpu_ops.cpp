// bench_cpu_ops: milliseconds of the CPU backend's recurrent ops and LayerNormalization's
// backward beside the paths they replaced, in the same run, alternating so that a noisy
// machine slows both alike. Prints the median and the range (min..max) of `reps` timings of each
// and the ratio of the medians.
//
//   bench_cpu_ops lstm|gru|gru_lbr|rnn [T=20] [B=32] [I=16] [H=32] [reps=20] [threads=1] [directions=1]
//     one LSTM, GRU or RNN op (core/ops/recurrent.h), forward and backward:
//       cells: the reference's cell loops with the backend's GEMMs (recurrent.h's functions with
//              a GemmFn: the CPU path before the backend had its own)
//       cpu:   the backend's recurrent_forward/backward (cpu/recurrent_cpu.h)
//   bench_cpu_ops layer_norm [rows=4096] [D=256] [reps=20] [threads=1]
//     LayerNormalization's backward: the reference's loop (the CPU's before) against the
//     backend's (cpu/layer_norm_cpu.h)
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <vector>

#include "core/backend.h"
#include "core/ops/recurrent.h"
#include "core/rng.h"

using namespace strata;

namespace {

struct Timings {
  std::vector<double> ms;
  void add(const std::function<void()>& f) {
    auto t0 = std::chrono::steady_clock::now();
    f();
    ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  }
  double median() {
    std::sort(ms.begin(), ms.end());
    return ms[ms.size() / 2];
  }
  std::string range() {
    std::sort(ms.begin(), ms.end());
    char s[64];
    std::snprintf(s, sizeof s, "%.3f..%.3f", ms.front(), ms.back());
    return s;
  }
};

std::vector<float> uniform(Rng& rng, int64_t n, float lim) {
  std::vector<float> v((size_t)n);
  for (float& x : v) x = rng.uniform(-lim, lim);
  return v;
}

RecurrentParams params_of(const std::string& cell, int T, int B, int I, int H, int directions) {
  RecurrentParams p;
  p.cell = cell == "lstm" ? Cell::LSTM : cell == "rnn" ? Cell::RNN : Cell::GRU;
  p.linear_before_reset = cell == "gru_lbr";
  p.T = T, p.B = B, p.I = I, p.H = H, p.directions = directions;
  const ActParams sig{Act::Sigmoid}, tanh_{Act::Tanh};
  for (int d = 0; d < directions; d++) {
    if (p.cell == Cell::LSTM) p.acts.insert(p.acts.end(), {sig, tanh_, tanh_});
    else if (p.cell == Cell::GRU) p.acts.insert(p.acts.end(), {sig, tanh_});
    else p.acts.push_back(tanh_);
  }
  return p;
}

void report(const char* what, const char* before_name, Timings& before, Timings& after) {
  std::printf("  %-9s %s %8.3f (%s)  cpu %8.3f (%s)  %s/cpu %.2fx\n", what, before_name, before.median(),
              before.range().c_str(), after.median(), after.range().c_str(), before_name,
              before.median() / after.median());
}

// f(keep): one repetition, timed into the kept timings when keep (the first two warm up)
void repeat(int reps, const std::function<void(bool)>& f) {
  for (int k = 0; k < reps + 2; k++) f(k >= 2);
}

int bench_recurrent(int argc, char** argv, Backend& be) {
  auto arg = [&](int i, int dflt) { return argc > i ? std::atoi(argv[i]) : dflt; };
  const std::string cell = argv[1];
  const int T = arg(2, 20), B = arg(3, 32), I = arg(4, 16), H = arg(5, 32), reps = arg(6, 20), threads = arg(7, 1);
  const int directions = arg(8, 1);
  const RecurrentParams p = params_of(cell, T, B, I, H, directions);
  be.set_num_threads(threads);
  const GemmFn gemm = be.gemm_fn();

  Rng rng(1);
  const int64_t D = directions, GH = (int64_t)p.gates() * H;
  std::vector<float> x = uniform(rng, (int64_t)T * B * I, 1.0f), w = uniform(rng, D * GH * I, 0.3f),
                     r = uniform(rng, D * GH * H, 0.3f), b = uniform(rng, D * 2 * GH, 0.3f);
  std::vector<float> y((size_t)T * D * B * H), yh((size_t)D * B * H), yc((size_t)D * B * H);
  std::vector<float> dy = uniform(rng, (int64_t)y.size(), 1.0f);
  std::vector<float> dx(x.size()), dw(w.size()), dr(r.size()), db(b.size());
  std::vector<float> state((size_t)recurrent_state_size(p));
  RecurrentInputs in{x.data(), w.data(), r.data(), b.data()};
  RecurrentOutputs out{y.data(), yh.data(), p.cell == Cell::LSTM ? yc.data() : nullptr};
  RecurrentGrads g{dx.data(), dw.data(), dr.data(), db.data()};

  Timings cells_f, cells_b, cpu_f, cpu_b, sink;
  repeat(reps, [&](bool keep) {
    (keep ? cells_f : sink).add([&] { recurrent_forward(out, state.data(), in, p, gemm); });
    (keep ? cells_b : sink).add([&] { recurrent_backward(g, dy.data(), nullptr, nullptr, state.data(), in, p, gemm); });
    (keep ? cpu_f : sink).add([&] { be.recurrent_forward(out, state.data(), in, p); });
    (keep ? cpu_b : sink).add([&] { be.recurrent_backward(g, dy.data(), nullptr, nullptr, state.data(), in, p); });
  });
  std::printf("%s T=%d B=%d I=%d H=%d directions=%d threads=%d, %d reps: median ms (min..max)\n", cell.c_str(), T, B,
              I, H, directions, threads, reps);
  report("forward", "cells", cells_f, cpu_f);
  report("backward", "cells", cells_b, cpu_b);
  return 0;
}

int bench_layer_norm(int argc, char** argv, Backend& be) {
  auto arg = [&](int i, int dflt) { return argc > i ? std::atoi(argv[i]) : dflt; };
  const int rows = arg(2, 4096), D = arg(3, 256), reps = arg(4, 20), threads = arg(5, 1);
  be.set_num_threads(threads);
  ReferenceBackend reference;
  Rng rng(2);
  std::vector<float> x = uniform(rng, (int64_t)rows * D, 2.0f), dy = uniform(rng, (int64_t)rows * D, 1.0f),
                     scale = uniform(rng, D, 1.0f), bias = uniform(rng, D, 1.0f);
  std::vector<float> y(x.size()), mean(rows), inv_std(rows), dx(x.size()), dscale(D), dbias(D);
  be.layer_norm_forward(y.data(), mean.data(), inv_std.data(), x.data(), scale.data(), bias.data(), rows, D, 1e-3f);
  auto backward = [&](Backend& on) {
    on.layer_norm_backward(dx.data(), dscale.data(), dbias.data(), dy.data(), x.data(), scale.data(), mean.data(),
                           inv_std.data(), rows, D);
  };
  Timings ref_b, cpu_b, sink;
  repeat(reps, [&](bool keep) {
    (keep ? ref_b : sink).add([&] { backward(reference); });
    (keep ? cpu_b : sink).add([&] { backward(be); });
  });
  std::printf("layer_norm rows=%d D=%d threads=%d, %d reps: median ms (min..max)\n", rows, D, threads, reps);
  report("backward", "reference", ref_b, cpu_b);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string what = argc > 1 ? argv[1] : "";
  auto cpu = make_backend("cpu");
  if (what == "layer_norm") return bench_layer_norm(argc, argv, *cpu);
  if (what == "lstm" || what == "gru" || what == "gru_lbr" || what == "rnn") return bench_recurrent(argc, argv, *cpu);
  std::fprintf(stderr, "bench_cpu_ops: the first argument must be lstm, gru, gru_lbr, rnn or layer_norm, got '%s'\n",
               what.c_str());
  return 2;
}
