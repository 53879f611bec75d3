// Datasets saved from NumPy: x and y as .npy files, or one .npz archive holding arrays named
// x and y, or x_train, y_train, x_test, y_test (as keras.datasets' mnist.npz does). Read with
// the .npy/.npz readers, then converted to the dtypes a Dataset holds:
//   x: float → float32; uint8 → float32 scaled to [0, 1] (8-bit images); bool → float32 0/1;
//      other integers → int32 ids (for Embedding inputs)
//   y: integers → int32 class ids ((n, 1) becomes (n,)); floats → float32 (one-hot or targets)
import { type Dataset, makeDataset } from './dataset.ts';
import { DataFormatError } from './errors.ts';
import { type NdArray, formatShape } from './ndarray.ts';
import { readNpy } from './npy.ts';
import { readNpz } from './npz.ts';

export interface ArrayFiles {
  /** One .npy file per model input. */
  x: string | string[];
  /** One .npy file per model output. */
  y: string | string[];
}

export interface ArraySplits {
  train: Dataset;
  /** Present when an .npz holds x_test and y_test. */
  test?: Dataset;
}

export interface ArrayOptions {
  /** Class names by class id, for integer labels. */
  classNames?: string[];
}

/** Reads .npy files ({x, y}) or an .npz archive (a path) as a training set and, where the .npz has one, a test set. */
export function loadArrays(source: string | ArrayFiles, options: ArrayOptions = {}): ArraySplits {
  const datasetOptions = options.classNames ? { classNames: options.classNames } : {};
  if (typeof source !== 'string') {
    const xFiles = [source.x].flat();
    const yFiles = [source.y].flat();
    const x = xFiles.map((file) => asFeatures(readNpy(file), file));
    const y = yFiles.map((file) => asLabels(readNpy(file), file));
    return { train: withFileErrors(() => makeDataset(x, y, datasetOptions), [...xFiles, ...yFiles]) };
  }
  const arrays = readNpz(source);
  const names = Object.keys(arrays);
  const pick = (xName: string, yName: string): Dataset => {
    const x = asFeatures(arrays[xName]!, `${source}[${xName}]`);
    const y = asLabels(arrays[yName]!, `${source}[${yName}]`);
    return withFileErrors(() => makeDataset(x, y, datasetOptions), [source]);
  };
  if ('x_train' in arrays && 'y_train' in arrays) {
    const hasTest = 'x_test' in arrays && 'y_test' in arrays;
    return hasTest ? { train: pick('x_train', 'y_train'), test: pick('x_test', 'y_test') } : { train: pick('x_train', 'y_train') };
  }
  if ('x' in arrays && 'y' in arrays) return { train: pick('x', 'y') };
  throw new DataFormatError(`${source}: expected arrays named x and y, or x_train and y_train (and x_test, y_test); it holds ${names.length ? names.join(', ') : 'none'}`);
}

/** makeDataset's errors (lengths, labels, NaN) prefixed with the files they came from. */
function withFileErrors(make: () => Dataset, files: string[]): Dataset {
  try {
    return make();
  } catch (error) {
    if (error instanceof Error && error.name === 'ValueError') throw new DataFormatError(`${files.join(', ')}: ${error.message}`);
    throw error;
  }
}

function asFeatures(array: NdArray, source: string): NdArray {
  if (array.shape.length === 0) throw new DataFormatError(`${source}: a scalar; x needs a sample axis first`);
  switch (array.dtype) {
    case 'float32':
    case 'int32':
      return array;
    case 'uint8': {
      const data = new Float32Array(array.data.length);
      for (let i = 0; i < data.length; i++) data[i] = (array.data as Uint8Array)[i]! / 255;
      return { dtype: 'float32', shape: array.shape, data };
    }
    case 'float64':
    case 'bool':
      return { dtype: 'float32', shape: array.shape, data: Float32Array.from(array.data as ArrayLike<number>) };
    default:
      return toInt32(array, source);
  }
}

function asLabels(array: NdArray, source: string): NdArray {
  if (array.shape.length === 0) throw new DataFormatError(`${source}: a scalar; y needs a sample axis first`);
  if (array.dtype === 'float32') return array;
  if (array.dtype === 'float64' || array.dtype === 'bool') return { dtype: 'float32', shape: array.shape, data: Float32Array.from(array.data as ArrayLike<number>) };
  const ids = toInt32(array, source);
  return ids.shape.length === 2 && ids.shape[1] === 1 ? { ...ids, shape: [ids.shape[0]!] } : ids;
}

function toInt32(array: NdArray, source: string): NdArray<'int32'> {
  if (array.dtype === 'int32') return array as NdArray<'int32'>;
  const data = new Int32Array(array.data.length);
  for (let i = 0; i < data.length; i++) {
    const value = Number(array.data[i]);
    if (value < -(2 ** 31) || value >= 2 ** 31) throw new DataFormatError(`${source}: element ${i} of ${array.dtype}${formatShape(array.shape)} is ${value}, outside int32`);
    data[i] = value;
  }
  return { dtype: 'int32', shape: array.shape, data };
}
