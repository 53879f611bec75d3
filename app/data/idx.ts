// IDX files, the format of MNIST and Fashion-MNIST (http://yann.lecun.com/exdb/mnist/): two
// zero bytes, a type code (0x08 uint8, 0x09 int8, 0x0B int16, 0x0C int32, 0x0D float32,
// 0x0E float64), the number of dimensions, each dimension as a big-endian uint32, then the
// elements, big-endian, in C order. The files are usually gzipped (.gz); both are read.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { type Dataset, makeDataset } from './dataset.ts';
import { DataFormatError } from './errors.ts';
import { inflateDeclared, inflateHead } from './inflate.ts';
import { type DType, type NdArray, allocate, formatShape, itemSize, shapeSize } from './ndarray.ts';
import { readFileOrThrow } from '../io/read_file.ts';

const TYPE_CODES: Record<number, DType> = {
  0x08: 'uint8',
  0x09: 'int8',
  0x0b: 'int16',
  0x0c: 'int32',
  0x0d: 'float32',
  0x0e: 'float64',
};

/** Where Debian's dataset-fashion-mnist package installs the four files. */
export const FASHION_MNIST_DIR = '/usr/share/datasets/fashion-mnist';

/** Fashion-MNIST's ten classes, by label (from the dataset's README). */
export const FASHION_MNIST_CLASS_NAMES = ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'];

/** MNIST's classes: the digits. */
export const MNIST_CLASS_NAMES = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'];

/**
 * Parses the bytes of an IDX file (gzipped or not) into its array as stored: uint8, int8,
 * int16, int32, float32 or float64 with the file's dimensions. `source` names the file in errors.
 * The header's shape is checked against the bytes present before anything is allocated, and
 * gzipped data is inflated no further than the header declares.
 */
export function parseIdx(bytes: Uint8Array, source = '<idx>'): NdArray {
  const fail = (what: string): never => {
    throw new DataFormatError(`${source}: ${what}`);
  };
  const gzipped = bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
  const { dtype, shape, dataStart, byteLength } = readIdxHeader(gzipped ? inflateHead(bytes, 'gzip', IDX_MAX_HEADER_BYTES, fail) : bytes, fail);
  if (gzipped) bytes = inflateDeclared(bytes, 'gzip', byteLength, source, fail);
  const present = bytes.length - dataStart;
  const expected = byteLength - dataStart;
  if (present < expected) fail(`truncated data: shape ${formatShape(shape)} of ${dtype} needs ${expected} bytes, the file has ${present}`);
  if (present > expected) fail(`${present - expected} bytes after the data of shape ${formatShape(shape)} of ${dtype}: corrupt file?`);

  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const size = itemSize(dtype);
  const count = shapeSize(shape);
  if (size === 1) {
    const body = new Uint8Array(bytes.subarray(dataStart)); // a copy with its own buffer
    return dtype === 'uint8' ? { dtype, shape, data: body } : { dtype: 'int8', shape, data: new Int8Array(body.buffer) };
  }
  const read = {
    int16: (o: number) => view.getInt16(o, false),
    int32: (o: number) => view.getInt32(o, false),
    float32: (o: number) => view.getFloat32(o, false),
    float64: (o: number) => view.getFloat64(o, false),
  }[dtype as 'int16' | 'int32' | 'float32' | 'float64'];
  const data = allocate(dtype as 'int16' | 'int32' | 'float32' | 'float64', count);
  for (let i = 0; i < count; i++) data[i] = read(dataStart + i * size);
  return { dtype, shape, data } as NdArray;
}

/** The longest IDX header: the magic and 255 dimensions. */
const IDX_MAX_HEADER_BYTES = 4 + 4 * 255;

interface IdxHeader {
  dtype: DType;
  shape: number[];
  dataStart: number;
  /** The file's length as the header declares it: header plus elements. */
  byteLength: number;
}

/** The header of IDX bytes (only the header need be there). */
function readIdxHeader(bytes: Uint8Array, fail: (what: string) => never): IdxHeader {
  if (bytes.length === 0) fail('the file is empty, not an IDX file');
  if (bytes.length < 4 || bytes[0] !== 0 || bytes[1] !== 0) {
    fail(`not an IDX file (it starts with ${hex(bytes.subarray(0, 4))}, IDX files start with 00 00, a type code and the number of dimensions)`);
  }
  const dtype = TYPE_CODES[bytes[2]!];
  if (!dtype) return fail(`unknown IDX type code 0x${bytes[2]!.toString(16).padStart(2, '0')} (known: 08 uint8, 09 int8, 0b int16, 0c int32, 0d float32, 0e float64)`);
  const rank = bytes[3]!;
  const dataStart = 4 + 4 * rank;
  if (bytes.length < dataStart) fail(`truncated header: ${rank} dimensions need ${dataStart} header bytes, the file has ${bytes.length}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const shape = Array.from({ length: rank }, (_, i) => view.getUint32(4 + 4 * i, false));
  return { dtype, shape, dataStart, byteLength: dataStart + shapeSize(shape) * itemSize(dtype) };
}

function hex(bytes: Uint8Array): string {
  return [...bytes].map((b) => b.toString(16).padStart(2, '0')).join(' ');
}

/** Reads an IDX file as stored (see parseIdx). Errors name the file. */
export function readIdx(file: string): NdArray {
  return parseIdx(readFileOrThrow(file, DataFormatError), file);
}

/**
 * Reads an IDX file in the form training takes: uint8 images (n, h, w) become float32 in
 * [0, 1] shaped (n, h, w, 1), channels-last; integer labels (n,) become int32; anything else
 * becomes float32 (integers) or stays as it is (float32), with the file's shape.
 */
export function loadIdx(file: string): NdArray<'float32' | 'int32'> {
  return forTraining(readIdx(file));
}

function forTraining(array: NdArray): NdArray<'float32' | 'int32'> {
  const { dtype, shape } = array;
  if (dtype === 'uint8' && shape.length === 3) {
    const source = array.data as Uint8Array;
    const out = new Float32Array(source.length);
    for (let i = 0; i < out.length; i++) out[i] = source[i]! / 255;
    return { dtype: 'float32', shape: [...shape, 1], data: out };
  }
  if (shape.length === 1 && dtype !== 'float32' && dtype !== 'float64') {
    return { dtype: 'int32', shape, data: Int32Array.from(array.data as ArrayLike<number>) };
  }
  if (dtype === 'float32') return array as NdArray<'float32'>;
  return { dtype: 'float32', shape, data: Float32Array.from(array.data as ArrayLike<number>) };
}


// --- MNIST-style folders ---------------------------------------------------------------------

export interface TrainTestSplits {
  train: Dataset;
  test: Dataset;
  classNames: string[];
}

/** The file names MNIST-style folders use (with '.' or '-' before idx, gzipped or not). */
const SPLIT_FILES = {
  trainImages: ['train-images', 'idx3-ubyte'],
  trainLabels: ['train-labels', 'idx1-ubyte'],
  testImages: ['t10k-images', 'idx3-ubyte'],
  testLabels: ['t10k-labels', 'idx1-ubyte'],
} as const;

function findSplitFile(dir: string, [stem, kind]: readonly [string, string]): string | undefined {
  const names = [`${stem}-${kind}`, `${stem}.${kind}`].flatMap((name) => [`${name}.gz`, name]);
  return names.map((name) => path.join(dir, name)).find((file) => existsSync(file));
}

export interface IdxFolderOptions {
  /** Class names by label; the labels must lie below their count. */
  classNames: string[];
  /** Added to the error when the files are missing: how to get them. */
  hint?: string;
}

/**
 * The train and test splits of an MNIST-style folder: train-images-idx3-ubyte,
 * train-labels-idx1-ubyte, t10k-images-idx3-ubyte and t10k-labels-idx1-ubyte, each gzipped
 * (.gz) or not. Images become float32 (n, 28, 28, 1) in [0, 1], labels int32 (n,).
 */
export function loadIdxFolder(dir: string, options: IdxFolderOptions): TrainTestSplits {
  const files = Object.fromEntries(Object.entries(SPLIT_FILES).map(([key, parts]) => [key, findSplitFile(dir, parts)])) as Record<keyof typeof SPLIT_FILES, string | undefined>;
  const missing = Object.entries(files).filter(([, file]) => !file).map(([key]) => SPLIT_FILES[key as keyof typeof SPLIT_FILES].join('-'));
  if (missing.length > 0) {
    const what = existsSync(dir) ? `${dir} lacks ${missing.join(', ')} (.gz or plain)` : `${dir} does not exist`;
    throw new DataFormatError(`${what}${options.hint ? `; ${options.hint}` : ''}`);
  }
  const split = (imagesFile: string, labelsFile: string): Dataset => {
    const rawImages = readIdx(imagesFile);
    const rawLabels = readIdx(labelsFile);
    if (rawImages.dtype !== 'uint8' || rawImages.shape.length !== 3) {
      throw new DataFormatError(`${imagesFile}: expected uint8 images (n, height, width), got ${rawImages.dtype} ${formatShape(rawImages.shape)}`);
    }
    if (rawLabels.dtype === 'float32' || rawLabels.dtype === 'float64' || rawLabels.shape.length !== 1) {
      throw new DataFormatError(`${labelsFile}: expected integer labels (n,), got ${rawLabels.dtype} ${formatShape(rawLabels.shape)}`);
    }
    const images = forTraining(rawImages);
    const labels = forTraining(rawLabels);
    if (images.shape[0] !== labels.shape[0]) {
      throw new DataFormatError(`${labelsFile}: ${labels.shape[0]} labels for the ${images.shape[0]} images of ${imagesFile}`);
    }
    const classes = options.classNames.length;
    const data = labels.data as Int32Array;
    const bad = data.findIndex((label) => label < 0 || label >= classes);
    if (bad >= 0) throw new DataFormatError(`${labelsFile}: label ${bad} is ${data[bad]}, outside the ${classes} classes 0..${classes - 1}`);
    return makeDataset(images, labels, { classNames: options.classNames });
  };
  return {
    train: split(files.trainImages!, files.trainLabels!),
    test: split(files.testImages!, files.testLabels!),
    classNames: options.classNames,
  };
}

/**
 * Fashion-MNIST (60000 training and 10000 test images of clothing, 28x28 grayscale, 10
 * classes) from `dir`, by default where Debian's dataset-fashion-mnist package puts it.
 */
export function loadFashionMnist(dir: string = FASHION_MNIST_DIR): TrainTestSplits {
  const apt = 'sudo apt-get install dataset-fashion-mnist';
  const hint =
    dir === FASHION_MNIST_DIR
      ? `install Debian's package: ${apt}`
      : `put the four files from https://github.com/zalandoresearch/fashion-mnist in it, or install Debian's package (${apt}) and use its folder ${FASHION_MNIST_DIR}`;
  return loadIdxFolder(dir, { classNames: FASHION_MNIST_CLASS_NAMES, hint: `Fashion-MNIST: ${hint}` });
}

/** MNIST (handwritten digits) from an MNIST-style folder. */
export function loadMnist(dir: string): TrainTestSplits {
  return loadIdxFolder(dir, { classNames: MNIST_CLASS_NAMES, hint: 'MNIST: put the four IDX files from the MNIST site in it' });
}
