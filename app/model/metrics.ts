// Keras's compile metrics: the identifiers compile({metrics}) takes, the metric each resolves
// to for an output's loss, and the name Keras 3 logs it under (the string as given; a class's
// own name). The engine computes them beside the loss (native/core/losses.h's MetricKind).
import { ValueError } from './errors.ts';
import { accuracyNameFor, type LossKind } from './losses.ts';

export type MetricKind =
  | 'binary_accuracy'
  | 'categorical_accuracy'
  | 'sparse_categorical_accuracy'
  | 'mean_absolute_error'
  | 'mean_squared_error'
  | 'root_mean_squared_error';

/** An output's metric: what it computes and the name it is logged under (before any output prefix). */
export interface OutputMetric {
  kind: MetricKind;
  name: string;
}

/** Keras's RootMeanSquaredError (Keras has no string for it): `metrics: [new metrics.RootMeanSquaredError()]`. */
export class RootMeanSquaredError {
  readonly className = 'RootMeanSquaredError';
}

/**
 * A metric: a Keras name ('accuracy', 'mae', 'mean_squared_error', ...), a class as
 * {className: 'RootMeanSquaredError'} (an instance of metrics.RootMeanSquaredError), or Keras's
 * JSON {class_name: 'RootMeanSquaredError'}.
 */
export type MetricIdentifier = string | { className: string } | { class_name: string; config?: { name?: unknown } };

/** How a training_config spells a metric: the name as given, or a class as {class_name, config: {name}}. */
export type KerasMetric = string | { class_name: string; config: { name: string } };

const NAMES: Record<string, MetricKind> = {
  mae: 'mean_absolute_error',
  mean_absolute_error: 'mean_absolute_error',
  mse: 'mean_squared_error',
  mean_squared_error: 'mean_squared_error',
  binary_accuracy: 'binary_accuracy',
  categorical_accuracy: 'categorical_accuracy',
  sparse_categorical_accuracy: 'sparse_categorical_accuracy',
};

const CLASSES: Record<string, MetricKind> = {
  RootMeanSquaredError: 'root_mean_squared_error',
  MeanAbsoluteError: 'mean_absolute_error',
  MeanSquaredError: 'mean_squared_error',
  BinaryAccuracy: 'binary_accuracy',
  CategoricalAccuracy: 'categorical_accuracy',
  SparseCategoricalAccuracy: 'sparse_categorical_accuracy',
};

/** The metrics compile() takes, for the "supported" part of an error. */
export const SUPPORTED_METRICS = `'accuracy'/'acc', ${Object.keys(NAMES)
  .map((n) => `'${n}'`)
  .join(', ')}, {className: 'RootMeanSquaredError'}`;

const className = (id: MetricIdentifier): string | null => {
  if (typeof id !== 'object' || id === null) return null;
  const name = 'className' in id ? id.className : 'class_name' in id ? id.class_name : null;
  return typeof name === 'string' ? name : null;
};

/** The metric kind an identifier names whatever the loss ('accuracy' excepted: that depends on it); null when unknown. */
function kindOf(id: MetricIdentifier): MetricKind | 'accuracy' | null {
  if (typeof id === 'string') return ['accuracy', 'acc'].includes(id) ? 'accuracy' : Object.hasOwn(NAMES, id) ? NAMES[id]! : null;
  const cls = className(id);
  // tf.keras 2 writes a named function as {class_name: 'MeanMetricWrapper', config: {name, fn}}
  const fn = cls === 'MeanMetricWrapper' && 'config' in id ? (id.config as { fn?: unknown } | undefined)?.fn : undefined;
  if (typeof fn === 'string') return kindOf(fn);
  return cls !== null && Object.hasOwn(CLASSES, cls) ? CLASSES[cls]! : null;
}

/** Whether a metric can be computed: the identifier is one Strata knows. */
export function isSupportedMetric(id: unknown): id is MetricIdentifier {
  return (typeof id === 'string' || (typeof id === 'object' && id !== null)) && kindOf(id as MetricIdentifier) !== null;
}

/** Keras's log name for a class: its snake_case name ('RootMeanSquaredError' -> 'root_mean_squared_error'). */
export const classMetricName = (name: string) => name.replace(/(?<!^)([A-Z])/g, '_$1').toLowerCase();

/**
 * The metric an identifier resolves to on an output with the given loss, or a ValueError naming
 * the metric, the output and the loss: 'accuracy' is the loss's own accuracy (none for the
 * regression losses: nothing is logged, as before); the sparse accuracy reads class indices, so
 * it needs sparse_categorical_crossentropy, and the others, which read a target shaped as the
 * output, cannot follow that loss.
 */
export function resolveMetric(id: MetricIdentifier, output: string, loss: LossKind): OutputMetric | null {
  const kind = kindOf(id);
  if (kind === null) throw new ValueError(`compile: unknown metric ${JSON.stringify(id)} for output "${output}"; supported: ${SUPPORTED_METRICS}`);
  const cls = className(id);
  const configName = typeof id === 'object' && 'config' in id && typeof id.config?.name === 'string' ? id.config.name : null;
  const name = typeof id === 'string' ? id : (configName ?? classMetricName(cls!));
  if (kind === 'accuracy' || (cls === 'MeanMetricWrapper' && ['accuracy', 'acc'].includes(name))) {
    const accuracy = accuracyNameFor(loss) as MetricKind | null;
    return accuracy ? { kind: accuracy, name } : null;
  }
  const sparseTarget = loss === 'sparse_categorical_crossentropy';
  if ((kind === 'sparse_categorical_accuracy') !== sparseTarget) {
    const why = sparseTarget
      ? `its labels are class indices, which only 'accuracy' or 'sparse_categorical_accuracy' read`
      : `sparse_categorical_accuracy reads class indices, which only sparse_categorical_crossentropy takes`;
    throw new ValueError(`compile: metric ${JSON.stringify(name)} does not fit output "${output}" with loss ${loss}: ${why}`);
  }
  return { kind, name };
}

/** What Strata logs when nothing else is asked: the accuracy of a classifier's loss, else the mean absolute error. */
export function defaultMetricFor(loss: LossKind): 'accuracy' | 'mae' {
  return accuracyNameFor(loss) ? 'accuracy' : 'mae';
}

/** The metric as a training_config writes it: a string as it was given, a class as {class_name, config: {name}}. */
export function serializeMetric(metric: OutputMetric): KerasMetric {
  if (metric.kind !== 'root_mean_squared_error') return metric.name;
  return { class_name: 'RootMeanSquaredError', config: { name: metric.name } };
}

/** What the engine computes each step: the root of RootMeanSquaredError is taken over the epoch's mean squared error. */
export function engineMetric(kind: MetricKind): Exclude<MetricKind, 'root_mean_squared_error'> {
  return kind === 'root_mean_squared_error' ? 'mean_squared_error' : kind;
}
