// Conv kernels cross the ONNX boundary in two layouts: Keras's (kh, kw, in, out) and ONNX's
// (out, in, kh, kw). One index walk serves both directions. A depthwise kernel, Keras's (kh,
// kw, in, multiplier), is ONNX's grouped (in * multiplier, 1, kh, kw): the same walk over it
// read as (kh, kw, 1, in * multiplier), since output channel c * multiplier + m is where
// Keras's row-major (c, m) pair lies.

/** Calls `visit(kerasIndex, oihwIndex)` for every element of a (kh, kw, in, out) kernel. */
function forEachKernelElement([kh, kw, cin, cout]: readonly number[], visit: (keras: number, oihw: number) => void): void {
  for (let y = 0; y < kh!; y++)
    for (let x = 0; x < kw!; x++)
      for (let i = 0; i < cin!; i++)
        for (let o = 0; o < cout!; o++) visit(((y * kw! + x) * cin! + i) * cout! + o, ((o * cin! + i) * kh! + y) * kw! + x);
}

/** Keras (kh, kw, in, out) -> ONNX (out, in, kh, kw); `shape` is the Keras shape. */
export function kernelToOihw(kernel: Float32Array, shape: readonly number[]): Float32Array {
  const out = new Float32Array(kernel.length);
  forEachKernelElement(shape, (keras, oihw) => (out[oihw] = kernel[keras]!));
  return out;
}

/** ONNX (out, in, kh, kw) -> Keras (kh, kw, in, out); `shape` is the Keras shape. */
export function kernelFromOihw(data: Float32Array, shape: readonly number[]): Float32Array {
  const out = new Float32Array(data.length);
  forEachKernelElement(shape, (keras, oihw) => (out[keras] = data[oihw]!));
  return out;
}

/**
 * How a weight is stored in ONNX: as Keras holds it, as a Conv kernel, as a grouped
 * (depthwise) Conv kernel, as an ONNX LSTM/GRU/RNN weight (recurrent layouts below), or a
 * per-pixel (h, w, c) weight as (c, h, w) beside an NCHW value (PReLU's slopes after a convolution).
 */
export type OnnxLayout = 'keras' | 'oihw' | 'depthwise' | 'chw' | RecurrentLayout;

/** Calls `visit(hwcIndex, chwIndex)` for every element of an (h, w, c) weight. */
function forEachPixelElement([h, w, c]: readonly number[], visit: (hwc: number, chw: number) => void): void {
  for (let y = 0; y < h!; y++) for (let x = 0; x < w!; x++) for (let k = 0; k < c!; k++) visit((y * w! + x) * c! + k, (k * h! + y) * w! + x);
}

// Recurrent weights. Keras's kernel (rows, gates * units) is ONNX's W or R (1, gates * units,
// rows): transposed, with one direction in front. ONNX orders LSTM's gates i, o, f, c where
// Keras has i, f, c, o; GRU (z, r, h) and SimpleRNN keep Keras's order. A bias becomes
// (1, its size): LSTM's reordered (the recurrent half of ONNX's B is added as zeros by the
// translation), GRU reset_after's (2, 3 * units) already is ONNX's [Wb, Rb].
export type RecurrentLayout = 'lstm_kernel' | 'rnn_kernel' | 'lstm_bias' | 'rnn_bias';

const RECURRENT_LAYOUTS: readonly string[] = ['lstm_kernel', 'rnn_kernel', 'lstm_bias', 'rnn_bias'];

/** Every layout a weight map may name. */
export const ONNX_LAYOUTS: readonly string[] = ['keras', 'oihw', 'depthwise', 'chw', ...RECURRENT_LAYOUTS];

/** ONNX LSTM gate k (i, o, f, c) is Keras gate LSTM_GATES[k] (of i, f, c, o). */
const LSTM_GATES = [0, 3, 1, 2];

/** Calls `visit(kerasIndex, onnxIndex)` for every element of a recurrent weight of Keras shape `shape`. */
function forEachRecurrentElement(shape: readonly number[], layout: RecurrentLayout, visit: (keras: number, onnx: number) => void): void {
  const isKernel = layout === 'lstm_kernel' || layout === 'rnn_kernel';
  const rows = isKernel ? shape[0]! : 1;
  const cols = isKernel ? shape[1]! : shape.reduce((a, b) => a * b, 1);
  const lstm = layout === 'lstm_kernel' || layout === 'lstm_bias';
  const units = lstm ? cols / 4 : cols;
  for (let c = 0; c < cols; c++) {
    const gate = Math.floor(c / units);
    const onnxColumn = lstm ? LSTM_GATES.indexOf(gate) * units + (c % units) : c;
    for (let r = 0; r < rows; r++) visit(r * cols + c, isKernel ? onnxColumn * rows + r : onnxColumn);
  }
}

function isRecurrent(layout: OnnxLayout): layout is RecurrentLayout {
  return RECURRENT_LAYOUTS.includes(layout);
}

/**
 * The (kh, kw, in, out) shape that `layout`'s OIHW walk reads a Keras kernel of `shape` as. A
 * Conv1D kernel (k, in, out) is a 2-D one of height 1: its OIHW order is ONNX's (out, in, k).
 */
function asConvKernel(shape: readonly number[], layout: 'oihw' | 'depthwise'): readonly number[] {
  if (layout === 'depthwise') return [shape[0]!, shape[1]!, 1, shape[2]! * shape[3]!];
  return shape.length === 3 ? [1, ...shape] : shape;
}

/** The initializer's dims for a Keras weight of `shape`. */
export function onnxDims(shape: readonly number[], layout: OnnxLayout): number[] {
  if (layout === 'keras') return [...shape];
  if (layout === 'lstm_kernel' || layout === 'rnn_kernel') return [1, shape[1]!, shape[0]!];
  if (isRecurrent(layout)) return [1, shape.reduce((a, b) => a * b, 1)];
  if (layout === 'chw') return [shape[2]!, shape[0]!, shape[1]!];
  const [kh, kw, cin, cout] = asConvKernel(shape, layout);
  return shape.length === 3 ? [cout!, cin!, kw!] : [cout!, cin!, kh!, kw!];
}

/** Keras's values -> the initializer's. */
export function toOnnxLayout(value: Float32Array, shape: readonly number[], layout: OnnxLayout): Float32Array {
  if (isRecurrent(layout)) {
    const out = new Float32Array(value.length);
    forEachRecurrentElement(shape, layout, (keras, onnx) => (out[onnx] = value[keras]!));
    return out;
  }
  if (layout === 'chw') {
    const out = new Float32Array(value.length);
    forEachPixelElement(shape, (hwc, chw) => (out[chw] = value[hwc]!));
    return out;
  }
  return layout === 'keras' ? value : kernelToOihw(value, asConvKernel(shape, layout));
}

/** The initializer's values -> Keras's (a copy). */
export function fromOnnxLayout(data: Float32Array, shape: readonly number[], layout: OnnxLayout): Float32Array {
  if (isRecurrent(layout)) {
    const out = new Float32Array(data.length);
    forEachRecurrentElement(shape, layout, (keras, onnx) => (out[keras] = data[onnx]!));
    return out;
  }
  if (layout === 'chw') {
    const out = new Float32Array(data.length);
    forEachPixelElement(shape, (hwc, chw) => (out[hwc] = data[chw]!));
    return out;
  }
  return layout === 'keras' ? Float32Array.from(data) : kernelFromOihw(data, asConvKernel(shape, layout));
}

/** Where each axis of a Keras (kh, kw, in, out) kernel lies in ONNX's (out, in, kh, kw). */
const OIHW_POSITION = [2, 3, 1, 0];
/** The same for a Conv1D kernel: Keras's (k, in, out) in ONNX's (out, in, k). */
const OIK_POSITION = [2, 1, 0];

/**
 * A weight viewed as (outer, reduce, inner) in its initializer's layout, so that norms over
 * Keras's `axes` (negative ones count from the end) are norms over `reduce` (a constraint's
 * axes, native/core/regularization.h). Undefined when those axes are not contiguous there.
 */
export function normView(shape: readonly number[], layout: OnnxLayout, axes: readonly number[]): { outer: number; reduce: number; inner: number } | undefined {
  if (layout !== 'keras' && layout !== 'oihw') return undefined;
  const dims = onnxDims(shape, layout);
  const oihw = shape.length === 3 ? OIK_POSITION : OIHW_POSITION;
  const positions = [...new Set(axes.map((a) => (a < 0 ? a + shape.length : a)))].map((a) => (layout === 'oihw' ? oihw[a] : a));
  if (positions.some((p) => p === undefined || p < 0 || p >= dims.length)) return undefined;
  const first = Math.min(...(positions as number[]));
  const last = Math.max(...(positions as number[]));
  if (last - first + 1 !== positions.length) return undefined;
  const product = (from: number, to: number) => dims.slice(from, to).reduce((p, d) => p * d, 1);
  return { outer: product(0, first), reduce: product(first, last + 1), inner: product(last + 1, dims.length) };
}
