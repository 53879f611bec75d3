// ZeroPadding1D, Cropping1D, UpSampling1D, SpatialDropout1D and TimeDistributed on the model side:
// Keras's arguments, defaults and docstring examples, argument checks naming the layer and the
// argument, summary(), Keras JSON (tf.keras 2.x and Keras 3 forms) both ways, TensorFlow.js (an
// independent Keras) as the oracle for TimeDistributed and SpatialDropout1D, and the ONNX
// translation's refusals, layout and import for TimeDistributed.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import * as tfl from '@tensorflow/tfjs-layers';
import {
  ConfigError, Conv2D, LimitError, Cropping1D, Dense, Flatten, Input, LSTM, Model, Sequential, ShapeError, SpatialDropout1D, TimeDistributed, UpSampling1D, ValueError, ZeroPadding1D,
  layers, modelFromJSON, regularizers,
} from '../../app/model/index.ts';
import { exportOnnx, modelToOnnx } from '../../app/translate/to_onnx.ts';
import { modelFromOnnx } from '../../app/translate/from_onnx.ts';
import { referencePredict } from '../reference/keras_forward.ts';
import { refused, rows, tfjsOracleTests } from './tfjs_oracle.ts';

/** A one-layer model's output on np.arange(shape) by the float64 reference, as nested rows per sample. */
function onArange(layer: ZeroPadding1D | Cropping1D | UpSampling1D, shape: [number, number, number]): number[][][] {
  const x = Input({ shape: shape.slice(1) });
  const model = new Model({ inputs: x, outputs: layer.apply(x) });
  const data = Float32Array.from({ length: shape[0] * shape[1] * shape[2] }, (_, i) => i);
  const [y] = referencePredict(model, [{ shape, data }]);
  const [n, steps, features] = y!.shape as [number, number, number];
  return Array.from({ length: n }, (_, i) => Array.from({ length: steps }, (_, t) => Array.from(y!.data.subarray((i * steps + t) * features, (i * steps + t + 1) * features))));
}

const base = (name: string) => ({ name, trainable: true, dtype: 'float32' });
const policy = { module: 'keras', class_name: 'DTypePolicy', config: { name: 'float32' }, registered_name: null };

/** A Keras 3 Sequential config.json of an input of `batchShape` and `layerEntries` ({class_name, config} each). */
function keras3Sequential(batchShape: (number | null)[], layerEntries: { class_name: string; config: Record<string, unknown> }[]) {
  return {
    module: 'keras', class_name: 'Sequential', registered_name: null,
    config: {
      name: 'k3', trainable: true, dtype: policy,
      layers: [
        { module: 'keras.layers', class_name: 'InputLayer', registered_name: null, config: { batch_shape: batchShape, dtype: 'float32', sparse: false, name: 'input_layer' } },
        ...layerEntries.map((entry) => ({ module: 'keras.layers', registered_name: null, build_config: { input_shape: batchShape }, ...entry })),
      ],
    },
  };
}

describe('ZeroPadding1D, Cropping1D, UpSampling1D: Keras API', () => {
  test("Keras's docstring examples (keras/src/layers/reshaping/zero_padding1d.py, cropping1d.py, up_sampling1d.py)", () => {
    assert.deepEqual(onArange(new ZeroPadding1D(2), [2, 2, 3]), [
      [[0, 0, 0], [0, 0, 0], [0, 1, 2], [3, 4, 5], [0, 0, 0], [0, 0, 0]],
      [[0, 0, 0], [0, 0, 0], [6, 7, 8], [9, 10, 11], [0, 0, 0], [0, 0, 0]],
    ]);
    assert.deepEqual(onArange(new Cropping1D(1), [2, 3, 2]), [[[2, 3]], [[8, 9]]]);
    assert.deepEqual(onArange(new UpSampling1D(2), [2, 2, 3]), [
      [[0, 1, 2], [0, 1, 2], [3, 4, 5], [3, 4, 5]],
      [[6, 7, 8], [6, 7, 8], [9, 10, 11], [9, 10, 11]],
    ]);
    assert.deepEqual(onArange(new ZeroPadding1D([0, 1]), [1, 2, 1]), [[[0], [1], [0]]]);
    assert.deepEqual(onArange(new Cropping1D([2, 0]), [1, 4, 1]), [[[2], [3]]]);
  });

  test('defaults, both argument forms, unknown steps, and get_config as Keras 3 writes it', () => {
    const x = Input({ shape: [10, 4] });
    assert.deepEqual(new ZeroPadding1D().apply(x).shape, [null, 12, 4]);
    assert.deepEqual(new ZeroPadding1D([3, 0]).apply(x).shape, [null, 13, 4]);
    assert.deepEqual(new Cropping1D().apply(x).shape, [null, 8, 4]);
    assert.deepEqual(new Cropping1D([0, 9]).apply(x).shape, [null, 1, 4]);
    assert.deepEqual(new UpSampling1D().apply(x).shape, [null, 20, 4]);
    assert.deepEqual(new UpSampling1D(3).apply(x).shape, [null, 30, 4]);
    const open = Input({ shape: [null, 4] });
    for (const layer of [new ZeroPadding1D(), new Cropping1D(), new UpSampling1D()]) assert.deepEqual(layer.apply(open).shape, [null, null, 4]);
    assert.deepEqual(new ZeroPadding1D(2, { name: 'p' }).getConfig(), { ...base('p'), padding: [2, 2], data_format: 'channels_last' });
    assert.deepEqual(new Cropping1D(3, { name: 'c' }).getConfig(), { ...base('c'), cropping: [3, 3] });
    assert.deepEqual(new UpSampling1D(4, { name: 'u' }).getConfig(), { ...base('u'), size: 4 });
    assert.deepEqual(new SpatialDropout1D(0.2, { name: 's' }).getConfig(), { ...base('s'), rate: 0.2, seed: null });
  });

  test('bad arguments and inputs are errors naming the layer and the argument', () => {
    refused(() => new ZeroPadding1D(-1, { name: 'pad' }), ValueError, /^pad: padding must be an integer >= 0 or \[start, end\] of integers >= 0, got -1/);
    refused(() => new ZeroPadding1D([1, 2, 3] as never, { name: 'pad' }), ValueError, /^pad: padding must be .* got \[1,2,3\]/);
    refused(() => new ZeroPadding1D(1.5, { name: 'pad' }), ValueError, /^pad: padding must be .* got 1.5/);
    refused(() => new ZeroPadding1D(1, { dataFormat: 'channels_first' as never, name: 'pad' }), ValueError, /^pad: data_format "channels_first" is not supported/);
    refused(() => new Cropping1D([1, -2], { name: 'crop' }), ValueError, /^crop: cropping must be an integer >= 0 or \[start, end\] of integers >= 0, got \[1,-2\]/);
    refused(() => new Cropping1D(1, { dataFormat: 'channels_last' } as never), ValueError, /^Cropping1D: unknown option "dataFormat"/);
    refused(() => new Cropping1D([2, 2], { name: 'crop' }).apply(Input({ shape: [4, 3] })), ShapeError, /^crop: cropping \[2,2\] must leave at least one of the input's 4 steps \(input \(None, 4, 3\)\)/);
    refused(() => new UpSampling1D(0, { name: 'up' }), ValueError, /^up: size must be an integer > 0, got 0/);
    refused(() => new UpSampling1D(true as never, { name: 'up' }), ValueError, /^up: size must be an integer > 0, got true/);
    refused(() => new UpSampling1D(2, { size: 2 } as never), ValueError, /^UpSampling1D: unknown option "size"/);
    refused(() => new SpatialDropout1D(1, { name: 'drop' }), ValueError, /^drop: rate must be in \[0, 1\), got 1/);
    for (const layer of [new ZeroPadding1D(1, { name: 'l' }), new Cropping1D(1, { name: 'l' }), new UpSampling1D(2, { name: 'l' })]) {
      refused(() => layer.apply(Input({ shape: [4, 4, 3] })), ShapeError, /^l: expected a 3-D input \(batch, steps, features\), got \(None, 4, 4, 3\)/);
    }
    refused(() => new SpatialDropout1D(0.1, { name: 'drop' }).apply(Input({ shape: [4, 4, 3] })), ShapeError, /^drop: expects sequences \(batch, steps, channels\), got an input of shape \(None, 4, 4, 3\)/);
  });

  test('summary() and Keras JSON: round trip, tf.keras 2.x and Keras 3 forms, refusals by name', () => {
    const model = new Sequential(
      [new ZeroPadding1D([1, 2], { inputShape: [6, 3], name: 'pad' }), new Cropping1D([0, 2], { name: 'crop' }), new UpSampling1D(3, { name: 'up' }), new SpatialDropout1D(0.25, { name: 'drop' })],
      { name: 'steps' },
    );
    assert.deepEqual(rows(model), [['pad', 'ZeroPadding1D', [null, 9, 3], 0], ['crop', 'Cropping1D', [null, 7, 3], 0], ['up', 'UpSampling1D', [null, 21, 3], 0], ['drop', 'SpatialDropout1D', [null, 21, 3], 0]]);
    const json = model.toJSON();
    assert.equal(modelFromJSON(json).toJSON(), json);
    // tf.keras 2.x: ZeroPadding1D without data_format, SpatialDropout1D with Dropout's noise_shape
    const tfKeras2 = {
      class_name: 'Sequential',
      config: {
        name: 'k2',
        layers: [
          { class_name: 'InputLayer', config: { batch_input_shape: [null, 5, 2], dtype: 'float32', sparse: false, ragged: false, name: 'in' } },
          { class_name: 'ZeroPadding1D', config: { ...base('zp'), padding: [2, 1] } },
          { class_name: 'Cropping1D', config: { ...base('cr'), cropping: [1, 1] } },
          { class_name: 'UpSampling1D', config: { ...base('us'), size: 2 } },
          { class_name: 'SpatialDropout1D', config: { ...base('sd'), rate: 0.5, noise_shape: null, seed: null } },
        ],
      },
    };
    assert.deepEqual(rows(modelFromJSON(tfKeras2)).map((r) => r[2]), [[null, 8, 2], [null, 6, 2], [null, 12, 2], [null, 12, 2]]);
    // Keras 3 config.json: SpatialDropout1D's get_config is rate, seed, name and dtype only
    const keras3 = keras3Sequential([null, 5, 2], [
      { class_name: 'ZeroPadding1D', config: { name: 'zp', trainable: true, dtype: policy, padding: [0, 3], data_format: 'channels_last' } },
      { class_name: 'SpatialDropout1D', config: { rate: 0.1, seed: 7, name: 'sd', dtype: policy } },
    ]);
    const loaded = modelFromJSON(keras3);
    assert.deepEqual(rows(loaded).map((r) => r[2]), [[null, 8, 2], [null, 8, 2]]);
    assert.equal((loaded.getLayer('sd') as SpatialDropout1D).seed, 7);
    const withLayer = (entry: Record<string, unknown>) => ({ ...tfKeras2, config: { ...tfKeras2.config, layers: [tfKeras2.config.layers[0], entry] } });
    refused(() => modelFromJSON(withLayer({ class_name: 'ZeroPadding1D', config: { ...base('zp'), padding: 1, data_format: 'channels_first' } })), ConfigError, /zp \(ZeroPadding1D\): "data_format" must be one of "channels_last"/);
    refused(() => modelFromJSON(withLayer({ class_name: 'SpatialDropout1D', config: { ...base('sd'), rate: 0.5, noise_shape: [null, 1, 2] } })), ConfigError, /sd \(SpatialDropout1D\): "noise_shape" = \[null,1,2\] is not supported/);
    refused(() => modelFromJSON(withLayer({ class_name: 'UpSampling1D', config: { ...base('us'), size: 2, interpolation: 'nearest' } })), ConfigError, /us \(UpSampling1D\): unsupported config key "interpolation"/);
    refused(() => modelFromJSON(withLayer({ class_name: 'Cropping1D', config: { ...base('cr'), cropping: 'a' } })), ValueError, /cr: cropping must be an integer >= 0 or \[start, end\]/);
  });
});

describe('TimeDistributed: Keras API', () => {
  test("Keras's docstring example: Conv2D(64, (3, 3)) over 10 frames of 128x128x3 (keras/src/layers/rnn/time_distributed.py)", () => {
    const inputs = Input({ shape: [10, 128, 128, 3], batchSize: 32 });
    const wrapper = new TimeDistributed(new Conv2D(64, [3, 3]));
    assert.deepEqual(wrapper.apply(inputs).shape, [32, 10, 126, 126, 64]);
    // the wrapped layer's weights, under its own names; 3 * 3 * 3 * 64 + 64 parameters
    assert.deepEqual(wrapper.weights.map((w) => [w.name, w.shape]), [['kernel', [3, 3, 3, 64]], ['bias', [64]]]);
    assert.equal(wrapper.countParams(), 1792);
    assert.equal(wrapper.name, 'time_distributed');
  });

  test("summary(): the wrapper's name and class with the wrapped layer's parameters; get_config nests the layer", () => {
    const x = Input({ shape: [5, 8, 8, 3], name: 'clip' });
    let h = new TimeDistributed(new Conv2D(4, 3, { name: 'conv' }), { name: 'frames' }).apply(x);
    h = new TimeDistributed(new Flatten({ name: 'flat' }), { name: 'flat_frames' }).apply(h);
    h = new LSTM(6, { name: 'lstm' }).apply(h);
    const model = new Model({ inputs: x, outputs: new Dense(2, { name: 'out' }).apply(h) });
    assert.deepEqual(rows(model), [['clip', 'InputLayer', [null, 5, 8, 8, 3], 0], ['frames', 'TimeDistributed', [null, 5, 6, 6, 4], 112], ['flat_frames', 'TimeDistributed', [null, 5, 144], 0], ['lstm', 'LSTM', [null, 6], 3624], ['out', 'Dense', [null, 2], 14]]);
    assert.match(model.summary({ printFn: () => {} }), /│ frames \(TimeDistributed\)\s+│ \(None, 5, 6, 6, 4\)\s+│\s+112 │/);
    const config = model.getLayer('frames').getConfig();
    assert.deepEqual(Object.keys(config), ['name', 'trainable', 'dtype', 'layer']);
    assert.deepEqual(config.layer, { class_name: 'Conv2D', config: (model.getLayer('frames') as TimeDistributed).layer.getConfig() });
    // (batch, time, features): the Dense sees (batch, features) per step
    assert.deepEqual(new TimeDistributed(new Dense(3)).apply(Input({ shape: [null, 7] })).shape, [null, null, 3]);
    assert.deepEqual(new TimeDistributed(new TimeDistributed(new Dense(2))).apply(Input({ shape: [3, 4, 5] })).shape, [null, 3, 4, 2]);
  });

  test('trainable, setWeights and the wrapped layer\'s weight rules pass through the wrapper', () => {
    const dense = new Dense(2, { kernelRegularizer: regularizers.l2(0.01), activityRegularizer: regularizers.l1(0.1) });
    const wrapper = new TimeDistributed(dense);
    wrapper.apply(Input({ shape: [3, 4] }));
    assert.equal(wrapper.trainableWeights.length, 2);
    assert.equal(wrapper.weightRules!.regularizer('kernel')!.l2, 0.01);
    // Keras 3 calls the wrapped layer's call() per step: its activity penalty is not taken
    assert.equal(wrapper.weightRules!.activityRegularizer, null);
    const version = wrapper.weightsVersion;
    wrapper.setWeights([new Float32Array(8).fill(1), Float32Array.from([1, 2])]);
    assert.deepEqual(Array.from(dense.weights[1]!.value), [1, 2]);
    assert.ok(wrapper.weightsVersion > version);
    wrapper.trainable = false;
    assert.deepEqual([wrapper.trainableWeights.length, wrapper.nonTrainableWeights.length], [0, 2]);
  });

  test('bad arguments and inputs are errors naming the wrapper and the wrapped layer', () => {
    refused(() => new TimeDistributed({} as never, { name: 'td' }), ValueError, /^td: wraps a layer instance \(e\.g\. new Conv2D\(16, 3\)\), got Object/);
    const inner = Input({ shape: [4] });
    const block = new Model({ inputs: inner, outputs: new Dense(2).apply(inner), name: 'block' });
    refused(() => new TimeDistributed(block, { name: 'td' }), ValueError, /^td: wrapping the model block \(Functional\) is not supported; wrap each of its layers in a TimeDistributed instead/);
    const used = new Dense(2, { name: 'used' });
    used.apply(Input({ shape: [4] }));
    refused(() => new TimeDistributed(used, { name: 'td' }), ValueError, /^td: the wrapped layer used is already used in a model; give TimeDistributed a new layer/);
    refused(() => new TimeDistributed(new Dense(2, { name: 'd' }), { name: 'td' }).apply(Input({ shape: [4] })), ShapeError, /^td: expects an input of at least 3 dimensions \(batch, time, \.\.\.\) whose time steps go to d \(Dense\), got \(None, 4\)/);
    refused(() => new TimeDistributed(new Conv2D(2, 3, { name: 'c' }), { name: 'td' }).apply(Input({ shape: [5, 4] })), ShapeError, /^c: /);
    refused(() => new TimeDistributed(new LSTM(2, { returnState: true, name: 'l' }), { name: 'td' }).apply(Input({ shape: [3, 4, 5] })), ValueError, /^td: l \(LSTM\) has 3 outputs; TimeDistributed wraps layers of one output/);
    refused(() => new TimeDistributed(new Dense(2), { layer: 1 } as never), ValueError, /^TimeDistributed: unknown option "layer"/);
  });

  test('Keras JSON: round trip, the Keras 3 form (the wrapped layer serialized with module and build_config), refusals by name', () => {
    const model = new Sequential([new TimeDistributed(new Dense(3, { activation: 'relu', name: 'd' }), { inputShape: [4, 5], name: 'td' })], { name: 'seq' });
    const json = model.toJSON();
    const loaded = modelFromJSON(json);
    assert.equal(loaded.toJSON(), json);
    assert.deepEqual(rows(loaded), rows(model));
    const denseConfig = { name: 'dense', trainable: true, dtype: policy, units: 3, activation: 'linear', use_bias: true, kernel_initializer: { module: 'keras.initializers', class_name: 'GlorotUniform', config: { seed: null }, registered_name: null }, bias_initializer: { module: 'keras.initializers', class_name: 'Zeros', config: {}, registered_name: null }, kernel_regularizer: null, bias_regularizer: null, kernel_constraint: null, bias_constraint: null };
    const keras3 = keras3Sequential([null, 6, 4], [
      { class_name: 'TimeDistributed', config: { name: 'time_distributed', trainable: true, dtype: policy, layer: { module: 'keras.layers', class_name: 'Dense', config: denseConfig, registered_name: null, build_config: { input_shape: [null, 4] } } } },
    ]);
    const k3 = modelFromJSON(keras3);
    assert.deepEqual(rows(k3), [['time_distributed', 'TimeDistributed', [null, 6, 3], 15]]);
    const withWrapped = (layer: unknown) => keras3Sequential([null, 6, 4], [{ class_name: 'TimeDistributed', config: { name: 'td', trainable: true, dtype: policy, layer } }]);
    refused(() => modelFromJSON(withWrapped(null)), ConfigError, /td \(TimeDistributed\): "layer" must be the wrapped layer, \{"class_name": \.\.\., "config": \{\.\.\.\}\}, got null/);
    refused(() => modelFromJSON(withWrapped({ class_name: 'Sequential', config: { layers: [] } })), ConfigError, /td \(TimeDistributed\): wrapping a model \(Sequential\) is not supported/);
    refused(() => modelFromJSON(withWrapped({ class_name: 'Lambda', config: {} })), ConfigError, /td \(TimeDistributed\): the wrapped layer has unsupported class "Lambda"/);
    refused(() => modelFromJSON(withWrapped({ class_name: 'Dense', config: { name: 'd', units: 2, bad_key: 1 } })), ConfigError, /d \(Dense\): unsupported config key "bad_key"/);
  });
});

describe('TimeDistributed: hostile nesting', () => {
  /** A Sequential model JSON whose one layer is `depth` TimeDistributed wrappers around a Dense, written as text (JSON.stringify itself recurses). */
  const nested = (depth: number, units = '2') =>
    `{"class_name": "Sequential", "config": {"name": "s", "layers": [{"class_name": "InputLayer", "config": {"batch_input_shape": [null, ${Array(depth + 1).fill(2).join(', ')}], "name": "in"}}, ` +
    '{"class_name": "TimeDistributed", "config": {"name": "td", "layer": '.repeat(depth) + `{"class_name": "Dense", "config": {"name": "d", "units": ${units}}}` + '}}'.repeat(depth) + ']}}';

  test('wrappers nested thousands deep (or any value nested that deep) are one LimitError naming the file and the layer, not a stack overflow', () => {
    assert.deepEqual(modelFromJSON(nested(20), 'deep.json').outputs[0]!.shape, [null, ...Array(20).fill(2), 2]);
    refused(() => modelFromJSON(nested(20000), 'deep.json'), LimitError, /^deep\.json > s: layer "td" has a config nested more than 1000 levels deep \(TimeDistributed inside TimeDistributed, or a value\); Strata reads at most 1000$/);
    refused(() => modelFromJSON(nested(1, '['.repeat(5000) + ']'.repeat(5000)), 'deep.json'), LimitError, /^deep\.json > s: layer "td" has a config nested more than 1000 levels deep/);
  });
});

describe('TimeDistributed and SpatialDropout1D: TensorFlow.js as the oracle', () => {
  tfjsOracleTests(() => {
    const x = tfl.input({ shape: [4, 6], name: 'steps' });
    const d = tfl.layers.timeDistributed({ layer: tfl.layers.dense({ units: 3, activation: 'tanh', name: 'per_step' }), name: 'td' }).apply(x) as tfl.SymbolicTensor;
    const s = tfl.layers.spatialDropout1d({ rate: 0.2, name: 'drop' }).apply(d) as tfl.SymbolicTensor;
    return tfl.model({ inputs: x, outputs: s, name: 'tfjs_time' });
  }, [3, 4, 6], 5);
});

describe('TimeDistributed: ONNX', () => {
  test('Reshape to (batch * time, ...), the wrapped layer\'s own nodes, Reshape back; its weights under the wrapper\'s name; the file reopens', () => {
    const x = Input({ shape: [3, 5, 5, 2], name: 'clip' });
    const model = new Model({ inputs: x, outputs: new TimeDistributed(new Conv2D(4, 3, { name: 'conv' }), { name: 'frames' }).apply(x), name: 'per_frame' });
    const graph = modelToOnnx(model).graph!;
    assert.deepEqual(graph.node!.map((n) => n.opType), ['Reshape', 'Transpose', 'Conv', 'Transpose', 'Reshape']);
    assert.deepEqual(graph.initializer!.filter((t) => t.dims!.length > 1 || t.name!.includes('bias')).map((t) => t.name), ['frames/kernel', 'frames/bias']);
    const reopened = modelFromOnnx(exportOnnx(model), 'frames.onnx');
    assert.equal(reopened.summary(), model.summary());
    assert.deepEqual(reopened.getWeights(), model.getWeights());
  });

  test('a wrapped layer that cannot run on merged time steps, and unknown time steps, are errors naming the wrapper and the layer', () => {
    const wrap = (inner: ConstructorParameters<typeof TimeDistributed>[0], shape: (number | null)[]) => {
      const x = Input({ shape });
      return new Model({ inputs: x, outputs: new TimeDistributed(inner, { name: 'td' }).apply(x) });
    };
    refused(() => exportOnnx(wrap(new LSTM(2, { name: 'lstm' }), [3, 4, 5])), ValueError, /^td: TimeDistributed over lstm \(LSTM\) has no ONNX translation: a recurrent layer is not translated on merged time steps/);
    refused(() => exportOnnx(wrap(new layers.Bidirectional(new layers.GRU(2), { name: 'bi' }), [3, 4, 5])), ValueError, /^td: TimeDistributed over bi \(Bidirectional\) has no ONNX translation/);
    refused(() => exportOnnx(wrap(new Dense(2), [null, 4])), ShapeError, /^td: the ONNX translation of TimeDistributed needs known time steps and step shapes, got input \(None, None, 4\) and output \(None, None, 2\)/);
  });
});
