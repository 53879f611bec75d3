// kernels.cpp: the op registry (one line per family) and the default backward.
#include "../check.h"
#include "../kernel.h"

namespace strata {

std::unique_ptr<OpKernel> make_nn_kernel(const Node& n);
std::unique_ptr<OpKernel> make_elementwise_kernel(const Node& n, int64_t opset);
std::unique_ptr<OpKernel> make_strata_kernel(const Node& n);
std::unique_ptr<OpKernel> make_augment_kernel(const Node& n);
std::unique_ptr<OpKernel> make_shape_kernel(const Node& n);
std::unique_ptr<OpKernel> make_recurrent_kernel(const Node& n);
std::unique_ptr<OpKernel> make_resize_kernel(const Node& n, int64_t opset);

void OpKernel::backward(KernelContext&, const Ins&, const Outs&, const Tensor&, Grads&) {
  STRATA_FAIL(node.where() << " has no backward");
}

std::vector<std::string> supported_ops() {
  return {"Conv", "ConvTranspose", "MaxPool", "AveragePool", "GlobalAveragePool", "GlobalMaxPool", "Gemm", "MatMul", "BatchNormalization",
          "Relu", "LeakyRelu", "Elu", "Selu", "Sigmoid", "Tanh", "Gelu", "Erf", "Clip", "ThresholdedRelu", "Softplus", "HardSigmoid", "Sqrt", "PRelu", "Pad", "Softmax", "Add", "Sub", "Mul", "Div", "Neg", "Expand",
          "Sum", "Cast",
          "Dropout", "Identity", "Flatten", "Reshape", "Squeeze", "Unsqueeze", "Transpose", "Concat", "Gather",
          "ReduceMean", "Constant", "LSTM", "GRU", "RNN", "Slice", "LogSoftmax", "LayerNormalization", "Resize", "Max", "Min", "ReduceSumSquare"};
}

std::unique_ptr<OpKernel> make_kernel(const Node& n, int64_t opset) {
  if (n.domain == kStrataDomain) {
    if (auto k = make_strata_kernel(n)) return k;
    if (auto k = make_augment_kernel(n)) return k;
    STRATA_FAIL(n.where() << ": op '" << n.op_type << "' is not one of Strata's own (" << kStrataDomain
                          << "): GaussianNoise, GaussianDropout, SpatialDropout, ActivityRegularization, RandomFlip, RandomContrast, RandomAffine");
  }
  if (auto k = make_nn_kernel(n)) return k;
  if (auto k = make_elementwise_kernel(n, opset)) return k;
  if (auto k = make_shape_kernel(n)) return k;
  if (auto k = make_recurrent_kernel(n)) return k;
  if (auto k = make_resize_kernel(n, opset)) return k;
  std::string known;
  for (auto& o : supported_ops()) known += " " + o;
  STRATA_FAIL(n.where() << ": op '" << n.op_type << "' is not supported by the Strata engine; supported:" << known);
}

}  // namespace strata
