// cuda_emu.cpp: the scheduler behind cuda_emu.h. A launch runs the grid's blocks one after
// another; a block's threads are fibers on the calling OS thread (a stack and saved registers
// each: Context below), run in turn
// until each reaches __syncthreads, a warp operation or its end. Barriers and warp
// operations complete when their last participant arrives; a block where nobody can go on
// is a deadlock. Every rule broken is a Fault naming the kernel, the block and the thread.
#include "cuda_emu.h"

#include <signal.h>
#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <sstream>
#include <unordered_map>
#include <vector>

namespace strata {
namespace emu {

thread_local ThreadContext* g_current = nullptr;
thread_local BlockClock g_clock;

namespace {

// --- switching between fibers ------------------------------------------------------------------
// On x86-64, a switch saves the callee-saved registers (and the SSE and x87 control words) on
// the running stack and moves to the other's: glibc's swapcontext also saves the signal mask,
// one system call per switch, which made the emulated tests spend more time in the kernel
// than in the kernels. Elsewhere, ucontext.
#if defined(__x86_64__) && !defined(STRATA_EMU_UCONTEXT)  // (defined: test the fallback)
extern "C" void strata_emu_switch(void** save_sp, void* next_sp);
asm(R"(
.text
.globl strata_emu_switch
.type strata_emu_switch,@function
strata_emu_switch:
  pushq %rbp
  pushq %rbx
  pushq %r12
  pushq %r13
  pushq %r14
  pushq %r15
  subq $8, %rsp
  stmxcsr (%rsp)
  fnstcw 4(%rsp)
  movq %rsp, (%rdi)
  movq %rsi, %rsp
  ldmxcsr (%rsp)
  fldcw 4(%rsp)
  addq $8, %rsp
  popq %r15
  popq %r14
  popq %r13
  popq %r12
  popq %rbx
  popq %rbp
  ret
.size strata_emu_switch, .-strata_emu_switch
.section .note.GNU-stack,"",@progbits
.text
)");

struct Context {
  void* sp = nullptr;
};
inline void switch_context(Context& from, Context& to) { strata_emu_switch(&from.sp, to.sp); }
// A context that starts entry() on the stack [stack, stack + bytes) at its first switch.
inline void make_context(Context& c, char* stack, size_t bytes, void (*entry)()) {
  uintptr_t top = ((uintptr_t)stack + bytes) & ~(uintptr_t)15;
  uint64_t* sp = reinterpret_cast<uint64_t*>(top);
  *--sp = 0;                   // entry's return address: it never returns
  *--sp = (uint64_t)entry;     // where strata_emu_switch's ret goes
  for (int r = 0; r < 6; r++) *--sp = 0;  // rbp rbx r12 r13 r14 r15
  *--sp = 0x037F00001F80ull;   // MXCSR 0x1F80 and the x87 control word 0x037F (their defaults)
  c.sp = sp;
}
#else
struct Context {
  ucontext_t uc;
  bool made = false;
};
inline void switch_context(Context& from, Context& to) { swapcontext(&from.uc, &to.uc); }
__attribute__((noinline)) void make_context(Context& c, char* stack, size_t bytes, void (*entry)()) {
  if (!c.made) getcontext(&c.uc), c.made = true;  // returns twice: kept out of launch()
  c.uc.uc_stack.ss_sp = stack;
  c.uc.uc_stack.ss_size = bytes;
  c.uc.uc_link = nullptr;
  makecontext(&c.uc, entry, 0);
}
#endif

enum class State { Runnable, AtBarrier, AtWarp, Done };

struct Fiber {
  ThreadContext ctx;
  Context context;
  char* stack = nullptr;
  State state = State::Done;
  const char* op_what = nullptr;  // the warp operation it waits in (State::AtWarp)
};

// A warp operation some lanes of a warp wait in (the others of its mask yet to come).
struct WarpOp {
  const char* what;
  uint32_t mask;
  uint64_t key;
  int arrived;
  void* args[32];
};

struct BlockRun {
  const char* kernel = "";
  const std::function<void()>* body = nullptr;
  std::vector<std::unique_ptr<Fiber>> fibers;  // by pointer: a ucontext_t points into itself
  std::vector<std::vector<WarpOp>> warp_ops;  // per warp, the operations in progress (usually one)
  int n = 0, arrived = 0, done = 0;
  uint32_t run_id = 0, epoch = 0;
  Context scheduler;
  std::string fault;  // set when a thread broke a rule
};

constexpr size_t kStackBytes = 256 * 1024;
thread_local BlockRun* g_block = nullptr;
thread_local Fiber* g_fiber = nullptr;
uint32_t g_runs = 0;  // block runs so far (the shadow words' clock); launches are serialized

std::string dims(uint3 v) {
  return "(" + std::to_string(v.x) + "," + std::to_string(v.y) + "," + std::to_string(v.z) + ")";
}
uint3 thread_of(int linear, dim3 block) {
  return uint3{linear % block.x, linear / block.x % block.y, linear / (block.x * block.y)};
}
std::string where_am_i() {
  if (!g_current || !g_block) return "";
  return std::string("kernel ") + g_block->kernel + ", block " + dims(g_current->block_idx) + ", thread " +
         dims(g_current->thread_idx) + ": ";
}
std::string thread_name(int linear) {
  return "thread " + dims(thread_of(linear, g_current->block_dim));
}

void yield() { switch_context(g_fiber->context, g_block->scheduler); }

void fiber_entry() {
  Fiber* f = g_fiber;
  BlockRun* b = g_block;
  try {
    (*b->body)();
    b->done++;
    for (const WarpOp& op : b->warp_ops[f->ctx.warp])
      if (op.mask >> f->ctx.lane & 1)
        fault(std::string("exited while other lanes of its mask wait at ") + op.what + " for it");
    if (b->arrived > 0)
      fault("exited while " + std::to_string(b->arrived) +
            " other threads of the block wait at __syncthreads (every thread must reach it)");
  } catch (const Fault& e) {
    if (b->fault.empty()) b->fault = e.what();
  } catch (const std::exception& e) {
    if (b->fault.empty()) b->fault = where_am_i() + "threw " + e.what();
  }
  f->state = State::Done;
  switch_context(f->context, b->scheduler);
  std::abort();  // a finished fiber is never resumed
}

// A fiber's stack, its low end protected: an overflow stops at once.
char* new_stack() {
  long page = sysconf(_SC_PAGESIZE);
  void* p = mmap(nullptr, kStackBytes + page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) throw Fault("the emulation could not map a fiber stack");
  mprotect(p, page, PROT_NONE);
  return static_cast<char*>(p) + page;
}

// The blocks of a grid in a fixed shuffled order: kernels must not depend on block order.
std::vector<uint32_t> block_order(uint32_t count) {
  std::vector<uint32_t> order(count);
  for (uint32_t k = 0; k < count; k++) order[k] = k;
  uint64_t s = 0x9E3779B97F4A7C15ull ^ count;
  for (uint32_t k = count; k > 1; k--) {
    s ^= s << 13, s ^= s >> 7, s ^= s << 17;
    std::swap(order[k - 1], order[s % k]);
  }
  return order;
}

void check_config(const char* kernel, dim3 grid, dim3 block) {
  uint64_t threads = (uint64_t)block.x * block.y * block.z;
  bool ok = threads >= 1 && threads <= 1024 && block.x <= 1024 && block.y <= 1024 && block.z <= 64 && grid.x >= 1 &&
            grid.y >= 1 && grid.z >= 1 && grid.x <= 0x7fffffffu && grid.y <= 65535 && grid.z <= 65535;
  if (!ok)
    throw Fault(std::string("kernel ") + kernel + ": invalid launch configuration, grid (" + std::to_string(grid.x) +
                "," + std::to_string(grid.y) + "," + std::to_string(grid.z) + ") block (" + std::to_string(block.x) +
                "," + std::to_string(block.y) + "," + std::to_string(block.z) + ")");
}

std::string state_name(const Fiber& f) {
  switch (f.state) {
    case State::Runnable: return "running";
    case State::AtBarrier: return "waits at __syncthreads";
    case State::AtWarp: return std::string("waits at ") + f.op_what;
    case State::Done: return "has exited";
  }
  return "?";
}

void run_block(BlockRun& b) {
  for (;;) {
    bool ran = false;
    for (int t = 0; t < b.n; t++) {
      Fiber& f = *b.fibers[t];
      if (f.state != State::Runnable) continue;
      g_fiber = &f;
      g_current = &f.ctx;
      switch_context(b.scheduler, f.context);
      g_current = nullptr;
      ran = true;
      if (!b.fault.empty()) throw Fault(b.fault);
    }
    if (b.done == b.n) return;
    if (!ran) {  // nobody can go on: say what each waits for (the first few)
      std::ostringstream os;
      os << "kernel " << b.kernel << ", block " << dims(b.fibers[0]->ctx.block_idx) << ": deadlock;";
      for (int t = 0, shown = 0; t < b.n && shown < 6; t++)
        if (b.fibers[t]->state != State::Done) {
          os << " thread " << dims(b.fibers[t]->ctx.thread_idx) << " " << state_name(*b.fibers[t]) << ";";
          shown++;
        }
      throw Fault(os.str());
    }
  }
}

void install_segv_handler();

}  // namespace

[[noreturn]] void fault(const std::string& what) { throw Fault(where_am_i() + what); }

void launch(const char* kernel, dim3 grid, dim3 block, const std::function<void()>& body) {
  static std::mutex one_launch;  // the shadow clock and the handler's context are process-wide
  std::lock_guard<std::mutex> lock(one_launch);
  check_config(kernel, grid, block);
  install_segv_handler();
  thread_local BlockRun b;
  b.kernel = kernel;
  b.body = &body;
  b.n = (int)(block.x * block.y * block.z);
  while ((int)b.fibers.size() < b.n) b.fibers.push_back(std::make_unique<Fiber>());
  struct Reset {
    ~Reset() { g_block = nullptr, g_fiber = nullptr, g_current = nullptr; }
  } reset;
  g_block = &b;
  b.warp_ops.resize((b.n + 31) / 32);
  for (uint32_t id : block_order(grid.x * grid.y * grid.z)) {
    uint3 bi{id % grid.x, id / grid.x % grid.y, id / (grid.x * grid.y)};
    b.run_id = ++g_runs;
    b.epoch = 0, b.arrived = 0, b.done = 0;
    g_clock = BlockClock{b.run_id, 0};
    b.fault.clear();
    for (auto& ops : b.warp_ops) ops.clear();
    for (int t = 0; t < b.n; t++) {
      Fiber& f = *b.fibers[t];
      f.ctx = ThreadContext{thread_of(t, block), bi, block, grid, t, t % 32, t / 32};
      f.state = State::Runnable;
      if (!f.stack) f.stack = new_stack();
      make_context(f.context, f.stack, kStackBytes, fiber_entry);
    }
    run_block(b);
  }
}

void sync_block() {
  BlockRun& b = *g_block;
  if (b.done > 0)
    fault("reached __syncthreads after " + std::to_string(b.done) +
          " threads of the block exited (every thread must reach it)");
  if (++b.arrived == b.n) {  // the last one releases everybody
    b.arrived = 0;
    g_clock.epoch = ++b.epoch;
    for (auto& f : b.fibers)
      if (f->state == State::AtBarrier) f->state = State::Runnable;
    return;
  }
  g_fiber->state = State::AtBarrier;
  yield();
}

namespace {
std::string hex(uint32_t mask) {
  char h[16];
  std::snprintf(h, sizeof h, "0x%08x", mask);
  return h;
}
// The lanes of a new operation's mask: all in the block and none exited.
void check_mask(const BlockRun& b, const char* what, uint32_t mask, int base) {
  for (int l = 0; l < 32; l++) {
    if (!(mask >> l & 1)) continue;
    if (base + l >= b.n)
      fault(std::string(what) + ": mask " + hex(mask) + " names lane " + std::to_string(l) + ", which this block (" +
            std::to_string(b.n) + " threads) does not have");
    if (b.fibers[base + l]->state == State::Done)
      fault(std::string(what) + ": lane " + std::to_string(l) + " of the mask has exited");
  }
}
}  // namespace

void warp_collective(const char* what, uint32_t mask, uint64_t key, void* arg, WarpComplete complete) {
  BlockRun& b = *g_block;
  Fiber& me = *g_fiber;
  const int lane = me.ctx.lane, base = me.ctx.warp * 32;
  if (!(mask >> lane & 1)) fault(std::string(what) + ": mask " + hex(mask) + " does not include the calling lane");
  std::vector<WarpOp>& ops = b.warp_ops[me.ctx.warp];
  size_t at = ops.size();
  for (size_t k = 0; k < ops.size(); k++) {
    if (ops[k].mask == mask) {
      at = k;
      break;
    }
    if (ops[k].mask & mask)
      fault(std::string(what) + " with mask " + hex(mask) + ": lanes of it wait at " + ops[k].what + " with mask " +
            hex(ops[k].mask) + " (a divergent warp operation)");
  }
  if (at == ops.size()) {
    check_mask(b, what, mask, base);
    ops.push_back(WarpOp{what, mask, key, 0, {}});
  } else if ((ops[at].what != what && std::strcmp(ops[at].what, what) != 0) || ops[at].key != key) {
    fault(std::string(what) + " with mask " + hex(mask) + ": other lanes of it wait at " + ops[at].what +
          " with other arguments (a divergent warp operation)");
  }
  ops[at].args[lane] = arg;
  if (++ops[at].arrived < __builtin_popcount(mask)) {
    me.op_what = what;
    me.state = State::AtWarp;
    return yield();
  }
  WarpOp op = ops[at];  // the last lane completes it for all
  ops.erase(ops.begin() + (ptrdiff_t)at);
  complete(op.args, mask, key);
  for (int l = 0; l < 32; l++)
    if (mask >> l & 1) b.fibers[base + l]->state = State::Runnable;
}

namespace {
struct ShuffleArg {
  uint64_t value, result;
  int param;
};
struct ShuffleKey {
  Shuffle kind;
  int width;
};
// PTX's shfl.sync: each lane reads lane j of its width-wide segment, or keeps its own value
// when j falls outside what the mode allows (up: before the segment; down, xor: after it).
void complete_shuffle(void* const* args, uint32_t mask, uint64_t key) {
  Shuffle kind = (Shuffle)(key & 0xff);
  int width = (int)(key >> 8);
  const int seg = 32 - width;  // segmask: the lane bits that name the segment
  for (int l = 0; l < 32; l++) {
    if (!(mask >> l & 1)) continue;
    auto* a = static_cast<ShuffleArg*>(args[l]);
    int b = a->param, min_lane = l & seg, max_lane = (l & seg) | (31 & ~seg), j = l;
    bool ok = true;
    switch (kind) {
      case Shuffle::Up: j = l - b, ok = j >= min_lane; break;
      case Shuffle::Down: j = l + b, ok = j <= max_lane; break;
      case Shuffle::Xor: j = l ^ (b & 31), ok = j <= max_lane; break;
      case Shuffle::Idx: j = min_lane | (b & 31 & ~seg), ok = j <= max_lane; break;
    }
    if (!ok) j = l;
    if (!(mask >> j & 1))
      fault("a shuffle: lane " + std::to_string(l) + " reads lane " + std::to_string(j) + ", which is not in the mask");
    a->result = static_cast<ShuffleArg*>(args[j])->value;
  }
}
}  // namespace

uint64_t shuffle(Shuffle kind, uint32_t mask, uint64_t bits, int param, int width) {
  if (width < 1 || width > 32 || (width & (width - 1)))
    fault("a shuffle's width " + std::to_string(width) + " is not a power of 2 from 1 to 32");
  if (kind != Shuffle::Idx && (param < 0 || param > 31))
    fault("a shuffle's offset " + std::to_string(param) + " is outside 0..31");
  static const char* names[] = {"__shfl_sync", "__shfl_up_sync", "__shfl_down_sync", "__shfl_xor_sync"};
  ShuffleArg a{bits, 0, param};
  warp_collective(names[(int)kind], mask, (uint64_t)kind | (uint64_t)width << 8, &a, complete_shuffle);
  return a.result;
}

namespace {
struct VoteArg {
  bool pred;
  uint32_t result;
};
void complete_vote(void* const* args, uint32_t mask, uint64_t key) {
  uint32_t ballot = 0;
  for (int l = 0; l < 32; l++)
    if (mask >> l & 1) ballot |= (uint32_t)static_cast<VoteArg*>(args[l])->pred << l;
  uint32_t r = key == (uint64_t)Vote::Ballot ? ballot : key == (uint64_t)Vote::Any ? ballot != 0 : ballot == mask;
  for (int l = 0; l < 32; l++)
    if (mask >> l & 1) static_cast<VoteArg*>(args[l])->result = r;
}
struct ReduceArg {
  uint32_t value, result;
};
void complete_reduce(void* const* args, uint32_t mask, uint64_t key) {
  WarpReduce kind = (WarpReduce)(key & 0xff);
  bool is_signed = key >> 8;
  uint32_t r = 0;
  bool first = true;
  for (int l = 0; l < 32; l++) {
    if (!(mask >> l & 1)) continue;
    uint32_t v = static_cast<ReduceArg*>(args[l])->value;
    if (first) r = v, first = false;
    else if (kind == WarpReduce::Add) r += v;
    else if (is_signed) r = (kind == WarpReduce::Min) == ((int32_t)v < (int32_t)r) ? v : r;
    else r = (kind == WarpReduce::Min) == (v < r) ? v : r;
  }
  for (int l = 0; l < 32; l++)
    if (mask >> l & 1) static_cast<ReduceArg*>(args[l])->result = r;
}
}  // namespace

uint32_t vote(Vote kind, uint32_t mask, bool pred) {
  VoteArg a{pred, 0};
  static const char* names[] = {"__ballot_sync", "__any_sync", "__all_sync"};
  warp_collective(names[(int)kind], mask, (uint64_t)kind, &a, complete_vote);
  return a.result;
}

uint32_t warp_reduce(WarpReduce kind, uint32_t mask, uint32_t value, bool is_signed) {
  ReduceArg a{value, 0};
  static const char* names[] = {"__reduce_add_sync", "__reduce_min_sync", "__reduce_max_sync"};
  warp_collective(names[(int)kind], mask, (uint64_t)kind | (uint64_t)is_signed << 8, &a, complete_reduce);
  return a.result;
}

// --- the race detector ----------------------------------------------------------------------------
namespace {
std::string element_name(const SharedBase& a, ptrdiff_t i) {
  std::string idx, decl;
  size_t rest = (size_t)i;
  std::vector<size_t> at(a.rank);
  for (int k = a.rank - 1; k >= 0; k--) at[k] = rest % a.extents[k], rest /= a.extents[k];
  for (int k = 0; k < a.rank; k++) idx += "[" + std::to_string(at[k]) + "]", decl += "[" + std::to_string(a.extents[k]) + "]";
  return a.rank ? "element " + idx + " of a shared " + a.elem_name + decl : std::string("a shared ") + a.elem_name;
}
}  // namespace

void shared_access_checked(const SharedBase& a, ptrdiff_t i, bool write, int thread) {
  if (!g_block || !g_current) fault("shared memory used outside a kernel");
  if (i < 0 || (size_t)i >= a.count)
    fault("shared-memory index " + std::to_string(i) + " is out of bounds (" + std::to_string(a.count) + " elements)");
  BlockRun& b = *g_block;
  const int t = thread >= 0 ? thread : g_current->linear;
  ShadowWord& s = a.shadow[i];
  // the running thread is named by fault(); a lane that a warp operation accesses for, here
  auto who = [&] { return t == g_current->linear ? std::string() : thread_name(t) + " "; };
  if (s.block_run != b.run_id) {  // first access in this block
    if (!write)
      fault(who() + "reads " + element_name(a, i) + ", which no thread of this block wrote");
    s = ShadowWord{b.run_id, b.epoch, t, -1};
    return;
  }
  if (s.epoch != b.epoch) s.epoch = b.epoch, s.writer = -1, s.reader = -1;
  const char* since = " since the last __syncthreads (a shared-memory race)";
  if (write) {
    if (s.writer >= 0 && s.writer != t)
      fault(who() + "writes " + element_name(a, i) + ", which " + thread_name(s.writer) + " wrote" + since);
    if (s.reader == -2 || (s.reader >= 0 && s.reader != t))
      fault(who() + "writes " + element_name(a, i) + ", which " +
            (s.reader == -2 ? std::string("other threads") : thread_name(s.reader)) + " read" + since);
    s.writer = t;
  } else {
    if (s.writer >= 0 && s.writer != t)
      fault(who() + "reads " + element_name(a, i) + ", which " + thread_name(s.writer) + " wrote" + since);
    s.reader = s.reader == -1 || s.reader == t ? t : -2;
  }
}

// --- device memory: host pages with a guard page after each buffer ------------------------------------
namespace {
std::mutex g_alloc_mutex;
std::unordered_map<void*, std::pair<void*, size_t>>& allocations() {
  static std::unordered_map<void*, std::pair<void*, size_t>> m;
  return m;
}
struct sigaction g_previous_segv;
char g_segv_message[512];

void on_segv(int sig, siginfo_t* info, void* uctx) {
  if (g_current && g_block) {
    int n = std::snprintf(g_segv_message, sizeof g_segv_message,
                          "cuda emulation: kernel %s, block (%u,%u,%u), thread (%u,%u,%u) accessed %p, outside its "
                          "buffers (each emulated cudaMalloc ends at a protected page)\n",
                          g_block->kernel, g_current->block_idx.x, g_current->block_idx.y, g_current->block_idx.z,
                          g_current->thread_idx.x, g_current->thread_idx.y, g_current->thread_idx.z, info->si_addr);
    if (n > 0) (void)!write(2, g_segv_message, std::min((size_t)n, sizeof g_segv_message - 1));
  }
  sigaction(SIGSEGV, &g_previous_segv, nullptr);  // the access faults again, as it would have
  (void)sig, (void)uctx;
}

void install_segv_handler() {
  // The handler needs a stack of its own: a fiber that overflowed its stack has none left.
  thread_local std::vector<char> alt(64 * 1024);
  thread_local bool alt_set = false;
  if (!alt_set) {
    stack_t st{};
    st.ss_sp = alt.data();
    st.ss_size = alt.size();
    sigaltstack(&st, nullptr);
    alt_set = true;
  }
  static std::once_flag once;
  std::call_once(once, [] {
    struct sigaction sa{};
    sa.sa_sigaction = on_segv;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGSEGV, &sa, &g_previous_segv);
  });
}
}  // namespace

void* device_alloc(size_t bytes) {
  const size_t page = (size_t)sysconf(_SC_PAGESIZE);
  size_t body = (bytes + page - 1) / page * page, total = body + page;
  void* base = mmap(nullptr, total, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (base == MAP_FAILED) return nullptr;
  mprotect(static_cast<char*>(base) + body, page, PROT_NONE);
  // the buffer ends where the guard page begins (4-byte aligned: buffers hold floats)
  void* p = static_cast<char*>(base) + body - (bytes + 3) / 4 * 4;
  std::lock_guard<std::mutex> lock(g_alloc_mutex);
  allocations()[p] = {base, total};
  return p;
}

void device_free(void* p) {
  if (!p) return;
  std::lock_guard<std::mutex> lock(g_alloc_mutex);
  auto it = allocations().find(p);
  if (it == allocations().end()) return;
  munmap(it->second.first, it->second.second);
  allocations().erase(it);
}

}  // namespace emu
}  // namespace strata

// --- the runtime API -----------------------------------------------------------------------------------
using namespace strata::emu;

const char* cudaGetErrorString(cudaError_t e) {
  switch (e) {
    case cudaSuccess: return "no error";
    case cudaErrorInvalidValue: return "invalid argument";
    case cudaErrorMemoryAllocation: return "out of memory";
    case cudaErrorLaunchFailure: return "unspecified launch failure";
    case cudaErrorIllegalState: return "the operation cannot be performed in the present state";
    case cudaErrorStreamCaptureUnsupported: return "operation not permitted when stream is capturing";
    case cudaErrorStreamCaptureInvalidated: return "operation failed due to a previous error during capture";
    case cudaErrorStreamCaptureImplicit:
      return "operation would make the legacy stream depend on a capturing blocking stream";
  }
  return "unknown error";
}
cudaError_t cudaGetLastError() { return cudaSuccess; }  // faults are thrown at the launch
cudaError_t cudaMalloc(void** p, size_t bytes) {
  if (cudaError_t e = refuse_during_capture()) return e;
  *p = device_alloc(bytes);
  return *p ? cudaSuccess : cudaErrorMemoryAllocation;
}
cudaError_t cudaMallocHost(void** p, size_t bytes) {
  if (cudaError_t e = refuse_during_capture()) return e;
  *p = std::malloc(bytes ? bytes : 1);
  return *p ? cudaSuccess : cudaErrorMemoryAllocation;
}
cudaError_t cudaFreeHost(void* p) {
  if (cudaError_t e = refuse_during_capture()) return e;
  std::free(p);
  return cudaSuccess;
}
// cudaFree, copies, memsets, streams and events: cuda_emu_streams.cpp
