// GaussianNoise, GaussianDropout, SpatialDropout2D and ActivityRegularization: Keras's arguments
// and defaults (keras/src/layers/regularization/), argument checks naming the layer and argument,
// summary() (no weights, the input's shape), Keras JSON both ways (TensorFlow.js as the oracle for
// the two it has), Identity in an exported ONNX file and Strata's own ops only in the engine's
// translation; on the engine: the identity in predict(), ActivityRegularization's penalty in
// evaluate()'s loss as Keras 3 adds it, and a model with every one of them trains.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import * as tfl from '@tensorflow/tfjs-layers';
import '@tensorflow/tfjs-backend-cpu';
import {
  ActivityRegularization, ConfigError, GaussianDropout, GaussianNoise, Input, Model, Sequential, ShapeError, SpatialDropout2D, ValueError, layers, modelFromJSON, summaryData,
} from '../../app/model/index.ts';
import { EngineBackend, optimizers, setRandomSeed, type ArrayData } from '../../app/node.ts';
import { RandomGenerator } from '../../app/model/random.ts';
import { decodeModel, type NodeProto } from '../../app/onnx/schema.ts';
import { exportOnnx, modelToOnnx, translateModel } from '../../app/translate/to_onnx.ts';
import { STRATA_DOMAIN } from '../../app/translate/layer_table.ts';
import { denseForward, referencePredict } from '../reference/keras_forward.ts';
import { relativeError } from '../translate/compare.ts';

const refused = (run: () => unknown, Kind: typeof ValueError | typeof ShapeError | typeof ConfigError, pattern: RegExp) =>
  assert.throws(run, (e: Error) => e instanceof Kind && pattern.test(e.message));

const base = (name: string) => ({ name, trainable: true, dtype: 'float32' });

/** Images through every training-only layer, then a Dense head. */
function noisyModel(): Model {
  const image = Input({ shape: [4, 4, 3], name: 'image' });
  let h = new GaussianNoise(0.3, { name: 'noise' }).apply(image);
  h = new layers.Conv2D(4, 3, { padding: 'same', activation: 'relu', name: 'conv' }).apply(h);
  h = new SpatialDropout2D(0.25, { name: 'spatial' }).apply(h);
  h = new GaussianDropout(0.2, { name: 'gdrop' }).apply(new layers.GlobalAveragePooling2D({ name: 'gap' }).apply(h));
  h = new ActivityRegularization({ l1: 0.001, l2: 0.002, name: 'activity' }).apply(new layers.Dense(6, { name: 'dense' }).apply(h));
  return new Model({ inputs: image, outputs: new layers.Dense(2, { activation: 'softmax', name: 'probs' }).apply(h), name: 'noisy' });
}

describe('training-only layers: Keras API', () => {
  test('Keras\'s defaults and configs', () => {
    assert.deepEqual(new GaussianNoise(0.1, { name: 'n' }).getConfig(), { ...base('n'), stddev: 0.1, seed: null });
    assert.deepEqual(new GaussianDropout(0.5, { seed: 3, name: 'g' }).getConfig(), { ...base('g'), rate: 0.5, seed: 3 });
    assert.deepEqual(new SpatialDropout2D(0.2, { name: 's' }).getConfig(), { ...base('s'), rate: 0.2, seed: null, data_format: 'channels_last' });
    assert.deepEqual(new ActivityRegularization({ name: 'a' }).getConfig(), { ...base('a'), l1: 0, l2: 0 });
    assert.equal(new GaussianDropout(0.2).stddev, 0.5); // sqrt(rate / (1 - rate))
  });

  test('bad arguments are errors naming the layer and the argument', () => {
    refused(() => new GaussianNoise(-1, { name: 'n' }), ValueError, /^n: stddev must be a number >= 0, got -1/);
    refused(() => new GaussianNoise(Number.NaN, { name: 'n' }), ValueError, /^n: stddev must be a number >= 0, got NaN/);
    refused(() => new GaussianDropout(1, { name: 'g' }), ValueError, /^g: rate must be in \[0, 1\), got 1/);
    refused(() => new SpatialDropout2D(-0.1, { name: 's' }), ValueError, /^s: rate must be in \[0, 1\), got -0.1/);
    refused(() => new GaussianNoise(0.1, { seed: 1.5, name: 'n' }), ValueError, /^n: seed must be an integer or null, got 1.5/);
    refused(() => new ActivityRegularization({ l1: -0.1, name: 'a' }), ValueError, /^a: l1 must be a number >= 0, got -0.1/);
    refused(() => new ActivityRegularization({ l2: 'big' as never, name: 'a' }), ValueError, /^a: l2 must be a number >= 0, got "big"/);
    refused(() => new GaussianNoise(0.1, { noise_shape: null } as never), ValueError, /^GaussianNoise: unknown option "noise_shape"/);
    refused(() => new SpatialDropout2D(0.1, { name: 's' }).apply(Input({ shape: [4, 3] })), ShapeError, /^s: expects images \(batch, height, width, channels\), got an input of shape \(None, 4, 3\)/);
  });

  test('summary(): no weights, the input\'s shape', () => {
    const rows = summaryData(noisyModel()).rows.map((r) => [r.name, r.className, r.outputShapes![0], r.params]);
    assert.deepEqual(rows.filter(([name]) => ['noise', 'spatial', 'gdrop', 'activity'].includes(name as string)), [
      ['noise', 'GaussianNoise', [null, 4, 4, 3], 0], ['spatial', 'SpatialDropout2D', [null, 4, 4, 4], 0],
      ['gdrop', 'GaussianDropout', [null, 4], 0], ['activity', 'ActivityRegularization', [null, 6], 0],
    ]);
  });
});

describe('training-only layers: Keras JSON', () => {
  test('round trip, and Keras 3\'s forms', () => {
    const json = noisyModel().toJSON();
    assert.equal(modelFromJSON(json).toJSON(), json);
    const parsed = JSON.parse(json);
    const config = (name: string) => parsed.config.layers.find((l: { config: { name: string } }) => l.config.name === name).config;
    config('noise').dtype = { module: 'keras', class_name: 'DTypePolicy', config: { name: 'float32' }, registered_name: null };
    config('spatial').data_format = 'channels_last';
    config('spatial').noise_shape = null;
    const loaded = modelFromJSON(parsed);
    assert.equal((loaded.getLayer('spatial') as SpatialDropout2D).rate, 0.25);
    config('spatial').data_format = 'channels_first';
    refused(() => modelFromJSON(parsed), ConfigError, /spatial \(SpatialDropout2D\): "data_format" must be one of "channels_last"/);
    config('spatial').data_format = 'channels_last';
    config('activity').l1 = -1;
    refused(() => modelFromJSON(parsed), ValueError, /activity: l1 must be a number >= 0, got -1/);
  });

  test('TensorFlow.js reads Strata\'s GaussianNoise and GaussianDropout, and Strata reads TensorFlow.js\'s', async () => {
    const x = tfl.input({ shape: [5], name: 'x' });
    const n = tfl.layers.gaussianNoise({ stddev: 0.4, name: 'n' }).apply(x) as tfl.SymbolicTensor;
    const g = tfl.layers.gaussianDropout({ rate: 0.3, name: 'g' }).apply(n) as tfl.SymbolicTensor;
    const reference = tfl.model({ inputs: x, outputs: g, name: 'tfjs_noise' });
    const model = modelFromJSON(reference.toJSON(null, false) as unknown as Record<string, unknown>);
    assert.equal((model.getLayer('n') as GaussianNoise).stddev, 0.4);
    assert.equal((model.getLayer('g') as GaussianDropout).rate, 0.3);
    const reread = await tfl.models.modelFromJSON({ modelTopology: JSON.parse(model.toJSON()) });
    assert.deepEqual(reread.layers.map((l) => [l.name, l.getClassName(), l.outputShape]), reference.layers.map((l) => [l.name, l.getClassName(), l.outputShape]));
  });
});

describe('training-only layers: ONNX and the engine', () => {
  test('an exported file has Identity nodes only; the engine\'s translation has Strata\'s own ops, in their domain', () => {
    const model = noisyModel();
    const exported = decodeModel(exportOnnx(model));
    const opsOf = (nodes: NodeProto[] | undefined) => (nodes ?? []).filter((n) => n.opType !== 'Transpose' && ['noise', 'spatial', 'gdrop', 'activity'].some((l) => n.name!.startsWith(`${l}/`))).map((n) => [n.opType, n.domain ?? '']);
    assert.deepEqual(opsOf(exported.graph!.node), [['Identity', ''], ['Identity', ''], ['Identity', ''], ['Identity', '']]);
    assert.deepEqual(exported.opsetImport!.map((o) => o.domain), ['']);
    const forEngine = translateModel(model, { trainingOps: true }).proto;
    assert.deepEqual(opsOf(forEngine.graph!.node), [['GaussianNoise', STRATA_DOMAIN], ['SpatialDropout', STRATA_DOMAIN], ['GaussianDropout', STRATA_DOMAIN], ['ActivityRegularization', STRATA_DOMAIN]]);
    assert.deepEqual(forEngine.opsetImport!.map((o) => o.domain), ['', STRATA_DOMAIN]);
    // SpatialDropout2D after the Conv sees a channels-first value: its channel axis is 1
    const spatial = forEngine.graph!.node!.find((n) => n.opType === 'SpatialDropout')!;
    assert.equal(Number(spatial.attribute!.find((a) => a.name === 'axis')!.i), 1);
    assert.deepEqual(modelToOnnx(model).graph!.node!.length, exported.graph!.node!.length);
  });

  const engine = new EngineBackend({ write: () => {} });

  test('predict() on the engine is the identity through them; evaluate()\'s loss adds ActivityRegularization\'s penalty over the batch (Keras 3)', async () => {
    setRandomSeed(3);
    const model = new Sequential([
      new layers.Dense(4, { inputShape: [3], name: 'hidden' }),
      new GaussianNoise(0.5, { name: 'noise' }),
      new ActivityRegularization({ l1: 0.05, l2: 0.1, name: 'activity' }),
      new layers.Dense(1, { name: 'out' }),
    ]);
    model.compile({ optimizer: 'sgd', loss: 'mean_squared_error' });
    const rng = new RandomGenerator(9);
    const n = 10;
    const x = Float32Array.from({ length: n * 3 }, () => rng.normal());
    const y = Float32Array.from({ length: n }, () => rng.normal());
    const xs: ArrayData = { dtype: 'float32', shape: [n, 3], data: x };
    const [predicted] = await engine.predict(model, [xs], {});
    const [want] = referencePredict(model, [{ shape: [n, 3], data: x }]);
    assert.ok(relativeError(predicted!.data as Float32Array, want!.data) <= 1e-5);
    const hidden = model.getLayer('hidden');
    const h = denseForward({ shape: [n, 3], data: Float64Array.from(x) }, hidden.weights[0]!.value, hidden.weights[1]!.value, 4);
    const penalty = h.data.reduce((sum, v) => sum + 0.05 * Math.abs(v) + 0.1 * v * v, 0);
    const mse = want!.data.reduce((sum, v, i) => sum + (v - y[i]!) ** 2, 0) / n;
    const logs = await engine.evaluate(model, [xs], [{ dtype: 'float32', shape: [n, 1], data: y }], { batchSize: n });
    assert.ok(Math.abs(logs.loss! - (mse + penalty)) <= 1e-5 * (mse + penalty), `loss ${logs.loss} vs mse ${mse} + penalty ${penalty}`);
  });

  test('a model with every training-only layer trains on the engine: the loss falls', async () => {
    const count = 128;
    const rng = new RandomGenerator(6);
    const x = Float32Array.from({ length: count * 48 }, () => rng.normal());
    // class 1 where the image's first channel sums above 0
    const y = Int32Array.from({ length: count }, (_, i) => (Array.from({ length: 16 }, (_, p) => x[i * 48 + p * 3]!).reduce((a, b) => a + b, 0) > 0 ? 1 : 0));
    setRandomSeed(2);
    const model = noisyModel();
    model.compile({ optimizer: new optimizers.Adam({ learningRate: 0.03 }), loss: 'sparse_categorical_crossentropy' });
    const history = await engine.fit(model, [{ dtype: 'float32', shape: [count, 4, 4, 3], data: x }], [{ dtype: 'int32', shape: [count], data: y }], { epochs: 8, batchSize: 32, seed: 4 });
    const losses = history.history.loss as number[];
    assert.ok(losses.at(-1)! < losses[0]! * 0.85, `loss ${losses.map((l) => l.toFixed(3)).join(' ')}`);
  });
});
