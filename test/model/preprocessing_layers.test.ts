// Normalization (with adapt()) and the image augmentation layers RandomFlip, RandomContrast,
// RandomTranslation, RandomZoom, RandomRotation: Keras's arguments and defaults
// (keras/src/layers/preprocessing/normalization.py, .../image_preprocessing/random_*.py),
// argument checks naming the layer and argument, adapt() as Keras computes it (its docstring's
// examples; batches streamed and combined as Keras combines them), summary() parameter counts
// as Keras prints them, Keras JSON both ways, saved and loaded weights, the exported ONNX file
// (Sub/Div for Normalization; Identity for the augmentation, no Strata op), and the engine:
// fit refuses an unadapted Normalization, the augmentation is the identity in predict and
// evaluate, and a seeded fit through every augmentation layer gives the same weights twice.
// The augmentation's statistics and gradients are checked in C++ (test_session's
// test_augmentation_ops).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import {
  ConfigError, Input, Model, Normalization, RandomContrast, RandomFlip, RandomRotation, RandomTranslation, RandomZoom, Sequential, ShapeError, ValueError,
  layers, modelFromJSON, summaryData,
} from '../../app/model/index.ts';
import { EngineBackend, optimizers, setRandomSeed, type ArrayData } from '../../app/node.ts';
import { batches, makeDataset } from '../../app/data/dataset.ts';
import { ndarray } from '../../app/data/ndarray.ts';
import { loadKerasModel, saveKerasModel } from '../../app/io/keras_file.ts';
import { loadModelFolder, saveModel } from '../../app/io/model_store.ts';
import { RandomGenerator } from '../../app/model/random.ts';
import { decodeModel } from '../../app/onnx/schema.ts';
import { exportOnnx, translateModel } from '../../app/translate/to_onnx.ts';
import { STRATA_DOMAIN } from '../../app/translate/layer_table.ts';
import { normalizationForward, referencePredict } from '../reference/keras_forward.ts';
import { relativeError } from '../translate/compare.ts';

const refused = (run: () => unknown, Kind: typeof ValueError | typeof ShapeError | typeof ConfigError, pattern: RegExp) =>
  assert.throws(run, (e: Error) => e instanceof Kind && pattern.test(e.message), `expected ${Kind.name} matching ${pattern}`);

const base = (name: string) => ({ name, trainable: true, dtype: 'float32' });
const scratch = mkdtempSync(path.join(tmpdir(), 'strata-preprocessing-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

/** The layer's output for `rows` (batch first, `shape` without the batch), by the float64 reference. */
function normalize(layer: Normalization, shape: number[], rows: number[]): number[] {
  return Array.from(normalizationForward({ shape: [rows.length / shape.reduce((a, b) => a * b, 1), ...shape], data: Float64Array.from(rows) }, layer).data);
}

function close(actual: number[], expected: number[], tolerance = 1e-6): void {
  assert.equal(actual.length, expected.length);
  actual.forEach((v, i) => assert.ok(Math.abs(v - expected[i]!) <= tolerance, `[${i}] ${v} vs ${expected[i]}`));
}

describe('Normalization: Keras API and adapt()', () => {
  test('Keras\'s defaults and config; the docstring\'s examples (keras/src/layers/preprocessing/normalization.py)', () => {
    assert.deepEqual(new Normalization({ name: 'n' }).getConfig(), { ...base('n'), axis: [-1], invert: false, mean: null, variance: null });
    // adapt_data [1..5], axis=None: layer([1, 2, 3]) = [-1.4142135, -0.70710677, 0]
    const scalar = new Normalization({ axis: null });
    scalar.adapt({ shape: [5], data: [1, 2, 3, 4, 5] });
    close(normalize(scalar, [], [1, 2, 3]), [-1.4142135, -0.70710677, 0]);
    // per feature: [[0, 7, 4], [2, 9, 6]] twice, layer([[0, 7, 4]]) = [-1, -1, -1]; inverted, layer([[1, 2, 3]]) = [2, 10, 8]
    const rows = { shape: [4, 3], data: [0, 7, 4, 2, 9, 6, 0, 7, 4, 2, 9, 6] };
    const perFeature = new Normalization();
    perFeature.adapt(rows);
    close(normalize(perFeature, [3], [0, 7, 4]), [-1, -1, -1]);
    const inverted = new Normalization({ invert: true });
    inverted.adapt(rows);
    close(normalize(inverted, [3], [1, 2, 3]), [2, 10, 8]);
    // mean=3, variance=2 given: layer([[1], [2], [3]]) = [-1.4142135, -0.70710677, 0]
    const given = new Normalization({ mean: 3, variance: 2 });
    given.apply(Input({ shape: [1] }));
    close(normalize(given, [1], [1, 2, 3]), [-1.4142135, -0.70710677, 0]);
    assert.equal(given.weights.length, 0);
  });

  test('adapt() streams batches (an iterable, a Dataset, its batches()) and combines them as one array gives', () => {
    const rng = new RandomGenerator(3);
    const n = 103;
    const x = Float32Array.from({ length: n * 4 * 2 }, () => rng.normal() * 3 + 1);
    const whole = new Normalization({ axis: [1, 2] });
    whole.adapt({ shape: [n, 4, 2], data: x });
    const dataset = makeDataset(ndarray('float32', [n, 4, 2], x), ndarray('float32', [n, 1], new Float32Array(n)));
    for (const data of [dataset, batches(dataset, { batchSize: 10 }), [{ shape: [50, 4, 2], data: x.subarray(0, 400) }, { shape: [53, 4, 2], data: x.subarray(400) }]]) {
      const streamed = new Normalization({ axis: [1, 2] });
      streamed.adapt(data);
      for (const k of [0, 1]) close(Array.from(streamed.weights[k]!.value), Array.from(whole.weights[k]!.value), 1e-5);
      assert.deepEqual(Array.from(streamed.weights[2]!.value), [n]);
    }
    // the weights are Keras's: mean and variance of the kept axes' shape, count a scalar, none trainable
    assert.deepEqual(whole.weights.map((w) => [w.name, w.shape, w.trainable]), [['mean', [4, 2], false], ['variance', [4, 2], false], ['count', [], false]]);
  });

  test('bad arguments and data are errors naming the layer and what is wrong', () => {
    refused(() => new Normalization({ mean: 1, name: 'n' }), ValueError, /^n: mean and variance must be given together/);
    refused(() => new Normalization({ mean: [1, 2], variance: [1], name: 'n' }), ValueError, /^n: mean \(2,\) and variance \(1,\) must have the same shape/);
    refused(() => new Normalization({ mean: [[1]], variance: [[1]], name: 'n' }), ValueError, /^n: mean of shape \(1, 1\) has more dimensions than the 1 kept axes/);
    refused(() => new Normalization({ mean: [1, Number.NaN], variance: [1, 1], name: 'n' }), ValueError, /^n: mean must be a finite number or a \(nested\) list of them/);
    refused(() => new Normalization({ mean: 0, variance: -1, name: 'n' }), ValueError, /^n: variance must be >= 0/);
    refused(() => new Normalization({ axis: 1.5, name: 'n' }), ValueError, /^n: axis must be an integer, a list of integers or null/);
    refused(() => new Normalization({ epsilon: 1 } as never), ValueError, /^Normalization: unknown option "epsilon"/);
    refused(() => new Normalization({ axis: 3, name: 'n' }).apply(Input({ shape: [4] })), ShapeError, /^n: axis 3 is out of range for an input of shape \(None, 4\)/);
    refused(() => new Normalization({ axis: 0, name: 'n' }).apply(Input({ shape: [4] })), ShapeError, /^n: axis 0 of the input \(None, 4\) must have a known size/);
    refused(() => new Normalization({ mean: [1, 2, 3], variance: [1, 1, 1], name: 'n' }).apply(Input({ shape: [4] })), ShapeError, /^n: mean and variance of shape \(3,\) do not broadcast to the kept axes' shape \(4,\)/);
    const layer = new Normalization({ name: 'n' });
    layer.apply(Input({ shape: [3] }));
    refused(() => layer.adapt({ shape: [2, 4], data: new Float32Array(8) }), ShapeError, /^n: adapt\(\) got a batch of shape \(2, 4\), the layer takes inputs of shape \(None, 3\)/);
    refused(() => layer.adapt({ shape: [1, 3], data: [1, Number.NaN, 2] }), ValueError, /^n: adapt\(\) got NaN at element 1/);
    refused(() => layer.adapt([]), ValueError, /^n: adapt\(\) got no batches/);
    refused(() => layer.adapt([[1, 2, 3]] as never), ValueError, /^n: adapt\(\) takes an array \{shape, data\}.*got a plain array/);
    refused(() => new Normalization({ mean: 0, variance: 1, name: 'g' }).adapt({ shape: [1, 1], data: [1] }), ValueError, /^g: was given mean and variance; adapt\(\) learns them only when they are not given/);
  });

  test('summary(): mean, variance and count are non-trainable parameters, as Keras counts them', () => {
    // tf.keras 2.9's summary of an adapted Normalization over 21 features: "normalization
    // (Normalization) (None, 21) 43 ... Non-trainable params: 43" (2 * 21 + count); Keras
    // Applications' EfficientNetB0: "normalization (Normalization) (None, 224, 224, 3) 7".
    const features = new Sequential([new Normalization({ inputShape: [21], name: 'normalization' }), new layers.Dense(1, { name: 'dense' })]);
    const image = Input({ shape: [224, 224, 3] });
    const images = new Model({ inputs: image, outputs: new Normalization({ name: 'normalization' }).apply(image) });
    const row = (model: Model) => summaryData(model).rows.find((r) => r.name === 'normalization')!;
    assert.deepEqual([row(features).outputShapes![0], row(features).params], [[null, 21], 43]);
    assert.deepEqual(summaryData(features).params.nonTrainable, 43);
    assert.deepEqual([row(images).outputShapes![0], row(images).params], [[null, 224, 224, 3], 7]);
    const given = new Sequential([new Normalization({ inputShape: [4], mean: 0, variance: 1 })]);
    assert.equal(summaryData(given).params.total, 0);
  });
});

describe('Normalization: files and ONNX', () => {
  function adaptedModel(): Model {
    setRandomSeed(2);
    const norm = new Normalization({ axis: [1, 2], name: 'norm' });
    const x = Input({ shape: [3, 2], name: 'x' });
    const model = new Model({ inputs: x, outputs: new layers.Dense(2, { name: 'dense' }).apply(new layers.Flatten({ name: 'flat' }).apply(norm.apply(x))), name: 'normalized' });
    const rng = new RandomGenerator(6);
    norm.adapt({ shape: [20, 3, 2], data: Float32Array.from({ length: 120 }, () => rng.normal() * 2 + 5) });
    return model;
  }

  test('Keras JSON round trip; Keras 3 and tf.keras 2 forms (axis as a list or an int, mean as nested lists)', () => {
    const json = adaptedModel().toJSON();
    assert.equal(modelFromJSON(json).toJSON(), json);
    const keras3 = Normalization.fromConfig({ name: 'n', trainable: true, dtype: { module: 'keras', class_name: 'DTypePolicy', config: { name: 'float32' }, registered_name: null }, axis: [1, 2], invert: false, mean: [[1, 2]], variance: [[3, 4]] });
    assert.deepEqual([keras3.axis, keras3.inputMean], [[1, 2], { shape: [1, 2], values: [1, 2] }]);
    assert.deepEqual(Normalization.fromConfig({ name: 'n', axis: -1, mean: null, variance: null }).axis, [-1]);
    assert.deepEqual(Normalization.fromConfig({ name: 'n', axis: [] }).axis, []);
    assert.deepEqual(Normalization.fromConfig({ name: 'n' }).axis, [-1]);
    refused(() => Normalization.fromConfig({ name: 'n', axis: -1, mean: 1 }), ValueError, /^n: mean and variance must be given together/);
    refused(() => Normalization.fromConfig({ name: 'n', epsilon: 1 }), ConfigError, /n \(Normalization\): unsupported config key "epsilon"/);
  });

  test('adapted statistics are saved and loaded with the weights; a loaded layer is not refused at fit', () => {
    const model = adaptedModel();
    const dir = path.join(scratch, 'normalized');
    saveModel(model, dir);
    const loaded = loadModelFolder(dir).model;
    const norm = loaded.getLayer('norm') as Normalization;
    assert.deepEqual(norm.weights.map((w) => Array.from(w.value)), model.getLayer('norm').weights.map((w) => Array.from(w.value)));
    assert.equal(norm.needsAdapt, false);
  });

  test('Keras files (.keras and .h5) carry the adapted mean, variance and count', async () => {
    const model = adaptedModel();
    for (const file of ['normalized.keras', 'normalized.h5']) {
      const target = path.join(scratch, file);
      await saveKerasModel(model, target);
      const norm = (await loadKerasModel(target)).getLayer('norm') as Normalization;
      assert.deepEqual(norm.weights.map((w) => [w.name, w.shape, Array.from(w.value)]), model.getLayer('norm').weights.map((w) => [w.name, w.shape, Array.from(w.value)]), file);
      assert.equal(norm.needsAdapt, false, file);
    }
  });

  test('the exported file is Sub and Div by constants, Mul and Add inverted (values: test/translate/numerics, augmentLayerCases)', () => {
    const opsOf = (model: Model) => decodeModel(exportOnnx(model)).graph!.node!.filter((n) => n.name!.startsWith('norm/')).map((n) => n.opType);
    assert.deepEqual(opsOf(adaptedModel()), ['Sub', 'Div']);
    const x = Input({ shape: [2] });
    assert.deepEqual(opsOf(new Model({ inputs: x, outputs: new Normalization({ invert: true, mean: [1, 2], variance: [4, 9], name: 'norm' }).apply(x) })), ['Mul', 'Add']);
  });
});

/** Images (batch, 8, 8, 3) through every augmentation layer, then a small classifier. */
function augmentedModel(): Model {
  setRandomSeed(5);
  const image = Input({ shape: [8, 8, 3], name: 'image' });
  let h = new RandomFlip('horizontal_and_vertical', { name: 'flip' }).apply(image);
  h = new RandomContrast([0.2, 0.4], { valueRange: [0, 1], name: 'contrast' }).apply(h);
  h = new RandomTranslation(0.1, [-0.2, 0.1], { fillMode: 'wrap', name: 'translation' }).apply(h);
  h = new RandomZoom([-0.2, 0.3], { widthFactor: 0.1, fillMode: 'constant', fillValue: 0.5, name: 'zoom' }).apply(h);
  h = new RandomRotation(0.05, { interpolation: 'nearest', fillMode: 'nearest', name: 'rotation' }).apply(h);
  h = new layers.Conv2D(4, 3, { activation: 'relu', name: 'conv' }).apply(h);
  h = new layers.GlobalAveragePooling2D({ name: 'gap' }).apply(h);
  return new Model({ inputs: image, outputs: new layers.Dense(2, { activation: 'softmax', name: 'probs' }).apply(h), name: 'augmented' });
}

const AUGMENTATION = ['flip', 'contrast', 'translation', 'zoom', 'rotation'];

describe('augmentation layers: Keras API', () => {
  test('Keras\'s defaults and configs; factors as Keras parses them', () => {
    assert.deepEqual(new RandomFlip(undefined, { name: 'f' }).getConfig(), { ...base('f'), seed: null, mode: 'horizontal_and_vertical' });
    assert.deepEqual(new RandomContrast(0.2, { name: 'c' }).getConfig(), { ...base('c'), seed: null, factor: 0.2 });
    assert.deepEqual(new RandomContrast(0.2, { name: 'c' }).contrastRange, [0.8, 1.2]);
    assert.deepEqual(new RandomContrast([0, 0.5], { valueRange: [0, 1], name: 'c' }).getConfig(), { ...base('c'), seed: null, factor: [0, 0.5], value_range: [0, 1] });
    const fill = { fill_mode: 'reflect', fill_value: 0, interpolation: 'bilinear' };
    assert.deepEqual(new RandomTranslation(0.1, 0.2, { name: 't' }).getConfig(), { ...base('t'), seed: null, ...fill, height_factor: 0.1, width_factor: 0.2 });
    assert.deepEqual(new RandomZoom(0.3, { name: 'z' }).getConfig(), { ...base('z'), seed: null, ...fill, height_factor: 0.3, width_factor: null });
    assert.deepEqual(new RandomRotation(0.2, { seed: 4, name: 'r' }).getConfig(), { ...base('r'), seed: 4, ...fill, factor: 0.2 });
    assert.deepEqual(new RandomRotation(0.2).range, [-0.2, 0.2]);
    assert.deepEqual(new RandomRotation([-0.1, 0.3]).range, [-0.1, 0.3]);
    assert.deepEqual(new RandomZoom(-0.3).heightRange, [-0.3, 0.3]);
  });

  test('bad arguments are errors naming the layer and the argument', () => {
    refused(() => new RandomFlip('diagonal' as never, { name: 'f' }), ValueError, /^f: mode must be one of "horizontal", "vertical", "horizontal_and_vertical", got "diagonal"/);
    refused(() => new RandomContrast(1.5, { name: 'c' }), ValueError, /^c: factor must be a number in \[0, 1\] or a pair \[lower, upper\] of them, got 1.5/);
    refused(() => new RandomContrast(0.1, { valueRange: [1, 0], name: 'c' }), ValueError, /^c: valueRange must be a pair \[low, high\]/);
    refused(() => new RandomRotation([0.3, 0.1], { name: 'r' }), ValueError, /^r: factor must be a number or a pair \[lower, upper\] with lower <= upper, got \[0.3,0.1\]/);
    refused(() => new RandomTranslation(1.5, 0.1, { name: 't' }), ValueError, /^t: heightFactor must be .* each in \[-1, 1\], got 1.5/);
    refused(() => new RandomZoom(0.1, { widthFactor: [0, 2], name: 'z' }), ValueError, /^z: widthFactor must be/);
    refused(() => new RandomRotation(0.1, { fillMode: 'mirror' as never, name: 'r' }), ValueError, /^r: fillMode must be one of "reflect", "wrap", "constant", "nearest", got "mirror"/);
    refused(() => new RandomRotation(0.1, { interpolation: 'bicubic' as never, name: 'r' }), ValueError, /^r: interpolation must be one of "bilinear", "nearest"/);
    refused(() => new RandomRotation(0.1, { fill_mode: 'wrap' } as never), ValueError, /^RandomRotation: unknown option "fill_mode" \(did you mean fillMode\?\)/);
    refused(() => new RandomFlip('horizontal', { seed: 0.5, name: 'f' }), ValueError, /^f: seed must be an integer or null, got 0.5/);
    refused(() => new RandomFlip('horizontal', { name: 'f' }).apply(Input({ shape: [4, 3] })), ShapeError, /^f: expects images \(batch, height, width, channels\), got an input of shape \(None, 4, 3\)/);
  });

  test('summary(): no weights, the input\'s shape', () => {
    const rows = summaryData(augmentedModel()).rows.filter((r) => AUGMENTATION.includes(r.name));
    assert.deepEqual(rows.map((r) => [r.className, r.outputShapes![0], r.params]), [
      ['RandomFlip', [null, 8, 8, 3], 0], ['RandomContrast', [null, 8, 8, 3], 0], ['RandomTranslation', [null, 8, 8, 3], 0],
      ['RandomZoom', [null, 8, 8, 3], 0], ['RandomRotation', [null, 8, 8, 3], 0],
    ]);
  });

  test('Keras JSON round trip, and Keras 3\'s forms (data_format, factors as pairs, value_range)', () => {
    const json = augmentedModel().toJSON();
    assert.equal(modelFromJSON(json).toJSON(), json);
    const parsed = JSON.parse(json);
    const config = (name: string) => parsed.config.layers.find((l: { config: { name: string } }) => l.config.name === name).config;
    for (const name of AUGMENTATION) config(name).data_format = 'channels_last';
    config('rotation').factor = [-0.05, 0.05];
    const loaded = modelFromJSON(parsed);
    assert.deepEqual((loaded.getLayer('rotation') as RandomRotation).range, [-0.05, 0.05]);
    assert.deepEqual((loaded.getLayer('contrast') as RandomContrast).valueRange, [0, 1]);
    config('flip').data_format = 'channels_first';
    refused(() => modelFromJSON(parsed), ConfigError, /flip \(RandomFlip\): "data_format" must be one of "channels_last"/);
    config('flip').data_format = 'channels_last';
    delete config('translation').width_factor;
    refused(() => modelFromJSON(parsed), ConfigError, /translation \(RandomTranslation\): "width_factor" is required/);
  });
});

describe('augmentation layers: ONNX and the engine', () => {
  test('the exported file has no trace of them (Identity, no Strata op); the engine\'s translation has them, channels-last', () => {
    const model = augmentedModel();
    const exported = decodeModel(exportOnnx(model));
    const theirs = (nodes: { name?: string | null; opType?: string | null; domain?: string | null }[]) =>
      nodes.filter((n) => n.opType !== 'Transpose' && AUGMENTATION.some((l) => n.name!.startsWith(`${l}/`))).map((n) => [n.opType, n.domain ?? '']);
    assert.deepEqual(theirs(exported.graph!.node!), AUGMENTATION.map(() => ['Identity', '']));
    assert.deepEqual(exported.opsetImport!.map((o) => o.domain), ['']);
    const forEngine = translateModel(model, { trainingOps: true }).proto;
    assert.deepEqual(theirs(forEngine.graph!.node!), [
      ['RandomFlip', STRATA_DOMAIN], ['RandomContrast', STRATA_DOMAIN], ['RandomAffine', STRATA_DOMAIN], ['RandomAffine', STRATA_DOMAIN], ['RandomAffine', STRATA_DOMAIN],
    ]);
    const rotation = forEngine.graph!.node!.find((n) => n.name === 'rotation/RandomAffine')!;
    close(rotation.attribute!.find((a) => a.name === 'rotation')!.floats!.map(Number), [-0.05 * 2 * Math.PI, 0.05 * 2 * Math.PI], 1e-6);
  });

  const engine = new EngineBackend({ write: () => {} });
  const float32 = (shape: number[], data: Float32Array): ArrayData => ({ dtype: 'float32', shape, data });

  test('predict() and evaluate() pass images through them; a seeded fit gives the same weights twice, another seed others', async () => {
    const rng = new RandomGenerator(12);
    const n = 48;
    const x = Float32Array.from({ length: n * 8 * 8 * 3 }, () => rng.uniform());
    const y = Int32Array.from({ length: n }, (_, i) => i % 2);
    const probe = augmentedModel();
    const [predicted] = await engine.predict(probe, [float32([n, 8, 8, 3], x)], {});
    assert.ok(relativeError(predicted!.data as Float32Array, referencePredict(probe, [{ shape: [n, 8, 8, 3], data: x }])[0]!.data) <= 1e-5);
    const trained = async (seed: number) => {
      const model = augmentedModel();
      model.compile({ optimizer: 'adam', loss: 'sparse_categorical_crossentropy' });
      await engine.fit(model, [float32([n, 8, 8, 3], x)], [{ dtype: 'int32', shape: [n], data: y }], { epochs: 2, batchSize: 16, seed, verbose: 0 });
      return model.getLayer('conv').weights[0]!.value;
    };
    const first = await trained(7);
    assert.deepEqual(await trained(7), first);
    assert.notDeepEqual(await trained(8), first);
  });

  test('fit refuses a Normalization with no mean and variance, naming it; adapted, it trains', async () => {
    const rng = new RandomGenerator(2);
    const n = 64;
    const x = Float32Array.from({ length: n * 3 }, () => rng.normal() * 10 + 50);
    const y = Float32Array.from({ length: n }, (_, i) => (x[i * 3]! - 50) / 10);
    setRandomSeed(1);
    const norm = new Normalization({ name: 'features' });
    const input = Input({ shape: [3], name: 'x' });
    const net = new Model({ inputs: input, outputs: new layers.Dense(1, { name: 'out' }).apply(norm.apply(input)) });
    net.compile({ optimizer: new optimizers.Adam({ learningRate: 0.05 }), loss: 'mean_squared_error' });
    const fit = () => engine.fit(net, [float32([n, 3], x)], [float32([n, 1], y)], { epochs: 30, batchSize: 16, seed: 1, verbose: 0 });
    await assert.rejects(fit, (e: Error) => e.name === 'TrainingError' && /^features \(Normalization\): has no mean and variance; call its adapt\(\) on the training features before fit/.test(e.message));
    norm.adapt({ shape: [n, 3], data: x });
    const history = await fit();
    const losses = history.history.loss as number[];
    assert.ok(losses.at(-1)! < losses[0]! * 0.5, `loss ${losses[0]} -> ${losses.at(-1)}`);
    const [predicted] = await engine.predict(net, [float32([n, 3], x)], {});
    assert.ok(relativeError(predicted!.data as Float32Array, referencePredict(net, [{ shape: [n, 3], data: x }])[0]!.data) <= 1e-5);
  });
});
