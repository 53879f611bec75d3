// Curves as the training views draw them: TensorBoard's smoothing (an exponential moving
// average, debiased at the start, the raw curve kept faint behind), one colour per run, and
// the columns uPlot wants (one shared x, each series null where it has no point).
import type { RunRecord } from '../../../../app/contract/training.ts';

/** TensorBoard's run colours (Google's palette), one per run in the order the runs began. */
export const RUN_COLORS = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];

/** A run's colour: by its place among the project's runs, oldest first, so it stays while runs are added. */
export function runColor(runId: string, runs: readonly Pick<RunRecord, 'id' | 'created'>[]): string {
  const order = [...runs].sort((a, b) => a.created.localeCompare(b.created) || a.id.localeCompare(b.id));
  const index = Math.max(0, order.findIndex((run) => run.id === runId));
  return RUN_COLORS[index % RUN_COLORS.length]!;
}

/**
 * TensorBoard's scalar smoothing: an exponential moving average with `weight` (0: none, 0.99:
 * heavy), debiased so that the first points are not pulled toward zero. Missing values (null,
 * NaN: a diverged step) stay missing and do not enter the average.
 */
export function smooth(values: readonly (number | null)[], weight: number): (number | null)[] {
  if (!(weight > 0)) return values.map((v) => (v === null || Number.isNaN(v) ? null : v));
  let last = 0;
  let count = 0;
  return values.map((value) => {
    if (value === null || !Number.isFinite(value)) return null;
    last = last * weight + (1 - weight) * value;
    count++;
    return last / (1 - weight ** count);
  });
}

/** One line of a chart: its points (x ascending), its colour, dashed for validation. */
export interface Curve {
  label: string;
  color: string;
  x: readonly number[];
  y: readonly (number | null)[];
  dashed?: boolean;
  /** Per-step values are noisy: these get the smoothed line over the faint raw one. */
  smoothed?: boolean;
  /** Points instead of a line (per-epoch values with few points read better marked). */
  points?: boolean;
}

/** uPlot's aligned columns: the union of every curve's x, each curve null where it has no point. */
export function alignCurves(curves: readonly Curve[]): { x: number[]; ys: (number | null)[][] } {
  const xs = [...new Set(curves.flatMap((curve) => curve.x))].sort((a, b) => a - b);
  const at = new Map(xs.map((x, i) => [x, i]));
  const ys = curves.map((curve) => {
    const column = new Array<number | null>(xs.length).fill(null);
    curve.x.forEach((x, i) => (column[at.get(x)!] = numberOrNull(curve.y[i])));
    return column;
  });
  return { x: xs, ys };
}

function numberOrNull(value: number | null | undefined): number | null {
  return value === null || value === undefined || !Number.isFinite(value) ? null : value;
}

/** The metrics a run logs, without their val_ prefix: loss first, then the rest by name. */
export function baseMetrics(run: Pick<RunRecord, 'history' | 'batches'>): string[] {
  const names = new Set([...Object.keys(run.history), ...Object.keys(run.batches.values)].map((name) => name.replace(/^val_/, '')));
  names.delete('learning_rate');
  return [...names].sort((a, b) => Number(b === 'loss') - Number(a === 'loss') || a.localeCompare(b));
}

/** A run's curves of one metric: every step (smoothed), each epoch's mean, and validation (dashed). */
export function runCurves(run: Pick<RunRecord, 'history' | 'batches' | 'initialEpoch'>, metric: string, color: string, prefix = ''): Curve[] {
  const epochs = (values: number[] | undefined) => (values ?? []).map((_, i) => run.initialEpoch + i + 1);
  const curves: Curve[] = [];
  const steps = run.batches.values[metric];
  if (steps?.length) curves.push({ label: `${prefix}${metric} (steps)`, color, x: run.batches.x, y: steps, smoothed: true });
  const train = run.history[metric];
  if (train?.length) curves.push({ label: `${prefix}${metric} (epochs)`, color, x: epochs(train), y: train, points: true });
  const validation = run.history[`val_${metric}`];
  if (validation?.length) curves.push({ label: `${prefix}val_${metric}`, color, x: epochs(validation), y: validation, dashed: true, points: true });
  return curves;
}
