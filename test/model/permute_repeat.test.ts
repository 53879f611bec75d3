// Permute and RepeatVector on the model side: Keras's arguments and shapes, checks naming the
// layer and the argument, summary(), Keras JSON (tf.keras 2.x and Keras 3 forms), and
// TensorFlow.js as the oracle for shapes, JSON and the float64 reference forward pass.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfl from '@tensorflow/tfjs-layers';
import { ConfigError, Input, Model, Permute, RepeatVector, Sequential, ShapeError, ValueError, modelFromJSON, summaryData } from '../../app/model/index.ts';
import { referencePredict } from '../reference/keras_forward.ts';
import { relativeError } from '../translate/compare.ts';

await tf.setBackend('cpu');

const refused = (run: () => unknown, Kind: typeof ValueError | typeof ShapeError | typeof ConfigError, pattern: RegExp) =>
  assert.throws(run, (e: Error) => e instanceof Kind && pattern.test(e.message), pattern.source);

function rows(model: Model) {
  return summaryData(model).rows.map((r) => [r.name, r.className, r.outputShapes?.[0] ?? null, r.params]);
}

describe('Permute and RepeatVector', () => {
  test('Keras\'s docstring shapes', () => {
    // keras/src/layers/reshaping/permute.py, "Example": Permute((2, 1)) on (None, 10, 64) gives (None, 64, 10)
    assert.deepEqual(new Permute([2, 1]).apply(Input({ shape: [10, 64] })).shape, [null, 64, 10]);
    // keras/src/layers/reshaping/repeat_vector.py, "Example": RepeatVector(3) on (None, 32) gives (None, 3, 32)
    assert.deepEqual(new RepeatVector(3).apply(Input({ shape: [32] })).shape, [null, 3, 32]);
    assert.deepEqual(new Permute([3, 1, 2]).apply(Input({ shape: [4, null, 2] })).shape, [null, 2, 4, null]);
  });

  test('bad arguments and inputs are errors naming the layer and the argument', () => {
    refused(() => new Permute([0, 1], { name: 'p' }), ValueError, /^p: dims must be a permutation of \[1, \.\.\., n\] \(1-based axes after the batch\), got \[0,1\]/);
    refused(() => new Permute([1, 1], { name: 'p' }), ValueError, /^p: dims must be a permutation .* got \[1,1\]/);
    refused(() => new Permute(2 as never, { name: 'p' }), ValueError, /^p: dims must be a permutation .* got 2/);
    refused(() => new Permute([2, 1], { name: 'p' }).apply(Input({ shape: [3, 4, 5] })), ShapeError, /^p: dims \[2,1\] permute 2 axes, but the input \(None, 3, 4, 5\) has 3 after the batch/);
    refused(() => new RepeatVector(0, { name: 'r' }), ValueError, /^r: n must be a positive integer, got 0/);
    refused(() => new RepeatVector(2, { name: 'r' }).apply(Input({ shape: [3, 4] })), ShapeError, /^r: expected a 2-D input \(batch, features\), got \(None, 3, 4\)/);
    refused(() => new RepeatVector(2, { times: 3 } as never), ValueError, /^RepeatVector: unknown option "times"/);
  });

  test('summary() and Keras JSON: round trip, Keras 3 form, refusals by name', () => {
    const model = new Sequential([new RepeatVector(4, { inputShape: [6], name: 'repeat' }), new Permute([2, 1], { name: 'swap' })], { name: 'reshapers' });
    const text = model.summary({ printFn: () => {} });
    assert.match(text, /│ repeat \(RepeatVector\)\s+│ \(None, 4, 6\)\s+│\s+0 │/);
    assert.match(text, /│ swap \(Permute\)\s+│ \(None, 6, 4\)\s+│\s+0 │/);
    const json = model.toJSON();
    assert.equal(modelFromJSON(json).toJSON(), json);
    const keras3 = {
      module: 'keras', class_name: 'Sequential', registered_name: null,
      config: {
        name: 'k3', trainable: true, dtype: 'float32',
        layers: [
          { module: 'keras.layers', class_name: 'InputLayer', registered_name: null, config: { batch_shape: [null, 5], dtype: 'float32', sparse: false, name: 'input_layer' } },
          { module: 'keras.layers', class_name: 'RepeatVector', registered_name: null, build_config: { input_shape: [null, 5] }, config: { name: 'repeat_vector', trainable: true, dtype: 'float32', n: 7 } },
          { module: 'keras.layers', class_name: 'Permute', registered_name: null, build_config: { input_shape: [null, 7, 5] }, config: { name: 'permute', trainable: true, dtype: 'float32', dims: [2, 1] } },
        ],
      },
    };
    assert.deepEqual(rows(modelFromJSON(keras3)), [['repeat_vector', 'RepeatVector', [null, 7, 5], 0], ['permute', 'Permute', [null, 5, 7], 0]]);
    const bad = JSON.parse(json);
    bad.config.layers[1].config.n = 'four';
    refused(() => modelFromJSON(bad), ConfigError, /repeat \(RepeatVector\): "n" must be a number, got "four"/);
  });

  test('TensorFlow.js reads Strata\'s JSON, and the reference computes what it computes', async () => {
    const vector = tfl.input({ shape: [5] });
    let y = tfl.layers.repeatVector({ n: 3, name: 'repeat' }).apply(vector) as tfl.SymbolicTensor;
    y = tfl.layers.permute({ dims: [2, 1], name: 'swap' }).apply(y) as tfl.SymbolicTensor;
    y = tfl.layers.reshape({ targetShape: [5, 3, 1], name: 'image' }).apply(y) as tfl.SymbolicTensor;
    y = tfl.layers.permute({ dims: [3, 1, 2], name: 'rotate' }).apply(y) as tfl.SymbolicTensor;
    const tfjsModel = tfl.model({ inputs: vector, outputs: y });
    const model = modelFromJSON(tfjsModel.toJSON(null, false) as unknown as Record<string, unknown>);
    assert.deepEqual(model.outputs[0]!.shape, tfjsModel.outputs[0]!.shape);
    const reread = await tfl.models.modelFromJSON({ modelTopology: JSON.parse(model.toJSON()) });
    assert.deepEqual(reread.outputs[0]!.shape, tfjsModel.outputs[0]!.shape);
    const input = tf.randomUniform([2, 5], -1, 1, 'float32', 4);
    const expected = (tfjsModel.predict(input) as tf.Tensor).dataSync() as Float32Array;
    const actual = referencePredict(model, [{ shape: [2, 5], data: input.dataSync() as Float32Array }])[0]!;
    assert.equal(relativeError(expected, actual.data), 0);
  });
});
