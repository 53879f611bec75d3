// model.predict() as Keras users call it: arrays in, arrays out, batches split, one
// onnxruntime session per model until its weights change.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Dense, Input, Model, OnnxRuntimeBackend, Sequential, layers, setInferenceBackend, type ArrayData } from '../../app/node.ts';
import { randomInputs, referencePredict } from '../reference/keras_forward.ts';
import { relativeError } from '../translate/compare.ts';

const backend = new OnnxRuntimeBackend();
setInferenceBackend(backend);

const float32 = (shape: number[], data: ArrayLike<number>): ArrayData => ({ dtype: 'float32', shape, data: Float32Array.from(data) });

describe('model.predict', () => {
  test('matches the reference, splits batches, and reuses the session until weights change', async () => {
    const model = new Sequential([new Dense(5, { inputShape: [4], activation: 'relu', name: 'h' }), new Dense(3, { activation: 'softmax', name: 'o' })]);
    const [x] = randomInputs(model, 10, 3);
    const y = (await model.predict(float32(x!.shape, x!.data), { batchSize: 3 })) as ArrayData;
    assert.deepEqual(y.shape, [10, 3]);
    assert.ok(relativeError(y.data, referencePredict(model, [x!])[0]!.data) <= 1e-5);

    const before = backend.sessionsCreated;
    await model.predict(float32(x!.shape, x!.data));
    assert.equal(backend.sessionsCreated, before, 'same weights: same session');
    model.getLayer('h').setWeights(model.getLayer('h').getWeights().map((w) => w.map((v) => v * 2)));
    const z = (await model.predict(float32(x!.shape, x!.data))) as ArrayData;
    assert.equal(backend.sessionsCreated, before + 1, 'new weights: new session');
    assert.ok(relativeError(z.data, referencePredict(model, [x!])[0]!.data) <= 1e-5);
  });

  test('several inputs by name, several outputs as a list', async () => {
    const a = Input({ shape: [3], name: 'a' });
    const b = Input({ shape: [2], name: 'b' });
    const joined = layers.concatenate([a, b]);
    const model = new Model({ inputs: [a, b], outputs: [new Dense(1, { name: 'p' }).apply(joined), new Dense(2, { name: 'q' }).apply(joined)] });
    const inputs = randomInputs(model, 4, 9);
    const outputs = (await model.predict({ b: float32(inputs[1]!.shape, inputs[1]!.data), a: float32(inputs[0]!.shape, inputs[0]!.data) })) as ArrayData[];
    const expected = referencePredict(model, inputs);
    assert.deepEqual(outputs.map((o) => o.shape), [[4, 1], [4, 2]]);
    outputs.forEach((o, i) => assert.ok(relativeError(o.data, expected[i]!.data) <= 1e-5));
  });

  test('a wrong shape or a missing input is an error that names the input', async () => {
    const model = new Sequential([new Dense(2, { inputShape: [4], name: 'd' })]);
    await assert.rejects(model.predict(float32([2, 5], new Float32Array(10))), /input 'd_input': expected shape \(batch, 4\), got \(2, 5\)/);
    const a = Input({ shape: [1], name: 'a' });
    const b = Input({ shape: [1], name: 'b' });
    const two = new Model({ inputs: [a, b], outputs: layers.add([a, b]) });
    await assert.rejects(two.predict({ a: float32([1, 1], [1]) }), /predict\(\) x: missing "b"/);
    await assert.rejects(two.predict({ a: float32([1, 1], [1]), c: float32([1, 1], [1]) }), /predict\(\) x: got an array for "c", which is not one of a, b/);
  });
});
