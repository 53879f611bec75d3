// Subtract, Maximum, Minimum and Dot on the native engine (ONNX Sub, Max, Min; Dot as Transpose,
// Reshape and a batched MatMul, normalize through ReduceSumSquare, Max, Sqrt and Div): each model
// of test/translate/models.ts's mergeLayerCases() runs forward on the engine as the float64
// reference computes it, and a Siamese pair (a shared Dense, the pair's difference, maximum,
// minimum and cosine) learns whether two vectors come from one class through compile/fit, after
// which the engine and onnxruntime agree on its predictions. (The gradients of Max, Min and
// ReduceSumSquare, and Max's and Min's tie rule, are checked in C++: native/tests/test_session.cpp
// test_merge_ops and op_cases.h extremum_case, against finite differences on cpu and cuda-emu.)
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { EngineBackend, Input, Model, layers, optimizers, setRandomSeed, type ArrayData } from '../../app/node.ts';
import { RandomGenerator } from '../../app/model/random.ts';
import { testForwardMatchesReference } from './forward_matches_reference.ts';
import { relativeError } from '../translate/compare.ts';
import { mergeLayerCases } from '../translate/models.ts';

const engine = new EngineBackend({ write: () => {} });

/**
 * n pairs of 8-d points, each near one of 4 class centres (noise 0.3); the label is 1 where both
 * come from the same class (half the pairs).
 */
function pairs(n: number): { left: ArrayData; right: ArrayData; same: ArrayData } {
  const rng = new RandomGenerator(17);
  const centres = Array.from({ length: 4 }, () => Array.from({ length: 8 }, () => rng.normal()));
  const point = (c: number, out: Float32Array, at: number) => centres[c]!.forEach((v, j) => (out[at + j] = v + 0.3 * rng.normal()));
  const left = new Float32Array(n * 8), right = new Float32Array(n * 8), same = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const a = Math.floor(rng.uniform() * 4);
    const b = i % 2 === 0 ? a : (a + 1 + Math.floor(rng.uniform() * 3)) % 4;
    point(a, left, i * 8);
    point(b, right, i * 8);
    same[i] = a === b ? 1 : 0;
  }
  const vectors = (data: Float32Array): ArrayData => ({ dtype: 'float32', shape: [n, 8], data });
  return { left: vectors(left), right: vectors(right), same: { dtype: 'float32', shape: [n, 1], data: same } };
}

describe('Subtract, Maximum, Minimum and Dot on the native engine', () => {
  testForwardMatchesReference(engine, mergeLayerCases(), { weights: 700, batch: 4, inputs: 53 });

  test('a Siamese pair trains through fit (the loss falls, every weight moves, pairs are told apart) and the engine agrees with onnxruntime', async () => {
    setRandomSeed(6);
    const left = Input({ shape: [8], name: 'left' });
    const right = Input({ shape: [8], name: 'right' });
    const embed = new layers.Dense(6, { activation: 'tanh', name: 'embed' });
    const [l, r] = [embed.apply(left), embed.apply(right)];
    const diff = layers.subtract([l, r], { name: 'diff' });
    const spread = layers.subtract([layers.maximum([l, r], { name: 'high' }), layers.minimum([l, r], { name: 'low' })], { name: 'spread' });
    const cosine = layers.dot([l, r], { axes: 1, normalize: true, name: 'cosine' });
    const squared = layers.dot([diff, diff], { axes: 1, name: 'squared_distance' });
    const features = layers.concatenate([spread, cosine, squared], { name: 'features' });
    const same = new layers.Dense(1, { activation: 'sigmoid', name: 'same' }).apply(features);
    const model = new Model({ inputs: [left, right], outputs: same, name: 'siamese' });
    model.compile({ optimizer: new optimizers.Adam({ learningRate: 0.02 }), loss: 'binary_crossentropy', metrics: ['accuracy'] });
    const data = pairs(256);
    const before = model.getWeights();
    const history = await engine.fit(model, [data.left, data.right], [data.same], { epochs: 12, batchSize: 32, seed: 3 });
    const loss = history.history.loss!;
    const accuracy = history.history.accuracy!;
    assert.ok(loss[11]! < loss[0]! * 0.5, `loss ${loss.join(' ')}`);
    assert.ok(accuracy[11]! >= 0.9, `accuracy ${accuracy.join(' ')}`);
    assert.ok(model.getWeights().every((w, i) => w.some((v, j) => v !== before[i]![j])), 'every weight trained');
    const native = (await model.predict([data.left, data.right], { runtime: 'native' })) as ArrayData;
    const onnx = (await model.predict([data.left, data.right])) as ArrayData;
    assert.ok(relativeError(native.data, onnx.data) <= 1e-5, `engine vs onnxruntime: ${relativeError(native.data, onnx.data)}`);
  });
});
