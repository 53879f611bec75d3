// One test per model: its forward pass on the native engine equals the float64 Keras reference
// (test/reference/keras_forward.ts) to 1e-5 relative error, every output. The later-layer,
// normalization, resizing and recurrent test files share it, each with its own seeds.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { EngineBackend, Model } from '../../app/node.ts';
import { randomInputs, referencePredict } from '../reference/keras_forward.ts';
import { relativeError } from '../translate/compare.ts';
import { randomizeWeights } from '../translate/models.ts';

export interface ReferenceSeeds {
  /** randomizeWeights(model, weights + index) */
  weights: number;
  /** the batch's size and randomInputs's seed (inputs + index) */
  batch: number;
  inputs: number;
}

export function testForwardMatchesReference(engine: EngineBackend, models: Model[], seeds: ReferenceSeeds): void {
  for (const [index, model] of models.entries()) {
    test(`${model.name}: the engine's forward matches the reference`, async () => {
      randomizeWeights(model, seeds.weights + index);
      model.compile({ optimizer: 'sgd', loss: 'mean_squared_error' });
      const inputs = randomInputs(model, seeds.batch, seeds.inputs + index);
      const expected = referencePredict(model, inputs);
      const actual = await engine.predict(model, inputs.map((x) => ({ dtype: 'float32', shape: x.shape, data: Float32Array.from(x.data) })), {});
      assert.equal(actual.length, expected.length);
      for (const [k, want] of expected.entries()) {
        assert.deepEqual(actual[k]!.shape, want.shape);
        const error = relativeError(actual[k]!.data as Float32Array, want.data);
        assert.ok(error <= 1e-5, `${model.name} output ${k}: relative error ${error.toExponential(2)}`);
      }
    });
  }
}
