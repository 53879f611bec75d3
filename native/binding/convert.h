// convert.h: the one place where JavaScript values become engine types and back.
//   tensor   {shape: number[], data: Float32Array | Int32Array | BigInt64Array}  <->  strata::Tensor
//   description {losses, optimizer, trainable?, seed?, backend?, numThreads?}   ->  TrainingDescription
// Bad arguments throw Napi::TypeError naming the argument and what was expected (a RangeError
// for a number out of range, e.g. numThreads beyond the cores).
#pragma once
#include <napi.h>

#include <string>
#include <vector>

#include "core/session.h"

namespace strata_napi {

// Integer data becomes int64 indices, or floats where `ints_as_float` (class-id targets:
// the engine takes sparse labels as float class indices).
strata::Tensor ToTensor(const Napi::Value& value, const std::string& what, bool ints_as_float = false);
std::vector<strata::Tensor> ToTensors(const Napi::Value& value, const std::string& what, bool ints_as_float = false);
Napi::Object FromTensor(Napi::Env env, const strata::Tensor& tensor);
Napi::Array FromTensors(Napi::Env env, const std::vector<strata::Tensor>& tensors);

strata::TrainingDescription ToDescription(const Napi::Value& value);
Napi::Object FromStepResult(Napi::Env env, const strata::StepResult& result);
Napi::Array FromStrings(Napi::Env env, const std::vector<std::string>& strings);

}  // namespace strata_napi
