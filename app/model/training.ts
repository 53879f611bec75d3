// compile() / fit() / evaluate(): Keras's training API. compile() resolves the optimizer,
// one loss per output and the metrics here (pure TypeScript); fit() and evaluate() run on
// the training backend the host registers (the native engine, in 'strata/node' and the CLI).
import type { ArrayData } from './backend.ts';
import type { Callback, History, Logs } from './callbacks.ts';
import { ValueError } from './errors.ts';
import { accuracyNameFor, deserializeLoss, getLoss, type Loss, type LossIdentifier } from './losses.ts';
import type { Model } from './model.ts';
import { getOptimizer, optimizerFromConfig, type Optimizer } from './optimizers.ts';

export interface CompileArgs {
  optimizer?: Parameters<typeof getOptimizer>[0];
  /** One loss for every output, a list (one per output), or a map by output name. */
  loss: LossIdentifier | LossIdentifier[] | Record<string, LossIdentifier>;
  /** ['accuracy'] reports the accuracy Keras picks for each loss. */
  metrics?: string[];
  /** Keras's loss_weights: a list (one per output) or a map by output name. */
  lossWeights?: number[] | Record<string, number>;
}

export interface OutputLoss extends Loss {
  /** The output layer's name (also the ONNX graph output's). */
  output: string;
  weight: number;
  /** The accuracy logged for this output, or null. */
  accuracy: string | null;
}

export interface CompiledConfig {
  optimizer: Optimizer;
  losses: OutputLoss[];
  metrics: string[];
}

function perOutput<T>(value: T | T[] | Record<string, T>, names: string[], what: string, isSingle: (v: unknown) => v is T): T[] {
  if (isSingle(value)) return names.map(() => value);
  if (Array.isArray(value)) {
    if (value.length !== names.length) throw new ValueError(`compile: ${what} has ${value.length} entries, the model has ${names.length} outputs (${names.join(', ')})`);
    return value;
  }
  const map = value as Record<string, T>;
  for (const key of Object.keys(map)) if (!names.includes(key)) throw new ValueError(`compile: ${what} names "${key}", which is not an output; outputs: ${names.join(', ')}`);
  return names.map((name) => {
    if (!(name in map)) throw new ValueError(`compile: ${what} has no entry for output "${name}"`);
    return map[name]!;
  });
}

/** A loss (a name or {kind, fromLogits}), as opposed to a map by output name, whose keys are free. */
const isLoss = (v: unknown): v is LossIdentifier =>
  typeof v === 'string' || (typeof v === 'object' && v !== null && 'fromLogits' in v && typeof (v as { kind?: unknown }).kind === 'string');
const isNumber = (v: unknown): v is number => typeof v === 'number';

export function resolveCompile(model: Model, args: CompileArgs): CompiledConfig {
  const names = model.outputs.map((t) => t.sourceLayer.name);
  const metrics = args.metrics ?? [];
  for (const metric of metrics) {
    if (!['accuracy', 'acc'].includes(metric)) throw new ValueError(`compile: unsupported metric "${metric}"; supported: accuracy (each output's loss is always logged)`);
  }
  const losses = perOutput(args.loss, names, 'loss', isLoss).map(getLoss);
  const weights = args.lossWeights === undefined ? names.map(() => 1) : perOutput(args.lossWeights, names, 'lossWeights', isNumber);
  return {
    optimizer: getOptimizer(args.optimizer ?? 'rmsprop'),
    metrics,
    losses: losses.map((loss, i) => ({
      ...loss,
      output: names[i]!,
      weight: weights[i]!,
      accuracy: metrics.length > 0 ? accuracyNameFor(loss.kind) : null,
    })),
  };
}

/** The names fit() logs, in Keras's order: loss, then per output (prefixed when there are several). */
export function logNames(config: CompiledConfig): string[] {
  const several = config.losses.length > 1;
  const names = ['loss'];
  for (const loss of config.losses) {
    if (several) names.push(`${loss.output}_loss`);
    if (loss.accuracy) names.push(several ? `${loss.output}_accuracy` : 'accuracy');
  }
  return names;
}

export interface FitOptions {
  epochs?: number;
  batchSize?: number;
  /** The last fraction of the data is held out for validation (before shuffling), as Keras. */
  validationSplit?: number;
  validationData?: [ArrayData | ArrayData[] | Record<string, ArrayData>, ArrayData | ArrayData[] | Record<string, ArrayData>];
  shuffle?: boolean;
  initialEpoch?: number;
  /** Class id -> weight of that class's samples in the loss. */
  classWeight?: Record<number, number>;
  callbacks?: Callback[];
  /** 0 silent, 1 progress bar, 2 one line per epoch. */
  verbose?: 0 | 1 | 2;
  /** Seeds shuffling and Dropout. */
  seed?: number;
  /** Where the engine trains: 'auto' (default) the GPU when a usable one is there, else the CPU. */
  device?: Device;
}

/** The engine's device: 'cuda' fails with the reason when no usable GPU is there. */
export type Device = 'auto' | 'cpu' | 'cuda';

export interface EvaluateOptions {
  batchSize?: number;
  verbose?: 0 | 1;
  device?: Device;
}

export interface TrainingBackend {
  readonly name: string;
  fit(model: Model, x: ArrayData[], y: ArrayData[], options: FitOptions): Promise<History>;
  evaluate(model: Model, x: ArrayData[], y: ArrayData[], options: EvaluateOptions): Promise<Logs>;
}

let trainingBackend: TrainingBackend | null = null;

export function setTrainingBackend(next: TrainingBackend | null): void {
  trainingBackend = next;
}

export function getTrainingBackend(): TrainingBackend {
  if (!trainingBackend) {
    throw new ValueError("fit() and evaluate() need the training engine: in Node, import from 'strata/node'; the strata command and the app register it themselves");
  }
  return trainingBackend;
}

/** compile() arguments from Keras's training_config (tf.keras files, TensorFlow.js model.json). */
export function compileArgsFromTrainingConfig(config: Record<string, unknown>): CompileArgs {
  const rawLoss = config.loss;
  const loss =
    typeof rawLoss === 'object' && rawLoss !== null && !Array.isArray(rawLoss) && !('class_name' in rawLoss)
      ? Object.fromEntries(Object.entries(rawLoss).map(([k, v]) => [k, deserializeLoss(v)]))
      : Array.isArray(rawLoss)
        ? rawLoss.map(deserializeLoss)
        : deserializeLoss(rawLoss);
  const args: CompileArgs = { loss };
  // tf.keras 2.x's training_config says optimizer_config; Keras 3's compile_config says optimizer.
  const optimizer = (config.optimizer_config ?? config.optimizer) as { class_name?: string; config?: Record<string, unknown> } | undefined;
  if (optimizer?.class_name) args.optimizer = optimizerFromConfig(optimizer.class_name, optimizer.config ?? {});
  const metrics = Array.isArray(config.metrics) ? (config.metrics as unknown[]).flat() : [];
  args.metrics = metrics.filter((m): m is string => typeof m === 'string' && ['accuracy', 'acc'].includes(m));
  const weights = config.loss_weights;
  if (Array.isArray(weights)) args.lossWeights = weights as number[];
  else if (weights && typeof weights === 'object') args.lossWeights = weights as Record<string, number>;
  return args;
}
