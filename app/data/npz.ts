// NumPy .npz files: a zip archive of .npy members, as np.savez (stored) and np.savez_compressed
// (deflated) write them, member 'x.npy' holding array 'x'. Members are read from the zip's
// directory (zip.ts); a deflated member is inflated only after its .npy header and the zip
// directory agree on its size, and never beyond it (inflate.ts), so memory follows the arrays
// the file really holds. Archives are written with fflate.
import { zipSync } from 'fflate';
import { crc32 } from 'node:zlib';
import { LimitError } from '../model/errors.ts';
import { LIMITS } from '../model/limits.ts';
import { readableMemorySize } from '../model/summary.ts';
import { inflateDeclared, inflateHead } from './inflate.ts';
import type { NdArray } from './ndarray.ts';
import { NPY_MAX_HEADER_BYTES, NpyFormatError, type NpyReadOptions, formatNpy, parseNpy, readNpyLayout } from './npy.ts';
import { type ZipMember, zipMembers } from './zip.ts';
import { writeFileAtomic } from '../io/atomic_write.ts';
import { readFileOrThrow } from '../io/read_file.ts';

/** Reads every array of an .npz file, by name, in the archive's order. Errors name the file. */
export function readNpz(file: string, options: NpyReadOptions = {}): Record<string, NdArray> {
  return parseNpz(readFileOrThrow(file, NpyFormatError), file, options);
}

export function parseNpz(bytes: Uint8Array, source = '<npz>', options: NpyReadOptions = {}): Record<string, NdArray> {
  if (bytes.length === 0) throw new NpyFormatError(`${source}: the file is empty, not a .npz file`);
  if (bytes[0] !== 0x50 || bytes[1] !== 0x4b) throw new NpyFormatError(`${source}: not a .npz file (not a zip archive)`);
  const members = zipMembers(bytes, (what) => {
    throw new NpyFormatError(`${source}: corrupt or truncated .npz archive (${what})`);
  });
  const declared = members.reduce((n, member) => n + member.size, 0);
  if (declared > LIMITS.inflatedBytes) {
    throw new LimitError(`${source}: its members declare ${readableMemorySize(declared)} of arrays, more than the ${readableMemorySize(LIMITS.inflatedBytes)} Strata reads from one archive`, { file: source });
  }
  const arrays: Record<string, NdArray> = {};
  for (const member of members) {
    if (member.name.endsWith('/')) continue; // a directory entry
    const where = `${source}[${member.name}]`;
    if (!member.name.endsWith('.npy')) throw new NpyFormatError(`${source}: member '${member.name}' is not a .npy array`);
    const content = memberContent(bytes, member, where);
    arrays[member.name.slice(0, -'.npy'.length)] = parseNpy(content, where, options);
    // After parsing, so that a damaged .npy header is reported as such.
    if (crc32(content) >>> 0 !== member.crc32) throw new NpyFormatError(`${where}: its CRC-32 does not match the archive's: the member is corrupt`);
  }
  return arrays;
}

/** A member's .npy bytes: stored as they are, or inflated to exactly the size its .npy header declares. */
function memberContent(bytes: Uint8Array, member: ZipMember, where: string): Uint8Array {
  const fail = (what: string): never => {
    throw new NpyFormatError(`${where}: ${what}`);
  };
  const data = bytes.subarray(member.dataOffset, member.dataOffset + member.compressedSize);
  if (member.method === 0) {
    if (member.size !== member.compressedSize) fail(`a stored member of ${member.compressedSize} bytes whose directory entry says ${member.size}: corrupt archive`);
    return data;
  }
  if (member.method !== 8) return fail(`compression method ${member.method}; .npz members are stored or deflated, as NumPy writes them`);
  const { byteLength } = readNpyLayout(inflateHead(data, 'deflate-raw', NPY_MAX_HEADER_BYTES, fail), fail);
  if (byteLength !== member.size) fail(`its .npy header declares ${byteLength} bytes, the archive's directory ${member.size}: corrupt archive`);
  return inflateDeclared(data, 'deflate-raw', byteLength, where, fail);
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
