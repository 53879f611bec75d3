// session_wrap.h: TrainingSession, the JavaScript class over strata::Session.
//
//   new TrainingSession(onnx: Uint8Array, description)          [sync]  @throw TypeError, Error (engine)
//   trainStep(inputs: Tensor[], targets: Tensor[], sampleWeights?: Tensor[]): Promise<StepResult>   [async, worker thread]
//   trainStep(inputs, targets, sampleWeights?, next?: {inputs, targets, sampleWeights?}): Promise<StepResult>
//     with next: that batch is uploaded while this step computes (a GPU's copy stream; the CPU
//     backends keep it), for the following call, which must then be:
//   trainStaged(next?): Promise<StepResult>   trains on the staged batch (bit for bit as trainStep on it)
//   evaluate(inputs: Tensor[], targets: Tensor[], sampleWeights?: Tensor[]): Promise<StepResult>    [async]
//     sampleWeights: one per loss, one weight per row (Keras's sample_weight; class_weight becomes one)
//   forward(inputs: Tensor[]): Promise<Tensor[]>                          [async, inference mode]
//   inputNames() / outputNames() / weightNames() / trainableNames(): string[]   [sync]
//   getWeight(name): Tensor; setWeight(name, tensor); getGradient(name): Tensor  [sync]
//   setLearningRate(lr: number): void   [sync] between steps (ReduceLROnPlateau, schedules)
//   getOptimizerState(): {iterations, slots: {[weight]: {m, v, mg: Float32Array}}}   [sync]
//   setOptimizerState(state): void       [sync] resumes training where a saved state stopped
//   stop(): void      [sync, any time] a running step finishes; every later trainStep/evaluate
//                     returns {stopped: true} without running (stop is sticky: dispose the session)
//   dispose(): void   [sync] frees the engine; later calls throw "Session already disposed."
//
// One call at a time: a second async call while one runs is rejected ("Session is busy"),
// and the sync calls that touch weights throw then, since the worker thread owns the session.
#pragma once
#include <napi.h>

#include <atomic>
#include <memory>

#include "core/session.h"

namespace strata_napi {

class SessionWrap : public Napi::ObjectWrap<SessionWrap> {
 public:
  static Napi::Function Init(Napi::Env env);
  explicit SessionWrap(const Napi::CallbackInfo& info);

  strata::Session& session() { return *session_; }
  void SetBusy(bool busy) { busy_ = busy; }

 private:
  Napi::Value TrainStep(const Napi::CallbackInfo& info);
  Napi::Value TrainStaged(const Napi::CallbackInfo& info);
  Napi::Value Evaluate(const Napi::CallbackInfo& info);
  Napi::Value Forward(const Napi::CallbackInfo& info);
  Napi::Value InputNames(const Napi::CallbackInfo& info);
  Napi::Value OutputNames(const Napi::CallbackInfo& info);
  Napi::Value WeightNames(const Napi::CallbackInfo& info);
  Napi::Value TrainableNames(const Napi::CallbackInfo& info);
  Napi::Value GetWeight(const Napi::CallbackInfo& info);
  Napi::Value SetWeight(const Napi::CallbackInfo& info);
  Napi::Value GetGradient(const Napi::CallbackInfo& info);
  Napi::Value SetLearningRate(const Napi::CallbackInfo& info);
  Napi::Value GetOptimizerState(const Napi::CallbackInfo& info);
  Napi::Value SetOptimizerState(const Napi::CallbackInfo& info);
  Napi::Value Stop(const Napi::CallbackInfo& info);
  Napi::Value Dispose(const Napi::CallbackInfo& info);

  // Throws unless the session exists and no worker holds it.
  void CheckUsable(Napi::Env env);
  Napi::Value RunStep(const Napi::CallbackInfo& info, bool train);

  std::unique_ptr<strata::Session> session_;
  std::atomic<bool> busy_{false};
};

}  // namespace strata_napi
