// The one check of a dataset against a model, before the first training step: every split
// (train, validation, test) has samples, one array per model input and output, the input
// shapes and dtypes the model takes, and labels its outputs and losses can use (class ids
// within the output's classes, one-hot rows of the output's width, binary targets in [0, 1],
// regression targets of the output's shape). A bad label in the test split is found before
// hours of training, not after. Errors are one-line DataValueErrors naming the split, where
// the sample comes from (file and line, image file, array index) and the value at fault.
// NaN and infinity are makeDataset's to refuse (every Dataset went through it).
import type { InputLayer, Model, OutputLoss } from '../model/index.ts';
import type { Dataset, SampleArray } from './dataset.ts';
import { DataValueError } from './errors.ts';
import { formatShape } from './ndarray.ts';

export interface DatasetSplit {
  /** 'train', 'validation', 'test': how messages name it. */
  name: string;
  data: Dataset;
  /** Where the split's samples come from ("data.npz", "photos/"); in messages about the whole split. */
  source?: string;
  /** Where sample `i` of this split comes from: "data.csv:14", "photos/cat/3.png", "data.npz y_test[5]". */
  where?: (sample: number) => string;
}

/**
 * Checks every split against the compiled model's inputs, outputs and losses; throws a
 * DataValueError for the first problem, naming the split, the sample and the value.
 */
export function validateDataset(model: Model, splits: DatasetSplit[]): void {
  const compiled = model.compiled;
  if (!compiled) throw new DataValueError(`${model.name}: compile the model before checking data against it`);
  for (const split of splits) {
    const label = split.source ? `${split.name} split of ${split.source}` : `${split.name} data`;
    if (split.data.size === 0) throw new DataValueError(`${label}: no samples; training and evaluation need at least one (Keras refuses empty data too)`);
    checkArrayCounts(model, split.data, label);
    checkInputShapes(model, split.data.x, label);
    model.inputs.forEach((input, i) => checkInputDType(model, input.sourceLayer as InputLayer, split.data.x[i]!, `${label}: x[${i}]`));
    const where = split.where ?? ((sample: number) => `${label}: sample ${sample}`);
    compiled.losses.forEach((loss, i) => checkTargets(model, i, loss, split.data, where, label));
  }
}

function checkArrayCounts(model: Model, data: Dataset, label: string): void {
  const names = (tensors: Model['inputs']) => tensors.map((t) => t.sourceLayer.name).join(', ');
  if (data.x.length !== model.inputs.length) {
    throw new DataValueError(`${label}: ${data.x.length} input arrays for a model with ${model.inputs.length} inputs (${names(model.inputs)})`);
  }
  if (data.y.length !== model.outputs.length) {
    throw new DataValueError(`${label}: ${data.y.length} label arrays for a model with ${model.outputs.length} outputs (${names(model.outputs)})`);
  }
}

/** Each array in `x` has the shape of its model input, batch aside (predict's check too). */
export function checkInputShapes(model: Model, x: readonly { shape: number[] }[], label: string): void {
  model.inputs.forEach((input, i) => {
    const shape = x[i]!.shape;
    const fits = shape.length === input.shape.length && input.shape.every((d, k) => k === 0 || d === null || d === shape[k]);
    if (!fits) throw new DataValueError(`${label}: x[${i}] has shape ${formatShape(shape)}; ${model.name}'s input "${input.sourceLayer.name}" takes ${formatShape(input.shape)}`);
  });
}

function checkInputDType(model: Model, layer: InputLayer, x: SampleArray, what: string): void {
  if (x.dtype !== layer.dtype) {
    const hint = x.dtype === 'int32' ? 'store the features as floats (or uint8 pixels)' : 'an int32 input takes integer ids (an Embedding\'s)';
    throw new DataValueError(`${what} is ${x.dtype}; ${model.name}'s input "${layer.name}" takes ${layer.dtype}: ${hint}`);
  }
}

/** What output `i`'s loss needs of its labels, checked against `data.y[i]`. */
function checkTargets(model: Model, i: number, loss: OutputLoss, data: Dataset, where: (sample: number) => string, label: string): void {
  const y = data.y[i]!;
  const output = model.outputs[i]!.shape;
  const units = output.at(-1);
  const describeOutput = `${model.name}'s output "${loss.output}" ${formatShape(output)}`;
  const useLoss = (kind: string) => `use ${kind} (--loss ${kind})`;
  const classIds = y.shape.length === 1 || (y.shape.length === 2 && y.shape[1] === 1);
  switch (loss.kind) {
    case 'sparse_categorical_crossentropy': {
      if (!classIds) {
        const oneHot = y.shape.length === 2 && y.shape[1] === units ? `; for one-hot rows ${useLoss('categorical_crossentropy')}` : '';
        throw new DataValueError(`${label}: labels of shape ${formatShape(y.shape)}; sparse_categorical_crossentropy takes class ids (n,) for ${describeOutput}${oneHot}`);
      }
      if (typeof units !== 'number') return;
      const bad = findIndex(y, (v) => !(Number.isInteger(v) && v >= 0 && v < units));
      if (bad >= 0) {
        const value = y.data[bad]!;
        const names = data.classNames;
        const name = names?.[value] !== undefined ? ` (class "${names[value]}")` : '';
        const what = Number.isInteger(value) ? `is not one of the ${units} classes` : 'is not a class id';
        const classes = names ? `; the data has ${names.length} classes (${names.slice(0, 12).join(', ')}${names.length > 12 ? ', ...' : ''})` : '';
        throw new DataValueError(`${where(bad)}: label ${value}${name} ${what} of ${describeOutput}: class ids are whole numbers 0..${units - 1}${classes}`);
      }
      return;
    }
    case 'categorical_crossentropy': {
      if (y.dtype === 'int32' || classIds) {
        throw new DataValueError(`${label}: labels are class ids ${formatShape(y.shape)}; categorical_crossentropy takes one-hot rows (n, ${units}) for ${describeOutput}: for class ids ${useLoss('sparse_categorical_crossentropy')}`);
      }
      checkSameShape(y, output, describeOutput, label, 'one-hot rows');
      return checkRange(y, 0, 1, where, 'one-hot and probability labels lie in [0, 1]');
    }
    case 'binary_crossentropy':
      checkSameShape(y, output, describeOutput, label, 'targets');
      return checkRange(y, 0, 1, where, 'binary_crossentropy takes targets in [0, 1]');
    case 'mean_squared_error':
    case 'mean_absolute_error':
      if (y.dtype === 'int32' && typeof units === 'number' && units > 1 && classIds) {
        throw new DataValueError(`${label}: labels are class ids ${formatShape(y.shape)}; ${loss.kind} compares targets of the shape of ${describeOutput}: for class ids ${useLoss('sparse_categorical_crossentropy')}`);
      }
      return checkSameShape(y, output, describeOutput, label, 'targets');
  }
}

/** Targets shaped as the output, batch aside; (n,) stands for (n, 1), as Keras allows. */
function checkSameShape(y: SampleArray, output: readonly (number | null)[], describeOutput: string, label: string, what: string): void {
  const shape = y.shape.length === 1 ? [y.shape[0]!, 1] : y.shape;
  const fits = shape.length === output.length && output.every((d, k) => k === 0 || d === null || d === shape[k]);
  if (!fits) throw new DataValueError(`${label}: ${what} of shape ${formatShape(y.shape)} do not fit ${describeOutput}`);
}

function checkRange(y: SampleArray, lo: number, hi: number, where: (sample: number) => string, rule: string): void {
  const bad = findIndex(y, (v) => !(v >= lo && v <= hi));
  if (bad < 0) return;
  const row = y.shape.length > 1 ? y.data.length / y.shape[0]! : 1;
  throw new DataValueError(`${where(Math.floor(bad / row))}: label ${y.data[bad]} is outside [${lo}, ${hi}]: ${rule}`);
}

function findIndex(y: SampleArray, isBad: (value: number) => boolean): number {
  const data = y.data;
  for (let i = 0; i < data.length; i++) if (isBad(data[i]!)) return i;
  return -1;
}
