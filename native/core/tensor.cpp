#include "tensor.h"

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

void Tensor::reset(Shape s, DType t) {
  dtype = t;
  shape = std::move(s);
  if (t == DType::F32) f.resize(numel(shape)); else i.resize(numel(shape));
}

std::vector<int64_t> Tensor::as_i64() const {
  if (dtype == DType::I64) return i;
  std::vector<int64_t> r(f.size());
  for (size_t k = 0; k < f.size(); k++) r[k] = (int64_t)f[k];
  return r;
}

}  // namespace strata
