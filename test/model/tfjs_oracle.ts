// TensorFlow.js (tfjs-layers) as an independent implementation of Keras for the layer tests:
// its JSON read by Strata and Strata's by it, with the same summary rows, and its forward pass
// with its own weights against the float64 reference (test/reference) that the ONNX and engine
// tests compare with. Also the refusal check the layer tests share.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfl from '@tensorflow/tfjs-layers';
import { type ConfigError, type Model, type ShapeError, type ValueError, modelFromJSON, summaryData } from '../../app/model/index.ts';
import { referencePredict } from '../reference/keras_forward.ts';
import { relativeError } from '../translate/compare.ts';

await tf.setBackend('cpu');

/** `run` throws a `Kind` whose message matches `pattern`. */
export const refused = (run: () => unknown, Kind: typeof ValueError | typeof ShapeError | typeof ConfigError, pattern: RegExp) =>
  assert.throws(run, (e: Error) => e instanceof Kind && pattern.test(e.message), pattern.source);

/** A model's summary rows: name, class, first output shape, parameters. */
export function rows(model: Model) {
  return summaryData(model).rows.map((r) => [r.name, r.className, r.outputShapes?.[0] ?? null, r.params]);
}

/** The same rows of a TensorFlow.js model. */
export function tfjsRows(model: tfl.LayersModel) {
  return model.layers.map((l) => [l.name, l.getClassName(), l.outputShape, l.countParams()]);
}

/**
 * The two oracle tests for a TensorFlow.js model that `reference` builds: Strata reads its
 * JSON with the same rows and TensorFlow.js reads Strata's; with its weights, the float64
 * reference computes its predictions on a random batch of `inputShape` (batch first) to 1e-5.
 */
export function tfjsOracleTests(reference: () => tfl.LayersModel, inputShape: number[], seed: number): void {
  test("Strata reads TensorFlow.js's JSON with its shapes and counts, and TensorFlow.js reads Strata's", async () => {
    const tfjsModel = reference();
    const model = modelFromJSON(tfjsModel.toJSON(null, false) as unknown as Record<string, unknown>);
    assert.deepEqual(rows(model), tfjsRows(tfjsModel));
    const reread = await tfl.models.modelFromJSON({ modelTopology: JSON.parse(model.toJSON()) });
    assert.deepEqual(tfjsRows(reread), tfjsRows(tfjsModel));
  });

  test('the float64 reference computes what TensorFlow.js computes, with the same weights', () => {
    const tfjsModel = reference();
    const model = modelFromJSON(tfjsModel.toJSON(null, false) as unknown as Record<string, unknown>);
    // Keras's weight order on both sides (a recurrent layer: kernel, recurrent_kernel, bias; Bidirectional: forward, then backward).
    model.setWeights(tfjsModel.getWeights().map((w) => w.dataSync() as Float32Array));
    const input = tf.randomUniform(inputShape, -1, 1, 'float32', seed);
    const expected = (tfjsModel.predict(input) as tf.Tensor).dataSync() as Float32Array;
    const actual = referencePredict(model, [{ shape: inputShape, data: input.dataSync() as Float32Array }])[0]!;
    assert.ok(relativeError(expected, actual.data) <= 1e-5, `relative error ${relativeError(expected, actual.data)}`);
  });
}
