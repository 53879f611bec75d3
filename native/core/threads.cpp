// threads.cpp: see threads.h.
#include "threads.h"

#include <omp.h>
#include <pthread.h>
#include <sched.h>
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <dirent.h>
#include <thread>
#include <vector>

namespace strata {

int available_cores() {
#ifdef __linux__
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof set, &set) == 0) return std::max(1, CPU_COUNT(&set));
#endif
  return std::max(1u, std::thread::hardware_concurrency());
}

namespace {

// The threads of this process as the kernel lists them; -1 where there is no /proc.
int task_count() {
  DIR* dir = opendir("/proc/self/task");
  if (!dir) return -1;
  int n = 0;
  while (dirent* entry = readdir(dir))
    if (entry->d_name[0] != '.') n++;
  closedir(dir);
  return n;
}

// A joined thread is counted against the process limit until the kernel reaps it, a moment
// later; wait for that (at most a second) so the room we found is there for OpenMP.
void wait_until_reaped(int tasks_before) {
  if (tasks_before < 0) return;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(1);
  while (task_count() > tasks_before && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::microseconds(100));
}

std::string process_limit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NPROC, &limit) != 0 || limit.rlim_cur == RLIM_INFINITY) return "";
  return "; the limit on processes and threads, ulimit -u, is " + std::to_string(limit.rlim_cur);
}

void* wait_for_release(void* gate) {
  // Holds the thread until the check has started them all: each one counts at once.
  pthread_mutex_lock(static_cast<pthread_mutex_t*>(gate));
  pthread_mutex_unlock(static_cast<pthread_mutex_t*>(gate));
  return nullptr;
}

}  // namespace

void check_threads_can_start(int extra) {
  if (extra <= 0) return;
  const int tasks_before = task_count();
  pthread_mutex_t gate = PTHREAD_MUTEX_INITIALIZER;
  pthread_mutex_lock(&gate);
  std::vector<pthread_t> started;
  int refused = 0;
  for (int k = 0; k < extra && refused == 0; k++) {
    pthread_t t;
    refused = pthread_create(&t, nullptr, wait_for_release, &gate);  // default attributes, as libgomp's
    if (refused == 0) started.push_back(t);
  }
  pthread_mutex_unlock(&gate);
  for (pthread_t t : started) pthread_join(t, nullptr);
  wait_until_reaped(tasks_before);
  if (refused != 0) {
    throw ResourceError("cannot start " + std::to_string(extra) + (extra == 1 ? " more thread" : " more threads") + " for training: the system refused thread " +
                        std::to_string(started.size() + 1) + " (" + std::strerror(refused) + process_limit() +
                        "); use fewer threads (--threads, numThreads) or raise the limit");
  }
}

void set_team_size(int n) {
  thread_local int team = 1;  // OpenMP keeps one team per thread that starts parallel regions
  n = std::max(n, 1);
  if (n > team) check_threads_can_start(n - team);
  team = n;
  omp_set_num_threads(n);
}

}  // namespace strata
