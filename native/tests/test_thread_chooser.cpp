// ThreadChooser's decisions from given step and probe times: when it asks for a probe,
// which count it keeps, how it backs off while the machine stays busy and comes back.
#include "core/thread_chooser.h"

#include "test_util.h"

using namespace strata;
using namespace strata_test;

static void steps(ThreadChooser& c, int n, double ms) {
  for (int k = 0; k < n; k++) c.record_step(ms);
}

int main() {
  {
    ThreadChooser one(1);
    expect(one.candidates() == std::vector<int>{1} && !one.wants_probe(), "one core: nothing to choose, no probe");
    steps(one, 10, 100);
    expect(!one.wants_probe(), "one core: slow steps ask for no probe");
  }
  expect(ThreadChooser(2).candidates() == std::vector<int>{2, 1}, "two cores: candidates 2, 1");
  expect(ThreadChooser(16).candidates() == std::vector<int>{16, 15, 8}, "16 cores: all, all but one, half");

  ThreadChooser c(2);
  expect(c.current() == 2 && c.wants_probe(), "starts on all cores and asks for a first probe");
  c.record_probe({5, 9});
  expect(c.current() == 2 && !c.wants_probe() && c.switches() == 0, "idle: all cores win the probe");

  steps(c, 1000, 5);
  c.record_step(6.5), c.record_step(7);  // within noise of 1.5x
  expect(!c.wants_probe(), "steady steps and noise below 1.5x ask for nothing");
  c.record_step(8), c.record_step(8);
  c.record_step(5);
  expect(!c.wants_probe(), "two slow steps then a fast one: no probe");
  steps(c, 3, 40);
  expect(c.wants_probe(), "three steps in a row at 8x the fastest ask for a probe");

  // A load that only jitters: each probe keeps all cores, and the next one waits twice as
  // long. The first probe kept the count too, so the gap is now 4 * first_gap steps.
  c.record_probe({40, 60});
  steps(c, 1, 20), steps(c, 4 * ThreadChooser::first_gap - 2, 40);
  expect(!c.wants_probe(), "after probes that kept the count: slow steps wait for the doubled gap");
  steps(c, 1, 40);
  expect(c.wants_probe(), "... and then ask again");

  c.record_probe({40, 9});
  expect(c.current() == 1 && c.switches() == 1, "busy: one thread wins the probe and is kept");
  steps(c, ThreadChooser::first_retry - 1, 9);
  expect(!c.wants_probe(), "on one thread: no probe before the retry period");
  c.record_step(9);
  expect(c.wants_probe(), "on one thread: a probe after first_retry steps");
  c.record_probe({40, 9});
  expect(c.current() == 1, "still busy: stays on one thread");
  steps(c, ThreadChooser::first_retry, 9);
  expect(!c.wants_probe(), "the load persisted: the next retry waits twice as long");
  steps(c, ThreadChooser::first_retry, 9);
  expect(c.wants_probe(), "... and comes after 2 * first_retry steps");
  for (int k = 0; k < 10; k++) {
    c.record_probe({40, 9});
    steps(c, (int)ThreadChooser::last_wait, 9);
  }
  expect(c.wants_probe(), "the retry period stops growing at last_wait");

  c.record_probe({5, 9});
  expect(c.current() == 2 && c.switches() == 2, "the load went: back to all cores");
  steps(c, 10 * (int)ThreadChooser::last_wait, 5);
  expect(!c.wants_probe(), "on all cores at their speed: no periodic probes");
  c.record_probe({5, 5});
  expect(c.current() == 2, "a tie goes to all cores");

  return finish("test_thread_chooser");
}
