// How the views spell numbers, shapes and sizes. Keras shapes keep Keras's spelling
// ("(None, 29, 29, 64)", formatShape); ONNX dims follow Netron ("1×64×56×56", "?" unknown).
import type { Dim } from '../../../app/onnx/description.ts';

export { formatShape } from '../../../app/model/shape.ts';
export { formatCount, readableMemorySize } from '../../../app/model/summary.ts';

/** ONNX dims as Netron writes them on edges: "1×3×224×224", "batch×1000"; "scalar" for rank 0. */
export function formatDims(shape: readonly Dim[] | null): string {
  if (shape === null) return '?';
  if (shape.length === 0) return 'scalar';
  return shape.map((d) => (d === null ? '?' : String(d))).join('×');
}

/** An ONNX value's type with its shape, as the side panel shows it: "float32[1,3,224,224]". */
export function formatTensorType(type: string, shape: readonly Dim[] | null): string {
  if (shape === null) return type;
  return `${type}[${shape.map((d) => (d === null ? '?' : String(d))).join(',')}]`;
}

/** A weight's shape the way Keras prints it in Python: "(3, 3, 32, 64)", "(64,)". */
export function formatTuple(shape: readonly number[]): string {
  return shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
}

/** Statistics and tensor values: up to 4 significant digits, exponent form for the very small or large. */
export function formatValue(value: number | string | boolean | null): string {
  if (value === null) return '–';
  if (typeof value !== 'number') return String(value);
  if (Number.isNaN(value)) return 'NaN';
  if (!Number.isFinite(value)) return value > 0 ? '∞' : '−∞';
  if (Number.isInteger(value) && Math.abs(value) < 1e9) return String(value);
  const magnitude = Math.abs(value);
  if (magnitude !== 0 && (magnitude < 1e-3 || magnitude >= 1e6)) return value.toExponential(3).replace(/\.?0+e/, 'e');
  return String(Number(value.toPrecision(4)));
}
