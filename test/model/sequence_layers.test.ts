// Conv1D, MaxPooling1D, AveragePooling1D, GlobalMaxPooling1D and GlobalMaxPooling2D on the model
// side: Keras's arguments, defaults and weight shapes, argument checks that name the layer and the
// argument, summary(), Keras JSON (tf.keras 2.x and Keras 3 forms) both ways, and TensorFlow.js
// (an independent Keras implementation) as the oracle for shapes, counts, JSON and the float64
// reference forward pass that the ONNX and engine tests compare with.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfl from '@tensorflow/tfjs-layers';
import {
  AveragePooling1D, ConfigError, Conv1D, GlobalAveragePooling1D, GlobalMaxPooling1D, GlobalMaxPooling2D, Input, MaxPooling1D, Model, Sequential, ShapeError,
  ValueError, modelFromJSON,
} from '../../app/model/index.ts';
import { referencePredict } from '../reference/keras_forward.ts';
import { refused, rows, tfjsOracleTests, tfjsRows } from './tfjs_oracle.ts';
import { relativeError } from '../translate/compare.ts';

await tf.setBackend('cpu');

/** A one-layer model's output on `data` (batch 1, `shape` without the batch) by the float64 reference. */
function run(layer: MaxPooling1D | AveragePooling1D, shape: number[], data: number[]): number[] {
  const x = Input({ shape });
  const model = new Model({ inputs: x, outputs: layer.apply(x) });
  return Array.from(referencePredict(model, [{ shape: [1, ...shape], data: Float32Array.from(data) }])[0]!.data);
}

describe('Conv1D: Keras API', () => {
  test('weights and output shapes as Keras builds them', () => {
    // Keras's docstring example (keras/src/layers/convolutional/conv1d.py, "Example"):
    // Conv1D(32, 3, activation='relu') on (4, 10, 128) gives (4, 8, 32).
    const x = Input({ shape: [10, 128] });
    const conv = new Conv1D(32, 3, { activation: 'relu' });
    assert.deepEqual(conv.apply(x).shape, [null, 8, 32]);
    assert.deepEqual(conv.weights.map((w) => [w.name, w.shape]), [['kernel', [3, 128, 32]], ['bias', [32]]]);
    // "same" and "causal" keep ceil(steps / strides) (Keras's conv_output_length)
    assert.deepEqual(new Conv1D(4, 4, { strides: 3, padding: 'same' }).apply(x).shape, [null, 4, 4]);
    assert.deepEqual(new Conv1D(4, 3, { padding: 'causal', dilationRate: 4 }).apply(x).shape, [null, 10, 4]);
    assert.deepEqual(new Conv1D(4, 3, { dilationRate: 2 }).apply(x).shape, [null, 6, 4]);
    const grouped = new Conv1D(8, [5], { groups: 4, useBias: false });
    assert.deepEqual(grouped.apply(x).shape, [null, 6, 8]);
    assert.deepEqual(grouped.weights.map((w) => w.shape), [[5, 32, 8]]);
    assert.deepEqual(new Conv1D(2, 3).apply(Input({ shape: [null, 5] })).shape, [null, null, 2]);
  });

  test('defaults: stride 1, valid, dilation 1, one group, glorot_uniform kernel, zero bias', () => {
    const config = new Conv1D(3, 2, { name: 'c' }).getConfig();
    assert.deepEqual([config.kernel_size, config.strides, config.padding, config.dilation_rate, config.groups, config.activation, config.use_bias], [[2], [1], 'valid', [1], 1, 'linear', true]);
    assert.deepEqual(config.kernel_initializer, { class_name: 'GlorotUniform', config: { seed: null } });
    assert.deepEqual(config.bias_initializer, { class_name: 'Zeros', config: {} });
  });

  test('bad arguments and inputs are errors naming the layer and the argument', () => {
    refused(() => new Conv1D(0, 3, { name: 'c' }), ValueError, /^c: filters must be a positive integer, got 0/);
    refused(() => new Conv1D(2, [3, 3] as never, { name: 'c' }), ValueError, /^c: kernel_size must be a positive integer or a tuple of 1 positive integers, got \[3,3\]/);
    refused(() => new Conv1D(2, 3, { padding: 'full' as never, name: 'c' }), ValueError, /^c: padding must be "valid", "same" or "causal", got "full"/);
    refused(() => new Conv1D(2, 3, { strides: 2, dilationRate: 2, name: 'c' }), ValueError, /^c: strides > 1 cannot be combined with dilation_rate > 1/);
    refused(() => new Conv1D(3, 3, { groups: 2, name: 'c' }), ValueError, /^c: filters \(3\) must be a multiple of groups \(2\)/);
    refused(() => new Conv1D(2, 3, { dilation_rate: 2 } as never), ValueError, /^Conv1D: unknown option "dilation_rate" \(did you mean dilationRate\?\)/);
    refused(() => new Conv1D(2, 3, { dataFormat: 'channels_first' as never, name: 'c' }), ValueError, /^c: data_format "channels_first" is not supported/);
    refused(() => new Conv1D(2, 3, { name: 'c' }).apply(Input({ shape: [8, 8, 3] })), ShapeError, /^c: expected a 3-D input \(batch, steps, c\), got \(None, 8, 8, 3\)/);
    refused(() => new Conv1D(2, 6, { name: 'c' }).apply(Input({ shape: [4, 3] })), ShapeError, /^c: input \(None, 4, 3\) is smaller than the kernel \(6,\) with "valid" padding/);
    refused(() => new Conv1D(4, 3, { groups: 2, name: 'c' }).apply(Input({ shape: [4, 3] })), ShapeError, /^c: the input's 3 channels must be a multiple of groups \(2\)/);
    refused(() => new Conv1D(4, 3, { name: 'c' }).apply(Input({ shape: [4, null] })), ShapeError, /^c: the channel dimension of the input must be known/);
  });
});

describe('1-D pooling and global max pooling: Keras API', () => {
  test('MaxPooling1D and AveragePooling1D compute the docstrings\' examples', () => {
    // tf.keras 2.x docstrings (keras/layers/pooling/max_pooling1d.py, average_pooling1d.py), x = [1, 2, 3, 4, 5]
    const x = [1, 2, 3, 4, 5];
    assert.deepEqual(run(new MaxPooling1D(2, { strides: 1 }), [5, 1], x), [2, 3, 4, 5]);
    assert.deepEqual(run(new MaxPooling1D(2, { strides: 2 }), [5, 1], x), [2, 4]);
    assert.deepEqual(run(new MaxPooling1D(2, { strides: 1, padding: 'same' }), [5, 1], x), [2, 3, 4, 5, 5]);
    assert.deepEqual(run(new AveragePooling1D(2, { strides: 1 }), [5, 1], x), [1.5, 2.5, 3.5, 4.5]);
    assert.deepEqual(run(new AveragePooling1D(2, { strides: 2 }), [5, 1], x), [1.5, 3.5]);
    assert.deepEqual(run(new AveragePooling1D(2, { strides: 1, padding: 'same' }), [5, 1], x), [1.5, 2.5, 3.5, 4.5, 5]);
  });

  test('shapes, defaults (pool 2, strides = pool, valid) and keepdims', () => {
    const seq = Input({ shape: [9, 4] });
    assert.deepEqual(new MaxPooling1D().apply(seq).shape, [null, 4, 4]);
    assert.deepEqual(new AveragePooling1D({ poolSize: 3, strides: 2, padding: 'same' }).apply(seq).shape, [null, 5, 4]);
    assert.deepEqual(new MaxPooling1D().getConfig().pool_size, [2]);
    assert.deepEqual(new MaxPooling1D(3).getConfig().strides, [3]);
    // Keras's docstrings: GlobalMaxPooling1D on (2, 3, 4) gives (2, 4); GlobalMaxPooling2D on (2, 4, 5, 3) gives (2, 3)
    assert.deepEqual(new GlobalMaxPooling1D().apply(Input({ shape: [3, 4] })).shape, [null, 4]);
    assert.deepEqual(new GlobalMaxPooling2D().apply(Input({ shape: [4, 5, 3] })).shape, [null, 3]);
    assert.deepEqual(new GlobalMaxPooling1D({ keepdims: true }).apply(Input({ shape: [3, 4] })).shape, [null, 1, 4]);
    assert.deepEqual(new GlobalMaxPooling2D({ keepdims: true }).apply(Input({ shape: [4, 5, 3] })).shape, [null, 1, 1, 3]);
    assert.deepEqual(new GlobalAveragePooling1D().apply(Input({ shape: [3, 4] })).shape, [null, 4]);
  });

  test('bad arguments and inputs are errors naming the layer and the argument', () => {
    refused(() => new MaxPooling1D(0, { name: 'p' }), ValueError, /^p: pool_size must be a positive integer or a tuple of 1 positive integers, got 0/);
    refused(() => new AveragePooling1D(2, { strides: [2, 2] as never, name: 'p' }), ValueError, /^p: strides must be a positive integer or a tuple of 1/);
    refused(() => new MaxPooling1D(2, { padding: 'causal' as never, name: 'p' }), ValueError, /^p: padding must be "valid" or "same", got "causal"/);
    refused(() => new MaxPooling1D(2, { pool_size: 2 } as never), ValueError, /^MaxPooling1D: unknown option "pool_size" \(did you mean poolSize\?\)/);
    refused(() => new MaxPooling1D(2, { name: 'p' }).apply(Input({ shape: [4, 4, 2] })), ShapeError, /^p: expected a 3-D input \(batch, steps, features\), got \(None, 4, 4, 2\)/);
    refused(() => new AveragePooling1D(5, { name: 'p' }).apply(Input({ shape: [4, 2] })), ShapeError, /^p: input \(None, 4, 2\) is smaller than the pool \(5,\)/);
    refused(() => new GlobalMaxPooling2D({ name: 'g' }).apply(Input({ shape: [4, 2] })), ShapeError, /^g: expected a 4-D input \(batch, h, w, c\), got \(None, 4, 2\)/);
    refused(() => new GlobalMaxPooling1D({ keepDims: true } as never), ValueError, /^GlobalMaxPooling1D: unknown option "keepDims"/);
  });

  test('summary() lists them with Keras\'s shapes and parameter counts', () => {
    const model = new Sequential([
      new Conv1D(8, 3, { inputShape: [20, 2], padding: 'causal', name: 'conv' }),
      new MaxPooling1D(2, { name: 'pool' }),
      new Conv1D(4, 3, { groups: 2, name: 'grouped' }),
      new AveragePooling1D(2, { padding: 'same', name: 'avg' }),
      new GlobalMaxPooling1D({ name: 'gmax' }),
    ], { name: 'signal' });
    const text = model.summary({ printFn: () => {} });
    // 3*2*8 + 8 = 56; 3*(8/2)*4 + 4 = 52
    assert.match(text, /│ conv \(Conv1D\)\s+│ \(None, 20, 8\)\s+│\s+56 │/);
    assert.match(text, /│ pool \(MaxPooling1D\)\s+│ \(None, 10, 8\)\s+│\s+0 │/);
    assert.match(text, /│ grouped \(Conv1D\)\s+│ \(None, 8, 4\)\s+│\s+52 │/);
    assert.match(text, /│ avg \(AveragePooling1D\)\s+│ \(None, 4, 4\)\s+│\s+0 │/);
    assert.match(text, /│ gmax \(GlobalMaxPooling1D\)\s+│ \(None, 4\)\s+│\s+0 │/);
    assert.match(text, /Total params: 108 \(432\.00 B\)/);
  });
});

describe('Keras JSON', () => {
  const model = () => {
    const x = Input({ shape: [16, 3], name: 'seq' });
    let y = new Conv1D(6, 3, { padding: 'causal', dilationRate: 2, groups: 3, activation: 'relu', kernelInitializer: 'he_normal', name: 'conv' }).apply(x);
    y = new MaxPooling1D(3, { strides: 2, padding: 'same', name: 'max' }).apply(y);
    y = new AveragePooling1D({ name: 'avg' }).apply(y);
    y = new GlobalMaxPooling1D({ keepdims: true, name: 'gmax' }).apply(y);
    return new Model({ inputs: x, outputs: y, name: 'sequence_json' });
  };

  test('round trip keeps every argument, in tf.keras 2.x\'s keys', () => {
    const original = model();
    const json = original.toJSON();
    const loaded = modelFromJSON(json);
    assert.equal(loaded.toJSON(), json);
    assert.deepEqual(rows(loaded), rows(original));
    const [conv, max] = JSON.parse(json).config.layers.slice(1);
    // tf.keras 2.15 Conv.get_config's keys, in its order
    assert.deepEqual(Object.keys(conv.config), [
      'name', 'trainable', 'dtype', 'filters', 'kernel_size', 'strides', 'padding', 'data_format', 'dilation_rate', 'groups', 'activation', 'use_bias',
      'kernel_initializer', 'bias_initializer', 'kernel_regularizer', 'bias_regularizer', 'activity_regularizer', 'kernel_constraint', 'bias_constraint',
    ]);
    assert.deepEqual([conv.config.kernel_size, conv.config.padding, conv.config.dilation_rate], [[3], 'causal', [2]]);
    assert.deepEqual([max.config.pool_size, max.config.strides, max.config.padding], [[3], [2], 'same']);
  });

  test('Keras 3 config.json form: module, registered_name, DTypePolicy, build_config', () => {
    const dtype = { module: 'keras', class_name: 'DTypePolicy', config: { name: 'float32' }, registered_name: null };
    const layer = (class_name: string, config: Record<string, unknown>) => ({ module: 'keras.layers', class_name, registered_name: null, build_config: { input_shape: [null, 12, 4] }, config: { trainable: true, dtype, ...config } });
    const keras3 = {
      module: 'keras', class_name: 'Sequential', registered_name: null,
      config: {
        name: 'k3', trainable: true, dtype,
        layers: [
          { module: 'keras.layers', class_name: 'InputLayer', registered_name: null, config: { batch_shape: [null, 12, 4], dtype: 'float32', sparse: false, name: 'input_layer' } },
          layer('Conv1D', {
            name: 'conv1d', filters: 8, kernel_size: [3], strides: [1], padding: 'causal', data_format: 'channels_last', dilation_rate: [1], groups: 2,
            activation: 'relu', use_bias: true,
            kernel_initializer: { module: 'keras.initializers', class_name: 'GlorotUniform', config: { seed: null }, registered_name: null },
            bias_initializer: { module: 'keras.initializers', class_name: 'Zeros', config: {}, registered_name: null },
            kernel_regularizer: null, bias_regularizer: null, activity_regularizer: null, kernel_constraint: null, bias_constraint: null,
          }),
          layer('MaxPooling1D', { name: 'max_pooling1d', pool_size: [2], padding: 'valid', strides: [2], data_format: 'channels_last' }),
          layer('AveragePooling1D', { name: 'average_pooling1d', pool_size: [3], padding: 'same', strides: [1], data_format: 'channels_last' }),
          layer('GlobalMaxPooling1D', { name: 'global_max_pooling1d', data_format: 'channels_last', keepdims: false }),
        ],
        build_input_shape: [null, 12, 4],
      },
    };
    assert.deepEqual(rows(modelFromJSON(keras3)), [
      ['conv1d', 'Conv1D', [null, 12, 8], 3 * 2 * 8 + 8],
      ['max_pooling1d', 'MaxPooling1D', [null, 6, 8], 0],
      ['average_pooling1d', 'AveragePooling1D', [null, 6, 8], 0],
      ['global_max_pooling1d', 'GlobalMaxPooling1D', [null, 8], 0],
    ]);
  });

  test('what Strata cannot represent is refused by name', () => {
    const withConfig = (index: number, patch: Record<string, unknown>) => {
      const json = JSON.parse(model().toJSON());
      Object.assign(json.config.layers[index].config, patch);
      return json;
    };
    // Regularizers and constraints are represented (test/model/regularizers): read and written back.
    assert.deepEqual(modelFromJSON(withConfig(1, { kernel_regularizer: { class_name: 'L2', config: { l2: 0.01 } } })).getLayer('conv').getConfig().kernel_regularizer, { class_name: 'L2', config: { l2: 0.01 } });
    refused(() => modelFromJSON(withConfig(1, { padding: 'full' })), ConfigError, /conv \(Conv1D\): "padding" must be one of "valid", "same", "causal", got "full"/);
    refused(() => modelFromJSON(withConfig(1, { data_format: 'channels_first' })), ConfigError, /conv \(Conv1D\): "data_format" must be one of "channels_last"/);
    refused(() => modelFromJSON(withConfig(2, { padding: 'causal' })), ConfigError, /max \(MaxPooling1D\): "padding" must be one of "valid", "same", got "causal"/);
    refused(() => modelFromJSON(withConfig(2, { pool_size: 'two' })), ConfigError, /max \(MaxPooling1D\): "pool_size" must be an integer or a list of integers, got "two"/);
    refused(() => modelFromJSON(withConfig(4, { keepdims: 'yes' })), ConfigError, /gmax \(GlobalMaxPooling1D\): "keepdims" must be true or false, got "yes"/);
    refused(() => modelFromJSON(withConfig(4, { pool: 3 })), ConfigError, /gmax \(GlobalMaxPooling1D\): unsupported config key "pool"/);
  });
});

describe('TensorFlow.js as the oracle', () => {
  // TensorFlow.js's Conv1D cannot run "causal" padding (and gives it "valid"'s output length), so
  // its first layer is "valid" here and "causal" is checked against "valid" on a left-padded input.
  const reference = (steps = 15) => {
    const x = tfl.input({ shape: [steps, 3], name: 'seq' });
    let y = tfl.layers.conv1d({ filters: 6, kernelSize: 3, dilationRate: 2, activation: 'relu', name: 'dilated' }).apply(x) as tfl.SymbolicTensor;
    y = tfl.layers.conv1d({ filters: 5, kernelSize: 4, strides: 2, padding: 'same', activation: 'tanh', name: 'strided' }).apply(y) as tfl.SymbolicTensor;
    y = tfl.layers.maxPooling1d({ poolSize: 3, strides: 1, padding: 'same', name: 'max' }).apply(y) as tfl.SymbolicTensor;
    y = tfl.layers.averagePooling1d({ poolSize: 2, strides: 1, name: 'avg' }).apply(y) as tfl.SymbolicTensor;
    y = tfl.layers.globalMaxPooling1d({ name: 'gmax' }).apply(y) as tfl.SymbolicTensor;
    return tfl.model({ inputs: x, outputs: y, name: 'tfjs_sequence' });
  };

  tfjsOracleTests(reference, [3, 15, 3], 11);

  test('"causal" is "valid" after (k - 1) * dilation zeros at the start, as Keras pads it', () => {
    // keras/src/layers/convolutional/conv1d.py, _compute_causal_padding: left_pad = dilation_rate * (kernel_size - 1)
    const tfjsModel = reference(19);
    const x = Input({ shape: [15, 3], name: 'seq' });
    let y = new Conv1D(6, 3, { padding: 'causal', dilationRate: 2, activation: 'relu', name: 'causal' }).apply(x);
    y = new Conv1D(5, 4, { strides: 2, padding: 'same', activation: 'tanh', name: 'strided' }).apply(y);
    y = new MaxPooling1D(3, { strides: 1, padding: 'same', name: 'max' }).apply(y);
    y = new AveragePooling1D(2, { strides: 1, name: 'avg' }).apply(y);
    const model = new Model({ inputs: x, outputs: new GlobalMaxPooling1D({ name: 'gmax' }).apply(y) });
    model.setWeights(tfjsModel.getWeights().map((w) => w.dataSync() as Float32Array));
    const input = tf.randomUniform([3, 15, 3], -1, 1, 'float32', 12);
    const expected = (tfjsModel.predict(tf.pad(input, [[0, 0], [4, 0], [0, 0]])) as tf.Tensor).dataSync() as Float32Array;
    const actual = referencePredict(model, [{ shape: [3, 15, 3], data: input.dataSync() as Float32Array }])[0]!;
    assert.ok(relativeError(expected, actual.data) <= 1e-5, `relative error ${relativeError(expected, actual.data)}`);
  });

  test('GlobalMaxPooling2D: the reference computes what TensorFlow.js computes', () => {
    const image = tfl.input({ shape: [4, 5, 3] });
    const tfjsModel = tfl.model({ inputs: image, outputs: tfl.layers.globalMaxPooling2d({ name: 'gmax' }).apply(image) as tfl.SymbolicTensor });
    const model = modelFromJSON(tfjsModel.toJSON(null, false) as unknown as Record<string, unknown>);
    assert.deepEqual(rows(model), tfjsRows(tfjsModel));
    const input = tf.randomUniform([2, 4, 5, 3], -1, 1, 'float32', 5);
    const expected = (tfjsModel.predict(input) as tf.Tensor).dataSync() as Float32Array;
    const actual = referencePredict(model, [{ shape: [2, 4, 5, 3], data: input.dataSync() as Float32Array }])[0]!;
    assert.ok(relativeError(expected, actual.data) <= 1e-6, `relative error ${relativeError(expected, actual.data)}`);
  });
});
