// compile() / fit() / evaluate(): Keras's training API. compile() resolves the optimizer,
// one loss per output and the metrics here (pure TypeScript); fit() and evaluate() run on
// the training backend the host registers (the native engine, in 'strata/node' and the CLI).
import type { ArrayData } from './backend.ts';
import type { Callback, History, Logs } from './callbacks.ts';
import { ValueError } from './errors.ts';
import { deserializeLoss, getLoss, type Loss, type LossIdentifier } from './losses.ts';
import { isSupportedMetric, resolveMetric, serializeMetric, type KerasMetric, type MetricIdentifier, type OutputMetric } from './metrics.ts';
import type { Model } from './model.ts';
import { getOptimizer, optimizerFromConfig, type Optimizer } from './optimizers.ts';

export interface CompileArgs {
  optimizer?: Parameters<typeof getOptimizer>[0];
  /** One loss for every output, a list (one per output), or a map by output name. */
  loss: LossIdentifier | LossIdentifier[] | Record<string, LossIdentifier>;
  /**
   * Keras's metrics: a list for every output, a list of lists (one per output), or a map by
   * output name. 'accuracy' reports the accuracy Keras picks for each loss; also 'mae', 'mse',
   * their long names, the explicit accuracies and {className: 'RootMeanSquaredError'} (metrics.ts).
   */
  metrics?: MetricsArg;
  /** Keras's loss_weights: a list (one per output) or a map by output name. */
  lossWeights?: number[] | Record<string, number>;
}

export interface OutputLoss extends Loss {
  /** The output layer's name (also the ONNX graph output's). */
  output: string;
  weight: number;
  /** The metrics logged for this output, in compile's order. */
  metrics: OutputMetric[];
}

export type MetricsArg = MetricIdentifier[] | MetricIdentifier[][] | Record<string, MetricIdentifier | MetricIdentifier[]>;

export interface CompiledConfig {
  optimizer: Optimizer;
  losses: OutputLoss[];
  /** The metrics as a training_config writes them: a list (one output) or a map by output name. */
  metrics: KerasMetric[] | Record<string, KerasMetric[]>;
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

/** Each output's metric identifiers: one list for every output, a list per output, or a map by output name (absent: none). */
function metricsPerOutput(metrics: MetricsArg | undefined, names: string[]): MetricIdentifier[][] {
  if (metrics === undefined) return names.map(() => []);
  if (Array.isArray(metrics)) {
    const lists = metrics.filter((m) => Array.isArray(m)).length;
    if (lists === 0) return names.map(() => metrics as MetricIdentifier[]);
    if (lists !== metrics.length) throw new ValueError('compile: metrics mixes lists and single metrics; give one list for every output, a list per output, or a map by output name');
    return perOutput(metrics as MetricIdentifier[][], names, 'metrics', (v): v is MetricIdentifier[] => false);
  }
  if (typeof metrics !== 'object' || metrics === null) throw new ValueError(`compile: metrics must be a list or a map by output name, got ${JSON.stringify(metrics)}`);
  for (const key of Object.keys(metrics)) if (!names.includes(key)) throw new ValueError(`compile: metrics names "${key}", which is not an output; outputs: ${names.join(', ')}`);
  return names.map((name) => {
    const entry = metrics[name];
    return entry === undefined ? [] : Array.isArray(entry) ? entry : [entry];
  });
}

function resolveOutputMetrics(ids: MetricIdentifier[], output: string, loss: Loss): OutputMetric[] {
  const resolved: OutputMetric[] = [];
  for (const id of ids) {
    const metric = resolveMetric(id, output, loss.kind);
    if (!metric) continue;
    if (resolved.some((m) => m.name === metric.name)) throw new ValueError(`compile: metric "${metric.name}" is given twice for output "${output}"`);
    resolved.push(metric);
  }
  return resolved;
}

export function resolveCompile(model: Model, args: CompileArgs): CompiledConfig {
  const names = model.outputs.map((t) => t.sourceLayer.name);
  const losses = perOutput(args.loss, names, 'loss', isLoss).map(getLoss);
  const weights = args.lossWeights === undefined ? names.map(() => 1) : perOutput(args.lossWeights, names, 'lossWeights', isNumber);
  const metricIds = metricsPerOutput(args.metrics, names);
  const outputs = losses.map((loss, i) => ({ ...loss, output: names[i]!, weight: weights[i]!, metrics: resolveOutputMetrics(metricIds[i]!, names[i]!, loss) }));
  const serialized = outputs.map((o) => o.metrics.map(serializeMetric));
  return {
    optimizer: getOptimizer(args.optimizer ?? 'rmsprop'),
    metrics: names.length > 1 ? Object.fromEntries(names.map((name, i) => [name, serialized[i]!])) : serialized[0]!,
    losses: outputs,
  };
}

/** A logged metric: its name in History and where its value comes from (loss index, metric index). */
export interface LoggedMetric {
  name: string;
  loss: number;
  metric: OutputMetric;
  index: number;
}

/** The metrics fit() logs beside the losses, each named as Keras does: prefixed by its output's name when there are several. */
export function loggedMetrics(config: CompiledConfig): LoggedMetric[] {
  const several = config.losses.length > 1;
  return config.losses.flatMap((loss, i) => loss.metrics.map((metric, index) => ({ name: several ? `${loss.output}_${metric.name}` : metric.name, loss: i, metric, index })));
}

/** The names fit() logs, in Keras's order: loss, then per output (prefixed when there are several) its loss and its metrics. */
export function logNames(config: CompiledConfig): string[] {
  const several = config.losses.length > 1;
  const metrics = loggedMetrics(config);
  const names = ['loss'];
  config.losses.forEach((loss, i) => {
    if (several) names.push(`${loss.output}_loss`);
    names.push(...metrics.filter((m) => m.loss === i).map((m) => m.name));
  });
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
  args.metrics = computableMetrics(config.metrics);
  const weights = config.loss_weights;
  if (Array.isArray(weights)) args.lossWeights = weights as number[];
  else if (weights && typeof weights === 'object') args.lossWeights = weights as Record<string, number>;
  return args;
}

/**
 * The metrics of a training_config that Strata computes, in compile's forms (a list, a list
 * per output, a map by output name); the others (an AUC, a custom function) are left out, so
 * that the file still loads and trains.
 */
function computableMetrics(metrics: unknown): MetricsArg {
  const keep = (list: unknown): MetricIdentifier[] => (Array.isArray(list) ? list : [list]).filter(isSupportedMetric);
  if (Array.isArray(metrics)) return metrics.some((m) => Array.isArray(m)) ? metrics.map(keep) : keep(metrics);
  if (typeof metrics === 'object' && metrics !== null) return Object.fromEntries(Object.entries(metrics).map(([output, list]) => [output, keep(list)]));
  return [];
}
