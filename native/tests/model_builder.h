// model_builder.h: builds small ONNX models in C++ with the onnx protobuf classes,
// so the session tests need no fixture files and no Python.
#pragma once
#include <onnx/onnx_pb.h>

#include <initializer_list>
#include <string>
#include <vector>

#include "core/tensor.h"

namespace strata_test {

struct Attr {
  std::string name;
  onnx::AttributeProto proto;
  static Attr i(const std::string& n, int64_t v) {
    Attr a{n, {}};
    a.proto.set_type(onnx::AttributeProto::INT);
    a.proto.set_i(v);
    return a;
  }
  static Attr f(const std::string& n, float v) {
    Attr a{n, {}};
    a.proto.set_type(onnx::AttributeProto::FLOAT);
    a.proto.set_f(v);
    return a;
  }
  static Attr s(const std::string& n, const std::string& v) {
    Attr a{n, {}};
    a.proto.set_type(onnx::AttributeProto::STRING);
    a.proto.set_s(v);
    return a;
  }
  static Attr ints(const std::string& n, std::vector<int64_t> v) {
    Attr a{n, {}};
    a.proto.set_type(onnx::AttributeProto::INTS);
    for (auto x : v) a.proto.add_ints(x);
    return a;
  }
  static Attr floats(const std::string& n, std::vector<float> v) {
    Attr a{n, {}};
    a.proto.set_type(onnx::AttributeProto::FLOATS);
    for (auto x : v) a.proto.add_floats(x);
    return a;
  }
};

class ModelBuilder {
 public:
  explicit ModelBuilder(int opset = 17) {
    m_.set_ir_version(8);
    auto* o = m_.add_opset_import();
    o->set_domain("");
    o->set_version(opset);
    g_ = m_.mutable_graph();
    g_->set_name("test");
  }
  // A float input; -1 dims are symbolic ("batch").
  ModelBuilder& input(const std::string& name, std::vector<int64_t> shape, int elem = onnx::TensorProto::FLOAT) {
    value_info(g_->add_input(), name, shape, elem);
    return *this;
  }
  ModelBuilder& output(const std::string& name) {
    auto* v = g_->add_output();
    v->set_name(name);
    v->mutable_type()->mutable_tensor_type()->set_elem_type(onnx::TensorProto::FLOAT);
    return *this;
  }
  ModelBuilder& init(const std::string& name, const strata::Tensor& t) {
    auto* p = g_->add_initializer();
    p->set_name(name);
    for (auto d : t.shape) p->add_dims(d);
    if (t.dtype == strata::DType::F32) {
      p->set_data_type(onnx::TensorProto::FLOAT);
      p->set_raw_data(std::string((const char*)t.f.data(), t.f.size() * sizeof(float)));
    } else {
      p->set_data_type(onnx::TensorProto::INT64);
      for (auto v : t.i) p->add_int64_data(v);
    }
    return *this;
  }
  ModelBuilder& node(const std::string& op, std::vector<std::string> in, std::vector<std::string> out,
                     std::vector<Attr> attrs = {}) {
    auto* n = g_->add_node();
    n->set_op_type(op);
    n->set_name(op + "_" + std::to_string(g_->node_size()));
    for (auto& s : in) n->add_input(s);
    for (auto& s : out) n->add_output(s);
    for (auto& a : attrs) {
      auto* p = n->add_attribute();
      *p = a.proto;
      p->set_name(a.name);
    }
    return *this;
  }
  // A node of Strata's own domain (kStrataDomain: the training-only ops).
  ModelBuilder& strata_node(const std::string& op, std::vector<std::string> in, std::vector<std::string> out,
                            std::vector<Attr> attrs = {}) {
    node(op, std::move(in), std::move(out), std::move(attrs));
    g_->mutable_node(g_->node_size() - 1)->set_domain("ai.strata");
    return *this;
  }
  std::string bytes() const { return m_.SerializeAsString(); }
  const onnx::ModelProto& proto() const { return m_; }

 private:
  onnx::ModelProto m_;
  onnx::GraphProto* g_;
  static void value_info(onnx::ValueInfoProto* v, const std::string& name, const std::vector<int64_t>& shape,
                         int elem) {
    v->set_name(name);
    auto* tt = v->mutable_type()->mutable_tensor_type();
    tt->set_elem_type(elem);
    auto* s = tt->mutable_shape();
    for (auto d : shape) {
      auto* dim = s->add_dim();
      if (d < 0) dim->set_dim_param("batch"); else dim->set_dim_value(d);
    }
  }
};

}  // namespace strata_test
