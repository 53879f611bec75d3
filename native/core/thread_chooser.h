// ThreadChooser: the OpenMP thread count for a session's steps when num_threads is -1
// (auto, the default). With another process busy on one core, two OpenMP threads wait for
// each other at every barrier and a train step takes 5-15x as long as on one thread
// (native/README.md, "Threads and contention"); on an idle machine all cores win.
//
// It never experiments with the training itself: a probe (Session::probe_threads) times
// forward and backward passes of the next batch on each candidate count, with no optimizer
// update and BatchNormalization's moving statistics left as they are. So on a machine that
// stays idle every train step runs on all cores and a run is bit-for-bit the run a fixed
// count gives; only when the machine is busy does the count, and with it the last bits of
// oneDNN's reductions, follow the load.
//
// When it probes: once, on the first step after planning; when three train steps in a row
// take 1.5x the fastest since the last probe (the machine got busier), at least `gap` steps
// after the last (50 at first; doubling each time a probe keeps the count and halving when
// one changes it, so that a machine whose load only jitters is not probed over and over: a
// probe costs about as much as 4-8 steps); and while on fewer than all cores,
// every `retry` steps (200, doubling each time the probe confirms the smaller count) to see
// whether the load has gone. Both stop doubling at 6400.
#pragma once

#include <cstdint>
#include <vector>

namespace strata {

class ThreadChooser {
 public:
  static constexpr double slow_factor = 1.5;
  static constexpr int slow_steps = 3;
  static constexpr int64_t first_gap = 50, first_retry = 200, last_wait = 6400;

  explicit ThreadChooser(int max_threads = 1);

  int max() const { return max_; }
  int current() const { return now_; }
  // All cores, all but one, half: the counts a probe times, largest first.
  const std::vector<int>& candidates() const { return candidates_; }
  bool wants_probe() const { return want_; }
  int64_t probes() const { return probes_; }
  int64_t switches() const { return switches_; }

  // The wall time of a train step that ran on current() threads and did not (re)plan.
  void record_step(double ms);
  // A probe's result: for each candidate (same order), the mean time of its passes.
  void record_probe(const std::vector<double>& mean_ms);

 private:
  int max_, now_;
  std::vector<int> candidates_;
  bool want_;
  double fastest_ = 0;  // the fastest train step since the last probe; 0: none yet
  int slow_ = 0;        // train steps in a row over slow_factor * fastest_
  int64_t since_probe_ = 0, gap_ = first_gap, retry_ = first_retry;
  int64_t probes_ = 0, switches_ = 0;
};

}  // namespace strata
