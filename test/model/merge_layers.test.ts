// Subtract, Maximum, Minimum and Dot: Keras 3's arguments, shape rules and errors
// (keras/src/layers/merging/{subtract,maximum,minimum,dot}.py), summary(), Keras JSON (tf.keras 2
// as Strata writes it, Keras 3's config.json form) both ways, and TensorFlow.js's merge layers as
// the oracle for JSON, shapes and the float64 reference's numbers.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfl from '@tensorflow/tfjs-layers';
import { ConfigError, Dot, Input, Maximum, Minimum, Model, ShapeError, Subtract, ValueError, layers, modelFromJSON, summaryData } from '../../app/model/index.ts';
import { dotForward, referencePredict } from '../reference/keras_forward.ts';
import { tensor } from '../reference/tensor.ts';
import { relativeError } from '../translate/compare.ts';
import { refused, rows, tfjsRows } from './tfjs_oracle.ts';

await tf.setBackend('cpu');

/** The output shape of `join` called on Inputs of `shapes` (batch left out). */
function joinedShape(shapes: number[][], join: (xs: ReturnType<typeof Input>[]) => { shape: unknown }): unknown {
  return join(shapes.map((shape) => Input({ shape }))).shape;
}

describe('Subtract, Maximum, Minimum: Keras API', () => {
  test('elementwise with Keras\'s broadcasting (sizes equal or 1); Subtract takes exactly two inputs', () => {
    assert.deepEqual(joinedShape([[16], [16]], (xs) => layers.subtract(xs)), [null, 16]);
    assert.deepEqual(joinedShape([[3, 4], [3, 1], [1, 4]], (xs) => layers.maximum(xs)), [null, 3, 4]);
    assert.deepEqual(joinedShape([[2, 5], [2, 5]], (xs) => layers.minimum(xs)), [null, 2, 5]);
    const [a, b, c] = [Input({ shape: [4] }), Input({ shape: [4] }), Input({ shape: [4] })];
    // subtract.py: "A `Subtract` layer should be called on exactly 2 inputs"
    refused(() => new Subtract({ name: 's' }).apply([a!, b!, c!]), ShapeError, /^s: a Subtract layer takes exactly 2 inputs, got 3/);
    refused(() => new Maximum({ name: 'm' }).apply([a!]), ShapeError, /^m: expects a list of at least 2 inputs, got 1/);
    refused(() => new Minimum({ name: 'm' }).apply([a!, Input({ shape: [5] })]), ShapeError, /^m: inputs must have the same shape, got \(None, 4\), \(None, 5\)/);
  });

  test('configs carry only the base fields, and JSON round-trips each class', () => {
    for (const Cls of [Subtract, Maximum, Minimum]) {
      assert.deepEqual(new Cls({ name: 'j' }).getConfig(), { name: 'j', trainable: true, dtype: 'float32' });
    }
    const [a, b] = [Input({ shape: [4], name: 'a' }), Input({ shape: [4], name: 'b' })];
    const out = layers.minimum([layers.maximum([a, b], { name: 'hi' }), layers.subtract([a, b], { name: 'diff' })], { name: 'lo' });
    const json = new Model({ inputs: [a, b], outputs: out, name: 'joins' }).toJSON();
    const reread = modelFromJSON(json);
    assert.equal(reread.toJSON(), json);
    assert.deepEqual(reread.layers.map((l) => l.className), ['InputLayer', 'InputLayer', 'Maximum', 'Subtract', 'Minimum']);
  });
});

describe('Dot: Keras API', () => {
  test('output shapes as Keras\'s compute_output_shape: the first input\'s other axes, then the second\'s past the batch', () => {
    assert.deepEqual(joinedShape([[8], [8]], (xs) => layers.dot(xs, { axes: 1 })), [null, 1]);
    assert.deepEqual(joinedShape([[5, 3], [5, 4]], (xs) => layers.dot(xs, { axes: 1 })), [null, 3, 4]);
    // dot.py's docstring: (2, 3, 5) and (2, 10, 3) with axes=(1, 2) give (2, 5, 10)
    assert.deepEqual(joinedShape([[3, 5], [10, 3]], (xs) => new Dot([1, 2]).apply(xs)), [null, 5, 10]);
    // batch_dot's docstring: (100, 20) and (100, 30, 20) with axes (1, 2) give (100, 30)
    assert.deepEqual(joinedShape([[20], [30, 20]], (xs) => new Dot([1, 2]).apply(xs)), [null, 30]);
    // negative axes count from each input's end; keras.layers.dot's axes default to -1
    assert.deepEqual(joinedShape([[2, 3, 4], [4, 6]], (xs) => new Dot([-1, 1]).apply(xs)), [null, 2, 3, 6]);
    assert.deepEqual(joinedShape([[7, 4], [6, 4]], (xs) => layers.dot(xs)), [null, 7, 6]);
  });

  test('dot.py\'s docstring example computes Keras\'s numbers', () => {
    // x = np.arange(10).reshape(1, 5, 2); y = np.arange(10, 20).reshape(1, 2, 5); Dot(axes=(1, 2))([x, y])
    const x = tensor([1, 5, 2], Array.from({ length: 10 }, (_, i) => i));
    const y = tensor([1, 2, 5], Array.from({ length: 10 }, (_, i) => 10 + i));
    const out = dotForward(x, y, new Dot([1, 2]).resolvedAxes([x.shape, y.shape]), false);
    assert.deepEqual(out.shape, [1, 2, 2]);
    assert.deepEqual([...out.data], [260, 360, 320, 445]);
  });

  test('normalize: the cosine proximity, and Keras 3\'s floor for a zero vector (x * min(rsqrt(sum x^2), 1e7))', () => {
    const x = tensor([2, 2], [3, 4, 0, 0]);
    const y = tensor([2, 2], [4, 3, 1, 0]);
    const out = dotForward(x, y, [1, 1], true);
    assert.deepEqual(out.shape, [2, 1]);
    assert.ok(Math.abs(out.data[0]! - 24 / 25) < 1e-12);
    assert.equal(out.data[1], 0);
  });

  test('arguments and config: axes an int or a pair, normalize false by default; bad ones named', () => {
    assert.deepEqual(new Dot(1, { name: 'd' }).getConfig(), { name: 'd', trainable: true, dtype: 'float32', axes: 1, normalize: false });
    assert.deepEqual(new Dot({ axes: [1, 2], normalize: true, name: 'd' }).getConfig(), { name: 'd', trainable: true, dtype: 'float32', axes: [1, 2], normalize: true });
    refused(() => new Dot(undefined as never, { name: 'd' }), ValueError, /^d: axes is required/);
    refused(() => new Dot([1, 2, 3] as never, { name: 'd' }), ValueError, /^d: axes must be an integer or a pair of integers .*got \[1,2,3\]/);
    refused(() => new Dot(1.5, { name: 'd' }), ValueError, /^d: axes must be/);
    refused(() => new Dot(1, { normalize: 'yes' as never, name: 'd' }), ValueError, /^d: normalize must be true or false/);
    refused(() => new Dot({ axes: 1, normalise: true } as never), ValueError, /^Dot: unknown option "normalise"/);
    refused(() => new Dot(1, { name: 'd' }).apply([Input({ shape: [4] }), Input({ shape: [5] })]), ShapeError, /^d: the summed axes differ in size: \(None, 4\) axis 1 has 4, \(None, 5\) axis 1 has 5/);
    refused(() => new Dot(0, { name: 'd' }).apply([Input({ shape: [4] }), Input({ shape: [4] })]), ShapeError, /^d: axis 0 is not a feature axis of input 0 .*the batch axis 0 cannot be summed/);
    refused(() => new Dot(3, { name: 'd' }).apply([Input({ shape: [4] }), Input({ shape: [4] })]), ShapeError, /^d: axis 3 is not a feature axis of input 0 of shape \(None, 4\)/);
    refused(() => new Dot(1, { name: 'd' }).apply([Input({ shape: [4] })]), ShapeError, /^d: a Dot layer takes exactly 2 inputs, got 1/);
  });

  test('summary() as Keras\'s: a Siamese pair of a shared Dense, their difference and cosine', () => {
    const left = Input({ shape: [16], name: 'left' });
    const right = Input({ shape: [16], name: 'right' });
    const embed = new layers.Dense(8, { name: 'embed' });
    const [l, r] = [embed.apply(left), embed.apply(right)];
    const diff = layers.subtract([l, r], { name: 'diff' });
    const cosine = layers.dot([l, r], { axes: 1, normalize: true, name: 'cosine' });
    const model = new Model({ inputs: [left, right], outputs: [diff, cosine], name: 'siamese' });
    assert.deepEqual(rows(model), [
      ['left', 'InputLayer', [null, 16], 0], ['right', 'InputLayer', [null, 16], 0], ['embed', 'Dense', [null, 8], 136], ['diff', 'Subtract', [null, 8], 0], ['cosine', 'Dot', [null, 1], 0],
    ]);
    assert.equal(summaryData(model).params.total, 136);
    assert.match(model.summary({ printFn: () => {} }), /│ cosine \(Dot\)\s+│ \(None, 1\)\s+│\s+0 │ embed\[0\]\[0\], embed\[1\]\[0\]/);
  });
});

describe('merge layers: Keras JSON', () => {
  test('Keras 3 config.json: Subtract, Maximum, Minimum and Dot (axes a list) where the fixture has Add', () => {
    const fixture = readFileSync(new URL('../fixtures/keras/review_classifier.keras3.json', import.meta.url), 'utf8');
    const cases: [string, Record<string, unknown>, unknown][] = [['Subtract', {}, [null, 16]], ['Maximum', {}, [null, 16]], ['Minimum', {}, [null, 16]], ['Dot', { axes: [1, 1], normalize: true }, [null, 1]]];
    for (const [className, extra, shape] of cases) {
      const json = JSON.parse(fixture);
      const residual = json.config.layers.find((entry: { name: string }) => entry.name === 'residual');
      residual.class_name = className;
      Object.assign(residual.config, extra);
      const layer = modelFromJSON(json).getLayer('residual');
      assert.equal(layer.className, className);
      assert.deepEqual(layer.inboundNodes[0]!.outputs[0]!.shape, shape);
      if (layer instanceof Dot) assert.deepEqual([layer.axes, layer.normalize], [[1, 1], true]);
    }
    const json = JSON.parse(fixture);
    Object.assign(json.config.layers.find((entry: { name: string }) => entry.name === 'residual'), { class_name: 'Dot' });
    refused(() => modelFromJSON(json), ValueError, /residual: axes is required/);
    Object.assign(json.config.layers.find((entry: { name: string }) => entry.name === 'residual').config, { axes: 1, normalize: 1 });
    refused(() => modelFromJSON(json), ConfigError, /residual \(Dot\): "normalize" must be true or false, got 1/);
  });

  test('TensorFlow.js reads Strata\'s JSON, Strata reads TensorFlow.js\'s, and the reference computes what TensorFlow.js does', async () => {
    const a = tfl.input({ shape: [6], name: 'a' });
    const b = tfl.input({ shape: [6], name: 'b' });
    const seq = tfl.input({ shape: [4, 6], name: 'seq' });
    const init = (seed: number) => tfl.initializers.randomUniform({ minval: -1, maxval: 1, seed });
    const da = tfl.layers.dense({ units: 6, kernelInitializer: init(1), biasInitializer: init(2), name: 'da' }).apply(a) as tfl.SymbolicTensor;
    const db = tfl.layers.dense({ units: 6, kernelInitializer: init(3), name: 'db' }).apply(b) as tfl.SymbolicTensor;
    // TensorFlow.js has no Subtract layer: its Maximum, Minimum and Dot are the oracle here
    const high = tfl.layers.maximum({ name: 'high' }).apply([da, db, a]) as tfl.SymbolicTensor;
    const low = tfl.layers.minimum({ name: 'low' }).apply([high, db]) as tfl.SymbolicTensor;
    const cosine = tfl.layers.dot({ axes: 1, normalize: true, name: 'cosine' }).apply([high, low]) as tfl.SymbolicTensor;
    const scores = tfl.layers.dot({ axes: [2, 1], name: 'scores' }).apply([seq, low]) as tfl.SymbolicTensor;
    const reference = tfl.model({ inputs: [a, b, seq], outputs: [high, cosine, scores], name: 'tfjs_merges' });
    const model = modelFromJSON(reference.toJSON(null, false) as unknown as Record<string, unknown>);
    assert.deepEqual(rows(model), tfjsRows(reference));
    assert.deepEqual([(model.getLayer('scores') as Dot).axes, (model.getLayer('cosine') as Dot).normalize], [[2, 1], true]);
    const reread = await tfl.models.modelFromJSON({ modelTopology: JSON.parse(model.toJSON()) });
    assert.deepEqual(tfjsRows(reread), tfjsRows(reference));
    model.setWeights(reference.getWeights().map((w) => w.dataSync() as Float32Array));
    const shapes = [[5, 6], [5, 6], [5, 4, 6]];
    const inputs = shapes.map((shape, i) => tf.randomUniform(shape, -2, 2, 'float32', 10 + i));
    const want = reference.predict(inputs) as tf.Tensor[];
    const got = referencePredict(model, inputs.map((x, i) => ({ shape: shapes[i]!, data: x.dataSync() as Float32Array })));
    want.forEach((w, k) => {
      assert.deepEqual(got[k]!.shape, w.shape);
      assert.ok(relativeError(w.dataSync() as Float32Array, got[k]!.data) <= 1e-5, `output ${k}: relative error ${relativeError(w.dataSync() as Float32Array, got[k]!.data)}`);
    });
  });
});
