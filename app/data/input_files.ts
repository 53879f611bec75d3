// Files given as one input of a model (`strata predict --input`): a .npy array, an image or a
// folder of images, or a CSV file of feature rows. Images and CSV rows are prepared exactly
// as the training loaders prepare them (loadImages, loadCsvFeatures), sized from the model's
// declared input, so a model trained on a folder of images predicts on a new photo directly.
import { statSync } from 'node:fs';
import path from 'node:path';
import { loadCsvFeatures } from './csv.ts';
import { DataFormatError } from './errors.ts';
import { IMAGE_EXTENSIONS, isImageFile, listImageFiles, loadImages } from './images.ts';
import { type NdArray, formatShape } from './ndarray.ts';
import { readNpy } from './npy.ts';

/** What the model declares for the input: its name and shape (null or a name where a dim is free). */
export interface InputSpec {
  name: string;
  shape: readonly (number | string | null)[] | null;
}

export interface InputFileOptions {
  /** CSV: a column to leave out (the label column of the training file), by name or index. */
  labelColumn?: string | number;
}

export interface InputFile {
  array: NdArray;
  /** The source of each row where rows come from separate files (images), for labelling results. */
  rowNames?: string[];
}

/** Reads `file` as a batch for `input`; the error names the file, the input and the shape it needs. */
export async function readInputFile(file: string, input: InputSpec, options: InputFileOptions = {}): Promise<InputFile> {
  const ext = path.extname(file).toLowerCase();
  if (isFolder(file)) {
    const files = listImageFiles(file);
    if (files.length === 0) throw new DataFormatError(`${file}: no image files in this folder (read: ${IMAGE_EXTENSIONS.join(' ')})`);
    return { array: await loadImages(files, imageOptions(file, input)), rowNames: files };
  }
  if (isImageFile(file)) return { array: await loadImages([file], imageOptions(file, input)), rowNames: [file] };
  if (ext === '.csv') {
    const { x } = loadCsvFeatures(file, options.labelColumn === undefined ? {} : { skipColumn: options.labelColumn });
    checkCsvWidth(file, x, input, options.labelColumn !== undefined);
    return { array: x };
  }
  return { array: readNpy(file) };
}

function isFolder(file: string): boolean {
  try {
    return statSync(file).isDirectory();
  } catch {
    return false; // the reader that follows names a missing file
  }
}

/** Images fit an input (batch, h, w, 1 or 3) with known h and w. */
function imageOptions(file: string, input: InputSpec): { size: [number, number]; channels: 1 | 3 } {
  const shape = input.shape;
  const [, height, width, channels] = shape ?? [];
  if (shape?.length !== 4 || typeof height !== 'number' || typeof width !== 'number' || (channels !== 1 && channels !== 3)) {
    throw new DataFormatError(`${file}: an image feeds an input of shape (batch, height, width, 1 or 3); input '${input.name}' has shape ${shape ? formatShape(shape) : 'unknown'}`);
  }
  return { size: [height, width], channels };
}

function checkCsvWidth(file: string, x: NdArray, input: InputSpec, labelSkipped: boolean): void {
  const shape = input.shape;
  const width = shape?.[shape.length - 1];
  if (shape?.length !== 2 || typeof width !== 'number') {
    throw new DataFormatError(`${file}: CSV rows feed an input of shape (batch, features); input '${input.name}' has shape ${shape ? formatShape(shape) : 'unknown'}`);
  }
  const columns = x.shape[1]!;
  if (columns === width) return;
  const hint = !labelSkipped && columns === width + 1 ? '; if one of them is the label, leave it out with --label-column' : '';
  throw new DataFormatError(`${file}: ${columns} feature columns, input '${input.name}' takes ${width}${hint}`);
}
