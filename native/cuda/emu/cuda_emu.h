// cuda_emu.h: the CUDA execution model on the host, so that the CUDA backend's kernels,
// written once in native/cuda/kernels/*.cuh, also compile with g++ and run where there
// is no GPU (CI, development machines). Prior art: Numba's CUDA simulator, Triton's
// interpreter mode, AMD's HIP-CPU.
//
// What it models (cuda_emu.cpp has the scheduler):
//   - a grid of blocks, run one after another in a shuffled order (a kernel must not
//     depend on the order of its blocks);
//   - each block's threads as fibers on one OS thread, switched only at __syncthreads and
//     warp-level operations, so a block's threads really do run concurrently: each has its
//     own stack and registers, and a barrier waits for all of them;
//   - __syncthreads as a real barrier, which every thread of the block must reach (a thread
//     that exits while others wait, or a deadlock, is a fault);
//   - shared memory (`__shared__ smem<float[64][33]> tile;`) with a race detector: two
//     threads of a block writing one element, or one writing and another reading it, with
//     no __syncthreads between, is a fault; so are out-of-bounds indices and reads of
//     elements no thread of the block wrote;
//   - the warp-level primitives (__shfl_*_sync, __ballot_sync, __any_sync, __all_sync,
//     __reduce_*_sync, __syncwarp) as collectives of the lanes in their mask, with CUDA's
//     definitions (a lane outside the width's segment keeps its own value);
//   - atomics (trivially atomic: one block runs at a time);
//   - the tensor-core fragment operations of nvcuda::wmma the kernels use (wmma_emu.h);
//   - a subset of the runtime API: cudaMalloc (with a guard page after each buffer, so
//     reads and writes past its end stop the process with the kernel's name), memcpy,
//     memset, streams and events: copies run as late as CUDA allows, and a read or write
//     of memory another stream's queued copy has not finished is a fault (see below).
//
// What it cannot show: timing, memory coalescing, bank conflicts, occupancy, the
// reordering of global memory accesses between threads (only shared memory is checked
// for races), and real parallel execution (blocks run in turn; fibers switch only at
// barriers and warp operations, so a missing __syncwarp between lanes of one warp goes
// unnoticed unless it is a shared-memory race).
//
// Include it only from translation units compiled for the emulation (g++): it defines
// CUDA's keywords and built-ins as macros.
#pragma once
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <initializer_list>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

// --- qualifiers --------------------------------------------------------------------------
#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __noinline__
#define __launch_bounds__(...)
#define __align__(n) __attribute__((aligned(n)))  // GNU's form may stand among the specifiers
// One object per OS thread, and a block's threads are fibers of one OS thread: per block,
// as CUDA's shared memory is. Declare shared arrays through smem<T> (gpu.cuh) so that the
// race detector sees every access.
#define __shared__ static thread_local

// --- built-in types ------------------------------------------------------------------------
struct uint3 {
  unsigned x, y, z;
};
struct dim3 {
  unsigned x, y, z;
  constexpr dim3(unsigned x_ = 1, unsigned y_ = 1, unsigned z_ = 1) : x(x_), y(y_), z(z_) {}
};
constexpr int warpSize = 32;

namespace strata {
namespace emu {

// A kernel broke a rule of the execution model (a race, a barrier some thread did not reach,
// a divergent warp operation...). The launch throws it after the block stopped.
struct Fault : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// The running CUDA thread (valid inside a kernel only).
struct ThreadContext {
  uint3 thread_idx, block_idx;
  dim3 block_dim, grid_dim;
  int linear, lane, warp;  // linear index in the block; lane and warp of that index
};
extern thread_local ThreadContext* g_current;
inline ThreadContext& this_thread() { return *g_current; }

// Stops the running kernel with a message naming the kernel, block and thread.
[[noreturn]] void fault(const std::string& what);

// Runs body() once for every thread of the grid (see the top of this file). Throws Fault.
void launch(const char* kernel, dim3 grid, dim3 block, const std::function<void()>& body);

// __syncthreads().
void sync_block();

// Warp collectives: every lane of `mask` calls with the same what, mask and key; when the
// last arrives, complete(args) runs once with each lane's arg (null outside the mask), then
// the lanes go on. `arg` carries the lane's operand and receives its result.
using WarpComplete = void (*)(void* const* args, uint32_t mask, uint64_t key);
void warp_collective(const char* what, uint32_t mask, uint64_t key, void* arg, WarpComplete complete);

enum class Shuffle { Idx, Up, Down, Xor };
uint64_t shuffle(Shuffle kind, uint32_t mask, uint64_t bits, int param, int width);
enum class Vote { Ballot, Any, All };
uint32_t vote(Vote kind, uint32_t mask, bool pred);
enum class WarpReduce { Add, Min, Max };
uint32_t warp_reduce(WarpReduce kind, uint32_t mask, uint32_t value, bool is_signed);

// --- shared memory with a race detector ------------------------------------------------------
// One shadow word per element: the block run and barrier epoch of its last accesses, the
// thread that wrote it and the thread that read it in this epoch (-2: several readers).
struct ShadowWord {
  uint32_t block_run = 0, epoch = 0;
  int32_t writer = -1, reader = -1;
};
struct SharedBase {
  void* data;
  ShadowWord* shadow;
  size_t count, elem_size;
  const size_t* extents;  // the declared dimensions, for messages
  int rank;
  const char* elem_name;
};
// The running block's clock: its run and the barriers it passed.
struct BlockClock {
  uint32_t run_id = 0, epoch = 0;
};
extern thread_local BlockClock g_clock;
// Records an access to element i by `thread` (a warp operation accessing memory on behalf of
// its lanes) or the running thread (-1); faults on a race.
void shared_access_checked(const SharedBase& a, ptrdiff_t i, bool write, int thread);
// The common case inline: in bounds, written before in this block, and no other thread's
// access since the last barrier to conflict with.
inline void shared_access(const SharedBase& a, ptrdiff_t i, bool write, int thread = -1) {
  if (thread < 0 && g_current && (size_t)i < a.count) {
    ShadowWord& s = a.shadow[i];
    const int t = g_current->linear;
    if (s.block_run == g_clock.run_id && s.epoch != g_clock.epoch) s.epoch = g_clock.epoch, s.writer = -1, s.reader = -1;
    if (s.block_run == g_clock.run_id && (s.writer == -1 || s.writer == t)) {
      if (write && (s.reader == -1 || s.reader == t)) return void(s.writer = t);
      if (!write) return void(s.reader = s.reader == -1 || s.reader == t ? t : -2);
    }
  }
  shared_access_checked(a, i, write, thread);
}

template <class E>
struct SharedPtr;

template <class E>
class SharedRef {
 public:
  SharedRef(const SharedBase* a, ptrdiff_t i) : a_(a), i_(i) {}
  SharedRef(const SharedRef&) = default;
  operator E() const {
    shared_access(*a_, i_, false);
    return raw();
  }
  const SharedRef& operator=(E v) const {
    shared_access(*a_, i_, true);
    raw() = v;
    return *this;
  }
  const SharedRef& operator=(const SharedRef& o) const { return *this = static_cast<E>(o); }
  template <class V> const SharedRef& operator+=(V v) const { return *this = static_cast<E>(E(*this) + v); }
  template <class V> const SharedRef& operator-=(V v) const { return *this = static_cast<E>(E(*this) - v); }
  template <class V> const SharedRef& operator*=(V v) const { return *this = static_cast<E>(E(*this) * v); }
  template <class V> const SharedRef& operator/=(V v) const { return *this = static_cast<E>(E(*this) / v); }
  template <class V> const SharedRef& operator|=(V v) const { return *this = static_cast<E>(E(*this) | v); }
  template <class V> const SharedRef& operator&=(V v) const { return *this = static_cast<E>(E(*this) & v); }
  SharedPtr<E> operator&() const { return {a_, i_}; }

 private:
  const SharedBase* a_;
  ptrdiff_t i_;
  E& raw() const { return static_cast<E*>(a_->data)[i_]; }
};

// &tile[r][c] and a decayed shared array: an element index into one shared object.
template <class E>
struct SharedPtr {
  const SharedBase* a;
  ptrdiff_t i;
  SharedRef<E> operator*() const { return {a, i}; }
  SharedRef<E> operator[](ptrdiff_t k) const { return {a, i + k}; }
  SharedPtr operator+(ptrdiff_t k) const { return {a, i + k}; }
  SharedPtr operator-(ptrdiff_t k) const { return {a, i - k}; }
  SharedPtr& operator+=(ptrdiff_t k) { return i += k, *this; }
  SharedPtr& operator++() { return ++i, *this; }
  const E* raw() const { return static_cast<const E*>(a->data) + i; }
};

// tile[r]: a sub-array view (T is the sub-array's type, e.g. float[33]).
template <class T, class E>
struct SharedView {
  const SharedBase* a;
  ptrdiff_t off;
  using Sub = std::remove_extent_t<T>;
  auto operator[](ptrdiff_t k) const {
    check(k);
    if constexpr (std::is_array_v<Sub>) return SharedView<Sub, E>{a, off + k * (ptrdiff_t)(sizeof(Sub) / sizeof(E))};
    else return SharedRef<E>{a, off + k};
  }
  operator SharedPtr<E>() const { return {a, off}; }
  SharedPtr<E> operator+(ptrdiff_t k) const { return {a, off + k}; }

 private:
  void check(ptrdiff_t k) const {
    if (k < 0 || k >= (ptrdiff_t)std::extent_v<T>)
      fault("index " + std::to_string(k) + " is out of bounds for a shared array dimension of " +
            std::to_string(std::extent_v<T>));
  }
};

template <class T>
struct ArrayExtents {
  static constexpr int rank = (int)std::rank_v<T>;
  size_t v[rank > 0 ? rank : 1];
  constexpr ArrayExtents() : v{} { fill<T>(0); }
  template <class U>
  constexpr void fill(int k) {
    if constexpr (std::is_array_v<U>) {
      v[k] = std::extent_v<U>;
      fill<std::remove_extent_t<U>>(k + 1);
    }
  }
};

template <class T>
const char* elem_name() {
  if (std::is_same_v<T, float>) return "float";
  if (std::is_same_v<T, int>) return "int";
  if (std::is_same_v<T, unsigned>) return "unsigned";
  if (std::is_same_v<T, double>) return "double";
  return "element";
}

// A __shared__ variable: an array (smem<float[64][33]>) or a scalar (smem<float>).
template <class T>
class Shared {
 public:
  using E = std::remove_all_extents_t<T>;
  static constexpr size_t count = sizeof(T) / sizeof(E);
  Shared() : base_{data_, shadow_, count, sizeof(E), extents_.v, ArrayExtents<T>::rank, elem_name<E>()} {}
  Shared(const Shared&) = delete;

  // arrays
  auto operator[](ptrdiff_t k) const { return SharedView<T, E>{&base_, 0}[k]; }
  operator SharedPtr<E>() const { return {&base_, 0}; }
  SharedPtr<E> operator+(ptrdiff_t k) const { return {&base_, k}; }
  // scalars
  template <class U = T, std::enable_if_t<!std::is_array_v<U>, int> = 0>
  operator E() const {
    return SharedRef<E>(&base_, 0);
  }
  const Shared& operator=(E v) const {
    SharedRef<E>(&base_, 0) = v;
    return *this;
  }
  template <class V> const Shared& operator+=(V v) const { return SharedRef<E>(&base_, 0) += v, *this; }
  SharedPtr<E> operator&() const { return {&base_, 0}; }

 private:
  alignas(16) E data_[count];
  ShadowWord shadow_[count];
  static constexpr ArrayExtents<T> extents_{};
  SharedBase base_;
};

// --- host memory standing in for the device's ------------------------------------------------
// Each buffer ends at a protected page: a kernel reading or writing past its end stops the
// process with the kernel's name (a SIGSEGV handler installed by the first allocation).
void* device_alloc(size_t bytes);
void device_free(void* p);

}  // namespace emu
}  // namespace strata

// --- built-in variables and functions, as CUDA spells them -------------------------------------
#define threadIdx (::strata::emu::this_thread().thread_idx)
#define blockIdx (::strata::emu::this_thread().block_idx)
#define blockDim (::strata::emu::this_thread().block_dim)
#define gridDim (::strata::emu::this_thread().grid_dim)

inline void __syncthreads() { ::strata::emu::sync_block(); }
inline void __syncwarp(unsigned mask = 0xffffffffu) {
  ::strata::emu::warp_collective("__syncwarp", mask, 0, nullptr, [](void* const*, uint32_t, uint64_t) {});
}

namespace strata {
namespace emu {
template <class T>
inline uint64_t to_bits(T v) {
  static_assert(sizeof(T) <= 8 && std::is_trivially_copyable_v<T>, "shuffles move 4- and 8-byte values");
  uint64_t b = 0;
  std::memcpy(&b, &v, sizeof(T));
  return b;
}
template <class T>
inline T from_bits(uint64_t b) {
  T v;
  std::memcpy(&v, &b, sizeof(T));
  return v;
}
}  // namespace emu
}  // namespace strata

template <class T>
inline T __shfl_sync(unsigned mask, T v, int src_lane, int width = warpSize) {
  using namespace strata::emu;
  return from_bits<T>(shuffle(Shuffle::Idx, mask, to_bits(v), src_lane, width));
}
template <class T>
inline T __shfl_up_sync(unsigned mask, T v, unsigned delta, int width = warpSize) {
  using namespace strata::emu;
  return from_bits<T>(shuffle(Shuffle::Up, mask, to_bits(v), (int)delta, width));
}
template <class T>
inline T __shfl_down_sync(unsigned mask, T v, unsigned delta, int width = warpSize) {
  using namespace strata::emu;
  return from_bits<T>(shuffle(Shuffle::Down, mask, to_bits(v), (int)delta, width));
}
template <class T>
inline T __shfl_xor_sync(unsigned mask, T v, int lane_mask, int width = warpSize) {
  using namespace strata::emu;
  return from_bits<T>(shuffle(Shuffle::Xor, mask, to_bits(v), lane_mask, width));
}
inline unsigned __ballot_sync(unsigned mask, int pred) {
  return strata::emu::vote(strata::emu::Vote::Ballot, mask, pred != 0);
}
inline int __any_sync(unsigned mask, int pred) { return (int)strata::emu::vote(strata::emu::Vote::Any, mask, pred != 0); }
inline int __all_sync(unsigned mask, int pred) { return (int)strata::emu::vote(strata::emu::Vote::All, mask, pred != 0); }
inline unsigned __reduce_add_sync(unsigned mask, unsigned v) {
  return strata::emu::warp_reduce(strata::emu::WarpReduce::Add, mask, v, false);
}
inline unsigned __reduce_min_sync(unsigned mask, unsigned v) {
  return strata::emu::warp_reduce(strata::emu::WarpReduce::Min, mask, v, false);
}
inline unsigned __reduce_max_sync(unsigned mask, unsigned v) {
  return strata::emu::warp_reduce(strata::emu::WarpReduce::Max, mask, v, false);
}
inline int __reduce_add_sync(unsigned mask, int v) {
  return (int)strata::emu::warp_reduce(strata::emu::WarpReduce::Add, mask, (uint32_t)v, true);
}
inline int __reduce_min_sync(unsigned mask, int v) {
  return (int)strata::emu::warp_reduce(strata::emu::WarpReduce::Min, mask, (uint32_t)v, true);
}
inline int __reduce_max_sync(unsigned mask, int v) {
  return (int)strata::emu::warp_reduce(strata::emu::WarpReduce::Max, mask, (uint32_t)v, true);
}

// Atomics: one block runs at a time and its threads switch only at barriers and warp
// operations, so a read-modify-write is atomic as it stands. They return the old value.
template <class T>
inline T atomicAdd(T* p, T v) {
  T old = *p;
  *p = old + v;
  return old;
}
template <class T>
inline T atomicMax(T* p, T v) {
  T old = *p;
  if (v > old) *p = v;
  return old;
}
template <class T>
inline T atomicMin(T* p, T v) {
  T old = *p;
  if (v < old) *p = v;
  return old;
}
template <class T>
inline T atomicExch(T* p, T v) {
  T old = *p;
  *p = v;
  return old;
}
template <class T>
inline T atomicCAS(T* p, T compare, T v) {
  T old = *p;
  if (old == compare) *p = v;
  return old;
}

// Device math that the host's libm does not spell the same way.
inline float rsqrtf(float x) { return 1.0f / std::sqrt(x); }
inline float __saturatef(float x) { return x < 0 ? 0.0f : (x > 1 ? 1.0f : x); }
inline unsigned __float_as_uint(float x) { return strata::emu::from_bits<unsigned>(strata::emu::to_bits(x)); }
inline float __uint_as_float(unsigned x) { return strata::emu::from_bits<float>(strata::emu::to_bits(x)); }
inline int __float_as_int(float x) { return strata::emu::from_bits<int>(strata::emu::to_bits(x)); }
inline float __int_as_float(int x) { return strata::emu::from_bits<float>(strata::emu::to_bits(x)); }
template <class T>
inline T __ldg(const T* p) {
  return *p;
}
// CUDA's integer min/max overloads (device code calls them unqualified).
inline int min(int a, int b) { return a < b ? a : b; }
inline int max(int a, int b) { return a > b ? a : b; }
inline unsigned min(unsigned a, unsigned b) { return a < b ? a : b; }
inline unsigned max(unsigned a, unsigned b) { return a > b ? a : b; }
inline long long min(long long a, long long b) { return a < b ? a : b; }
inline long long max(long long a, long long b) { return a > b ? a : b; }

// --- the runtime API subset the backend uses -----------------------------------------------------
enum cudaError_t {
  cudaSuccess = 0,
  cudaErrorInvalidValue = 1,
  cudaErrorMemoryAllocation = 2,
  cudaErrorIllegalState = 401,
  cudaErrorLaunchFailure = 719,
  cudaErrorStreamCaptureUnsupported = 900,
  cudaErrorStreamCaptureInvalidated = 901,
  cudaErrorStreamCaptureImplicit = 906,
};
enum cudaMemcpyKind {
  cudaMemcpyHostToHost = 0,
  cudaMemcpyHostToDevice = 1,
  cudaMemcpyDeviceToHost = 2,
  cudaMemcpyDeviceToDevice = 3,
  cudaMemcpyDefault = 4
};
struct CUstream_st;
typedef CUstream_st* cudaStream_t;
struct CUevent_st;
typedef CUevent_st* cudaEvent_t;
constexpr unsigned cudaStreamDefault = 0, cudaStreamNonBlocking = 1;
constexpr unsigned cudaEventDefault = 0, cudaEventDisableTiming = 2;
enum cudaStreamCaptureMode {
  cudaStreamCaptureModeGlobal = 0,
  cudaStreamCaptureModeThreadLocal = 1,
  cudaStreamCaptureModeRelaxed = 2
};
struct CUgraph_st;
typedef CUgraph_st* cudaGraph_t;
struct CUgraphExec_st;
typedef CUgraphExec_st* cudaGraphExec_t;

const char* cudaGetErrorString(cudaError_t e);
cudaError_t cudaGetLastError();
cudaError_t cudaMalloc(void** p, size_t bytes);
template <class T>
inline cudaError_t cudaMalloc(T** p, size_t bytes) {
  return cudaMalloc(reinterpret_cast<void**>(p), bytes);
}
cudaError_t cudaFree(void* p);
cudaError_t cudaMallocHost(void** p, size_t bytes);
template <class T>
inline cudaError_t cudaMallocHost(T** p, size_t bytes) {
  return cudaMallocHost(reinterpret_cast<void**>(p), bytes);
}
cudaError_t cudaFreeHost(void* p);

// Streams and events (cuda_emu_streams.cpp). Kernels run at their launch, after the copies
// queued before them on their stream. A copy or memset queued with cudaMemcpyAsync or
// cudaMemsetAsync waits in its stream's queue until something needs it (a later operation on
// that stream, an event after it waited for, cudaStreamSynchronize, a blocking call): the
// latest moment CUDA allows. Until then its destination holds NaNs, and another stream's copy
// or kernel touching its source or destination (a kernel: through a pointer argument) is a
// Fault: the reader lacks a cudaStreamWaitEvent. The legacy default stream (nullptr, and the
// blocking calls cudaMemcpy, cudaMemset, cudaFree) waits for every stream not created
// cudaStreamNonBlocking, as CUDA's does.
cudaError_t cudaMemcpy(void* dst, const void* src, size_t bytes, cudaMemcpyKind kind);
cudaError_t cudaMemcpyAsync(void* dst, const void* src, size_t bytes, cudaMemcpyKind kind, cudaStream_t s = nullptr);
cudaError_t cudaMemset(void* p, int value, size_t bytes);
cudaError_t cudaMemsetAsync(void* p, int value, size_t bytes, cudaStream_t s = nullptr);
cudaError_t cudaStreamCreate(cudaStream_t* s);
cudaError_t cudaStreamCreateWithFlags(cudaStream_t* s, unsigned flags);
cudaError_t cudaStreamDestroy(cudaStream_t s);
cudaError_t cudaStreamSynchronize(cudaStream_t s);
cudaError_t cudaStreamWaitEvent(cudaStream_t s, cudaEvent_t e, unsigned flags = 0);
cudaError_t cudaDeviceSynchronize();
cudaError_t cudaEventCreate(cudaEvent_t* e);
cudaError_t cudaEventCreateWithFlags(cudaEvent_t* e, unsigned flags);
cudaError_t cudaEventDestroy(cudaEvent_t e);
cudaError_t cudaEventRecord(cudaEvent_t e, cudaStream_t s = nullptr);
cudaError_t cudaEventSynchronize(cudaEvent_t e);
// The host's time between the two records (kernels run at their launch here).
cudaError_t cudaEventElapsedTime(float* ms, cudaEvent_t start, cudaEvent_t end);

// Graphs (cuda_emu_streams.cpp): between cudaStreamBeginCapture and cudaStreamEndCapture the
// kernels, copies and memsets queued on the stream are recorded, not run (a kernel with the
// arguments it was given); cudaGraphLaunch queues them on a stream in the recorded order, as
// if launched there again. As CUDA does, the capture refuses what would make the host wait for
// it or touch device memory behind its back: synchronizing the capturing stream or the device,
// cudaMalloc, cudaFree and their host twins, and (cudaStreamCaptureModeGlobal) work on the
// legacy default stream while a blocking stream captures. Such a call returns an error and
// invalidates the capture (cudaStreamEndCapture then fails with
// cudaErrorStreamCaptureInvalidated). Not modelled: events inside a capture (refused here, a
// node of the graph on a GPU), graphs launched into a capture, updating an instantiated graph.
cudaError_t cudaStreamBeginCapture(cudaStream_t s, cudaStreamCaptureMode mode);
cudaError_t cudaStreamEndCapture(cudaStream_t s, cudaGraph_t* graph);
cudaError_t cudaGraphInstantiate(cudaGraphExec_t* exec, cudaGraph_t graph, unsigned long long flags = 0);
cudaError_t cudaGraphLaunch(cudaGraphExec_t exec, cudaStream_t s);
cudaError_t cudaGraphExecDestroy(cudaGraphExec_t exec);
cudaError_t cudaGraphDestroy(cudaGraph_t graph);

namespace strata {
namespace emu {
// A kernel launched on `stream`: run now, after the copies queued before it there (a pointer
// argument inside a copy another stream has not finished is a Fault), or recorded when the
// stream is capturing. `body` holds the arguments by value.
void launch_on_stream(const char* kernel, cudaStream_t stream, dim3 grid, dim3 block,
                      std::vector<const void*> pointers, std::function<void()> body);
// cudaSuccess, or the error a call that may wait for the device (cudaMalloc, cudaFree, ...)
// returns while a capture runs; the capture is then invalidated.
cudaError_t refuse_during_capture();
}  // namespace emu
}  // namespace strata

#include "wmma_emu.h"
