// Keras's weight regularizers (keras.regularizers: L1, L2, L1L2), as Dense and Conv2D take them.
// The math runs in the native engine, as Keras 3 defines it: l1 * sum(|w|) + l2 * sum(w^2)
// joins the loss (in training and evaluation). Here: names, checks and Keras's serialized forms.
import { ConfigError } from './errors.ts';
import { checkNumber } from './options.ts';

export interface Regularizer {
  readonly className: 'L1' | 'L2' | 'L1L2';
  readonly l1: number;
  readonly l2: number;
}

/** A Keras-serialized regularizer or constraint: {"class_name", "config"} (Keras 3 adds "module", "registered_name"). */
export interface SerializedObject {
  class_name: string;
  config?: Record<string, unknown>;
}

export type RegularizerIdentifier = string | Regularizer | SerializedObject;

function factor(owner: string, key: string, value: unknown, fallback: number): number {
  return value === undefined ? fallback : checkNumber(owner, key, value, (v) => v >= 0, 'a number >= 0');
}

/** keras.regularizers.L1(l1=0.01): l1 * sum(|w|). */
export function l1(l1 = 0.01): Regularizer {
  return { className: 'L1', l1: factor('L1', 'l1', l1, 0.01), l2: 0 };
}

/** keras.regularizers.L2(l2=0.01): l2 * sum(w^2). */
export function l2(l2 = 0.01): Regularizer {
  return { className: 'L2', l1: 0, l2: factor('L2', 'l2', l2, 0.01) };
}

/** keras.regularizers.L1L2(l1=0, l2=0), Keras 3's defaults. */
export function l1L2(args: { l1?: number; l2?: number } = {}): Regularizer {
  return { className: 'L1L2', l1: factor('L1L2', 'l1', args.l1, 0), l2: factor('L1L2', 'l2', args.l2, 0) };
}

/** Keras's names for the classes: the class name and its snake_case alias. */
const REGULARIZER_NAMES: Record<string, Regularizer['className']> = { L1: 'L1', l1: 'L1', L2: 'L2', l2: 'L2', L1L2: 'L1L2', l1_l2: 'L1L2' };

/** The config of a serialized object, checked to be an object. */
export function configOf(owner: string, identifier: SerializedObject): Record<string, unknown> {
  const config = identifier.config ?? {};
  if (typeof config !== 'object' || config === null || Array.isArray(config)) throw new ConfigError(`${owner}: "config" must be an object, got ${JSON.stringify(config)}`);
  return config;
}

/** A regularizer from a name ('l1', 'l2', 'l1_l2', or a class name), a made one, or Keras's serialized form; null for null. */
export function getRegularizer(identifier: RegularizerIdentifier | null | undefined, owner: string): Regularizer | null {
  if (identifier === null || identifier === undefined) return null;
  const name = typeof identifier === 'string' ? identifier : (identifier as { className?: string; class_name?: string }).class_name ?? (identifier as Regularizer).className;
  const kind = typeof name === 'string' ? REGULARIZER_NAMES[name] : undefined;
  if (!kind) {
    throw new ConfigError(`${owner}: unknown regularizer ${JSON.stringify(name ?? identifier)}; supported: ${Object.keys(REGULARIZER_NAMES).join(', ')}`);
  }
  if (typeof identifier === 'string') return kind === 'L1' ? l1() : kind === 'L2' ? l2() : l1L2();
  if ('className' in identifier) return { className: kind, l1: factor(owner, 'l1', identifier.l1, 0), l2: factor(owner, 'l2', identifier.l2, 0) };
  const config = configOf(owner, identifier);
  const keys = kind === 'L1' ? ['l1'] : kind === 'L2' ? ['l2'] : ['l1', 'l2'];
  const unknown = Object.keys(config).filter((k) => !keys.includes(k));
  if (unknown.length > 0) throw new ConfigError(`${owner}: ${kind} takes ${keys.join(' and ')}, not ${unknown.map((k) => JSON.stringify(k)).join(', ')}`);
  if (kind === 'L1') return { className: kind, l1: factor(owner, 'l1', config.l1, 0.01), l2: 0 };
  if (kind === 'L2') return { className: kind, l1: 0, l2: factor(owner, 'l2', config.l2, 0.01) };
  return { className: kind, l1: factor(owner, 'l1', config.l1, 0), l2: factor(owner, 'l2', config.l2, 0) };
}

/** Keras's serialized form, as tf.keras writes it: {"class_name": "L2", "config": {"l2": 0.01}}. */
export function serializeRegularizer(regularizer: Regularizer | null): SerializedObject | null {
  if (!regularizer) return null;
  const { className, l1: a, l2: b } = regularizer;
  const config = className === 'L1' ? { l1: a } : className === 'L2' ? { l2: b } : { l1: a, l2: b };
  return { class_name: className, config };
}
