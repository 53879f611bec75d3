// Conv2DTranspose on the model side: Keras's arguments, defaults, weight shapes and output
// lengths (deconv_output_length), argument checks naming the layer and the argument, summary(),
// Keras JSON (tf.keras 2.x and Keras 3 forms), and TensorFlow.js as the oracle for shapes,
// counts, JSON and the float64 reference forward pass the ONNX and engine tests compare with.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfl from '@tensorflow/tfjs-layers';
import { ConfigError, Conv2DTranspose, Input, Model, Sequential, ShapeError, ValueError, modelFromJSON } from '../../app/model/index.ts';
import { refused, rows, tfjsOracleTests } from './tfjs_oracle.ts';

await tf.setBackend('cpu');

describe('Conv2DTranspose: Keras API', () => {
  test('weights and output shapes as Keras builds them', () => {
    // Keras's docstring example (keras/src/layers/convolutional/conv2d_transpose.py, "Example"):
    // Conv2DTranspose(32, 2, 2, activation='relu') on (4, 10, 8, 128) gives (4, 20, 16, 32).
    const x = Input({ shape: [10, 8, 128] });
    const up = new Conv2DTranspose(32, 2, { strides: 2, activation: 'relu' });
    assert.deepEqual(up.apply(x).shape, [null, 20, 16, 32]);
    // the kernel is (kh, kw, filters, in_channels), as Keras stores it
    assert.deepEqual(up.weights.map((w) => [w.name, w.shape]), [['kernel', [2, 2, 32, 128]], ['bias', [32]]]);
    // deconv_output_length: valid n * s + max(span - s, 0); same n * s; with output_padding (n - 1) * s + span - 2 * pad + p
    const small = Input({ shape: [4, 5, 3] });
    assert.deepEqual(new Conv2DTranspose(2, 3).apply(small).shape, [null, 6, 7, 2]);
    assert.deepEqual(new Conv2DTranspose(2, 3, { strides: [3, 2] }).apply(small).shape, [null, 12, 11, 2]);
    assert.deepEqual(new Conv2DTranspose(2, 3, { strides: 2, padding: 'same' }).apply(small).shape, [null, 8, 10, 2]);
    assert.deepEqual(new Conv2DTranspose(2, 3, { strides: 2, padding: 'same', outputPadding: [0, 1] }).apply(small).shape, [null, 7, 10, 2]);
    assert.deepEqual(new Conv2DTranspose(2, [3, 4], { strides: 3, outputPadding: 2 }).apply(small).shape, [null, 14, 18, 2]);
    assert.deepEqual(new Conv2DTranspose(2, 3, { dilationRate: 2 }).apply(small).shape, [null, 8, 9, 2]);
    assert.deepEqual(new Conv2DTranspose(2, 3, { strides: 2 }).apply(Input({ shape: [null, 5, 3] })).shape, [null, null, 11, 2]);
  });

  test('defaults: stride 1, valid, no output_padding, dilation 1, glorot_uniform kernel, zero bias', () => {
    const config = new Conv2DTranspose(3, 2, { name: 'up' }).getConfig();
    assert.deepEqual([config.strides, config.padding, config.output_padding, config.dilation_rate, config.activation, config.use_bias], [[1, 1], 'valid', null, [1, 1], 'linear', true]);
    assert.deepEqual(config.kernel_initializer, { class_name: 'GlorotUniform', config: { seed: null } });
  });

  test('bad arguments and inputs are errors naming the layer and the argument', () => {
    refused(() => new Conv2DTranspose(0, 3, { name: 'up' }), ValueError, /^up: filters must be a positive integer, got 0/);
    refused(() => new Conv2DTranspose(2, 3, { strides: 2, outputPadding: 2, name: 'up' }), ValueError, /^up: output_padding must be an integer or 2 integers, each >= 0 and below its stride \(2, 2\) \(as in Keras\), got 2/);
    refused(() => new Conv2DTranspose(2, 3, { outputPadding: [-1, 0], name: 'up' }), ValueError, /^up: output_padding must be .* got \[-1,0\]/);
    refused(() => new Conv2DTranspose(2, 3, { strides: 2, dilationRate: 2, name: 'up' }), ValueError, /^up: strides > 1 cannot be combined with dilation_rate > 1/);
    refused(() => new Conv2DTranspose(2, 3, { padding: 'causal' as never, name: 'up' }), ValueError, /^up: padding must be "valid" or "same", got "causal"/);
    refused(() => new Conv2DTranspose(2, 3, { groups: 2 } as never), ValueError, /^Conv2DTranspose: unknown option "groups"; it takes .*outputPadding/);
    refused(() => new Conv2DTranspose(2, 3, { output_padding: 1 } as never), ValueError, /^Conv2DTranspose: unknown option "output_padding" \(did you mean outputPadding\?\)/);
    refused(() => new Conv2DTranspose(2, 3, { name: 'up' }).apply(Input({ shape: [8, 3] })), ShapeError, /^up: expected a 4-D input \(batch, h, w, c\), got \(None, 8, 3\)/);
    const shared = new Conv2DTranspose(2, 3, { name: 'shared' });
    shared.apply(Input({ shape: [4, 4, 2] }));
    refused(() => shared.apply(Input({ shape: [4, 4, 3] })), ShapeError, /^shared: built for 2 input channels, got an input of shape \(None, 4, 4, 3\)/);
  });

  test('summary() lists it with Keras\'s shapes and parameter counts', () => {
    const model = new Sequential([
      new Conv2DTranspose(16, 3, { inputShape: [8, 8, 4], strides: 2, padding: 'same', name: 'up' }),
      new Conv2DTranspose(2, 2, { strides: 2, useBias: false, name: 'up2' }),
    ], { name: 'decoder' });
    const text = model.summary({ printFn: () => {} });
    // 3*3*16*4 + 16 = 592; 2*2*2*16 = 128
    assert.match(text, /│ up \(Conv2DTranspose\)\s+│ \(None, 16, 16, 16\)\s+│\s+592 │/);
    assert.match(text, /│ up2 \(Conv2DTranspose\)\s+│ \(None, 32, 32, 2\)\s+│\s+128 │/);
    assert.match(text, /Total params: 720 \(2\.81 KB\)/);
  });
});

describe('Conv2DTranspose: Keras JSON', () => {
  const model = () => {
    const x = Input({ shape: [5, 6, 3], name: 'img' });
    const y = new Conv2DTranspose(4, [3, 2], { strides: 2, padding: 'same', outputPadding: [1, 0], activation: 'relu', kernelInitializer: 'he_uniform', name: 'up' }).apply(x);
    return new Model({ inputs: x, outputs: y, name: 'transpose_json' });
  };

  test('round trip keeps every argument, in tf.keras 2.x\'s keys (Conv2D\'s, then output_padding)', () => {
    const json = model().toJSON();
    assert.equal(modelFromJSON(json).toJSON(), json);
    assert.deepEqual(rows(modelFromJSON(json)), rows(model()));
    const layer = JSON.parse(json).config.layers[1];
    assert.deepEqual(Object.keys(layer.config), [
      'name', 'trainable', 'dtype', 'filters', 'kernel_size', 'strides', 'padding', 'data_format', 'dilation_rate', 'groups', 'activation', 'use_bias',
      'kernel_initializer', 'bias_initializer', 'kernel_regularizer', 'bias_regularizer', 'activity_regularizer', 'kernel_constraint', 'bias_constraint', 'output_padding',
    ]);
    assert.deepEqual(layer.config.output_padding, [1, 0]);
  });

  test('Keras 3 config.json form (no groups key) reads with Keras\'s shapes', () => {
    const dtype = { module: 'keras', class_name: 'DTypePolicy', config: { name: 'float32' }, registered_name: null };
    const keras3 = {
      module: 'keras', class_name: 'Sequential', registered_name: null,
      config: {
        name: 'k3', trainable: true, dtype,
        layers: [
          { module: 'keras.layers', class_name: 'InputLayer', registered_name: null, config: { batch_shape: [null, 7, 7, 8], dtype: 'float32', sparse: false, name: 'input_layer' } },
          {
            module: 'keras.layers', class_name: 'Conv2DTranspose', registered_name: null, build_config: { input_shape: [null, 7, 7, 8] },
            config: {
              name: 'conv2d_transpose', trainable: true, dtype, filters: 4, kernel_size: [3, 3], strides: [2, 2], padding: 'valid', data_format: 'channels_last',
              dilation_rate: [1, 1], activation: 'linear', use_bias: true, output_padding: null,
              kernel_initializer: { module: 'keras.initializers', class_name: 'GlorotUniform', config: { seed: null }, registered_name: null },
              bias_initializer: { module: 'keras.initializers', class_name: 'Zeros', config: {}, registered_name: null },
              kernel_regularizer: null, bias_regularizer: null, activity_regularizer: null, kernel_constraint: null, bias_constraint: null,
            },
          },
        ],
        build_input_shape: [null, 7, 7, 8],
      },
    };
    assert.deepEqual(rows(modelFromJSON(keras3)), [['conv2d_transpose', 'Conv2DTranspose', [null, 15, 15, 4], 3 * 3 * 4 * 8 + 4]]);
  });

  test('what Strata cannot represent is refused by name', () => {
    const withConfig = (patch: Record<string, unknown>) => {
      const json = JSON.parse(model().toJSON());
      Object.assign(json.config.layers[1].config, patch);
      return json;
    };
    refused(() => modelFromJSON(withConfig({ groups: 2 })), ConfigError, /up \(Conv2DTranspose\): "groups" = 2 is not supported/);
    refused(() => modelFromJSON(withConfig({ output_padding: 'one' })), ConfigError, /up \(Conv2DTranspose\): "output_padding" must be an integer or a list of integers, got "one"/);
    refused(() => modelFromJSON(withConfig({ output_padding: [2, 2] })), ValueError, /up: output_padding must be .* below its stride \(2, 2\)/);
    refused(() => modelFromJSON(withConfig({ padding: 'full' })), ConfigError, /up \(Conv2DTranspose\): "padding" must be one of "valid", "same", got "full"/);
    // Constraints and regularizers are represented (test/model/regularizers): read and written back.
    assert.deepEqual(modelFromJSON(withConfig({ kernel_constraint: { class_name: 'NonNeg', config: {} } })).getLayer('up').getConfig().kernel_constraint, { class_name: 'NonNeg', config: {} });
  });
});

describe('Conv2DTranspose: TensorFlow.js as the oracle', () => {
  const reference = () => {
    const x = tfl.input({ shape: [5, 4, 3], name: 'image' });
    let y = tfl.layers.conv2dTranspose({ filters: 4, kernelSize: [3, 2], strides: 2, padding: 'same', activation: 'relu', name: 'same' }).apply(x) as tfl.SymbolicTensor;
    y = tfl.layers.conv2dTranspose({ filters: 3, kernelSize: 3, strides: [1, 3], padding: 'valid', activation: 'tanh', name: 'valid' }).apply(y) as tfl.SymbolicTensor;
    y = tfl.layers.conv2dTranspose({ filters: 2, kernelSize: 2, strides: 3, padding: 'valid', useBias: false, name: 'kernel_below_stride' }).apply(y) as tfl.SymbolicTensor;
    y = tfl.layers.conv2dTranspose({ filters: 2, kernelSize: 4, strides: 2, padding: 'same', name: 'even_same' }).apply(y) as tfl.SymbolicTensor;
    return tfl.model({ inputs: x, outputs: y, name: 'tfjs_transpose' });
  };

  tfjsOracleTests(reference, [2, 5, 4, 3], 9);
});
