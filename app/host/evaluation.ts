// How the Evaluate and Predict sections read a trained model's outputs: one rule for which
// outputs are classifiers (those trained with a crossentropy loss, their logits turned into
// probabilities where the loss took logits), and each output on held-out data against its
// targets: a confusion matrix and per-class scores, or a regression's errors.
import type { ClassReport, OutputEvaluation, RunRecord } from '../contract/training.ts';
import { type NdArray, shapeSize } from '../data/ndarray.ts';
import type { Model } from '../model/index.ts';
import { regressionValues } from './regression.ts';

/** How one output is read. */
export interface OutputReading {
  /** The output's (its layer's) name. */
  name: string;
  /** Trained with a crossentropy loss: its values are class scores. */
  classifier: boolean;
  /** The loss took logits: softmax (or a sigmoid, for one column) makes them probabilities. */
  fromLogits: boolean;
  /** The data's class names: its first output's; null for the others. */
  classNames: string[] | null;
}

/**
 * Each output's reading, from the loss the checkpoint was compiled with for it (the run's
 * settings where it was not compiled).
 */
export function outputReadings(model: Model, record: RunRecord): OutputReading[] {
  const compile = record.settings.compile;
  return model.outputs.map((output, o) => {
    const name = output.sourceLayer.name;
    const setting = compile.outputs?.find((candidate) => candidate.output === name) ?? compile;
    const loss = model.compiled?.losses.find((candidate) => candidate.output === name) ?? { kind: setting.loss, fromLogits: setting.fromLogits };
    return { name, classifier: loss.kind.includes('crossentropy'), fromLogits: loss.fromLogits, classNames: o === 0 ? record.data.classNames : null };
  });
}

/** One sample's class probabilities from the output's values (a single column: the positive class's). */
export function classProbabilities(values: number[], reading: OutputReading): number[] {
  if (!reading.fromLogits) return values;
  if (values.length === 1) return [1 / (1 + Math.exp(-values[0]!))];
  const top = Math.max(...values);
  const exps = values.map((v) => Math.exp(v - top));
  const sum = exps.reduce((a, b) => a + b, 0);
  return exps.map((e) => e / sum);
}

/** An output's predictions on the held-out samples against their targets. */
export function evaluateOutput(reading: OutputReading, targets: NdArray, outputs: NdArray): OutputEvaluation {
  if (!reading.classifier) return { kind: 'regression', output: reading.name, ...regressionValues(targets, outputs) };
  const truth = classIds(targets);
  const { predicted, confidence } = predictions(outputs, reading);
  const width = outputs.shape.at(-1)!;
  const classes = Math.max(width === 1 ? 2 : width, 1);
  const classNames = reading.classNames ?? [...Array(classes).keys()].map(String);
  const confusion = confusionMatrix(truth, predicted, classes);
  return { kind: 'classifier', output: reading.name, classNames, confusion, perClass: classReports(confusion), truth, predicted, confidence };
}

/** Class ids from labels: int32 ids, one-hot rows (argmax), or binary targets (rounded). */
export function classIds(labels: NdArray): number[] {
  const rows = labels.shape[0]!;
  const width = labels.shape.length === 2 ? labels.shape[1]! : 1;
  const data = labels.data as ArrayLike<number>;
  const ids = new Array<number>(rows);
  for (let r = 0; r < rows; r++) {
    if (width === 1) ids[r] = labels.dtype === 'int32' ? data[r]! : Math.round(data[r]!);
    else ids[r] = argmax(data, r * width, width);
  }
  return ids;
}

/** The predicted class of each row and its probability; one sigmoid column is two classes. */
function predictions(outputs: NdArray, reading: OutputReading): { predicted: number[]; confidence: number[] } {
  const rows = outputs.shape[0]!;
  const width = outputs.shape.at(-1)!;
  const predicted = new Array<number>(rows);
  const confidence = new Array<number>(rows);
  for (let r = 0; r < rows; r++) {
    const probabilities = classProbabilities(rowOf(outputs, r), reading);
    if (width === 1) {
      const p = probabilities[0]!;
      predicted[r] = p >= 0.5 ? 1 : 0;
      confidence[r] = p >= 0.5 ? p : 1 - p;
    } else {
      const best = argmax(probabilities, 0, width);
      predicted[r] = best;
      confidence[r] = probabilities[best]!;
    }
  }
  return { predicted, confidence };
}

/** Row `row` of an array, as numbers. */
export function rowOf(array: NdArray, row: number): number[] {
  const size = shapeSize(array.shape.slice(1));
  return Array.from(array.data.subarray(row * size, (row + 1) * size) as ArrayLike<number>, Number);
}

function argmax(data: ArrayLike<number>, start: number, length: number): number {
  let best = 0;
  for (let c = 1; c < length; c++) if (data[start + c]! > data[start + best]!) best = c;
  return best;
}

export function confusionMatrix(truth: number[], predicted: number[], classes: number): number[][] {
  const matrix = [...Array(classes)].map(() => new Array<number>(classes).fill(0));
  truth.forEach((t, i) => {
    if (t < classes && predicted[i]! < classes) matrix[t]![predicted[i]!]!++;
  });
  return matrix;
}

/** Per class: precision (of its predictions), recall (of its samples), F1; 0 where nothing was predicted or present. */
export function classReports(confusion: number[][]): ClassReport[] {
  return confusion.map((row, c) => {
    const support = row.reduce((a, b) => a + b, 0);
    const predictedAs = confusion.reduce((sum, r) => sum + r[c]!, 0);
    const correct = row[c]!;
    const precision = predictedAs > 0 ? correct / predictedAs : 0;
    const recall = support > 0 ? correct / support : 0;
    const f1 = precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0;
    return { precision, recall, f1, support };
  });
}
