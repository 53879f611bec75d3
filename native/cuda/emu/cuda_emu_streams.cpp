// cuda_emu_streams.cpp: streams and events in the emulation (cuda_emu.h). A kernel runs at
// its launch; a copy or memset queued on a stream waits in the stream's queue until something
// needs it, the latest moment CUDA allows, so that a reader that does not wait for it reads
// NaNs, and is caught where the emulation sees the access (another stream's copy, or a kernel's
// pointer argument). What this cannot show: a host write into pinned memory that a queued copy
// still reads (the copy reads it when it runs), and kernels overlapping each other.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <deque>
#include <mutex>
#include <set>
#include <sstream>

#include "cuda_emu.h"

struct CUstream_st {
  struct Op {
    char* dst;
    const char* src;  // null for a memset
    size_t bytes;
    int value;  // a memset's byte
  };
  bool non_blocking = false;
  std::deque<Op> pending;             // queued, not yet run
  uint64_t queued = 0, finished = 0;  // operations queued and run so far
};
struct CUevent_st {
  CUstream_st* stream = nullptr;  // where it was last recorded (null: never, complete)
  uint64_t ticket = 0;            // complete once the stream has run this many operations
  std::chrono::steady_clock::time_point recorded;
};

namespace strata {
namespace emu {
namespace {

std::recursive_mutex g_mutex;  // every stream's queue
CUstream_st g_legacy;          // the legacy default stream, nullptr
std::set<CUstream_st*>& streams() {
  static std::set<CUstream_st*> all{&g_legacy};
  return all;
}
CUstream_st* resolve(cudaStream_t s) { return s ? s : &g_legacy; }

std::string hex(const void* p) {
  std::ostringstream os;
  os << p;
  return os.str();
}

void run_one(CUstream_st* s) {
  CUstream_st::Op op = s->pending.front();
  s->pending.pop_front();
  if (op.src) std::memmove(op.dst, op.src, op.bytes);
  else std::memset(op.dst, op.value, op.bytes);
  s->finished++;
}
void drain(CUstream_st* s, uint64_t upto) {
  while (s->finished < upto && !s->pending.empty()) run_one(s);
}
void drain(CUstream_st* s) { drain(s, s->queued); }
// The legacy default stream's rule: work there waits for every blocking stream's.
void drain_blocking() {
  for (CUstream_st* s : streams())
    if (!s->non_blocking) drain(s);
}
void drain_all() {
  for (CUstream_st* s : streams()) drain(s);
}

bool overlaps(const void* p, size_t n, const char* q, size_t m) {
  const char* a = static_cast<const char*>(p);
  return p && q && a < q + m && q < a + (n ? n : 1);
}

// An access to [p, p + n) from `stream`: a copy another stream has queued and not run that
// writes there, or reads there while this access may write, is a race on a GPU.
void check_access(CUstream_st* stream, const void* p, size_t n, bool write, const std::string& who) {
  for (CUstream_st* s : streams()) {
    if (s == stream) continue;
    for (const CUstream_st::Op& op : s->pending) {
      bool clash = overlaps(p, n, op.dst, op.bytes) || (write && overlaps(p, n, op.src, op.bytes));
      if (clash)
        throw Fault(who + " touches " + hex(p) + ", where a copy queued on another stream (" + hex(s) +
                    ") has not finished: it must wait for that copy (cudaStreamWaitEvent on an event recorded "
                    "after it)");
    }
  }
}

void enqueue(cudaStream_t stream, void* dst, const void* src, size_t bytes, int value, const char* what) {
  if (!bytes) return;
  std::lock_guard<std::recursive_mutex> lock(g_mutex);
  CUstream_st* s = resolve(stream);
  if (s == &g_legacy) drain_blocking();
  std::string who = std::string(what) + " on stream " + hex(stream);
  check_access(s, dst, bytes, true, who);
  if (src) check_access(s, src, bytes, false, who);
  // a queued copy of its own stream that reads dst runs first: the poison must not reach it
  for (const CUstream_st::Op& op : s->pending)
    if (overlaps(dst, bytes, op.src, op.bytes)) drain(s);
  std::memset(dst, 0xff, bytes);  // NaNs until the copy runs
  s->pending.push_back({static_cast<char*>(dst), static_cast<const char*>(src), bytes, value});
  s->queued++;
}

}  // namespace

void before_launch(const char* kernel, cudaStream_t stream, std::initializer_list<const void*> pointers) {
  std::lock_guard<std::recursive_mutex> lock(g_mutex);
  CUstream_st* s = resolve(stream);
  if (s == &g_legacy) drain_blocking();
  drain(s);
  for (const void* p : pointers) check_access(s, p, 1, true, std::string("kernel ") + kernel);
}

}  // namespace emu
}  // namespace strata

using namespace strata::emu;

cudaError_t cudaFree(void* p) {  // waits for the device, as CUDA's does
  {
    std::lock_guard<std::recursive_mutex> lock(g_mutex);
    drain_all();
  }
  device_free(p);
  return cudaSuccess;
}
cudaError_t cudaMemcpy(void* dst, const void* src, size_t bytes, cudaMemcpyKind kind) {
  cudaError_t e = cudaMemcpyAsync(dst, src, bytes, kind, nullptr);
  return e != cudaSuccess ? e : cudaStreamSynchronize(nullptr);
}
cudaError_t cudaMemcpyAsync(void* dst, const void* src, size_t bytes, cudaMemcpyKind, cudaStream_t s) {
  if (dst == src) return cudaSuccess;
  enqueue(s, dst, src, bytes, 0, "cudaMemcpyAsync");
  return cudaSuccess;
}
cudaError_t cudaMemset(void* p, int value, size_t bytes) {
  cudaError_t e = cudaMemsetAsync(p, value, bytes, nullptr);
  return e != cudaSuccess ? e : cudaStreamSynchronize(nullptr);
}
cudaError_t cudaMemsetAsync(void* p, int value, size_t bytes, cudaStream_t s) {
  enqueue(s, p, nullptr, bytes, value & 0xff, "cudaMemsetAsync");
  return cudaSuccess;
}
cudaError_t cudaStreamCreate(cudaStream_t* s) { return cudaStreamCreateWithFlags(s, cudaStreamDefault); }
cudaError_t cudaStreamCreateWithFlags(cudaStream_t* s, unsigned flags) {
  std::lock_guard<std::recursive_mutex> lock(g_mutex);
  *s = new CUstream_st;
  (*s)->non_blocking = (flags & cudaStreamNonBlocking) != 0;
  streams().insert(*s);
  return cudaSuccess;
}
cudaError_t cudaStreamDestroy(cudaStream_t s) {
  if (!s) return cudaErrorInvalidValue;
  std::lock_guard<std::recursive_mutex> lock(g_mutex);
  drain(s);  // CUDA lets its queued work finish
  streams().erase(s);
  delete s;
  return cudaSuccess;
}
cudaError_t cudaStreamSynchronize(cudaStream_t s) {
  std::lock_guard<std::recursive_mutex> lock(g_mutex);
  if (!s) drain_blocking();
  drain(resolve(s));
  return cudaSuccess;
}
cudaError_t cudaDeviceSynchronize() {
  std::lock_guard<std::recursive_mutex> lock(g_mutex);
  drain_all();
  return cudaSuccess;
}
cudaError_t cudaEventCreate(cudaEvent_t* e) { return cudaEventCreateWithFlags(e, cudaEventDefault); }
cudaError_t cudaEventCreateWithFlags(cudaEvent_t* e, unsigned) {
  *e = new CUevent_st;
  return cudaSuccess;
}
cudaError_t cudaEventDestroy(cudaEvent_t e) {
  delete e;
  return cudaSuccess;
}
cudaError_t cudaEventRecord(cudaEvent_t e, cudaStream_t s) {
  if (!e) return cudaErrorInvalidValue;
  std::lock_guard<std::recursive_mutex> lock(g_mutex);
  e->stream = resolve(s);
  e->ticket = e->stream->queued;
  e->recorded = std::chrono::steady_clock::now();
  return cudaSuccess;
}
cudaError_t cudaEventElapsedTime(float* ms, cudaEvent_t start, cudaEvent_t end) {
  if (!start || !end || !start->stream || !end->stream) return cudaErrorInvalidValue;
  *ms = std::chrono::duration<float, std::milli>(end->recorded - start->recorded).count();
  return cudaSuccess;
}
cudaError_t cudaEventSynchronize(cudaEvent_t e) {
  if (!e) return cudaErrorInvalidValue;
  std::lock_guard<std::recursive_mutex> lock(g_mutex);
  if (e->stream && streams().count(e->stream)) drain(e->stream, e->ticket);
  return cudaSuccess;
}
// The waiting stream's next operation runs at once (kernels run at their launch), so the
// event's work runs now.
cudaError_t cudaStreamWaitEvent(cudaStream_t s, cudaEvent_t e, unsigned) {
  (void)s;
  return cudaEventSynchronize(e);
}
