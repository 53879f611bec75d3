// PReLU: Keras's arguments and defaults (keras/src/layers/activations/prelu.py: alpha_initializer
// 'zeros', shared_axes None or an int or a list), argument checks naming the layer and argument,
// summary() parameter counts from Keras's build() (alpha has the input's shape past the batch,
// 1 along shared axes), Keras JSON both ways, and TensorFlow.js's PReLU as the oracle for JSON,
// shapes and the reference's numbers.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfl from '@tensorflow/tfjs-layers';
import { ConfigError, Input, Model, PReLU, Sequential, ShapeError, ValueError, layers, modelFromJSON, summaryData } from '../../app/model/index.ts';
import { referencePredict } from '../reference/keras_forward.ts';
import { relativeError } from '../translate/compare.ts';

await tf.setBackend('cpu');

const refused = (run: () => unknown, Kind: typeof ValueError | typeof ShapeError | typeof ConfigError, pattern: RegExp) =>
  assert.throws(run, (e: Error) => e instanceof Kind && pattern.test(e.message));

describe('PReLU: Keras API', () => {
  test('Keras\'s defaults and config', () => {
    const layer = new PReLU({ name: 'p' });
    assert.deepEqual(layer.getConfig(), {
      name: 'p', trainable: true, dtype: 'float32',
      alpha_initializer: { class_name: 'Zeros', config: {} }, alpha_regularizer: null, alpha_constraint: null, shared_axes: null,
    });
    // keras/src/layers/activations/prelu_test.py passes shared_axes=1, a bare int
    assert.deepEqual(new PReLU({ sharedAxes: 1 }).sharedAxes, [1]);
  });

  test('summary(): alpha has the input\'s shape past the batch, 1 along shared axes', () => {
    const model = new Sequential([
      new layers.Conv2D(32, 3, { inputShape: [30, 30, 3], name: 'conv' }),
      new PReLU({ sharedAxes: [1, 2], name: 'per_channel' }),
      new PReLU({ name: 'per_element' }),
      new layers.Flatten({ name: 'flat' }),
      new layers.Dense(10, { name: 'dense' }),
      new PReLU({ name: 'per_unit' }),
    ]);
    // conv: 3*3*3*32 + 32 = 896; per_channel: 32; per_element: 28*28*32 = 25088; dense: 25088*10 + 10
    assert.deepEqual(summaryData(model).rows.map((r) => [r.name, r.outputShapes![0], r.params]), [
      ['conv', [null, 28, 28, 32], 896], ['per_channel', [null, 28, 28, 32], 32], ['per_element', [null, 28, 28, 32], 25088],
      ['flat', [null, 25088], 0], ['dense', [null, 10], 250890], ['per_unit', [null, 10], 10],
    ]);
    // prelu_test.py's case: input (2, 3, 4), shared_axes=1: alpha (1, 4)
    const shared = new PReLU({ sharedAxes: 1, name: 'q' });
    shared.apply(Input({ shape: [3, 4] }));
    assert.deepEqual(shared.weights.map((w) => [w.name, w.shape]), [['alpha', [1, 4]]]);
    assert.match(model.summary({ printFn: () => {} }), /│ per_channel \(PReLU\)\s+│ \(None, 28, 28, 32\)\s+│\s+32 │/);
  });

  test('bad arguments are errors naming the layer and the argument', () => {
    refused(() => new PReLU({ sharedAxes: [0], name: 'p' }), ValueError, /^p: shared_axes must be an axis >= 1 or a list of them .*got \[0\]/);
    refused(() => new PReLU({ sharedAxes: [1.5] as never, name: 'p' }), ValueError, /^p: shared_axes must be/);
    refused(() => new PReLU({ shared_axes: [1] } as never), ValueError, /^PReLU: unknown option "shared_axes" \(did you mean sharedAxes\?\)/);
    refused(() => new PReLU({ alphaInitializer: 'no_such', name: 'p' }), ConfigError, /^p\.alpha_initializer: unsupported initializer "no_such"/);
    refused(() => new PReLU({ sharedAxes: [3], name: 'p' }).apply(Input({ shape: [4, 5] })), ShapeError, /^p: shared axis 3 is not an axis of an input of shape \(None, 4, 5\)/);
    refused(() => new PReLU({ name: 'p' }).apply(Input({ shape: [null, 5] })), ShapeError, /^p: dimension 1 of the input \(None, None, 5\) is unknown; PReLU needs it, or list it in shared_axes/);
    // a sequence of any length works with its time axis shared
    assert.deepEqual(new PReLU({ sharedAxes: [1] }).apply(Input({ shape: [null, 5] })).shape, [null, null, 5]);
  });
});

describe('PReLU: Keras JSON', () => {
  test('round trip, and Keras\'s forms of shared_axes (an int, a list, null) and alpha_initializer', () => {
    const model = new Sequential([new layers.Dense(6, { inputShape: [5], name: 'd' }), new PReLU({ alphaInitializer: 'ones', name: 'p' })], { name: 'prelu_model' });
    const json = model.toJSON();
    assert.equal(modelFromJSON(json).toJSON(), json);
    const parsed = JSON.parse(json);
    const config = parsed.config.layers.find((l: { config: { name: string } }) => l.config.name === 'p').config;
    // Keras 3's module form of an initializer and its DTypePolicy
    config.alpha_initializer = { module: 'keras.initializers', class_name: 'Constant', config: { value: 0.25 }, registered_name: null };
    config.dtype = { module: 'keras', class_name: 'DTypePolicy', config: { name: 'float32' }, registered_name: null };
    config.shared_axes = 1;
    const loaded = modelFromJSON(parsed).getLayer('p') as PReLU;
    assert.deepEqual(loaded.sharedAxes, [1]);
    assert.deepEqual([...loaded.weights[0]!.value], [0.25]); // (None, 6) with axis 1 shared: one slope
    config.alpha_regularizer = { class_name: 'L2', config: { l2: 0.01 } };
    refused(() => modelFromJSON(parsed), ConfigError, /p \(PReLU\): "alpha_regularizer" = .* is not supported/);
  });

  test('TensorFlow.js reads Strata\'s JSON, Strata reads TensorFlow.js\'s, and the reference computes what TensorFlow.js does', async () => {
    const x = tfl.input({ shape: [4, 3, 2], name: 'x' });
    const a = tfl.layers.prelu({ alphaInitializer: tfl.initializers.randomUniform({ minval: -1, maxval: 1, seed: 1 }), name: 'full' }).apply(x) as tfl.SymbolicTensor;
    const b = tfl.layers.prelu({ sharedAxes: [1, 2], alphaInitializer: tfl.initializers.randomUniform({ minval: 0, maxval: 1, seed: 2 }), name: 'shared' }).apply(a) as tfl.SymbolicTensor;
    const reference = tfl.model({ inputs: x, outputs: b, name: 'tfjs_prelu' });
    const model = modelFromJSON(reference.toJSON(null, false) as unknown as Record<string, unknown>);
    assert.deepEqual((model.getLayer('shared') as PReLU).sharedAxes, [1, 2]);
    const reread = await tfl.models.modelFromJSON({ modelTopology: JSON.parse(model.toJSON()) });
    assert.deepEqual(reread.layers.map((l) => [l.name, l.getClassName(), l.outputShape, l.countParams()]), reference.layers.map((l) => [l.name, l.getClassName(), l.outputShape, l.countParams()]));
    model.setWeights(reference.getWeights().map((w) => w.dataSync() as Float32Array));
    const input = tf.randomUniform([3, 4, 3, 2], -2, 2, 'float32', 3);
    const want = (reference.predict(input) as tf.Tensor).dataSync() as Float32Array;
    const [got] = referencePredict(model as Model, [{ shape: [3, 4, 3, 2], data: input.dataSync() as Float32Array }]);
    assert.ok(relativeError(want, got!.data) <= 1e-6, `relative error ${relativeError(want, got!.data)}`);
  });
});
