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
  /** Which registered backend runs it, by name ('onnxruntime', 'native'); default: the first registered. */
  runtime?: string;
}

export interface InferenceBackend {
  readonly name: string;
  /** Inputs in model.inputs order; outputs in model.outputs order. */
  predict(model: Model, inputs: ArrayData[], options: PredictOptions): Promise<ArrayData[]>;
}

const backends: InferenceBackend[] = [];

/** Registers a backend (replacing one of the same name); the first registered is the default. */
export function setInferenceBackend(next: InferenceBackend): void {
  const index = backends.findIndex((b) => b.name === next.name);
  if (index >= 0) backends[index] = next;
  else backends.push(next);
}

export function getInferenceBackend(runtime?: string): InferenceBackend {
  if (backends.length === 0) {
    throw new ValueError(
      "model.predict() needs an inference backend: in Node, import from 'strata/node' (which registers onnxruntime and the native engine); the strata command and the app register them themselves",
    );
  }
  if (runtime === undefined) return backends[0]!;
  const found = backends.find((b) => b.name === runtime);
  if (!found) throw new ValueError(`no inference backend named "${runtime}"; registered: ${backends.map((b) => b.name).join(', ')}`);
  return found;
}

/** Arrays given as one array, a list, or a map by name -> a list in `names` order (model inputs or outputs). */
export function arraysInOrder(value: ArrayData | ArrayData[] | Record<string, ArrayData>, names: string[], what: string): ArrayData[] {
  let list: ArrayData[];
  if (Array.isArray(value)) list = value;
  else if ('data' in value && ArrayBuffer.isView(value.data)) list = [value as ArrayData];
  else {
    const map = value as Record<string, ArrayData>;
    for (const key of Object.keys(map)) if (!names.includes(key)) throw new ValueError(`${what}: got an array for "${key}", which is not one of ${names.join(', ')}`);
    list = names.map((name) => {
      const array = map[name];
      if (!array) throw new ValueError(`${what}: missing "${name}"`);
      return array;
    });
  }
  if (list.length !== names.length) throw new ValueError(`${what}: expected ${names.length} array(s) (${names.join(', ')}), got ${list.length}`);
  return list;
}
