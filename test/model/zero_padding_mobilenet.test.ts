// ZeroPadding2D on the model side (arguments, JSON, TensorFlow.js as the oracle), and
// Keras's MobileNet (v1) built from Strata's layers with the parameter counts Keras prints.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfl from '@tensorflow/tfjs-layers';
import {
  ConfigError, Input, Model, ShapeError, ValueError, ZeroPadding2D, layers, modelFromJSON, summaryData, type SymbolicTensor,
} from '../../app/model/index.ts';
import { referencePredict } from '../reference/keras_forward.ts';
import { relativeError } from '../translate/compare.ts';

await tf.setBackend('cpu');

const refused = (run: () => unknown, Kind: typeof ValueError | typeof ShapeError | typeof ConfigError, pattern: RegExp) =>
  assert.throws(run, (e: Error) => e instanceof Kind && pattern.test(e.message));

describe('ZeroPadding2D', () => {
  test('Keras\'s three padding forms, its default 1, and shapes', () => {
    const x = Input({ shape: [4, 5, 3] });
    assert.deepEqual(new ZeroPadding2D().apply(x).shape, [null, 6, 7, 3]);
    assert.deepEqual(new ZeroPadding2D([2, 1]).apply(x).shape, [null, 8, 7, 3]);
    assert.deepEqual(new ZeroPadding2D([[0, 1], [3, 0]]).apply(x).shape, [null, 5, 8, 3]);
    assert.deepEqual(new ZeroPadding2D(2).apply(Input({ shape: [null, null, 3] })).shape, [null, null, null, 3]);
    assert.deepEqual(new ZeroPadding2D([2, 1], { name: 'p' }).getConfig(), { name: 'p', trainable: true, dtype: 'float32', padding: [[2, 2], [1, 1]], data_format: 'channels_last' });
  });

  test('bad padding and inputs are errors naming the layer', () => {
    for (const bad of [-1, 1.5, [1], [1, 2, 3], [[1, 2], [3]], [[1, -2], [0, 0]], 'same'] as const) {
      refused(() => new ZeroPadding2D(bad as never, { name: 'p' }), ValueError, /^p: padding must be an integer >= 0, \[rows, cols\] or \[\[top, bottom\], \[left, right\]\]/);
    }
    refused(() => new ZeroPadding2D(1, { padding: 2 } as never), ValueError, /^ZeroPadding2D: unknown option "padding"/);
    refused(() => new ZeroPadding2D(1, { dataFormat: 'channels_first' as never, name: 'p' }), ValueError, /^p: data_format "channels_first" is not supported/);
    refused(() => new ZeroPadding2D(1, { name: 'p' }).apply(Input({ shape: [4, 5] })), ShapeError, /^p: expected a 4-D input \(batch, h, w, c\), got \(None, 4, 5\)/);
    const json = JSON.parse(paddedModel().toJSON());
    json.config.layers[1].config.padding = [[1, 'a'], [0, 0]];
    refused(() => modelFromJSON(json), ValueError, /model JSON: p: padding must be/);
    json.config.layers[1].config.padding = 1;
    json.config.layers[1].config.data_format = 'channels_first';
    refused(() => modelFromJSON(json), ConfigError, /p \(ZeroPadding2D\): "data_format" must be one of "channels_last"/);
  });

  test('JSON round trip; TensorFlow.js reads it and agrees on shapes and numbers', async () => {
    const model = paddedModel();
    assert.equal(modelFromJSON(model.toJSON()).toJSON(), model.toJSON());
    const tfjsModel = await tfl.models.modelFromJSON({ modelTopology: JSON.parse(model.toJSON()) });
    assert.deepEqual(tfjsModel.layers.map((l) => [l.name, l.outputShape]), summaryData(model).rows.map((r) => [r.name, r.outputShapes![0]]));
    tfjsModel.setWeights(model.getWeights().map((w, i) => tf.tensor(w, tfjsModel.getWeights()[i]!.shape)));
    const input = tf.randomUniform([2, 4, 5, 2], -1, 1, 'float32', 5);
    const expected = (tfjsModel.predict(input) as tf.Tensor).dataSync() as Float32Array;
    const actual = referencePredict(model, [{ shape: [2, 4, 5, 2], data: input.dataSync() as Float32Array }])[0]!;
    assert.ok(relativeError(expected, actual.data) <= 1e-5, `relative error ${relativeError(expected, actual.data)}`);
    // and Strata reads TensorFlow.js's own ZeroPadding2D JSON
    const seq = tfl.sequential({ layers: [tfl.layers.zeroPadding2d({ padding: [[1, 2], [0, 3]], inputShape: [4, 5, 2], name: 'zp' })] });
    assert.deepEqual(modelFromJSON(seq.toJSON(null, false) as unknown as Record<string, unknown>).outputs[0]!.shape, [null, 7, 8, 2]);
  });
});

function paddedModel(): Model {
  const x = Input({ shape: [4, 5, 2], name: 'i' });
  const padded = new ZeroPadding2D([[0, 1], [2, 1]], { name: 'p' }).apply(x);
  return new Model({ inputs: x, outputs: new layers.Conv2D(3, 3, { name: 'c' }).apply(padded), name: 'padded' });
}

/** keras.applications.MobileNet (alpha 1, depth multiplier 1, 224x224, with its top), after keras/src/applications/mobilenet.py. */
function mobileNet(): Model {
  const input = Input({ shape: [224, 224, 3], name: 'input_1' });
  let x: SymbolicTensor = new layers.Conv2D(32, 3, { padding: 'same', useBias: false, strides: 2, name: 'conv1' }).apply(input);
  x = new layers.BatchNormalization({ name: 'conv1_bn' }).apply(x);
  x = new layers.ReLU({ maxValue: 6, name: 'conv1_relu' }).apply(x);
  const blocks: [number, number][] = [[64, 1], [128, 2], [128, 1], [256, 2], [256, 1], [512, 2], [512, 1], [512, 1], [512, 1], [512, 1], [512, 1], [1024, 2], [1024, 1]];
  blocks.forEach(([filters, stride], i) => {
    const id = i + 1;
    if (stride === 2) x = new layers.ZeroPadding2D([[0, 1], [0, 1]], { name: `conv_pad_${id}` }).apply(x);
    x = new layers.DepthwiseConv2D(3, { padding: stride === 1 ? 'same' : 'valid', strides: stride, useBias: false, name: `conv_dw_${id}` }).apply(x);
    x = new layers.BatchNormalization({ name: `conv_dw_${id}_bn` }).apply(x);
    x = new layers.ReLU({ maxValue: 6, name: `conv_dw_${id}_relu` }).apply(x);
    x = new layers.Conv2D(filters, 1, { padding: 'same', useBias: false, name: `conv_pw_${id}` }).apply(x);
    x = new layers.BatchNormalization({ name: `conv_pw_${id}_bn` }).apply(x);
    x = new layers.ReLU({ maxValue: 6, name: `conv_pw_${id}_relu` }).apply(x);
  });
  x = new layers.GlobalAveragePooling2D({ keepdims: true, name: 'global_average_pooling2d' }).apply(x);
  x = new layers.Dropout(1e-3, { name: 'dropout' }).apply(x);
  x = new layers.Conv2D(1000, 1, { padding: 'same', name: 'conv_preds' }).apply(x);
  x = new layers.Reshape([1000], { name: 'reshape_2' }).apply(x);
  return new Model({ inputs: input, outputs: new layers.Activation('softmax', { name: 'predictions' }).apply(x), name: 'mobilenet_1.00_224' });
}

describe('Keras\'s MobileNet from Strata\'s layers', () => {
  test('the parameter counts and rows Keras prints', () => {
    const model = mobileNet();
    // tf.keras 2.x's MobileNet().summary(), as public notebooks print it: "Total params:
    // 4,253,864 / Trainable params: 4,231,976 / Non-trainable params: 21,888",
    // len(model.weights) 137, conv_pw_13 (None, 7, 7, 1024) 1048576, conv_pw_13_bn 4096,
    // conv_preds (None, 1, 1, 1000) 1025000; without its top (up to the pooling) 3,228,864.
    const data = summaryData(model);
    assert.deepEqual([data.params.total, data.params.trainable, data.params.nonTrainable], [4253864, 4231976, 21888]);
    assert.equal(model.weights.length, 137);
    const row = (name: string) => data.rows.find((r) => r.name === name)!;
    assert.deepEqual([row('conv_pad_2').outputShapes![0], row('conv_dw_2').outputShapes![0]], [[null, 113, 113, 64], [null, 56, 56, 64]]);
    assert.deepEqual([row('conv_pw_13').outputShapes![0], row('conv_pw_13').params, row('conv_pw_13_bn').params], [[null, 7, 7, 1024], 1048576, 4096]);
    assert.deepEqual([row('conv_preds').outputShapes![0], row('conv_preds').params], [[null, 1, 1, 1000], 1025000]);
    assert.match(model.summary({ printFn: () => {} }), /Total params: 4,253,864 \(16\.23 MB\)\n Trainable params: 4,231,976 \(16\.14 MB\)\n Non-trainable params: 21,888 \(85\.50 KB\)/);
    const loaded = modelFromJSON(model.toJSON());
    assert.equal(loaded.countParams(), 4253864);
  });
});
