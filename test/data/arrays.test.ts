// Datasets from .npy files and .npz archives: dtype conversions, x_train/x_test splits, and
// errors naming the file for mismatched lengths, NaN, out-of-range labels and missing arrays.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { loadArrays } from '../../app/data/arrays.ts';
import type { NdArray } from '../../app/data/ndarray.ts';
import { writeNpy } from '../../app/data/npy.ts';
import { writeNpz } from '../../app/data/npz.ts';
import { assertFormatError } from '../assertions.ts';

const scratch = mkdtempSync(path.join(tmpdir(), 'strata-arrays-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

function npy(name: string, array: NdArray): string {
  const file = path.join(scratch, name);
  writeNpy(file, array);
  return file;
}

function npz(name: string, arrays: Record<string, NdArray>): string {
  const file = path.join(scratch, name);
  writeNpz(file, arrays, { compress: true });
  return file;
}

const f64 = (shape: number[], values: number[]): NdArray => ({ dtype: 'float64', shape, data: Float64Array.from(values) });
const i64 = (shape: number[], values: number[]): NdArray => ({ dtype: 'int64', shape, data: BigInt64Array.from(values.map(BigInt)) });
const u8 = (shape: number[], values: number[]): NdArray => ({ dtype: 'uint8', shape, data: Uint8Array.from(values) });


describe('arrays: .npy files', () => {
  test('float64 x becomes float32; int64 labels (n, 1) become int32 (n,)', () => {
    const { train, test: testSplit } = loadArrays({ x: npy('x.npy', f64([3, 2], [0.5, 1, 2, 3, 4, -5])), y: npy('y.npy', i64([3, 1], [2, 0, 1])) }, { classNames: ['a', 'b', 'c'] });
    assert.equal(testSplit, undefined);
    assert.equal(train.size, 3);
    assert.equal(train.x[0]!.dtype, 'float32');
    assert.deepEqual([...train.x[0]!.data], [0.5, 1, 2, 3, 4, -5]);
    assert.equal(train.y[0]!.dtype, 'int32');
    assert.deepEqual(train.y[0]!.shape, [3]);
    assert.deepEqual([...train.y[0]!.data], [2, 0, 1]);
    assert.deepEqual(train.classNames, ['a', 'b', 'c']);
  });

  test('uint8 x is scaled to [0, 1]; int64 x becomes int32 ids; float y stays float32; several inputs', () => {
    const { train } = loadArrays({
      x: [npy('img.npy', u8([2, 2], [0, 255, 51, 102])), npy('ids.npy', i64([2, 3], [1, 2, 3, 4, 5, 6]))],
      y: npy('onehot.npy', { dtype: 'float32', shape: [2, 2], data: Float32Array.of(1, 0, 0, 1) }),
    });
    assert.deepEqual([...train.x[0]!.data], [0, 1, 0.2, 0.4].map(Math.fround));
    assert.equal(train.x[1]!.dtype, 'int32');
    assert.deepEqual([...train.x[1]!.data], [1, 2, 3, 4, 5, 6]);
    assert.equal(train.y[0]!.dtype, 'float32');
  });

  test('x and y of different lengths name the files', () => {
    const x = npy('x5.npy', f64([5, 1], [1, 2, 3, 4, 5]));
    const y = npy('y4.npy', i64([4], [0, 1, 0, 1]));
    assertFormatError(() => loadArrays({ x, y }), /x5\.npy, .*y4\.npy: y\[0\] has 4 samples, x\[0\] has 5/);
  });

  test('NaN in x names the file and the sample', () => {
    const x = npy('nan.npy', f64([3, 2], [0, 1, 2, NaN, 4, 5]));
    assertFormatError(() => loadArrays({ x, y: npy('y3.npy', i64([3], [0, 1, 0])) }), /nan\.npy.*: x\[0\] has NaN at sample 1 \(element \[1, 1\]\)/);
  });

  test('labels out of range name the sample', () => {
    const x = npy('x3.npy', f64([3, 1], [1, 2, 3]));
    assertFormatError(() => loadArrays({ x, y: npy('y-range.npy', i64([3], [0, 3, 1])) }, { classNames: ['a', 'b', 'c'] }), /y-range\.npy: y\[0\]\[1\] is 3, outside the 3 classes 0..2/);
  });

  test('ids beyond int32 and unreadable files', () => {
    assertFormatError(() => loadArrays({ x: npy('big.npy', i64([1], [2 ** 40])), y: npy('y1.npy', i64([1], [0])) }), /big\.npy: element 0 of int64\(1,\) is 1099511627776, outside int32/);
    assertFormatError(() => loadArrays({ x: path.join(scratch, 'absent.npy'), y: npy('y1b.npy', i64([1], [0])) }), /absent\.npy: cannot read/);
  });
});

describe('arrays: .npz archives', () => {
  test('x and y', () => {
    const { train, test: testSplit } = loadArrays(npz('xy.npz', { x: f64([2, 1], [1, 2]), y: i64([2], [1, 0]) }));
    assert.equal(train.size, 2);
    assert.equal(testSplit, undefined);
    assert.deepEqual([...train.y[0]!.data], [1, 0]);
  });

  test('x_train, y_train, x_test, y_test (as keras.datasets mnist.npz)', () => {
    const file = npz('mnist-like.npz', {
      x_train: u8([3, 2, 2], [...Array(12).keys()]),
      y_train: u8([3], [5, 0, 4]),
      x_test: u8([1, 2, 2], [255, 0, 0, 255]),
      y_test: u8([1], [7]),
    });
    const { train, test: testSplit } = loadArrays(file);
    assert.deepEqual(train.x[0]!.shape, [3, 2, 2]);
    assert.deepEqual([...train.y[0]!.data], [5, 0, 4]);
    assert.equal(train.y[0]!.dtype, 'int32');
    assert.ok(testSplit);
    assert.deepEqual([...testSplit.x[0]!.data], [1, 0, 0, 1]);
    assert.deepEqual([...testSplit.y[0]!.data], [7]);
  });

  test('an archive without x and y lists what it holds', () => {
    assertFormatError(() => loadArrays(npz('other.npz', { features: f64([1], [1]), target: f64([1], [0]) })), /other\.npz: expected arrays named x and y, or x_train and y_train .*; it holds features, target/);
  });

  test('mismatched lengths in an archive name it', () => {
    assertFormatError(() => loadArrays(npz('bad.npz', { x: f64([2, 1], [1, 2]), y: i64([3], [0, 1, 0]) })), /bad\.npz: y\[0\] has 3 samples, x\[0\] has 2/);
  });
});
