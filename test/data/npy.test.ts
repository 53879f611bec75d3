// .npy reading and writing, checked against files NumPy wrote (test/fixtures/onnx/*.npy, see
// make_fixtures.py) and by round trips over every dtype, rank and header version.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { type DType, type NdArray, allocate, concatRows, sliceRows } from '../../app/data/ndarray.ts';
import { formatNpy, parseNpy, readNpy, writeNpy } from '../../app/data/npy.ts';
import { assertFormatError } from '../assertions.ts';

const FIXTURES = fileURLToPath(new URL('../fixtures/onnx/', import.meta.url));
const fixture = (name: string) => path.join(FIXTURES, name);
const scratch = mkdtempSync(path.join(tmpdir(), 'strata-npy-'));
after(() => rmSync(scratch, { recursive: true, force: true }));


describe('npy: files written by NumPy', () => {
  test('float32 (5, 4), C order', () => {
    const x = readNpy(fixture('x_5x4.npy'));
    assert.equal(x.dtype, 'float32');
    assert.deepEqual(x.shape, [5, 4]);
    assert.deepEqual([...x.data], Array.from({ length: 20 }, (_, i) => (i - 8) / 4));
  });

  test('float64, int64, int32, uint8, bool', () => {
    const f8 = readNpy(fixture('f8_2x3.npy'));
    assert.equal(f8.dtype, 'float64');
    assert.deepEqual([...f8.data], [0.5, -1.25, 3.0, 1e-3, 2.5e10, -7.0]);
    const i8 = readNpy(fixture('i8_ids_2x3.npy'));
    assert.equal(i8.dtype, 'int64');
    assert.deepEqual([...i8.data], [0n, 4n, 2n, 1n, 1n, 3n]);
    const i4 = readNpy(fixture('i4_3.npy'));
    assert.deepEqual([i4.dtype, i4.shape, [...i4.data]], ['int32', [3], [-2, 0, 7]]);
    const u1 = readNpy(fixture('u1_2x2.npy'));
    assert.deepEqual([u1.dtype, u1.shape, [...u1.data]], ['uint8', [2, 2], [0, 255, 17, 3]]);
    const b = readNpy(fixture('bool_4.npy'));
    assert.deepEqual([b.dtype, b.shape, [...b.data]], ['bool', [4], [1, 0, 0, 1]]);
  });

  test('converted to float32 when asked', () => {
    const f8 = readNpy(fixture('f8_2x3.npy'), { asFloat32: true });
    assert.equal(f8.dtype, 'float32');
    assert.deepEqual([...f8.data], [0.5, -1.25, 3.0, Math.fround(1e-3), Math.fround(2.5e10), -7.0]);
    assert.deepEqual([...readNpy(fixture('i8_ids_2x3.npy'), { asFloat32: true }).data], [0, 4, 2, 1, 1, 3]);
    assert.deepEqual([...readNpy(fixture('bool_4.npy'), { asFloat32: true }).data], [1, 0, 0, 1]);
  });

  test('a scalar and a rank-4 array', () => {
    const scalar = readNpy(fixture('f4_scalar.npy'));
    assert.deepEqual([scalar.shape, [...scalar.data]], [[], [3.5]]);
    const rank4 = readNpy(fixture('f4_rank4.npy'));
    assert.deepEqual(rank4.shape, [2, 3, 2, 2]);
    assert.deepEqual([...rank4.data], Array.from({ length: 24 }, (_, i) => i));
  });

  test('format versions 2.0 and 3.0', () => {
    for (const name of ['f4_v2.npy', 'f4_v3.npy']) {
      const array = readNpy(fixture(name));
      assert.deepEqual([array.dtype, array.shape, [...array.data]], ['float32', [2, 2], [1, 2, 3, 4]], name);
    }
  });

  test('Fortran order and big-endian are clear errors naming the file', () => {
    assertFormatError(() => readNpy(fixture('f4_fortran.npy')), /f4_fortran\.npy: .*Fortran.*ascontiguousarray/);
    assertFormatError(() => readNpy(fixture('f4_bigendian.npy')), /f4_bigendian\.npy: unsupported dtype '>f4'.*big-endian/);
  });

  test('what Strata writes is byte for byte what NumPy wrote', () => {
    for (const name of ['x_5x4.npy', 'f8_2x3.npy', 'i8_ids_2x3.npy', 'u1_2x2.npy', 'bool_4.npy', 'f4_scalar.npy', 'f4_rank4.npy', 'i4_3.npy']) {
      const bytes = readFileSync(fixture(name));
      assert.deepEqual(Buffer.from(formatNpy(parseNpy(bytes, name))), bytes, name);
    }
  });
});

describe('npy: round trips', () => {
  const samples: Record<DType, (i: number) => number | bigint> = {
    float32: (i) => Math.fround(i * 0.37 - 5),
    float64: (i) => i * 1e-7 - 3,
    int8: (i) => (i % 200) - 100,
    uint8: (i) => i % 256,
    int16: (i) => i * 37 - 3000,
    uint16: (i) => i * 91,
    int32: (i) => i * 100003 - 7,
    uint32: (i) => i * 4000007,
    int64: (i) => BigInt(i) * 9007199254740993n - 5n,
    uint64: (i) => BigInt(i) * 18014398509481985n,
    bool: (i) => i % 3 === 0 ? 1 : 0,
  };
  const shapes = [[], [0], [7], [3, 4], [2, 3, 4], [1, 2, 1, 3, 2], [4, 0, 2]];
  for (const dtype of Object.keys(samples) as DType[]) {
    test(dtype, () => {
      for (const shape of shapes) {
        const count = shape.reduce((n, d) => n * d, 1);
        const data = allocate(dtype, count);
        for (let i = 0; i < count; i++) (data as unknown as (number | bigint)[])[i] = samples[dtype](i);
        const file = path.join(scratch, `${dtype}-${shape.join('x')}.npy`);
        writeNpy(file, { dtype, shape, data } as NdArray);
        const bytes = readFileSync(file);
        const headerLength = bytes.readUInt16LE(8);
        assert.equal((10 + headerLength) % 64, 0, 'data starts on a 64-byte boundary');
        assert.equal(bytes[10 + headerLength - 1], 0x0a, 'header ends with a newline');
        const back = readNpy(file);
        assert.deepEqual([back.dtype, back.shape, [...back.data]], [dtype, shape, [...data]], `${dtype} ${JSON.stringify(shape)}`);
      }
    });
  }
});

describe('npy: corrupt files', () => {
  const good = readFileSync(fixture('x_5x4.npy'));
  const write = (name: string, bytes: Uint8Array | string) => {
    const file = path.join(scratch, name);
    writeFileSync(file, bytes);
    return file;
  };

  test('empty, wrong magic, missing file', () => {
    assertFormatError(() => readNpy(write('empty.npy', '')), /empty\.npy: the file is empty/);
    assertFormatError(() => readNpy(write('text.npy', 'hello, not numpy')), /text\.npy: not a \.npy file/);
    assertFormatError(() => readNpy(path.join(scratch, 'nowhere.npy')), /nowhere\.npy: cannot read/);
  });

  test('every truncation is an error', () => {
    for (let length = 1; length < good.length; length++) {
      assertFormatError(() => parseNpy(good.subarray(0, length), 'cut.npy'), /^cut\.npy: (truncated|not a \.npy file)/);
    }
  });

  test('trailing bytes, bad header, unsupported dtypes, unknown version', () => {
    assertFormatError(() => parseNpy(Buffer.concat([good, Buffer.from([0, 0, 0, 0])]), 'long.npy'), /long\.npy: 4 bytes after the data/);
    const header = (dict: string) => {
      const padded = dict.padEnd(117, ' ') + '\n';
      return Buffer.concat([Buffer.from([0x93]), Buffer.from('NUMPY'), Buffer.from([1, 0, padded.length, 0]), Buffer.from(padded, 'latin1')]);
    };
    assertFormatError(() => parseNpy(header("{'descr': '<U3', 'fortran_order': False, 'shape': (2,), }"), 'u.npy'), /u\.npy: unsupported dtype '<U3'/);
    assertFormatError(() => parseNpy(header("{'descr': '|O', 'fortran_order': False, 'shape': (2,), }"), 'o.npy'), /o\.npy: an object array \(dtype '\|O'\): its elements are Python pickles/);
    assertFormatError(() => parseNpy(header("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (2,), }"), 's.npy'), /structured/);
    assertFormatError(() => parseNpy(header("{'descr': '<f4', 'shape': (2,), }"), 'h.npy'), /no 'fortran_order'/);
    assertFormatError(() => parseNpy(header("{'descr': '<f4', 'fortran_order': False, 'shape': (2, -1), }"), 'h.npy'), /bad shape/);
    assertFormatError(() => parseNpy(header('not a dict'), 'h.npy'), /malformed \.npy header/);
    const v9 = Buffer.from(good);
    v9[6] = 9;
    assertFormatError(() => parseNpy(v9, 'v9.npy'), /unsupported \.npy format version 9\.0/);
  });
});

describe('ndarray: batching helpers', () => {
  test('sliceRows and concatRows invert each other', () => {
    const x = readNpy(fixture('x_5x4.npy'));
    const parts = [sliceRows(x, 0, 2), sliceRows(x, 2, 4), sliceRows(x, 4, 5)];
    assert.deepEqual(parts.map((p) => p.shape), [[2, 4], [2, 4], [1, 4]]);
    const joined = concatRows(parts);
    assert.deepEqual([joined.shape, [...joined.data]], [x.shape, [...x.data]]);
    assert.throws(() => concatRows([x, readNpy(fixture('f8_2x3.npy'))]), /cannot concatenate/);
  });
});
