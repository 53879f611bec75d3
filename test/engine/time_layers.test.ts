// seq25's layers on the native engine: each model of test/translate/models.ts's timeLayerCases()
// runs forward as the float64 reference computes it (TimeDistributed there steps through time as
// Keras 3 does; the engine runs the merged batch); a video classifier (TimeDistributed Conv2D,
// MaxPooling2D, Flatten, then an LSTM over the frames) and a sequence model with ZeroPadding1D,
// SpatialDropout1D, UpSampling1D and Cropping1D train through fit; TimeDistributed(Dense) trains
// to the same numbers as Dense on the same 3-D input.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { EngineBackend, Input, Model, layers, optimizers, setRandomSeed, type ArrayData, type Layer } from '../../app/node.ts';
import { RandomGenerator } from '../../app/model/random.ts';
import { testForwardMatchesReference } from './forward_matches_reference.ts';
import { relativeError } from '../translate/compare.ts';
import { timeLayerCases, videoClassifier } from '../translate/models.ts';

const engine = new EngineBackend({ write: () => {} });

const float32 = (shape: number[], data: ArrayLike<number>): ArrayData => ({ dtype: 'float32', shape, data: Float32Array.from(data) });

/** `n` samples of normal noise of `shape` (batch omitted), seeded. */
function noise(n: number, shape: number[], seed: number): Float32Array {
  const rng = new RandomGenerator(seed);
  return Float32Array.from({ length: n * shape.reduce((a, b) => a * b, 1) }, () => rng.normal());
}

/** Fits `model` on (xs, ys); checks that the loss fell below `fraction` of its start, every weight moved, and the engine agrees with onnxruntime after. */
async function trainsAndAgrees(model: Model, xs: ArrayData, ys: ArrayData, epochs: number, fraction: number): Promise<void> {
  const before = model.getWeights();
  const history = await engine.fit(model, [xs], [ys], { epochs, batchSize: 32, seed: 3 });
  const losses = history.history.loss as number[];
  assert.ok(losses.at(-1)! < losses[0]! * fraction, `loss ${losses.map((l) => l.toFixed(3)).join(' ')}`);
  model.weights.forEach((w, i) => assert.ok(w.value.some((v, j) => v !== before[i]![j]), `${w.name} trained`));
  const native = (await model.predict(xs, { runtime: 'native' })) as ArrayData;
  const onnx = (await model.predict(xs)) as ArrayData;
  assert.ok(relativeError(native.data, onnx.data) <= 1e-5, `engine vs onnxruntime: ${relativeError(native.data, onnx.data)}`);
}

describe('ZeroPadding1D, Cropping1D, UpSampling1D, SpatialDropout1D and TimeDistributed on the native engine', () => {
  testForwardMatchesReference(engine, timeLayerCases(), { weights: 700, batch: 3, inputs: 61 });

  test('a video classifier (TimeDistributed Conv2D, MaxPooling2D, Flatten -> LSTM -> Dense) trains through fit', async () => {
    // class 1 where the clip's first channel sums above 0 (clips of 3 frames of 6x6x2)
    const n = 160;
    const x = noise(n, [3, 6, 6, 2], 12);
    const y = Int32Array.from({ length: n }, (_, i) => (x.subarray(i * 216, (i + 1) * 216).filter((_, k) => k % 2 === 0).reduce((a, b) => a + b, 0) > 0 ? 1 : 0));
    setRandomSeed(5);
    const model = videoClassifier();
    model.compile({ optimizer: new optimizers.Adam({ learningRate: 0.02 }), loss: 'sparse_categorical_crossentropy' });
    await trainsAndAgrees(model, float32([n, 3, 6, 6, 2], x), { dtype: 'int32', shape: [n], data: y }, 8, 0.8);
  });

  test('a sequence model with ZeroPadding1D, SpatialDropout1D, UpSampling1D and Cropping1D trains through fit', async () => {
    // class 1 where the first feature of the sequence sums above 0 (sequences of 8 steps of 3 features)
    const n = 160;
    const x = noise(n, [8, 3], 14);
    const y = Int32Array.from({ length: n }, (_, i) => (x.subarray(i * 24, (i + 1) * 24).filter((_, k) => k % 3 === 0).reduce((a, b) => a + b, 0) > 0 ? 1 : 0));
    setRandomSeed(6);
    const steps = Input({ shape: [8, 3], name: 'steps' });
    let h = new layers.ZeroPadding1D([1, 2], { name: 'pad' }).apply(steps);
    h = new layers.Conv1D(6, 3, { activation: 'relu', name: 'conv' }).apply(h);
    h = new layers.SpatialDropout1D(0.2, { name: 'drop_channels' }).apply(h);
    h = new layers.UpSampling1D(2, { name: 'up' }).apply(h);
    h = new layers.Cropping1D([1, 3], { name: 'crop' }).apply(h);
    h = new layers.GlobalAveragePooling1D({ name: 'mean' }).apply(h);
    const model = new Model({ inputs: steps, outputs: new layers.Dense(2, { activation: 'softmax', name: 'label' }).apply(h), name: 'sequence_net' });
    model.compile({ optimizer: new optimizers.Adam({ learningRate: 0.03 }), loss: 'sparse_categorical_crossentropy' });
    await trainsAndAgrees(model, float32([n, 8, 3], x), { dtype: 'int32', shape: [n], data: y }, 8, 0.8);
  });

  test('SpatialDropout1D drops whole channels in training: one SGD step moves the Dense kernel behind it on every step of the kept channels only', async () => {
    // ones through SpatialDropout1D(0.5), Flatten (step-major) and a zero kernel: d(loss)/dw is 0 exactly where x was dropped
    const [steps, channels] = [6, 16];
    const x = Input({ shape: [steps, channels] });
    const dropped = new layers.SpatialDropout1D(0.5).apply(x);
    const head = new layers.Dense(1, { useBias: false, kernelInitializer: 'zeros', name: 'head' });
    const model = new Model({ inputs: x, outputs: head.apply(new layers.Flatten().apply(dropped)) });
    model.compile({ optimizer: new optimizers.SGD({ learningRate: 0.01 }), loss: 'mean_squared_error' });
    await engine.fit(model, [float32([1, steps, channels], new Float32Array(steps * channels).fill(1))], [float32([1, 1], [1])], { epochs: 1, batchSize: 1, seed: 9 });
    const kernel = head.weights[0]!.value;
    const kept = Array.from({ length: channels }, (_, c) => kernel[c] !== 0);
    for (let t = 0; t < steps; t++) assert.deepEqual(Array.from({ length: channels }, (_, c) => kernel[t * channels + c] !== 0), kept, `step ${t}`);
    assert.ok(kept.some((k) => k) && kept.some((k) => !k), `kept channels ${kept}`);
  });

  test('TimeDistributed(Dense) trains to the same losses and weights as Dense on the same (batch, time, features) input', async () => {
    const n = 64;
    const x = float32([n, 5, 4], noise(n, [5, 4], 21));
    const y = float32([n, 5, 3], noise(n, [5, 3], 22));
    const train = async (wrap: (dense: Layer) => Layer) => {
      const input = Input({ shape: [5, 4] });
      const dense = new layers.Dense(3, { activation: 'tanh', name: 'dense' });
      const model = new Model({ inputs: input, outputs: wrap(dense).apply(input) });
      model.setWeights([Float32Array.from({ length: 12 }, (_, i) => Math.sin(i + 1) / 2), Float32Array.from([0.1, -0.2, 0.3])]);
      model.compile({ optimizer: new optimizers.SGD({ learningRate: 0.1, momentum: 0.9 }), loss: 'mean_squared_error' });
      const history = await engine.fit(model, [x], [y], { epochs: 4, batchSize: 16, seed: 1 });
      return { losses: history.history.loss as number[], weights: model.getWeights() };
    };
    const plain = await train((dense) => dense);
    const distributed = await train((dense) => new layers.TimeDistributed(dense));
    assert.ok(plain.losses.at(-1)! < plain.losses[0]!, `Dense's loss ${plain.losses.join(' ')}`);
    assert.ok(relativeError(Float32Array.from(distributed.losses), Float64Array.from(plain.losses)) <= 1e-5, `losses ${distributed.losses.join(' ')} vs ${plain.losses.join(' ')}`);
    plain.weights.forEach((w, i) => assert.ok(relativeError(distributed.weights[i]!, Float64Array.from(w)) <= 1e-5, `weight ${i}`));
  });
});
