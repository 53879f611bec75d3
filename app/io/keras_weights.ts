// Which of a layer's weights Keras saves, in which order, and where, for its two model files:
//   .h5 (keras/src/legacy/saving/legacy_h5_format.py, save_weights_to_hdf5_group and
//   load_weights_from_hdf5_group; tf.keras 2.x keras/saving/legacy/hdf5_format.py): a group per
//   layer of model.layers, its values in _legacy_weights order (trainable_weights, then
//   non_trainable_weights), matched to the model's layers that have weights by position.
//   .keras (keras/src/saving/saving_lib.py, _save_state / _save_container_state and
//   Layer.save_own_variables): "layers/<snake_case class name>[_<k>]/vars/<i>", where the
//   k-th repeat of a class in a model's layer list gets the suffix "_k", and <i> counts the
//   layer's variables in creation order (_trainable_variables + _non_trainable_variables).
//
// A layer class with weights needs a row in KERAS_WEIGHTS (the names of its Keras variables
// in creation order, and the sub-path of the object that owns them where it is not the layer
// itself, as an LSTM's cell), or, when Keras keeps them in several inner layers, a row in
// COMPOSITE_LAYERS; a layer class without weights needs none.
import { ConfigError, Model, type Bidirectional, type Layer, type LayerWeight, type TimeDistributed } from '../model/index.ts';
import { toSnakeCase } from '../model/layer.ts';

export interface KerasWeightsRow {
  /** Keras's variable names in the order Keras creates them; absent optional ones (a bias with use_bias=false) are skipped. */
  variables: readonly string[];
  /** In .keras files, the object under the layer's path that owns the variables ("cell" for an RNN), if not the layer. */
  owner?: string;
}

/** One row per Strata layer class that has weights. Add a row when adding such a layer. */
export const KERAS_WEIGHTS: Record<string, KerasWeightsRow> = {
  Dense: { variables: ['kernel', 'bias'] },
  Conv2D: { variables: ['kernel', 'bias'] },
  DepthwiseConv2D: { variables: ['depthwise_kernel', 'bias'] },
  SeparableConv2D: { variables: ['depthwise_kernel', 'pointwise_kernel', 'bias'] },
  Embedding: { variables: ['embeddings'] },
  BatchNormalization: { variables: ['gamma', 'beta', 'moving_mean', 'moving_variance'] },
  Conv1D: { variables: ['kernel', 'bias'] },
  Conv2DTranspose: { variables: ['kernel', 'bias'] },
  PReLU: { variables: ['alpha'] },
  // LayerNormalization.build: gamma (scale) before beta (center).
  LayerNormalization: { variables: ['gamma', 'beta'] },
  // Attention.build: scale (use_scale), then concat_score_weight (score_mode "concat").
  Attention: { variables: ['scale', 'concat_score_weight'] },
  // The recurrent layers' variables belong to their cell (LSTMCell.build: kernel, recurrent_kernel, bias).
  LSTM: { variables: ['kernel', 'recurrent_kernel', 'bias'], owner: 'cell' },
  GRU: { variables: ['kernel', 'recurrent_kernel', 'bias'], owner: 'cell' },
  SimpleRNN: { variables: ['kernel', 'recurrent_kernel', 'bias'], owner: 'cell' },
  // Normalization.build, adapted (no mean given): mean, variance, then count (an int64 scalar in Keras, float32 here).
  Normalization: { variables: ['mean', 'variance', 'count'] },
};

/** Some of a layer's weights and where their owner sits in a .keras file (its path, or an older Keras's spelling of it). */
export interface KerasVariableGroup {
  path: string;
  /** Where an older Keras 3 wrote the same variables, read when `path` is absent. */
  legacyPath?: string;
  weights: LayerWeight[];
}

interface CompositeRow {
  /** The owners of the layer's variables, relative to the layer's path, in _legacy_weights order (.h5). */
  groups(layer: Layer): KerasVariableGroup[];
  /** Every inner object Keras's _save_state gives a vars group (empty where it owns no variables), relative to the layer's path, with its name. */
  inner(layer: Layer): [string, string][];
}

/** The layer's weights of these names, in this order; absent optional ones (a bias with use_bias=false) are skipped. */
function weightsNamed(layer: Layer, names: readonly string[]): LayerWeight[] {
  return names.flatMap((name) => layer.weights.filter((w) => w.name === name));
}

/**
 * Layers whose variables Keras keeps in inner layers. Paths follow saving_lib._save_state, which
 * names each inner saveable by the attribute that holds it (public ones first, each object once):
 *   Bidirectional (keras/src/layers/rnn/bidirectional.py): forward_layer and backward_layer, each
 *     an RNN whose cell owns kernel, recurrent_kernel, bias; .h5 order forward then backward
 *     (tf.keras 2.x and Keras 3 track forward_layer first).
 *   MultiHeadAttention (keras/src/layers/attention/multi_head_attention.py): the EinsumDense
 *     projections behind the properties query_dense, key_dense, value_dense, output_dense (older
 *     Keras 3 releases, without those properties, wrote _query_dense ...), kernel then bias each;
 *     _softmax and _dropout_layer hold none. .h5 order query, key, value, attention_output, as
 *     build() creates them; tf.keras 2.x names them "<layer>/query/kernel:0" and so on.
 *   TimeDistributed (keras/src/layers/core/wrapper.py): the wrapped layer under the attribute
 *     "layer", its variables where they would be at the top level (an LSTM's in layer/cell);
 *     .h5 order the wrapped layer's, named "<wrapper>/kernel:0" as tf.keras 2.x names them.
 */
/** A Bidirectional's two recurrent layers, by the attributes Keras keeps them in. */
function sides(layer: Layer): (readonly [string, Layer])[] {
  const { forwardLayer, backwardLayer } = layer as Bidirectional;
  return [['forward_layer', forwardLayer], ['backward_layer', backwardLayer]];
}

/** MultiHeadAttention's EinsumDense projections: the property holding each, and its name (its weights' prefix). */
const PROJECTIONS = [['query_dense', 'query'], ['key_dense', 'key'], ['value_dense', 'value'], ['output_dense', 'attention_output']] as const;

/** TimeDistributed's wrapped layer, as Keras keeps it in the attribute "layer". */
const wrapped = (layer: Layer) => (layer as TimeDistributed).layer;

const COMPOSITE_LAYERS: Record<string, CompositeRow> = {
  Bidirectional: {
    groups: (layer) =>
      sides(layer).map(([attribute, inner]) => ({
        path: kerasVariablesPath(attribute, inner),
        weights: weightsNamed(layer, kerasOrderedWeights(inner).map((w) => `${inner.name}/${w.name}`)),
      })),
    inner: (layer) => sides(layer).flatMap(([attribute, inner]) => kerasVarsGroups(attribute, inner)),
  },
  MultiHeadAttention: {
    groups: (layer) =>
      PROJECTIONS.map(([attribute, name]) => ({ path: attribute, legacyPath: `_${attribute}`, weights: weightsNamed(layer, [`${name}/kernel`, `${name}/bias`]) })),
    inner: () => [...PROJECTIONS.map(([attribute, name]): [string, string] => [attribute, name]), ['_softmax', 'softmax'], ['_dropout_layer', 'dropout']],
  },
  TimeDistributed: {
    groups: (layer) => kerasVariableGroups('layer', wrapped(layer)),
    inner: (layer) => kerasVarsGroups('layer', wrapped(layer)),
  },
};

/** Whether Keras keeps this class's variables in inner layers (COMPOSITE_LAYERS). */
export function isCompositeLayer(className: string): boolean {
  return className in COMPOSITE_LAYERS;
}

/** The layer's weights in Keras's creation order (vars/0..n of a .keras file). */
export function kerasOrderedWeights(layer: Layer): LayerWeight[] {
  if (layer.weights.length === 0) return [];
  const composite = COMPOSITE_LAYERS[layer.className];
  if (composite) {
    const ordered = composite.groups(layer).flatMap((group) => group.weights);
    if (ordered.length !== layer.weights.length) {
      const unknown = layer.weights.filter((w) => !ordered.includes(w)).map((w) => w.name);
      throw new ConfigError(`layer "${layer.name}" (${layer.className}): weights ${unknown.join(', ')} have no place in Keras's layout`, { layer: layer.name });
    }
    return ordered;
  }
  const row = KERAS_WEIGHTS[layer.className];
  if (!row) {
    throw new ConfigError(`layer "${layer.name}" (${layer.className}): Strata does not know the order in which Keras saves this layer's weights (${layer.weights.map((w) => w.name).join(', ')})`, { layer: layer.name });
  }
  const ordered = row.variables.flatMap((name) => layer.weights.filter((w) => w.name === name));
  if (ordered.length !== layer.weights.length) {
    const unknown = layer.weights.filter((w) => !row.variables.includes(w.name)).map((w) => w.name);
    throw new ConfigError(`layer "${layer.name}" (${layer.className}): weights ${unknown.join(', ')} have no place in Keras's order (${row.variables.join(', ')})`, { layer: layer.name });
  }
  return ordered;
}

/** Where a layer's own variables sit in a .keras weights file: its path plus its row's owner. */
export function kerasVariablesPath(layerPath: string, layer: Layer): string {
  const owner = KERAS_WEIGHTS[layer.className]?.owner;
  return owner ? `${layerPath}/${owner}` : layerPath;
}

/** The groups of a layer's variables in a .keras weights file, under the layer's path; a layer without weights has none. */
export function kerasVariableGroups(layerPath: string, layer: Layer): KerasVariableGroup[] {
  if (layer.weights.length === 0) return [];
  const composite = COMPOSITE_LAYERS[layer.className];
  if (!composite) return [{ path: kerasVariablesPath(layerPath, layer), weights: kerasOrderedWeights(layer) }];
  kerasOrderedWeights(layer); // every weight has a group
  return composite.groups(layer).map((group) => ({
    ...group,
    path: `${layerPath}/${group.path}`,
    ...(group.legacyPath ? { legacyPath: `${layerPath}/${group.legacyPath}` } : {}),
  }));
}

/**
 * Every vars group Keras's _save_state makes for a layer, as [path, the saveable's name] (Keras 3.9
 * writes that name as the group's "name" attribute): the layer's own, and its inner layers' (an
 * RNN's cell, named as Keras names it, "lstm_cell"; a composite layer's, COMPOSITE_LAYERS), empty
 * where they own no variables.
 */
export function kerasVarsGroups(layerPath: string, layer: Layer): [string, string][] {
  const composite = COMPOSITE_LAYERS[layer.className];
  const owner = KERAS_WEIGHTS[layer.className]?.owner;
  const inner: [string, string][] = composite ? composite.inner(layer) : owner ? [[owner, `${toSnakeCase(layer.className)}_${owner}`]] : [];
  return [[layerPath, layer.name], ...inner.map(([path, name]): [string, string] => [`${layerPath}/${path}`, name])];
}

/**
 * Keras's _legacy_weights(layer) for the .h5 format: trainable weights, then non-trainable
 * ones. A nested model lists all its layers' trainable weights first. A frozen layer (or one
 * inside a frozen model) has only non-trainable weights, as in Keras.
 */
export function legacyWeights(layer: Layer): LayerWeight[] {
  const all: { weight: LayerWeight; trainable: boolean }[] = [];
  const visit = (current: Layer, frozen: boolean) => {
    const isFrozen = frozen || !current.trainable;
    if (current instanceof Model) for (const inner of current.layers) visit(inner, isFrozen);
    else for (const weight of kerasOrderedWeights(current)) all.push({ weight, trainable: weight.trainable && !isFrozen });
  };
  visit(layer, false);
  return [...all.filter((w) => w.trainable), ...all.filter((w) => !w.trainable)].map((w) => w.weight);
}

/** Each layer of a model with its .keras container name: Keras's snake_case class name, "_k" for the k-th repeat (saving_lib._save_container_state). */
export function kerasContainerNames(layers: Layer[]): [string, Layer][] {
  const used = new Map<string, number>();
  return layers.map((layer) => {
    const base = toSnakeCase(layer.kerasClassName);
    const count = used.get(base);
    used.set(base, count === undefined ? 0 : count + 1);
    return [count === undefined ? base : `${base}_${count + 1}`, layer];
  });
}

/** Every group of variables of the model's layers, with its layer, by path in a .keras weights file ("layers/dense", "layers/sequential/layers/dense"). */
export function kerasWeightPaths(model: Model, prefix = ''): [KerasVariableGroup, Layer][] {
  return kerasContainerNames(model.layers).flatMap(([name, layer]): [KerasVariableGroup, Layer][] => {
    const path = `${prefix}layers/${name}`;
    if (layer instanceof Model) return kerasWeightPaths(layer, `${path}/`);
    return kerasVariableGroups(path, layer).map((group) => [group, layer]);
  });
}
