// Generators of hostile data files for tests: compressed streams that inflate far beyond
// what their headers declare, and zip archives whose directory says what the test wants.
import { constants, deflateRawSync, gzipSync } from 'node:zlib';
import { formatNpy } from '../app/data/npy.ts';
import { ndarray } from '../app/data/ndarray.ts';

export const ZEROS = Buffer.alloc(16 * 1024 ** 2);

/** A gzip stream of `header` followed by `zeroChunks` x 16 MiB of zeros (concatenated gzip members). */
export function gzipBomb(header: Uint8Array, zeroChunks: number): Buffer {
  const zeros = gzipSync(ZEROS);
  return Buffer.concat([gzipSync(header), ...Array<Buffer>(zeroChunks).fill(zeros)]);
}

/** One raw deflate stream of `prefix` followed by `zeroChunks` x 16 MiB of zeros (sync-flushed blocks, then a final one). */
export function deflateBomb(prefix: Uint8Array, zeroChunks: number): Buffer {
  const open = { finishFlush: constants.Z_SYNC_FLUSH };
  const zeros = deflateRawSync(ZEROS, open);
  return Buffer.concat([deflateRawSync(prefix, open), ...Array<Buffer>(zeroChunks).fill(zeros), deflateRawSync(Buffer.alloc(0))]);
}

/**
 * A zip archive of one deflated member whose directory declares `size` bytes of content
 * (a size over 32 bits goes in a zip64 extra field, as zip64 writers put it).
 */
export function zipOf(name: string, compressed: Uint8Array, size: number, crc = 0): Buffer {
  const nameBytes = Buffer.from(name);
  const wide = size > 0xfffffffe;
  const extra = Buffer.alloc(wide ? 12 : 0);
  if (wide) {
    extra.writeUInt16LE(0x0001, 0);
    extra.writeUInt16LE(8, 2);
    extra.writeBigUInt64LE(BigInt(size), 4);
  }
  // The fields the local header and the directory entry share, at their offsets in each.
  const header = (length: number, signature: number, at: number) => {
    const out = Buffer.alloc(length);
    out.writeUInt32LE(signature, 0);
    out.writeUInt16LE(20, 4);
    out.writeUInt16LE(8, at + 4);
    out.writeUInt32LE(crc, at + 10);
    out.writeUInt32LE(compressed.length, at + 14);
    out.writeUInt32LE(wide ? 0xffffffff : size, at + 18);
    out.writeUInt16LE(nameBytes.length, at + 22);
    return out;
  };
  const local = header(30, 0x04034b50, 4);
  const central = header(46, 0x02014b50, 6);
  central.writeUInt16LE(20, 6);
  central.writeUInt16LE(extra.length, 30);
  const directoryOffset = local.length + nameBytes.length + compressed.length;
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(1, 8);
  end.writeUInt16LE(1, 10);
  end.writeUInt32LE(central.length + nameBytes.length + extra.length, 12);
  end.writeUInt32LE(directoryOffset, 16);
  return Buffer.concat([local, nameBytes, compressed, central, nameBytes, extra, end]);
}

/** The .npy header bytes of a float32 array of `shape` (the data left out). */
export function npyHeader(shape: number[]): Uint8Array {
  const full = formatNpy(ndarray('float32', [0], new Float32Array(0)));
  const text = new TextDecoder('latin1').decode(full).replace('(0,)', `(${shape.join(', ')}${shape.length === 1 ? ',' : ''})`);
  const bytes = Uint8Array.from(text, (c) => c.charCodeAt(0));
  new DataView(bytes.buffer).setUint16(8, bytes.length - 10, true);
  return bytes;
}

export function idxHeader(shape: number[]): Uint8Array {
  const header = Buffer.alloc(4 + 4 * shape.length);
  header.set([0, 0, 0x08, shape.length]);
  shape.forEach((d, i) => header.writeUInt32BE(d, 4 + 4 * i));
  return header;
}

