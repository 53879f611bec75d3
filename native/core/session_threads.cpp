// session_threads.cpp: the thread count a Session computes with (thread_chooser.h) and the
// probes that time the candidate counts under load.
#include <chrono>
#include <functional>

#include "session.h"

namespace strata {

int Session::step_threads(bool training) const {
  if (probing_) return probing_;
  if (desc_.num_threads > 0) return desc_.num_threads;
  if (desc_.num_threads == 0) return be_->max_threads();
  return training ? threads_.current() : infer_threads_.current();
}

// Inference (predict, evaluate, the app's previews) shares the machine as training does, with
// its own chooser: on a busy core, two threads took 10x as long as one per forward pass of the
// MobileNet-style example (974 against 75 ms at batch 128, AMD EPYC, load 17), and a forward
// pass is the right measure here. An inference pass changes no state, so a probe is free of
// side effects.
void Session::run_inference(const std::vector<Tensor>& inputs) {
  bool adaptive = desc_.num_threads < 0;
  if (adaptive && infer_threads_.wants_probe() && !planned_.empty()) probe_inference_threads(inputs);
  auto t0 = std::chrono::steady_clock::now();
  std::vector<Shape> planned = planned_;
  run_forward(inputs, false);
  if (adaptive && planned == planned_)  // a pass that (re)planned is no measure of speed
    infer_threads_.record_step(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
}

// Times `pass` on each of the chooser's candidate counts, alternating, after one untimed pass
// on each (a count's first pass creates its primitives), and gives the chooser the means.
// Each count runs until its timed passes add up to 30 ms (at most 20 passes): a load shares
// a core in scheduler slices of a few ms, and two threads sharing one are fast for a pass
// or two and then wait a slice at a barrier, so a short probe can catch a lucky stretch.
static void probe_counts(ThreadChooser& chooser, int& probing, const std::function<void()>& pass) {
  constexpr double enough_ms = 30;
  constexpr int most_passes = 20;
  const std::vector<int>& counts = chooser.candidates();
  std::vector<double> total(counts.size(), 0);
  std::vector<int> passes(counts.size(), 0);
  struct Reset {
    int& n;
    ~Reset() { n = 0; }
  } reset{probing};
  for (int round = -1;; round++) {
    bool done = true;
    for (size_t c = 0; c < counts.size(); c++) {
      if (round >= 0 && (total[c] >= enough_ms || passes[c] >= most_passes)) continue;
      done = false;
      probing = counts[c];
      auto t0 = std::chrono::steady_clock::now();
      pass();
      if (round < 0) continue;
      total[c] += std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
      passes[c]++;
    }
    if (done) break;
  }
  std::vector<double> mean_ms;
  for (size_t c = 0; c < counts.size(); c++) mean_ms.push_back(total[c] / passes[c]);
  chooser.record_probe(mean_ms);
}

// Times the forward and backward passes of this batch. It runs before a train step, which then
// overwrites every activation and gradient the probe wrote; the optimizer does not run, the
// step count stays and BatchNormalization keeps its statistics. Forward passes alone would
// mislead: with one core busy, two threads ran the 28x28 seed CNN's forward faster than one
// (0.85 against 1.24 ms at batch 32), its train step 5x slower.
void Session::probe_threads(const std::vector<Tensor>& inputs, const std::vector<Tensor>& targets,
                            const std::vector<Tensor>& sample_weights) {
  probe_counts(threads_, probing_, [&] {
    run_forward(inputs, true);
    compute_losses(targets, sample_weights, true);
    run_backward();
  });
}

// Times inference passes of this batch; the pass that follows overwrites what they wrote.
void Session::probe_inference_threads(const std::vector<Tensor>& inputs) {
  probe_counts(infer_threads_, probing_, [&] {
    run_forward(inputs, false);
    be_->sync();
  });
}

}  // namespace strata
