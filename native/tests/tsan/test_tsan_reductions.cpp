// test_tsan_reductions.cpp: the engine's own threaded reductions, on two threads, for
// ThreadSanitizer (build/tsan, test/run.js native): our Winograd kernel's weight gradients
// (partial sums per thread, and the shared sum in rounds when the partials would not fit),
// its forward and input-gradient passes, and the optimizer's update loop. Each runs twice and
// must give the same bits (the kernels promise that for a thread count), and the weight
// gradients must agree with one thread's to float rounding. oneDNN is not called here: its
// library is not built with TSan (tsan/suppressions.txt says why the OpenMP runtime is).
#include <omp.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "core/optim.h"
#include "core/rng.h"
#include "cpu/conv3x3_winograd.h"

using namespace strata;

static int failures = 0;
static void expect(bool ok, const char* what) {
  if (!ok) {
    std::printf("FAIL: %s\n", what);
    failures++;
  }
}

static std::vector<float> random_values(Rng& rng, size_t n) {
  std::vector<float> v(n);
  for (auto& x : v) x = rng.uniform(-1.0f, 1.0f);
  return v;
}

// A 3x3 stride-1 convolution in the blocked layout nChw<block>c, as the session plans it.
static ConvParams winograd_params(int block) {
  ConvParams p{};
  p.N = 2, p.C = 2 * block, p.H = 10, p.W = 12, p.OC = 2 * block, p.KH = p.KW = 3;
  p.sh = p.sw = p.dh = p.dw = 1;
  p.pt = p.pl = p.pb = p.pr = 1;
  p.OH = p.H, p.OW = p.W;
  p.src_blocked = p.dst_blocked = true;
  return p;
}

static std::vector<float> weight_grads(const ConvParams& p, int block, int threads, int64_t partials_bytes, const std::vector<float>& dout,
                                       const std::vector<float>& inp) {
  omp_set_num_threads(threads);
  std::vector<float> dweight((size_t)p.OC * p.C * 9, 0.0f), dbias((size_t)p.OC, 0.0f), scratch;
  winograd_backward_weights(dweight.data(), dbias.data(), dout.data(), inp.data(), p, block, scratch, partials_bytes);
  dweight.insert(dweight.end(), dbias.begin(), dbias.end());
  return dweight;
}

static void winograd_cases(int block) {
  ConvParams p = winograd_params(block);
  Rng rng(7);
  auto inp = random_values(rng, (size_t)p.N * p.C * p.H * p.W);
  auto dout = random_values(rng, (size_t)p.N * p.OC * p.OH * p.OW);
  auto weight = random_values(rng, (size_t)p.OC * p.C * 9);
  const int64_t roomy = int64_t(1) << 30, tight = 1;  // per-thread partial sums; the shared sum in rounds
  for (int64_t partials : {roomy, tight}) {
    auto a = weight_grads(p, block, 2, partials, dout, inp), b = weight_grads(p, block, 2, partials, dout, inp);
    auto one = weight_grads(p, block, 1, partials, dout, inp);
    expect(a == b, "winograd weight gradients: the same bits twice on two threads");
    float worst = 0;
    for (size_t i = 0; i < a.size(); i++) worst = std::fmax(worst, std::fabs(a[i] - one[i]) / (1.0f + std::fabs(one[i])));
    expect(worst < 1e-4f, "winograd weight gradients: two threads agree with one");
  }
  omp_set_num_threads(2);
  std::vector<float> out((size_t)p.N * p.OC * p.OH * p.OW), out2(out.size()), dinp((size_t)p.N * p.C * p.H * p.W), dinp2(dinp.size()), scratch;
  winograd_forward(out.data(), inp.data(), weight.data(), nullptr, p, block, scratch);
  winograd_forward(out2.data(), inp.data(), weight.data(), nullptr, p, block, scratch);
  expect(out == out2, "winograd forward: the same bits twice");
  winograd_backward_data(dinp.data(), dout.data(), weight.data(), p, block, scratch);
  winograd_backward_data(dinp2.data(), dout.data(), weight.data(), p, block, scratch);
  expect(dinp == dinp2, "winograd input gradients: the same bits twice");
}

static void optimizer_case() {
  omp_set_num_threads(2);
  Rng rng(3);
  const int64_t n = 1 << 16;  // large enough for the update loop to split across threads
  OptimizerConfig config;
  config.kind = OptKind::Adam;
  auto w = random_values(rng, (size_t)n), g = random_values(rng, (size_t)n);
  std::vector<float> m((size_t)n, 0.0f), v((size_t)n, 0.0f);
  for (int64_t step = 1; step <= 3; step++) optimizer_update(config, w.data(), g.data(), n, m.data(), v.data(), nullptr, step);
  expect(std::isfinite(w[0]) && std::isfinite(w[(size_t)n - 1]), "Adam's update on two threads");
}

int main() {
  bool any = false;
  for (int block : {8, 16}) {
    // The kernels this CPU has (conv3x3_winograd.cpp's have_kernels): AVX2 with FMA for 8-channel blocks, AVX-512 for 16.
    bool runs = block == 8 ? __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") : __builtin_cpu_supports("avx512f");
    if (!runs) continue;
    winograd_cases(block);
    any = true;
  }
  expect(any, "this CPU runs our Winograd kernel (AVX2 or AVX-512)");
  optimizer_case();
  std::printf("test_tsan_reductions: %d failures\n", failures);
  return failures == 0 ? 0 : 1;
}
