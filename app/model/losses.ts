// Keras's losses by name, with from_logits; the fused, stable implementations are the
// engine's (native/core/losses.h). Each loss also decides which accuracy Keras reports.
import { ValueError } from './errors.ts';

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

/** A loss from Keras's name ('mse' too) or {kind, fromLogits}. */
export function getLoss(identifier: LossIdentifier): Loss {
  if (typeof identifier !== 'string') return { kind: getLoss(identifier.kind).kind, fromLogits: identifier.fromLogits };
  const kind = ALIASES[identifier];
  if (!kind) throw new ValueError(`unknown loss ${JSON.stringify(identifier)}; supported: ${Object.keys(ALIASES).join(', ')}`);
  return { kind, fromLogits: false };
}

/** Keras's constructors: `new losses.SparseCategoricalCrossentropy({fromLogits: true})` style, as functions. */
export const SparseCategoricalCrossentropy = ({ fromLogits = false } = {}): Loss => ({ kind: 'sparse_categorical_crossentropy', fromLogits });
export const CategoricalCrossentropy = ({ fromLogits = false } = {}): Loss => ({ kind: 'categorical_crossentropy', fromLogits });
export const BinaryCrossentropy = ({ fromLogits = false } = {}): Loss => ({ kind: 'binary_crossentropy', fromLogits });
export const MeanSquaredError = (): Loss => ({ kind: 'mean_squared_error', fromLogits: false });
export const MeanAbsoluteError = (): Loss => ({ kind: 'mean_absolute_error', fromLogits: false });

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
