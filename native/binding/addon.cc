// addon.cc: the module's entry point. Exports the TrainingSession class and backends(),
// the list of backends compiled in ("cpu", "reference", and "cuda" when nvcc built it).
#include <napi.h>

#include "session_wrap.h"

namespace {

Napi::Value Backends(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Array list = Napi::Array::New(env);
  list.Set(0u, Napi::String::New(env, "cpu"));
  list.Set(1u, Napi::String::New(env, "reference"));
#ifdef STRATA_WITH_CUDA
  list.Set(2u, Napi::String::New(env, "cuda"));
#endif
  return list;
}

Napi::Object InitAll(Napi::Env env, Napi::Object exports) {
  exports.Set("TrainingSession", strata_napi::SessionWrap::Init(env));
  exports.Set("backends", Napi::Function::New(env, Backends));
  return exports;
}

}  // namespace

NODE_API_MODULE(strata_native, InitAll)
