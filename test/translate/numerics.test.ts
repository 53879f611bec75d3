// The exported ONNX graph, run in onnxruntime-node, computes what Keras computes: every
// layer type and option, both seed examples, batch sizes 1 and 7, against the plain
// float64 reference forward pass in test/reference.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import * as ort from 'onnxruntime-node';
import type { Model } from '../../app/model/index.ts';
import { exportOnnx } from '../../app/translate/to_onnx.ts';
import { randomInputs, referencePredict } from '../reference/keras_forward.ts';
import type { RefTensor } from '../reference/tensor.ts';
import { relativeError } from './compare.ts';
import { randomizeWeights, translationCases } from './models.ts';

const TOLERANCE = 1e-5;

async function runOnnx(model: Model, session: ort.InferenceSession, inputs: RefTensor[]): Promise<ort.Tensor[]> {
  const feeds: Record<string, ort.Tensor> = {};
  model.inputs.forEach((t, i) => {
    const name = session.inputNames[i]!;
    const isInt = (t.sourceLayer as { dtype?: string }).dtype === 'int32';
    const data = isInt ? Int32Array.from(inputs[i]!.data) : Float32Array.from(inputs[i]!.data);
    feeds[name] = new ort.Tensor(isInt ? 'int32' : 'float32', data, inputs[i]!.shape);
  });
  const results = await session.run(feeds);
  return session.outputNames.map((name) => results[name]!);
}

describe('ONNX translation matches the reference forward pass', () => {
  for (const [index, model] of translationCases().entries()) {
    test(model.name, async () => {
      randomizeWeights(model, 100 + index);
      const session = await ort.InferenceSession.create(exportOnnx(model));
      for (const batch of [1, 7]) {
        const inputs = randomInputs(model, batch, 1000 * index + batch);
        const expected = referencePredict(model, inputs);
        const actual = await runOnnx(model, session, inputs);
        expected.forEach((ref, i) => {
          assert.deepEqual(actual[i]!.dims, ref.shape, `${model.name} output ${i} shape, batch ${batch}`);
          const error = relativeError(actual[i]!.data as Float32Array, ref.data);
          assert.ok(error <= TOLERANCE, `${model.name} output ${i}, batch ${batch}: relative error ${error.toExponential(2)} > ${TOLERANCE}`);
        });
      }
      await session.release();
    });
  }
});
