// Keras's weight constraints (keras.constraints: MaxNorm, NonNeg, UnitNorm, MinMaxNorm), as Dense
// and Conv2D take them. The native engine applies them after each optimizer step, as Keras 3
// does, the norms taken over `axis`. Here: names, checks and Keras's serialized forms.
import { ConfigError, ValueError } from './errors.ts';
import { checkNumber } from './options.ts';
import { configOf, type SerializedObject } from './regularizers.ts';

export interface Constraint {
  readonly className: 'MaxNorm' | 'NonNeg' | 'UnitNorm' | 'MinMaxNorm';
  /** The axes (of the weight, in Keras's layout) the norms are taken over; none for NonNeg. */
  readonly axis: number[];
  readonly minValue: number;
  readonly maxValue: number;
  /** MinMaxNorm's step toward the range: 1 projects onto it. */
  readonly rate: number;
}

export type ConstraintIdentifier = string | Constraint | SerializedObject;

const CONSTRAINT_NAMES: Record<string, Constraint['className']> = {
  MaxNorm: 'MaxNorm', max_norm: 'MaxNorm', NonNeg: 'NonNeg', non_neg: 'NonNeg', UnitNorm: 'UnitNorm', unit_norm: 'UnitNorm', MinMaxNorm: 'MinMaxNorm', min_max_norm: 'MinMaxNorm',
};

/** Each class's config keys and Keras's defaults. */
const CONSTRAINT_DEFAULTS: Record<Constraint['className'], Record<string, unknown>> = {
  MaxNorm: { max_value: 2, axis: 0 },
  NonNeg: {},
  UnitNorm: { axis: 0 },
  MinMaxNorm: { min_value: 0, max_value: 1, rate: 1, axis: 0 },
};

function axesOf(owner: string, value: unknown): number[] {
  const axes = typeof value === 'number' ? [value] : value;
  if (!Array.isArray(axes) || axes.length === 0 || !axes.every((a) => Number.isInteger(a))) throw new ValueError(`${owner}: axis must be an integer or a list of integers, got ${JSON.stringify(value)}`);
  return axes as number[];
}

/** A constraint from a name ('max_norm', 'non_neg', 'unit_norm', 'min_max_norm', or a class name), a made one, or Keras's serialized form. */
export function getConstraint(identifier: ConstraintIdentifier | null | undefined, owner: string): Constraint | null {
  if (identifier === null || identifier === undefined) return null;
  const name = typeof identifier === 'string' ? identifier : (identifier as { className?: string; class_name?: string }).class_name ?? (identifier as Constraint).className;
  const kind = typeof name === 'string' ? CONSTRAINT_NAMES[name] : undefined;
  if (!kind) throw new ConfigError(`${owner}: unknown constraint ${JSON.stringify(name ?? identifier)}; supported: ${Object.keys(CONSTRAINT_NAMES).join(', ')}`);
  const given: Record<string, unknown> =
    typeof identifier === 'string' ? {} : configOf(owner, 'className' in identifier ? serializeConstraint(identifier)! : identifier);
  const defaults = CONSTRAINT_DEFAULTS[kind];
  const unknown = Object.keys(given).filter((k) => !(k in defaults) && given[k] !== undefined);
  if (unknown.length > 0) throw new ConfigError(`${owner}: ${kind} takes ${Object.keys(defaults).join(', ') || 'no arguments'}, not ${unknown.map((k) => JSON.stringify(k)).join(', ')}`);
  const value = (key: string) => given[key] ?? defaults[key];
  const minValue = kind === 'MinMaxNorm' ? checkNumber(owner, 'min_value', value('min_value'), (v) => v >= 0, 'a number >= 0') : 0;
  const maxValue = kind === 'MaxNorm' || kind === 'MinMaxNorm' ? checkNumber(owner, 'max_value', value('max_value'), (v) => v >= minValue, `a number >= ${minValue}`) : 0;
  const rate = kind === 'MinMaxNorm' ? checkNumber(owner, 'rate', value('rate'), (v) => v >= 0 && v <= 1, 'in [0, 1]') : 1;
  return { className: kind, axis: kind === 'NonNeg' ? [] : axesOf(owner, value('axis')), minValue, maxValue, rate };
}

/** Keras's serialized form: {"class_name": "MaxNorm", "config": {"max_value": 2, "axis": 0}}. */
export function serializeConstraint(constraint: Constraint | null): SerializedObject | null {
  if (!constraint) return null;
  const { className, axis, minValue, maxValue, rate } = constraint;
  const oneAxis = axis.length === 1 ? axis[0] : [...axis];
  const config: Record<string, unknown> =
    className === 'NonNeg' ? {} : className === 'UnitNorm' ? { axis: oneAxis } : className === 'MaxNorm' ? { max_value: maxValue, axis: oneAxis } : { min_value: minValue, max_value: maxValue, rate, axis: oneAxis };
  return { class_name: className, config };
}

/** keras.constraints.MaxNorm(max_value=2, axis=0). */
export function maxNorm(args: { maxValue?: number; axis?: number | number[] } = {}): Constraint {
  return getConstraint({ class_name: 'MaxNorm', config: { max_value: args.maxValue ?? 2, axis: args.axis ?? 0 } }, 'MaxNorm')!;
}

/** keras.constraints.NonNeg(). */
export function nonNeg(): Constraint {
  return getConstraint('NonNeg', 'NonNeg')!;
}

/** keras.constraints.UnitNorm(axis=0). */
export function unitNorm(args: { axis?: number | number[] } = {}): Constraint {
  return getConstraint({ class_name: 'UnitNorm', config: { axis: args.axis ?? 0 } }, 'UnitNorm')!;
}

/** keras.constraints.MinMaxNorm(min_value=0, max_value=1, rate=1, axis=0). */
export function minMaxNorm(args: { minValue?: number; maxValue?: number; rate?: number; axis?: number | number[] } = {}): Constraint {
  return getConstraint({ class_name: 'MinMaxNorm', config: { min_value: args.minValue ?? 0, max_value: args.maxValue ?? 1, rate: args.rate ?? 1, axis: args.axis ?? 0 } }, 'MinMaxNorm')!;
}
