// Cropping2D on the model side: Keras's three cropping forms and default, checks naming the
// layer and the argument, summary(), Keras JSON (tf.keras 2.x and Keras 3 forms), and
// TensorFlow.js as the oracle for shapes, JSON and the float64 reference forward pass.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfl from '@tensorflow/tfjs-layers';
import { ConfigError, Cropping2D, Input, Model, Sequential, ShapeError, ValueError, modelFromJSON, summaryData } from '../../app/model/index.ts';
import { referencePredict } from '../reference/keras_forward.ts';
import { relativeError } from '../translate/compare.ts';

await tf.setBackend('cpu');

const refused = (run: () => unknown, Kind: typeof ValueError | typeof ShapeError | typeof ConfigError, pattern: RegExp) =>
  assert.throws(run, (e: Error) => e instanceof Kind && pattern.test(e.message), pattern.source);

function rows(model: Model) {
  return summaryData(model).rows.map((r) => [r.name, r.className, r.outputShapes?.[0] ?? null, r.params]);
}

describe('Cropping2D', () => {
  test('Keras\'s forms and default, and its docstring example', () => {
    // keras/src/layers/reshaping/cropping2d.py, "Example": Cropping2D(cropping=((2, 2), (4, 4))) on (2, 28, 28, 3) gives (2, 24, 20, 3)
    assert.deepEqual(new Cropping2D([[2, 2], [4, 4]]).apply(Input({ shape: [28, 28, 3] })).shape, [null, 24, 20, 3]);
    const x = Input({ shape: [8, 9, 2] });
    assert.deepEqual(new Cropping2D().apply(x).shape, [null, 8, 9, 2]);
    assert.deepEqual(new Cropping2D(1).apply(x).shape, [null, 6, 7, 2]);
    assert.deepEqual(new Cropping2D([2, 3]).apply(x).shape, [null, 4, 3, 2]);
    assert.deepEqual(new Cropping2D([[0, 1], [3, 0]]).getConfig().cropping, [[0, 1], [3, 0]]);
    assert.deepEqual(new Cropping2D().getConfig().cropping, [[0, 0], [0, 0]]);
    assert.deepEqual(new Cropping2D(1).apply(Input({ shape: [null, 5, 2] })).shape, [null, null, 3, 2]);
  });

  test('bad arguments and inputs are errors naming the layer and the argument', () => {
    refused(() => new Cropping2D(-1, { name: 'crop' }), ValueError, /^crop: cropping must be an integer >= 0, \[rows, cols\] or \[\[top, bottom\], \[left, right\]\] of integers >= 0, got -1/);
    refused(() => new Cropping2D([1, 2, 3] as never, { name: 'crop' }), ValueError, /^crop: cropping must be .* got \[1,2,3\]/);
    refused(() => new Cropping2D(1, { dataFormat: 'channels_first' as never, name: 'crop' }), ValueError, /^crop: data_format "channels_first" is not supported/);
    refused(() => new Cropping2D(1, { data_format: 'channels_last' } as never), ValueError, /^Cropping2D: unknown option "data_format" \(did you mean dataFormat\?\)/);
    refused(() => new Cropping2D([[2, 2], [0, 0]], { name: 'crop' }).apply(Input({ shape: [4, 4, 1] })), ShapeError, /^crop: cropping \[\[2,2\],\[0,0\]\] leaves nothing of input \(None, 4, 4, 1\)/);
    refused(() => new Cropping2D(1, { name: 'crop' }).apply(Input({ shape: [4, 1] })), ShapeError, /^crop: expected a 4-D input \(batch, h, w, c\), got \(None, 4, 1\)/);
  });

  test('summary() and Keras JSON (tf.keras 2.x round trip, Keras 3 form, refusals by name)', () => {
    const model = new Sequential([new Cropping2D([[1, 0], [2, 2]], { inputShape: [6, 6, 3], name: 'crop' })], { name: 'cropper' });
    assert.match(model.summary({ printFn: () => {} }), /│ crop \(Cropping2D\)\s+│ \(None, 5, 2, 3\)\s+│\s+0 │/);
    const json = model.toJSON();
    assert.equal(modelFromJSON(json).toJSON(), json);
    assert.deepEqual(Object.keys(JSON.parse(json).config.layers[1].config), ['name', 'trainable', 'batch_input_shape', 'dtype', 'cropping', 'data_format']);
    const keras3 = {
      module: 'keras', class_name: 'Sequential', registered_name: null,
      config: {
        name: 'k3', trainable: true, dtype: 'float32',
        layers: [
          { module: 'keras.layers', class_name: 'InputLayer', registered_name: null, config: { batch_shape: [null, 10, 10, 2], dtype: 'float32', sparse: false, name: 'input_layer' } },
          { module: 'keras.layers', class_name: 'Cropping2D', registered_name: null, build_config: { input_shape: [null, 10, 10, 2] }, config: { name: 'cropping2d', trainable: true, dtype: 'float32', cropping: [[1, 2], [3, 0]], data_format: 'channels_last' } },
        ],
      },
    };
    assert.deepEqual(rows(modelFromJSON(keras3)), [['cropping2d', 'Cropping2D', [null, 7, 7, 2], 0]]);
    const bad = JSON.parse(json);
    bad.config.layers[1].config.cropping = 'all';
    refused(() => modelFromJSON(bad), ValueError, /^model JSON: crop: cropping must be .* got "all"/);
    bad.config.layers[1].config = { ...bad.config.layers[1].config, cropping: 1, data_format: 'channels_first' };
    refused(() => modelFromJSON(bad), ConfigError, /crop \(Cropping2D\): "data_format" must be one of "channels_last"/);
  });

  test('TensorFlow.js reads Strata\'s JSON, and the reference computes what it computes', async () => {
    const x = tfl.input({ shape: [7, 8, 3] });
    const tfjsModel = tfl.model({ inputs: x, outputs: tfl.layers.cropping2D({ cropping: [[1, 2], [3, 0]], name: 'crop' }).apply(x) as tfl.SymbolicTensor });
    const model = modelFromJSON(tfjsModel.toJSON(null, false) as unknown as Record<string, unknown>);
    const reread = await tfl.models.modelFromJSON({ modelTopology: JSON.parse(model.toJSON()) });
    assert.deepEqual(reread.outputs[0]!.shape, tfjsModel.outputs[0]!.shape);
    assert.deepEqual(model.outputs[0]!.shape, tfjsModel.outputs[0]!.shape);
    const input = tf.randomUniform([2, 7, 8, 3], -1, 1, 'float32', 3);
    const expected = (tfjsModel.predict(input) as tf.Tensor).dataSync() as Float32Array;
    const actual = referencePredict(model, [{ shape: [2, 7, 8, 3], data: input.dataSync() as Float32Array }])[0]!;
    assert.equal(relativeError(expected, actual.data), 0);
  });
});
