// A TensorFlow.js layers model saved with its weights (model.json + binary shard, as
// model.save() writes them) runs through `strata predict` and predicts what TensorFlow.js
// predicts for the same inputs.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfl from '@tensorflow/tfjs-layers';
import { ndarray } from '../../app/data/ndarray.ts';
import { readNpy, writeNpy } from '../../app/data/npy.ts';
import { relativeError } from './compare.ts';

await tf.setBackend('cpu');
const root = fileURLToPath(new URL('../..', import.meta.url));

/** Writes model.json and its shard as tf.io's file:// handler does. */
async function saveLikeTfjs(model: tfl.LayersModel, dir: string): Promise<string> {
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      const weightData = artifacts.weightData as ArrayBuffer;
      writeFileSync(path.join(dir, 'group1-shard1of1.bin'), new Uint8Array(weightData));
      const json = {
        modelTopology: artifacts.modelTopology,
        format: artifacts.format,
        generatedBy: artifacts.generatedBy,
        convertedBy: artifacts.convertedBy,
        weightsManifest: [{ paths: ['group1-shard1of1.bin'], weights: artifacts.weightSpecs }],
      };
      writeFileSync(path.join(dir, 'model.json'), JSON.stringify(json));
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  return path.join(dir, 'model.json');
}

/** `strata predict` of the saved `file` (beside it: x.npy, y.npy) on a seeded random batch of `shape` gives TensorFlow.js's predictions, of `outputShape`, to 1e-5. */
function predictsAsTfjs(model: tfl.LayersModel, file: string, shape: number[], seed: number, outputShape: number[]): void {
  const dir = path.dirname(file);
  const x = tf.randomUniform(shape, -1, 1, 'float32', seed);
  const expected = (model.predict(x) as tf.Tensor).dataSync();
  writeNpy(path.join(dir, 'x.npy'), ndarray('float32', shape, Float32Array.from(x.dataSync())));
  const result = spawnSync(process.execPath, ['app/cli/strata.js', 'predict', file, '--input', path.join(dir, 'x.npy'), '--output', path.join(dir, 'y.npy')], { cwd: root, encoding: 'utf8' });
  assert.equal(result.status, 0, result.stderr);
  const y = readNpy(path.join(dir, 'y.npy'));
  assert.deepEqual(y.shape, outputShape);
  const error = relativeError(y.data as Float32Array, expected);
  assert.ok(error <= 1e-5, `relative error ${error.toExponential(2)}`);
}

function tfjsCnn(): tfl.LayersModel {
  return tfl.sequential({
    layers: [
      tfl.layers.conv2d({ filters: 6, kernelSize: 3, activation: 'relu', inputShape: [12, 12, 2], name: 'conv1' }),
      tfl.layers.batchNormalization({ name: 'bn' }),
      tfl.layers.maxPooling2d({ poolSize: 2, name: 'pool1' }),
      tfl.layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same', activation: 'elu', name: 'conv2' }),
      tfl.layers.flatten({ name: 'flatten' }),
      tfl.layers.dense({ units: 8, activation: 'tanh', name: 'dense1' }),
      tfl.layers.dropout({ rate: 0.5, name: 'dropout1' }),
      tfl.layers.dense({ units: 3, activation: 'softmax', name: 'out' }),
    ],
  });
}

test('a TensorFlow.js model with weights predicts through `strata predict` what TensorFlow.js predicts', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'strata-tfjs-'));
  try {
    const model = tfjsCnn();
    // Non-trivial batch-norm statistics, as a trained model has.
    const bn = model.getLayer('bn');
    bn.setWeights(bn.getWeights().map((w, i) => tf.randomUniform(w.shape, i === 3 ? 0.5 : -0.5, i === 3 ? 1.5 : 0.5, 'float32', 3 + i)));
    const file = await saveLikeTfjs(model, dir);
    predictsAsTfjs(model, file, [7, 12, 12, 2], 42, [7, 3]);

    const summary = spawnSync(process.execPath, ['app/cli/strata.js', 'summary', file, '--json'], { cwd: root, encoding: 'utf8' });
    assert.equal(JSON.parse(summary.stdout).total_params, model.countParams());
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a shard that is missing or too short is a one-line error naming it', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'strata-tfjs-'));
  try {
    const file = await saveLikeTfjs(tfjsCnn(), dir);
    writeFileSync(path.join(dir, 'group1-shard1of1.bin'), new Uint8Array(100));
    const short = spawnSync(process.execPath, ['app/cli/strata.js', 'summary', file], { cwd: root, encoding: 'utf8' });
    assert.equal(short.status, 1);
    assert.match(short.stderr, /^strata: .*model\.json: weight "conv1\/kernel" needs bytes 0\.\.432, but the shards group1-shard1of1\.bin hold 100\n$/);
    rmSync(path.join(dir, 'group1-shard1of1.bin'));
    const missing = spawnSync(process.execPath, ['app/cli/strata.js', 'summary', file], { cwd: root, encoding: 'utf8' });
    assert.match(missing.stderr, /^strata: .*model\.json: weightsManifest\[0\]\.paths\[0\] "group1-shard1of1\.bin": cannot read: no such file\n$/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a TensorFlow.js model with TimeDistributed and SpatialDropout1D layers predicts through `strata predict` what TensorFlow.js predicts', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'strata-tfjs-'));
  try {
    const model = tfl.sequential({
      layers: [
        tfl.layers.timeDistributed({ layer: tfl.layers.conv2d({ filters: 3, kernelSize: 3, activation: 'relu', name: 'frame_conv' }), inputShape: [4, 6, 6, 2], name: 'conv_frames' }),
        tfl.layers.timeDistributed({ layer: tfl.layers.flatten({ name: 'frame_flat' }), name: 'flat_frames' }),
        tfl.layers.spatialDropout1d({ rate: 0.3, name: 'drop_features' }),
        tfl.layers.timeDistributed({ layer: tfl.layers.dense({ units: 5, activation: 'tanh', name: 'per_frame' }), name: 'dense_frames' }),
        tfl.layers.globalAveragePooling1d({ name: 'over_time' }),
        tfl.layers.dense({ units: 3, name: 'out' }),
      ],
    });
    predictsAsTfjs(model, await saveLikeTfjs(model, dir), [5, 4, 6, 6, 2], 7, [5, 3]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
