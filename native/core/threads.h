// threads.h: how many threads a session may ask for, and a check that the system will start
// them before OpenMP tries.
//
// libgomp cannot report a thread it failed to start: it prints "Thread creation failed" and
// calls exit() while the other threads still run, which ends in SIGSEGV. So before a parallel
// region needs more threads than the last one had, check_threads_can_start starts (and
// joins) that many plain threads itself; when the system refuses one (the process limit,
// ulimit -u; a cgroup's pids.max; memory for stacks) it throws a ResourceError naming the
// count and the limit, and OpenMP is never asked.
#pragma once

#include "check.h"

namespace strata {

// The system refused the engine something it needs to run (threads); not a bug, not bad data.
struct ResourceError : Error {
  using Error::Error;
};

// The cores this process may run on (its CPU affinity), at least 1: the most threads a
// session may use (TrainingDescription::num_threads is -1, 0 or 1..available_cores()).
int available_cores();

// Throws ResourceError unless `extra` more threads can be started now. Threads it started
// are joined, and it returns once the system has counted them as gone, so that OpenMP finds
// the room the check found.
void check_threads_can_start(int extra);

// omp_set_num_threads(n) for the calling thread's parallel regions, after checking the
// threads a team of n needs beyond the team of its previous call (libgomp lets the threads
// of a larger team end when a smaller one follows, and starts them again when it grows).
void set_team_size(int n);

}  // namespace strata
