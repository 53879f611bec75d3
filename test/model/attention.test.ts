// Keras's Attention layer: arguments and defaults, checks naming the layer and the argument,
// the call arguments use_causal_mask and return_attention_scores (kept on the node, written
// to and read from Keras JSON in tf.keras 2.x's and Keras 3's forms), summary() counts, and
// a tf.keras 2.11 Functional model file with an Attention layer. The ONNX translation and the
// engine run the cases of test/translate/models.ts (attentionCases).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Attention, ConfigError, Input, LayerNormalization, Model, MultiHeadAttention, ShapeError, ValueError, layers, modelFromJSON, summaryData } from '../../app/model/index.ts';
import { exportOnnx } from '../../app/translate/to_onnx.ts';
import { referencePredict } from '../reference/keras_forward.ts';
import { tensor } from '../reference/tensor.ts';

const refused = (run: () => unknown, Kind: typeof ValueError | typeof ShapeError | typeof ConfigError, pattern: RegExp) =>
  assert.throws(run, (e: Error) => e instanceof Kind && pattern.test(e.message));

/**
 * What tf.keras 2.11's model.to_json() writes for
 *   tokens = Input((8,), dtype='int32'); x = Embedding(50, 16)(tokens)
 *   a, scores = Attention(use_scale=True)([x, x], use_causal_mask=True, return_attention_scores=True)
 *   out = Dense(2, activation='softmax')(GlobalAveragePooling1D()(a)); Model(tokens, [out, scores])
 * written by hand from its source (no such file was found in public repositories): the layer
 * configs from keras/layers/attention/attention.py (use_scale, score_mode) and
 * base_dense_attention.py (dropout) over keras/engine/base_layer.py's name, trainable, dtype;
 * the call's kwargs on every reference of its first argument, as keras/engine/node.py's
 * Node.serialize() writes them; the rest as keras/engine/functional.py's get_config().
 */
const TF_KERAS_2_11 = JSON.stringify({
  class_name: 'Functional',
  config: {
    name: 'model',
    layers: [
      { class_name: 'InputLayer', config: { batch_input_shape: [null, 8], dtype: 'int32', sparse: false, ragged: false, name: 'tokens' }, name: 'tokens', inbound_nodes: [] },
      {
        class_name: 'Embedding',
        config: {
          name: 'embedding', trainable: true, batch_input_shape: [null, 8], dtype: 'float32', input_dim: 50, output_dim: 16,
          embeddings_initializer: { class_name: 'RandomUniform', config: { minval: -0.05, maxval: 0.05, seed: null } },
          embeddings_regularizer: null, activity_regularizer: null, embeddings_constraint: null, mask_zero: false, input_length: null,
        },
        name: 'embedding',
        inbound_nodes: [[['tokens', 0, 0, {}]]],
      },
      {
        class_name: 'Attention',
        config: { name: 'attention', trainable: true, dtype: 'float32', dropout: 0.0, use_scale: true, score_mode: 'dot' },
        name: 'attention',
        inbound_nodes: [[['embedding', 0, 0, { use_causal_mask: true, return_attention_scores: true }], ['embedding', 0, 0, { use_causal_mask: true, return_attention_scores: true }]]],
      },
      { class_name: 'GlobalAveragePooling1D', config: { name: 'global_average_pooling1d', trainable: true, dtype: 'float32', data_format: 'channels_last', keepdims: false }, name: 'global_average_pooling1d', inbound_nodes: [[['attention', 0, 0, {}]]] },
      {
        class_name: 'Dense',
        config: {
          name: 'dense', trainable: true, dtype: 'float32', units: 2, activation: 'softmax', use_bias: true,
          kernel_initializer: { class_name: 'GlorotUniform', config: { seed: null } }, bias_initializer: { class_name: 'Zeros', config: {} },
          kernel_regularizer: null, bias_regularizer: null, activity_regularizer: null, kernel_constraint: null, bias_constraint: null,
        },
        name: 'dense',
        inbound_nodes: [[['global_average_pooling1d', 0, 0, {}]]],
      },
    ],
    input_layers: [['tokens', 0, 0]],
    output_layers: [['dense', 0, 0], ['attention', 0, 1]],
  },
  keras_version: '2.11.0',
  backend: 'tensorflow',
});

describe('Attention: Keras API', () => {
  test('Keras\'s defaults and config (dropout, use_scale, score_mode)', () => {
    const layer = new Attention({ name: 'a' });
    assert.deepEqual(layer.getConfig(), { name: 'a', trainable: true, dtype: 'float32', dropout: 0, use_scale: false, score_mode: 'dot' });
    layer.apply([Input({ shape: [3, 4] }), Input({ shape: [5, 4] })]);
    assert.equal(layer.countParams(), 0);
  });

  test('weights and shapes as Keras\'s attention_test.py test_attention_basics: scale and concat give 2 trainable weights; output (batch, Tq, value features)', () => {
    const scaled = new Attention({ useScale: true, scoreMode: 'concat', dropout: 0.5, name: 's' });
    const out = scaled.apply([Input({ shape: [3, 4] }), Input({ shape: [4, 4] })]);
    assert.deepEqual(out.shape, [null, 3, 4]);
    assert.deepEqual(scaled.trainableWeights.map((w) => [w.name, w.shape]), [['scale', []], ['concat_score_weight', []]]);
    const q = Input({ shape: [3, 4], name: 'q' });
    const v = Input({ shape: [6, 2], name: 'v' });
    const k = Input({ shape: [6, 4], name: 'k' });
    const [o, scores] = new Attention({ name: 'with_key' }).applyMultiOutput([q, v, k], { returnAttentionScores: true });
    assert.deepEqual([o!.shape, scores!.shape], [[null, 3, 2], [null, 3, 6]]);
    const model = new Model({ inputs: [q, v, k], outputs: [o!, scores!] });
    assert.deepEqual(summaryData(model).rows.map((r) => [r.name, r.params]), [['q', 0], ['v', 0], ['k', 0], ['with_key', 0]]);
  });

  test('bad arguments and inputs are errors naming the layer and the argument', () => {
    refused(() => new Attention({ scoreMode: 'add' as 'dot', name: 'a' }), ValueError, /^a: score_mode must be "dot" or "concat", got "add"/);
    refused(() => new Attention({ dropout: 1, name: 'a' }), ValueError, /^a: dropout must be a number in \[0, 1\), got 1/);
    refused(() => new Attention({ use_scale: true } as never), ValueError, /^Attention: unknown option "use_scale" \(did you mean useScale\?\)/);
    const q = Input({ shape: [3, 4] });
    refused(() => new Attention({ name: 'a' }).apply([q]), ShapeError, /^a: takes a list of 2 or 3 inputs, \[query, value\] or \[query, value, key\]; got 1/);
    refused(() => new Attention({ name: 'a' }).apply([q, Input({ shape: [5, 3] })]), ShapeError, /^a: query \(None, 3, 4\) and key \(None, 5, 3\) must have the same features/);
    refused(() => new Attention({ name: 'a' }).apply([q, Input({ shape: [5, 2] }), Input({ shape: [6, 4] })]), ShapeError, /^a: key \(None, 6, 4\) and value \(None, 5, 2\) must have the same steps/);
    refused(() => new Attention({ name: 'a' }).apply([q, Input({ shape: [4] })]), ShapeError, /^a: value must be 3-D \(batch, steps, features\), got \(None, 4\)/);
    refused(() => new Attention({ name: 'a' }).apply([q, q], { causal: true }), ValueError, /^a call: unknown option "causal"; it takes useCausalMask, returnAttentionScores/);
    refused(() => new Attention({ name: 'a' }).apply([q, q], { returnAttentionScores: true }), ValueError, /^a: has 2 outputs; use applyMultiOutput\(\)/);
    refused(() => new layers.Dense(2).apply(q, { useCausalMask: true }), ValueError, /call: unknown option "useCausalMask"; it takes no options/);
  });

  test('a causal call: no output step depends on a later value step; without the mask they do', () => {
    const run = (causal: boolean, value: number[]) => {
      const q = Input({ shape: [3, 1], name: 'q' });
      const v = Input({ shape: [3, 1], name: 'v' });
      const model = new Model({ inputs: [q, v], outputs: new Attention({ name: 'a' }).apply([q, v], { useCausalMask: causal }) });
      return Array.from(referencePredict(model, [tensor([1, 3, 1], [0.5, -1, 2]), tensor([1, 3, 1], value)])[0]!.data);
    };
    const [before, after] = [run(true, [1, 2, 3]), run(true, [1, 2, 30])];
    assert.deepEqual(before.slice(0, 2), after.slice(0, 2));
    assert.notDeepEqual(before[2], after[2]);
    assert.equal(before[0], 1); // the first step attends to itself only
    assert.notDeepEqual(run(false, [1, 2, 3])[0], run(false, [1, 2, 30])[0]);
  });

  test('ONNX: a causal mask with unknown steps is refused by name', () => {
    const q = Input({ shape: [null, 4], name: 'q' });
    const model = new Model({ inputs: q, outputs: new Attention({ name: 'a' }).apply([q, q], { useCausalMask: true }) });
    refused(() => exportOnnx(model), ValueError, /^a: a causal mask in ONNX needs known query and value steps, got query \(None, None, 4\)/);
  });
});

describe('Attention: Keras JSON', () => {
  test('a tf.keras 2.11 Functional model with Attention loads with Keras\'s parameter count and its call arguments, and writes them back', () => {
    const model = modelFromJSON(TF_KERAS_2_11, 'attention_2_11.json');
    // Embedding 50 * 16 + the scale 1 + Dense 16 * 2 + 2
    assert.equal(model.countParams(), 835);
    assert.deepEqual(summaryData(model).rows.map((r) => [r.name, r.className, r.outputShapes, r.params]), [
      ['tokens', 'InputLayer', [[null, 8]], 0],
      ['embedding', 'Embedding', [[null, 8, 16]], 800],
      ['attention', 'Attention', [[null, 8, 16], [null, 8, 8]], 1],
      ['global_average_pooling1d', 'GlobalAveragePooling1D', [[null, 16]], 0],
      ['dense', 'Dense', [[null, 2]], 34],
    ]);
    const node = model.getLayer('attention').inboundNodes[0]!;
    assert.deepEqual(node.kwargs, { use_causal_mask: true, return_attention_scores: true });
    const written = JSON.parse(model.toJSON());
    const attention = written.config.layers.find((l: { name: string }) => l.name === 'attention');
    assert.deepEqual(attention.inbound_nodes, [[['embedding', 0, 0, { use_causal_mask: true, return_attention_scores: true }], ['embedding', 0, 0, { use_causal_mask: true, return_attention_scores: true }]]]);
    assert.equal(modelFromJSON(model.toJSON()).toJSON(), model.toJSON());
  });

  test('Keras 3\'s node form {"args", "kwargs"}; the deprecated config key causal; unknown call arguments refused by name', () => {
    const json = JSON.parse(TF_KERAS_2_11);
    const attention = json.config.layers[2];
    const ref = (layer: string) => ({ class_name: '__keras_tensor__', config: { shape: [null, 8, 16], dtype: 'float32', keras_history: [layer, 0, 0] } });
    attention.inbound_nodes = [{ args: [[ref('embedding'), ref('embedding')]], kwargs: { use_causal_mask: false, return_attention_scores: true, training: false, mask: null } }];
    const loaded = modelFromJSON(json);
    assert.deepEqual(loaded.getLayer('attention').inboundNodes[0]!.kwargs, { use_causal_mask: false, return_attention_scores: true });
    attention.config.causal = true;
    assert.ok((modelFromJSON(json).getLayer('attention') as Attention).isCausal({}));
    delete attention.config.causal;
    attention.inbound_nodes = [[['embedding', 0, 0, { use_causal_mask: 'yes' }], ['embedding', 0, 0, { use_causal_mask: 'yes' }]]];
    refused(() => modelFromJSON(json, 'f.json'), ConfigError, /attention: unsupported call argument use_causal_mask="yes"/);
    attention.inbound_nodes = [[['embedding', 0, 0, { mask: [[1]] }], ['embedding', 0, 0, {}]]];
    refused(() => modelFromJSON(json, 'f.json'), ConfigError, /attention: unsupported call argument mask=\[\[1\]\]/);
    json.config.layers[4].inbound_nodes = [[['global_average_pooling1d', 0, 0, { use_causal_mask: true }]]];
    attention.inbound_nodes = [[['embedding', 0, 0, {}], ['embedding', 0, 0, {}]]];
    json.config.output_layers = [['dense', 0, 0]];
    refused(() => modelFromJSON(json, 'f.json'), ConfigError, /dense: unsupported call argument use_causal_mask=true/);
  });
});

describe('MultiHeadAttention', () => {
  test('Keras\'s docs example: num_heads 2, key_dim 2 on target (8, 16), source (4, 16): output (None, 8, 16), scores (None, 2, 8, 4); EinsumDense weight shapes', () => {
    const target = Input({ shape: [8, 16], name: 'target' });
    const source = Input({ shape: [4, 16], name: 'source' });
    const layer = new MultiHeadAttention(2, 2, { name: 'mha' });
    const [output, scores] = layer.applyMultiOutput([target, source], { returnAttentionScores: true });
    assert.deepEqual([output!.shape, scores!.shape], [[null, 8, 16], [null, 2, 8, 4]]);
    assert.deepEqual(layer.weights.map((w) => [w.name, w.shape]), [
      ['query/kernel', [16, 2, 2]], ['query/bias', [2, 2]], ['key/kernel', [16, 2, 2]], ['key/bias', [2, 2]],
      ['value/kernel', [16, 2, 2]], ['value/bias', [2, 2]], ['attention_output/kernel', [2, 2, 16]], ['attention_output/bias', [16]],
    ]);
  });

  test('summary(): MultiHeadAttention(num_heads=2, key_dim=32) on (None, 200, 32) has 8,416 parameters, as in keras.io\'s text_classification_with_transformer (its TransformerBlock: 10,656 with the feed-forward Denses and two LayerNormalizations)', () => {
    const x = Input({ shape: [200, 32], name: 'x' });
    const attended = new MultiHeadAttention(2, 32, { name: 'mha' }).apply([x, x]);
    const normed = new LayerNormalization({ epsilon: 1e-6, name: 'ln1' }).apply(layers.add([x, attended]));
    const ffn = new layers.Dense(32, { name: 'ffn2' }).apply(new layers.Dense(32, { activation: 'relu', name: 'ffn1' }).apply(normed));
    const model = new Model({ inputs: x, outputs: new LayerNormalization({ epsilon: 1e-6, name: 'ln2' }).apply(layers.add([normed, ffn])) });
    assert.equal(summaryData(model).rows.find((r) => r.name === 'mha')!.params, 8416);
    assert.equal(model.countParams(), 10656);
  });

  test('bad arguments are errors naming the layer and the argument', () => {
    refused(() => new MultiHeadAttention(0, 4, { name: 'm' }), ValueError, /^m: num_heads must be a positive integer/);
    refused(() => new MultiHeadAttention(2, 4, { valueDim: 1.5, name: 'm' }), ValueError, /^m: value_dim must be a positive integer/);
    refused(() => new MultiHeadAttention(2, 4, { attentionAxes: [1] as never, name: 'm' }), ValueError, /^m: attention_axes \[1\] is not supported; Strata attends over the steps axis of 3-D inputs/);
    refused(() => new MultiHeadAttention(2, 4, { outputShape: [4, 4] as never, name: 'm' }), ValueError, /^m: output_shape must be a positive integer \(the output's features\) or null, got \[4,4\]/);
    refused(() => new MultiHeadAttention(2, 4, { dropout: -0.1, name: 'm' }), ValueError, /^m: dropout must be a number in \[0, 1\)/);
    const q = Input({ shape: [3, 4] });
    refused(() => new MultiHeadAttention(2, 4, { name: 'm' }).apply([q, Input({ shape: [5, 4, 1] })]), ShapeError, /^m: value must be 3-D \(batch, steps, features\) with known features, got \(None, 5, 4, 1\)/);
    const shared = new MultiHeadAttention(2, 4, { name: 'shared' });
    shared.apply([q, q]);
    refused(() => shared.apply([Input({ shape: [3, 5] }), q]), ShapeError, /^shared: built for query features 4, got \(None, 3, 5\)/);
  });

  /** tf.keras 2.11's to_json() for x = Input((6, 8)); MultiHeadAttention(2, 4)(x, x, use_causal_mask=True): the value as a kwarg of the call on the query (keras/engine/node.py), the config of keras/layers/attention/multi_head_attention.py's get_config() with the shapes it was built for. */
  const mhaJson = () => ({
    class_name: 'Functional',
    config: {
      name: 'model',
      layers: [
        { class_name: 'InputLayer', config: { batch_input_shape: [null, 6, 8], dtype: 'float32', sparse: false, ragged: false, name: 'x' }, name: 'x', inbound_nodes: [] },
        {
          class_name: 'MultiHeadAttention',
          config: {
            name: 'multi_head_attention', trainable: true, dtype: 'float32', num_heads: 2, key_dim: 4, value_dim: 4, dropout: 0.0, use_bias: true, output_shape: null, attention_axes: null,
            kernel_initializer: { class_name: 'GlorotUniform', config: { seed: null } }, bias_initializer: { class_name: 'Zeros', config: {} },
            kernel_regularizer: null, bias_regularizer: null, activity_regularizer: null, kernel_constraint: null, bias_constraint: null,
            query_shape: [null, 6, 8], key_shape: [null, 6, 8], value_shape: [null, 6, 8],
          },
          name: 'multi_head_attention',
          inbound_nodes: [[['x', 0, 0, { value: ['x', 0, 0], use_causal_mask: true }]]] as unknown[],
        },
      ],
      input_layers: [['x', 0, 0]],
      output_layers: [['multi_head_attention', 0, 0]],
    },
    keras_version: '2.11.0',
    backend: 'tensorflow',
  });

  test('tf.keras 2.11\'s JSON (the value as a kwarg) loads with Keras\'s count and writes the same form; Keras 3\'s {"args", "kwargs"} loads', () => {
    const model = modelFromJSON(mhaJson(), 'mha.json');
    // 3 * (8 * 2 * 4 + 2 * 4) + (2 * 4 * 8 + 8)
    assert.equal(model.countParams(), 3 * 72 + 72);
    const node = model.getLayer('multi_head_attention').inboundNodes[0]!;
    assert.deepEqual([node.inputs.length, node.kwargs], [2, { use_causal_mask: true }]);
    const written = JSON.parse(model.toJSON()).config.layers[1];
    assert.deepEqual(written.inbound_nodes, [[['x', 0, 0, { value: ['x', 0, 0], use_causal_mask: true }]]]);
    assert.deepEqual([written.config.query_shape, written.config.value_shape, written.config.key_shape], [[null, 6, 8], [null, 6, 8], [null, 6, 8]]);
    assert.equal(modelFromJSON(model.toJSON()).toJSON(), model.toJSON());
    const keras3 = mhaJson();
    const ref = { class_name: '__keras_tensor__', config: { shape: [null, 6, 8], dtype: 'float32', keras_history: ['x', 0, 0] } };
    keras3.config.layers[1]!.inbound_nodes = [{ args: [ref, ref], kwargs: { key: ref, return_attention_scores: true, use_causal_mask: false } }];
    keras3.config.output_layers = [['multi_head_attention', 0, 0], ['multi_head_attention', 0, 1]];
    const loaded = modelFromJSON(keras3);
    assert.deepEqual(loaded.outputs.map((t) => t.shape), [[null, 6, 8], [null, 2, 6, 6]]);
    assert.equal(loaded.getLayer('multi_head_attention').inboundNodes[0]!.inputs.length, 3);
  });

  test('an attention_mask tensor, a seed, and attention_axes in a file are refused by name', () => {
    const json = mhaJson();
    json.config.layers[1]!.inbound_nodes = [[['x', 0, 0, { value: ['x', 0, 0], attention_mask: ['x', 0, 0] }]]];
    refused(() => modelFromJSON(json, 'mha.json'), ConfigError, /multi_head_attention: unsupported call argument attention_mask=\["x",0,0\]/);
    const axes = mhaJson();
    (axes.config.layers[1]!.config as Record<string, unknown>).attention_axes = [1];
    refused(() => modelFromJSON(axes, 'mha.json'), ValueError, /multi_head_attention: attention_axes \[1\] is not supported/);
    const seeded = mhaJson();
    (seeded.config.layers[1]!.config as Record<string, unknown>).seed = 3;
    refused(() => modelFromJSON(seeded, 'mha.json'), ConfigError, /multi_head_attention \(MultiHeadAttention\): "seed" = 3 is not supported/);
  });
});
