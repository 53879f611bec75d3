// The native engine's JavaScript surface, mirroring native/binding/session_wrap.h one to one,
// and the loader of the addon. Everything above this file talks to these types, never to
// the addon directly.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { StrataUserError } from '../model/errors.ts';

/** A tensor crossing the boundary: row-major data in ONNX's layout. */
export interface NativeTensor {
  shape: number[];
  /** Float32 data; Int32/BigInt64 for indices (Gather) and class-id targets. */
  data: Float32Array | Int32Array | BigInt64Array;
}

export type NativeLossKind = 'sparse_categorical_crossentropy' | 'categorical_crossentropy' | 'binary_crossentropy' | 'mean_squared_error' | 'mean_absolute_error';

export interface NativeLoss {
  /** Graph output the loss reads. */
  output: string;
  kind: NativeLossKind;
  fromLogits?: boolean;
  /** Keras's loss_weights entry. */
  weight?: number;
  /** Computed beside the loss each step, forward only (native/core/losses.h). */
  metrics?: NativeMetricKind[];
}

export type NativeMetricKind = 'binary_accuracy' | 'categorical_accuracy' | 'sparse_categorical_accuracy' | 'mean_absolute_error' | 'mean_squared_error';

export interface NativeOptimizer {
  kind: 'sgd' | 'adam' | 'adamw' | 'rmsprop';
  learningRate?: number;
  momentum?: number;
  nesterov?: boolean;
  beta1?: number;
  beta2?: number;
  epsilon?: number;
  weightDecay?: number;
  rho?: number;
  centered?: boolean;
}

/** One weight's regularizer (l1, l2) and constraint, its norms over `reduce` of the initializer viewed as (outer, reduce, inner). */
export interface NativeWeightRule {
  initializer: string;
  l1?: number;
  l2?: number;
  constraint?: 'none' | 'max_norm' | 'non_neg' | 'unit_norm' | 'min_max_norm';
  minValue?: number;
  maxValue?: number;
  rate?: number;
  outer?: number;
  reduce?: number;
  inner?: number;
}

export interface NativeTrainingDescription {
  losses: NativeLoss[];
  optimizer: NativeOptimizer;
  /** Initializer names to train; omitted: every weight of the model's layers. */
  trainable?: string[];
  /** Keras's regularizers and constraints of trainable weights (native/core/regularization.h). */
  weightRules?: NativeWeightRule[];
  /** Seeds Dropout masks; the same seed gives the same run. */
  seed?: number;
  backend?: 'cpu' | 'reference' | 'cuda';
  /** CUDA: matrix products on TF32 tensor cores (true, the default, as PyTorch and TensorFlow) or in strict FP32. */
  tf32?: boolean;
  /** How convolutions run: 'auto' (each backend's table of rules), or forced, for benchmarks: 'direct', 'onednn-winograd' (CPU only). */
  convAlgorithm?: 'auto' | 'direct' | 'onednn-winograd';
  /** CUDA: record a train step's kernels once per batch shape as a CUDA graph and replay it (true, the default); false launches them one by one, to compare. */
  cudaGraphs?: boolean;
  /**
   * Threads for oneDNN/OpenMP. -1 (the default) auto: all cores while they are the fastest;
   * when other work makes train steps slower, the engine times its steps on all cores, all
   * but one and half, and keeps the fastest (native/core/thread_chooser.h). On an idle machine
   * that is every step on all cores, bit for bit a fixed count's run; under load the count,
   * and the last bits of the results, follow the load. 0: all cores, fixed; N: N threads.
   */
  numThreads?: number;
}

export interface NativeStepResult {
  /** Sum over outputs of weight * loss. */
  loss: number;
  outputLosses: number[];
  /** Per loss, the values of its metrics (NativeLoss.metrics), in order. */
  metrics: number[][];
  /** stop() was called before this step: nothing ran (stop is sticky). */
  stopped: boolean;
}

/** The optimizer's variables: per trainable weight, its slots (empty until used), and the step count. */
export interface NativeOptimizerState {
  iterations: number;
  slots: Record<string, { m: Float32Array; v: Float32Array; mg: Float32Array }>;
}

/** A step's data, as trainStep takes it. */
export interface NativeBatch {
  inputs: NativeTensor[];
  targets: NativeTensor[];
  sampleWeights?: NativeTensor[];
}

export interface TrainingSession {
  /** sampleWeights: one per loss, one weight per row (Keras's sample_weight; class_weight becomes one). */
  trainStep(inputs: NativeTensor[], targets: NativeTensor[], sampleWeights?: NativeTensor[], next?: NativeBatch): Promise<NativeStepResult>;
  /**
   * Trains on the batch the previous trainStep or trainStaged was given as `next` (it throws when
   * none was). A `next` batch is uploaded while its step computes (on a GPU, on a copy stream) and
   * copied at the call, so its arrays may be reused at once; the results are trainStep's on it, bit for bit.
   */
  trainStaged(next?: NativeBatch): Promise<NativeStepResult>;
  evaluate(inputs: NativeTensor[], targets: NativeTensor[], sampleWeights?: NativeTensor[]): Promise<NativeStepResult>;
  forward(inputs: NativeTensor[]): Promise<NativeTensor[]>;
  inputNames(): string[];
  outputNames(): string[];
  weightNames(): string[];
  trainableNames(): string[];
  getWeight(name: string): NativeTensor;
  setWeight(name: string, value: NativeTensor): void;
  getGradient(name: string): NativeTensor;
  /** Between steps: the optimizer's learning rate from now on. */
  setLearningRate(learningRate: number): void;
  /** Keras keeps these across fit() calls and in saved models; a new session takes them back. */
  getOptimizerState(): NativeOptimizerState;
  setOptimizerState(state: NativeOptimizerState): void;
  stop(): void;
  dispose(): void;
}

/**
 * What the engine's calls throw (or reject with): an Error whose message is the engine's own,
 * naming the op and node at fault. `engineSource` ("tensor.cpp:14") is where in the engine it
 * was raised, for Strata's developers, and never part of the message; `code` is
 * 'ERR_STRATA_RESOURCE' when the machine refused the engine threads.
 */
export interface NativeEngineError extends Error {
  engineSource?: string;
  code?: string;
}

export interface NativeEngine {
  TrainingSession: new (onnx: Uint8Array, description: NativeTrainingDescription) => TrainingSession;
  /** Backends compiled in: "cpu", "reference", and "cuda" where nvcc built it. */
  backends(): string[];
  /** Whether the "cuda" backend can run here; reason (one line) says why not, "" when it can. */
  cudaStatus(): { available: boolean; reason: string };
}

/** The addon is missing or cannot load; the message says how to build it. */
export class EngineSetupError extends StrataUserError {
  override name = 'EngineSetupError';
}

const ADDON_FILE = 'strata_native.node';

/**
 * Where the addon is for the module at `moduleFile`: in a packaged app (the module lies under
 * Electron's resources folder, in app.asar or beside it), `<resources>/native/`, where
 * electron-builder.json's extraResources puts it; in a source checkout, build/addon/Release/.
 */
export function addonPathFor(moduleFile: string, resourcesPath: string | undefined): string {
  const relative = resourcesPath ? path.relative(resourcesPath, moduleFile) : '..';
  const packaged = relative !== '' && !relative.startsWith('..') && !path.isAbsolute(relative);
  return packaged ? path.join(resourcesPath!, 'native', ADDON_FILE) : path.resolve(path.dirname(moduleFile), '../../build/addon/Release', ADDON_FILE);
}

/** Electron sets process.resourcesPath in its processes; Node does not. */
export const ADDON_PATH = addonPathFor(fileURLToPath(import.meta.url), (process as { resourcesPath?: string }).resourcesPath);

const BUILD_HINT =
  'build it with "npm run build:native"; it needs CMake, a C++17 compiler and oneDNN ' +
  '(Debian/Ubuntu: scripts/install-system-deps.sh installs them)';

const loaded = new Map<string, NativeEngine>();

/** Loads the addon (once); `addonPath` is for tests. */
export function loadNativeEngine(addonPath = ADDON_PATH): NativeEngine {
  const cached = loaded.get(addonPath);
  if (cached) return cached;
  if (!existsSync(addonPath)) throw new EngineSetupError(`the native training engine is not built (${addonPath} is missing): ${BUILD_HINT}`);
  let engine: NativeEngine;
  try {
    engine = createRequire(import.meta.url)(addonPath) as NativeEngine;
  } catch (error) {
    throw new EngineSetupError(`the native training engine cannot load (${(error as Error).message}): rebuild it with "npm run build:native"`);
  }
  loaded.set(addonPath, engine);
  return engine;
}
