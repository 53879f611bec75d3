// Keras's weight regularizers (L1, L2, L1L2) and constraints (MaxNorm, NonNeg, UnitNorm,
// MinMaxNorm) on Dense and Conv2D, and activity_regularizer: Keras's names, defaults and
// serialized forms (tf.keras's {"class_name", "config"}, Keras 3's module form, TensorFlow.js's)
// both ways, checks naming the layer and key, and on the engine one SGD step against numbers
// computed here by hand in float64: fit's loss adds the penalties, the gradient theirs, and the
// constraint projects the updated kernel (Keras 3's formulas, keras/src/regularizers and
// keras/src/constraints).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import * as tfl from '@tensorflow/tfjs-layers';
import '@tensorflow/tfjs-backend-cpu';
import { ConfigError, Dense, Input, Model, Sequential, ValueError, constraints, layers, modelFromJSON, regularizers } from '../../app/model/index.ts';
import { EngineBackend, optimizers, type ArrayData } from '../../app/node.ts';
import { RandomGenerator } from '../../app/model/random.ts';
import { translateModel } from '../../app/translate/to_onnx.ts';

const refused = (run: () => unknown, Kind: typeof ValueError | typeof ConfigError, pattern: RegExp) =>
  assert.throws(run, (e: Error) => e instanceof Kind && pattern.test(e.message));

describe('regularizers and constraints: Keras API and JSON', () => {
  test('Keras\'s names and defaults (keras.regularizers.get, keras.constraints.get)', () => {
    const dense = (args: object) => new Dense(2, args).getConfig();
    assert.deepEqual(dense({ kernelRegularizer: 'l2' }).kernel_regularizer, { class_name: 'L2', config: { l2: 0.01 } });
    assert.deepEqual(dense({ kernelRegularizer: 'l1' }).kernel_regularizer, { class_name: 'L1', config: { l1: 0.01 } });
    // Keras 3's L1L2 defaults to 0 and 0 (tf.keras 2.x's l1_l2() function took 0.01)
    assert.deepEqual(dense({ biasRegularizer: 'l1_l2' }).bias_regularizer, { class_name: 'L1L2', config: { l1: 0, l2: 0 } });
    assert.deepEqual(dense({ activityRegularizer: regularizers.l1L2({ l1: 0.1, l2: 0.2 }) }).activity_regularizer, { class_name: 'L1L2', config: { l1: 0.1, l2: 0.2 } });
    assert.deepEqual(dense({ kernelConstraint: 'max_norm' }).kernel_constraint, { class_name: 'MaxNorm', config: { max_value: 2, axis: 0 } });
    assert.deepEqual(dense({ kernelConstraint: 'non_neg' }).kernel_constraint, { class_name: 'NonNeg', config: {} });
    assert.deepEqual(dense({ kernelConstraint: 'unit_norm' }).kernel_constraint, { class_name: 'UnitNorm', config: { axis: 0 } });
    assert.deepEqual(dense({ biasConstraint: 'min_max_norm' }).bias_constraint, { class_name: 'MinMaxNorm', config: { min_value: 0, max_value: 1, rate: 1, axis: 0 } });
    assert.deepEqual(dense({ kernelConstraint: constraints.maxNorm({ maxValue: 3, axis: [0, 1, 2] }) }).kernel_constraint, { class_name: 'MaxNorm', config: { max_value: 3, axis: [0, 1, 2] } });
    assert.deepEqual(dense({}).kernel_regularizer, null);
  });

  test('bad values are errors naming the layer, the key and what is valid', () => {
    refused(() => new Dense(2, { kernelRegularizer: 'l3', name: 'd' }), ConfigError, /^d\.kernel_regularizer: unknown regularizer "l3"; supported: L1, l1, L2, l2, L1L2, l1_l2$/);
    refused(() => new Dense(2, { kernelRegularizer: regularizers.l2(-1), name: 'd' }), ValueError, /^L2: l2 must be a number >= 0, got -1/);
    refused(() => new Dense(2, { kernelRegularizer: { class_name: 'L2', config: { l1: 0.1 } }, name: 'd' }), ConfigError, /^d\.kernel_regularizer: L2 takes l2, not "l1"$/);
    refused(() => new Dense(2, { kernelConstraint: 'radial', name: 'd' }), ConfigError, /^d\.kernel_constraint: unknown constraint "radial"/);
    refused(() => new Dense(2, { kernelConstraint: { class_name: 'MaxNorm', config: { max_value: -1 } }, name: 'd' }), ValueError, /^d\.kernel_constraint: max_value must be a number >= 0, got -1/);
    refused(() => new Dense(2, { kernelConstraint: { class_name: 'MinMaxNorm', config: { rate: 2 } }, name: 'd' }), ValueError, /^d\.kernel_constraint: rate must be in \[0, 1\], got 2/);
    refused(() => new Dense(2, { kernelConstraint: { class_name: 'UnitNorm', config: { axis: 'rows' } }, name: 'd' }), ValueError, /^d\.kernel_constraint: axis must be an integer or a list of integers, got "rows"/);
    refused(() => new Dense(2, { kernelConstraint: { class_name: 'NonNeg', config: { axis: 0 } }, name: 'd' }), ConfigError, /^d\.kernel_constraint: NonNeg takes no arguments, not "axis"/);
  });

  test('Keras JSON both ways: tf.keras\'s form, Keras 3\'s module form, and TensorFlow.js\'s', async () => {
    const model = new Sequential([
      new layers.Conv2D(4, 3, { inputShape: [6, 6, 2], kernelRegularizer: regularizers.l2(0.001), kernelConstraint: constraints.maxNorm({ maxValue: 2, axis: [0, 1, 2] }), name: 'conv' }),
      new layers.Flatten({ name: 'flat' }),
      new layers.Dense(3, { biasRegularizer: 'l1', activityRegularizer: regularizers.l1L2({ l2: 0.01 }), biasConstraint: 'non_neg', name: 'dense' }),
    ], { name: 'rules' });
    const json = model.toJSON();
    assert.equal(modelFromJSON(json).toJSON(), json);
    const parsed = JSON.parse(json);
    const dense = parsed.config.layers.find((l: { config: { name: string } }) => l.config.name === 'dense').config;
    dense.kernel_regularizer = { module: 'keras.regularizers', class_name: 'L2', config: { l2: 0.05 }, registered_name: null };
    dense.kernel_constraint = { module: 'keras.constraints', class_name: 'UnitNorm', config: { axis: -1 }, registered_name: null };
    const loaded = modelFromJSON(parsed).getLayer('dense') as Dense;
    assert.deepEqual(loaded.rules.kernelRegularizer, { className: 'L2', l1: 0, l2: 0.05 });
    assert.deepEqual(loaded.rules.kernelConstraint!.axis, [-1]);
    dense.kernel_regularizer = 42;
    refused(() => modelFromJSON(parsed), ConfigError, /dense \(Dense\): "kernel_regularizer" must be null, a name or \{"class_name", "config"\}, got 42/);

    // TensorFlow.js writes L1L2 for every regularizer and its constraints in snake_case
    const x = tfl.input({ shape: [5], name: 'x' });
    const y = tfl.layers.dense({ units: 3, kernelRegularizer: tfl.regularizers.l2({ l2: 0.02 }), kernelConstraint: tfl.constraints.maxNorm({ maxValue: 1.5, axis: 0 }), name: 'd' }).apply(x) as tfl.SymbolicTensor;
    const reference = tfl.model({ inputs: x, outputs: y, name: 'tfjs_rules' });
    const fromTfjs = modelFromJSON(reference.toJSON(null, false) as unknown as Record<string, unknown>).getLayer('d') as Dense;
    assert.deepEqual(fromTfjs.rules.kernelRegularizer, { className: 'L1L2', l1: 0, l2: 0.02 });
    assert.deepEqual(fromTfjs.rules.kernelConstraint, { className: 'MaxNorm', axis: [0], minValue: 0, maxValue: 1.5, rate: 1 });
    const reread = await tfl.models.modelFromJSON({ modelTopology: JSON.parse(modelFromJSON(reference.toJSON(null, false) as unknown as Record<string, unknown>).toJSON()) });
    assert.deepEqual(reread.layers[1]!.getConfig().kernel_regularizer, reference.layers[1]!.getConfig().kernel_regularizer);
  });
});

describe('regularizers and constraints on the engine', () => {
  const engine = new EngineBackend({ write: () => {} });

  /** x (4, 3), y (4, 2), a Dense (3 -> 2) with the given rules, its weights set. */
  function setup(args: object) {
    const rng = new RandomGenerator(17);
    const x = Float64Array.from({ length: 12 }, () => rng.uniform() * 2 - 1);
    const y = Float64Array.from({ length: 8 }, () => rng.uniform() * 2 - 1);
    const kernel = Float32Array.from({ length: 6 }, () => rng.uniform() * 2 - 1);
    const bias = Float32Array.from([0.3, -0.2]);
    const input = Input({ shape: [3], name: 'x' });
    const model = new Model({ inputs: input, outputs: new Dense(2, { ...args, name: 'd' }).apply(input), name: 'ruled' });
    model.setWeights([kernel, bias]);
    model.compile({ optimizer: new optimizers.SGD({ learningRate: 0.1 }), loss: 'mean_squared_error' });
    const feeds: [ArrayData[], ArrayData[]] = [[{ dtype: 'float32', shape: [4, 3], data: Float32Array.from(x) }], [{ dtype: 'float32', shape: [4, 2], data: Float32Array.from(y) }]];
    return { model, x, y, kernel: Float64Array.from(kernel), bias: Float64Array.from(bias), feeds };
  }

  /** The Dense's output and MSE's gradients, in float64. */
  function denseByHand(x: Float64Array, y: Float64Array, kernel: Float64Array, bias: Float64Array) {
    const out = new Float64Array(8);
    for (let n = 0; n < 4; n++) for (let j = 0; j < 2; j++) out[n * 2 + j] = bias[j]! + [0, 1, 2].reduce((s, i) => s + x[n * 3 + i]! * kernel[i * 2 + j]!, 0);
    const mse = out.reduce((s, v, k) => s + (v - y[k]!) ** 2, 0) / 8;
    const dout = out.map((v, k) => (2 * (v - y[k]!)) / 8);
    const dkernel = new Float64Array(6);
    for (let i = 0; i < 3; i++) for (let j = 0; j < 2; j++) dkernel[i * 2 + j] = [0, 1, 2, 3].reduce((s, n) => s + x[n * 3 + i]! * dout[n * 2 + j]!, 0);
    const dbias = Float64Array.from([0, 1], (j) => [0, 1, 2, 3].reduce((s, n) => s + dout[n * 2 + j]!, 0));
    return { out, mse, dkernel, dbias };
  }

  test('fit\'s loss adds l1 sum|w| + l2 sum w^2 and the activity penalty; one SGD step moves the weights by their gradients, computed here by hand', async () => {
    const { model, x, y, kernel, bias, feeds } = setup({ kernelRegularizer: regularizers.l1L2({ l1: 0.01, l2: 0.05 }), biasRegularizer: regularizers.l2(0.1), activityRegularizer: regularizers.l1(0.02) });
    const history = await engine.fit(model, ...feeds, { epochs: 1, batchSize: 4, shuffle: false, seed: 1 });
    const { out, mse, dkernel, dbias } = denseByHand(x, y, kernel, bias);
    const penalty = kernel.reduce((s, v) => s + 0.01 * Math.abs(v) + 0.05 * v * v, 0) + bias.reduce((s, v) => s + 0.1 * v * v, 0) + out.reduce((s, v) => s + 0.02 * Math.abs(v), 0);
    const loss = (history.history.loss as number[])[0]!;
    assert.ok(Math.abs(loss - (mse + penalty)) < 1e-5, `fit's loss ${loss}, by hand ${mse} + ${penalty}`);
    // the activity penalty's gradient on the output: 0.02 sign(out), through to kernel and bias
    const dact = out.map((v) => 0.02 * Math.sign(v));
    const wantKernel = kernel.map((w, k) => {
      const [i, j] = [Math.floor(k / 2), k % 2];
      const activity = [0, 1, 2, 3].reduce((s, n) => s + x[n * 3 + i]! * dact[n * 2 + j]!, 0);
      return w - 0.1 * (dkernel[k]! + 0.01 * Math.sign(w) + 0.1 * w + activity);
    });
    const wantBias = bias.map((b, j) => b - 0.1 * (dbias[j]! + 0.2 * b + [0, 1, 2, 3].reduce((s, n) => s + dact[n * 2 + j]!, 0)));
    const [gotKernel, gotBias] = model.getWeights();
    wantKernel.forEach((w, k) => assert.ok(Math.abs(gotKernel![k]! - w) < 1e-6, `kernel[${k}] ${gotKernel![k]} vs ${w}`));
    wantBias.forEach((b, j) => assert.ok(Math.abs(gotBias![j]! - b) < 1e-6, `bias[${j}] ${gotBias![j]} vs ${b}`));
  });

  test('a MaxNorm kernel constraint projects the updated kernel: each column (Keras\'s axis 0) to norm <= max_value', async () => {
    const { model, x, y, kernel, bias, feeds } = setup({ kernelConstraint: constraints.maxNorm({ maxValue: 0.5 }), biasConstraint: 'non_neg' });
    await engine.fit(model, ...feeds, { epochs: 1, batchSize: 4, shuffle: false, seed: 1 });
    const { dkernel, dbias } = denseByHand(x, y, kernel, bias);
    const stepped = kernel.map((w, k) => w - 0.1 * dkernel[k]!);
    const want = new Float64Array(6);
    for (let j = 0; j < 2; j++) {
      const norm = Math.sqrt([0, 1, 2].reduce((s, i) => s + stepped[i * 2 + j]! ** 2, 0));
      for (let i = 0; i < 3; i++) want[i * 2 + j] = (stepped[i * 2 + j]! * Math.min(norm, 0.5)) / (1e-7 + norm);
    }
    const [gotKernel, gotBias] = model.getWeights();
    want.forEach((w, k) => assert.ok(Math.abs(gotKernel![k]! - w) < 1e-6, `kernel[${k}] ${gotKernel![k]} vs ${w}`));
    bias.forEach((b, j) => assert.ok(Math.abs(gotBias![j]! - Math.max(0, b - 0.1 * dbias[j]!)) < 1e-6));
  });

  test('a Conv2D kernel\'s constraint over Keras\'s axes [0, 1, 2] is a norm per filter in the engine\'s OIHW layout; axes it cannot view are refused by name', async () => {
    const image = Input({ shape: [5, 5, 2], name: 'image' });
    const ok = new Model({ inputs: image, outputs: new layers.Conv2D(3, 3, { kernelConstraint: constraints.unitNorm({ axis: [0, 1, 2] }), name: 'conv' }).apply(image), name: 'unit' });
    ok.compile({ optimizer: 'sgd', loss: 'mean_squared_error' });
    const rng = new RandomGenerator(3);
    const xs: ArrayData = { dtype: 'float32', shape: [2, 5, 5, 2], data: Float32Array.from({ length: 100 }, () => rng.normal()) };
    const ys: ArrayData = { dtype: 'float32', shape: [2, 3, 3, 3], data: Float32Array.from({ length: 54 }, () => rng.normal()) };
    await engine.fit(ok, [xs], [ys], { epochs: 1, batchSize: 2, seed: 1 });
    const [kernel] = ok.getWeights(); // (3, 3, 2, 3): each filter's 18 values have norm 1
    for (let f = 0; f < 3; f++) {
      const norm = Math.sqrt(Array.from({ length: 18 }, (_, k) => kernel![k * 3 + f]! ** 2).reduce((a, b) => a + b, 0));
      assert.ok(Math.abs(norm - 1) < 1e-5, `filter ${f}: norm ${norm}`);
    }
    const bad = new Model({ inputs: image, outputs: new layers.Conv2D(3, 3, { kernelConstraint: constraints.maxNorm({ axis: [0, 3] }), name: 'conv' }).apply(image), name: 'bad' });
    bad.compile({ optimizer: 'sgd', loss: 'mean_squared_error' });
    await assert.rejects(engine.fit(bad, [xs], [ys], { epochs: 1, seed: 1 }), /^ValueError: conv: the kernel's MaxNorm over axis \[0,3\] of shape \[3, 3, 2, 3\] needs adjacent axes/);
  });

  test('Conv1D\'s (k, in, out) kernel over axes [0, 1] and Conv2DTranspose\'s (kh, kw, filters, in) over [0, 1, 2] are norms per filter and per input channel', async () => {
    const rng = new RandomGenerator(5);
    const normal = (n: number) => Float32Array.from({ length: n }, () => rng.normal());
    const signal = Input({ shape: [6, 2], name: 'signal' });
    const conv1d = new Model({ inputs: signal, outputs: new layers.Conv1D(4, 3, { kernelConstraint: constraints.unitNorm({ axis: [0, 1] }), name: 'conv' }).apply(signal), name: 'c1' });
    conv1d.compile({ optimizer: 'sgd', loss: 'mean_squared_error' });
    await engine.fit(conv1d, [{ dtype: 'float32', shape: [2, 6, 2], data: normal(24) }], [{ dtype: 'float32', shape: [2, 4, 4], data: normal(32) }], { epochs: 1, batchSize: 2, seed: 1 });
    const [k1] = conv1d.getWeights(); // (3, 2, 4): each filter's 6 values have norm 1
    for (let f = 0; f < 4; f++) {
      const norm = Math.hypot(...Array.from({ length: 6 }, (_, i) => k1![i * 4 + f]!));
      assert.ok(Math.abs(norm - 1) < 1e-5, `Conv1D filter ${f}: norm ${norm}`);
    }
    const image = Input({ shape: [3, 3, 2], name: 'image' });
    const up = new Model({ inputs: image, outputs: new layers.Conv2DTranspose(3, 2, { strides: 2, kernelConstraint: constraints.unitNorm({ axis: [0, 1, 2] }), name: 'up' }).apply(image), name: 'up' });
    up.compile({ optimizer: 'sgd', loss: 'mean_squared_error' });
    await engine.fit(up, [{ dtype: 'float32', shape: [2, 3, 3, 2], data: normal(36) }], [{ dtype: 'float32', shape: [2, 6, 6, 3], data: normal(216) }], { epochs: 1, batchSize: 2, seed: 1 });
    const [k2] = up.getWeights(); // (2, 2, 3, 2): for each input channel, its 12 values have norm 1
    for (let c = 0; c < 2; c++) {
      const norm = Math.hypot(...Array.from({ length: 12 }, (_, i) => k2![i * 2 + c]!));
      assert.ok(Math.abs(norm - 1) < 1e-5, `Conv2DTranspose input channel ${c}: norm ${norm}`);
    }
  });

  test('activity_regularizer is an ActivityRegularization op after the layer only in the engine\'s translation; the exported file has none', () => {
    const { model } = setup({ activityRegularizer: 'l2' });
    const forEngine = translateModel(model, { trainingOps: true }).proto.graph!;
    assert.deepEqual(forEngine.node!.map((n) => n.opType), ['Gemm', 'ActivityRegularization']);
    assert.equal(forEngine.node!.at(-1)!.output![0], 'd');
    assert.deepEqual(translateModel(model).proto.graph!.node!.map((n) => n.opType), ['Gemm']);
  });
});
