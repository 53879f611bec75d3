// A thread the system will not start is an error, never a crash. Under a process limit
// (RLIMIT_NPROC, what ulimit -u sets) check_threads_can_start throws ResourceError, and so
// does a train step that needs more OpenMP threads than the limit leaves, where libgomp would
// print "Thread creation failed", call exit() with the other threads running, and crash.
// The limit is set in a forked child; the kernel does not apply it to root, so as root the
// child becomes the user nobody first.
#include <dirent.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <string>

#include "core/session.h"
#include "core/threads.h"
#include "model_builder.h"
#include "test_util.h"

using namespace strata;
using namespace strata_test;

static int threads_now() {
  DIR* dir = opendir("/proc/self/task");
  int n = 0;
  while (dirent* entry = dir ? readdir(dir) : nullptr)
    if (entry->d_name[0] != '.') n++;
  if (dir) closedir(dir);
  return n;
}

// x (-1, 4) -> Dense 3 -> Softmax
static std::string tiny_model() {
  Rng rng(1);
  ModelBuilder b;
  b.input("x", {-1, 4}).output("probs");
  b.init("w", rand_tensor(rng, {4, 3})).init("b", Tensor({3}));
  b.node("MatMul", {"x", "w"}, {"z0"}).node("Add", {"z0", "b"}, {"z"}).node("Softmax", {"z"}, {"probs"});
  return b.bytes();
}

static std::unique_ptr<Session> session(const std::string& model, int threads) {
  TrainingDescription d;
  d.losses = {{"probs", LossKind::SparseCategoricalCrossentropy}};
  d.optimizer = OptimizerConfig::keras_default(OptKind::SGD);
  d.num_threads = threads;
  return Session::from_onnx(model.data(), model.size(), d);
}

// In the child: 0 when both refusals are ResourceErrors naming the limit; 77 when the limit
// cannot be set up (not root and no other way); other codes name what went wrong.
static int refusals_under_a_limit() {
  const std::string model = tiny_model();
  Tensor x = Tensor::from({2, 4}, {1, 2, 3, 4, 5, 6, 7, 8}), y = Tensor::from({2}, {0, 2});
  session(model, 1)->train_step({x}, {y});  // starts the compute thread while it still may
  if (geteuid() == 0 && (setgid(65534) != 0 || setuid(65534) != 0)) return 77;
  rlimit one{1, 1};  // below what the user already runs: no new thread at all
  if (setrlimit(RLIMIT_NPROC, &one) != 0) return 77;
  try {
    check_threads_can_start(2);
    std::printf("check_threads_can_start(2) under ulimit -u 1 did not throw\n");
    return 2;
  } catch (const ResourceError& e) {
    std::printf("refused as expected: %s\n", e.what());
    if (std::string(e.what()).find("ulimit -u, is 1") == std::string::npos) return 3;
  }
  try {
    session(model, 2)->train_step({x}, {y});
    std::printf("a train step on 2 threads under ulimit -u 1 did not throw\n");
    return 4;
  } catch (const ResourceError& e) {
    std::printf("train step refused as expected: %s\n", e.what());
  }
  return 0;
}

int main() {
  expect(available_cores() >= 1, "at least one core");
  const int before = threads_now();
  check_threads_can_start(3);
  expect(threads_now() == before, "the check's threads are gone when it returns (" + std::to_string(threads_now()) + " vs " + std::to_string(before) + ")");

  std::fflush(stdout);
  pid_t child = fork();
  if (child == 0) {
    int code = refusals_under_a_limit();
    std::fflush(stdout);
    _exit(code);
  }
  int status = 0;
  waitpid(child, &status, 0);
  if (WIFEXITED(status) && WEXITSTATUS(status) == 77) {
    std::printf("SKIP: cannot set a process limit that applies here\n");
  } else {
    expect(WIFEXITED(status) && WEXITSTATUS(status) == 0,
           "under ulimit -u 1 thread starts are ResourceErrors, not a crash (child " +
               (WIFSIGNALED(status) ? "killed by signal " + std::to_string(WTERMSIG(status)) : "exit " + std::to_string(WEXITSTATUS(status))) + ")");
  }
  return finish("threads");
}
