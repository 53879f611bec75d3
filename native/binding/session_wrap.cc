// session_wrap.cc: see session_wrap.h. Engine errors (strata::Error, naming the op and node)
// become JavaScript Errors; argument errors are TypeErrors thrown by convert.cc. An error of
// the machine's, not the model's or the data's (strata::ResourceError: threads the system
// would not start), carries code "ERR_STRATA_RESOURCE". Where in the engine an error was raised
// ("tensor.cpp:14") is the Error's `engineSource`, for Strata's developers, never part of its
// message (core/check.h).
#include "session_wrap.h"

#include <cmath>

#include "convert.h"
#include "core/threads.h"

namespace strata_napi {

namespace {

constexpr const char* kResourceCode = "ERR_STRATA_RESOURCE";

// The engine error's "file.cpp:line" as the JavaScript Error's engineSource, when it has one.
void SetEngineSource(Napi::Object error, const std::string& source) {
  if (!source.empty()) error.Set("engineSource", source);
}

// The source() of a strata::Error; empty for other exceptions (std::bad_alloc, ...).
std::string EngineSource(const std::exception& e) {
  const auto* engine_error = dynamic_cast<const strata::Error*>(&e);
  return engine_error ? engine_error->source() : std::string();
}

// Runs one engine call off the JavaScript thread. Execute() makes no JavaScript calls.
class StepWorker : public Napi::AsyncWorker {
 public:
  enum class Kind { Train, TrainStaged, Evaluate, Forward };

  StepWorker(Napi::Env env, SessionWrap* wrap, Kind kind, std::vector<strata::Tensor> inputs, std::vector<strata::Tensor> targets,
             std::vector<strata::Tensor> sample_weights = {}, std::optional<strata::Batch> next = std::nullopt)
      : Napi::AsyncWorker(env), deferred_(Napi::Promise::Deferred::New(env)), wrap_(wrap), kind_(kind),
        inputs_(std::move(inputs)), targets_(std::move(targets)), sample_weights_(std::move(sample_weights)), next_(std::move(next)) {
    wrap_->Ref();  // keep the JavaScript object (and so the session) alive while we run
  }
  ~StepWorker() override { wrap_->Unref(); }

  Napi::Promise Promise() { return deferred_.Promise(); }

  void Execute() override {
    try {
      strata::Session& s = wrap_->session();
      switch (kind_) {
        case Kind::Forward: outputs_ = s.forward(inputs_); break;
        case Kind::Train: result_ = s.train_step(inputs_, targets_, sample_weights_, std::move(next_)); break;
        case Kind::TrainStaged: result_ = s.train_staged(std::move(next_)); break;
        case Kind::Evaluate: result_ = s.evaluate(inputs_, targets_, sample_weights_); break;
      }
    } catch (const std::exception& e) {
      resource_error_ = dynamic_cast<const strata::ResourceError*>(&e) != nullptr;
      engine_source_ = EngineSource(e);
      SetError(e.what());
    }
  }

  void OnOK() override {
    wrap_->SetBusy(false);
    Napi::Env env = Env();
    deferred_.Resolve(kind_ == Kind::Forward ? Napi::Value(FromTensors(env, outputs_)) : Napi::Value(FromStepResult(env, result_)));
  }

  void OnError(const Napi::Error& error) override {
    wrap_->SetBusy(false);
    if (resource_error_) error.Value().Set("code", kResourceCode);
    SetEngineSource(error.Value(), engine_source_);
    deferred_.Reject(error.Value());
  }

 private:
  Napi::Promise::Deferred deferred_;
  SessionWrap* wrap_;
  Kind kind_;
  std::vector<strata::Tensor> inputs_, targets_, sample_weights_, outputs_;
  std::optional<strata::Batch> next_;
  strata::StepResult result_;
  bool resource_error_ = false;
  std::string engine_source_;
};

// Runs an engine call; its errors (strata::Error, naming the op and node) become JavaScript
// Errors, while the binding's own Napi errors (TypeErrors for bad arguments) pass through.
template <class F>
auto EngineCall(Napi::Env env, F&& call) -> decltype(call()) {
  try {
    return call();
  } catch (const Napi::Error&) {
    throw;
  } catch (const std::exception& e) {
    Napi::Error error = Napi::Error::New(env, e.what());
    if (dynamic_cast<const strata::ResourceError*>(&e)) error.Set("code", kResourceCode);
    SetEngineSource(error.Value(), EngineSource(e));
    throw error;
  }
}

std::string StringArg(const Napi::CallbackInfo& info, size_t i, const char* what) {
  if (info.Length() <= i || !info[i].IsString()) throw Napi::TypeError::New(info.Env(), std::string("Expect argument: ") + what + " (a string)");
  return info[i].As<Napi::String>().Utf8Value();
}

}  // namespace

Napi::Function SessionWrap::Init(Napi::Env env) {
  return DefineClass(env, "TrainingSession",
                     {
                         InstanceMethod<&SessionWrap::TrainStep>("trainStep"),
                         InstanceMethod<&SessionWrap::TrainStaged>("trainStaged"),
                         InstanceMethod<&SessionWrap::Evaluate>("evaluate"),
                         InstanceMethod<&SessionWrap::Forward>("forward"),
                         InstanceMethod<&SessionWrap::InputNames>("inputNames"),
                         InstanceMethod<&SessionWrap::OutputNames>("outputNames"),
                         InstanceMethod<&SessionWrap::WeightNames>("weightNames"),
                         InstanceMethod<&SessionWrap::TrainableNames>("trainableNames"),
                         InstanceMethod<&SessionWrap::GetWeight>("getWeight"),
                         InstanceMethod<&SessionWrap::SetWeight>("setWeight"),
                         InstanceMethod<&SessionWrap::GetGradient>("getGradient"),
                         InstanceMethod<&SessionWrap::SetLearningRate>("setLearningRate"),
                         InstanceMethod<&SessionWrap::GetOptimizerState>("getOptimizerState"),
                         InstanceMethod<&SessionWrap::SetOptimizerState>("setOptimizerState"),
                         InstanceMethod<&SessionWrap::Stop>("stop"),
                         InstanceMethod<&SessionWrap::Dispose>("dispose"),
                     });
}

SessionWrap::SessionWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<SessionWrap>(info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsTypedArray() || info[0].As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) {
    throw Napi::TypeError::New(env, "Expect arguments: onnx model bytes (a Uint8Array), training description (an object)");
  }
  Napi::Uint8Array bytes = info[0].As<Napi::Uint8Array>();
  strata::TrainingDescription description;
  try {
    description = ToDescription(info[1]);
  } catch (const Napi::Error&) {
    throw;
  } catch (const std::exception& e) {  // an unknown loss or optimizer name, from the core
    throw Napi::TypeError::New(env, std::string("description: ") + e.what());
  }
  session_ = EngineCall(env, [&] { return strata::Session::from_onnx(bytes.Data(), bytes.ByteLength(), description); });
}

void SessionWrap::CheckUsable(Napi::Env env) {
  if (!session_) throw Napi::Error::New(env, "Session already disposed.");
  if (busy_) throw Napi::Error::New(env, "Session is busy: wait for the running step to finish.");
}

// sampleWeights: optional, one per loss, one weight per row.
static std::vector<strata::Tensor> SampleWeightsArg(const Napi::Value& value, const std::string& what) {
  if (value.IsUndefined() || value.IsNull()) return {};
  return ToTensors(value, what);
}

// `next` ({inputs, targets, sampleWeights?}): the batch the following trainStaged() trains on.
static std::optional<strata::Batch> NextBatchArg(const Napi::CallbackInfo& info, size_t i) {
  if (info.Length() <= i || info[i].IsUndefined() || info[i].IsNull()) return std::nullopt;
  if (!info[i].IsObject()) throw Napi::TypeError::New(info.Env(), "next batch must be {inputs, targets, sampleWeights?}");
  Napi::Object next = info[i].As<Napi::Object>();
  strata::Batch b;
  b.inputs = ToTensors(next.Get("inputs"), "next.inputs");
  b.targets = ToTensors(next.Get("targets"), "next.targets", /*ints_as_float=*/true);
  b.sample_weights = SampleWeightsArg(next.Get("sampleWeights"), "next.sampleWeights");
  return b;
}

Napi::Value SessionWrap::RunStep(const Napi::CallbackInfo& info, bool train) {
  CheckUsable(info.Env());
  if (info.Length() < 2) throw Napi::TypeError::New(info.Env(), "Expect arguments: inputs (tensors), targets (tensors)");
  auto inputs = ToTensors(info[0], "inputs");
  auto targets = ToTensors(info[1], "targets", /*ints_as_float=*/true);
  auto sample_weights = SampleWeightsArg(info.Length() > 2 ? info[2] : info.Env().Undefined(), "sampleWeights");
  std::optional<strata::Batch> next = train ? NextBatchArg(info, 3) : std::nullopt;
  busy_ = true;
  auto* worker = new StepWorker(info.Env(), this, train ? StepWorker::Kind::Train : StepWorker::Kind::Evaluate, std::move(inputs), std::move(targets),
                                std::move(sample_weights), std::move(next));
  worker->Queue();
  return worker->Promise();
}

Napi::Value SessionWrap::TrainStep(const Napi::CallbackInfo& info) { return RunStep(info, true); }

Napi::Value SessionWrap::TrainStaged(const Napi::CallbackInfo& info) {
  CheckUsable(info.Env());
  if (!session_->has_staged()) throw Napi::Error::New(info.Env(), "trainStaged(): no batch is staged; pass the next batch to the trainStep or trainStaged before it");
  std::optional<strata::Batch> next = NextBatchArg(info, 0);
  busy_ = true;
  auto* worker = new StepWorker(info.Env(), this, StepWorker::Kind::TrainStaged, {}, {}, {}, std::move(next));
  worker->Queue();
  return worker->Promise();
}
Napi::Value SessionWrap::Evaluate(const Napi::CallbackInfo& info) { return RunStep(info, false); }

Napi::Value SessionWrap::Forward(const Napi::CallbackInfo& info) {
  CheckUsable(info.Env());
  if (info.Length() < 1) throw Napi::TypeError::New(info.Env(), "Expect argument: inputs (tensors)");
  auto inputs = ToTensors(info[0], "inputs");
  busy_ = true;
  auto* worker = new StepWorker(info.Env(), this, StepWorker::Kind::Forward, std::move(inputs), {});
  worker->Queue();
  return worker->Promise();
}

Napi::Value SessionWrap::InputNames(const Napi::CallbackInfo& info) {
  CheckUsable(info.Env());
  return FromStrings(info.Env(), session_->input_names());
}

Napi::Value SessionWrap::OutputNames(const Napi::CallbackInfo& info) {
  CheckUsable(info.Env());
  return FromStrings(info.Env(), session_->output_names());
}

Napi::Value SessionWrap::WeightNames(const Napi::CallbackInfo& info) {
  CheckUsable(info.Env());
  return FromStrings(info.Env(), session_->weight_names());
}

Napi::Value SessionWrap::TrainableNames(const Napi::CallbackInfo& info) {
  CheckUsable(info.Env());
  return FromStrings(info.Env(), session_->trainable_names());
}

Napi::Value SessionWrap::GetWeight(const Napi::CallbackInfo& info) {
  CheckUsable(info.Env());
  const std::string name = StringArg(info, 0, "weight name");
  return EngineCall(info.Env(), [&] { return FromTensor(info.Env(), session_->get_weight(name)); });
}

Napi::Value SessionWrap::SetWeight(const Napi::CallbackInfo& info) {
  CheckUsable(info.Env());
  const std::string name = StringArg(info, 0, "weight name");
  if (info.Length() < 2) throw Napi::TypeError::New(info.Env(), "Expect arguments: weight name, tensor");
  strata::Tensor value = ToTensor(info[1], "weight '" + name + "'");
  EngineCall(info.Env(), [&] { session_->set_weight(name, value); });
  return info.Env().Undefined();
}

Napi::Value SessionWrap::GetGradient(const Napi::CallbackInfo& info) {
  CheckUsable(info.Env());
  const std::string name = StringArg(info, 0, "weight name");
  return EngineCall(info.Env(), [&] { return FromTensor(info.Env(), session_->get_gradient(name)); });
}

Napi::Value SessionWrap::SetLearningRate(const Napi::CallbackInfo& info) {
  CheckUsable(info.Env());
  // 0 is allowed: a decay schedule (Keras's CosineDecay with alpha 0) ends there.
  const double lr = info.Length() < 1 || !info[0].IsNumber() ? -1 : info[0].As<Napi::Number>().DoubleValue();
  if (!(std::isfinite(lr) && lr >= 0)) {
    throw Napi::TypeError::New(info.Env(), "Expect argument: learning rate (a finite number >= 0)");
  }
  session_->set_learning_rate(info[0].As<Napi::Number>().FloatValue());
  return info.Env().Undefined();
}

static const char* const kSlots[] = {"m", "v", "mg"};

Napi::Value SessionWrap::GetOptimizerState(const Napi::CallbackInfo& info) {
  CheckUsable(info.Env());
  Napi::Env env = info.Env();
  Napi::Object state = Napi::Object::New(env);
  state.Set("iterations", Napi::Number::New(env, static_cast<double>(session_->iterations())));
  Napi::Object slots = Napi::Object::New(env);
  for (const auto& name : session_->trainable_names()) {
    Napi::Object weight = Napi::Object::New(env);
    for (const char* slot : kSlots) {
      std::vector<float> values = session_->get_optimizer_slot(name, slot);
      Napi::Float32Array array = Napi::Float32Array::New(env, values.size());
      std::copy(values.begin(), values.end(), array.Data());
      weight.Set(slot, array);
    }
    slots.Set(name, weight);
  }
  state.Set("slots", slots);
  return state;
}

Napi::Value SessionWrap::SetOptimizerState(const Napi::CallbackInfo& info) {
  CheckUsable(info.Env());
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsObject()) throw Napi::TypeError::New(env, "Expect argument: optimizer state {iterations, slots}");
  Napi::Object state = info[0].As<Napi::Object>();
  Napi::Value iterations = state.Get("iterations");
  Napi::Value slots = state.Get("slots");
  if (!iterations.IsNumber() || !slots.IsObject()) throw Napi::TypeError::New(env, "optimizer state must be {iterations: number, slots: {[weight]: {m, v, mg}}}");
  EngineCall(env, [&] {
    Napi::Object byWeight = slots.As<Napi::Object>();
    Napi::Array names = byWeight.GetPropertyNames();
    for (uint32_t i = 0; i < names.Length(); i++) {
      const std::string name = names.Get(i).As<Napi::String>().Utf8Value();
      Napi::Value entry = byWeight.Get(name);
      if (!entry.IsObject()) throw Napi::TypeError::New(env, "optimizer state of '" + name + "' must be {m, v, mg}");
      for (const char* slot : kSlots) {
        Napi::Value values = entry.As<Napi::Object>().Get(slot);
        if (values.IsUndefined()) continue;
        if (!values.IsTypedArray() || values.As<Napi::TypedArray>().TypedArrayType() != napi_float32_array) {
          throw Napi::TypeError::New(env, "optimizer slot '" + std::string(slot) + "' of '" + name + "' must be a Float32Array");
        }
        Napi::Float32Array array = values.As<Napi::Float32Array>();
        session_->set_optimizer_slot(name, slot, std::vector<float>(array.Data(), array.Data() + array.ElementLength()));
      }
    }
    session_->set_iterations(static_cast<int64_t>(iterations.As<Napi::Number>().Int64Value()));
  });
  return env.Undefined();
}

Napi::Value SessionWrap::Stop(const Napi::CallbackInfo& info) {
  if (session_) session_->request_stop();  // safe while a worker runs: an atomic flag in the core
  return info.Env().Undefined();
}

Napi::Value SessionWrap::Dispose(const Napi::CallbackInfo& info) {
  if (busy_) throw Napi::Error::New(info.Env(), "Session is busy: stop() it and wait for the running step before dispose().");
  session_.reset();
  return info.Env().Undefined();
}

}  // namespace strata_napi
