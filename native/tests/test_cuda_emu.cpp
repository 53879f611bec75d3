// test_cuda_emu.cpp: the host emulation of CUDA's execution model (cuda/emu/) against its
// definitions: barriers, the shared-memory race detector (a kernel with a missing
// __syncthreads is caught), shuffles and votes as CUDA defines them, the wmma fragment
// operations, atomics, launch checks, the guard page after each buffer, the ordering of
// streams and events (a read of a copy another stream has not finished is caught), and graphs
// (a capture's recorded order, a wait inside a capture refused).
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "cuda/gpu.cuh"
#include "test_util.h"

using namespace strata;
using namespace strata::gpu;
using namespace strata_test;

// The message of the fault a launch raised ("" when it ran through).
template <class F>
static std::string fault_of(F run) {
  try {
    run();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}
static bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

// --- barriers and the race detector ---------------------------------------------------------------
// A block's sum in shared memory, halving the active threads each round; `barrier` false
// leaves out the __syncthreads between the rounds (the classic bug).
__global__ void block_sum(const float* x, float* out, bool barrier) {
  __shared__ smem<float[64]> buf;
  int t = threadIdx.x;
  buf[t] = x[blockIdx.x * 64 + t];
  __syncthreads();
  for (int half = 32; half > 0; half /= 2) {
    if (t < half) buf[t] = buf[t] + buf[t + half];
    if (barrier) __syncthreads();
  }
  if (t == 0) out[blockIdx.x] = buf[0];
}

// Each round reads a neighbour's slot, then overwrites its own: without the second barrier
// a thread overwrites a slot its neighbour still has to read (write after read).
__global__ void rotate(float* x, int rounds, bool second_barrier) {
  __shared__ smem<float[32]> buf;
  int t = threadIdx.x;
  buf[t] = x[t];
  __syncthreads();
  for (int r = 0; r < rounds; r++) {
    float v = buf[(t + 1) % 32];
    if (second_barrier) __syncthreads();
    buf[t] = v;
    __syncthreads();
  }
  x[t] = buf[t];
}

__global__ void read_unwritten(float* out) {
  __shared__ smem<float[32]> buf;
  if (threadIdx.x > 0) buf[threadIdx.x] = 1.0f;
  __syncthreads();
  out[threadIdx.x] = buf[(threadIdx.x + 1) % 32];  // thread 31 reads buf[0], never written
}

__global__ void out_of_bounds(float* out) {
  __shared__ smem<float[4][8]> buf;
  buf[threadIdx.x / 8][threadIdx.x % 8] = 1.0f;  // 32 threads: rows 0..3; 33 threads: row 4
  __syncthreads();
  out[threadIdx.x] = buf[threadIdx.x / 8][threadIdx.x % 8];
}

__global__ void divergent_barrier(float* out) {
  if (threadIdx.x < 16) __syncthreads();
  out[threadIdx.x] = 1.0f;
}

__global__ void early_exit_then_barrier(float* out) {
  if (threadIdx.x == 5) return;
  __syncthreads();
  out[threadIdx.x] = 1.0f;
}

static void test_barriers_and_races() {
  const int blocks = 3;
  std::vector<float> x(64 * blocks), out(blocks), want(blocks, 0.0f);
  for (size_t i = 0; i < x.size(); i++) x[i] = (float)(i % 7) - 3.0f, want[i / 64] += x[i];
  std::string f = fault_of([&] { launch("block_sum", block_sum, dim3(blocks), dim3(64), nullptr, x.data(), out.data(), true); });
  expect(f.empty(), "block_sum with its barriers runs without a fault (" + f + ")");
  validate_result(out.data(), want.data(), "block_sum", blocks, 0, 1);

  f = fault_of([&] { launch("block_sum", block_sum, dim3(blocks), dim3(64), nullptr, x.data(), out.data(), false); });
  expect(contains(f, "shared-memory race") && contains(f, "kernel block_sum"),
         "a missing __syncthreads between the reduction's rounds is a race: " + f);

  std::vector<float> r(32);
  for (int i = 0; i < 32; i++) r[i] = (float)i;
  f = fault_of([&] { launch("rotate", rotate, dim3(1), dim3(32), nullptr, r.data(), 3, true); });
  expect(f.empty() && r[0] == 3.0f && r[31] == 2.0f, "rotate with both barriers rotates by 3 (" + f + ")");
  f = fault_of([&] { launch("rotate", rotate, dim3(1), dim3(32), nullptr, r.data(), 3, false); });
  expect(contains(f, "writes element") && contains(f, "read since the last __syncthreads"),
         "a write after another thread's read with no barrier between is a race: " + f);

  f = fault_of([&] { launch("read_unwritten", read_unwritten, dim3(1), dim3(32), nullptr, r.data()); });
  expect(contains(f, "which no thread of this block wrote") && contains(f, "element [0] of a shared float[32]"),
         "reading shared memory no thread wrote is a fault: " + f);

  std::vector<float> o(33);
  f = fault_of([&] { launch("out_of_bounds", out_of_bounds, dim3(1), dim3(32), nullptr, o.data()); });
  expect(f.empty(), "in-bounds 2-D shared indexing runs (" + f + ")");
  f = fault_of([&] { launch("out_of_bounds", out_of_bounds, dim3(1), dim3(33), nullptr, o.data()); });
  expect(contains(f, "index 4 is out of bounds"), "an out-of-bounds shared index is a fault: " + f);

  f = fault_of([&] { launch("divergent_barrier", divergent_barrier, dim3(1), dim3(32), nullptr, o.data()); });
  expect(contains(f, "__syncthreads"), "a __syncthreads half the block skips is a fault: " + f);
  f = fault_of([&] { launch("early_exit", early_exit_then_barrier, dim3(1), dim3(32), nullptr, o.data()); });
  expect(contains(f, "exited"), "a thread returning before a __syncthreads the others reach is a fault: " + f);
}

// --- warp primitives against CUDA's definitions ------------------------------------------------------
// out[t] = the shuffle of value 100 + lane from lane `param` (or by offset) within `width`.
__global__ void shuffles(int* out, int kind, int param, int width) {
  int lane = threadIdx.x % 32, v = 100 + (int)threadIdx.x;
  int r = 0;
  if (kind == 0) r = __shfl_sync(0xffffffffu, v, param, width);
  if (kind == 1) r = __shfl_up_sync(0xffffffffu, v, (unsigned)param, width);
  if (kind == 2) r = __shfl_down_sync(0xffffffffu, v, (unsigned)param, width);
  if (kind == 3) r = __shfl_xor_sync(0xffffffffu, v, param, width);
  out[threadIdx.x] = r;
  (void)lane;
}

// The CUDA Programming Guide's wording, lane by lane (not PTX's formula the emulation uses).
static int expected_shuffle(int kind, int lane, int param, int width) {
  int seg_start = lane / width * width;
  switch (kind) {
    case 0: return 100 + seg_start + param % width;                    // srcLane % width in own segment
    case 1: return 100 + (lane - seg_start >= param ? lane - param : lane);  // below the segment: own value
    case 2: return 100 + (lane - seg_start + param < width ? lane + param : lane);
    default: {
      int src = lane ^ param;  // a later segment is out of reach: own value
      return 100 + (src >= seg_start + width ? lane : src);
    }
  }
}

__global__ void votes(const int* pred, unsigned* out, unsigned mask) {
  int lane = threadIdx.x;
  if (!(mask >> lane & 1)) return;
  unsigned b = __ballot_sync(mask, pred[lane]);
  int any = __any_sync(mask, pred[lane]), all = __all_sync(mask, pred[lane]);
  unsigned sum = __reduce_add_sync(mask, (unsigned)pred[lane] * (unsigned)lane);
  int mn = __reduce_min_sync(mask, pred[lane] ? -lane : lane), mx = __reduce_max_sync(mask, pred[lane] ? -lane : lane);
  out[lane * 6 + 0] = b, out[lane * 6 + 1] = any, out[lane * 6 + 2] = all, out[lane * 6 + 3] = sum;
  out[lane * 6 + 4] = (unsigned)mn, out[lane * 6 + 5] = (unsigned)mx;
}

// The usual warp reduction by butterfly shuffles: every lane ends with the sum.
__global__ void warp_sum(const float* x, float* out) {
  float v = x[threadIdx.x];
  for (int o = 16; o > 0; o /= 2) v += __shfl_xor_sync(0xffffffffu, v, o);
  out[threadIdx.x] = v;
}

__global__ void divergent_shuffle(int* out) {
  int v = (int)threadIdx.x;
  if (threadIdx.x < 16) v = __shfl_xor_sync(0xffffffffu, v, 1);
  else v = __shfl_down_sync(0xffffffffu, v, 1);
  out[threadIdx.x] = v;
}

__global__ void shuffle_outside_mask(int* out) {
  if (threadIdx.x < 16) out[threadIdx.x] = __shfl_sync(0x0000ffffu, (int)threadIdx.x, 20);
}

static void test_warp_primitives() {
  std::vector<int> out(64);
  for (int kind = 0; kind < 4; kind++)
    for (int width : {32, 16, 8, 4, 2, 1})
      for (int param : {0, 1, 3, 5, 16, 31}) {
        if (kind != 0 && kind != 3 && param >= width && param != 0) continue;
        launch("shuffles", shuffles, dim3(1), dim3(64), nullptr, out.data(), kind, param, width);
        int bad = 0;
        for (int t = 0; t < 64; t++) bad += out[t] != expected_shuffle(kind, t % 32, param, width) + t / 32 * 32;
        expect(bad == 0, "shuffle kind " + std::to_string(kind) + " width " + std::to_string(width) + " param " +
                             std::to_string(param) + " matches CUDA's definition (" + std::to_string(bad) + " lanes off)");
      }
  std::vector<float> x(32), s(32);
  float total = 0;
  for (int i = 0; i < 32; i++) x[i] = (float)(i * i % 11), total += x[i];
  launch("warp_sum", warp_sum, dim3(1), dim3(32), nullptr, x.data(), s.data());
  std::vector<float> want(32, total);
  validate_result(s.data(), want.data(), "warp_sum by __shfl_xor_sync", 32, 0, 1);

  std::vector<int> pred(32);
  for (int i = 0; i < 32; i++) pred[i] = (i * 7 + 3) % 5 == 0;
  for (unsigned mask : {0xffffffffu, 0x0000ffffu, 0x80000001u, 0x00f0f000u}) {
    std::vector<unsigned> o(32 * 6, 7u);
    launch("votes", votes, dim3(1), dim3(32), nullptr, pred.data(), o.data(), mask);
    unsigned ballot = 0, sum = 0;
    int mn = 1 << 30, mx = -(1 << 30);
    for (int l = 0; l < 32; l++)
      if (mask >> l & 1) {
        ballot |= (unsigned)pred[l] << l, sum += pred[l] * l;
        int v = pred[l] ? -l : l;
        mn = std::min(mn, v), mx = std::max(mx, v);
      }
    int bad = 0;
    for (int l = 0; l < 32; l++) {
      if (!(mask >> l & 1)) {
        bad += o[l * 6] != 7u;  // lanes outside the mask took no part
        continue;
      }
      bad += o[l * 6] != ballot || o[l * 6 + 1] != (ballot != 0) || o[l * 6 + 2] != (ballot == mask);
      bad += o[l * 6 + 3] != sum || (int)o[l * 6 + 4] != mn || (int)o[l * 6 + 5] != mx;
    }
    char m[16];
    std::snprintf(m, sizeof m, "0x%08x", mask);
    expect(bad == 0, std::string("ballot/any/all/reduce with mask ") + m + " match their definitions");
  }
  std::string f = fault_of([&] { launch("divergent_shuffle", divergent_shuffle, dim3(1), dim3(32), nullptr, out.data()); });
  expect(contains(f, "divergent warp operation"), "lanes of one mask at different shuffles is a fault: " + f);
  f = fault_of([&] { launch("shuffle_outside_mask", shuffle_outside_mask, dim3(1), dim3(32), nullptr, out.data()); });
  expect(contains(f, "not in the mask"), "reading a lane outside the mask is a fault: " + f);
}

// --- tensor-core fragments ------------------------------------------------------------------------------
// D (16x16) = A (16x8, row-major) B (8x16, col-major) + C, staged through shared memory.
__global__ void mma_tile(const float* A, const float* B, const float* C, float* D, int a_offset) {
  using namespace nvcuda;
  __shared__ __align__(32) smem<float[16 * 8 + 8]> as;
  __shared__ __align__(32) smem<float[16 * 16]> cs;
  for (int i = threadIdx.x; i < 16 * 8; i += 32) as[a_offset + i] = wmma::__float_to_tf32(A[i]);
  for (int i = threadIdx.x; i < 16 * 16; i += 32) cs[i] = C[i];
  __syncthreads();
  wmma::fragment<wmma::matrix_a, 16, 16, 8, wmma::precision::tf32, wmma::row_major> a;
  wmma::fragment<wmma::matrix_b, 16, 16, 8, wmma::precision::tf32, wmma::col_major> b;
  wmma::fragment<wmma::accumulator, 16, 16, 8, float> c;
  wmma::load_matrix_sync(a, &as[a_offset], 8);
  wmma::load_matrix_sync(b, B, 8);
  for (int i = 0; i < b.num_elements; i++) b.x[i] = wmma::__float_to_tf32(b.x[i]);
  wmma::load_matrix_sync(c, &cs[0], 16, wmma::mem_row_major);
  wmma::mma_sync(c, a, b, c);
  __syncthreads();  // the loads read cs; the store below rewrites it
  wmma::store_matrix_sync(&cs[0], c, 16, wmma::mem_row_major);
  __syncthreads();
  for (int i = threadIdx.x; i < 256; i += 32) D[i] = cs[i];
}

static float tf32_round(float f) {  // round to nearest, ties away: add half an ulp of TF32, truncate
  uint32_t b;
  std::memcpy(&b, &f, 4);
  b = (b + 0x1000u) & 0xffffe000u;
  std::memcpy(&f, &b, 4);
  return f;
}

static void test_wmma() {
  Rng rng(5);
  std::vector<float> A(128), B(128), C(256), D(256), want(256);
  for (auto& v : A) v = rng.uniform(-2, 2);
  for (auto& v : B) v = rng.uniform(-2, 2);
  for (auto& v : C) v = rng.uniform(-1, 1);
  for (int r = 0; r < 16; r++)
    for (int c = 0; c < 16; c++) {
      float acc = C[r * 16 + c];
      for (int k = 0; k < 8; k++) acc += tf32_round(A[r * 8 + k]) * tf32_round(B[c * 8 + k]);  // B col-major
      want[r * 16 + c] = acc;
    }
  // B is loaded straight from "global" memory: 32-byte aligned as a wmma load needs (an
  // emulated buffer ends at its guard page, so one of 128 floats starts on a 512-byte boundary)
  float* Bd = nullptr;
  cudaMalloc(&Bd, B.size() * sizeof(float));
  cudaMemcpy(Bd, B.data(), B.size() * sizeof(float), cudaMemcpyHostToDevice);
  std::string f = fault_of([&] { launch("mma_tile", mma_tile, dim3(1), dim3(32), nullptr, A.data(), (const float*)Bd, C.data(), D.data(), 0); });
  expect(f.empty(), "mma_tile runs (" + f + ")");
  validate_result(D.data(), want.data(), "wmma 16x16x8 TF32 (exactly as defined)", 256, 0, 1);
  f = fault_of([&] { launch("mma_tile", mma_tile, dim3(1), dim3(32), nullptr, A.data(), (const float*)Bd, C.data(), D.data(), 1); });
  cudaFree(Bd);
  expect(contains(f, "not 32-byte aligned"), "a wmma load from a misaligned pointer is a fault: " + f);
  // TF32 rounding: 1 + 2^-11 is half an ulp (ties away), 1 + 2^-12 below it
  expect(nvcuda::wmma::__float_to_tf32(1.0f + 0x1p-11f) == 1.0f + 0x1p-10f &&
             nvcuda::wmma::__float_to_tf32(1.0f + 0x1p-12f) == 1.0f &&
             nvcuda::wmma::__float_to_tf32(-1.0f - 0x1p-11f) == -1.0f - 0x1p-10f,
         "__float_to_tf32 rounds to nearest, ties away from zero");
}

// --- atomics, launch checks, block order, guard pages --------------------------------------------------------
__global__ void count_and_order(int* counter, int* first_seen) {
  int before = atomicAdd(counter, 1);
  if (threadIdx.x == 0) first_seen[blockIdx.x + blockIdx.y * gridDim.x] = before;
}

__global__ void write_one_past(float* p, int n) { p[n] = 1.0f; }

static void test_grid() {
  int counter = 0;
  std::vector<int> seen(12);
  launch("count_and_order", count_and_order, dim3(4, 3), dim3(8, 2, 2), nullptr, &counter, seen.data());
  expect(counter == 12 * 32, "atomicAdd from every thread of a 4x3 grid of 8x2x2 blocks counts 384");
  bool in_order = true;
  for (int b = 1; b < 12; b++) in_order &= seen[b] > seen[b - 1];
  expect(!in_order, "blocks run in a shuffled order (a kernel must not rely on block order)");
  std::string f = fault_of([&] { launch("count_and_order", count_and_order, dim3(1), dim3(2048), nullptr, &counter, seen.data()); });
  expect(contains(f, "invalid launch configuration"), "a block of 2048 threads is refused: " + f);

  // a write one float past a cudaMalloc'd buffer stops the process, naming the kernel
  int pipe_fd[2];
  if (pipe(pipe_fd) != 0) return;
  pid_t pid = fork();
  if (pid == 0) {
    dup2(pipe_fd[1], 2);
    float* d = nullptr;
    cudaMalloc(&d, 10 * sizeof(float));
    launch("write_one_past", write_one_past, dim3(1), dim3(1), nullptr, d, 10);
    _exit(0);
  }
  close(pipe_fd[1]);
  std::string err;
  char buf[512];
  for (ssize_t n; (n = read(pipe_fd[0], buf, sizeof buf)) > 0;) err.append(buf, (size_t)n);
  close(pipe_fd[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  expect(WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV && contains(err, "kernel write_one_past"),
         "a write past the end of a buffer stops the process naming the kernel: " + err);
}

// --- streams and events ---------------------------------------------------------------------------
__global__ void double_into(float* out, const float* in, int n) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) out[i] = 2 * in[i];
}

// A batch copied on a stream of its own while another computes (the session's prefetch): the
// reader must wait for the copy's event; without the wait the emulation names the race.
static void test_stream_order() {
  cudaStream_t compute = nullptr, copy = nullptr;
  CUDA_CHECK(cudaStreamCreate(&compute));
  CUDA_CHECK(cudaStreamCreateWithFlags(&copy, cudaStreamNonBlocking));
  cudaEvent_t copied = nullptr;
  CUDA_CHECK(cudaEventCreateWithFlags(&copied, cudaEventDisableTiming));
  const int n = 100;
  float *in = nullptr, *out = nullptr;
  CUDA_CHECK(cudaMalloc(&in, n * sizeof(float)));
  CUDA_CHECK(cudaMalloc(&out, n * sizeof(float)));
  std::vector<float> host(n), back(n);
  for (int i = 0; i < n; i++) host[i] = (float)i;

  CUDA_CHECK(cudaMemcpyAsync(in, host.data(), n * sizeof(float), cudaMemcpyHostToDevice, copy));
  CUDA_CHECK(cudaEventRecord(copied, copy));
  expect(std::isnan(in[0]) && std::isnan(in[n - 1]), "a queued copy's destination holds NaNs until the copy runs");
  std::string f = fault_of([&] { launch("double_into", double_into, dim3(1), dim3(128), compute, out, (const float*)in, n); });
  expect(contains(f, "kernel double_into") && contains(f, "has not finished") && contains(f, "cudaStreamWaitEvent"),
         "a kernel reading a copy another stream has not finished is a fault: " + f);
  float* other = nullptr;
  CUDA_CHECK(cudaMalloc(&other, n * sizeof(float)));
  f = fault_of([&] { CUDA_CHECK(cudaMemcpyAsync(other, in, n * sizeof(float), cudaMemcpyDeviceToDevice, compute)); });
  expect(contains(f, "cudaMemcpyAsync") && contains(f, "has not finished"),
         "a device copy reading a copy another stream has not finished is a fault: " + f);
  f = fault_of([&] { CUDA_CHECK(cudaMemcpy(back.data(), out, n * sizeof(float), cudaMemcpyDeviceToHost)); });
  expect(f.empty(), "the legacy default stream does not wait for a non-blocking stream's copy: " + f);

  CUDA_CHECK(cudaStreamWaitEvent(compute, copied, 0));
  launch("double_into", double_into, dim3(1), dim3(128), compute, out, (const float*)in, n);
  CUDA_CHECK(cudaMemcpyAsync(back.data(), out, n * sizeof(float), cudaMemcpyDeviceToHost, compute));
  CUDA_CHECK(cudaStreamSynchronize(compute));
  bool doubled = true;
  for (int i = 0; i < n; i++) doubled &= back[i] == 2.0f * i;
  expect(doubled, "after cudaStreamWaitEvent the kernel reads the copied values");

  // one stream's own order needs no event: its kernel runs after the copy queued before it
  for (int i = 0; i < n; i++) host[i] = -(float)i;
  CUDA_CHECK(cudaMemcpyAsync(in, host.data(), n * sizeof(float), cudaMemcpyHostToDevice, compute));
  launch("double_into", double_into, dim3(1), dim3(128), compute, out, (const float*)in, n);
  CUDA_CHECK(cudaMemcpy(back.data(), out, n * sizeof(float), cudaMemcpyDeviceToHost));
  expect(back[n - 1] == -2.0f * (n - 1), "a kernel follows the copy queued before it on its stream");
  // a copy into memory another stream's queued copy reads is a race too
  CUDA_CHECK(cudaMemcpyAsync(other, in, n * sizeof(float), cudaMemcpyDeviceToDevice, copy));
  f = fault_of([&] { CUDA_CHECK(cudaMemsetAsync(in, 0, n * sizeof(float), compute)); });
  expect(contains(f, "cudaMemsetAsync") && contains(f, "has not finished"),
         "overwriting the source of another stream's queued copy is a fault: " + f);
  CUDA_CHECK(cudaStreamSynchronize(copy));
  CUDA_CHECK(cudaEventDestroy(copied));
  CUDA_CHECK(cudaStreamDestroy(copy));
  CUDA_CHECK(cudaStreamDestroy(compute));
  CUDA_CHECK(cudaFree(in));
  CUDA_CHECK(cudaFree(out));
  CUDA_CHECK(cudaFree(other));
}

// --- graphs --------------------------------------------------------------------------------------
__global__ void scale_and_add(float* x, float m, float a, int n) {  // x = x * m + a
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) x[i] = x[i] * m + a;
}

// A capture records the stream's copies, memsets and kernels in order and runs none of them; a
// graph launch runs them in that order, each time reading what the host put in the copies'
// sources since. Waiting for a capturing stream, or cudaMalloc, fails and spoils the capture.
static void test_graph_capture() {
  cudaStream_t s = nullptr;
  CUDA_CHECK(cudaStreamCreate(&s));
  const int n = 64;
  float *x = nullptr, *step = nullptr, *host = nullptr;
  CUDA_CHECK(cudaMalloc(&x, n * sizeof(float)));
  CUDA_CHECK(cudaMalloc(&step, sizeof(float)));
  CUDA_CHECK(cudaMallocHost(&host, n * sizeof(float)));
  std::vector<float> back(n, -1.0f);
  for (int i = 0; i < n; i++) back[i] = 7.0f;
  CUDA_CHECK(cudaMemcpy(x, back.data(), n * sizeof(float), cudaMemcpyHostToDevice));

  *host = 5.0f;  // the "step value" the recorded work reads, set before each launch
  CUDA_CHECK(cudaStreamBeginCapture(s, cudaStreamCaptureModeGlobal));
  CUDA_CHECK(cudaMemsetAsync(x, 0, n * sizeof(float), s));
  CUDA_CHECK(cudaMemcpyAsync(step, host, sizeof(float), cudaMemcpyHostToDevice, s));
  launch("scale_and_add", scale_and_add, dim3(1), dim3(n), s, x, 2.0f, 1.0f, n);  // 0 * 2 + 1
  launch("scale_and_add", scale_and_add, dim3(1), dim3(n), s, x, 3.0f, 0.0f, n);  // * 3
  launch("double_into", double_into, dim3(1), dim3(n), s, x + 1, (const float*)step, 1);  // x[1] = 2 * step
  cudaGraph_t graph = nullptr;
  CUDA_CHECK(cudaStreamEndCapture(s, &graph));
  expect(x[0] == 7.0f && x[n - 1] == 7.0f && !std::isnan(x[0]), "a capture runs none of the work it records");
  cudaGraphExec_t exec = nullptr;
  CUDA_CHECK(cudaGraphInstantiate(&exec, graph, 0));
  CUDA_CHECK(cudaGraphDestroy(graph));
  for (float value : {5.0f, 8.0f}) {
    *host = value;
    CUDA_CHECK(cudaGraphLaunch(exec, s));
    CUDA_CHECK(cudaStreamSynchronize(s));
    expect(x[0] == 3.0f && x[n - 1] == 3.0f, "a graph replays the memset and the kernels in the recorded order");
    expect(x[1] == 2 * value, "a replayed copy reads its host source as it is at the launch (" + std::to_string(x[1]) + ")");
  }

  // a wait for the capturing stream is refused, as CUDA refuses it, and spoils the capture
  CUDA_CHECK(cudaStreamBeginCapture(s, cudaStreamCaptureModeGlobal));
  launch("scale_and_add", scale_and_add, dim3(1), dim3(n), s, x, 2.0f, 1.0f, n);
  std::string f = fault_of([&] { CUDA_CHECK(cudaStreamSynchronize(s)); });
  expect(contains(f, "not permitted when stream is capturing") && contains(f, "cudaStreamSynchronize"),
         "a synchronize inside a capture is an error: " + f);
  f = fault_of([&] { launch("scale_and_add", scale_and_add, dim3(1), dim3(n), s, x, 2.0f, 1.0f, n); });
  expect(contains(f, "previous error during capture"), "work after the refused call fails: " + f);
  cudaError_t e = cudaStreamEndCapture(s, &graph);
  expect(e == cudaErrorStreamCaptureInvalidated && graph == nullptr, "the spoiled capture gives no graph");
  expect(x[0] == 3.0f, "nothing of the spoiled capture ran");

  // a host read through the legacy stream, and cudaMalloc, are refused during a global capture
  CUDA_CHECK(cudaStreamBeginCapture(s, cudaStreamCaptureModeGlobal));
  f = fault_of([&] { CUDA_CHECK(cudaMemcpy(back.data(), x, n * sizeof(float), cudaMemcpyDeviceToHost)); });
  expect(contains(f, "legacy stream depend on a capturing"), "a blocking host read during a capture is an error: " + f);
  expect(cudaStreamEndCapture(s, &graph) == cudaErrorStreamCaptureInvalidated, "the host read spoils the capture");
  CUDA_CHECK(cudaStreamBeginCapture(s, cudaStreamCaptureModeGlobal));
  float* more = nullptr;
  expect(cudaMalloc(&more, 16) == cudaErrorStreamCaptureUnsupported, "cudaMalloc is refused during a global capture");
  expect(cudaStreamEndCapture(s, &graph) == cudaErrorStreamCaptureInvalidated, "cudaMalloc spoils a global capture");
  CUDA_CHECK(cudaStreamBeginCapture(s, cudaStreamCaptureModeRelaxed));
  CUDA_CHECK(cudaMalloc(&more, 16));  // relaxed mode allows it
  CUDA_CHECK(cudaStreamEndCapture(s, &graph));
  CUDA_CHECK(cudaGraphDestroy(graph));

  CUDA_CHECK(cudaGraphExecDestroy(exec));
  CUDA_CHECK(cudaStreamDestroy(s));
  CUDA_CHECK(cudaFree(x));
  CUDA_CHECK(cudaFree(step));
  CUDA_CHECK(cudaFree(more));
  CUDA_CHECK(cudaFreeHost(host));
}

int main() {
  test_stream_order();
  test_graph_capture();
  test_barriers_and_races();
  test_warp_primitives();
  test_wmma();
  test_grid();
  return finish("test_cuda_emu");
}
