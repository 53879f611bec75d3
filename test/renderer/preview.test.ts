// The preview's drawing choices that do not need a canvas: the feature-map grid, which maps a
// thumbnail shows, how a matrix is drawn and the shape a layer's output is labelled with.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { PreviewTensor } from '../../app/contract/api.ts';
import { barsOf, gridOf, liveliest, matrixAsMap, modelShapeOf, previewKind, topValues } from '../../renderer/src/lib/preview_layout.ts';

test('a thumbnail shows the maps that vary most, not the first (a ReLU often leaves the first all zero)', () => {
  const ranges = [
    { low: 0, high: 0 },
    { low: 0, high: 0.1 },
    { low: -1, high: 2 },
    { low: 0, high: 0.5 },
    { low: 0, high: 4 },
  ];
  assert.deepEqual(liveliest(ranges, 1), [4]);
  assert.deepEqual(liveliest(ranges, 2), [2, 4], 'in channel order');
  assert.deepEqual(liveliest(ranges, 9), [0, 1, 2, 3, 4]);
});

test('the grid of maps and the top classes', () => {
  assert.deepEqual(gridOf(32), { columns: 8, rows: 4 });
  assert.deepEqual(gridOf(1), { columns: 1, rows: 1 });
  assert.deepEqual(gridOf(3), { columns: 3, rows: 1 });
  assert.deepEqual(topValues(Float32Array.from([0.1, 0.7, 0.2]), 2).map((entry) => entry.index), [1, 2]);
});

const tensorOf = (shape: number[], channels = shape.length === 3 ? shape[2]! : 1): PreviewTensor => ({ shape, channels, data: new Uint8Array(4 * shape.reduce((a, b) => a * b, 1)), min: 0, max: 0 });

test("a layer's output is labelled with the model's shape: every channel of cut feature maps, a vector's length, a matrix's rows and columns", () => {
  assert.deepEqual(modelShapeOf(tensorOf([14, 14, 32], 64)), [null, 14, 14, 64]);
  assert.deepEqual(modelShapeOf(tensorOf([32])), [null, 32], "an LSTM's last output, not (None, 1)");
  assert.deepEqual(modelShapeOf(tensorOf([12544])), [null, 12544]);
  assert.deepEqual(modelShapeOf(tensorOf([20, 16])), [null, 20, 16]);
});

test("a matrix (an Embedding's or a sequence layer's output) is drawn as one map of its rows and columns", () => {
  const matrix = tensorOf([20, 16]);
  assert.equal(previewKind(matrix), 'matrix');
  const map = matrixAsMap(matrix);
  assert.deepEqual([map.shape, map.channels, map.data], [[20, 16, 1], 1, matrix.data]);
  assert.equal(previewKind(map), 'maps');
  assert.equal(previewKind(tensorOf([2, 3, 4, 5])), 'other');
});

test("a long vector's bars: each the strongest value of its bucket, sign kept, so an output active only late shows it; a short one as it is", () => {
  const flatten = new Float32Array(12_544);
  flatten[12_000] = 0.75;
  flatten[12_001] = -0.5;
  flatten[300] = -2;
  const bars = barsOf(flatten, 24);
  assert.equal(bars.length, 24);
  // 12,544 / 24 = 522.67 values a bar: 300 falls in bar 0, 12,000 and 12,001 in bar 22.
  assert.deepEqual(bars.map((value, bar) => [bar, value]).filter(([, value]) => value !== 0), [[0, -2], [22, 0.75]]);
  assert.deepEqual(barsOf(Float32Array.from([1, -2, 3]), 24), [1, -2, 3]);
  // Buckets cover every value once: 10 values in 4 bars (2, 3, 2, 3).
  assert.deepEqual(barsOf(Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]), 4), [2, 5, 7, 10]);
});
