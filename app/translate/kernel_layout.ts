// Conv kernels cross the ONNX boundary in two layouts: Keras's (kh, kw, in, out) and ONNX's
// (out, in, kh, kw). One index walk serves both directions.

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
