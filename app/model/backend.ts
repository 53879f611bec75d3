// model.predict() runs outside the model API: the API is pure TypeScript, and inference needs
// a runtime (onnxruntime-node in the main process and the CLI, the native engine later).
// The host registers one backend; the API hands it the model and the arrays.
import { ValueError } from './errors.ts';
import type { Model } from './model.ts';

/** An array as Keras's predict takes and returns it: row-major data, batch first. */
export interface ArrayData {
  dtype: 'float32' | 'int32';
  shape: number[];
  data: Float32Array | Int32Array;
}

export interface PredictOptions {
  /** Rows per runtime call; larger inputs are split and the outputs joined (Keras's default 32). */
  batchSize?: number;
}

export interface InferenceBackend {
  readonly name: string;
  /** Inputs in model.inputs order; outputs in model.outputs order. */
  predict(model: Model, inputs: ArrayData[], options: PredictOptions): Promise<ArrayData[]>;
}

let backend: InferenceBackend | null = null;

export function setInferenceBackend(next: InferenceBackend | null): void {
  backend = next;
}

export function getInferenceBackend(): InferenceBackend {
  if (!backend) {
    throw new ValueError(
      "model.predict() needs an inference backend: in Node, import from 'strata/node' (which registers onnxruntime); the strata command and the app register it themselves",
    );
  }
  return backend;
}
