// NumPy .npz files: a zip archive of .npy members, as np.savez (stored) and np.savez_compressed
// (deflated) write them, member 'x.npy' holding array 'x'. The zip layer is fflate's.
import { unzipSync, zipSync } from 'fflate';
import type { NdArray } from './ndarray.ts';
import { NpyFormatError, type NpyReadOptions, formatNpy, parseNpy } from './npy.ts';
import { writeFileAtomic } from '../io/atomic_write.ts';
import { readFileOrThrow } from '../io/read_file.ts';

/** Reads every array of an .npz file, by name, in the archive's order. Errors name the file. */
export function readNpz(file: string, options: NpyReadOptions = {}): Record<string, NdArray> {
  return parseNpz(readFileOrThrow(file, NpyFormatError), file, options);
}

export function parseNpz(bytes: Uint8Array, source = '<npz>', options: NpyReadOptions = {}): Record<string, NdArray> {
  if (bytes.length === 0) throw new NpyFormatError(`${source}: the file is empty, not a .npz file`);
  if (bytes[0] !== 0x50 || bytes[1] !== 0x4b) throw new NpyFormatError(`${source}: not a .npz file (not a zip archive)`);
  let members: Record<string, Uint8Array>;
  try {
    members = unzipSync(bytes);
  } catch (error) {
    throw new NpyFormatError(`${source}: corrupt or truncated .npz archive (${(error as Error).message})`);
  }
  const arrays: Record<string, NdArray> = {};
  for (const [name, member] of Object.entries(members)) {
    if (name.endsWith('/')) continue; // a directory entry
    if (!name.endsWith('.npy')) throw new NpyFormatError(`${source}: member '${name}' is not a .npy array`);
    arrays[name.slice(0, -'.npy'.length)] = parseNpy(member, `${source}[${name}]`, options);
  }
  return arrays;
}

/** The bytes of an .npz archive of `arrays` (stored, as np.savez writes). */
export function formatNpz(arrays: Record<string, NdArray>, options: { compress?: boolean } = {}): Uint8Array {
  const members = Object.fromEntries(Object.entries(arrays).map(([name, array]) => [`${name}.npy`, formatNpy(array)]));
  return zipSync(members, { level: options.compress ? 6 : 0 });
}

/** Writes an .npz file atomically (flushed to a temporary file renamed over the target; a failure leaves nothing behind). */
export function writeNpz(file: string, arrays: Record<string, NdArray>, options: { compress?: boolean } = {}): void {
  writeFileAtomic(file, formatNpz(arrays, options));
}
