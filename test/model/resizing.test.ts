// UpSampling2D, Resizing and CenterCrop on the model side: Keras's arguments and defaults, checks
// naming the layer and the argument, summary(), Keras JSON (tf.keras 2.x and Keras 3 forms) and
// TensorFlow.js's topology both ways, and the float64 reference's values: TensorFlow.js as the
// oracle where it computes as Keras does (nearest UpSampling2D), hand-worked half-pixel values
// where it does not (its bilinear resize uses corner-aligned pixel centres, Keras's do not).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfl from '@tensorflow/tfjs-layers';
import { CenterCrop, ConfigError, Input, Model, Resizing, Sequential, ShapeError, UpSampling2D, ValueError, modelFromJSON, summaryData } from '../../app/model/index.ts';
import { referencePredict, resizeForward } from '../reference/keras_forward.ts';
import { tensor } from '../reference/tensor.ts';
import { relativeError } from '../translate/compare.ts';

await tf.setBackend('cpu');

const refused = (run: () => unknown, Kind: typeof ValueError | typeof ShapeError | typeof ConfigError, pattern: RegExp) =>
  assert.throws(run, (e: Error) => e instanceof Kind && pattern.test(e.message), pattern.source);

function rows(model: Model) {
  return summaryData(model).rows.filter((r) => r.className !== 'InputLayer').map((r) => [r.name, r.className, r.outputShapes?.[0] ?? null, r.params]);
}

interface Keras3Json extends Record<string, unknown> {
  config: { layers: { config: Record<string, unknown> }[] };
}

/** A Keras 3 Sequential of an InputLayer of batchShape and one layer of className with config. */
function keras3(className: string, config: Record<string, unknown>, batchShape: number[]): Keras3Json {
  const inputLayer = { module: 'keras.layers', class_name: 'InputLayer', registered_name: null, config: { batch_shape: [null, ...batchShape], dtype: 'float32', sparse: false, name: 'input_layer' } };
  const layer = { module: 'keras.layers', class_name: className, registered_name: null, build_config: { input_shape: [null, ...batchShape] }, config };
  return { module: 'keras', class_name: 'Sequential', registered_name: null, config: { name: 'k3', trainable: true, dtype: 'float32', layers: [inputLayer, layer] } } as Keras3Json;
}

describe('UpSampling2D', () => {
  test("Keras's defaults and forms, and its docstring example", () => {
    // keras/src/layers/reshaping/up_sampling2d.py, "Example": UpSampling2D(size=(1, 2)) on (2, 2, 1, 3) gives (2, 2, 2, 3)
    assert.deepEqual(new UpSampling2D([1, 2]).apply(Input({ shape: [2, 1, 3] })).shape, [null, 2, 2, 3]);
    const layer = new UpSampling2D();
    assert.deepEqual([layer.size, layer.interpolation], [[2, 2], 'nearest']);
    assert.deepEqual(new UpSampling2D(3).apply(Input({ shape: [4, 5, 2] })).shape, [null, 12, 15, 2]);
    assert.deepEqual(new UpSampling2D([2, 3], { interpolation: 'bilinear' }).apply(Input({ shape: [null, 5, 2] })).shape, [null, null, 15, 2]);
  });

  test('bad arguments and inputs are errors naming the layer and the argument', () => {
    refused(() => new UpSampling2D(0, { name: 'up' }), ValueError, /^up: size must be an integer > 0, got 0/);
    refused(() => new UpSampling2D([2, 2, 2] as never, { name: 'up' }), ValueError, /^up: size must be an integer > 0 or \[rows, cols\], got \[2,2,2\]/);
    refused(() => new UpSampling2D(2, { interpolation: 'bicubic' as never, name: 'up' }), ValueError, /^up: interpolation "bicubic" is not supported; Strata has "nearest" and "bilinear"/);
    refused(() => new UpSampling2D(2, { dataFormat: 'channels_first' as never, name: 'up' }), ValueError, /^up: data_format "channels_first" is not supported/);
    refused(() => new UpSampling2D(2, { data_format: 'channels_last' } as never), ValueError, /^UpSampling2D: unknown option "data_format" \(did you mean dataFormat\?\)/);
    refused(() => new UpSampling2D(2, { name: 'up' }).apply(Input({ shape: [4, 2] })), ShapeError, /^up: expected a 4-D input \(batch, h, w, c\), got \(None, 4, 2\)/);
  });

  test('summary() and Keras JSON (tf.keras 2.x round trip, Keras 3 form, refusals by name)', () => {
    const model = new Sequential([new UpSampling2D([2, 3], { interpolation: 'bilinear', inputShape: [4, 4, 3], name: 'up' })], { name: 'upsampler' });
    assert.match(model.summary({ printFn: () => {} }), /│ up \(UpSampling2D\)\s+│ \(None, 8, 12, 3\)\s+│\s+0 │/);
    const json = model.toJSON();
    assert.equal(modelFromJSON(json).toJSON(), json);
    assert.deepEqual(Object.keys(JSON.parse(json).config.layers[1].config), ['name', 'trainable', 'batch_input_shape', 'dtype', 'size', 'data_format', 'interpolation']);
    const k3 = keras3('UpSampling2D', { name: 'up_sampling2d', trainable: true, dtype: 'float32', size: [2, 2], data_format: 'channels_last', interpolation: 'bilinear' }, [5, 6, 2]);
    assert.deepEqual(rows(modelFromJSON(k3)), [['up_sampling2d', 'UpSampling2D', [null, 10, 12, 2], 0]]);
    k3.config.layers[1]!.config = { ...k3.config.layers[1]!.config, interpolation: 'lanczos3' };
    refused(() => modelFromJSON(k3), ValueError, /^model JSON: up_sampling2d: interpolation "lanczos3" is not supported/);
  });

  test('TensorFlow.js reads and writes the topology; its nearest upsampling is the reference\'s', async () => {
    const x = tfl.input({ shape: [3, 4, 2] });
    const tfjsModel = tfl.model({ inputs: x, outputs: tfl.layers.upSampling2d({ size: [3, 2], name: 'up' }).apply(x) as tfl.SymbolicTensor });
    const model = modelFromJSON(tfjsModel.toJSON(null, false) as unknown as Record<string, unknown>);
    const reread = await tfl.models.modelFromJSON({ modelTopology: JSON.parse(model.toJSON()) });
    assert.deepEqual(reread.outputs[0]!.shape, tfjsModel.outputs[0]!.shape);
    assert.deepEqual(model.outputs[0]!.shape, [null, 9, 8, 2]);
    const input = tf.randomUniform([2, 3, 4, 2], -1, 1, 'float32', 5);
    const expected = (tfjsModel.predict(input) as tf.Tensor).dataSync() as Float32Array;
    const actual = referencePredict(model, [{ shape: [2, 3, 4, 2], data: input.dataSync() as Float32Array }])[0]!;
    assert.equal(relativeError(expected, actual.data), 0);
  });

  test("bilinear upsampling samples at half-pixel centres, as TensorFlow 2 and PyTorch's align_corners=False do", () => {
    // [0, 1] doubled: outputs at input positions -0.25, 0.25, 0.75, 1.25, clamped into the image
    const row = tensor([1, 1, 2, 1]);
    row.data.set([0, 1]);
    assert.deepEqual([...resizeForward(row, 1, 4, 'bilinear').data], [0, 0.25, 0.75, 1]);
    // down by 2: each output sits between two inputs, their mean; nearest takes the right one (floor((o + 0.5) * 2))
    const four = tensor([1, 1, 4, 1]);
    four.data.set([0, 1, 2, 3]);
    assert.deepEqual([...resizeForward(four, 1, 2, 'bilinear').data], [0.5, 2.5]);
    assert.deepEqual([...resizeForward(four, 1, 2, 'nearest').data], [1, 3]);
  });
});

describe('Resizing', () => {
  test("Keras's defaults and summary", () => {
    const layer = new Resizing(5, 7);
    assert.deepEqual([layer.height, layer.width, layer.interpolation], [5, 7, 'bilinear']);
    const model = new Sequential([new Resizing(5, 7, { interpolation: 'nearest', inputShape: [10, 12, 3], name: 'resize' })], { name: 'resizer' });
    assert.match(model.summary({ printFn: () => {} }), /│ resize \(Resizing\)\s+│ \(None, 5, 7, 3\)\s+│\s+0 │/);
    assert.deepEqual(new Resizing(4, 4).apply(Input({ shape: [null, null, 3] })).shape, [null, 4, 4, 3]);
  });

  test('bad arguments are errors naming the layer and the argument', () => {
    refused(() => new Resizing(0, 4, { name: 'resize' }), ValueError, /^resize: height must be an integer > 0, got 0/);
    refused(() => new Resizing(4, 2.5, { name: 'resize' }), ValueError, /^resize: width must be an integer > 0, got 2.5/);
    refused(() => new Resizing(4, 4, { interpolation: 'area' as never, name: 'resize' }), ValueError, /^resize: interpolation "area" is not supported/);
    refused(() => new Resizing(4, 4, { cropToAspectRatio: true, name: 'resize' }), ValueError, /^resize: crop_to_aspect_ratio=true is not supported; Strata resizes the whole image/);
    refused(() => new Resizing(4, 4, { padToAspectRatio: true, name: 'resize' }), ValueError, /^resize: pad_to_aspect_ratio=true is not supported/);
    refused(() => new Resizing(4, 4, { crop_to_aspect_ratio: false } as never), ValueError, /^Resizing: unknown option "crop_to_aspect_ratio" \(did you mean cropToAspectRatio\?\)/);
  });

  test('Keras JSON: tf.keras 2.x round trip, the Keras 3 form, TensorFlow.js\'s topology, refusals by name', async () => {
    const model = new Sequential([new Resizing(6, 4, { inputShape: [8, 8, 2], name: 'resize' })], { name: 'resizer' });
    const json = model.toJSON();
    assert.equal(modelFromJSON(json).toJSON(), json);
    // keras/src/layers/preprocessing/image_preprocessing/resizing.py, get_config
    const k3 = keras3('Resizing', { name: 'resizing', trainable: true, dtype: 'float32', height: 3, width: 5, interpolation: 'bilinear', crop_to_aspect_ratio: false, pad_to_aspect_ratio: false, fill_mode: 'constant', fill_value: 0.0, data_format: 'channels_last' }, [9, 9, 1]);
    assert.deepEqual(rows(modelFromJSON(k3)), [['resizing', 'Resizing', [null, 3, 5, 1], 0]]);
    k3.config.layers[1]!.config = { ...k3.config.layers[1]!.config, crop_to_aspect_ratio: true };
    refused(() => modelFromJSON(k3), ValueError, /^model JSON: resizing: crop_to_aspect_ratio=true is not supported/);
    // tf.keras 2.x: height, width, interpolation, crop_to_aspect_ratio (TensorFlow.js writes the same)
    const x = tfl.input({ shape: [8, 6, 3] });
    const tfjsModel = tfl.model({ inputs: x, outputs: tfl.layers.resizing({ height: 4, width: 3, interpolation: 'nearest', name: 'resize' }).apply(x) as tfl.SymbolicTensor });
    const read = modelFromJSON(tfjsModel.toJSON(null, false) as unknown as Record<string, unknown>);
    assert.deepEqual(rows(read), [['resize', 'Resizing', [null, 4, 3, 3], 0]]);
    // TensorFlow.js reads it back (its Resizing's output shape drops the batch axis, so only the config is compared)
    const reread = await tfl.models.modelFromJSON({ modelTopology: JSON.parse(read.toJSON()) });
    const config = reread.getLayer('resize').getConfig();
    assert.deepEqual([config.height, config.width, config.interpolation], [4, 3, 'nearest']);
  });
});

describe('CenterCrop', () => {
  test("Keras 3's window: int((in - out) / 2) rows and columns before it", () => {
    // center_crop.py, transform_images: h_start = int(h_diff / 2)
    const layer = new CenterCrop(4, 5, { name: 'crop' });
    assert.deepEqual(layer.cropping(7, 8), [[1, 2], [1, 2]]);
    assert.deepEqual(layer.cropping(4, 5), [[0, 0], [0, 0]]);
    assert.deepEqual(layer.cropping(10, 6), [[3, 3], [0, 1]]);
    const model = new Sequential([new CenterCrop(4, 5, { inputShape: [7, 8, 2], name: 'crop' })], { name: 'cropper' });
    assert.match(model.summary({ printFn: () => {} }), /│ crop \(CenterCrop\)\s+│ \(None, 4, 5, 2\)\s+│\s+0 │/);
    const x = tensor([1, 7, 8, 2]);
    x.data.forEach((_, i) => (x.data[i] = i));
    const out = referencePredict(model, [x])[0]!;
    // the first output pixel is input (1, 1), channel 0: ((0 * 7 + 1) * 8 + 1) * 2
    assert.equal(out.data[0], 18);
  });

  test('a smaller or unknown input, and bad arguments, are errors naming the layer', () => {
    refused(() => new CenterCrop(8, 4, { name: 'crop' }).apply(Input({ shape: [6, 6, 1] })), ShapeError, /^crop: input \(None, 6, 6, 1\) is smaller than the crop 8x4; Strata does not resize small images as Keras 3 does/);
    refused(() => new CenterCrop(4, 4, { name: 'crop' }).apply(Input({ shape: [null, 6, 1] })), ShapeError, /^crop: CenterCrop needs a known height and width/);
    refused(() => new CenterCrop(-1, 4, { name: 'crop' }), ValueError, /^crop: height must be an integer > 0, got -1/);
    refused(() => new CenterCrop(4, 4, { dataFormat: 'channels_first' as never, name: 'crop' }), ValueError, /^crop: data_format "channels_first" is not supported/);
  });

  test('Keras JSON: round trip, Keras 3 form, TensorFlow.js topology', async () => {
    const model = new Sequential([new CenterCrop(3, 3, { inputShape: [5, 5, 1], name: 'crop' })], { name: 'cropper' });
    const json = model.toJSON();
    assert.equal(modelFromJSON(json).toJSON(), json);
    const k3 = keras3('CenterCrop', { name: 'center_crop', trainable: true, dtype: 'float32', height: 2, width: 3, data_format: 'channels_last' }, [4, 4, 3]);
    assert.deepEqual(rows(modelFromJSON(k3)), [['center_crop', 'CenterCrop', [null, 2, 3, 3], 0]]);
    const x = tfl.input({ shape: [6, 7, 3] });
    const tfjsModel = tfl.model({ inputs: x, outputs: tfl.layers.centerCrop({ height: 4, width: 3, name: 'crop' }).apply(x) as tfl.SymbolicTensor });
    const read = modelFromJSON(tfjsModel.toJSON(null, false) as unknown as Record<string, unknown>);
    assert.deepEqual(rows(read), [['crop', 'CenterCrop', [null, 4, 3, 3], 0]]);
    const reread = await tfl.models.modelFromJSON({ modelTopology: JSON.parse(read.toJSON()) });
    assert.deepEqual(reread.outputs[0]!.shape, [null, 4, 3, 3]);
    const bad = JSON.parse(json);
    bad.config.layers[1].config.height = 'big';
    refused(() => modelFromJSON(bad), ValueError, /^model JSON: crop: height must be an integer > 0, got "big"/);
  });
});
