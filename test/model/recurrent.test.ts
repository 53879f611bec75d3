// LSTM, GRU, SimpleRNN and Bidirectional on the model side: Keras's arguments, defaults and
// weight shapes, argument checks naming the layer and the argument, summary(), Keras JSON
// (tf.keras 2.x and Keras 3 forms, Bidirectional's nested layer) both ways, Keras's own
// expected outputs (keras/src/layers/rnn/*_test.py) for the float64 reference and the ONNX
// export, and TensorFlow.js (an independent Keras implementation) as the oracle for JSON,
// counts and the forward pass.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfl from '@tensorflow/tfjs-layers';
import * as ort from 'onnxruntime-node';
import {
  Bidirectional, ConfigError, GRU, Input, LSTM, Model, Sequential, ShapeError, SimpleRNN, ValueError, initializers, modelFromJSON,
  type Layer,
} from '../../app/model/index.ts';
import { exportOnnx } from '../../app/translate/to_onnx.ts';
import { referencePredict } from '../reference/keras_forward.ts';
import { refused, rows, tfjsOracleTests } from './tfjs_oracle.ts';
import { relativeError } from '../translate/compare.ts';

await tf.setBackend('cpu');

/** A one-layer model on (steps, features). */
function single(layer: Layer, steps: number | null, features: number): Model {
  const x = Input({ shape: [steps, features], name: 'x' });
  return new Model({ inputs: x, outputs: layer.applyMultiOutput(x) });
}

/** Keras's test input: np.arange(n).reshape(shape). */
function arange(shape: number[]) {
  const n = shape.reduce((a, b) => a * b, 1);
  return { shape, data: Float64Array.from({ length: n }, (_, i) => i) };
}

/** The initializers Keras's correctness tests use: kernel 0.01, recurrent 0.02, bias 0.03. */
const KERAS_TEST_WEIGHTS = {
  kernelInitializer: new initializers.Constant({ value: 0.01 }),
  recurrentInitializer: new initializers.Constant({ value: 0.02 }),
  biasInitializer: new initializers.Constant({ value: 0.03 }),
};

describe('recurrent layers: Keras API', () => {
  test('weights and parameter counts as Keras builds them', () => {
    // LSTM: 4 * (units * (features + units) + units); GRU reset_after: 3 * units * (features + units) + 2 * 3 * units
    const lstm = new LSTM(16);
    single(lstm, 10, 8);
    assert.deepEqual(lstm.weights.map((w) => [w.name, w.shape]), [['kernel', [8, 64]], ['recurrent_kernel', [16, 64]], ['bias', [64]]]);
    assert.equal(lstm.countParams(), 4 * (16 * (8 + 16) + 16));
    const gru = new GRU(6);
    single(gru, 10, 16);
    assert.deepEqual(gru.weights.map((w) => [w.name, w.shape]), [['kernel', [16, 18]], ['recurrent_kernel', [6, 18]], ['bias', [2, 18]]]);
    assert.equal(gru.countParams(), 3 * 6 * (16 + 6) + 2 * 3 * 6);
    const gruBefore = new GRU(6, { resetAfter: false });
    single(gruBefore, 10, 16);
    assert.deepEqual(gruBefore.weights.map((w) => w.shape), [[16, 18], [6, 18], [18]]);
    const rnn = new SimpleRNN(4, { useBias: false });
    single(rnn, null, 3);
    assert.deepEqual(rnn.weights.map((w) => [w.name, w.shape]), [['kernel', [3, 4]], ['recurrent_kernel', [4, 4]]]);
    const bi = new Bidirectional(new LSTM(3, { name: 'lstm' }));
    single(bi, 5, 2);
    assert.deepEqual(bi.weights.map((w) => w.name), ['forward_lstm/kernel', 'forward_lstm/recurrent_kernel', 'forward_lstm/bias', 'backward_lstm/kernel', 'backward_lstm/recurrent_kernel', 'backward_lstm/bias']);
    assert.equal(bi.countParams(), 2 * 4 * (3 * (2 + 3) + 3));
  });

  test('output shapes: last step, sequences, states; Bidirectional merges', () => {
    const x = Input({ shape: [7, 5] });
    assert.deepEqual(new LSTM(4).apply(x).shape, [null, 4]);
    assert.deepEqual(new GRU(4, { returnSequences: true }).apply(x).shape, [null, 7, 4]);
    assert.deepEqual(new LSTM(4, { returnState: true }).applyMultiOutput(x).map((t) => t.shape), [[null, 4], [null, 4], [null, 4]]);
    assert.deepEqual(new GRU(3, { returnState: true, returnSequences: true }).applyMultiOutput(x).map((t) => t.shape), [[null, 7, 3], [null, 3]]);
    assert.deepEqual(new Bidirectional(new LSTM(4, { returnSequences: true })).apply(x).shape, [null, 7, 8]);
    assert.deepEqual(new Bidirectional(new GRU(4), { mergeMode: 'ave' }).apply(x).shape, [null, 4]);
    assert.deepEqual(new Bidirectional(new LSTM(2, { returnState: true })).applyMultiOutput(x).map((t) => t.shape), [[null, 4], [null, 2], [null, 2], [null, 2], [null, 2]]);
    refused(() => new LSTM(2, { returnState: true }).apply(x), ValueError, /has 3 outputs; use applyMultiOutput\(\)/);
  });

  test('defaults: tanh and sigmoid, glorot_uniform, orthogonal, zeros, unit_forget_bias, reset_after', () => {
    const lstm = new LSTM(3, { name: 'l' });
    const config = lstm.getConfig();
    assert.deepEqual([config.activation, config.recurrent_activation, config.use_bias, config.unit_forget_bias], ['tanh', 'sigmoid', true, true]);
    assert.deepEqual(config.kernel_initializer, { class_name: 'GlorotUniform', config: { seed: null } });
    assert.deepEqual(config.recurrent_initializer, { class_name: 'Orthogonal', config: { gain: 1, seed: null } });
    assert.deepEqual(config.bias_initializer, { class_name: 'Zeros', config: {} });
    assert.deepEqual([config.return_sequences, config.return_state, config.go_backwards], [false, false, false]);
    assert.equal(new GRU(3).getConfig().reset_after, true);
    // unit_forget_bias: the forget gate's block (the second) starts at one
    single(lstm, 2, 2);
    assert.deepEqual(Array.from(lstm.weights[2]!.value), [0, 0, 0, 1, 1, 1, 0, 0, 0, 0, 0, 0]);
  });

  test('Orthogonal: orthonormal rows or columns (the shorter side), times gain, seeded', () => {
    for (const [rows, cols] of [[6, 6], [8, 3], [3, 8]] as const) {
      const w = new initializers.Orthogonal({ gain: 2, seed: 7 }).generate([rows, cols]);
      const tall = rows >= cols;
      const [n, len] = tall ? [cols, rows] : [rows, cols];
      const at = (vector: number, i: number) => (tall ? w[i * cols + vector]! : w[vector * cols + i]!);
      for (let a = 0; a < n; a++) {
        for (let b = 0; b < n; b++) {
          let dot = 0;
          for (let i = 0; i < len; i++) dot += at(a, i) * at(b, i);
          assert.ok(Math.abs(dot - (a === b ? 4 : 0)) < 1e-5, `${rows}x${cols}: <${a}, ${b}> = ${dot}`);
        }
      }
      assert.deepEqual(w, new initializers.Orthogonal({ gain: 2, seed: 7 }).generate([rows, cols]));
    }
  });

  test('bad arguments and inputs are errors naming the layer and the argument', () => {
    refused(() => new LSTM(0, { name: 'l' }), ValueError, /^l: units must be a positive integer, got 0/);
    refused(() => new GRU(2.5, { name: 'g' }), ValueError, /^g: units must be a positive integer, got 2.5/);
    refused(() => new LSTM(2, { return_sequences: true } as never), ValueError, /^LSTM: unknown option "return_sequences" \(did you mean returnSequences\?\)/);
    refused(() => new SimpleRNN(2, { recurrentActivation: 'sigmoid' } as never), ValueError, /^SimpleRNN: unknown option "recurrentActivation"/);
    refused(() => new LSTM(2, { resetAfter: true } as never), ValueError, /^LSTM: unknown option "resetAfter"/);
    refused(() => new LSTM(2, { activation: 'tanh2', name: 'l' }), ValueError, /^l\.activation: unknown activation "tanh2"/);
    refused(() => new LSTM(2, { dropout: 0.2, name: 'l' }), ValueError, /^l: dropout = 0.2 is not supported \(only 0\); put a Dropout layer before/);
    refused(() => new GRU(2, { recurrentDropout: 0.1, name: 'g' }), ValueError, /^g: recurrent_dropout = 0.1 is not supported/);
    refused(() => new LSTM(2, { stateful: true, name: 'l' }), ValueError, /^l: stateful = true is not supported/);
    refused(() => new LSTM(2, { returnSequences: 'yes' as never, name: 'l' }), ValueError, /^l: return_sequences must be true or false, got "yes"/);
    refused(() => new LSTM(2, { name: 'l' }).apply(Input({ shape: [5] })), ShapeError, /^l: expected a 3-D input \(batch, steps, features\) with known features, got \(None, 5\)/);
    refused(() => new GRU(2, { name: 'g' }).apply(Input({ shape: [4, null] })), ShapeError, /^g: expected a 3-D input .* got \(None, 4, None\)/);
    const shared = new SimpleRNN(2, { name: 'shared' });
    shared.apply(Input({ shape: [3, 4] }));
    refused(() => shared.apply(Input({ shape: [3, 5] })), ShapeError, /^shared: built for 4 input features, got an input of shape \(None, 3, 5\)/);
    refused(() => new Bidirectional(new LSTM(2), { mergeMode: 'max' as never, name: 'bi' }), ValueError, /^bi: merge_mode must be one of "concat", "sum", "mul", "ave", got "max"/);
    refused(() => new Bidirectional({} as never, { name: 'bi' }), ValueError, /^bi: wraps an LSTM, GRU or SimpleRNN layer, got Object/);
    refused(() => new Bidirectional(shared, { name: 'bi' }), ValueError, /^bi: the wrapped layer shared is already used in a model/);
  });

  test("summary() lists them with Keras's shapes and parameter counts", () => {
    const model = new Sequential([
      new LSTM(16, { inputShape: [10, 8], returnSequences: true, name: 'lstm' }),
      new Bidirectional(new GRU(6, { resetAfter: false }), { name: 'bi' }),
    ], { name: 'recurrent' });
    const text = model.summary({ printFn: () => {} });
    // 4 * (16 * (8 + 16) + 16) = 1600; 2 * 3 * (6 * (16 + 6) + 6) = 828
    assert.match(text, /│ lstm \(LSTM\)\s+│ \(None, 10, 16\)\s+│\s+1,600 │/);
    assert.match(text, /│ bi \(Bidirectional\)\s+│ \(None, 12\)\s+│\s+828 │/);
    assert.match(text, /Total params: 2,428 \(9\.48 KB\)/);
  });
});

describe("Keras's own expected outputs (keras/src/layers/rnn/*_test.py, test_correctness)", () => {
  // sequence = np.arange(72).reshape((3, 6, 4)) (LSTM, GRU) or np.arange(24).reshape((2, 3, 4)) (SimpleRNN);
  // kernel Constant(0.01), recurrent Constant(0.02), bias Constant(0.03); every unit equal, so one column each.
  const cases: [string, () => Layer, number[], number[]][] = [
    ['LSTM', () => new LSTM(3, KERAS_TEST_WEIGHTS), [3, 6, 4], [0.6288687, 0.86899155, 0.9460773]],
    ['LSTM go_backwards', () => new LSTM(3, { ...KERAS_TEST_WEIGHTS, goBackwards: true }), [3, 6, 4], [0.35622165, 0.74789524, 0.8872726]],
    ['LSTM unit_forget_bias=False', () => new LSTM(3, { ...KERAS_TEST_WEIGHTS, unitForgetBias: false }), [3, 6, 4], [0.57019705, 0.8661914, 0.9459622]],
    ['LSTM use_bias=False', () => new LSTM(3, { ...KERAS_TEST_WEIGHTS, useBias: false }), [3, 6, 4], [0.54986924, 0.86226785, 0.9443936]],
    ['GRU', () => new GRU(3, KERAS_TEST_WEIGHTS), [3, 6, 4], [0.5217289, 0.6371659, 0.39384964]],
    ['GRU go_backwards', () => new GRU(3, { ...KERAS_TEST_WEIGHTS, goBackwards: true }), [3, 6, 4], [0.24406259, 0.611516, 0.3928808]],
    ['GRU reset_after=False', () => new GRU(3, { ...KERAS_TEST_WEIGHTS, resetAfter: false }), [3, 6, 4], [0.51447755, 0.6426879, 0.40208298]],
    ['GRU use_bias=False', () => new GRU(3, { ...KERAS_TEST_WEIGHTS, useBias: false }), [3, 6, 4], [0.49988455, 0.64701194, 0.4103359]],
    ['SimpleRNN', () => new SimpleRNN(4, KERAS_TEST_WEIGHTS), [2, 3, 4], [0.405432, 0.73605347]],
    ['SimpleRNN go_backwards', () => new SimpleRNN(4, { ...KERAS_TEST_WEIGHTS, goBackwards: true }), [2, 3, 4], [0.11144729, 0.5528889]],
  ];
  for (const [name, make, shape, perSample] of cases) {
    test(`${name}: the reference and onnxruntime give Keras's values`, async () => {
      const layer = make();
      const model = single(layer, shape[1]!, shape[2]!);
      const units = (layer as LSTM).units;
      const expected = perSample.flatMap((v) => Array<number>(units).fill(v));
      const [reference] = referencePredict(model, [arange(shape)]);
      assert.ok(relativeError(reference!.data, expected) < 1e-6, `${name} reference: ${Array.from(reference!.data)}`);
      const session = await ort.InferenceSession.create(exportOnnx(model));
      const result = await session.run({ [session.inputNames[0]!]: new ort.Tensor('float32', Float32Array.from(arange(shape).data), shape) });
      assert.ok(relativeError(result[session.outputNames[0]!]!.data as Float32Array, expected) < 1e-6, `${name} onnxruntime`);
      await session.release();
    });
  }
});

describe('recurrent layers: Keras JSON', () => {
  const model = () => {
    const x = Input({ shape: [12, 5], name: 'seq' });
    let y = new LSTM(8, { returnSequences: true, goBackwards: true, unitForgetBias: false, recurrentInitializer: 'glorot_normal', name: 'lstm' }).apply(x);
    y = new Bidirectional(new GRU(4, { resetAfter: false, returnSequences: true, activation: 'relu', name: 'gru' }), { mergeMode: 'sum', name: 'bi' }).apply(y);
    y = new SimpleRNN(3, { useBias: false, unroll: true, name: 'rnn' }).apply(y);
    return new Model({ inputs: x, outputs: y, name: 'recurrent_json' });
  };

  test('round trip keeps every argument and the counts', () => {
    const original = model();
    const json = original.toJSON();
    const loaded = modelFromJSON(json);
    assert.equal(loaded.toJSON(), json);
    assert.deepEqual(rows(loaded), rows(original));
    const states = single(new LSTM(2, { returnState: true, name: 's' }), 3, 2);
    assert.deepEqual(rows(modelFromJSON(states.toJSON())), rows(states));
  });

  test("tf.keras 2.x's key order: the base layer's, the RNN's, then the cell's; Bidirectional nests its layer", () => {
    const layers = JSON.parse(model().toJSON()).config.layers;
    // tf.keras 2.15 LSTM.get_config: RNN's config without "cell", then the cell's keys
    assert.deepEqual(Object.keys(layers[1].config), [
      'name', 'trainable', 'dtype', 'return_sequences', 'return_state', 'go_backwards', 'stateful', 'unroll', 'time_major', 'units', 'activation',
      'recurrent_activation', 'use_bias', 'kernel_initializer', 'recurrent_initializer', 'bias_initializer', 'unit_forget_bias', 'kernel_regularizer',
      'recurrent_regularizer', 'bias_regularizer', 'activity_regularizer', 'kernel_constraint', 'recurrent_constraint', 'bias_constraint', 'dropout',
      'recurrent_dropout', 'implementation',
    ]);
    assert.deepEqual(Object.keys(layers[2].config), ['name', 'trainable', 'dtype', 'layer', 'merge_mode', 'backward_layer']);
    assert.equal(layers[2].config.layer.class_name, 'GRU');
    assert.equal(layers[2].config.layer.config.name, 'forward_gru');
    assert.deepEqual([layers[2].config.backward_layer.config.name, layers[2].config.backward_layer.config.go_backwards], ['backward_gru', true]);
    assert.deepEqual(Object.keys(layers[2].config.layer.config).slice(-2), ['implementation', 'reset_after']);
    assert.ok(!('recurrent_activation' in layers[3].config) && !('implementation' in layers[3].config));
  });

  test('Keras 3 config.json form: module, registered_name, DTypePolicy, seed, build_config; Bidirectional without backward_layer', () => {
    const policy = { module: 'keras', class_name: 'DTypePolicy', config: { name: 'float32' }, registered_name: null };
    const init = (class_name: string, config: Record<string, unknown>) => ({ module: 'keras.initializers', class_name, config, registered_name: null });
    const lstmConfig = {
      name: 'lstm', trainable: true, dtype: policy, return_sequences: true, return_state: false, go_backwards: false, stateful: false, unroll: false,
      zero_output_for_mask: false, units: 4, activation: 'tanh', recurrent_activation: 'sigmoid', use_bias: true,
      kernel_initializer: init('GlorotUniform', { seed: null }), recurrent_initializer: init('Orthogonal', { gain: 1.0, seed: null }), bias_initializer: init('Zeros', {}),
      unit_forget_bias: true, kernel_regularizer: null, recurrent_regularizer: null, bias_regularizer: null, activity_regularizer: null,
      kernel_constraint: null, recurrent_constraint: null, bias_constraint: null, dropout: 0.0, recurrent_dropout: 0.0, seed: null,
    };
    const { unit_forget_bias: _, ...gruBase } = lstmConfig;
    const gruConfig = { ...gruBase, name: 'forward_gru', return_sequences: false, units: 2, reset_after: true };
    const keras3 = {
      module: 'keras', class_name: 'Sequential', registered_name: null,
      config: {
        name: 'k3', trainable: true, dtype: policy,
        layers: [
          { module: 'keras.layers', class_name: 'InputLayer', registered_name: null, config: { batch_shape: [null, 9, 3], dtype: 'float32', sparse: false, name: 'input_layer' } },
          { module: 'keras.layers', class_name: 'LSTM', registered_name: null, build_config: { input_shape: [null, 9, 3] }, config: lstmConfig },
          {
            module: 'keras.layers', class_name: 'Bidirectional', registered_name: null, build_config: { input_shape: [null, 9, 4] },
            config: { name: 'bidirectional', trainable: true, dtype: policy, merge_mode: 'concat', layer: { module: 'keras.layers', class_name: 'GRU', registered_name: null, config: gruConfig } },
          },
        ],
        build_input_shape: [null, 9, 3],
      },
    };
    assert.deepEqual(rows(modelFromJSON(keras3)), [
      ['lstm', 'LSTM', [null, 9, 4], 4 * (4 * (3 + 4) + 4)],
      ['bidirectional', 'Bidirectional', [null, 4], 2 * (3 * 2 * (4 + 2) + 2 * 3 * 2)],
    ]);
    const bi = modelFromJSON(keras3).layers[1] as Bidirectional;
    assert.deepEqual([bi.forwardLayer.name, bi.backwardLayer.name], ['forward_gru', 'backward_gru']);
  });

  test('what Strata cannot represent is refused by name', () => {
    const withConfig = (index: number, patch: Record<string, unknown>) => {
      const json = JSON.parse(model().toJSON());
      Object.assign(json.config.layers[index].config, patch);
      return json;
    };
    refused(() => modelFromJSON(withConfig(1, { dropout: 0.5 })), ConfigError, /lstm \(LSTM\): "dropout" = 0.5 is not supported/);
    refused(() => modelFromJSON(withConfig(1, { stateful: true })), ConfigError, /lstm \(LSTM\): "stateful" = true is not supported/);
    refused(() => modelFromJSON(withConfig(1, { time_major: true })), ConfigError, /lstm \(LSTM\): "time_major" = true is not supported/);
    refused(() => modelFromJSON(withConfig(1, { recurrent_regularizer: { class_name: 'L2', config: { l2: 0.01 } } })), ConfigError, /lstm \(LSTM\): "recurrent_regularizer" = .* is not supported/);
    refused(() => modelFromJSON(withConfig(1, { reset_after: true })), ConfigError, /lstm \(LSTM\): unsupported config key "reset_after"/);
    refused(() => modelFromJSON(withConfig(3, { implementation: 2 })), ConfigError, /rnn \(SimpleRNN\): unsupported config key "implementation"/);
    refused(() => modelFromJSON(withConfig(2, { merge_mode: null })), ConfigError, /bi \(Bidirectional\): merge_mode null .* is not supported/);
    refused(() => modelFromJSON(withConfig(2, { layer: { class_name: 'Dense', config: { units: 3 } } })), ConfigError, /bi \(Bidirectional\): "layer" must be an LSTM, GRU or SimpleRNN, got Dense/);
    const backward = JSON.parse(model().toJSON()).config.layers[2].config.backward_layer;
    refused(() => modelFromJSON(withConfig(2, { backward_layer: { ...backward, config: { ...backward.config, units: 5 } } })), ConfigError, /bi \(Bidirectional\): a backward_layer that differs from the forward layer/);
  });
});

describe('TensorFlow.js as the oracle', () => {
  // TensorFlow.js's GRU has no reset_after (tfjs-layers 4.x GRUCell refuses it), its
  // Orthogonal initializer needs ops this build lacks, and its LSTM and GRU default to
  // hard_sigmoid gates (0.2 x + 0.5, tf.keras 2.x's; Strata's is Keras 3's x / 6 + 0.5):
  // reset_after=False, glorot weights and sigmoid gates here.
  const reference = () => {
    const x = tfl.input({ shape: [6, 3], name: 'seq' });
    const ri = 'glorotUniform' as const;
    let y = tfl.layers.lstm({ units: 5, returnSequences: true, recurrentInitializer: ri, recurrentActivation: 'sigmoid', name: 'lstm' }).apply(x) as tfl.SymbolicTensor;
    y = tfl.layers.bidirectional({ layer: tfl.layers.gru({ units: 3, returnSequences: true, recurrentInitializer: ri, recurrentActivation: 'sigmoid', name: 'gru' }) as never, mergeMode: 'concat', name: 'bi' }).apply(y) as tfl.SymbolicTensor;
    y = tfl.layers.simpleRNN({ units: 4, goBackwards: true, recurrentInitializer: ri, name: 'rnn' }).apply(y) as tfl.SymbolicTensor;
    return tfl.model({ inputs: x, outputs: y, name: 'tfjs_recurrent' });
  };

  tfjsOracleTests(reference, [2, 6, 3], 13);
});
