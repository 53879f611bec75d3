// .npz archives: files np.savez and np.savez_compressed wrote (ZIP64 members), round trips,
// and corrupt archives.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ndarray } from '../../app/data/ndarray.ts';
import { parseNpz, readNpz, writeNpz } from '../../app/data/npz.ts';

const FIXTURES = fileURLToPath(new URL('../fixtures/onnx/', import.meta.url));
const scratch = mkdtempSync(path.join(tmpdir(), 'strata-npz-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

const A = Array.from({ length: 24 }, (_, i) => (i - 10) / 8);
const B = [1, -1, 0.5, 2, 0, 0, -3, 1];

describe('npz', () => {
  test('np.savez (stored, by name) and np.savez_compressed (deflated, arr_0, arr_1)', () => {
    const named = readNpz(path.join(FIXTURES, 'ab.npz'));
    assert.deepEqual(Object.keys(named), ['a', 'b']);
    assert.deepEqual([named['a']!.shape, [...named['a']!.data]], [[2, 3, 4], A]);
    assert.deepEqual([named['b']!.shape, [...named['b']!.data]], [[2, 4], B]);
    const positional = readNpz(path.join(FIXTURES, 'ab_compressed.npz'));
    assert.deepEqual(Object.keys(positional), ['arr_0', 'arr_1']);
    assert.deepEqual([...positional['arr_1']!.data], B);
  });

  test('round trip, stored and compressed', () => {
    const arrays = { x: ndarray('float32', [2, 2], new Float32Array([1, 2, 3, 4])), ids: ndarray('int64', [3], new BigInt64Array([1n, -2n, 3n])) };
    for (const compress of [false, true]) {
      const file = path.join(scratch, `round${compress}.npz`);
      writeNpz(file, arrays, { compress });
      const back = readNpz(file);
      assert.deepEqual(Object.fromEntries(Object.entries(back).map(([k, v]) => [k, [v.dtype, v.shape, [...v.data]]])), {
        x: ['float32', [2, 2], [1, 2, 3, 4]],
        ids: ['int64', [3], [1n, -2n, 3n]],
      });
    }
  });

  test('corrupt archives name the file, and the member', () => {
    const bytes = readFileSync(path.join(FIXTURES, 'ab.npz'));
    const fails = (data: Uint8Array, pattern: RegExp) =>
      assert.throws(() => parseNpz(data, 'in.npz'), (error: Error) => error.name === 'FormatError' && pattern.test(error.message) && !error.message.includes('\n'));
    fails(new Uint8Array(), /^in\.npz: the file is empty/);
    fails(readFileSync(path.join(FIXTURES, 'x_5x4.npy')), /^in\.npz: not a \.npz file/);
    fails(bytes.subarray(0, bytes.length - 30), /^in\.npz: corrupt or truncated/);
    const damaged = Buffer.from(bytes);
    damaged.write('\x93NUMPX', bytes.indexOf('\x93NUMPY', 0, 'latin1'), 'latin1');
    fails(damaged, /^in\.npz\[a\.npy\]: not a \.npy file/);
  });
});
