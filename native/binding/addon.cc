// addon.cc: the module's entry point. Exports the TrainingSession class, backends(), the list
// of backends compiled in ("cpu", "reference", and "cuda" when nvcc built it), and
// cudaStatus(), whether "cuda" can run on this machine and, when not, why in one line.
#include <napi.h>

#include "core/backend.h"
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

// [sync] cudaStatus(): {available, reason}; reason is "" when available, else e.g. "no CUDA GPU
// was found" or "the NVIDIA driver is older than CUDA 13.0, which this build needs; ...".
Napi::Value CudaStatus(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string why = strata::cuda_unavailable_reason();
  Napi::Object r = Napi::Object::New(env);
  r.Set("available", Napi::Boolean::New(env, why.empty()));
  r.Set("reason", Napi::String::New(env, why));
  return r;
}

Napi::Object InitAll(Napi::Env env, Napi::Object exports) {
  exports.Set("TrainingSession", strata_napi::SessionWrap::Init(env));
  exports.Set("backends", Napi::Function::New(env, Backends));
  exports.Set("cudaStatus", Napi::Function::New(env, CudaStatus));
  return exports;
}

}  // namespace

NODE_API_MODULE(strata_native, InitAll)
