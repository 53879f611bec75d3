// tensor.h: the engine's host tensor. float32 for data, int64 for indices and
// shapes (Reshape's shape input, Gather's indices). Row-major, ONNX order.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace strata {

using Shape = std::vector<int64_t>;

int64_t numel(const Shape& s);
std::string shape_str(const Shape& s);

enum class DType { F32, I64 };

struct Tensor {
  DType dtype = DType::F32;
  Shape shape;
  std::vector<float> f;    // used when dtype == F32
  std::vector<int64_t> i;  // used when dtype == I64

  Tensor() = default;
  Tensor(Shape s, DType t = DType::F32) { reset(std::move(s), t); }
  static Tensor from(Shape s, std::vector<float> v);
  static Tensor from_i64(Shape s, std::vector<int64_t> v);

  // Sets shape and type; keeps the allocation when it is large enough.
  void reset(Shape s, DType t = DType::F32);
  int64_t size() const { return numel(shape); }
  float* data() { return f.data(); }
  const float* data() const { return f.data(); }
  // Values as int64 whatever the dtype (float indices are truncated).
  std::vector<int64_t> as_i64() const;
};

}  // namespace strata
