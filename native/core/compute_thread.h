// compute_thread.h: every Session call computes on one long-lived thread per process.
//
// OpenMP (under oneDNN and the parallel loops) keeps a team of worker threads per
// thread that starts parallel regions. The N-API binding runs each step on whichever
// libuv worker is free, so without this each of those threads grew its own team, and
// the idle teams' spinning workers took the cores from the active one (the 28x28 seed
// CNN trained ~30% slower from Node than from C++). One compute thread means one team,
// warm caches, and sessions used from several threads at once take turns instead of
// oversubscribing the cores.
#pragma once
#include <functional>

namespace strata {

// Runs f on the compute thread and waits; rethrows what f throws. Called from the
// compute thread itself (a nested call), f runs inline.
void run_on_compute_thread(const std::function<void()>& f);

}  // namespace strata
