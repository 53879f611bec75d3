// `--data` for strata train: a name (fashion-mnist) or a path, dispatched by what it is:
// a folder of IDX files (MNIST layout), a folder of class subfolders of images, a .csv,
// or an .npz (x/y or x_train/y_train/x_test/y_test).
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { loadArrays } from '../data/arrays.ts';
import { loadCsv } from '../data/csv.ts';
import type { Dataset } from '../data/dataset.ts';
import { FASHION_MNIST_CLASS_NAMES, loadFashionMnist, loadIdxFolder } from '../data/idx.ts';
import { loadImageFolder } from '../data/images.ts';
import type { Model } from '../model/index.ts';
import { UserError } from './errors.ts';

export interface TrainingData {
  train: Dataset;
  test?: Dataset;
  description: string;
}

export interface DataOptions {
  /** CSV: the label column (name or 0-based index); default the last column. */
  labelColumn?: string;
}

export async function loadTrainingData(source: string, model: Model, options: DataOptions = {}): Promise<TrainingData> {
  if (source === 'fashion-mnist') {
    const { train, test } = loadFashionMnist();
    return { train, test, description: 'Fashion-MNIST (Debian dataset-fashion-mnist)' };
  }
  if (!existsSync(source)) throw new UserError(`--data ${source}: no such file or folder (or use --data fashion-mnist)`);
  if (statSync(source).isDirectory()) {
    const entries = readdirSync(source);
    if (entries.some((e) => /-idx\d-ubyte(\.gz)?$|\.idx\d-ubyte(\.gz)?$/.test(e))) {
      const { train, test } = loadIdxFolder(source, { classNames: FASHION_MNIST_CLASS_NAMES });
      return { train, test, description: `IDX files in ${source}` };
    }
    const input = model.inputs[0]!.shape;
    if (input.length !== 4 || input[1] === null || input[2] === null || (input[3] !== 1 && input[3] !== 3)) {
      throw new UserError(`--data ${source}: a folder of images needs a model whose input is (None, h, w, 1 or 3); this one takes ${JSON.stringify(input)}`);
    }
    const train = await loadImageFolder(source, { size: [input[1]!, input[2]!], channels: input[3] as 1 | 3 });
    return { train, description: `${train.size} images in ${train.classNames.length} classes from ${source}` };
  }
  const ext = path.extname(source).toLowerCase();
  if (ext === '.csv') {
    const column = options.labelColumn;
    const train = loadCsv(source, { labelColumn: column === undefined ? -1 : /^\d+$/.test(column) ? Number(column) : column });
    return { train, description: `${train.size} rows of ${source}` };
  }
  if (ext === '.npz') {
    const { train, test } = loadArrays(source);
    return { ...(test ? { test } : {}), train, description: `arrays in ${source}` };
  }
  throw new UserError(`--data ${source}: expected fashion-mnist, a folder (IDX files or class subfolders of images), a .csv or an .npz`);
}
