// tensor.h: the engine's tensor. float32 for data, int64 for indices and shapes (Reshape's
// shape input, Gather's indices). Row-major, ONNX order. Float values live on the host, or in
// a backend's own memory (a GPU's) for a session on such a backend; int64 values always on
// the host (they are read there: shapes, axes, indices).
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace strata {

class Backend;

// One allocation of n floats in a backend's memory, given back to the backend when dropped.
struct DeviceMemory {
  Backend* backend;
  float* p;
  int64_t n;
  DeviceMemory(Backend* backend, int64_t n);
  ~DeviceMemory();
  DeviceMemory(const DeviceMemory&) = delete;
};

using Shape = std::vector<int64_t>;

int64_t numel(const Shape& s);
std::string shape_str(const Shape& s);

enum class DType { F32, I64 };

struct Tensor {
  DType dtype = DType::F32;
  Shape shape;
  std::vector<float> f;    // used when dtype == F32, on the host
  std::vector<int64_t> i;  // used when dtype == I64
  // Set by a session whose backend has its own memory (Backend::host_memory() false): reset()
  // then places float values there, data() points there, and f holds at most a host copy
  // (a graph input's batch, an initializer's value as loaded). A copy shares the memory.
  Backend* device = nullptr;
  std::shared_ptr<DeviceMemory> mem;

  Tensor() = default;
  Tensor(Shape s, DType t = DType::F32) { reset(std::move(s), t); }
  static Tensor from(Shape s, std::vector<float> v);
  static Tensor from_i64(Shape s, std::vector<int64_t> v);

  // Sets shape and type; keeps the allocation when it is large enough.
  void reset(Shape s, DType t = DType::F32);
  int64_t size() const { return numel(shape); }
  bool holds_values() const { return mem || !f.empty() || !i.empty(); }
  // The float values where they live (the device's memory when mem is set).
  float* data() { return mem ? mem->p : f.data(); }
  const float* data() const { return mem ? mem->p : f.data(); }
  // Values as int64 whatever the dtype (float indices are truncated).
  std::vector<int64_t> as_i64() const;
  // The float values on the host (downloaded from the device), and set from the host (uploaded
  // too; the host copy is kept).
  std::vector<float> values() const;
  void assign(std::vector<float> v);
  // A host tensor with the same shape and values.
  Tensor to_host() const;
};

}  // namespace strata
