// LayerNormalization: Keras's arguments and defaults, argument checks naming the layer and the
// argument, summary() counts, Keras JSON (tf.keras 2.x and Keras 3 forms) both ways, and
// TensorFlow.js as the oracle for JSON, shapes and the reference's numbers. The ONNX
// translation and the engine run the cases of test/translate/models.ts (layerNormalizationCases).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfl from '@tensorflow/tfjs-layers';
import { ConfigError, Input, LayerNormalization, Model, Sequential, ShapeError, ValueError, layers, modelFromJSON, summaryData } from '../../app/model/index.ts';
import { layerNormForward, referencePredict } from '../reference/keras_forward.ts';
import { tensor } from '../reference/tensor.ts';
import { relativeError } from '../translate/compare.ts';

await tf.setBackend('cpu');

const refused = (run: () => unknown, Kind: typeof ValueError | typeof ShapeError | typeof ConfigError, pattern: RegExp) =>
  assert.throws(run, (e: Error) => e instanceof Kind && pattern.test(e.message));

describe('LayerNormalization: Keras API', () => {
  test('Keras\'s defaults; the config writes the resolved axes once built, as tf.keras 2.x does', () => {
    const layer = new LayerNormalization({ name: 'ln' });
    assert.deepEqual([layer.axis, layer.epsilon, layer.center, layer.scale], [-1, 1e-3, true, true]);
    layer.apply(Input({ shape: [4, 6] }));
    assert.deepEqual(layer.getConfig(), {
      name: 'ln', trainable: true, dtype: 'float32', axis: [2], epsilon: 1e-3, center: true, scale: true,
      beta_initializer: { class_name: 'Zeros', config: {} }, gamma_initializer: { class_name: 'Ones', config: {} },
      beta_regularizer: null, gamma_regularizer: null, beta_constraint: null, gamma_constraint: null,
    });
    assert.deepEqual(layer.weights.map((w) => [w.name, w.shape]), [['gamma', [6]], ['beta', [6]]]);
  });

  test('Keras\'s own numbers: arange(5) with gamma and beta ones (keras/src/layers/normalization/layer_normalization_test.py, test_output)', () => {
    const out = layerNormForward(tensor([1, 5], [0, 1, 2, 3, 4]), [1], [1, 1, 1, 1, 1], [1, 1, 1, 1, 1], 1e-3);
    [-0.41386, 0.29307, 1.0, 1.70693, 2.41386].forEach((want, i) => assert.ok(Math.abs(out.data[i]! - want) < 1e-5, `${i}: ${out.data[i]}`));
  });

  test('bad arguments are errors naming the layer and the argument', () => {
    refused(() => new LayerNormalization({ epsilon: 0, name: 'n' }), ValueError, /^n: epsilon must be a number > 0, got 0/);
    refused(() => new LayerNormalization({ axis: 1.5, name: 'n' }), ValueError, /^n: axis must be an integer or a non-empty list of integers, got 1.5/);
    refused(() => new LayerNormalization({ axis: [], name: 'n' }), ValueError, /^n: axis must be an integer or a non-empty list/);
    refused(() => new LayerNormalization({ beta_initializer: 'ones' } as never), ValueError, /^LayerNormalization: unknown option "beta_initializer" \(did you mean betaInitializer\?\)/);
    refused(() => new LayerNormalization({ axis: 0, name: 'n' }).apply(Input({ shape: [4] })), ShapeError, /^n: axis 0 is not a non-batch axis of an input of shape \(None, 4\)/);
    refused(() => new LayerNormalization({ axis: [1, -3], name: 'n' }).apply(Input({ shape: [4, 5] })), ShapeError, /^n: axis -3 is not a non-batch axis/);
    refused(() => new LayerNormalization({ axis: [1, -2], name: 'n' }).apply(Input({ shape: [4, 5] })), ShapeError, /^n: axis \[1,-2\] names an axis twice/);
    refused(() => new LayerNormalization({ name: 'n' }).apply(Input({ shape: [4, null] })), ShapeError, /^n: axis -1 of the input \(None, 4, None\) must have a known size/);
    const shared = new LayerNormalization({ name: 'n' });
    shared.apply(Input({ shape: [3, 4] }));
    refused(() => shared.apply(Input({ shape: [3, 5] })), ShapeError, /^n: built for inputs of shape \(None, 3, 4\), got \(None, 3, 5\)/);
  });

  test('summary(): 2 * the normalized size, or what center and scale leave (Keras: LayerNormalization on (None, 200, 32) has 64)', () => {
    const model = new Sequential([
      new layers.Dense(32, { inputShape: [200, 16], name: 'dense' }),
      new LayerNormalization({ epsilon: 1e-6, name: 'layer_normalization' }),
      new LayerNormalization({ axis: [-2, -1], center: false, name: 'both_axes' }),
      new LayerNormalization({ scale: false, center: false, name: 'bare' }),
    ]);
    assert.deepEqual(summaryData(model).rows.map((r) => [r.name, r.className, r.outputShapes![0], r.params]), [
      ['dense', 'Dense', [null, 200, 32], 544], ['layer_normalization', 'LayerNormalization', [null, 200, 32], 64], ['both_axes', 'LayerNormalization', [null, 200, 32], 6400], ['bare', 'LayerNormalization', [null, 200, 32], 0],
    ]);
  });
});

describe('LayerNormalization: Keras JSON', () => {
  const model = () => new Sequential([new layers.Dense(6, { inputShape: [3, 5], name: 'd' }), new LayerNormalization({ axis: [1, 2], epsilon: 1e-5, gammaInitializer: 'zeros', name: 'n' })], { name: 'norms' });

  test('round trip', () => {
    const json = model().toJSON();
    assert.equal(modelFromJSON(json).toJSON(), json);
  });

  test('Keras 3\'s form: axis as written (-1), rms_scaling false; rms_scaling true and regularizers refused by name', () => {
    const json = JSON.parse(model().toJSON());
    const entry = json.config.layers.find((l: { config: { name: string } }) => l.config.name === 'n');
    entry.config = {
      name: 'n', trainable: true, dtype: { module: 'keras', class_name: 'DTypePolicy', config: { name: 'float32' }, registered_name: null },
      axis: -1, epsilon: 0.001, center: true, scale: true, rms_scaling: false,
      beta_initializer: { module: 'keras.initializers', class_name: 'Zeros', config: {}, registered_name: null },
      gamma_initializer: { module: 'keras.initializers', class_name: 'Ones', config: {}, registered_name: null },
      beta_regularizer: null, gamma_regularizer: null, beta_constraint: null, gamma_constraint: null,
    };
    const loaded = modelFromJSON(json);
    assert.deepEqual((loaded.getLayer('n') as LayerNormalization).axes, [2]);
    assert.equal(loaded.countParams(), 36 + 12);
    entry.config.rms_scaling = true;
    refused(() => modelFromJSON(json), ConfigError, /n \(LayerNormalization\): "rms_scaling" = true is not supported/);
    entry.config.rms_scaling = false;
    entry.config.gamma_regularizer = { class_name: 'L2', config: { l2: 0.01 } };
    refused(() => modelFromJSON(json), ConfigError, /n \(LayerNormalization\): "gamma_regularizer" = .* is not supported/);
    entry.config.gamma_regularizer = null;
    entry.config.axis = 'last';
    refused(() => modelFromJSON(json), ValueError, /n: axis must be an integer or a non-empty list of integers, got "last"/);
  });

  test('TensorFlow.js reads Strata\'s JSON, Strata reads TensorFlow.js\'s, and the reference computes what TensorFlow.js does', async () => {
    const x = tfl.input({ shape: [4, 6], name: 'x' });
    const d = tfl.layers.dense({ units: 6, name: 'd' }).apply(x) as tfl.SymbolicTensor;
    const n1 = tfl.layers.layerNormalization({ name: 'n1' }).apply(d) as tfl.SymbolicTensor;
    const n2 = tfl.layers.layerNormalization({ axis: [1, 2], epsilon: 1e-5, name: 'n2' }).apply(x) as tfl.SymbolicTensor;
    const reference = tfl.model({ inputs: x, outputs: [n1, n2], name: 'tfjs_norms' });
    const model = modelFromJSON(reference.toJSON(null, false) as unknown as Record<string, unknown>);
    const reread = await tfl.models.modelFromJSON({ modelTopology: JSON.parse(model.toJSON()) });
    assert.deepEqual(reread.layers.map((l) => [l.name, l.getClassName(), l.outputShape, l.countParams()]), reference.layers.map((l) => [l.name, l.getClassName(), l.outputShape, l.countParams()]));
    const rng = tf.randomUniform([reference.getWeights().reduce((n, w) => n + w.size, 0)], -1, 1, 'float32', 5).dataSync();
    let at = 0;
    const weights = reference.getWeights().map((w) => tf.tensor(rng.slice(at, (at += w.size)), w.shape));
    reference.setWeights(weights);
    model.setWeights(weights.map((w) => w.dataSync() as Float32Array));
    const input = tf.randomUniform([3, 4, 6], -2, 2, 'float32', 3);
    const expected = (reference.predict(input) as tf.Tensor[]).map((t) => t.dataSync() as Float32Array);
    const actual = referencePredict(model as Model, [{ shape: [3, 4, 6], data: input.dataSync() as Float32Array }]);
    expected.forEach((want, i) => assert.ok(relativeError(want, actual[i]!.data) <= 1e-5, `output ${i}: ${relativeError(want, actual[i]!.data)}`));
  });
});
