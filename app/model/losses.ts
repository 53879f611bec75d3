// Keras's losses by name, with from_logits; the fused, stable implementations are the
// engine's (native/core/losses.h). Each loss also decides which accuracy Keras reports.
import { ValueError } from './errors.ts';
import { checkOptions } from './options.ts';

export type LossKind = 'sparse_categorical_crossentropy' | 'categorical_crossentropy' | 'binary_crossentropy' | 'mean_squared_error' | 'mean_absolute_error';

export interface Loss {
  kind: LossKind;
  fromLogits: boolean;
}

const ALIASES: Record<string, LossKind> = {
  sparse_categorical_crossentropy: 'sparse_categorical_crossentropy',
  categorical_crossentropy: 'categorical_crossentropy',
  binary_crossentropy: 'binary_crossentropy',
  mean_squared_error: 'mean_squared_error',
  mse: 'mean_squared_error',
  mean_absolute_error: 'mean_absolute_error',
  mae: 'mean_absolute_error',
};

export type LossIdentifier = string | Loss;

/** A loss from Keras's name ('mse' and the class names too), an instance of a loss class, or {kind, fromLogits}. */
export function getLoss(identifier: LossIdentifier): Loss {
  if (typeof identifier === 'object' && identifier !== null && typeof identifier.kind === 'string') {
    return { kind: getLoss(identifier.kind).kind, fromLogits: identifier.fromLogits ?? false };
  }
  if (typeof identifier !== 'string') {
    throw new ValueError(`expected a loss name such as 'sparse_categorical_crossentropy' or an instance such as new losses.SparseCategoricalCrossentropy({fromLogits: true}), got ${JSON.stringify(identifier)}`);
  }
  const kind = Object.hasOwn(ALIASES, identifier) ? ALIASES[identifier] : (Object.keys(CLASS_NAMES) as LossKind[]).find((k) => CLASS_NAMES[k] === identifier);
  if (!kind) throw new ValueError(`unknown loss ${JSON.stringify(identifier)}; supported: ${Object.keys(ALIASES).join(', ')}`);
  return { kind, fromLogits: false };
}

export interface CrossentropyArgs {
  /** The model's output is logits (no softmax/sigmoid) rather than probabilities. */
  fromLogits?: boolean;
}

/** Keras's loss classes, `new losses.SparseCategoricalCrossentropy({fromLogits: true})`, beside the names. */
function lossClass<K extends LossKind>(kind: K, className: string, known: readonly string[]) {
  return class implements Loss {
    readonly kind: K = kind;
    readonly fromLogits: boolean;
    constructor(args?: CrossentropyArgs) {
      const { fromLogits = false } = checkOptions(className, args, known, known.length ? '{fromLogits: true}' : '{}');
      if (typeof fromLogits !== 'boolean') throw new ValueError(`${className}: fromLogits must be true or false, got ${JSON.stringify(fromLogits)}`);
      this.fromLogits = fromLogits;
    }
  };
}

export const SparseCategoricalCrossentropy = lossClass('sparse_categorical_crossentropy', 'SparseCategoricalCrossentropy', ['fromLogits']);
export const CategoricalCrossentropy = lossClass('categorical_crossentropy', 'CategoricalCrossentropy', ['fromLogits']);
export const BinaryCrossentropy = lossClass('binary_crossentropy', 'BinaryCrossentropy', ['fromLogits']);
/** Takes no options (Keras's reduction and name are not supported). */
export const MeanSquaredError = lossClass('mean_squared_error', 'MeanSquaredError', []);
export const MeanAbsoluteError = lossClass('mean_absolute_error', 'MeanAbsoluteError', []);

/** The accuracy Keras's "accuracy" metric resolves to for a loss; null for regression. */
export function accuracyNameFor(kind: LossKind): string | null {
  switch (kind) {
    case 'sparse_categorical_crossentropy':
      return 'sparse_categorical_accuracy';
    case 'categorical_crossentropy':
      return 'categorical_accuracy';
    case 'binary_crossentropy':
      return 'binary_accuracy';
    default:
      return null;
  }
}

const CLASS_NAMES: Record<LossKind, string> = {
  sparse_categorical_crossentropy: 'SparseCategoricalCrossentropy',
  categorical_crossentropy: 'CategoricalCrossentropy',
  binary_crossentropy: 'BinaryCrossentropy',
  mean_squared_error: 'MeanSquaredError',
  mean_absolute_error: 'MeanAbsoluteError',
};

/** Keras's training_config spelling: the name, or {class_name, config: {from_logits}} for logits. */
export function serializeLoss(loss: Loss): string | { class_name: string; config: { from_logits: boolean } } {
  return loss.fromLogits ? { class_name: CLASS_NAMES[loss.kind], config: { from_logits: true } } : loss.kind;
}

export function deserializeLoss(value: unknown): Loss {
  if (typeof value === 'string') return getLoss(value);
  if (typeof value === 'object' && value !== null && 'class_name' in value) {
    const { class_name, config } = value as { class_name: string; config?: { from_logits?: boolean } };
    const kind = (Object.keys(CLASS_NAMES) as LossKind[]).find((k) => CLASS_NAMES[k] === class_name);
    if (!kind) throw new ValueError(`unsupported loss class ${JSON.stringify(class_name)} in training_config`);
    return { kind, fromLogits: config?.from_logits ?? false };
  }
  throw new ValueError(`unreadable loss ${JSON.stringify(value)} in training_config`);
}
