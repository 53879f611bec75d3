// fit(), evaluate() and predict() on the native engine. The model is translated to ONNX,
// the engine trains that graph, and the weights flow back into the model's layers after
// every epoch (so callbacks, export and save see them) and when training ends.
import { batchCount, batches, makeDataset, split, type Dataset, type SampleArray } from '../data/dataset.ts';
import { concatRows, type NdArray } from '../data/ndarray.ts';
import { checkInputShapes, validateDataset } from '../data/validate.ts';
import {
  History, Normalization, StrataUserError, TerminateOnNaN, ValueError, arraysInOrder, engineMetric, logNames, loggedMetrics, weightsGeneration,
  type ArrayData, type Callback, type CompiledConfig, type EvaluateOptions, type FitOptions, type InferenceBackend, type Logs, Model,
  type Device, type Optimizer, type PredictOptions, type TrainingBackend,
} from '../model/index.ts';
import { encodeModel } from '../onnx/schema.ts';
import { translateModel } from '../translate/to_onnx.ts';
import { chooseDevice } from './device.ts';
import { loadNativeEngine, type NativeBatch, type NativeEngineError, type NativeOptimizer, type NativeStepResult, type TrainingSession } from './binding.ts';
import { ProgressBar, formatLogs } from './progress.ts';
import { WeightSync } from './weight_sync.ts';

/** Training cannot go on (a NaN loss, threads the system would not start); the message says where and why. */
export class TrainingError extends StrataUserError {
  override name = 'TrainingError';
}

/**
 * Awaits an engine step. The machine refusing what the engine needs (threads, under a
 * process limit: the binding's code ERR_STRATA_RESOURCE) is the user's to fix, not a bug in
 * Strata, so it becomes a TrainingError.
 */
async function engineStep<T>(step: Promise<T>): Promise<T> {
  try {
    return await step;
  } catch (error) {
    if ((error as NativeEngineError).code === 'ERR_STRATA_RESOURCE') throw new TrainingError((error as Error).message);
    throw error;
  }
}

/**
 * A TrainingError naming the first Normalization layer (in nested models too) with neither a
 * given nor an adapted mean and variance: it would pass the data through unnormalized, which
 * Keras does without a word. Refused rather than adapted here: the statistics are the user's
 * choice of data (Keras's idiom adapts to the training features alone, before fit).
 */
function refuseUnadapted(model: Model): void {
  for (const layer of model.layers) {
    if (layer instanceof Model) refuseUnadapted(layer);
    else if (layer instanceof Normalization && layer.needsAdapt) {
      throw new TrainingError(`${layer.name} (Normalization): has no mean and variance; call its adapt() on the training features before fit (layer.adapt(x)), or give mean and variance`);
    }
  }
}

export interface EngineOptions {
  backend?: 'cpu' | 'reference' | 'cuda';
  /** oneDNN/OpenMP threads: undefined or -1 auto, 0 all cores fixed, N (see NativeTrainingDescription). */
  numThreads?: number;
  /** Where progress goes (default: standard output). */
  write?: (text: string) => void;
  /** Redraw the progress bar in place (default: when standard output is a terminal). */
  interactive?: boolean;
}

const DEVICES: readonly Device[] = ['auto', 'cpu', 'cuda'];

function optimizerDescription(optimizer: Optimizer): NativeOptimizer {
  const c = optimizer.getConfig();
  return {
    kind: optimizer.kind,
    learningRate: optimizer.learningRate,
    ...(c.momentum !== undefined ? { momentum: c.momentum as number } : {}),
    ...(c.nesterov !== undefined ? { nesterov: c.nesterov as boolean } : {}),
    ...(c.beta_1 !== undefined ? { beta1: c.beta_1 as number, beta2: c.beta_2 as number } : {}),
    ...(c.epsilon !== undefined ? { epsilon: c.epsilon as number } : {}),
    ...(c.weight_decay !== undefined ? { weightDecay: c.weight_decay as number } : {}),
    ...(c.rho !== undefined ? { rho: c.rho as number, centered: c.centered as boolean } : {}),
  };
}

/** Keras accepts (n,) targets for an (n, 1) output; the engine wants the output's shape. */
function targetsFor(model: Model, config: CompiledConfig, y: NdArray[]): NdArray[] {
  return y.map((target, i) => {
    const out = model.outputs[i]!.shape;
    const sparse = config.losses[i]!.kind === 'sparse_categorical_crossentropy';
    if (!sparse && target.shape.length === 1 && out.length === 2 && out[1] === 1) return { ...target, shape: [target.shape[0]!, 1] } as NdArray;
    return target;
  });
}

/** An epoch's metric sums so far (MetricTotals), as a checkpoint keeps them: JSON numbers, exact. */
export interface EpochTotals {
  samples: number;
  sums: Record<string, number>;
}

/** Sums of per-batch results, weighted by batch size: Keras's epoch metrics. */
class MetricTotals {
  private samples = 0;
  private readonly sums = new Map<string, number>();
  constructor(
    private readonly config: CompiledConfig,
    from?: EpochTotals,
  ) {
    if (from) {
      this.samples = from.samples;
      for (const [name, sum] of Object.entries(from.sums)) this.sums.set(name, sum);
    }
  }

  snapshot(): EpochTotals {
    return { samples: this.samples, sums: Object.fromEntries(this.sums) };
  }

  add(result: NativeStepResult, size: number): void {
    this.samples += size;
    const add = (key: string, value: number) => this.sums.set(key, (this.sums.get(key) ?? 0) + value * size);
    add('loss', result.loss);
    if (this.config.losses.length > 1) this.config.losses.forEach((loss, i) => add(`${loss.output}_loss`, result.outputLosses[i]!));
    for (const m of loggedMetrics(this.config)) add(m.name, result.metrics[m.loss]![m.index]!);
  }

  logs(prefix = ''): Logs {
    const logs: Logs = {};
    const roots = new Set(loggedMetrics(this.config).filter((m) => m.metric.kind === 'root_mean_squared_error').map((m) => m.name));
    for (const name of logNames(this.config)) {
      const sum = this.sums.get(name);
      // RootMeanSquaredError: the root of the epoch's mean squared error, as Keras accumulates it
      if (sum !== undefined) logs[prefix + name] = roots.has(name) ? Math.sqrt(sum / this.samples) : sum / this.samples;
    }
    return logs;
  }
}

/** classWeight as a lookup by class id; Keras's rules: one output, every class present. */
function classWeightTable(model: Model, classWeight: Record<number, number>, labels: NdArray): Float32Array {
  if (model.outputs.length !== 1) throw new ValueError(`${model.name}.fit(): classWeight works for models with one output (as in Keras); this one has ${model.outputs.length}`);
  const ids = labels.shape.length === 2 && labels.shape[1]! > 1 ? labels.shape[1]! : Math.max(...(labels.data as Int32Array)) + 1;
  const table = new Float32Array(ids);
  for (let c = 0; c < ids; c++) {
    const weight = classWeight[c];
    if (weight === undefined) throw new ValueError(`${model.name}.fit(): classWeight has no weight for class ${c}; give one for every class 0..${ids - 1}`);
    table[c] = weight;
  }
  return table;
}

/** Each row's class weight: class ids, or the argmax of one-hot rows. */
function sampleWeightsFor(table: Float32Array, labels: SampleArray): { shape: number[]; data: Float32Array } {
  const rows = labels.shape[0]!;
  const width = labels.shape.length === 2 ? labels.shape[1]! : 1;
  const weights = new Float32Array(rows);
  for (let r = 0; r < rows; r++) {
    let id = 0;
    if (width === 1) id = labels.data[r]!;
    else for (let c = 1; c < width; c++) if (labels.data[r * width + c]! > labels.data[r * width + id]!) id = c;
    weights[r] = table[id]!;
  }
  return { shape: [rows], data: weights };
}

/** A batch as the engine takes it; `copy`: its arrays copied (the iterator reuses them for the next batch). */
function stepData(batch: { x: SampleArray[]; y: SampleArray[] }, classWeights: Float32Array | null, copy: boolean): NativeBatch {
  const own = (a: SampleArray): SampleArray => (copy ? ({ ...a, data: a.data.slice() } as SampleArray) : a);
  return {
    inputs: batch.x.map(own),
    targets: batch.y.map(own),
    ...(classWeights ? { sampleWeights: [sampleWeightsFor(classWeights, batch.y[0]!)] } : {}),
  };
}

/**
 * Hands the learning rate of each step to the engine when it changed: a Keras schedule's
 * value at the step count, or a number a callback set (between epochs, as ReduceLROnPlateau
 * and LearningRateScheduler do, or between batches, as a warm-up does). A compare per step,
 * a native call only on a change.
 */
class LearningRateSync {
  private applied: number;
  constructor(private readonly session: TrainingSession, private readonly optimizer: Optimizer, private readonly modelName: string) {
    this.applied = optimizer.learningRate;
  }
  /** Before the step that follows `iterations` steps (the optimizer's count, kept across fits). */
  apply(iterations: number): void {
    const lr = this.optimizer.learningRateAt(iterations);
    if (lr === this.applied) return;
    if (!(Number.isFinite(lr) && lr >= 0)) {
      const from = this.optimizer.schedule ? `its ${this.optimizer.schedule.className} schedule gave ${lr} at step ${iterations}` : `it was set to ${lr} during training`;
      throw new ValueError(`${this.modelName}: the optimizer's learning rate must be a number >= 0; ${from}`);
    }
    this.session.setLearningRate(lr);
    this.applied = lr;
  }
}

const NAN_HINT =
  'Usual causes: a learning rate too high, inputs not scaled (pixels 0-255 instead of 0-1), ' +
  'labels outside what the loss expects (class ids >= the number of classes, targets outside [0, 1] for binary cross-entropy), ' +
  'or NaN/infinite values in the data';

/** Where interrupt() stopped a fit(): in epoch `epoch` (0-based, as callbacks count) after `step` of its `steps` steps. */
export interface Interruption {
  epoch: number;
  step: number;
  steps: number;
  /** The epoch's metric sums over its `step` steps: with them a resumed fit logs the epoch as an uninterrupted one. */
  totals: EpochTotals;
}

/** Where a resumed fit() starts: after `step` steps of epoch `epoch` (an Interruption's), with their metric sums. */
export type EpochPosition = Pick<Interruption, 'epoch' | 'step' | 'totals'>;

export interface EngineFitOptions extends FitOptions {
  /**
   * Go on mid-epoch: the steps of `resumeFrom.epoch` before `resumeFrom.step` are skipped (the
   * epoch's order is the seed's, so the same samples follow) and its metric sums restored.
   * initialEpoch must be `resumeFrom.epoch`.
   */
  resumeFrom?: EpochPosition;
}

export class EngineBackend implements TrainingBackend, InferenceBackend {
  readonly name = 'native';
  private readonly write: (text: string) => void;
  private readonly interactive: boolean;
  private interruptRequested = false;
  /** Set when interrupt() ended the last fit(): where it stopped. Null when it ran to its end. */
  interruption: Interruption | null = null;

  constructor(private readonly options: EngineOptions = {}) {
    this.write = options.write ?? ((text) => process.stdout.write(text));
    this.interactive = options.interactive ?? Boolean(process.stdout.isTTY);
  }

  /**
   * Ends the running fit() (or the next one) before its next step; a step in progress
   * finishes. The model keeps the weights of the last finished step and the optimizer its
   * state; callbacks get onTrainEnd but no onEpochEnd for an unfinished epoch; fit() resolves
   * with the History of the epochs completed, and `interruption` says where it stopped.
   * For Ctrl+C in the CLI (and a Stop button in the app).
   */
  interrupt(): void {
    this.interruptRequested = true;
  }

  /** The engine options' backend when one was given, else the device fit()/evaluate() ask for (default auto). */
  private backendFor(device: Device | undefined, caller: string): NonNullable<EngineOptions['backend']> {
    if (device === undefined && this.options.backend) return this.options.backend;
    const request = device ?? 'auto';
    if (!DEVICES.includes(request)) throw new ValueError(`${caller} device must be 'auto', 'cpu' or 'cuda', got ${JSON.stringify(request)}`);
    return chooseDevice(request, loadNativeEngine, `${caller} device 'cuda'`).backend;
  }

  private open(model: Model, config: CompiledConfig | null, seed: number, backend: EngineOptions['backend']): { session: TrainingSession; sync: WeightSync } {
    const engine = loadNativeEngine();
    const { proto, weights } = translateModel(model, { trainingOps: true });
    const sync = new WeightSync(model, weights);
    const losses = config
      ? config.losses.map((l) => ({ output: l.output, kind: l.kind, fromLogits: l.fromLogits, weight: l.weight, metrics: l.metrics.map((m) => engineMetric(m.kind)) }))
      : model.outputs.map((t) => ({ output: t.sourceLayer.name, kind: 'mean_squared_error' as const }));
    const session = new engine.TrainingSession(encodeModel(proto), {
      losses,
      optimizer: config ? optimizerDescription(config.optimizer) : { kind: 'sgd' },
      trainable: sync.trainableInitializers(),
      weightRules: sync.weightRules(),
      seed,
      ...(backend ? { backend } : {}),
      ...(this.options.numThreads !== undefined ? { numThreads: this.options.numThreads } : {}),
    });
    return { session, sync };
  }

  async fit(model: Model, x: ArrayData[], y: ArrayData[], options: EngineFitOptions): Promise<History> {
    const config = model.compiled!;
    refuseUnadapted(model);
    const { epochs = 1, batchSize = 32, shuffle = true, initialEpoch = 0, verbose = 1, resumeFrom } = options;
    if (resumeFrom && resumeFrom.epoch !== initialEpoch) throw new ValueError(`${model.name}.fit(): resumeFrom.epoch ${resumeFrom.epoch} is not initialEpoch ${initialEpoch}`);
    const seed = options.seed ?? Math.floor(Math.random() * 2 ** 31);
    let train: Dataset = makeDataset(x as NdArray[], targetsFor(model, config, y as NdArray[]));
    let validation: Dataset | null = null;
    if (options.validationData) {
      const [vx, vy] = options.validationData;
      const vxs = arraysInOrder(vx, model.inputs.map((t) => t.sourceLayer.name), `${model.name}.fit() validationData x`);
      const vys = arraysInOrder(vy, model.outputs.map((t) => t.sourceLayer.name), `${model.name}.fit() validationData y`);
      validation = makeDataset(vxs as NdArray[], targetsFor(model, config, vys as NdArray[]));
    } else if (options.validationSplit) {
      ({ train, validation } = split(train, options.validationSplit));
    }
    validateDataset(model, [{ name: 'training', data: train }, ...(validation ? [{ name: 'validation', data: validation }] : [])]);
    const classWeights = options.classWeight ? classWeightTable(model, options.classWeight, y[0] as NdArray) : null;

    const history = new History();
    // History comes last, as in Keras, so that it records what the others add to the logs (learning_rate).
    const callbacks: Callback[] = [...(options.callbacks ?? []), history];
    callbacks.forEach((c) => c.setModel(model));
    const terminateOnNaN = callbacks.some((c) => c instanceof TerminateOnNaN);
    const { session, sync } = this.open(model, config, seed, this.backendFor(options.device, `${model.name}.fit()`));
    // Keras's optimizer keeps its moments and step count across fit() calls (and saves).
    if (config.optimizer.variables) session.setOptimizerState(config.optimizer.variables);
    const steps = batchCount(train.size, batchSize);
    const learningRate = new LearningRateSync(session, config.optimizer, model.name);
    let iterations = config.optimizer.variables?.iterations ?? 0;
    model.stopTraining = false;
    let healthy = true;
    this.interruption = null;
    try {
      for (const c of callbacks) await c.onTrainBegin({});
      for (let epoch = initialEpoch; epoch < epochs && !model.stopTraining; epoch++) {
        const position = resumeFrom?.epoch === epoch ? resumeFrom : undefined;
        const totals = new MetricTotals(config, position?.totals);
        let step = position?.step ?? 0;
        if (this.interruptRequested) {
          this.interruption = { epoch, step, steps, totals: totals.snapshot() };
          break;
        }
        for (const c of callbacks) await c.onEpochBegin(epoch, {});
        if (verbose === 1) this.write(`Epoch ${epoch + 1}/${epochs}\n`);
        const bar = new ProgressBar(steps, this.write, this.interactive && verbose === 1);
        const started = performance.now();
        let diverged = false;
        // One batch ahead: step n is handed batch n + 1, which the engine uploads while it
        // computes (trainStaged trains on it next), and batch n + 2 is assembled here meanwhile.
        // A shuffled batch's arrays are reused by the iterator's next batch: the engine copies a
        // batch when it is handed one, and the first step's own batch is copied here.
        const epochBatches = batches(train, { batchSize, shuffle, seed: seed + epoch, firstBatch: step });
        let current = epochBatches.next();
        let own = current.done ? null : stepData(current.value, classWeights, true);
        let ahead = current.done ? current : epochBatches.next();
        while (!current.done) {
          const batch = current.value;
          if (this.interruptRequested) break;
          for (const c of callbacks) await c.onBatchBegin(step, { size: batch.size });
          learningRate.apply(iterations++); // as Keras's optimizer, which reads its learning rate at every step
          const next = ahead.done ? undefined : stepData(ahead.value, classWeights, false);
          const running = own ? session.trainStep(own.inputs, own.targets, own.sampleWeights, next) : session.trainStaged(next);
          const afterNext = ahead.done ? ahead : epochBatches.next();
          const result = await engineStep(running);
          [current, ahead, own] = [ahead, afterNext, null]; // the loop ends where no next was staged
          if (!Number.isFinite(result.loss) && !terminateOnNaN) {
            throw new TrainingError(
              `${model.name}: the loss became ${result.loss} at epoch ${epoch + 1}, batch ${step + 1} of ${steps} ` +
                `(samples ${batch.start}..${batch.start + batch.size - 1} of the epoch's order); training stopped, and the model keeps the weights of the last complete epoch. ${NAN_HINT}`,
            );
          }
          diverged = !Number.isFinite(result.loss);
          if (!diverged) totals.add(result, batch.size);
          const logs = diverged ? { loss: result.loss } : totals.logs();
          step++;
          bar.update(step, logs);
          for (const c of callbacks) await c.onBatchEnd(step - 1, logs);
          if (model.stopTraining) break;
        }
        if (this.interruptRequested && step < steps) {
          this.interruption = { epoch, step, steps, totals: totals.snapshot() };
          if (diverged) healthy = false;
          else sync.pull(session);
          if (verbose === 1) bar.stop();
          break;
        }
        const logs = totals.logs();
        if (validation) Object.assign(logs, await this.evaluateOn(session, config, validation, batchSize, 'val_'));
        // After a NaN (TerminateOnNaN), the engine's weights are NaN: the model keeps the last good ones.
        if (diverged) healthy = false;
        else {
          sync.pull(session);
          // As Keras's: the optimizer's state is the model's at every epoch's end, so that a save there (ModelCheckpoint) resumes exactly.
          config.optimizer.variables = session.getOptimizerState();
        }
        const generation = weightsGeneration(model);
        for (const c of callbacks) await c.onEpochEnd(epoch, logs);
        if (weightsGeneration(model) !== generation) sync.push(session); // a callback changed the weights
        if (verbose === 1) bar.finish(logs);
        if (verbose === 2) this.write(`Epoch ${epoch + 1}/${epochs} - ${((performance.now() - started) / 1000).toFixed(0)}s - ${formatLogs(logs)}\n`);
      }
      for (const c of callbacks) await c.onTrainEnd({});
      if (healthy) config.optimizer.variables = session.getOptimizerState();
    } finally {
      session.dispose();
      this.interruptRequested = false;
    }
    return history;
  }

  private async evaluateOn(session: TrainingSession, config: CompiledConfig, data: Dataset, batchSize: number, prefix: string): Promise<Logs> {
    const totals = new MetricTotals(config);
    for (const batch of batches(data, { batchSize })) totals.add(await engineStep(session.evaluate(batch.x, batch.y)), batch.size);
    return totals.logs(prefix);
  }

  async evaluate(model: Model, x: ArrayData[], y: ArrayData[], options: EvaluateOptions): Promise<Logs> {
    const config = model.compiled!;
    const data = makeDataset(x as NdArray[], targetsFor(model, config, y as NdArray[]));
    validateDataset(model, [{ name: 'evaluation', data }]);
    const { session } = this.open(model, config, 0, this.backendFor(options.device, `${model.name}.evaluate()`));
    try {
      return await this.evaluateOn(session, config, data, options.batchSize ?? 32, '');
    } finally {
      session.dispose();
    }
  }

  /** Inference on the engine (Dropout off, moving statistics), as onnxruntime computes it. */
  async predict(model: Model, inputs: ArrayData[], options: PredictOptions): Promise<ArrayData[]> {
    checkInputShapes(model, inputs, 'predict() data');
    const { session } = this.open(model, model.compiled, 0, this.backendFor(undefined, `${model.name}.predict()`));
    const batchSize = options.batchSize ?? 32;
    const size = inputs[0]!.shape[0]!;
    const dataset = makeDataset(inputs as NdArray[], [{ dtype: 'int32', shape: [size], data: new Int32Array(size) }]);
    const parts: NdArray[][] = [];
    try {
      for (const batch of batches(dataset, { batchSize })) {
        const outputs = await engineStep(session.forward(batch.x as SampleArray[]));
        parts.push(outputs.map((o) => ({ dtype: 'float32', shape: o.shape, data: o.data as Float32Array })));
      }
    } finally {
      session.dispose();
    }
    return model.outputs.map((_, i) => concatRows(parts.map((p) => p[i]!)) as ArrayData);
  }
}
