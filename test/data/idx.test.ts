// IDX files: headers and every element type on files written here (big-endian, plain and
// gzipped), one-line FormatErrors naming the file for each kind of damage, MNIST-style folders,
// and the real Fashion-MNIST from Debian's dataset-fashion-mnist package.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { FASHION_MNIST_CLASS_NAMES, FASHION_MNIST_DIR, loadFashionMnist, loadIdx, loadIdxFolder, loadMnist, parseIdx, readIdx } from '../../app/data/idx.ts';
import { assertFormatError } from '../assertions.ts';

const scratch = mkdtempSync(path.join(tmpdir(), 'strata-idx-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

const TYPES = { uint8: [0x08, 1], int8: [0x09, 1], int16: [0x0b, 2], int32: [0x0c, 4], float32: [0x0d, 4], float64: [0x0e, 8] } as const;

/** The bytes of an IDX file, written independently of the reader: header, then big-endian elements. */
function idx(type: keyof typeof TYPES, shape: number[], values: number[]): Uint8Array {
  const [code, size] = TYPES[type];
  const bytes = new Uint8Array(4 + 4 * shape.length + values.length * size);
  const view = new DataView(bytes.buffer);
  bytes.set([0, 0, code, shape.length]);
  shape.forEach((d, i) => view.setUint32(4 + 4 * i, d, false));
  const start = 4 + 4 * shape.length;
  values.forEach((v, i) => {
    const o = start + i * size;
    if (type === 'uint8') view.setUint8(o, v);
    else if (type === 'int8') view.setInt8(o, v);
    else if (type === 'int16') view.setInt16(o, v, false);
    else if (type === 'int32') view.setInt32(o, v, false);
    else if (type === 'float32') view.setFloat32(o, v, false);
    else view.setFloat64(o, v, false);
  });
  return bytes;
}

function write(name: string, bytes: Uint8Array, dir = scratch): string {
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, name);
  writeFileSync(file, bytes);
  return file;
}


describe('idx: parsing', () => {
  test('uint8 images (2, 2, 3): the header dims and the bytes in order', () => {
    const values = [0, 1, 2, 3, 4, 5, 250, 251, 252, 253, 254, 255];
    const array = parseIdx(idx('uint8', [2, 2, 3], values));
    assert.equal(array.dtype, 'uint8');
    assert.deepEqual(array.shape, [2, 2, 3]);
    assert.deepEqual([...array.data], values);
  });

  const cases: [keyof typeof TYPES, number[]][] = [
    ['int8', [-128, -1, 0, 127]],
    ['int16', [-32768, -2, 258, 32767]],
    ['int32', [-(2 ** 31), -70000, 16909060, 2 ** 31 - 1]],
    ['float32', [-1.5, 0, 3.25, 1e-3]],
    ['float64', [-1.5, 0, 2.5e10, 1e-300]],
  ];
  for (const [type, values] of cases) {
    test(`${type}: big-endian elements`, () => {
      const array = parseIdx(idx(type, [2, 2], values));
      assert.equal(array.dtype, type);
      assert.deepEqual(array.shape, [2, 2]);
      assert.deepEqual([...array.data], type === 'float32' ? values.map(Math.fround) : values);
    });
  }

  test('a gzipped file reads the same as the plain one', () => {
    const plain = idx('int16', [3], [1, -2, 300]);
    assert.deepEqual(parseIdx(gzipSync(plain)), parseIdx(plain));
    assert.deepEqual(readIdx(write('labels.gz', gzipSync(plain))), parseIdx(plain));
  });

  test('loadIdx: uint8 images become float32 (n, h, w, 1) in [0, 1]; labels int32 (n,)', () => {
    const images = loadIdx(write('images-idx3-ubyte', idx('uint8', [2, 2, 2], [0, 51, 102, 255, 255, 0, 1, 2])));
    assert.equal(images.dtype, 'float32');
    assert.deepEqual(images.shape, [2, 2, 2, 1]);
    assert.deepEqual([...images.data], [0, 51, 102, 255, 255, 0, 1, 2].map((v) => Math.fround(v / 255)));
    const labels = loadIdx(write('labels-idx1-ubyte', idx('uint8', [4], [9, 0, 3, 255])));
    assert.equal(labels.dtype, 'int32');
    assert.deepEqual(labels.shape, [4]);
    assert.deepEqual([...labels.data], [9, 0, 3, 255]);
    const floats = loadIdx(write('f8', idx('float64', [1, 2], [0.5, -2])));
    assert.equal(floats.dtype, 'float32');
    assert.deepEqual([...floats.data], [0.5, -2]);
  });
});

describe('idx: damaged files are one-line FormatErrors naming the file', () => {
  const good = idx('uint8', [2, 3], [1, 2, 3, 4, 5, 6]);
  const cases: [string, Uint8Array, RegExp][] = [
    ['empty', new Uint8Array(0), /empty\.idx: the file is empty/],
    ['wrong magic (a PNG)', Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a), /wrong magic \(a PNG\)\.idx: not an IDX file \(it starts with 89 50 4e 47/],
    ['unknown type code', Uint8Array.of(0, 0, 0x07, 1, 0, 0, 0, 1, 5), /unknown IDX type code 0x07/],
    ['truncated header', good.subarray(0, 9), /truncated header: 2 dimensions need 12 header bytes, the file has 9/],
    ['truncated data', good.subarray(0, good.length - 2), /truncated data: shape \(2, 3\) of uint8 needs 6 bytes, the file has 4/],
    ['trailing bytes', Uint8Array.from([...good, 0, 0]), /2 bytes after the data of shape \(2, 3\)/],
    ['truncated gzip', gzipSync(idx('uint8', [100], new Array(100).fill(7))).subarray(0, 20), /corrupt or truncated gzip data/],
  ];
  for (const [name, bytes, pattern] of cases) {
    test(name, () => {
      const file = write(`${name}.idx`, bytes);
      assertFormatError(() => loadIdx(file), pattern);
      assertFormatError(() => loadIdx(file), new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: `));
    });
  }

  test('a missing file', () => {
    assertFormatError(() => loadIdx(path.join(scratch, 'nope-idx1-ubyte')), /nope-idx1-ubyte: cannot read: no such file/);
  });
});

describe('idx: MNIST-style folders', () => {
  /** A 3-train, 2-test folder of 2x2 images; `names` picks the file naming and compression. */
  function folder(name: string, options: { gzip?: boolean; dot?: boolean; trainLabels?: number[] } = {}): string {
    const dir = path.join(scratch, name);
    const file = (stem: string, kind: string) => `${stem}${options.dot ? '.' : '-'}${kind}${options.gzip ? '.gz' : ''}`;
    const pack = (bytes: Uint8Array) => (options.gzip ? gzipSync(bytes) : bytes);
    write(file('train-images', 'idx3-ubyte'), pack(idx('uint8', [3, 2, 2], [...Array(12).keys()])), dir);
    write(file('train-labels', 'idx1-ubyte'), pack(idx('uint8', [options.trainLabels?.length ?? 3], options.trainLabels ?? [2, 0, 1])), dir);
    write(file('t10k-images', 'idx3-ubyte'), pack(idx('uint8', [2, 2, 2], [255, 255, 255, 255, 0, 0, 0, 0])), dir);
    write(file('t10k-labels', 'idx1-ubyte'), pack(idx('uint8', [2], [9, 1])), dir);
    return dir;
  }

  for (const variant of [{}, { gzip: true }, { dot: true, gzip: true }]) {
    test(`train and test splits (${JSON.stringify(variant)})`, () => {
      const { train, test: testSplit, classNames } = loadFashionMnist(folder(`fm-${JSON.stringify(variant).replace(/\W/g, '')}`, variant));
      assert.deepEqual(classNames, FASHION_MNIST_CLASS_NAMES);
      assert.equal(train.size, 3);
      assert.deepEqual(train.x[0]!.shape, [3, 2, 2, 1]);
      assert.deepEqual([...train.y[0]!.data], [2, 0, 1]);
      assert.equal(train.x[0]!.data[5], Math.fround(5 / 255));
      assert.equal(testSplit.size, 2);
      assert.deepEqual([...testSplit.x[0]!.data], [1, 1, 1, 1, 0, 0, 0, 0]);
      assert.deepEqual([...testSplit.y[0]!.data], [9, 1]);
      assert.deepEqual(testSplit.classNames, FASHION_MNIST_CLASS_NAMES);
    });
  }

  test('MNIST class names are the digits', () => {
    assert.deepEqual(loadMnist(folder('mnist')).classNames, ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
  });

  test('labels and images of different counts, and a label out of range, name the labels file', () => {
    assertFormatError(() => loadFashionMnist(folder('short', { trainLabels: [1, 2] })), /train-labels-idx1-ubyte: 2 labels for the 3 images of .*train-images-idx3-ubyte/);
    assertFormatError(() => loadFashionMnist(folder('range', { trainLabels: [1, 10, 2] })), /train-labels-idx1-ubyte: label 1 is 10, outside the 10 classes 0..9/);
  });

  test('images that are not uint8 (n, h, w) are a FormatError', () => {
    const dir = folder('wrong-images');
    write('train-images-idx3-ubyte', idx('float32', [3, 4], new Array(12).fill(0)), dir);
    assertFormatError(() => loadIdxFolder(dir, { classNames: ['a', 'b', 'c'] }), /train-images-idx3-ubyte: expected uint8 images \(n, height, width\), got float32 \(3, 4\)/);
  });

  test('a missing folder names it and the apt command', () => {
    const dir = path.join(scratch, 'absent');
    assertFormatError(() => loadFashionMnist(dir), new RegExp(`${dir} does not exist.*apt-get install dataset-fashion-mnist`));
    assertFormatError(() => loadIdxFolder(dir, { classNames: ['a'] }), /absent does not exist$/);
  });

  test('a folder missing files lists them', () => {
    const dir = path.join(scratch, 'partial');
    write('train-images-idx3-ubyte.gz', gzipSync(idx('uint8', [1, 1, 1], [0])), dir);
    assertFormatError(() => loadFashionMnist(dir), /partial lacks train-labels-idx1-ubyte, t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte \(\.gz or plain\)/);
  });
});

// The real data set: CI installs it (.ci/apt-packages-data.txt); without it these tests fail
// with the command that installs it rather than passing unseen.
describe('idx: Fashion-MNIST from dataset-fashion-mnist', () => {
  test('the Debian package is installed', () => {
    assert.ok(existsSync(path.join(FASHION_MNIST_DIR, 'train-images-idx3-ubyte.gz')), `not installed: sudo apt-get install dataset-fashion-mnist (${FASHION_MNIST_DIR})`);
  });

  test('60000 training and 10000 test images, 28x28x1, ten balanced classes', () => {
    const { train, test: testSplit, classNames } = loadFashionMnist();
    assert.deepEqual(classNames, FASHION_MNIST_CLASS_NAMES);
    for (const [split, n] of [[train, 60000], [testSplit, 10000]] as const) {
      assert.equal(split.size, n);
      assert.equal(split.x[0]!.dtype, 'float32');
      assert.deepEqual(split.x[0]!.shape, [n, 28, 28, 1]);
      assert.equal(split.y[0]!.dtype, 'int32');
      assert.deepEqual(split.y[0]!.shape, [n]);
      const counts = new Array(10).fill(0);
      for (const label of split.y[0]!.data as Int32Array) counts[label]++;
      assert.deepEqual(counts, new Array(10).fill(n / 10));
      let max = 0;
      let min = 1;
      for (const v of split.x[0]!.data as Float32Array) {
        if (v > max) max = v;
        if (v < min) min = v;
      }
      assert.deepEqual([min, max], [0, 1]);
    }
    // First labels and the first image's middle row, as read with Python's gzip and struct.
    assert.deepEqual([...train.y[0]!.data.subarray(0, 10)], [9, 0, 0, 3, 0, 2, 7, 2, 5, 5]);
    assert.deepEqual([...testSplit.y[0]!.data.subarray(0, 10)], [9, 2, 1, 1, 6, 1, 4, 6, 5, 7]);
    const row14 = [0, 0, 1, 4, 6, 7, 2, 0, 0, 0, 0, 0, 237, 226, 217, 223, 222, 219, 222, 221, 216, 223, 229, 215, 218, 255, 77, 0];
    assert.deepEqual([...train.x[0]!.data.subarray(14 * 28, 15 * 28)], row14.map((v) => Math.fround(v / 255)));
  });
});
