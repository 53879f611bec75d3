// Training data as Keras's fit() takes it: one batch-first array per model input (x) and per
// output (y), all with the same number of samples, plus the pieces fit() needs around them:
// batching without copying the dataset each epoch, Keras's validation_split (the last
// fraction, before any shuffling), and one-hot conversion of class labels.
//
// Labels are either integer class ids (int32, shape (n,)), as sparse_categorical_crossentropy
// takes them, or float32 rows (one-hot (n, classes) for categorical_crossentropy, targets for
// regression).
import { DataValueError } from './errors.ts';
import { type NdArray, formatShape, shapeSize } from './ndarray.ts';

/** The element types a Dataset holds: float32 features and targets, int32 class ids and token ids. */
export type SampleDType = 'float32' | 'int32';
export type SampleArray = NdArray<SampleDType>;

export interface Dataset {
  /** Number of samples: axis 0 of every array in x and y. */
  readonly size: number;
  /** One array per model input, batch-first: float32 features, or int32 ids for an Embedding input. */
  readonly x: SampleArray[];
  /** One array per model output: int32 class ids (n,), float32 one-hot (n, classes), or float32 targets. */
  readonly y: SampleArray[];
  /** Class names by class id, where the labels are classes. */
  readonly classNames?: string[];
}

export interface DatasetOptions {
  classNames?: string[];
}

/**
 * A Dataset over `x` and `y` (one array or one per input/output), checked the way fit() needs:
 * float32 or int32 arrays of rank 1 or more with the same number of samples, no NaN or
 * infinity in float32 arrays, int32 labels non-negative (and below classNames.length when
 * given), one-hot widths equal to classNames.length. The arrays are used as they are, not copied.
 */
export function makeDataset(x: NdArray | NdArray[], y: NdArray | NdArray[], options: DatasetOptions = {}): Dataset {
  const xs = (Array.isArray(x) ? x : [x]).map((array, i) => checkSampleArray(array, `x[${i}]`));
  const ys = (Array.isArray(y) ? y : [y]).map((array, i) => checkSampleArray(array, `y[${i}]`));
  if (xs.length === 0) throw new DataValueError('a dataset needs at least one input array (x)');
  const size = xs[0]!.shape[0]!;
  [...xs.map((a, i) => [a, `x[${i}]`] as const), ...ys.map((a, i) => [a, `y[${i}]`] as const)].forEach(([array, what]) => {
    if (array.shape[0] !== size) {
      throw new DataValueError(`${what} has ${array.shape[0]} samples, x[0] has ${size}: x and y must have the same number of samples (axis 0)`);
    }
  });
  const { classNames } = options;
  ys.forEach((labels, i) => {
    if (labels.dtype === 'int32') checkLabels(labels, classNames?.length ?? Infinity, `y[${i}]`);
    else if (classNames && labels.shape.length === 2 && labels.shape[1] !== classNames.length) {
      throw new DataValueError(`y[${i}] ${formatShape(labels.shape)} has ${labels.shape[1]} columns, there are ${classNames.length} classes`);
    }
  });
  return classNames ? { size, x: xs, y: ys, classNames } : { size, x: xs, y: ys };
}

function checkSampleArray(array: NdArray, what: string): SampleArray {
  if (array.dtype !== 'float32' && array.dtype !== 'int32') {
    throw new DataValueError(`${what} is ${array.dtype}: dataset arrays are float32 (features, targets) or int32 (class ids, token ids)`);
  }
  if (array.shape.length === 0) throw new DataValueError(`${what} is a scalar: dataset arrays have a sample axis first`);
  if (array.dtype === 'float32') {
    const data = array.data as Float32Array;
    for (let i = 0; i < data.length; i++) {
      if (!Number.isFinite(data[i]!)) {
        throw new DataValueError(`${what} has ${data[i]} at sample ${Math.floor(i / rowSize(array))} (element ${formatIndex(i, array.shape)})`);
      }
    }
  }
  return array as SampleArray;
}

/** Checks int32 class ids (shape (n,) or (n, 1)) lie in [0, classes); the error names the sample. */
export function checkLabels(labels: NdArray, classes: number, what = 'y'): void {
  if (labels.dtype !== 'int32') throw new DataValueError(`${what} is ${labels.dtype}, class ids are int32`);
  if (labels.shape.length > 2 || (labels.shape.length === 2 && labels.shape[1] !== 1)) {
    throw new DataValueError(`${what} ${formatShape(labels.shape)}: int32 class ids have shape (n,) or (n, 1); one-hot labels are float32`);
  }
  const data = labels.data as Int32Array;
  for (let i = 0; i < data.length; i++) {
    const label = data[i]!;
    if (label < 0 || label >= classes) {
      const range = Number.isFinite(classes) ? `outside the ${classes} classes 0..${classes - 1}` : 'negative: class ids start at 0';
      throw new DataValueError(`${what}[${i}] is ${label}, ${range}`);
    }
  }
}

/** Elements per sample: the product of the axes after the first. */
function rowSize(array: NdArray): number {
  return shapeSize(array.shape.slice(1));
}

function formatIndex(flat: number, shape: readonly number[]): string {
  const index: number[] = [];
  for (let axis = shape.length - 1; axis >= 0; axis--) {
    index.unshift(flat % shape[axis]!);
    flat = Math.floor(flat / shape[axis]!);
  }
  return `[${index.join(', ')}]`;
}

// --- Batches ---------------------------------------------------------------------------------

export interface BatchOptions {
  batchSize: number;
  /** Visit the samples in a seeded random order (default false: in order). */
  shuffle?: boolean;
  /**
   * The order's seed when shuffling: the same seed gives the same order on every machine.
   * Pass a different one each epoch (seed + epoch). Default: a random seed.
   */
  seed?: number;
  /** Leave out the last batch when it is smaller than batchSize (default false). */
  drop?: boolean;
  /** Start at this batch of the epoch's order (default 0): a run resumed mid-epoch goes on where it stopped. */
  firstBatch?: number;
}

export interface Batch {
  /** One array per model input, `size` samples each. */
  x: SampleArray[];
  /** One array per model output. */
  y: SampleArray[];
  /** Position of the batch's first sample in this epoch's order: a multiple of batchSize. */
  start: number;
  /** Samples in the batch: batchSize, or fewer in the last batch. */
  size: number;
}

/** Batches per epoch for `size` samples. */
export function batchCount(size: number, batchSize: number, drop = false): number {
  return drop ? Math.floor(size / batchSize) : Math.ceil(size / batchSize);
}

/**
 * The batches of one epoch, without copying the dataset.
 *
 * In order (shuffle false), each batch's arrays are subarray views of the dataset's arrays:
 * no copy, valid as long as the dataset, and not to be written to.
 *
 * Shuffled, the rows of each batch are gathered into buffers allocated once per batch size
 * (at most two: batchSize and the last batch's) and reused by the next batch of that size:
 * a yielded batch is valid until the iterator moves on. Copy what must outlive it.
 */
export function* batches(dataset: Dataset, options: BatchOptions): Generator<Batch, void, undefined> {
  const { batchSize, shuffle = false, drop = false, firstBatch = 0 } = options;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new DataValueError(`batchSize must be a positive integer, got ${batchSize}`);
  const count = batchCount(dataset.size, batchSize, drop);
  if (!shuffle) {
    for (let b = firstBatch; b < count; b++) {
      const start = b * batchSize;
      const end = Math.min(start + batchSize, dataset.size);
      yield { x: dataset.x.map((a) => rowsView(a, start, end)), y: dataset.y.map((a) => rowsView(a, start, end)), start, size: end - start };
    }
    return;
  }
  const order = permutation(dataset.size, options.seed ?? Math.floor(Math.random() * 2 ** 32));
  const buffers = new Map<number, { x: SampleArray[]; y: SampleArray[] }>();
  for (let b = firstBatch; b < count; b++) {
    const start = b * batchSize;
    const size = Math.min(batchSize, dataset.size - start);
    let batch = buffers.get(size);
    if (!batch) {
      batch = { x: dataset.x.map((a) => emptyRows(a, size)), y: dataset.y.map((a) => emptyRows(a, size)) };
      buffers.set(size, batch);
    }
    const indices = order.subarray(start, start + size);
    dataset.x.forEach((source, i) => gatherRows(batch.x[i]!, source, indices));
    dataset.y.forEach((source, i) => gatherRows(batch.y[i]!, source, indices));
    yield { x: batch.x, y: batch.y, start, size };
  }
}

/** Rows [start, end) of `array`, sharing its buffer. */
function rowsView(array: SampleArray, start: number, end: number): SampleArray {
  const row = rowSize(array);
  return { dtype: array.dtype, shape: [end - start, ...array.shape.slice(1)], data: array.data.subarray(start * row, end * row) } as SampleArray;
}

function emptyRows(like: SampleArray, rows: number): SampleArray {
  const length = rows * rowSize(like);
  const data = like.dtype === 'float32' ? new Float32Array(length) : new Int32Array(length);
  return { dtype: like.dtype, shape: [rows, ...like.shape.slice(1)], data } as SampleArray;
}

/** target[i] = source[indices[i]], row by row. */
function gatherRows(target: SampleArray, source: SampleArray, indices: Uint32Array): void {
  const row = rowSize(source);
  const from = source.data;
  const to = target.data;
  if (row === 1) {
    for (let i = 0; i < indices.length; i++) to[i] = from[indices[i]!]!;
    return;
  }
  for (let i = 0; i < indices.length; i++) {
    const offset = indices[i]! * row;
    to.set(from.subarray(offset, offset + row), i * row);
  }
}

/**
 * A random permutation of 0..n-1 (Fisher-Yates driven by mulberry32), the same for the same
 * seed on every machine.
 */
export function permutation(n: number, seed: number): Uint32Array {
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  const random = mulberry32(seed);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const t = order[i]!;
    order[i] = order[j]!;
    order[j] = t;
  }
  return order;
}

/** mulberry32: a small 32-bit generator, uniform in [0, 1). */
function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

// --- Validation split ------------------------------------------------------------------------

/**
 * Keras's validation_split: the last `validationFraction` of the samples (in their stored
 * order, before any shuffling) become the validation set, the samples before them the
 * training set, split at floor(size * (1 - fraction)). Both are views of the dataset's arrays.
 */
export function split(dataset: Dataset, validationFraction: number): { train: Dataset; validation: Dataset } {
  if (!(validationFraction > 0 && validationFraction < 1)) {
    throw new DataValueError(`validationSplit must be between 0 and 1 (exclusive), got ${validationFraction}`);
  }
  const at = Math.floor(dataset.size * (1 - validationFraction));
  if (at === 0 || at === dataset.size) {
    throw new DataValueError(
      `validationSplit ${validationFraction} of ${dataset.size} samples leaves ${at === 0 ? 'no training' : 'no validation'} samples; use a ${at === 0 ? 'smaller' : 'larger'} fraction or more data`,
    );
  }
  const part = (start: number, end: number): Dataset => {
    const x = dataset.x.map((a) => rowsView(a, start, end));
    const y = dataset.y.map((a) => rowsView(a, start, end));
    return dataset.classNames ? { size: end - start, x, y, classNames: dataset.classNames } : { size: end - start, x, y };
  };
  return { train: part(0, at), validation: part(at, dataset.size) };
}

// --- Labels ----------------------------------------------------------------------------------

/** Integer class ids (n,) or (n, 1), of any integer dtype, as float32 one-hot rows (n, classes). */
export function toOneHot(labels: NdArray, classes: number): NdArray<'float32'> {
  if (!Number.isInteger(classes) || classes < 1) throw new DataValueError(`classes must be a positive integer, got ${classes}`);
  if (labels.dtype === 'float32' || labels.dtype === 'float64' || labels.dtype === 'bool') {
    throw new DataValueError(`labels are ${labels.dtype}; toOneHot takes integer class ids`);
  }
  if (labels.shape.length === 0 || labels.shape.length > 2 || (labels.shape.length === 2 && labels.shape[1] !== 1)) {
    throw new DataValueError(`labels ${formatShape(labels.shape)}: class ids have shape (n,) or (n, 1)`);
  }
  const n = labels.shape[0]!;
  const out = new Float32Array(n * classes);
  for (let i = 0; i < n; i++) {
    const label = Number(labels.data[i]);
    if (!(label >= 0 && label < classes)) throw new DataValueError(`labels[${i}] is ${label}, outside the ${classes} classes 0..${classes - 1}`);
    out[i * classes + label] = 1;
  }
  return { dtype: 'float32', shape: [n, classes], data: out };
}

/** One-hot (or probability) rows (n, classes) as int32 class ids (n,): each row's argmax, the first on ties. */
export function fromOneHot(oneHot: NdArray): NdArray<'int32'> {
  if (oneHot.dtype !== 'float32' && oneHot.dtype !== 'float64') throw new DataValueError(`one-hot labels are float32, got ${oneHot.dtype}`);
  if (oneHot.shape.length !== 2 || oneHot.shape[1]! < 1) throw new DataValueError(`one-hot labels ${formatShape(oneHot.shape)}: expected shape (n, classes)`);
  const [n, classes] = oneHot.shape as [number, number];
  const data = oneHot.data as Float32Array | Float64Array;
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let c = 1; c < classes; c++) if (data[i * classes + c]! > data[i * classes + best]!) best = c;
    out[i] = best;
  }
  return { dtype: 'int32', shape: [n], data: out };
}
