// kernel.h: one OpKernel per graph node. It parses the node's attributes once,
// infers output shapes, and runs forward and backward through a Backend.
//
// Gradient contract, as in the op headers: a kernel writes (=) the grads of the
// inputs for which accumulates(i) is false and adds (+=) into those for which it
// is true (the parameter-like inputs: Conv's weight and bias, Gemm's B and C,
// MatMul's B, BatchNormalization's scale and bias, Gather's table). The executor
// zeroes += targets before their first writer, and gives = writers a scratch
// buffer when a value already has a gradient from another consumer.
#pragma once
#include <memory>
#include <vector>

#include "backend.h"
#include "graph.h"

namespace strata {

struct KernelContext {
  Backend* be = nullptr;
  bool training = false;  // Dropout masks and BatchNormalization batch statistics
  bool update_statistics = true;  // training: BatchNormalization moves its moving mean/var
                                  // (a thread probe times steps that must leave them be)
  uint64_t seed = 0;      // differs per node and per step (Dropout)
};

using Ins = std::vector<Tensor*>;         // null for omitted optional inputs
using Outs = std::vector<Tensor*>;        // null for outputs nobody reads
using Grads = std::vector<Tensor*>;       // null where no grad is wanted

class OpKernel {
 public:
  explicit OpKernel(const Node& n) : node(n) {}
  virtual ~OpKernel() = default;
  // Sets each output's shape and dtype. Inputs always have shapes; initializers and
  // Constants also have values (Reshape's shape, ReduceMean's axes).
  virtual void infer(const Ins& in, Outs& out) = 0;
  virtual void forward(KernelContext& ctx, const Ins& in, Outs& out) = 0;
  // dout is the gradient of output 0 (the only output that carries gradients, but see grad_outputs).
  virtual void backward(KernelContext& ctx, const Ins& in, const Outs& out, const Tensor& dout, Grads& din);
  // How many leading outputs carry gradients: more than one for the recurrent ops (Y, Y_h, Y_c,
  // any of which a model may read), which override backward_outputs. douts[k] is output k's
  // grad, null where it got none this step; the session calls it when any of them got one.
  virtual int grad_outputs() const { return 1; }
  virtual void backward_outputs(KernelContext& ctx, const Ins& in, const Outs& out,
                                const std::vector<const Tensor*>& douts, Grads& din) {
    backward(ctx, in, out, *douts[0], din);
  }
  virtual bool accumulates(int input) const { return false; }
  virtual bool differentiable(int input) const { return true; }
  // Whether input i may be an int64 tensor (indices, shapes, axes); float otherwise.
  virtual bool accepts_int(int input) const { return false; }
  // How many leading inputs must be present (the session checks before infer).
  virtual int required_inputs() const { return 1; }
  // Asks the kernel to apply Relu to its output 0 itself (the session then drops the
  // Relu node that was its only reader). Returns false when the kernel cannot.
  virtual bool fuse_relu() { return false; }
  // A max pooling right after a fused Relu can apply the Relu's backward to its own
  // (4x smaller) output grad instead: the window's maximum is > 0 exactly where the
  // routed-to element is. absorb_input_relu() asks the reader (true: it will), and
  // skip_relu_backward() then tells the writer to leave it out.
  virtual bool absorb_input_relu() { return false; }
  virtual void skip_relu_backward() {}
  // Asks the kernel to clamp its output 0 to [lo, hi] itself, as fuse_relu (Session::fuse_clips:
  // a Clip with constant bounds, ReLU6). Returns false when the kernel cannot.
  virtual bool fuse_clip(float lo, float hi) { (void)lo, (void)hi; return false; }
  // Asks a matrix product to read its input 0, of any rank, as (rows, the rest) in its
  // memory order (Session::fold_flattens: Keras's Transpose to NHWC + Flatten before a
  // Dense then never run; its weight's rows follow that order). False: it cannot.
  virtual bool read_flattened() { return false; }
  // A loss the node adds beside the graph's losses (Keras's layer losses: ActivityRegularization),
  // as its last forward computed it; the session adds it to the step's loss. Its gradient is the
  // node's own backward's business.
  virtual double penalty() const { return 0; }

  // oneDNN's blocked layout (nChw16c or nChw8c: channels in blocks innermost) for the 4-D
  // activations that flow between kernels able to use it, so that no reorder runs at
  // each call boundary. The session decides per value after infer(), only on a
  // backend whose channel_block() is set, and tells each kernel the layout of its
  // input 0 and output 0 (other inputs and outputs are always plain NCHW/row-major).
  enum BlockedIO { kReadsBlocked = 1, kWritesBlocked = 2, kSameLayout = 4 };  // kSameLayout: in 0 and out 0 agree
  virtual int blocked_io() const { return 0; }
  virtual void set_blocked(bool in0, bool out0) { (void)in0, (void)out0; }

  const Node node;
};

// A kernel's scratch tensor, in the memory `like` lives in (the host, or the device of a
// session on a GPU: Tensor::device).
inline void reset_beside(Tensor& scratch, const Tensor& like, Shape s) {
  scratch.device = like.device;
  scratch.reset(std::move(s));
}

// out = in for a kernel that moves data unchanged (Identity, Reshape, a float Cast): int64
// values on the host, float values where they live (a host vector copy keeps out's capacity).
inline void copy_values(KernelContext& ctx, const Tensor& in, Tensor& out) {
  if (in.dtype == DType::I64) out.i = in.i;
  else if (out.mem) ctx.be->copy(out.data(), in.data(), in.size());
  else out.f = in.f;
}

// Creates the kernel for a node or throws naming the op and the node.
std::unique_ptr<OpKernel> make_kernel(const Node& n, int64_t opset);
// The op types make_kernel knows.
std::vector<std::string> supported_ops();
// A Conv kernel and a MaxPool kernel that alone reads its output, as one kernel
// (Session::fuse_conv_pools; the Relu fused into the Conv, if any, comes along). Null,
// both left as they are, when they are not that pair.
std::unique_ptr<OpKernel> fuse_conv_maxpool(std::unique_ptr<OpKernel>& conv, std::unique_ptr<OpKernel>& pool);
// A Conv kernel's forward with its output clamped to [lo, hi] (a Clip the session folds into it
// in inference passes: Session::fold_batchnorms); throws for any other kernel.
void conv_forward_clamped(OpKernel& conv, KernelContext& ctx, const Ins& in, Outs& out, float lo, float hi);

}  // namespace strata
