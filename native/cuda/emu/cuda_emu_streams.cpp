// cuda_emu_streams.cpp: streams, events and graphs in the emulation (cuda_emu.h). A kernel runs
// at its launch; a copy or memset queued on a stream waits in the stream's queue until something
// needs it, the latest moment CUDA allows, so that a reader that does not wait for it reads
// NaNs, and is caught where the emulation sees the access (another stream's copy, or a kernel's
// pointer argument). What this cannot show: a host write into pinned memory that a queued copy
// still reads (the copy reads it when it runs), and kernels overlapping each other.
// A capturing stream records its kernels, copies and memsets instead (CUgraph_st); a graph's
// launch queues them again in that order.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <deque>
#include <functional>
#include <mutex>
#include <set>
#include <sstream>

#include "cuda_emu.h"

struct CUgraph_st {
  struct Node {  // a kernel (body set) or a copy or memset (src null)
    std::string kernel;
    dim3 grid, block;
    std::vector<const void*> pointers;
    std::function<void()> body;
    void* dst = nullptr;
    const void* src = nullptr;
    size_t bytes = 0;
    int value = 0;
  };
  std::vector<Node> nodes;
};
struct CUgraphExec_st {
  std::vector<CUgraph_st::Node> nodes;
};
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
  CUgraph_st* capture = nullptr;      // between cudaStreamBeginCapture and cudaStreamEndCapture
  cudaStreamCaptureMode capture_mode = cudaStreamCaptureModeGlobal;
  bool capture_invalid = false;       // a refused call broke the capture
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

// Every capture under way that a refused call breaks: all of them for a call that may wait for
// the device, the blocking streams' for work on the legacy stream (which would wait for them).
bool invalidate_captures(bool blocking_only) {
  bool any = false;
  for (CUstream_st* s : streams())
    if (s->capture && s->capture_mode != cudaStreamCaptureModeRelaxed && !(blocking_only && s->non_blocking)) {
      s->capture_invalid = any = true;
    }
  return any;
}
// Work queued on `s`: cudaSuccess to run it, else the error CUDA gives (recorded when capturing).
cudaError_t capture_rule(CUstream_st* s) {
  if (s->capture) return s->capture_invalid ? cudaErrorStreamCaptureInvalidated : cudaSuccess;
  if (s == &g_legacy && invalidate_captures(true)) return cudaErrorStreamCaptureImplicit;
  return cudaSuccess;
}

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

cudaError_t enqueue(cudaStream_t stream, void* dst, const void* src, size_t bytes, int value, const char* what) {
  if (!bytes) return cudaSuccess;
  std::lock_guard<std::recursive_mutex> lock(g_mutex);
  CUstream_st* s = resolve(stream);
  if (cudaError_t e = capture_rule(s)) return e;
  if (s->capture) {
    CUgraph_st::Node node;
    node.dst = dst, node.src = src, node.bytes = bytes, node.value = value;
    s->capture->nodes.push_back(std::move(node));
    return cudaSuccess;
  }
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
  return cudaSuccess;
}

// Before a kernel runs on `s`: the copies queued before it there run, and a pointer argument
// inside a copy another stream has not finished is a Fault.
void before_launch(const std::string& kernel, CUstream_st* s, const std::vector<const void*>& pointers) {
  std::lock_guard<std::recursive_mutex> lock(g_mutex);
  if (s == &g_legacy) drain_blocking();
  drain(s);
  for (const void* p : pointers) check_access(s, p, 1, true, "kernel " + kernel);
}

}  // namespace

void launch_on_stream(const char* kernel, cudaStream_t stream, dim3 grid, dim3 block,
                      std::vector<const void*> pointers, std::function<void()> body) {
  CUstream_st* s = resolve(stream);
  {
    std::lock_guard<std::recursive_mutex> lock(g_mutex);
    if (cudaError_t e = capture_rule(s))
      throw Fault(std::string("kernel ") + kernel + " launched on stream " + hex(stream) + ": " + cudaGetErrorString(e));
    if (s->capture) {
      CUgraph_st::Node node;
      node.kernel = kernel, node.grid = grid, node.block = block;
      node.pointers = std::move(pointers), node.body = std::move(body);
      s->capture->nodes.push_back(std::move(node));
      return;
    }
  }
  before_launch(kernel, s, pointers);
  launch(kernel, grid, block, body);
}

cudaError_t refuse_during_capture() {
  std::lock_guard<std::recursive_mutex> lock(g_mutex);
  return invalidate_captures(false) ? cudaErrorStreamCaptureUnsupported : cudaSuccess;
}

}  // namespace emu
}  // namespace strata

using namespace strata::emu;

cudaError_t cudaFree(void* p) {  // waits for the device, as CUDA's does
  if (cudaError_t e = refuse_during_capture()) return e;
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
  return enqueue(s, dst, src, bytes, 0, "cudaMemcpyAsync");
}
cudaError_t cudaMemset(void* p, int value, size_t bytes) {
  cudaError_t e = cudaMemsetAsync(p, value, bytes, nullptr);
  return e != cudaSuccess ? e : cudaStreamSynchronize(nullptr);
}
cudaError_t cudaMemsetAsync(void* p, int value, size_t bytes, cudaStream_t s) {
  return enqueue(s, p, nullptr, bytes, value & 0xff, "cudaMemsetAsync");
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
  if (resolve(s)->capture) {  // the host would wait for work that is only being recorded
    resolve(s)->capture_invalid = true;
    return cudaErrorStreamCaptureUnsupported;
  }
  if (cudaError_t e = capture_rule(resolve(s))) return e;
  if (!s) drain_blocking();
  drain(resolve(s));
  return cudaSuccess;
}
cudaError_t cudaDeviceSynchronize() {
  std::lock_guard<std::recursive_mutex> lock(g_mutex);
  if (invalidate_captures(false)) return cudaErrorStreamCaptureUnsupported;
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
  if (resolve(s)->capture) {  // not modelled: an event node of the graph on a GPU
    resolve(s)->capture_invalid = true;
    return cudaErrorStreamCaptureUnsupported;
  }
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
  {
    std::lock_guard<std::recursive_mutex> lock(g_mutex);
    if (resolve(s)->capture) {  // not modelled (a dependency of the graph on a GPU)
      resolve(s)->capture_invalid = true;
      return cudaErrorStreamCaptureUnsupported;
    }
  }
  return cudaEventSynchronize(e);
}

// --- graphs ----------------------------------------------------------------------------------------
cudaError_t cudaStreamBeginCapture(cudaStream_t s, cudaStreamCaptureMode mode) {
  std::lock_guard<std::recursive_mutex> lock(g_mutex);
  if (!s) return cudaErrorStreamCaptureUnsupported;  // the legacy stream cannot capture
  if (s->capture) return cudaErrorIllegalState;
  s->capture = new CUgraph_st;
  s->capture_mode = mode;
  s->capture_invalid = false;
  return cudaSuccess;
}
cudaError_t cudaStreamEndCapture(cudaStream_t s, cudaGraph_t* graph) {
  std::lock_guard<std::recursive_mutex> lock(g_mutex);
  if (!s || !s->capture) return cudaErrorIllegalState;
  CUgraph_st* g = s->capture;
  s->capture = nullptr;
  if (s->capture_invalid) {
    delete g;
    *graph = nullptr;
    return cudaErrorStreamCaptureInvalidated;
  }
  *graph = g;
  return cudaSuccess;
}
cudaError_t cudaGraphInstantiate(cudaGraphExec_t* exec, cudaGraph_t graph, unsigned long long) {
  if (!graph) return cudaErrorInvalidValue;
  *exec = new CUgraphExec_st{graph->nodes};
  return cudaSuccess;
}
// The recorded work, queued on `s` in its order: kernels run (after the copies before them),
// copies and memsets wait in the stream's queue as cudaMemcpyAsync's do.
cudaError_t cudaGraphLaunch(cudaGraphExec_t exec, cudaStream_t stream) {
  if (!exec) return cudaErrorInvalidValue;
  CUstream_st* s = resolve(stream);
  {
    std::lock_guard<std::recursive_mutex> lock(g_mutex);
    if (s->capture) {  // not modelled: a child graph
      s->capture_invalid = true;
      return cudaErrorStreamCaptureUnsupported;
    }
    if (cudaError_t e = capture_rule(s)) return e;
  }
  for (const CUgraph_st::Node& n : exec->nodes) {
    if (n.body) {
      before_launch(n.kernel, s, n.pointers);
      launch(n.kernel.c_str(), n.grid, n.block, n.body);
    } else if (cudaError_t e = enqueue(stream, n.dst, n.src, n.bytes, n.value,
                                       n.src ? "cudaMemcpyAsync (graph)" : "cudaMemsetAsync (graph)")) {
      return e;
    }
  }
  return cudaSuccess;
}
cudaError_t cudaGraphExecDestroy(cudaGraphExec_t exec) {
  delete exec;
  return cudaSuccess;
}
cudaError_t cudaGraphDestroy(cudaGraph_t graph) {
  delete graph;
  return cudaSuccess;
}
