// Strata for Node programs (`import ... from 'strata/node'`): the model API, with
// model.predict() on onnxruntime-node and fit()/evaluate() on the native engine, plus ONNX
// export and import.
import { EngineBackend } from './engine/trainer.ts';
import { setInferenceBackend, setTrainingBackend } from './model/index.ts';
import { OnnxRuntimeBackend } from './runtime/onnx_backend.ts';

export * from './model/index.ts';
export { exportOnnx, modelToOnnx } from './translate/to_onnx.ts';
export { modelFromOnnx } from './translate/from_onnx.ts';
export { OnnxRuntimeBackend } from './runtime/onnx_backend.ts';
export { EngineBackend, TrainingError } from './engine/trainer.ts';
export { saveModel, loadModelFolder } from './io/model_store.ts';
export { ModelCheckpoint, CSVLogger } from './io/callbacks.ts';

// predict() runs on onnxruntime by default, on the engine with {runtime: 'native'}.
const engine = new EngineBackend();
setInferenceBackend(new OnnxRuntimeBackend());
setInferenceBackend(engine);
setTrainingBackend(engine);
