// Inference with onnxruntime-node: one OnnxSession per model, reused across run() calls.
// Inputs are checked against the model's declared inputs first (validate.ts); inputs with
// more rows than the batch size are run in batches and the outputs joined along axis 0.
//
// Execution providers: 'cpu' always works (onnxruntime-node ships it); 'cuda' needs
// onnxruntime-node's CUDA add-on, a separate download (scripts/postinstall.js tries it where
// an NVIDIA driver is present), and an NVIDIA GPU. 'auto' uses CUDA when both are there.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { type DType, type NdArray, concatRows, formatShape, isDType, sliceRows } from '../data/ndarray.ts';
import { type ValueDescription, describeModel, parseOnnxModel } from '../onnx/inspect.ts';
import { InputError, checkBatchSize, planBatches, validateInputs } from './validate.ts';
import { assertReadableFile, readFileOrThrow } from '../io/read_file.ts';
import { StrataUserError } from '../model/errors.ts';

export type Device = 'cpu' | 'cuda' | 'auto';

/** The model cannot run here: onnxruntime rejects it, or the requested device is missing. */
export class RuntimeSetupError extends StrataUserError {
  override name = 'UserError';
}

export interface SessionOptions {
  /** Default 'cpu'. */
  device?: Device;
  /** Names the model in error messages when it is given as bytes (default '<onnx bytes>'). */
  name?: string;
}

export interface RunOptions {
  /** Rows per onnxruntime call when axis 0 is the batch; default 32 (Keras's predict). */
  batchSize?: number;
}

export const DEFAULT_BATCH_SIZE = 32;

/** Whether onnxruntime-node's CUDA execution provider can be used here, and if not why. */
export function cudaAvailability(): { available: boolean; reason: string; gpuPresent: boolean } {
  const gpuPresent = process.platform === 'linux' && existsSync('/proc/driver/nvidia/version'); // elsewhere: unknown, so no note
  if (process.platform !== 'linux' && process.platform !== 'win32') return { available: false, reason: `onnxruntime-node has no CUDA build for ${process.platform}`, gpuPresent };
  const require = createRequire(import.meta.url);
  const ortDir = path.dirname(require.resolve('onnxruntime-node/package.json'));
  const binDir = path.join(ortDir, 'bin', 'napi-v6', process.platform, process.arch);
  const library = process.platform === 'win32' ? 'onnxruntime_providers_cuda.dll' : 'libonnxruntime_providers_cuda.so';
  if (!existsSync(path.join(binDir, library))) {
    return {
      available: false,
      gpuPresent,
      reason: `the CUDA add-on of onnxruntime-node is not installed (no ${library}); install it with: node ${path.relative(process.cwd(), path.join(ortDir, 'script', 'install.js'))} --onnxruntime-node-install=cuda12`,
    };
  }
  if (process.platform === 'linux' && !gpuPresent) return { available: false, reason: 'no NVIDIA driver is loaded', gpuPresent };
  return { available: true, reason: '', gpuPresent };
}

export class OnnxSession {
  /** Inputs fed at run time, with the types and shapes the model declares. */
  readonly inputs: ValueDescription[];
  readonly outputs: ValueDescription[];
  /** The execution provider the session runs on. */
  readonly device: 'cpu' | 'cuda';
  /** Why the session runs on the CPU when 'auto' was asked for on a machine with a GPU; '' otherwise. */
  readonly deviceNote: string;
  readonly #session: ort.InferenceSession;
  readonly #source: string;

  private constructor(session: ort.InferenceSession, description: { inputs: ValueDescription[]; outputs: ValueDescription[] }, device: 'cpu' | 'cuda', deviceNote: string, source: string) {
    this.#session = session;
    this.inputs = description.inputs;
    this.outputs = description.outputs;
    this.device = device;
    this.deviceNote = deviceNote;
    this.#source = source;
  }

  /**
   * Opens a model from its bytes or from a file path. A path lets onnxruntime find external
   * data files beside the model; bytes with external data references fail to load.
   */
  static async create(model: Uint8Array | string, options: SessionOptions = {}): Promise<OnnxSession> {
    const source = typeof model === 'string' ? model : (options.name ?? '<onnx bytes>');
    const bytes = typeof model === 'string' ? readFileOrThrow(model, RuntimeSetupError) : model;
    const description = describeModel(parseOnnxModel(bytes, source), { file: typeof model === 'string' ? model : null });
    if (typeof model !== 'string' && description.externalData.length > 0) {
      const files = [...new Set(description.externalData.map((ref) => ref.location))].join(', ');
      throw new RuntimeSetupError(`${source}: the model keeps tensors in external files (${files}); open it from its file path so they are found`);
    }
    const outside = description.externalData.find((ref) => ref.outside);
    if (outside) {
      throw new RuntimeSetupError(`${source}: tensor '${outside.tensor}' keeps its data in '${outside.location}', outside the model's folder; external data files must lie inside it`);
    }
    // onnxruntime would wait forever on a FIFO, or read a device without end.
    for (const ref of description.externalData) {
      if (typeof model === 'string' && ref.exists) assertReadableFile(path.join(path.dirname(model), ref.location), RuntimeSetupError);
    }
    for (const value of description.graph.inputs) {
      if (!isDType(value.type)) throw new RuntimeSetupError(`${source}: input '${value.name}' is ${value.type}; Strata feeds numeric and bool tensors only`);
    }
    const requested = options.device ?? 'cpu';
    let device: 'cpu' | 'cuda' = 'cpu';
    let deviceNote = '';
    if (requested !== 'cpu') {
      const cuda = cudaAvailability();
      if (cuda.available) device = 'cuda';
      else if (requested === 'cuda') throw new RuntimeSetupError(`the CUDA execution provider was requested, but ${cuda.reason}`);
      else if (cuda.gpuPresent) deviceNote = `running on the CPU: ${cuda.reason}`; // a machine without a GPU needs no note
    }
    const load = (executionProviders: string[]) => {
      const sessionOptions: ort.InferenceSession.SessionOptions = { executionProviders, logSeverityLevel: 3 };
      return typeof model === 'string' ? ort.InferenceSession.create(model, sessionOptions) : ort.InferenceSession.create(bytes, sessionOptions);
    };
    let session: ort.InferenceSession;
    try {
      session = await load(device === 'cuda' ? ['cuda', 'cpu'] : ['cpu']);
    } catch (error) {
      if (device === 'cuda' && requested === 'auto') {
        deviceNote = `running on the CPU: the CUDA execution provider failed to start (${oneLine(error)})`;
        device = 'cpu';
        session = await load(['cpu']).catch((cpuError: unknown) => {
          throw new RuntimeSetupError(`${source}: onnxruntime cannot load this model: ${oneLine(cpuError)}`);
        });
      } else {
        throw new RuntimeSetupError(`${source}: onnxruntime cannot load this model${device === 'cuda' ? ' on CUDA' : ''}: ${oneLine(error)}`);
      }
    }
    return new OnnxSession(session, { inputs: description.graph.inputs, outputs: description.graph.outputs }, device, deviceNote, source);
  }

  /**
   * Runs the model. `feeds` maps every input name to an array of the declared dtype and
   * shape; an array given for the only input may be passed alone. Returns every output by name.
   */
  async run(feeds: Record<string, NdArray> | NdArray, options: RunOptions = {}): Promise<Record<string, NdArray>> {
    const named = isNdArray(feeds) ? this.#bindSingle(feeds) : feeds;
    const rows = validateInputs(this.inputs, named);
    const batchSize = options.batchSize ?? DEFAULT_BATCH_SIZE;
    checkBatchSize(batchSize);
    if (rows === null || rows <= batchSize) return this.#runOnce(named);

    const parts: Record<string, NdArray>[] = [];
    for (const [start, end] of planBatches(rows, batchSize)) {
      const batch = Object.fromEntries(Object.entries(named).map(([name, array]) => [name, sliceRows(array, start, end)]));
      const outputs = await this.#runOnce(batch);
      for (const [name, output] of Object.entries(outputs)) {
        if (output.shape[0] !== end - start) {
          throw new InputError(
            `output '${name}' does not have the batch as its first axis (a batch of ${end - start} rows gave shape ${formatShape(output.shape)}); run all ${rows} rows at once with a batch size of ${rows} or more`,
          );
        }
      }
      parts.push(outputs);
    }
    return Object.fromEntries(Object.keys(parts[0]!).map((name) => [name, concatRows(parts.map((p) => p[name]!))]));
  }

  async release(): Promise<void> {
    await this.#session.release();
  }

  #bindSingle(array: NdArray): Record<string, NdArray> {
    if (this.inputs.length !== 1) {
      throw new InputError(`the model has ${this.inputs.length} inputs (${this.inputs.map((i) => i.name).join(', ')}); pass them by name`);
    }
    return { [this.inputs[0]!.name]: array };
  }

  async #runOnce(feeds: Record<string, NdArray>): Promise<Record<string, NdArray>> {
    const tensors = Object.fromEntries(Object.entries(feeds).map(([name, array]) => [name, new ort.Tensor(array.dtype, array.data, array.shape)]));
    let results: ort.InferenceSession.OnnxValueMapType;
    try {
      results = await this.#session.run(tensors);
    } catch (error) {
      throw new RuntimeSetupError(`${this.#source}: onnxruntime failed to run the model: ${oneLine(error)}`);
    }
    return Object.fromEntries(
      this.#session.outputNames.map((name) => {
        const tensor = results[name] as ort.Tensor;
        if (!isDType(tensor.type)) throw new RuntimeSetupError(`${this.#source}: output '${name}' is ${tensor.type}, which Strata cannot hold`);
        const data = (tensor.data as NdArray['data']).slice();
        return [name, { dtype: tensor.type as DType, shape: tensor.dims.map(Number), data } as NdArray];
      }),
    );
  }
}

function isNdArray(value: Record<string, NdArray> | NdArray): value is NdArray {
  return ArrayBuffer.isView((value as NdArray).data) && Array.isArray((value as NdArray).shape) && typeof (value as NdArray).dtype === 'string';
}


function oneLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).replace(/\s+/g, ' ').trim();
}
