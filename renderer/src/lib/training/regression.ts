// A regression model's evaluation as the Evaluate section shows it: each sample's error, the
// samples ordered by it, and the points of the predicted-against-true chart.
import type { RegressionEvaluation } from '../../../../app/contract/training.ts';

type Values = Pick<RegressionEvaluation, 'width' | 'truth' | 'predicted'>;

/** Sample `s`'s mean absolute error over its `width` values. */
function sampleError({ width, truth, predicted }: Values, s: number): number {
  let sum = 0;
  for (let k = s * width; k < (s + 1) * width; k++) sum += Math.abs(predicted[k]! - truth[k]!);
  return sum / width;
}

/** Each sample's mean absolute error over its `width` values. */
export function sampleErrors(values: Values): number[] {
  return Array.from({ length: values.truth.length / values.width }, (_, s) => sampleError(values, s));
}

/** Sample indices, largest error first (ties in sample order). */
export function byLargestError(values: Values): number[] {
  const errors = sampleErrors(values);
  return errors.map((_, i) => i).sort((a, b) => errors[b]! - errors[a]! || a - b);
}

/**
 * The chart's points: x the true value, y the predicted one, in ascending x (uPlot draws
 * series over one ascending x), every value of every sample; and the diagonal where they agree.
 */
export function scatterPoints({ truth, predicted }: Values): { x: number[]; predicted: number[]; diagonal: number[] } {
  const order = truth.map((_, i) => i).sort((a, b) => truth[a]! - truth[b]!);
  const x = order.map((i) => truth[i]!);
  return { x, predicted: order.map((i) => predicted[i]!), diagonal: x };
}

/** A sample's caption under its true value: the prediction and how far off it is (one value a sample), else the mean absolute error. */
export function regressionCaption(values: Values, index: number, format: (value: number) => string): string {
  const error = sampleError(values, index);
  return values.width === 1 ? `→ ${format(values.predicted[index]!)} (off by ${format(error)})` : `mean error ${format(error)}`;
}

/** A sample's true value (one a sample), else its first values, for a caption that must name them. */
export function sampleTruth({ width, truth }: Values, index: number, format: (value: number) => string): string {
  const values = truth.slice(index * width, index * width + Math.min(width, 3)).map(format);
  return width === 1 ? values[0]! : `[${values.join(', ')}${width > 3 ? ', …' : ''}]`;
}

/** Keras's names for the errors the section computes itself, as evaluate() may log them. */
const LOGGED_AS = { mae: ['mae', 'mean_absolute_error'], rmse: ['root_mean_squared_error'] };

/**
 * Whether evaluate()'s metrics already hold an output's MAE or RMSE (the run logged it), so
 * the section does not show the same number twice. Several outputs prefix their names.
 */
export function loggedError(metrics: Record<string, number>, output: string, several: boolean, error: keyof typeof LOGGED_AS): boolean {
  return LOGGED_AS[error].some((name) => (several ? `${output}_${name}` : name) in metrics);
}
