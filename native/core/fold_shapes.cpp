// fold_shapes.cpp: computes the integer subgraphs whose inputs are all constants once, at load
// time (fold_shapes.h). PyTorch's exporter writes F.pad's pads as ConstantOfShape, Concat,
// Reshape, Slice (step -1), Transpose, Reshape and Cast over Constant nodes; the kernels read
// such inputs when they plan, so they must be values by then, not nodes.
#include "fold_shapes.h"

#include <algorithm>
#include <functional>
#include <limits>
#include <set>

#include "check.h"

namespace strata {
namespace {

using Ints = std::vector<int64_t>;
constexpr int64_t kMaxFolded = int64_t(1) << 16;  // a shape computation's values, not data

int64_t axis_in(int64_t a, int64_t rank, const Node& n) {
  int64_t r = a < 0 ? a + rank : a;
  STRATA_CHECK(r >= 0 && r < rank, n.where() << ": axis " << a << " is out of range for rank " << rank);
  return r;
}

Ints strides_of(const Shape& s) {
  Ints st(s.size(), 1);
  for (int k = (int)s.size() - 2; k >= 0; k--) st[k] = st[k + 1] * s[k + 1];
  return st;
}

// out[o] = in[source(o's coordinates)] over out_shape: the gather every layout op below is.
Tensor gather_ints(const Shape& out_shape, const std::function<int64_t(const Ints& coord)>& source, const Tensor& in) {
  Tensor out = Tensor::from_i64(out_shape, Ints(numel(out_shape)));
  Ints coord(out_shape.size(), 0);
  for (int64_t o = 0; o < out.size(); o++) {
    int64_t rest = o;
    for (int k = (int)out_shape.size() - 1; k >= 0; k--) coord[k] = rest % out_shape[k], rest /= out_shape[k];
    out.i[o] = in.i[source(coord)];
  }
  return out;
}

// The values of an optional int64 input (or of the attribute, before the opset made it an input).
Ints ints_of(const Node& n, const std::vector<const Tensor*>& in, size_t k, const std::string& attr, Ints dflt = {}) {
  if (k < in.size() && in[k]) return in[k]->i;
  return n.get_ints(attr, std::move(dflt));
}

Tensor slice(const Node& n, const std::vector<const Tensor*>& in) {
  const Tensor& x = *in[0];
  const int64_t rank = (int64_t)x.shape.size();
  Ints starts = ints_of(n, in, 1, "starts"), ends = ints_of(n, in, 2, "ends"), axes = ints_of(n, in, 3, "axes"),
       steps = ints_of(n, in, 4, "steps");
  if (axes.empty())
    for (size_t k = 0; k < starts.size(); k++) axes.push_back((int64_t)k);
  if (steps.empty()) steps.assign(starts.size(), 1);
  STRATA_CHECK(ends.size() == starts.size() && axes.size() == starts.size() && steps.size() == starts.size(),
               n.where() << ": starts, ends, axes and steps differ in length");
  Shape out_shape = x.shape;
  Ints first(rank, 0), step(rank, 1);
  for (size_t j = 0; j < axes.size(); j++) {
    int64_t a = axis_in(axes[j], rank, n), d = x.shape[a], s = starts[j], e = ends[j], st = steps[j];
    STRATA_CHECK(st != 0, n.where() << ": a step of 0");
    if (s < 0) s += d;
    if (e < 0) e += d;
    // counted as (distance - 1) / |step| + 1, which cannot overflow for any step
    if (st > 0) {
      s = std::clamp<int64_t>(s, 0, d), e = std::clamp<int64_t>(e, 0, d);
      out_shape[a] = e > s ? (e - s - 1) / st + 1 : 0;
    } else {
      s = std::clamp<int64_t>(s, 0, d - 1), e = std::clamp<int64_t>(e, -1, d - 1);
      const int64_t back = st == std::numeric_limits<int64_t>::min() ? std::numeric_limits<int64_t>::max() : -st;
      out_shape[a] = s > e ? (s - e - 1) / back + 1 : 0;
    }
    first[a] = s, step[a] = st;
  }
  Ints st = strides_of(x.shape);
  return gather_ints(out_shape, [&](const Ints& c) {
    int64_t i = 0;
    for (int64_t k = 0; k < rank; k++) i += (first[k] + c[k] * step[k]) * st[k];
    return i;
  }, x);
}

Tensor transpose(const Node& n, const Tensor& x) {
  const size_t rank = x.shape.size();
  Ints perm = n.get_ints("perm");
  if (perm.empty())
    for (size_t k = 0; k < rank; k++) perm.push_back((int64_t)(rank - 1 - k));
  STRATA_CHECK(perm.size() == rank, n.where() << ": perm has " << perm.size() << " axes for rank " << rank);
  Shape out_shape(rank);
  for (size_t k = 0; k < rank; k++) out_shape[k] = x.shape[axis_in(perm[k], (int64_t)rank, n)];
  Ints st = strides_of(x.shape);
  return gather_ints(out_shape, [&](const Ints& c) {
    int64_t i = 0;
    for (size_t k = 0; k < rank; k++) i += c[k] * st[perm[k]];
    return i;
  }, x);
}

Tensor concat(const Node& n, const std::vector<const Tensor*>& in) {
  const Shape& first = in[0]->shape;
  const int64_t axis = axis_in(n.get_int("axis", 0), (int64_t)first.size(), n);
  Shape out_shape = first;
  out_shape[axis] = 0;
  for (const Tensor* t : in) {
    STRATA_CHECK(t && t->shape.size() == first.size(), n.where() << ": inputs of different ranks");
    out_shape[axis] += t->shape[axis];
  }
  int64_t outer = 1, inner = 1;
  for (int64_t k = 0; k < axis; k++) outer *= first[k];
  for (size_t k = axis + 1; k < first.size(); k++) inner *= first[k];
  Ints values;
  for (int64_t o = 0; o < outer; o++)
    for (const Tensor* t : in) {
      for (size_t k = 0; k < first.size(); k++)
        STRATA_CHECK((int64_t)k == axis || t->shape[k] == first[k], n.where() << ": cannot concatenate " << shape_str(first)
                                                                          << " and " << shape_str(t->shape) << " on axis " << axis);
      int64_t len = t->shape[axis] * inner;
      values.insert(values.end(), t->i.begin() + o * len, t->i.begin() + (o + 1) * len);
    }
  return Tensor::from_i64(out_shape, std::move(values));
}

// The new shape of a Reshape, Squeeze or Unsqueeze, whose data is unchanged.
Shape reshaped(const Node& n, const std::vector<const Tensor*>& in) {
  const Shape& x = in[0]->shape;
  const std::string& op = n.op_type;
  if (op == "Reshape") {
    STRATA_CHECK(in.size() >= 2 && in[1], n.where() << ": Reshape needs its shape input");
    Shape o = in[1]->i;
    int64_t known = 1, infer_at = -1;
    for (size_t k = 0; k < o.size(); k++) {
      if (o[k] == 0 && !n.get_int("allowzero", 0) && k < x.size()) o[k] = x[k];
      STRATA_CHECK(o[k] >= -1 && (o[k] != -1 || infer_at < 0),
                   n.where() << ": cannot reshape " << shape_str(x) << " to " << shape_str(in[1]->i));
      if (o[k] > kMaxFolded) return o;  // too large to fold (is_small refuses it)
      if (o[k] == -1) infer_at = (int64_t)k;
      else known = std::min(known * o[k], kMaxFolded + 1);  // both at most 2^16 + 1: no overflow
    }
    if (infer_at >= 0 && known > 0) o[infer_at] = numel(x) / known;
    return o;
  }
  Ints axes = ints_of(n, in, 1, "axes");
  const int64_t out_rank = op == "Squeeze" ? (int64_t)x.size() : (int64_t)(x.size() + axes.size());
  std::vector<bool> marked(out_rank, false);
  for (int64_t a : axes) {
    const int64_t k = axis_in(a, op == "Squeeze" ? (int64_t)x.size() : out_rank, n);
    STRATA_CHECK(!marked[k], n.where() << ": axis " << a << " is repeated");
    marked[k] = true;
  }
  Shape o;
  if (op == "Squeeze") {
    for (size_t k = 0; k < x.size(); k++)
      if (!(axes.empty() ? x[k] == 1 : (bool)marked[k])) o.push_back(x[k]);
  } else {
    for (int64_t k = 0, j = 0; k < out_rank; k++) o.push_back(marked[k] ? 1 : x[j++]);
  }
  return o;
}

// An int64 tensor of a shape computation's size: every product of its dims fits in int64, so
// the folds below need no overflow checks (a file may declare dims the data does not have).
bool is_small(const Shape& shape) {
  if (shape.size() > 8) return false;
  int64_t nonzero = 1;
  for (int64_t d : shape) {
    if (d < 0 || d > kMaxFolded) return false;
    if (d > 0 && (nonzero *= d) > kMaxFolded) return false;
  }
  return true;
}

bool is_small_int(const Tensor* t) { return t && t->dtype == DType::I64 && is_small(t->shape); }

// Folds node n when it is one of the layout ops over int64 constants; false leaves it a node.
bool fold(const Node& n, Graph& g, const std::set<std::string>& graph_outputs) {
  static const char* kOps[] = {"ConstantOfShape", "Concat", "Reshape", "Slice", "Transpose", "Cast",
                               "Squeeze", "Unsqueeze", "Identity"};
  if (!n.domain.empty() || n.outputs.size() != 1 || graph_outputs.count(n.outputs[0]) ||
      std::none_of(std::begin(kOps), std::end(kOps), [&](const char* op) { return n.op_type == op; }))
    return false;
  std::vector<const Tensor*> in;
  for (const std::string& name : n.inputs) {
    if (name.empty()) {
      in.push_back(nullptr);
      continue;
    }
    auto it = g.initializers.find(name);
    if (it == g.initializers.end() || !is_small_int(&it->second)) return false;
    in.push_back(&it->second);
  }
  if (in.empty() || !in[0]) return false;
  const std::string& op = n.op_type;
  Tensor out;
  if (op == "ConstantOfShape") {
    // int64 fills only (a float one would be a new weight-like initializer), of a small size
    if (!n.has("value") || n.attrs.at("value").t.dtype != DType::I64 || n.attrs.at("value").t.i.size() != 1) return false;
    Shape shape = in[0]->i;
    int64_t count = 1;
    for (int64_t d : shape) {
      if (d < 0 || d > kMaxFolded || (count *= d) > kMaxFolded) return false;
    }
    out = Tensor::from_i64(shape, Ints(count, n.attrs.at("value").t.i[0]));
  } else if (op == "Concat") {
    out = concat(n, in);
  } else if (op == "Slice") {
    out = slice(n, in);
  } else if (op == "Transpose") {
    out = transpose(n, *in[0]);
  } else if (op == "Cast" || op == "Identity") {
    // to int32 or int64 (ONNX's 6, 7) the values stay as they are; other targets are the kernels' business
    if (op == "Cast" && n.get_int("to", 0) != 6 && n.get_int("to", 0) != 7) return false;
    out = *in[0];
  } else {
    Shape shape = reshaped(n, in);
    if (!is_small(shape)) return false;  // not a shape computation: the kernel's checks judge it
    STRATA_CHECK(numel(shape) == in[0]->size(), n.where() << ": cannot reshape " << shape_str(in[0]->shape) << " to "
                                                          << shape_str(shape));
    out = Tensor::from_i64(shape, in[0]->i);
  }
  g.initializers[n.outputs[0]] = std::move(out);
  return true;
}

}  // namespace

void fold_integer_constants(Graph& g) {
  std::set<std::string> graph_outputs;
  for (const ValueInfo& v : g.outputs) graph_outputs.insert(v.name);
  std::vector<Node> kept;
  for (Node& n : g.nodes)
    if (!fold(n, g, graph_outputs)) kept.push_back(std::move(n));
  g.nodes = std::move(kept);
}

}  // namespace strata
