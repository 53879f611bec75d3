// graph.cpp: ModelProto/TensorProto -> Graph/Tensor.
#include "graph.h"

#include <onnx/onnx_pb.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <fstream>
#include <set>
#include <sstream>

#include "check.h"
#include "fold_shapes.h"

namespace strata {

int64_t Node::get_int(const std::string& a, int64_t dflt) const {
  auto it = attrs.find(a);
  return it == attrs.end() ? dflt : it->second.i;
}
float Node::get_float(const std::string& a, float dflt) const {
  auto it = attrs.find(a);
  return it == attrs.end() ? dflt : it->second.f;
}
std::string Node::get_string(const std::string& a, const std::string& dflt) const {
  auto it = attrs.find(a);
  return it == attrs.end() ? dflt : it->second.s;
}
std::vector<int64_t> Node::get_ints(const std::string& a, std::vector<int64_t> dflt) const {
  auto it = attrs.find(a);
  return it == attrs.end() ? dflt : it->second.ints;
}
std::string Node::where() const { return op_type + " node '" + name + "'"; }

std::string read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  STRATA_CHECK(f, "cannot open '" << path << "'");
  std::ostringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

static Tensor from_proto(const onnx::TensorProto& p) {
  Shape shape(p.dims().begin(), p.dims().end());
  for (int64_t d : shape) STRATA_CHECK(d >= 0, "tensor '" << p.name() << "' has a negative dimension " << d);
  int64_t n = numel(shape);
  // Sizes are checked before anything is allocated or read: protobuf's accessors do
  // not check bounds, and a mistyped file can declare any shape.
  auto typed = [&](int have) {
    STRATA_CHECK(have == n, "tensor '" << p.name() << "' of shape " << shape_str(shape) << " holds " << have
                                       << " values");
  };
  auto check_raw = [&](size_t bytes, size_t width) {
    STRATA_CHECK(bytes == (size_t)n * width, "tensor '" << p.name() << "' of shape " << shape_str(shape) << " has "
                                                        << bytes << " bytes of raw data");
  };
  STRATA_CHECK(p.data_location() != onnx::TensorProto::EXTERNAL,
               "tensor '" << p.name() << "' keeps its data in an external file, which Strata does not read yet");
  const std::string& raw = p.raw_data();
  bool has_raw = p.has_raw_data();
  Tensor t;
  switch (p.data_type()) {
    case onnx::TensorProto::FLOAT:
      if (has_raw) check_raw(raw.size(), 4);
      else typed(p.float_data_size());
      t.reset(shape);
      if (has_raw && n) std::memcpy(t.f.data(), raw.data(), raw.size());  // little-endian, as every target
      else for (int64_t k = 0; k < n; k++) t.f[k] = p.float_data(k);
      break;
    case onnx::TensorProto::DOUBLE: {
      if (has_raw) check_raw(raw.size(), 8);
      else typed(p.double_data_size());
      t.reset(shape);
      for (int64_t k = 0; k < n; k++) {
        double v;
        if (has_raw) std::memcpy(&v, raw.data() + 8 * k, 8); else v = p.double_data(k);
        t.f[k] = (float)v;
      }
      break;
    }
    case onnx::TensorProto::INT64:
      if (has_raw) check_raw(raw.size(), 8);
      else typed(p.int64_data_size());
      t.reset(shape, DType::I64);
      if (has_raw && n) std::memcpy(t.i.data(), raw.data(), raw.size());
      else for (int64_t k = 0; k < n; k++) t.i[k] = p.int64_data(k);
      break;
    case onnx::TensorProto::INT32:
    case onnx::TensorProto::BOOL:
    case onnx::TensorProto::UINT8:
    case onnx::TensorProto::INT8: {
      size_t w = p.data_type() == onnx::TensorProto::INT32 ? 4 : 1;
      if (has_raw) check_raw(raw.size(), w);
      else typed(p.int32_data_size());
      t.reset(shape, DType::I64);
      for (int64_t k = 0; k < n; k++) {
        if (!has_raw) t.i[k] = p.int32_data(k);
        else if (w == 4) { int32_t v; std::memcpy(&v, raw.data() + 4 * k, 4); t.i[k] = v; }
        else t.i[k] = p.data_type() == onnx::TensorProto::INT8 ? (int8_t)raw[k] : (uint8_t)raw[k];
      }
      break;
    }
    default:
      STRATA_FAIL("tensor '" << p.name() << "' has ONNX data type " << p.data_type()
                             << ", which Strata does not support (float, double and integer types only)");
  }
  return t;
}

// A float attribute's value as an integer, for readers that take either: truncated, and
// saturated where it is out of int64's range (converting those is undefined behaviour; a file
// can hold any float: libFuzzer found 1.6e33), NaN as 0.
static int64_t float_as_int(float f) {
  if (std::isnan(f)) return 0;
  if (f >= 9.2233720368547758e18f) return std::numeric_limits<int64_t>::max();
  if (f < -9.2233720368547758e18f) return std::numeric_limits<int64_t>::min();
  return (int64_t)f;
}

static Attribute from_proto(const onnx::AttributeProto& a) {
  Attribute r;
  switch (a.type()) {
    case onnx::AttributeProto::INT: r.kind = Attribute::Int; r.i = a.i(); r.f = (float)a.i(); break;
    case onnx::AttributeProto::FLOAT: r.kind = Attribute::Float; r.f = a.f(); r.i = float_as_int(a.f()); break;
    case onnx::AttributeProto::STRING: r.kind = Attribute::String; r.s = a.s(); break;
    case onnx::AttributeProto::INTS: r.kind = Attribute::Ints; r.ints.assign(a.ints().begin(), a.ints().end()); break;
    case onnx::AttributeProto::FLOATS:
      r.kind = Attribute::Floats;
      r.floats.assign(a.floats().begin(), a.floats().end());
      break;
    case onnx::AttributeProto::STRINGS: r.kind = Attribute::Strings; r.strings.assign(a.strings().begin(), a.strings().end()); break;
    case onnx::AttributeProto::TENSOR: r.kind = Attribute::TensorValue; r.t = from_proto(a.t()); break;
    default: r.kind = Attribute::Other; break;
  }
  return r;
}

static ValueInfo from_proto(const onnx::ValueInfoProto& v) {
  ValueInfo r{v.name(), {}};
  if (v.type().has_tensor_type() && v.type().tensor_type().has_shape())
    for (auto& d : v.type().tensor_type().shape().dim()) r.shape.push_back(d.has_dim_value() ? d.dim_value() : -1);
  return r;
}

Graph load_onnx(const void* bytes, size_t size) {
  onnx::ModelProto m;
  STRATA_CHECK(size <= (size_t)INT32_MAX && m.ParseFromArray(bytes, (int)size),
               "these " << size << " bytes are not an ONNX model (protobuf parse failed)");
  Graph g;
  for (auto& o : m.opset_import())
    if (o.domain().empty() || o.domain() == "ai.onnx") g.opset = o.version();
  const onnx::GraphProto& gp = m.graph();
  for (auto& t : gp.initializer()) g.initializers[t.name()] = from_proto(t);
  for (auto& v : gp.input())
    if (!g.initializers.count(v.name())) g.inputs.push_back(from_proto(v));
  for (auto& v : gp.output()) g.outputs.push_back(from_proto(v));
  int unnamed = 0;
  for (auto& np : gp.node()) {
    Node n;
    n.op_type = np.op_type();
    n.name = np.name().empty() ? np.op_type() + "_" + std::to_string(unnamed++) : np.name();
    STRATA_CHECK(np.domain().empty() || np.domain() == "ai.onnx" || np.domain() == kStrataDomain,
                 n.where() << " is in domain '" << np.domain() << "'; Strata runs the default ONNX domain (and its own, "
                           << kStrataDomain << ") only");
    if (np.domain() == kStrataDomain) n.domain = kStrataDomain;
    n.inputs.assign(np.input().begin(), np.input().end());
    n.outputs.assign(np.output().begin(), np.output().end());
    for (auto& a : np.attribute()) n.attrs[a.name()] = from_proto(a);
    if (n.op_type == "Constant") {  // fold into the initializers (never trainable)
      STRATA_CHECK(n.has("value"), n.where() << " has no 'value' attribute (only tensor constants are supported)");
      g.initializers[n.outputs[0]] = n.attrs["value"].t;
      continue;
    }
    g.nodes.push_back(std::move(n));
  }
  fold_integer_constants(g);
  return g;
}

Graph load_onnx_file(const std::string& path) {
  std::string b = read_file(path);
  try {
    return load_onnx(b.data(), b.size());
  } catch (const Error& e) {
    throw Error("'" + path + "': " + e.what(), e.source());
  }
}

Tensor load_tensor_proto(const void* bytes, size_t size, std::string* name) {
  onnx::TensorProto p;
  STRATA_CHECK(p.ParseFromArray(bytes, (int)size), "these " << size << " bytes are not an ONNX TensorProto");
  if (name) *name = p.name();
  return from_proto(p);
}

Tensor load_tensor_file(const std::string& path, std::string* name) {
  std::string b = read_file(path);
  return load_tensor_proto(b.data(), b.size(), name);
}

}  // namespace strata
