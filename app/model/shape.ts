// Shapes as Keras writes them: the batch dimension first and `null` where a size is not
// known until run time, e.g. (None, 64, 64, 3) is [null, 64, 64, 3].
import { ShapeError, ValueError } from './errors.ts';
import { LIMITS } from './limits.ts';

export type Dim = number | null;
export type Shape = Dim[];

/** Keras's spelling of a shape, e.g. "(None, 62, 62, 32)"; a 1-tuple keeps its comma. */
export function formatShape(shape: readonly Dim[]): string {
  const dims = shape.map((d) => (d === null ? 'None' : String(d)));
  return dims.length === 1 ? `(${dims[0]},)` : `(${dims.join(', ')})`;
}

export function shapesEqual(a: readonly Dim[], b: readonly Dim[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** Product of the sizes, or null when any is unknown. */
export function sizeOf(dims: readonly Dim[]): number | null {
  let n = 1;
  for (const d of dims) {
    if (d === null) return null;
    n *= d;
  }
  return n;
}

/** Product of known sizes (for weights, whose shapes are always fully known). */
export function product(dims: readonly number[]): number {
  return dims.reduce((a, b) => a * b, 1);
}

/** Accepts an int or a tuple, as Keras's `kernel_size=3` or `(3, 3)`; each a positive integer. */
export function normalizeTuple(value: number | readonly number[], n: number, field: string, owner: string): number[] {
  const tuple = typeof value === 'number' ? Array<number>(n).fill(value) : Array.isArray(value) ? [...value] : [];
  if (tuple.length !== n || !tuple.every((v) => Number.isSafeInteger(v) && v > 0 && v <= LIMITS.dimension)) {
    throw new ValueError(`${owner}: ${field} must be a positive integer or a tuple of ${n} positive integers, got ${JSON.stringify(value) ?? String(value)}`, { layer: owner, field });
  }
  return tuple;
}

/**
 * A layer built for `builtFor` (Normalization, LayerNormalization: weights sized by `axes`)
 * takes only inputs of the same rank and the same sizes along those axes.
 */
export function assertBuiltAxes(owner: string, builtFor: readonly Dim[] | null, shape: readonly Dim[], axes: readonly number[]): void {
  if (builtFor && (shape.length !== builtFor.length || axes.some((a) => shape[a] !== builtFor[a]))) {
    throw new ShapeError(`${owner}: built for inputs of shape ${formatShape(builtFor)}, got ${formatShape(shape)}`);
  }
}
