// A model file's own data: `export function data()` beside `export default model`, returning
// {description, train: {x, y}, test?: {x, y}, classNames?} (ModelData, app/model/model_data.ts).
// What it returns is checked as a loader's arrays are (makeDataset), before the model check
// (validateDataset): every fault is one line naming the file and the field, e.g.
// "model.ts: data().train.x[0]: ...".
import path from 'node:path';
import { type Dataset, makeDataset } from '../data/dataset.ts';
import { type NdArray, formatShape, shapeSize } from '../data/ndarray.ts';
import { StrataUserError, isUserError } from '../model/index.ts';
import { UserError } from './errors.ts';
import { isModuleFile, runModuleExport } from './load_model.ts';
import type { TrainingData } from './training_data.ts';

/** The export a model file's data comes from. */
export const DATA_EXPORT = 'data';

const TYPED_ARRAYS = { float32: Float32Array, int32: Int32Array } as const;

/** Whether `file` is a model module with a `data` export (of any kind: a wrong one is reported when loaded). */
export async function hasModelFileData(file: string): Promise<boolean> {
  if (!isModuleFile(file)) return false;
  return (await runModuleExport(file, (module) => DATA_EXPORT in module)) === true;
}

/** The data `file`'s `data()` builds, checked; a file without a data export is refused naming the export it needs. */
export async function loadModelFileData(file: string): Promise<TrainingData> {
  if (!isModuleFile(file)) throw new UserError(`${file}: only a model file in code (.ts, .js) can export its data; give --data, or pick other data`);
  const returned = await runModuleExport(file, (module) => {
    const exported = module[DATA_EXPORT];
    if (exported === undefined) throw new UserError(`${file}: no "${DATA_EXPORT}" export; add "export function ${DATA_EXPORT}(): ModelData" to the file, or pick other data`);
    if (typeof exported !== 'function') {
      throw new UserError(`${file}: the "${DATA_EXPORT}" export is ${describe(exported)}; it must be a function returning {description, train: {x, y}, test?: {x, y}, classNames?}`);
    }
    return (exported as () => unknown)();
  });
  const field = `${file}: ${DATA_EXPORT}()`;
  if (!isRecord(returned)) throw new UserError(`${field} returned ${describe(returned)}; expected {description, train: {x, y}, test?: {x, y}, classNames?}`);
  const { description, train, test, classNames } = returned;
  if (typeof description !== 'string' || description.trim() === '') throw new UserError(`${field}.description is ${describe(description)}; expected a line saying what the data is`);
  const names = checkClassNames(classNames, `${field}.classNames`);
  const trainSet = datasetOf(train, `${field}.train`, names);
  const testSet = test === undefined ? undefined : datasetOf(test, `${field}.test`, names);
  const where = (split: string) => (sample: number) => `${file} ${DATA_EXPORT}().${split} sample ${sample}`;
  return {
    train: trainSet,
    ...(testSet ? { test: testSet } : {}),
    description: `${description.trim()} (${path.basename(file)}'s data)`,
    source: file,
    where: { train: where('train'), ...(testSet ? { test: where('test') } : {}) },
  };
}

function datasetOf(value: unknown, field: string, classNames: string[] | undefined): Dataset {
  if (!isRecord(value)) throw new UserError(`${field} is ${describe(value)}; expected {x, y}: arrays of samples, one per model input and per output`);
  const x = arraysOf(value['x'], `${field}.x`);
  const y = arraysOf(value['y'], `${field}.y`);
  try {
    return makeDataset(x, y, classNames ? { classNames } : {});
  } catch (error) {
    if (!isUserError(error)) throw error;
    throw new UserError(`${field}: ${(error as StrataUserError).message}`);
  }
}

/** One array or a list of them, each {dtype: 'float32' | 'int32', shape, data} with data the typed array of its dtype and size. */
function arraysOf(value: unknown, field: string): NdArray[] {
  if (value === undefined) throw new UserError(`${field} is missing; expected an array {dtype, shape, data} (or a list, one per model input or output)`);
  const list = Array.isArray(value) ? value : [value];
  return list.map((array, i) => checkArray(array, Array.isArray(value) ? `${field}[${i}]` : field));
}

function checkArray(value: unknown, field: string): NdArray {
  if (!isRecord(value)) throw new UserError(`${field} is ${describe(value)}; expected an array {dtype: 'float32' | 'int32', shape, data}`);
  const { dtype, shape, data } = value;
  if (dtype !== 'float32' && dtype !== 'int32') throw new UserError(`${field}.dtype is ${describe(dtype)}; expected 'float32' (features, targets) or 'int32' (class ids, token ids)`);
  if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) throw new UserError(`${field}.shape is ${describe(shape)}; expected a list of sizes, samples first`);
  const kind = TYPED_ARRAYS[dtype];
  if (!(data instanceof kind)) throw new UserError(`${field}.data is ${describe(data)}; a ${dtype} array's data is a ${kind.name}`);
  if (data.length !== shapeSize(shape)) throw new UserError(`${field}: shape ${formatShape(shape)} holds ${shapeSize(shape)} elements, its data has ${data.length}`);
  return { dtype, shape, data } as NdArray;
}

function checkClassNames(value: unknown, field: string): string[] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || value.length === 0 || !value.every((name) => typeof name === 'string')) throw new UserError(`${field} is ${describe(value)}; expected a list of names, one per class id`);
  return value;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describe(value: unknown): string {
  if (value === null || value === undefined) return String(value);
  if (Array.isArray(value)) return `a list of ${value.length}`;
  if (ArrayBuffer.isView(value)) return `a ${value.constructor.name}`;
  if (typeof value === 'function') return 'a function';
  if (typeof value === 'object') return `an object (${value.constructor?.name ?? 'Object'})`;
  return `${typeof value} ${JSON.stringify(value)}`;
}
