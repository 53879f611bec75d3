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

/** How a weight is stored in ONNX: as Keras holds it, as a Conv kernel, or as a grouped (depthwise) Conv kernel. */
export type OnnxLayout = 'keras' | 'oihw' | 'depthwise';

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
  const [kh, kw, cin, cout] = asConvKernel(shape, layout);
  return shape.length === 3 ? [cout!, cin!, kw!] : [cout!, cin!, kh!, kw!];
}

/** Keras's values -> the initializer's. */
export function toOnnxLayout(value: Float32Array, shape: readonly number[], layout: OnnxLayout): Float32Array {
  return layout === 'keras' ? value : kernelToOihw(value, asConvKernel(shape, layout));
}

/** The initializer's values -> Keras's (a copy). */
export function fromOnnxLayout(data: Float32Array, shape: readonly number[], layout: OnnxLayout): Float32Array {
  return layout === 'keras' ? Float32Array.from(data) : kernelFromOihw(data, asConvKernel(shape, layout));
}
