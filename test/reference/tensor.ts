// A minimal dense tensor for the reference forward pass (keras_forward.ts) and for the tests
// that compare other backends against it. Row-major, batch first, channels last; the
// reference computes in float64 so that it is the trustworthy side of every comparison.
// Kept for tests only: nothing in app/ may import it.
import { RandomGenerator } from '../../app/model/random.ts';

/** A dense row-major float64 tensor; `data.length` is the product of `shape`. */
export interface RefTensor {
  shape: number[];
  data: Float64Array;
}

/** Any tensor-like pair, e.g. an onnxruntime-node output ({dims, data}) mapped to {shape, data}. */
export interface TensorLike {
  shape: readonly number[];
  data: ArrayLike<number>;
}

/** Number of elements of a shape (1 for a scalar). */
export function sizeOfShape(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) throw new RangeError(`tensor: bad dimension ${d} in shape [${shape.join(', ')}]`);
    n *= d;
  }
  return n;
}

/** Row-major strides: element [i0, i1, ...] lives at sum(ik * strides[k]). */
export function stridesOf(shape: readonly number[]): number[] {
  const strides = new Array<number>(shape.length);
  let s = 1;
  for (let k = shape.length - 1; k >= 0; k--) {
    strides[k] = s;
    s *= shape[k]!;
  }
  return strides;
}

/** Flat offset of a full index; checks each coordinate against the shape. */
export function offsetOf(shape: readonly number[], index: readonly number[]): number {
  if (index.length !== shape.length) throw new RangeError(`tensor: index [${index.join(', ')}] has rank ${index.length}, shape [${shape.join(', ')}] has rank ${shape.length}`);
  let offset = 0;
  for (let k = 0; k < shape.length; k++) {
    const i = index[k]!;
    if (!Number.isInteger(i) || i < 0 || i >= shape[k]!) throw new RangeError(`tensor: index [${index.join(', ')}] is out of bounds for shape [${shape.join(', ')}]`);
    offset = offset * shape[k]! + i;
  }
  return offset;
}

/** A float64 tensor; `data` (any numbers) is copied, zeros when omitted. */
export function tensor(shape: readonly number[], data?: ArrayLike<number>): RefTensor {
  const n = sizeOfShape(shape);
  if (data !== undefined && data.length !== n) {
    throw new RangeError(`tensor: shape [${shape.join(', ')}] holds ${n} values, got ${data.length}`);
  }
  return { shape: [...shape], data: data === undefined ? new Float64Array(n) : Float64Array.from(data) };
}

/** Element at a full index. */
export function at(t: RefTensor, index: readonly number[]): number {
  return t.data[offsetOf(t.shape, index)]!;
}

/** The same values in float32 (what onnxruntime-node and the native engine are fed). */
export function toFloat32(t: RefTensor): Float32Array {
  return Float32Array.from(t.data);
}

/** The values as nested arrays, for readable assertions on small tensors. */
export function toNested(t: RefTensor): unknown {
  const build = (dim: number, offset: number): unknown => {
    if (dim === t.shape.length) return t.data[offset]!;
    const stride = sizeOfShape(t.shape.slice(dim + 1));
    return Array.from({ length: t.shape[dim]! }, (_, i) => build(dim + 1, offset + i * stride));
  };
  return build(0, 0);
}

export interface RandomOptions {
  /** 'uniform' in [low, high) (default [-1, 1)), or 'normal' with mean 0 and `std`. */
  distribution?: 'uniform' | 'normal';
  low?: number;
  high?: number;
  std?: number;
}

/**
 * A seeded random tensor. Values are rounded to float32, so the reference (float64) and the
 * backend under test (fed float32) start from exactly the same numbers.
 */
export function randomTensor(shape: readonly number[], seed: number | RandomGenerator, options: RandomOptions = {}): RefTensor {
  const rng = typeof seed === 'number' ? new RandomGenerator(seed) : seed;
  const { distribution = 'uniform', low = -1, high = 1, std = 1 } = options;
  const t = tensor(shape);
  for (let i = 0; i < t.data.length; i++) {
    const v = distribution === 'normal' ? rng.normal() * std : low + (high - low) * rng.uniform();
    t.data[i] = Math.fround(v);
  }
  return t;
}

/** Seeded integers in [0, high), stored as floats (token ids for Embedding). */
export function randomIntTensor(shape: readonly number[], high: number, seed: number | RandomGenerator): RefTensor {
  if (!Number.isInteger(high) || high <= 0) throw new RangeError(`randomIntTensor: high must be a positive integer, got ${high}`);
  const rng = typeof seed === 'number' ? new RandomGenerator(seed) : seed;
  const t = tensor(shape);
  for (let i = 0; i < t.data.length; i++) t.data[i] = Math.floor(rng.uniform() * high);
  return t;
}

export interface CloseOptions {
  /** Relative tolerance (default 1e-5: the float32 bar of issue 3). */
  rtol?: number;
  /** Absolute tolerance, for values near zero (default 1e-6). */
  atol?: number;
  /** Named in the failure message, e.g. "dense_1 output 0, batch 7". */
  what?: string;
}

export interface Comparison {
  ok: boolean;
  /** Largest |actual - expected|. */
  maxAbsError: number;
  /** Largest |actual - expected| / |expected| over elements where expected != 0. */
  maxRelError: number;
  /** Elements outside atol + rtol * |expected|. */
  mismatchCount: number;
  /** The first few mismatches, "[0, 3]: got 0.5, expected 0.25". */
  firstMismatches: string[];
}

/** Elementwise |actual - expected| <= atol + rtol * |expected|, shapes equal; NaN never matches. */
export function compareTensors(actual: TensorLike, expected: TensorLike, options: CloseOptions = {}): Comparison {
  const { rtol = 1e-5, atol = 1e-6 } = options;
  const sameShape = actual.shape.length === expected.shape.length && actual.shape.every((d, i) => d === expected.shape[i]);
  if (!sameShape) {
    return { ok: false, maxAbsError: Infinity, maxRelError: Infinity, mismatchCount: -1, firstMismatches: [`shape [${actual.shape.join(', ')}], expected [${expected.shape.join(', ')}]`] };
  }
  if (actual.data.length !== expected.data.length) throw new RangeError(`compareTensors: data lengths ${actual.data.length} and ${expected.data.length} differ for one shape`);
  let maxAbsError = 0;
  let maxRelError = 0;
  let mismatchCount = 0;
  const firstMismatches: string[] = [];
  const strides = stridesOf(expected.shape);
  for (let i = 0; i < expected.data.length; i++) {
    const a = actual.data[i]!;
    const e = expected.data[i]!;
    const err = Math.abs(a - e);
    if (!(err <= atol + rtol * Math.abs(e))) {
      mismatchCount++;
      if (firstMismatches.length < 5) {
        const index = strides.map((s, k) => Math.floor(i / s) % expected.shape[k]!);
        firstMismatches.push(`[${index.join(', ')}]: got ${a}, expected ${e}`);
      }
    }
    if (Number.isNaN(err)) {
      maxAbsError = NaN;
      maxRelError = NaN;
    } else {
      maxAbsError = Math.max(maxAbsError, err);
      if (e !== 0) maxRelError = Math.max(maxRelError, err / Math.abs(e));
    }
  }
  return { ok: mismatchCount === 0, maxAbsError, maxRelError, mismatchCount, firstMismatches };
}

/** Throws, listing the first five mismatches, unless compareTensors passes. */
export function assertAllClose(actual: TensorLike, expected: TensorLike, options: CloseOptions = {}): void {
  const c = compareTensors(actual, expected, options);
  if (c.ok) return;
  const { rtol = 1e-5, atol = 1e-6, what = 'tensor' } = options;
  const count = c.mismatchCount < 0 ? 'shape mismatch' : `${c.mismatchCount} of ${expected.data.length} elements differ`;
  throw new Error(
    `${what}: ${count} (rtol ${rtol}, atol ${atol}; max abs error ${c.maxAbsError}, max rel error ${c.maxRelError})\n  ` + c.firstMismatches.join('\n  '),
  );
}
