// `--data` for strata train: a name (fashion-mnist) or a path, dispatched by what it is:
// a folder of IDX files (MNIST layout), a folder of class subfolders of images, a .csv,
// or an .npz (x/y or x_train/y_train/x_test/y_test). Each split comes with where its samples
// come from (file and line, image file, array element), so that a bad label is named where
// the user can find it.
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import type { DataSource } from '../contract/training.ts';
import { loadArrays } from '../data/arrays.ts';
import { loadCsv } from '../data/csv.ts';
import { type Dataset, split } from '../data/dataset.ts';
import { FASHION_MNIST_CLASS_NAMES, FASHION_MNIST_DIR, loadFashionMnist, loadIdxFolder } from '../data/idx.ts';
import { loadImageFolder } from '../data/images.ts';
import type { DatasetSplit } from '../data/validate.ts';
import type { Model } from '../model/index.ts';
import { UserError } from './errors.ts';
import { loadModelFileData } from './model_file_data.ts';

/** Where sample `i` of a split comes from: "data.csv:14", "photos/cat/3.png", "data.npz y_test[5]". */
export type SampleSource = (sample: number) => string;

export interface TrainingData {
  train: Dataset;
  test?: Dataset;
  description: string;
  /** The path the data came from (the dataset's folder for fashion-mnist). */
  source: string;
  /** A CSV file's feature column names. */
  featureNames?: string[];
  where: { train: SampleSource; test?: SampleSource };
}

export interface DataOptions {
  /** CSV: the label column (name, or 0-based index; negative counts from the end); default the last column. */
  labelColumn?: string;
}

export async function loadTrainingData(source: string, model: Model, options: DataOptions = {}): Promise<TrainingData> {
  if (source === 'fashion-mnist') {
    const { train, test } = loadFashionMnist();
    return { train, test, description: 'Fashion-MNIST (Debian dataset-fashion-mnist)', source: FASHION_MNIST_DIR, where: idxSamples(FASHION_MNIST_DIR) };
  }
  if (!existsSync(source)) throw new UserError(`--data ${source}: no such file or folder (or use --data fashion-mnist)`);
  if (statSync(source).isDirectory()) {
    const entries = readdirSync(source);
    if (entries.some((e) => /-idx\d-ubyte(\.gz)?$|\.idx\d-ubyte(\.gz)?$/.test(e))) {
      const { train, test } = loadIdxFolder(source, { classNames: FASHION_MNIST_CLASS_NAMES });
      return { train, test, description: `IDX files in ${source}`, source, where: idxSamples(source) };
    }
    const input = model.inputs[0]!.shape;
    if (input.length !== 4 || input[1] === null || input[2] === null || (input[3] !== 1 && input[3] !== 3)) {
      throw new UserError(`--data ${source}: a folder of images needs a model whose input is (None, h, w, 1 or 3); this one takes ${JSON.stringify(input)}`);
    }
    const train = await loadImageFolder(source, { size: [input[1]!, input[2]!], channels: input[3] as 1 | 3 });
    return { train, description: `${train.size} images in ${train.classNames.length} classes from ${source}`, source, where: { train: (i) => train.files[i]! } };
  }
  const ext = path.extname(source).toLowerCase();
  if (ext === '.csv') {
    const column = options.labelColumn;
    const train = loadCsv(source, { labelColumn: column === undefined ? -1 : /^-?\d+$/.test(column) ? Number(column) : column });
    return { train, description: `${train.size} rows of ${source}`, source, featureNames: train.featureNames, where: { train: (i) => `${source}:${train.lines[i]}` } };
  }
  if (ext === '.npz') {
    const { train, test } = loadArrays(source);
    if (!test) return { train, description: `arrays in ${source}`, source, where: { train: (i) => `${source} sample ${i}` } };
    return { train, test, description: `arrays in ${source}`, source, where: { train: (i) => `${source} y_train[${i}]`, test: (i) => `${source} y_test[${i}]` } };
  }
  throw new UserError(`--data ${source}: expected fashion-mnist, a folder (IDX files or class subfolders of images), a .csv or an .npz`);
}

/** Two .npy files, features and labels (NumPy's np.save), as a training set. */
export function loadNpyPair(x: string, y: string): TrainingData {
  const { train } = loadArrays({ x, y });
  return { train, description: `arrays in ${path.basename(x)} and ${path.basename(y)}`, source: x, where: { train: (i) => `${y}[${i}]` } };
}

/** The data a source names: the app's DataSource, loaded as `strata train --data` (and `--labels`) loads it. */
export async function loadDataSource(source: DataSource, model: Model): Promise<TrainingData> {
  if (source.kind === 'fashion-mnist') return loadTrainingData('fashion-mnist', model);
  if (source.kind === 'arrays') return loadNpyPair(source.x, source.y);
  if (source.kind === 'model-file') return loadModelFileData(source.file);
  return loadTrainingData(source.path, model, source.labelColumn === undefined ? {} : { labelColumn: source.labelColumn });
}

/**
 * Every split training will touch, with where its samples come from: train, the part a
 * validation split holds out (Keras's validation_split: the last fraction), test. `what`
 * names the fraction in its error (the flag, or the app's field).
 */
export function splitsOf(data: TrainingData, validationSplit?: number, what = '--validation-split'): DatasetSplit[] {
  const { source, where } = data;
  const splits: DatasetSplit[] = [];
  if (validationSplit && data.train.size > 0) {
    let parts: ReturnType<typeof split>;
    try {
      parts = split(data.train, validationSplit);
    } catch (error) {
      throw new UserError(`${what}: ${(error as Error).message}`);
    }
    const at = parts.train.size;
    splits.push({ name: 'train', data: parts.train, source, where: where.train }, { name: 'validation', data: parts.validation, source, where: (i) => where.train(at + i) });
  } else {
    splits.push({ name: 'train', data: data.train, source, where: where.train });
  }
  if (data.test) splits.push({ name: 'test', data: data.test, source, ...(where.test ? { where: where.test } : {}) });
  return splits;
}

function idxSamples(dir: string): TrainingData['where'] {
  return { train: (i) => `${dir} train-labels[${i}]`, test: (i) => `${dir} t10k-labels[${i}]` };
}
