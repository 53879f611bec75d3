// What the preview draws, decided without a canvas (no DOM here, so Node's tests can run it):
// how a tensor is drawn, the grid of feature maps, which maps a thumbnail shows, the top
// classes, a layer's shape.
import type { PreviewTensor } from '../../../app/contract/api.ts';

/** How a tensor is drawn: maps of an image-like output, one map of a matrix (a sequence's steps by features), bars of a vector, nothing for other ranks. */
export function previewKind(tensor: PreviewTensor): 'maps' | 'matrix' | 'vector' | 'other' {
  if (tensor.shape.length === 3) return 'maps';
  if (tensor.shape.length === 2) return 'matrix';
  if (tensor.shape.length === 1) return 'vector';
  return 'other';
}

/** The output's shape as the model has it (feature maps count every channel, also those left out), batch first. */
export function modelShapeOf(tensor: PreviewTensor): (number | null)[] {
  const shape = tensor.shape.length === 3 ? [...tensor.shape.slice(0, 2), tensor.channels] : tensor.shape;
  return [null, ...shape];
}

/** A (rows, columns) tensor, a sequence's steps by their features, as one map of rows x columns. */
export function matrixAsMap(tensor: PreviewTensor): PreviewTensor {
  return { ...tensor, shape: [...tensor.shape, 1], channels: 1 };
}

/** Columns and rows of the feature-map grid. */
export function gridOf(channels: number): { columns: number; rows: number } {
  const columns = Math.ceil(Math.sqrt(channels * 2));
  return { columns: Math.min(columns, channels), rows: Math.ceil(channels / Math.min(columns, channels)) };
}

/** The `count` channels whose values spread widest, in channel order. */
export function liveliest(ranges: { low: number; high: number }[], count: number): number[] {
  return ranges
    .map(({ low, high }, channel) => ({ channel, spread: high - low }))
    .sort((a, b) => b.spread - a.spread)
    .slice(0, count)
    .map(({ channel }) => channel)
    .sort((a, b) => a - b);
}

/** The top `count` entries of a vector, largest first (class probabilities). */
export function topValues(values: Float32Array, count: number): { index: number; value: number }[] {
  return [...values]
    .map((value, index) => ({ index, value }))
    .sort((a, b) => b.value - a.value)
    .slice(0, count);
}

/**
 * A vector as at most `count` bars: itself when it is that short, else each bar the value of
 * largest magnitude (its sign kept) among its share of consecutive values, so that a long
 * output (a Flatten's 12,544) shows where it is active, not only its first values.
 */
export function barsOf(values: Float32Array, count: number): number[] {
  if (values.length <= count) return Array.from(values);
  return Array.from({ length: count }, (_, bar) => {
    const [from, to] = [Math.floor((bar * values.length) / count), Math.floor(((bar + 1) * values.length) / count)];
    let strongest = 0;
    for (let i = from; i < to; i++) if (Math.abs(values[i]!) > Math.abs(strongest)) strongest = values[i]!;
    return strongest;
  });
}
