// Checks inputs against a model's declared inputs before they reach onnxruntime, whose own
// messages name neither the input nor the expected shape, and plans batches along axis 0.
import { type NdArray, formatShape } from '../data/ndarray.ts';
import { ShapeError } from '../model/errors.ts';
import type { Dim, ValueDescription } from '../onnx/inspect.ts';

/** An input that does not fit the model: wrong name, dtype, rank or size. */
export class InputError extends ShapeError {}

function describeSpec(spec: ValueDescription): string {
  return spec.shape ? `${spec.type} ${formatShape(spec.shape)}` : spec.type;
}

/**
 * Throws an InputError for the first input that does not fit `specs`. Returns the number of
 * rows along axis 0 when every input's axis 0 is a free (symbolic or unknown) dimension they
 * all share, so the inputs can be split into batches; null otherwise.
 */
export function validateInputs(specs: readonly ValueDescription[], feeds: Readonly<Record<string, NdArray>>): number | null {
  const names = specs.map((s) => s.name);
  for (const name of Object.keys(feeds)) {
    if (!names.includes(name)) throw new InputError(`the model has no input '${name}'; its inputs are: ${names.join(', ')}`);
  }
  const symbols = new Map<string, { size: number; input: string }>();
  let rows: number | null | undefined;
  for (const spec of specs) {
    const array = feeds[spec.name];
    if (!array) throw new InputError(`missing input '${spec.name}' (${describeSpec(spec)}); the model's inputs are: ${names.join(', ')}`);
    if (array.dtype !== spec.type) {
      const hint = spec.type === 'float32' ? ` (convert it: x.astype(np.float32))` : '';
      throw new InputError(`input '${spec.name}': expected ${spec.type} elements, got ${array.dtype}${hint}`);
    }
    if (!spec.shape) {
      rows = null; // rank unknown: the runtime checks it
      continue;
    }
    const expected = `${formatShape(spec.shape)}`;
    if (array.shape.length !== spec.shape.length) {
      throw new InputError(`input '${spec.name}': expected a ${spec.shape.length}-D array of shape ${expected}, got shape ${formatShape(array.shape)}`);
    }
    spec.shape.forEach((dim: Dim, axis) => {
      const size = array.shape[axis]!;
      if (typeof dim === 'number' && dim !== size) {
        throw new InputError(`input '${spec.name}': expected shape ${expected}, got ${formatShape(array.shape)} (axis ${axis} must be ${dim})`);
      }
      if (typeof dim === 'string') {
        const seen = symbols.get(dim);
        if (seen && seen.size !== size) {
          throw new InputError(`input '${spec.name}': axis ${axis} is '${dim}' = ${size}, but input '${seen.input}' has '${dim}' = ${seen.size} (shape ${expected})`);
        }
        symbols.set(dim, { size, input: spec.name });
      }
    });
    const first = spec.shape[0];
    const free = spec.shape.length > 0 && typeof first !== 'number';
    if (!free) rows = null;
    else if (rows === undefined) rows = array.shape[0]!;
    else if (rows !== null && rows !== array.shape[0]) rows = null;
  }
  return rows ?? null;
}

export function checkBatchSize(batchSize: number): void {
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new InputError(`batch size must be a positive integer, got ${batchSize}`);
}

/** [start, end) row ranges of at most batchSize rows covering `rows`. */
export function planBatches(rows: number, batchSize: number): [number, number][] {
  checkBatchSize(batchSize);
  const batches: [number, number][] = [];
  for (let start = 0; start < rows; start += batchSize) batches.push([start, Math.min(rows, start + batchSize)]);
  return batches.length > 0 ? batches : [[0, rows]];
}
