// Compressed files that declare one size and hold another (a gzip of zeros behind a small IDX
// header, .npz members whose .npy header and zip directory disagree or declare more than the
// limits) fail before memory grows: each case runs in a child process whose peak RSS is
// measured. Before the bounds, these files took 1-2 GB each.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { constants, crc32, deflateRawSync, gzipSync } from 'node:zlib';
import { formatNpy } from '../../app/data/npy.ts';
import { ndarray } from '../../app/data/ndarray.ts';

const scratch = mkdtempSync(path.join(tmpdir(), 'strata-bombs-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

/** Peak memory allowed while refusing a file: Node and tsx take about 100 MB before reading anything. */
const RSS_BOUND = 300 * 1024 ** 2;
const ZEROS = Buffer.alloc(16 * 1024 ** 2);

/** A gzip stream of `header` followed by `zeroChunks` x 16 MiB of zeros (concatenated gzip members). */
function gzipBomb(header: Uint8Array, zeroChunks: number): Buffer {
  const zeros = gzipSync(ZEROS);
  return Buffer.concat([gzipSync(header), ...Array<Buffer>(zeroChunks).fill(zeros)]);
}

/** One raw deflate stream of `prefix` followed by `zeroChunks` x 16 MiB of zeros (sync-flushed blocks, then a final one). */
function deflateBomb(prefix: Uint8Array, zeroChunks: number): Buffer {
  const open = { finishFlush: constants.Z_SYNC_FLUSH };
  const zeros = deflateRawSync(ZEROS, open);
  return Buffer.concat([deflateRawSync(prefix, open), ...Array<Buffer>(zeroChunks).fill(zeros), deflateRawSync(Buffer.alloc(0))]);
}

/** A zip archive of one deflated member whose directory declares `size` bytes of content. */
function zipOf(name: string, compressed: Uint8Array, size: number, crc = 0): Buffer {
  const nameBytes = Buffer.from(name);
  const local = Buffer.alloc(30);
  local.writeUInt32LE(0x04034b50, 0);
  local.writeUInt16LE(20, 4);
  local.writeUInt16LE(8, 8);
  local.writeUInt32LE(crc, 14);
  local.writeUInt32LE(compressed.length, 18);
  local.writeUInt32LE(size, 22);
  local.writeUInt16LE(nameBytes.length, 26);
  const central = Buffer.alloc(46);
  central.writeUInt32LE(0x02014b50, 0);
  central.writeUInt16LE(20, 4);
  central.writeUInt16LE(20, 6);
  central.writeUInt16LE(8, 10);
  central.writeUInt32LE(crc, 16);
  central.writeUInt32LE(compressed.length, 20);
  central.writeUInt32LE(size, 24);
  central.writeUInt16LE(nameBytes.length, 28);
  const directoryOffset = local.length + nameBytes.length + compressed.length;
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(1, 8);
  end.writeUInt16LE(1, 10);
  end.writeUInt32LE(central.length + nameBytes.length, 12);
  end.writeUInt32LE(directoryOffset, 16);
  return Buffer.concat([local, nameBytes, compressed, central, nameBytes, end]);
}

/** The .npy header bytes of a float32 array of `shape` (the data left out). */
function npyHeader(shape: number[]): Uint8Array {
  const full = formatNpy(ndarray('float32', [0], new Float32Array(0)));
  const text = new TextDecoder('latin1').decode(full).replace('(0,)', `(${shape.join(', ')}${shape.length === 1 ? ',' : ''})`);
  const bytes = Uint8Array.from(text, (c) => c.charCodeAt(0));
  new DataView(bytes.buffer).setUint16(8, bytes.length - 10, true);
  return bytes;
}

function idxHeader(shape: number[]): Uint8Array {
  const header = Buffer.alloc(4 + 4 * shape.length);
  header.set([0, 0, 0x08, shape.length]);
  shape.forEach((d, i) => header.writeUInt32BE(d, 4 + 4 * i));
  return header;
}

/** Reads `file` with `reader` ('readIdx' or 'readNpz') in a child process: what it threw, and its peak RSS. */
function readInChild(reader: 'readIdx' | 'readNpz', file: string): { outcome: string; maxRss: number } {
  const module = pathToFileURL(path.resolve(reader === 'readIdx' ? 'app/data/idx.ts' : 'app/data/npz.ts')).href;
  const code = `
    const { ${reader} } = await import(${JSON.stringify(module)});
    let outcome = 'loaded';
    try { ${reader}(${JSON.stringify(file)}); } catch (error) { outcome = error.name + ': ' + error.message; }
    console.log(JSON.stringify({ outcome, maxRss: process.resourceUsage().maxRSS * 1024 }));`;
  const child = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { encoding: 'utf8' });
  assert.equal(child.status, 0, child.stderr);
  return JSON.parse(child.stdout) as { outcome: string; maxRss: number };
}

function assertRefusedWithin(reader: 'readIdx' | 'readNpz', file: string, pattern: RegExp): void {
  const { outcome, maxRss } = readInChild(reader, file);
  assert.match(outcome, pattern);
  assert.ok(maxRss < RSS_BOUND, `peak RSS ${(maxRss / 1024 ** 2).toFixed(0)} MiB reading ${path.basename(file)}`);
}

describe('memory follows what a compressed file really holds', () => {
  test('a gzipped IDX file that inflates to 1 GiB behind a header of 10 images stops at the header\'s size', () => {
    const file = path.join(scratch, 'bomb-images-idx3-ubyte.gz');
    writeFileSync(file, gzipBomb(idxHeader([10, 28, 28]), 64));
    assertRefusedWithin('readIdx', file, /^FormatError: .*bomb-images-idx3-ubyte\.gz: it inflates to more than the 7856 bytes its header declares/);
  });

  test('an IDX header that declares more than its compressed bytes can hold, or more than the limit, is refused before inflating', () => {
    const plausible = path.join(scratch, 'claims-idx3-ubyte.gz');
    writeFileSync(plausible, gzipBomb(idxHeader([60000, 100, 100]), 1));
    assertRefusedWithin('readIdx', plausible, /^FormatError: .*its header declares 600000016 bytes, more than its \d+ compressed bytes can hold/);
    const huge = path.join(scratch, 'huge-idx3-ubyte.gz');
    writeFileSync(huge, gzipBomb(idxHeader([4000000000, 28, 28]), 1));
    assertRefusedWithin('readIdx', huge, /^LimitError: .*huge-idx3-ubyte\.gz: its header declares [\d.]+ [GT]B of data, more than the 2\.00 GB/);
  });

  test('an .npz member whose .npy header declares a billion floats while its directory says 1 GiB stops before inflating', () => {
    const header = npyHeader([1_000_000_000]);
    const file = path.join(scratch, 'declares-more.npz');
    writeFileSync(file, zipOf('x.npy', deflateBomb(header, 64), header.length + 64 * ZEROS.length));
    assertRefusedWithin('readNpz', file, /^FormatError: .*declares-more\.npz\[x\.npy\]: its \.npy header declares 4000000\d{3} bytes, the archive's directory 1073741\d{3}/);
  });

  test('an .npz member that declares 5 floats everywhere and inflates to 1 GiB stops at 5 floats', () => {
    const header = npyHeader([5]);
    const size = header.length + 20;
    const file = path.join(scratch, 'inflates-more.npz');
    writeFileSync(file, zipOf('x.npy', deflateBomb(header, 64), size));
    assertRefusedWithin('readNpz', file, /^FormatError: .*inflates-more\.npz\[x\.npy\]: it inflates to more than the 148 bytes its header declares/);
  });

  test('an .npz member that honestly declares 4 GB is refused by the limit, not inflated', () => {
    const header = npyHeader([1_000_000_000]);
    const file = path.join(scratch, 'four-gigabytes.npz');
    writeFileSync(file, zipOf('x.npy', deflateBomb(header, 4), header.length + 4_000_000_000));
    assertRefusedWithin('readNpz', file, /^LimitError: .*four-gigabytes\.npz: its members declare 3\.73 GB of arrays, more than the 2\.00 GB/);
  });

  test('the generated archive format is right: an honest member reads back', () => {
    const array = formatNpy(ndarray('float32', [3], new Float32Array([1, 2, 3])));
    const file = path.join(scratch, 'honest.npz');
    writeFileSync(file, zipOf('x.npy', deflateRawSync(array), array.length, crc32(array)));
    assert.equal(readInChild('readNpz', file).outcome, 'loaded');
  });
});
