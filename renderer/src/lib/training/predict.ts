// What the Predict section makes of the host's answers: predictions grouped by the output they
// are of, and the files a prediction's name stands for (to show a picked image beside it).
import type { Prediction } from '../../../../app/contract/training.ts';

/** The predictions of each output, in the order the host gave them (output by output). */
export function groupByOutput(predictions: Prediction[]): { output: string; predictions: Prediction[] }[] {
  const groups = new Map<string, Prediction[]>();
  for (const prediction of predictions) {
    const group = groups.get(prediction.output) ?? [];
    group.push(prediction);
    groups.set(prediction.output, group);
  }
  return [...groups].map(([output, list]) => ({ output, predictions: list }));
}

/**
 * The picked files a prediction may be of, most likely first: "a.png [3]" is of a.png; "a.png +
 * b.npy [0]" (a model of several inputs) of both, unless one file has that whole name.
 */
export function filesOf(predictionName: string): string[] {
  const file = predictionName.replace(/ \[\d+\]$/, '');
  const parts = file.split(' + ');
  return parts.length > 1 ? [file, ...parts] : [file];
}
