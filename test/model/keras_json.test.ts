// Keras JSON in and out: round trips, files in tf.keras 2.x / Keras 3 layouts, and
// TensorFlow.js (an independent Keras implementation) as an oracle in both directions:
// it reads what Strata writes, and Strata reads what it writes, with the same shapes and counts.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfl from '@tensorflow/tfjs-layers';
import {
  ConfigError, Dense, Input, Model, Sequential, add, layers, modelFromJSON, summaryData, type Layer,
} from '../../app/model/index.ts';
import productImageClassifier from '../../examples/product-image-classifier.ts';
import purchasePredictor from '../../examples/purchase-predictor.ts';

await tf.setBackend('cpu');

const fixture = (name: string) => readFileSync(new URL(`../fixtures/keras/${name}`, import.meta.url), 'utf8');

/** Per-layer (name, class, output shape, params) as Strata sees a model. */
function strataRows(model: Model) {
  return summaryData(model).rows.map((r) => [r.name, r.className, r.outputShapes?.[0] ?? null, r.params]);
}

/** The same rows as TensorFlow.js sees a model (InputLayers dropped for Sequential, as Keras lists them). */
function tfjsRows(model: tfl.LayersModel, sequential: boolean) {
  return model.layers
    .filter((l) => !(sequential && l.getClassName() === 'InputLayer'))
    .map((l) => [l.name, l.getClassName(), l.outputShape, l.countParams()]);
}

describe('Keras JSON round trip', () => {
  for (const model of [productImageClassifier, purchasePredictor]) {
    test(`${model.name}: toJSON -> modelFromJSON -> toJSON is the same`, () => {
      const json = model.toJSON();
      const loaded = modelFromJSON(json);
      assert.equal(loaded.toJSON(), json);
      assert.equal(loaded.summary(), model.summary());
      assert.deepEqual(loaded.describeGraph().edges, model.describeGraph().edges);
    });
  }

  test('shared layers and a nested model survive the round trip', () => {
    const inner = Input({ shape: [6], name: 'inner_in' });
    const block = new Model({ inputs: inner, outputs: new Dense(6, { name: 'block_dense' }).apply(inner), name: 'block' });
    const a = Input({ shape: [6], name: 'a' });
    const b = Input({ shape: [6], name: 'b' });
    const shared = new Dense(6, { name: 'shared' });
    const y = add([block.apply(shared.apply(a)), shared.apply(b)], { name: 'join' });
    const model = new Model({ inputs: [a, b], outputs: y, name: 'nested_shared' });
    const loaded = modelFromJSON(model.toJSON());
    assert.equal(loaded.toJSON(), model.toJSON());
    assert.equal(loaded.countParams(), 84);
    assert.equal((loaded.getLayer('shared') as Layer).inboundNodes.length, 2);
  });

  test('a subclassed model is saved as the Functional graph it traces to', () => {
    class TwoLayer extends Model {
      hidden = new Dense(5, { activation: 'tanh', name: 'hidden' });
      out = new Dense(2, { name: 'out' });
      override call(x: ReturnType<typeof Input>) {
        return this.out.apply(this.hidden.apply(x));
      }
    }
    const model = new TwoLayer({ name: 'two_layer' });
    model.build([null, 3]);
    const json = JSON.parse(model.toJSON());
    assert.equal(json.class_name, 'Functional');
    const loaded = modelFromJSON(json);
    assert.equal(loaded.countParams(), model.countParams());
    assert.deepEqual(loaded.layers.slice(1).map((l) => l.name), ['hidden', 'out']);
  });

  test('every layer type keeps its config', () => {
    const x = Input({ shape: [16, 16, 3], name: 'img' });
    let y = new layers.Rescaling(1 / 255, { offset: -0.5, name: 'scale' }).apply(x);
    y = new layers.Conv2D(4, [3, 3], { strides: 1, padding: 'same', dilationRate: 2, activation: 'elu', useBias: false, kernelInitializer: 'he_normal', name: 'conv' }).apply(y);
    y = new layers.BatchNormalization({ momentum: 0.9, epsilon: 1e-5, name: 'bn' }).apply(y);
    y = new layers.Activation('swish', { name: 'act' }).apply(y);
    y = new layers.AveragePooling2D(2, { padding: 'same', name: 'avg' }).apply(y);
    y = new layers.MaxPooling2D({ poolSize: 3, strides: 1, name: 'max' }).apply(y);
    const g = new layers.GlobalAveragePooling2D({ name: 'gap' }).apply(y);
    const r = new layers.Reshape([-1, 2], { name: 'reshape' }).apply(new layers.Flatten({ name: 'flat' }).apply(y));
    const s = new layers.GlobalAveragePooling1D({ name: 'gap1d' }).apply(r);
    const tokens = Input({ shape: [10], name: 'tokens', dtype: 'int32' });
    const e = new layers.GlobalAveragePooling1D({ name: 'gap_tokens' }).apply(new layers.Embedding(30, 4, { name: 'embed' }).apply(tokens));
    const joined = layers.concatenate([g, s, e], { name: 'cat' });
    const out = new layers.Dense(3, { activation: 'leaky_relu', name: 'out' }).apply(new layers.Dropout(0.2, { seed: 7, name: 'drop' }).apply(joined));
    const model = new Model({ inputs: [x, tokens], outputs: out, name: 'all_layers' });
    const json = model.toJSON();
    const loaded = modelFromJSON(json);
    assert.equal(loaded.toJSON(), json);
    assert.deepEqual(strataRows(loaded), strataRows(model));
  });
});

describe('Keras files from other tools', () => {
  test('tf.keras 2.x Sequential JSON (Conv2D, MaxPooling2D, Flatten, Dense, Dropout)', () => {
    const model = modelFromJSON(fixture('product_image_classifier.tf2.json'));
    assert.ok(model instanceof Sequential);
    assert.equal(model.countParams(), 822922);
    assert.deepEqual(strataRows(model), strataRows(productImageClassifier));
  });

  test('tf.keras 2.x Functional JSON with two inputs and Concatenate', () => {
    const text = fixture('purchase_predictor.tf2.json');
    const model = modelFromJSON(text);
    assert.equal(model.countParams(), 799233);
    assert.deepEqual(strataRows(model), strataRows(purchasePredictor));
    // Writing it back gives tf.keras's structure: same layers, inbound nodes, inputs and outputs.
    const original = JSON.parse(text).config;
    const written = JSON.parse(model.toJSON()).config;
    const structure = (c: { layers: { class_name: string; name: string; inbound_nodes: unknown }[]; input_layers: unknown; output_layers: unknown }) => ({
      layers: c.layers.map((l) => [l.class_name, l.name, l.inbound_nodes]),
      inputs: c.input_layers,
      outputs: c.output_layers,
    });
    assert.deepEqual(structure(written), structure(original));
  });

  test('Keras 3 config.json: dtype policies, keras tensors in inbound nodes, Embedding, residual Add', () => {
    const model = modelFromJSON(fixture('review_classifier.keras3.json'));
    assert.equal(model.countParams(), 5000 * 16 + 16 * 16 + 16 + 17);
    assert.deepEqual(model.layers.map((l) => l.className), ['InputLayer', 'Embedding', 'GlobalAveragePooling1D', 'Dense', 'Add', 'Dense']);
    assert.deepEqual(model.outputs[0]!.shape, [null, 1]);
  });

  test('TensorFlow.js model.json (modelTopology with model_config, weightsManifest)', () => {
    const json = {
      modelTopology: { keras_version: '2.15.0', backend: 'tensorflow', model_config: JSON.parse(fixture('product_image_classifier.tf2.json')), training_config: { loss: 'categorical_crossentropy' } },
      weightsManifest: [{ paths: ['group1-shard1of1.bin'], weights: [] }],
      format: 'layers-model',
    };
    const model = modelFromJSON(json);
    assert.equal(model.countParams(), 822922);
    assert.deepEqual(model.trainingConfig, { loss: 'categorical_crossentropy' });
  });
});

describe('what Strata cannot represent is an error naming it', () => {
  const withLayer = (patch: (layer: Record<string, unknown>) => void) => {
    const json = JSON.parse(fixture('product_image_classifier.tf2.json'));
    patch(json.config.layers[6]);
    return json;
  };

  test('an unsupported layer class', () => {
    const json = withLayer((l) => (l.class_name = 'ConvLSTM2D'));
    assert.throws(() => modelFromJSON(json), (e: Error) => e instanceof ConfigError && /layer "dense1" has unsupported class "ConvLSTM2D"; supported: .*Conv2D/.test(e.message));
  });

  test('an unknown config key', () => {
    const json = withLayer((l) => ((l.config as Record<string, unknown>).units_per_head = 4));
    assert.throws(() => modelFromJSON(json), /dense1 \(Dense\): unsupported config key "units_per_head"/);
  });

  test('a regularizer or constraint Strata does not have', () => {
    const json = withLayer((l) => ((l.config as Record<string, unknown>).kernel_regularizer = { class_name: 'OrthogonalRegularizer', config: { factor: 0.01 } }));
    assert.throws(() => modelFromJSON(json), /dense1\.kernel_regularizer: unknown regularizer "OrthogonalRegularizer"; supported: L1, l1, L2, l2, L1L2, l1_l2/);
    const constraint = withLayer((l) => ((l.config as Record<string, unknown>).bias_constraint = 'radial'));
    assert.throws(() => modelFromJSON(constraint), /dense1\.bias_constraint: unknown constraint "radial"/);
  });

  test('an unsupported initializer and activation', () => {
    const init = withLayer((l) => ((l.config as Record<string, unknown>).kernel_initializer = { class_name: 'Identity', config: { gain: 1 } }));
    assert.throws(() => modelFromJSON(init), /dense1\.kernel_initializer: unsupported initializer "Identity"/);
    const act = withLayer((l) => ((l.config as Record<string, unknown>).activation = 'mish'));
    assert.throws(() => modelFromJSON(act), /dense1: unknown activation "mish"/);
  });

  test('masking and channels_first', () => {
    const json = JSON.parse(fixture('review_classifier.keras3.json'));
    json.config.layers[1].config.mask_zero = true;
    assert.throws(() => modelFromJSON(json), /embedding \(Embedding\): "mask_zero" = true is not supported/);
    const cf = withLayer(() => {});
    cf.config.layers[1].config.data_format = 'channels_first';
    assert.throws(() => modelFromJSON(cf), /conv1 \(Conv2D\): "data_format" must be one of "channels_last", got "channels_first"/);
  });

  test('malformed files', () => {
    assert.throws(() => modelFromJSON('{"class_name": ', 'broken.json'), /broken.json: not valid JSON/);
    assert.throws(() => modelFromJSON('[]', 'list.json'), /list.json: expected a JSON object/);
    assert.throws(() => modelFromJSON('{"name": "x"}', 'other.json'), /other.json: no "class_name" at the top level/);
    const dangling = JSON.parse(fixture('purchase_predictor.tf2.json'));
    dangling.config.layers[1].inbound_nodes = [[['no_such_layer', 0, 0, {}]]];
    assert.throws(() => modelFromJSON(dangling), /refers to layer "no_such_layer", which is not in the model/);
  });
});

/** Models built with TensorFlow.js's own layers, covering every layer type Strata has. */
function tfjsModels(): { model: tfl.LayersModel; sequential: boolean }[] {
  const seq = tfl.sequential({
    name: 'tfjs_cnn',
    layers: [
      tfl.layers.rescaling({ scale: 1 / 255, inputShape: [28, 28, 1], name: 'rescale' }),
      tfl.layers.conv2d({ filters: 8, kernelSize: 3, padding: 'same', activation: 'relu', name: 'c1' }),
      tfl.layers.batchNormalization({ name: 'bn1' }),
      tfl.layers.maxPooling2d({ poolSize: 2, name: 'p1' }),
      tfl.layers.conv2d({ filters: 16, kernelSize: [3, 5], strides: 2, activation: 'selu', name: 'c2' }),
      tfl.layers.averagePooling2d({ poolSize: 2, strides: 1, name: 'p2' }),
      tfl.layers.conv2d({ filters: 4, kernelSize: 3, dilationRate: 2, padding: 'same', activation: 'tanh', useBias: false, name: 'c3' }),
      tfl.layers.flatten({ name: 'flat' }),
      tfl.layers.reshape({ targetShape: [20, 4], name: 'rs' }),
      tfl.layers.globalAveragePooling1d({ name: 'gap1' }),
      tfl.layers.dense({ units: 10, activation: 'softmax', name: 'out' }),
    ],
  });
  const image = tfl.input({ shape: [32, 32, 3], name: 'image' });
  const tokens = tfl.input({ shape: [12], name: 'tokens' });
  const features = tfl.layers.globalAveragePooling2d({ name: 'gap2' }).apply(tfl.layers.conv2d({ filters: 6, kernelSize: 3, activation: 'elu', name: 'conv' }).apply(image)) as tfl.SymbolicTensor;
  const words = tfl.layers.globalAveragePooling1d({ name: 'gap_words' }).apply(tfl.layers.embedding({ inputDim: 100, outputDim: 6, name: 'emb' }).apply(tokens)) as tfl.SymbolicTensor;
  const summed = tfl.layers.add({ name: 'sum' }).apply([features, words]) as tfl.SymbolicTensor;
  const joined = tfl.layers.concatenate({ name: 'cat' }).apply([summed, features]) as tfl.SymbolicTensor;
  const hidden = tfl.layers.dropout({ rate: 0.25, name: 'drop' }).apply(tfl.layers.dense({ units: 8, activation: 'swish', name: 'hidden' }).apply(joined)) as tfl.SymbolicTensor;
  const outA = tfl.layers.activation({ activation: 'sigmoid', name: 'prob' }).apply(tfl.layers.dense({ units: 1, name: 'logit' }).apply(hidden)) as tfl.SymbolicTensor;
  const outB = tfl.layers.dense({ units: 3, activation: 'softmax', name: 'kind' }).apply(hidden) as tfl.SymbolicTensor;
  const functional = tfl.model({ inputs: [image, tokens], outputs: [outA, outB], name: 'tfjs_two_heads' });
  return [{ model: seq, sequential: true }, { model: functional, sequential: false }];
}

describe('TensorFlow.js as an oracle', () => {
  for (const { model: reference, sequential } of tfjsModels()) {
    test(`${reference.name}: Strata reads TensorFlow.js's JSON with the same shapes and counts`, () => {
      const model = modelFromJSON(reference.toJSON(null, false) as unknown as Record<string, unknown>);
      assert.deepEqual(strataRows(model), tfjsRows(reference, sequential));
      assert.equal(model.countParams(), reference.countParams());
    });

    test(`${reference.name}: TensorFlow.js reads Strata's JSON back with the same shapes and counts`, async () => {
      const model = modelFromJSON(reference.toJSON(null, false) as unknown as Record<string, unknown>);
      const reread = await tfl.models.modelFromJSON({ modelTopology: JSON.parse(model.toJSON()) });
      assert.deepEqual(tfjsRows(reread, sequential), tfjsRows(reference, sequential));
    });
  }

  test('a Reshape with an inferred dimension (null in TensorFlow.js JSON, -1 in Keras) is computed, as Keras does', () => {
    const reference = tfl.sequential({ layers: [tfl.layers.reshape({ targetShape: [-1, 4], inputShape: [12], name: 'rs' })] });
    const model = modelFromJSON(reference.toJSON(null, false) as unknown as Record<string, unknown>);
    assert.deepEqual(model.outputs[0]!.shape, [null, 3, 4]);
  });

  for (const model of [productImageClassifier, purchasePredictor]) {
    test(`${model.name}: TensorFlow.js agrees with the seed example's summary`, async () => {
      const reread = await tfl.models.modelFromJSON({ modelTopology: JSON.parse(model.toJSON()) });
      assert.deepEqual(tfjsRows(reread, model instanceof Sequential), strataRows(model));
    });
  }
});
