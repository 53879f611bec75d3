#include "tensor.h"

#include "backend.h"
#include "check.h"

namespace strata {

// Shapes come from files, so a corrupt model can ask for anything: negative or
// overflowing sizes throw here, before anything is allocated.
int64_t numel(const Shape& s) {
  int64_t n = 1;
  for (int64_t d : s) {
    STRATA_CHECK(d >= 0, "shape " << shape_str(s) << " has a negative dimension");
    STRATA_CHECK(d == 0 || n <= (int64_t(1) << 36) / d, "shape " << shape_str(s) << " is too large");
    n *= d;
  }
  return n;
}

std::string shape_str(const Shape& s) {
  std::string r = "[";
  for (size_t k = 0; k < s.size(); k++) r += (k ? "," : "") + std::to_string(s[k]);
  return r + "]";
}

Tensor Tensor::from(Shape s, std::vector<float> v) {
  STRATA_CHECK((int64_t)v.size() == numel(s), "tensor of shape " << shape_str(s) << " given " << v.size() << " values");
  Tensor t;
  t.shape = std::move(s);
  t.f = std::move(v);
  return t;
}

Tensor Tensor::from_i64(Shape s, std::vector<int64_t> v) {
  STRATA_CHECK((int64_t)v.size() == numel(s), "tensor of shape " << shape_str(s) << " given " << v.size() << " values");
  Tensor t;
  t.dtype = DType::I64;
  t.shape = std::move(s);
  t.i = std::move(v);
  return t;
}

DeviceMemory::DeviceMemory(Backend* b, int64_t count) : backend(b), p(b->alloc(count)), n(count) {}
DeviceMemory::~DeviceMemory() { backend->free(p); }

void Tensor::reset(Shape s, DType t) {
  dtype = t;
  shape = std::move(s);
  int64_t n = numel(shape);
  if (t == DType::I64) i.resize(n);
  else if (!device) f.resize(n);
  else if (!mem || mem->n < n) mem = std::make_shared<DeviceMemory>(device, n);
}

std::vector<int64_t> Tensor::as_i64() const {
  if (dtype == DType::I64) return i;
  std::vector<float> host = (int64_t)f.size() == size() ? std::vector<float>() : values();
  const std::vector<float>& v = host.empty() ? f : host;
  std::vector<int64_t> r(v.size());
  for (size_t k = 0; k < v.size(); k++) r[k] = (int64_t)v[k];
  return r;
}

std::vector<float> Tensor::values() const {
  if (!mem) return f;
  std::vector<float> h((size_t)size());
  if (!h.empty()) device->download(h.data(), mem->p, size());
  return h;
}

void Tensor::assign(std::vector<float> v) {
  STRATA_CHECK((int64_t)v.size() == size(), "tensor of shape " << shape_str(shape) << " given " << v.size() << " values");
  if (device && dtype == DType::F32) {
    if (!mem || mem->n < size()) mem = std::make_shared<DeviceMemory>(device, size());
    if (!v.empty()) device->upload(mem->p, v.data(), size());
  }
  f = std::move(v);
}

Tensor Tensor::to_host() const {
  Tensor t;
  t.dtype = dtype;
  t.shape = shape;
  t.i = i;
  if (dtype == DType::F32) t.f = values();
  return t;
}

}  // namespace strata
