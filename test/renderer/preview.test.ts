// The preview's drawing choices that do not need a canvas: the feature-map grid, and which maps
// a thumbnail shows.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { gridOf, liveliest, topValues } from '../../renderer/src/lib/preview_layout.ts';

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
