// A plain n-dimensional array: a typed array in C (row-major) order plus its shape. This is
// what .npy files, ONNX tensors and onnxruntime inputs and outputs are converted to and from.

/** Element types Strata reads and writes, named as NumPy and onnxruntime name them. */
export type DType = 'float32' | 'float64' | 'int8' | 'uint8' | 'int16' | 'uint16' | 'int32' | 'uint32' | 'int64' | 'uint64' | 'bool';

export interface DTypeArrays {
  float32: Float32Array;
  float64: Float64Array;
  int8: Int8Array;
  uint8: Uint8Array;
  int16: Int16Array;
  uint16: Uint16Array;
  int32: Int32Array;
  uint32: Uint32Array;
  int64: BigInt64Array;
  uint64: BigUint64Array;
  /** One byte per element, 0 or 1. */
  bool: Uint8Array;
}

export type TypedArray = DTypeArrays[DType];

export interface NdArray<D extends DType = DType> {
  dtype: D;
  /** Sizes of each axis; [] for a scalar. */
  shape: number[];
  /** shape's product elements in C order. */
  data: DTypeArrays[D];
}

const CONSTRUCTORS = {
  float32: Float32Array,
  float64: Float64Array,
  int8: Int8Array,
  uint8: Uint8Array,
  int16: Int16Array,
  uint16: Uint16Array,
  int32: Int32Array,
  uint32: Uint32Array,
  int64: BigInt64Array,
  uint64: BigUint64Array,
  bool: Uint8Array,
} as const;

export const DTYPES = Object.keys(CONSTRUCTORS) as DType[];

export function isDType(name: string): name is DType {
  return Object.hasOwn(CONSTRUCTORS, name);
}

export function itemSize(dtype: DType): number {
  return dtype === 'bool' ? 1 : CONSTRUCTORS[dtype].BYTES_PER_ELEMENT;
}

/** Number of elements of a shape (1 for a scalar). */
export function shapeSize(shape: readonly number[]): number {
  return shape.reduce((n, d) => n * d, 1);
}

/** `(2, 3)` style, as NumPy and Keras print shapes; null and strings for unknown and symbolic dims. */
export function formatShape(shape: readonly (number | string | null)[]): string {
  const dims = shape.map((d) => (d === null ? 'None' : String(d)));
  return `(${dims.join(', ')}${dims.length === 1 ? ',' : ''})`;
}

/** A zero-filled array of `length` elements of `dtype`. */
export function allocate<D extends DType>(dtype: D, length: number): DTypeArrays[D] {
  return new CONSTRUCTORS[dtype](length) as DTypeArrays[D];
}

/** A typed array of `dtype` over a copy of `bytes` (little-endian element bytes). */
export function fromBytes<D extends DType>(dtype: D, bytes: Uint8Array): DTypeArrays[D] {
  const size = itemSize(dtype);
  if (bytes.byteLength % size !== 0) throw new RangeError(`${bytes.byteLength} bytes is not a whole number of ${dtype} elements`);
  const copy = new Uint8Array(bytes); // own, aligned buffer
  return new CONSTRUCTORS[dtype](copy.buffer, 0, bytes.byteLength / size) as DTypeArrays[D];
}

/** The little-endian bytes of an array's elements (a view, no copy). */
export function toBytes(data: TypedArray): Uint8Array {
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

export function ndarray<D extends DType>(dtype: D, shape: number[], data: DTypeArrays[D]): NdArray<D> {
  if (data.length !== shapeSize(shape)) {
    throw new RangeError(`shape ${formatShape(shape)} holds ${shapeSize(shape)} elements, the data has ${data.length}`);
  }
  return { dtype, shape, data };
}

/** Elements [start, end) along axis 0, sharing the data buffer. */
export function sliceRows<D extends DType>(array: NdArray<D>, start: number, end: number): NdArray<D> {
  const rowSize = shapeSize(array.shape.slice(1));
  const data = array.data.subarray(start * rowSize, end * rowSize) as DTypeArrays[D];
  return { dtype: array.dtype, shape: [end - start, ...array.shape.slice(1)], data };
}

/** Joins arrays along axis 0; all must share dtype and the other axes. */
export function concatRows<D extends DType>(parts: NdArray<D>[]): NdArray<D> {
  if (parts.length === 0) throw new RangeError('nothing to concatenate');
  const [first] = parts as [NdArray<D>];
  const inner = first.shape.slice(1);
  let rows = 0;
  for (const part of parts) {
    if (part.dtype !== first.dtype || part.shape.length !== first.shape.length || part.shape.slice(1).some((d, i) => d !== inner[i])) {
      throw new RangeError(`cannot concatenate ${part.dtype}${formatShape(part.shape)} to ${first.dtype}${formatShape(first.shape)}`);
    }
    rows += part.shape[0] ?? 0;
  }
  const data = allocate(first.dtype, rows * shapeSize(inner));
  let offset = 0;
  for (const part of parts) {
    (data as unknown as { set(a: ArrayLike<unknown>, o: number): void }).set(part.data, offset);
    offset += part.data.length;
  }
  return { dtype: first.dtype, shape: [rows, ...inner], data };
}

/** Converts to float32 (the dtype models take); int64 beyond 2^53 loses precision as in NumPy. */
export function toFloat32(array: NdArray): NdArray<'float32'> {
  if (array.dtype === 'float32') return array as NdArray<'float32'>;
  const out = new Float32Array(array.data.length);
  for (let i = 0; i < out.length; i++) out[i] = Number(array.data[i]);
  return { dtype: 'float32', shape: array.shape, data: out };
}
