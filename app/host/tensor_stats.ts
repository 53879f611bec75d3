// The statistics the side panels show for a weight or an initializer: min, max, mean, standard
// deviation (NumPy's np.std, the population one), a histogram over [min, max] and the first
// values. NaN and infinities are left out of the statistics and counted in the note, so one
// bad value does not hide the distribution of the rest.
import type { TensorStats } from '../contract/api.ts';

export const HISTOGRAM_BINS = 32;
export const FIRST_VALUES = 16;

export interface TensorStatsInput {
  name: string;
  dtype: string;
  shape: readonly number[];
}

/** Statistics of `values` (storage order). */
export function tensorStats(tensor: TensorStatsInput, values: ArrayLike<number | bigint>): TensorStats {
  const count = values.length;
  const first = Array.from({ length: Math.min(FIRST_VALUES, count) }, (_, i) => Number(values[i]!));
  let [min, max, sum, finite] = [Infinity, -Infinity, 0, 0];
  for (let i = 0; i < count; i++) {
    const v = Number(values[i]!);
    if (!Number.isFinite(v)) continue;
    if (v < min) min = v;
    if (v > max) max = v;
    sum += v;
    finite++;
  }
  const base = { name: tensor.name, dtype: tensor.dtype, shape: [...tensor.shape], count, first };
  if (finite === 0) return { ...base, ...withoutStatistics(count === 0 ? 'the tensor is empty' : `all ${count} values are NaN or infinite`) };
  const mean = sum / finite;
  let squares = 0;
  const histogram = new Array<number>(HISTOGRAM_BINS).fill(0);
  const width = (max - min) / HISTOGRAM_BINS;
  for (let i = 0; i < count; i++) {
    const v = Number(values[i]!);
    if (!Number.isFinite(v)) continue;
    squares += (v - mean) ** 2;
    // All values equal: one bin holds them; the maximum belongs to the last bin.
    histogram[width === 0 ? 0 : Math.min(HISTOGRAM_BINS - 1, Math.floor((v - min) / width))]!++;
  }
  const stats: TensorStats = { ...base, min, max, mean, std: Math.sqrt(squares / finite), histogram };
  if (finite < count) stats.note = `${count - finite} of ${count} values are NaN or infinite and are left out of the statistics`;
  return stats;
}

/** A tensor whose values cannot be read (external data, an element type without numbers): shape and count only. */
export function statsWithoutValues(tensor: TensorStatsInput, count: number, note: string): TensorStats {
  return { name: tensor.name, dtype: tensor.dtype, shape: [...tensor.shape], count, first: [], ...withoutStatistics(note) };
}

function withoutStatistics(note: string): Pick<TensorStats, 'min' | 'max' | 'mean' | 'std' | 'histogram' | 'note'> {
  return { min: null, max: null, mean: null, std: null, histogram: [], note };
}
