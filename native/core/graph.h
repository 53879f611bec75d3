// graph.h: an ONNX model decoded into the engine's own structures. Reading uses
// the onnx_proto library (Debian's libonnx-dev), so no hand-written protobuf.
#pragma once
#include <map>
#include <string>
#include <vector>

#include "tensor.h"

namespace strata {

struct Attribute {
  enum Kind { Int, Float, String, Ints, Floats, Strings, TensorValue, Other } kind = Other;
  int64_t i = 0;
  float f = 0;
  std::string s;
  std::vector<int64_t> ints;
  std::vector<float> floats;
  std::vector<std::string> strings;  // LSTM's activations
  Tensor t;
};

// The domain of Strata's own ops: the training-only layers (GaussianNoise, GaussianDropout,
// SpatialDropout, ActivityRegularization) the translator writes for the engine only.
inline constexpr char kStrataDomain[] = "ai.strata";

struct Node {
  std::string op_type, name;
  std::string domain;  // "" (the default ONNX domain) or kStrataDomain
  std::vector<std::string> inputs, outputs;  // "" marks an omitted optional input
  std::map<std::string, Attribute> attrs;

  bool has(const std::string& a) const { return attrs.count(a) > 0; }
  int64_t get_int(const std::string& a, int64_t dflt) const;
  float get_float(const std::string& a, float dflt) const;
  std::string get_string(const std::string& a, const std::string& dflt) const;
  std::vector<int64_t> get_ints(const std::string& a, std::vector<int64_t> dflt = {}) const;
  // "Conv node 'conv2d_1'", for error messages
  std::string where() const;
};

struct ValueInfo {
  std::string name;
  Shape shape;  // -1 where the dimension is symbolic (the batch)
};

struct Graph {
  std::vector<Node> nodes;                      // topologically sorted, as ONNX requires
  std::map<std::string, Tensor> initializers;   // weights, plus Constant nodes folded in
  std::vector<ValueInfo> inputs;                // graph inputs that are not initializers
  std::vector<ValueInfo> outputs;
  int64_t opset = 0;                            // default-domain opset version
};

Graph load_onnx(const void* bytes, size_t size);
Graph load_onnx_file(const std::string& path);

// A serialized TensorProto (the test_data_set_*/input_*.pb files) to a Tensor.
Tensor load_tensor_proto(const void* bytes, size_t size, std::string* name = nullptr);
Tensor load_tensor_file(const std::string& path, std::string* name = nullptr);

std::string read_file(const std::string& path);

}  // namespace strata
