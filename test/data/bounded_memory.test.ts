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
import { crc32, deflateRawSync } from 'node:zlib';
import { formatNpy } from '../../app/data/npy.ts';
import { ndarray } from '../../app/data/ndarray.ts';
import { ZEROS, deflateBomb, gzipBomb, idxHeader, npyHeader, zipOf } from '../hostile_files.ts';

const scratch = mkdtempSync(path.join(tmpdir(), 'strata-bombs-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

/** Peak memory allowed while refusing a file: Node and tsx take about 100 MB before reading anything. */
const RSS_BOUND = 300 * 1024 ** 2;
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

  test('a zip64 member that declares 5 GB is refused by the limit, not as a corrupt archive', () => {
    const header = npyHeader([1_250_000_000]);
    const file = path.join(scratch, 'zip64.npz');
    writeFileSync(file, zipOf('x.npy', deflateBomb(header, 1), header.length + 5_000_000_000));
    assertRefusedWithin('readNpz', file, /^LimitError: .*zip64\.npz: its members declare 4\.66 GB of arrays, more than the 2\.00 GB/);
  });

  test('the generated archive format is right: an honest member reads back', () => {
    const array = formatNpy(ndarray('float32', [3], new Float32Array([1, 2, 3])));
    const file = path.join(scratch, 'honest.npz');
    writeFileSync(file, zipOf('x.npy', deflateRawSync(array), array.length, crc32(array)));
    assert.equal(readInChild('readNpz', file).outcome, 'loaded');
  });
});
