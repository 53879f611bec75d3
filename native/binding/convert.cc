// convert.cc: see convert.h.
#include "convert.h"

#include <cmath>

#include "core/threads.h"

namespace strata_napi {

namespace {

[[noreturn]] void ThrowType(Napi::Env env, const std::string& message) {
  throw Napi::TypeError::New(env, message);
}

double NumberField(const Napi::Object& object, const char* key, double fallback, const std::string& what) {
  Napi::Value value = object.Get(key);
  if (value.IsUndefined() || value.IsNull()) return fallback;
  if (!value.IsNumber()) ThrowType(object.Env(), what + "." + key + " must be a number");
  return value.As<Napi::Number>().DoubleValue();
}

bool BoolField(const Napi::Object& object, const char* key, bool fallback, const std::string& what) {
  Napi::Value value = object.Get(key);
  if (value.IsUndefined() || value.IsNull()) return fallback;
  if (!value.IsBoolean()) ThrowType(object.Env(), what + "." + key + " must be true or false");
  return value.As<Napi::Boolean>().Value();
}

// An integer field in [lo, hi]: a TypeError when it is not a number, a RangeError naming the
// valid range (`range`, in words) when it is not a whole number in it.
double IntegerField(const Napi::Object& object, const char* key, double fallback, double lo, double hi, const std::string& range) {
  Napi::Value value = object.Get(key);
  if (value.IsUndefined() || value.IsNull()) return fallback;
  const std::string what = std::string("description.") + key + " must be " + range;
  if (!value.IsNumber()) ThrowType(object.Env(), what);
  double n = value.As<Napi::Number>().DoubleValue();
  if (!(std::floor(n) == n && n >= lo && n <= hi)) {
    throw Napi::RangeError::New(object.Env(), what + ", got " + value.ToString().Utf8Value());
  }
  return n;
}

std::string StringField(const Napi::Object& object, const char* key, const std::string& fallback, const std::string& what) {
  Napi::Value value = object.Get(key);
  if (value.IsUndefined() || value.IsNull()) return fallback;
  if (!value.IsString()) ThrowType(object.Env(), what + "." + key + " must be a string");
  return value.As<Napi::String>().Utf8Value();
}

}  // namespace

strata::Tensor ToTensor(const Napi::Value& value, const std::string& what, bool ints_as_float) {
  Napi::Env env = value.Env();
  if (!value.IsObject()) ThrowType(env, what + ": expected a tensor {shape: number[], data: Float32Array}");
  Napi::Object object = value.As<Napi::Object>();
  Napi::Value shapeValue = object.Get("shape");
  Napi::Value dataValue = object.Get("data");
  if (!shapeValue.IsArray() || !dataValue.IsTypedArray()) ThrowType(env, what + ": expected a tensor {shape: number[], data: Float32Array}");
  Napi::Array shapeArray = shapeValue.As<Napi::Array>();
  strata::Shape shape;
  for (uint32_t i = 0; i < shapeArray.Length(); i++) {
    Napi::Value dim = shapeArray.Get(i);
    if (!dim.IsNumber() || dim.As<Napi::Number>().Int64Value() < 0) ThrowType(env, what + ": shape must hold non-negative integers");
    shape.push_back(dim.As<Napi::Number>().Int64Value());
  }
  Napi::TypedArray typed = dataValue.As<Napi::TypedArray>();
  const size_t n = typed.ElementLength();
  if (static_cast<int64_t>(n) != strata::numel(shape)) {
    ThrowType(env, what + ": data has " + std::to_string(n) + " elements, shape needs " + std::to_string(strata::numel(shape)));
  }
  switch (typed.TypedArrayType()) {
    case napi_float32_array: {
      const float* data = typed.As<Napi::Float32Array>().Data();
      return strata::Tensor::from(shape, std::vector<float>(data, data + n));
    }
    case napi_int32_array: {  // class ids and token ids
      const int32_t* data = typed.As<Napi::Int32Array>().Data();
      if (ints_as_float) return strata::Tensor::from(shape, std::vector<float>(data, data + n));
      return strata::Tensor::from_i64(shape, std::vector<int64_t>(data, data + n));
    }
    case napi_bigint64_array: {
      const int64_t* data = reinterpret_cast<const int64_t*>(typed.As<Napi::TypedArrayOf<int64_t>>().Data());
      if (ints_as_float) return strata::Tensor::from(shape, std::vector<float>(data, data + n));
      return strata::Tensor::from_i64(shape, std::vector<int64_t>(data, data + n));
    }
    default:
      ThrowType(env, what + ": data must be a Float32Array, Int32Array or BigInt64Array");
  }
}

std::vector<strata::Tensor> ToTensors(const Napi::Value& value, const std::string& what, bool ints_as_float) {
  if (!value.IsArray()) ThrowType(value.Env(), what + ": expected an array of tensors");
  Napi::Array array = value.As<Napi::Array>();
  std::vector<strata::Tensor> tensors;
  for (uint32_t i = 0; i < array.Length(); i++) tensors.push_back(ToTensor(array.Get(i), what + "[" + std::to_string(i) + "]", ints_as_float));
  return tensors;
}

Napi::Object FromTensor(Napi::Env env, const strata::Tensor& tensor) {
  Napi::Object object = Napi::Object::New(env);
  Napi::Array shape = Napi::Array::New(env, tensor.shape.size());
  for (size_t i = 0; i < tensor.shape.size(); i++) shape.Set(i, Napi::Number::New(env, static_cast<double>(tensor.shape[i])));
  object.Set("shape", shape);
  const size_t n = static_cast<size_t>(tensor.size());
  Napi::Float32Array data = Napi::Float32Array::New(env, n);
  if (tensor.dtype == strata::DType::F32) {
    std::copy(tensor.f.begin(), tensor.f.begin() + n, data.Data());
  } else {
    for (size_t i = 0; i < n; i++) data[i] = static_cast<float>(tensor.i[i]);
  }
  object.Set("data", data);
  return object;
}

Napi::Array FromTensors(Napi::Env env, const std::vector<strata::Tensor>& tensors) {
  Napi::Array array = Napi::Array::New(env, tensors.size());
  for (size_t i = 0; i < tensors.size(); i++) array.Set(i, FromTensor(env, tensors[i]));
  return array;
}

// A loss's metrics: absent, or an array of losses.h's metric names.
static std::vector<strata::MetricKind> MetricsField(const Napi::Object& loss, const std::string& what) {
  std::vector<strata::MetricKind> kinds;
  Napi::Value value = loss.Get("metrics");
  if (value.IsUndefined() || value.IsNull()) return kinds;
  const std::string form = what + ".metrics must be an array of metric names (binary_accuracy, mean_absolute_error, ...)";
  if (!value.IsArray()) ThrowType(loss.Env(), form);
  Napi::Array names = value.As<Napi::Array>();
  for (uint32_t i = 0; i < names.Length(); i++) {
    if (!names.Get(i).IsString()) ThrowType(loss.Env(), form);
    kinds.push_back(strata::metric_from_name(names.Get(i).As<Napi::String>().Utf8Value()));  // throws strata::Error naming it
  }
  return kinds;
}

strata::TrainingDescription ToDescription(const Napi::Value& value) {
  Napi::Env env = value.Env();
  if (!value.IsObject()) ThrowType(env, "description: expected {losses, optimizer, trainable?, weightRules?, seed?, backend?, numThreads?}");
  Napi::Object object = value.As<Napi::Object>();
  strata::TrainingDescription d;

  Napi::Value losses = object.Get("losses");
  if (!losses.IsArray()) ThrowType(env, "description.losses must be an array of {output, kind, fromLogits?, weight?, metrics?}");
  Napi::Array lossArray = losses.As<Napi::Array>();
  for (uint32_t i = 0; i < lossArray.Length(); i++) {
    const std::string what = "description.losses[" + std::to_string(i) + "]";
    if (!lossArray.Get(i).IsObject()) ThrowType(env, what + " must be {output, kind, fromLogits?, weight?, metrics?}");
    Napi::Object loss = lossArray.Get(i).As<Napi::Object>();
    strata::LossSpec spec;
    spec.output = StringField(loss, "output", "", what);
    spec.kind = strata::loss_from_name(StringField(loss, "kind", "", what));  // throws strata::Error naming it
    spec.from_logits = BoolField(loss, "fromLogits", false, what);
    spec.weight = static_cast<float>(NumberField(loss, "weight", 1.0, what));
    spec.metrics = MetricsField(loss, what);
    d.losses.push_back(spec);
  }

  Napi::Value optimizer = object.Get("optimizer");
  if (!optimizer.IsObject()) ThrowType(env, "description.optimizer must be {kind, learningRate?, ...}");
  Napi::Object opt = optimizer.As<Napi::Object>();
  const std::string what = "description.optimizer";
  strata::OptimizerConfig c = strata::OptimizerConfig::keras_default(strata::OptimizerConfig::kind_from_name(StringField(opt, "kind", "adam", what)));
  c.learning_rate = static_cast<float>(NumberField(opt, "learningRate", c.learning_rate, what));
  c.momentum = static_cast<float>(NumberField(opt, "momentum", c.momentum, what));
  c.nesterov = BoolField(opt, "nesterov", c.nesterov, what);
  c.beta_1 = static_cast<float>(NumberField(opt, "beta1", c.beta_1, what));
  c.beta_2 = static_cast<float>(NumberField(opt, "beta2", c.beta_2, what));
  c.epsilon = static_cast<float>(NumberField(opt, "epsilon", c.epsilon, what));
  c.weight_decay = static_cast<float>(NumberField(opt, "weightDecay", c.weight_decay, what));
  c.rho = static_cast<float>(NumberField(opt, "rho", c.rho, what));
  c.centered = BoolField(opt, "centered", c.centered, what);
  d.optimizer = c;

  Napi::Value trainable = object.Get("trainable");
  if (!trainable.IsUndefined() && !trainable.IsNull()) {
    if (!trainable.IsArray()) ThrowType(env, "description.trainable must be an array of initializer names");
    Napi::Array names = trainable.As<Napi::Array>();
    for (uint32_t i = 0; i < names.Length(); i++) {
      if (!names.Get(i).IsString()) ThrowType(env, "description.trainable must be an array of initializer names");
      d.trainable.push_back(names.Get(i).As<Napi::String>().Utf8Value());
    }
  }
  Napi::Value rules = object.Get("weightRules");
  if (!rules.IsUndefined() && !rules.IsNull()) {
    const char* form = " must be {initializer, l1?, l2?, constraint?, minValue?, maxValue?, rate?, outer?, reduce?, inner?}";
    if (!rules.IsArray()) ThrowType(env, std::string("description.weightRules must be an array; each") + form);
    Napi::Array list = rules.As<Napi::Array>();
    for (uint32_t i = 0; i < list.Length(); i++) {
      const std::string what = "description.weightRules[" + std::to_string(i) + "]";
      if (!list.Get(i).IsObject()) ThrowType(env, what + form);
      Napi::Object rule = list.Get(i).As<Napi::Object>();
      strata::WeightRule r;
      r.name = StringField(rule, "initializer", "", what);
      r.l1 = static_cast<float>(NumberField(rule, "l1", 0, what));
      r.l2 = static_cast<float>(NumberField(rule, "l2", 0, what));
      r.constraint = strata::constraint_from_name(StringField(rule, "constraint", "none", what));  // throws naming it
      r.min_value = static_cast<float>(NumberField(rule, "minValue", 0, what));
      r.max_value = static_cast<float>(NumberField(rule, "maxValue", 0, what));
      r.rate = static_cast<float>(NumberField(rule, "rate", 1, what));
      const std::string size = "an integer >= 1 (" + what + "'s norm axes)";
      r.outer = static_cast<int64_t>(IntegerField(rule, "outer", 1, 1, 9007199254740991.0, size));
      r.reduce = static_cast<int64_t>(IntegerField(rule, "reduce", 1, 1, 9007199254740991.0, size));
      r.inner = static_cast<int64_t>(IntegerField(rule, "inner", 1, 1, 9007199254740991.0, size));
      d.weight_rules.push_back(r);
    }
  }
  d.seed = static_cast<uint64_t>(IntegerField(object, "seed", 0, 0, 9007199254740991.0, "an integer from 0 to 2^53 - 1"));
  d.backend = StringField(object, "backend", "cpu", "description");
  // benchmarks' knobs: strict FP32 on CUDA, a forced convolution algorithm (backend.h)
  d.backend_options.tf32 = BoolField(object, "tf32", true, "description");
  d.backend_options.conv = strata::conv_algorithm_from_name(StringField(object, "convAlgorithm", "auto", "description"));
  d.backend_options.cuda_graphs = BoolField(object, "cudaGraphs", true, "description");
  // More threads than cores only slows training, and a count in the thousands is more than
  // the system will start.
  const int cores = strata::available_cores();
  d.num_threads = static_cast<int>(IntegerField(object, "numThreads", -1, -1, cores, "-1 (auto), 0 (all " + std::to_string(cores) +
                                                                                           " cores) or a thread count from 1 to " + std::to_string(cores)));
  return d;
}

Napi::Object FromStepResult(Napi::Env env, const strata::StepResult& result) {
  Napi::Object object = Napi::Object::New(env);
  object.Set("loss", Napi::Number::New(env, result.loss));
  Napi::Array losses = Napi::Array::New(env, result.output_losses.size());
  for (size_t i = 0; i < result.output_losses.size(); i++) losses.Set(i, Napi::Number::New(env, result.output_losses[i]));
  object.Set("outputLosses", losses);
  Napi::Array metrics = Napi::Array::New(env, result.metrics.size());
  for (size_t i = 0; i < result.metrics.size(); i++) {
    Napi::Array values = Napi::Array::New(env, result.metrics[i].size());
    for (size_t j = 0; j < result.metrics[i].size(); j++) values.Set(j, Napi::Number::New(env, result.metrics[i][j]));
    metrics.Set(i, values);
  }
  object.Set("metrics", metrics);
  object.Set("stopped", Napi::Boolean::New(env, result.stopped));
  return object;
}

Napi::Array FromStrings(Napi::Env env, const std::vector<std::string>& strings) {
  Napi::Array array = Napi::Array::New(env, strings.size());
  for (size_t i = 0; i < strings.size(); i++) array.Set(i, Napi::String::New(env, strings[i]));
  return array;
}

}  // namespace strata_napi
