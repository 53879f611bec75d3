// DepthwiseConv2D, SeparableConv2D and grouped Conv2D on the model side: Keras's arguments, defaults and
// weight shapes, argument checks that name the layer and the argument, summary(), Keras JSON
// (tf.keras 2.x and Keras 3 forms) both ways, and TensorFlow.js (an independent Keras
// implementation) as the oracle for shapes, counts, JSON and the reference forward pass.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfl from '@tensorflow/tfjs-layers';
import {
  ConfigError, Conv2D, DepthwiseConv2D, Input, Model, SeparableConv2D, Sequential, ShapeError, ValueError, modelFromJSON,
} from '../../app/model/index.ts';
import { refused, rows, tfjsOracleTests } from './tfjs_oracle.ts';

await tf.setBackend('cpu');

describe('DepthwiseConv2D and SeparableConv2D: Keras API', () => {
  test('weights and output shapes as Keras builds them', () => {
    const x = Input({ shape: [10, 10, 12] });
    // Keras's docstring example (keras/src/layers/convolutional/depthwise_conv2d.py):
    // DepthwiseConv2D(kernel_size=3, activation='relu') on (4, 10, 10, 12) gives (4, 8, 8, 12).
    const dw = new DepthwiseConv2D(3, { activation: 'relu' });
    assert.deepEqual(dw.apply(x).shape, [null, 8, 8, 12]);
    assert.deepEqual(dw.weights.map((w) => [w.name, w.shape]), [['depthwise_kernel', [3, 3, 12, 1]], ['bias', [12]]]);
    const dw2 = new DepthwiseConv2D([3, 2], { strides: 2, padding: 'same', depthMultiplier: 3, useBias: false });
    assert.deepEqual(dw2.apply(x).shape, [null, 5, 5, 36]);
    assert.deepEqual(dw2.weights.map((w) => [w.name, w.shape]), [['depthwise_kernel', [3, 2, 12, 3]]]);
    const sep = new SeparableConv2D(4, 3, { depthMultiplier: 2 });
    assert.deepEqual(sep.apply(x).shape, [null, 8, 8, 4]);
    assert.deepEqual(sep.weights.map((w) => [w.name, w.shape]), [['depthwise_kernel', [3, 3, 12, 2]], ['pointwise_kernel', [1, 1, 24, 4]], ['bias', [4]]]);
    assert.equal(sep.countParams(), 3 * 3 * 12 * 2 + 24 * 4 + 4);
    const dilated = new SeparableConv2D(2, 3, { dilationRate: 2, padding: 'valid' });
    assert.deepEqual(dilated.apply(x).shape, [null, 6, 6, 2]);
  });

  test('defaults: stride 1, valid, multiplier 1, glorot_uniform kernels, zero bias', () => {
    const sep = new SeparableConv2D(3, 2, { name: 'sep' });
    const config = sep.getConfig();
    assert.deepEqual([config.strides, config.padding, config.depth_multiplier, config.dilation_rate], [[1, 1], 'valid', 1, [1, 1]]);
    assert.deepEqual(config.depthwise_initializer, { class_name: 'GlorotUniform', config: { seed: null } });
    assert.deepEqual(config.pointwise_initializer, { class_name: 'GlorotUniform', config: { seed: null } });
    assert.deepEqual(config.bias_initializer, { class_name: 'Zeros', config: {} });
  });

  test('bad arguments and inputs are errors naming the layer and the argument', () => {
    refused(() => new DepthwiseConv2D(0, { name: 'dw' }), ValueError, /^dw: kernel_size must be a positive integer/);
    refused(() => new DepthwiseConv2D(3, { depthMultiplier: 0, name: 'dw' }), ValueError, /^dw: depth_multiplier must be a positive integer, got 0/);
    refused(() => new DepthwiseConv2D(3, { depthMultiplier: 1.5, name: 'dw' }), ValueError, /^dw: depth_multiplier must be a positive integer, got 1.5/);
    refused(() => new DepthwiseConv2D(3, { strides: 2, dilationRate: 2, name: 'dw' }), ValueError, /^dw: strides > 1 cannot be combined with dilation_rate > 1/);
    refused(() => new DepthwiseConv2D(3, { padding: 'causal' as never, name: 'dw' }), ValueError, /^dw: padding must be "valid" or "same"/);
    refused(() => new DepthwiseConv2D(3, { depth_multiplier: 2 } as never), ValueError, /^DepthwiseConv2D: unknown option "depth_multiplier" \(did you mean depthMultiplier\?\)/);
    refused(() => new DepthwiseConv2D(3, { filters: 4 } as never), ValueError, /^DepthwiseConv2D: unknown option "filters"; it takes name, .*depthMultiplier/);
    refused(() => new DepthwiseConv2D(3, { activation: 'relu7', name: 'dw' }), ValueError, /^dw: unknown activation "relu7"/);
    refused(() => new DepthwiseConv2D(3, { dataFormat: 'channels_first' as never, name: 'dw' }), ValueError, /^dw: data_format "channels_first" is not supported/);
    refused(() => new SeparableConv2D(0, 3, { name: 'sep' }), ValueError, /^sep: filters must be a positive integer, got 0/);
    refused(() => new SeparableConv2D(2, [3, 3, 3] as never, { name: 'sep' }), ValueError, /^sep: kernel_size must be a positive integer or a tuple of 2/);
    refused(() => new SeparableConv2D(2, 3, { kernelInitializer: 'ones' } as never), ValueError, /^SeparableConv2D: unknown option "kernelInitializer"/);
    refused(() => new DepthwiseConv2D(3, { name: 'dw' }).apply(Input({ shape: [10] })), ShapeError, /^dw: expected a 4-D input \(batch, h, w, c\), got \(None, 10\)/);
    refused(() => new SeparableConv2D(2, 5, { name: 'sep' }).apply(Input({ shape: [4, 4, 1] })), ShapeError, /^sep: input \(None, 4, 4, 1\) is smaller than the kernel \(5, 5\)/);
    const shared = new DepthwiseConv2D(3, { name: 'shared' });
    shared.apply(Input({ shape: [5, 5, 2] }));
    refused(() => shared.apply(Input({ shape: [5, 5, 3] })), ShapeError, /^shared: built for 2 input channels, got an input of shape \(None, 5, 5, 3\)/);
  });

  test('Conv2D(groups): kernel (kh, kw, c / groups, filters); filters and channels must divide', () => {
    const conv = new Conv2D(6, 3, { groups: 3, name: 'g' });
    assert.deepEqual(conv.apply(Input({ shape: [8, 8, 9] })).shape, [null, 6, 6, 6]);
    assert.deepEqual(conv.weights.map((w) => w.shape), [[3, 3, 3, 6], [6]]);
    assert.equal(conv.getConfig().groups, 3);
    const x = Input({ shape: [8, 8, 9] });
    const loaded = modelFromJSON(new Model({ inputs: x, outputs: new Conv2D(6, 3, { groups: 3 }).apply(x) }).toJSON());
    assert.equal((loaded.layers[1] as Conv2D).groups, 3);
    refused(() => new Conv2D(5, 3, { groups: 2, name: 'g' }), ValueError, /^g: filters \(5\) must be a multiple of groups \(2\)/);
    refused(() => new Conv2D(4, 3, { groups: 0, name: 'g' }), ValueError, /^g: groups must be a positive integer, got 0/);
    refused(() => new Conv2D(4, 3, { groups: 2, name: 'g' }).apply(Input({ shape: [8, 8, 3] })), ShapeError, /^g: the input's 3 channels must be a multiple of groups \(2\)/);
  });

  test('summary() lists them with Keras\'s shapes and parameter counts', () => {
    const model = new Sequential([
      new DepthwiseConv2D(3, { inputShape: [32, 32, 3], depthMultiplier: 2, padding: 'same', name: 'dw' }),
      new SeparableConv2D(16, 3, { strides: 2, padding: 'same', name: 'sep' }),
    ], { name: 'mobile' });
    const text = model.summary({ printFn: () => {} });
    // 3*3*3*2 + 6 = 60; 3*3*6 + 6*16 + 16 = 166
    assert.match(text, /│ dw \(DepthwiseConv2D\)\s+│ \(None, 32, 32, 6\)\s+│\s+60 │/);
    assert.match(text, /│ sep \(SeparableConv2D\)\s+│ \(None, 16, 16, 16\)\s+│\s+166 │/);
    assert.match(text, /Total params: 226 \(904\.00 B\)/);
  });
});

describe('DepthwiseConv2D and SeparableConv2D: Keras JSON', () => {
  const model = () => {
    const x = Input({ shape: [16, 16, 3], name: 'img' });
    let y = new DepthwiseConv2D([3, 3], { strides: 2, padding: 'same', depthMultiplier: 2, activation: 'relu', depthwiseInitializer: 'he_normal', name: 'dw' }).apply(x);
    y = new SeparableConv2D(8, 3, { dilationRate: 2, useBias: false, pointwiseInitializer: 'lecun_uniform', name: 'sep' }).apply(y);
    return new Model({ inputs: x, outputs: y, name: 'depthwise_json' });
  };

  test('round trip keeps every argument', () => {
    const original = model();
    const json = original.toJSON();
    const loaded = modelFromJSON(json);
    assert.equal(loaded.toJSON(), json);
    assert.deepEqual(rows(loaded), rows(original));
  });

  test('tf.keras 2.x writes DepthwiseConv2D on top of Conv2D\'s config: Strata reads and writes that form', () => {
    const layer = JSON.parse(model().toJSON()).config.layers[1];
    // tf.keras 2.15 DepthwiseConv2D.get_config: Conv's config without filters and kernel_*, then the depthwise keys
    assert.deepEqual(Object.keys(layer.config), [
      'name', 'trainable', 'dtype', 'kernel_size', 'strides', 'padding', 'data_format', 'dilation_rate', 'groups', 'activation', 'use_bias',
      'bias_initializer', 'bias_regularizer', 'activity_regularizer', 'bias_constraint', 'depth_multiplier', 'depthwise_initializer',
      'depthwise_regularizer', 'depthwise_constraint',
    ]);
    // a SeparableConv2D as tf.keras 2.x writes it, with Conv's kernel_* keys left over
    const sep = { ...JSON.parse(model().toJSON()).config.layers[2].config, groups: 1, kernel_initializer: { class_name: 'GlorotUniform', config: { seed: null } }, kernel_regularizer: null, kernel_constraint: null };
    const json = JSON.parse(model().toJSON());
    json.config.layers[2].config = sep;
    assert.deepEqual(rows(modelFromJSON(json)), rows(model()));
  });

  test('Keras 3 config.json form: module, registered_name, DTypePolicy, build_config', () => {
    const keras3 = {
      module: 'keras', class_name: 'Sequential', registered_name: null,
      config: {
        name: 'k3', trainable: true, dtype: { module: 'keras', class_name: 'DTypePolicy', config: { name: 'float32' }, registered_name: null },
        layers: [
          { module: 'keras.layers', class_name: 'InputLayer', registered_name: null, config: { batch_shape: [null, 12, 12, 4], dtype: 'float32', sparse: false, name: 'input_layer' } },
          {
            module: 'keras.layers', class_name: 'DepthwiseConv2D', registered_name: null, build_config: { input_shape: [null, 12, 12, 4] },
            config: {
              name: 'depthwise_conv2d', trainable: true, dtype: { module: 'keras', class_name: 'DTypePolicy', config: { name: 'float32' }, registered_name: null },
              depth_multiplier: 2, kernel_size: [3, 3], strides: [1, 1], padding: 'valid', data_format: 'channels_last', dilation_rate: [1, 1],
              activation: 'linear', use_bias: true,
              depthwise_initializer: { module: 'keras.initializers', class_name: 'GlorotUniform', config: { seed: null }, registered_name: null },
              bias_initializer: { module: 'keras.initializers', class_name: 'Zeros', config: {}, registered_name: null },
              depthwise_regularizer: null, bias_regularizer: null, activity_regularizer: null, depthwise_constraint: null, bias_constraint: null,
            },
          },
          {
            module: 'keras.layers', class_name: 'SeparableConv2D', registered_name: null, build_config: { input_shape: [null, 10, 10, 8] },
            config: {
              name: 'separable_conv2d', trainable: true, dtype: { module: 'keras', class_name: 'DTypePolicy', config: { name: 'float32' }, registered_name: null },
              depth_multiplier: 1, filters: 6, kernel_size: [3, 3], strides: [2, 2], padding: 'same', data_format: 'channels_last', dilation_rate: [1, 1],
              activation: 'relu', use_bias: true,
              depthwise_initializer: { module: 'keras.initializers', class_name: 'GlorotUniform', config: { seed: null }, registered_name: null },
              pointwise_initializer: { module: 'keras.initializers', class_name: 'GlorotUniform', config: { seed: null }, registered_name: null },
              bias_initializer: { module: 'keras.initializers', class_name: 'Zeros', config: {}, registered_name: null },
              depthwise_regularizer: null, pointwise_regularizer: null, bias_regularizer: null, activity_regularizer: null,
              depthwise_constraint: null, pointwise_constraint: null, bias_constraint: null,
            },
          },
        ],
        build_input_shape: [null, 12, 12, 4],
      },
    };
    const loaded = modelFromJSON(keras3);
    assert.deepEqual(rows(loaded), [
      ['depthwise_conv2d', 'DepthwiseConv2D', [null, 10, 10, 8], 3 * 3 * 4 * 2 + 8],
      ['separable_conv2d', 'SeparableConv2D', [null, 5, 5, 6], 3 * 3 * 8 + 8 * 6 + 6],
    ]);
  });

  test('what Strata cannot represent is refused by name', () => {
    const withConfig = (index: number, patch: Record<string, unknown>) => {
      const json = JSON.parse(model().toJSON());
      Object.assign(json.config.layers[index].config, patch);
      return json;
    };
    refused(() => modelFromJSON(withConfig(1, { depthwise_regularizer: { class_name: 'L2', config: { l2: 0.01 } } })), ConfigError, /dw \(DepthwiseConv2D\): "depthwise_regularizer" = \{"class_name":"L2".* is not supported/);
    refused(() => modelFromJSON(withConfig(2, { pointwise_constraint: { class_name: 'NonNeg', config: {} } })), ConfigError, /sep \(SeparableConv2D\): "pointwise_constraint" = .* is not supported/);
    refused(() => modelFromJSON(withConfig(1, { data_format: 'channels_first' })), ConfigError, /dw \(DepthwiseConv2D\): "data_format" must be one of "channels_last"/);
    refused(() => modelFromJSON(withConfig(1, { groups: 2 })), ConfigError, /dw \(DepthwiseConv2D\): "groups" = 2 is not supported/);
    refused(() => modelFromJSON(withConfig(2, { depth_multiplier: 'two' })), ConfigError, /sep \(SeparableConv2D\): "depth_multiplier" must be a number, got "two"/);
    refused(() => modelFromJSON(withConfig(2, { pointwise: 3 })), ConfigError, /sep \(SeparableConv2D\): unsupported config key "pointwise"/);
  });
});

describe('TensorFlow.js as the oracle', () => {
  const reference = () => {
    const x = tfl.input({ shape: [11, 9, 3], name: 'image' });
    let y = tfl.layers.depthwiseConv2d({ kernelSize: [3, 2], depthMultiplier: 2, strides: 2, padding: 'same', activation: 'relu', name: 'dw' }).apply(x) as tfl.SymbolicTensor;
    // depthMultiplier 1: TensorFlow.js's SeparableConv2D leaves depth_multiplier out of its
    // JSON (tfjs-layers 4.x SeparableConv.getConfig), so its files can only say 1
    y = tfl.layers.separableConv2d({ filters: 5, kernelSize: 3, padding: 'valid', activation: 'tanh', name: 'sep' }).apply(y) as tfl.SymbolicTensor;
    y = tfl.layers.separableConv2d({ filters: 2, kernelSize: 2, dilationRate: 2, padding: 'same', useBias: false, name: 'sep_dilated' }).apply(y) as tfl.SymbolicTensor;
    return tfl.model({ inputs: x, outputs: y, name: 'tfjs_depthwise' });
  };

  tfjsOracleTests(reference, [3, 11, 9, 3], 7);
});
