// Strata for Node programs (`import ... from 'strata/node'`): the model API, with
// model.predict() on onnxruntime-node, plus ONNX export and import.
import { setInferenceBackend } from './model/index.ts';
import { OnnxRuntimeBackend } from './runtime/onnx_backend.ts';

export * from './model/index.ts';
export { exportOnnx, modelToOnnx } from './translate/to_onnx.ts';
export { modelFromOnnx } from './translate/from_onnx.ts';
export { OnnxRuntimeBackend } from './runtime/onnx_backend.ts';

setInferenceBackend(new OnnxRuntimeBackend());
