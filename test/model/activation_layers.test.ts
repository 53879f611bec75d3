// ReLU, LeakyReLU, ELU and Softmax as layers, and the activations softplus, hard_sigmoid and
// relu6: Keras's arguments and defaults, argument checks naming the layer and argument,
// summary(), Keras JSON (tf.keras 2.x and Keras 3 keys) both ways, and TensorFlow.js as the
// oracle for JSON, shapes and the reference's numbers.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfl from '@tensorflow/tfjs-layers';
import {
  ConfigError, ELU, Input, LeakyReLU, Model, ReLU, Sequential, ShapeError, Softmax, ValueError, layers, modelFromJSON, summaryData,
} from '../../app/model/index.ts';
import { ELEMENTWISE_ACTIVATIONS, reluLayerValue, referencePredict } from '../reference/keras_forward.ts';
import { relativeError } from '../translate/compare.ts';

await tf.setBackend('cpu');

const refused = (run: () => unknown, Kind: typeof ValueError | typeof ShapeError | typeof ConfigError, pattern: RegExp) =>
  assert.throws(run, (e: Error) => e instanceof Kind && pattern.test(e.message));

describe('activation layers: Keras API', () => {
  test('Keras\'s defaults and configs', () => {
    assert.deepEqual(new ReLU({ name: 'r' }).getConfig(), { name: 'r', trainable: true, dtype: 'float32', max_value: null, negative_slope: 0, threshold: 0 });
    assert.equal(new ReLU({ maxValue: 6 }).maxValue, 6);
    // Keras 3 LeakyReLU(negative_slope=0.3); tf.keras 2.x wrote it as alpha
    assert.deepEqual(new LeakyReLU({ name: 'l' }).getConfig(), { name: 'l', trainable: true, dtype: 'float32', alpha: 0.3 });
    assert.equal(new ELU().alpha, 1);
    assert.equal(new Softmax().axis, -1);
  });

  test('keras.activations.relu\'s definition, case by case', () => {
    // max_value 6, slope 0.1, threshold 1: below the threshold slope * (x - threshold)
    assert.equal(reluLayerValue(-2, 6, 0.1, 1), -0.30000000000000004);
    assert.equal(reluLayerValue(1, 6, 0.1, 1), 0); // at the threshold: 0 (Keras compares x > threshold)
    assert.equal(reluLayerValue(3, 6, 0.1, 1), 3);
    assert.equal(reluLayerValue(9, 6, 0.1, 1), 6);
    assert.equal(reluLayerValue(-4, null, 0, 0), 0);
    assert.equal(ELEMENTWISE_ACTIVATIONS.relu6(7), 6);
    // Keras 3: hard_sigmoid(x) = relu6(x + 3) / 6
    assert.deepEqual([-3.5, -3, 0, 1.5, 3, 4].map(ELEMENTWISE_ACTIVATIONS.hard_sigmoid), [0, 0, 0.5, 0.75, 1, 1]);
    assert.ok(Math.abs(ELEMENTWISE_ACTIVATIONS.softplus(0) - Math.LN2) < 1e-15);
    assert.equal(ELEMENTWISE_ACTIVATIONS.softplus(800), 800);
    assert.ok(ELEMENTWISE_ACTIVATIONS.softplus(-800) >= 0);
  });

  test('bad arguments are errors naming the layer and the argument', () => {
    refused(() => new ReLU({ maxValue: -1, name: 'r' }), ValueError, /^r: max_value must be a number >= 0 or null, got -1/);
    refused(() => new ReLU({ negativeSlope: -0.1, name: 'r' }), ValueError, /^r: negative_slope must be a number >= 0, got -0.1/);
    refused(() => new ReLU({ threshold: Number.NaN, name: 'r' }), ValueError, /^r: threshold must be a number >= 0, got NaN/);
    refused(() => new ReLU({ max_value: 6 } as never), ValueError, /^ReLU: unknown option "max_value" \(did you mean maxValue\?\)/);
    refused(() => new ReLU(6 as never), ValueError, /^ReLU: expected an options object such as \{maxValue: 6\}, got 6/);
    refused(() => new LeakyReLU({ alpha: 0.2 } as never), ValueError, /^LeakyReLU: unknown option "alpha"; it takes .*negativeSlope/);
    refused(() => new LeakyReLU({ negativeSlope: -1, name: 'l' }), ValueError, /^l: negative_slope must be a number >= 0/);
    refused(() => new ELU({ alpha: Infinity, name: 'e' }), ValueError, /^e: alpha must be a finite number, got Infinity/);
    refused(() => new Softmax({ axis: 1.5, name: 's' }), ValueError, /^s: axis must be an integer, got 1.5/);
    refused(() => new Softmax({ axis: 0, name: 's' }).apply(Input({ shape: [4] })), ShapeError, /^s: axis 0 is not a non-batch axis of an input of shape \(None, 4\)/);
    refused(() => new Softmax({ axis: 3, name: 's' }).apply(Input({ shape: [4, 2] })), ShapeError, /^s: axis 3 is not a non-batch axis/);
    refused(() => new layers.Dense(2, { activation: 'hard_swish', name: 'd' }), ValueError, /^d: unknown activation "hard_swish"; supported: .*softplus, hard_sigmoid, relu6/);
  });

  test('summary(): no weights, the input\'s shape', () => {
    const model = new Sequential([
      new layers.Dense(8, { inputShape: [4], name: 'dense' }),
      new ReLU({ maxValue: 6, name: 're_lu' }),
      new LeakyReLU({ name: 'leaky_re_lu' }),
      new ELU({ name: 'elu' }),
      new Softmax({ name: 'softmax' }),
    ]);
    assert.deepEqual(summaryData(model).rows.map((r) => [r.name, r.className, r.outputShapes![0], r.params]), [
      ['dense', 'Dense', [null, 8], 40], ['re_lu', 'ReLU', [null, 8], 0], ['leaky_re_lu', 'LeakyReLU', [null, 8], 0], ['elu', 'ELU', [null, 8], 0], ['softmax', 'Softmax', [null, 8], 0],
    ]);
    // Keras's automatic names: to_snake_case("ReLU") is "re_lu", "LeakyReLU" "leaky_re_lu"
    assert.equal(new ReLU().name.replace(/_\d+$/, ''), 're_lu');
    assert.equal(new LeakyReLU().name.replace(/_\d+$/, ''), 'leaky_re_lu');
    assert.match(model.summary({ printFn: () => {} }), /│ re_lu \(ReLU\)\s+│ \(None, 8\)\s+│\s+0 │/);
  });
});

describe('activation layers: Keras JSON', () => {
  const model = () =>
    new Sequential([
      new layers.Dense(6, { inputShape: [5], activation: 'softplus', name: 'd' }),
      new ReLU({ maxValue: 6, negativeSlope: 0.1, threshold: 0.5, name: 'r' }),
      new LeakyReLU({ negativeSlope: 0.2, name: 'l' }),
      new ELU({ alpha: 0.7, name: 'e' }),
      new layers.Dense(3, { activation: 'hard_sigmoid', name: 'h' }),
      new Softmax({ axis: -1, name: 's' }),
    ], { name: 'acts' });

  test('round trip', () => {
    const json = model().toJSON();
    assert.equal(modelFromJSON(json).toJSON(), json);
  });

  test('Keras 3 keys: LeakyReLU\'s negative_slope; Softmax\'s axis as a list of one', () => {
    const json = JSON.parse(model().toJSON());
    const layer = (name: string) => json.config.layers.find((l: { config: { name: string } }) => l.config.name === name);
    layer('l').config = { name: 'l', trainable: true, dtype: { module: 'keras', class_name: 'DTypePolicy', config: { name: 'float32' }, registered_name: null }, negative_slope: 0.25 };
    layer('s').config.axis = [-1];
    const loaded = modelFromJSON(json);
    assert.equal((loaded.getLayer('l') as LeakyReLU).negativeSlope, 0.25);
    assert.equal((loaded.getLayer('s') as Softmax).axis, -1);
    layer('l').config.alpha = 0.5;
    refused(() => modelFromJSON(json), ConfigError, /l \(LeakyReLU\): "negative_slope" \(0.25\) and its older name "alpha" \(0.5\) disagree/);
    layer('l').config.alpha = 0.25;
    layer('s').config.axis = [1, 2];
    refused(() => modelFromJSON(json), ConfigError, /s \(Softmax\): softmax over several axes \(\[1,2\]\) is not supported/);
    layer('s').config.axis = -1;
    layer('r').config.max_value = 'six';
    refused(() => modelFromJSON(json), ConfigError, /r \(ReLU\): "max_value" must be a number or null, got "six"/);
  });

  test('TensorFlow.js reads Strata\'s JSON, Strata reads TensorFlow.js\'s, and the reference computes what TensorFlow.js does', async () => {
    const x = tfl.input({ shape: [6], name: 'x' });
    let y = tfl.layers.dense({ units: 6, name: 'd' }).apply(x) as tfl.SymbolicTensor;
    y = tfl.layers.reLU({ maxValue: 0.4, name: 'r' }).apply(y) as tfl.SymbolicTensor;
    const z = tfl.layers.leakyReLU({ alpha: 0.15, name: 'l' }).apply(tfl.layers.dense({ units: 5, name: 'd2' }).apply(x) as tfl.SymbolicTensor) as tfl.SymbolicTensor;
    const e = tfl.layers.elu({ name: 'e' }).apply(z) as tfl.SymbolicTensor; // TensorFlow.js refuses alpha != 1
    // TensorFlow.js's Softmax layer defaults to axis 1 and writes it; Strata reads what is
    // written (TensorFlow.js computes softmax over the last axis only: rank 2 here)
    const s1 = tfl.layers.softmax({ name: 's1' }).apply(y) as tfl.SymbolicTensor;
    const s2 = tfl.layers.softmax({ axis: -1, name: 's2' }).apply(e) as tfl.SymbolicTensor;
    const reference = tfl.model({ inputs: x, outputs: [s1, s2], name: 'tfjs_acts' });
    const model = modelFromJSON(reference.toJSON(null, false) as unknown as Record<string, unknown>);
    assert.equal((model.getLayer('s1') as Softmax).axis, 1);
    const reread = await tfl.models.modelFromJSON({ modelTopology: JSON.parse(model.toJSON()) });
    assert.deepEqual(reread.layers.map((l) => [l.name, l.getClassName(), l.outputShape]), reference.layers.map((l) => [l.name, l.getClassName(), l.outputShape]));
    model.setWeights(reference.getWeights().map((w) => w.dataSync() as Float32Array));
    const input = tf.randomUniform([3, 6], -2, 2, 'float32', 3);
    const expected = (reference.predict(input) as tf.Tensor[]).map((t) => t.dataSync() as Float32Array);
    const actual = referencePredict(model as Model, [{ shape: [3, 6], data: input.dataSync() as Float32Array }]);
    expected.forEach((want, i) => assert.ok(relativeError(want, actual[i]!.data) <= 1e-5, `output ${i}: ${relativeError(want, actual[i]!.data)}`));
  });
});
