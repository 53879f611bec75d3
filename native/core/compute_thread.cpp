#include "compute_thread.h"

#include <condition_variable>
#include <exception>
#include <mutex>
#include <system_error>
#include <thread>

#include "threads.h"

namespace strata {

namespace {
struct ComputeThread {
  std::mutex m;
  std::condition_variable cv;
  const std::function<void()>* job = nullptr;  // the one job in flight (callers queue on `turn`)
  std::exception_ptr error;
  bool done = false;
  std::mutex turn;
  std::thread::id id;

  ComputeThread() {
    std::thread t;
    try {
      t = std::thread([this] { serve(); });
    } catch (const std::system_error& e) {  // the process limit (ulimit -u) reached, or no memory for a stack
      throw ResourceError(std::string("cannot start the engine's compute thread: ") + e.what() + "; raise the limit on processes (ulimit -u)");
    }
    id = t.get_id();
    t.detach();  // lives until the process exits (never joined: exit() ends it)
  }

  void serve() {
    std::unique_lock<std::mutex> lk(m);
    for (;;) {
      cv.wait(lk, [this] { return job != nullptr && !done; });
      try {
        (*job)();
      } catch (...) {
        error = std::current_exception();
      }
      done = true;
      cv.notify_all();
    }
  }
};

ComputeThread& compute_thread() {
  static ComputeThread* t = new ComputeThread();  // never destroyed: see detach()
  return *t;
}
}  // namespace

void run_on_compute_thread(const std::function<void()>& f) {
  ComputeThread& t = compute_thread();
  if (std::this_thread::get_id() == t.id) return f();
  std::lock_guard<std::mutex> my_turn(t.turn);
  std::unique_lock<std::mutex> lk(t.m);
  t.job = &f, t.done = false, t.error = nullptr;
  t.cv.notify_all();
  t.cv.wait(lk, [&] { return t.done; });
  t.job = nullptr;
  if (t.error) std::rethrow_exception(t.error);
}

}  // namespace strata
