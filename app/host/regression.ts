// How far a regression model's predictions lie from the targets, for the Evaluate section:
// the values of the first output against the targets, with their mean absolute error, root
// mean squared error and R² (scikit-learn's r2_score over every value).
import type { RegressionEvaluation } from '../contract/training.ts';
import type { NdArray } from '../data/ndarray.ts';
import { ShapeError } from '../model/index.ts';

type RegressionValues = Pick<RegressionEvaluation, 'width' | 'truth' | 'predicted' | 'mae' | 'rmse' | 'r2'>;

/** The targets and predictions as numbers, sample-major, with the errors over every value. */
export function regressionValues(targets: NdArray, predictions: NdArray): RegressionValues {
  const samples = targets.shape[0]!;
  const width = targets.data.length / Math.max(samples, 1);
  if (predictions.data.length !== targets.data.length) {
    throw new ShapeError(`the model predicts ${predictions.data.length / Math.max(samples, 1)} values a sample (shape ${JSON.stringify(predictions.shape.slice(1))}), the targets have ${width}`);
  }
  const truth = Array.from(targets.data as ArrayLike<number>, Number);
  const predicted = Array.from(predictions.data as ArrayLike<number>, Number);
  return { width, truth, predicted, ...errors(truth, predicted) };
}

function errors(truth: number[], predicted: number[]): { mae: number; rmse: number; r2: number | null } {
  const n = Math.max(truth.length, 1);
  const mean = truth.reduce((a, b) => a + b, 0) / n;
  let absolute = 0;
  let squared = 0;
  let total = 0;
  truth.forEach((t, i) => {
    const e = predicted[i]! - t;
    absolute += Math.abs(e);
    squared += e * e;
    total += (t - mean) * (t - mean);
  });
  return { mae: absolute / n, rmse: Math.sqrt(squared / n), r2: total > 0 ? 1 - squared / total : null };
}
