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
// itself, as an LSTM's cell); a layer class without weights needs none.
import { ConfigError, Model, type Layer, type LayerWeight } from '../model/index.ts';
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
  // Not yet: Bidirectional (two owners, forward_layer/cell and backward_layer/cell) and
  // MultiHeadAttention (one owner per projection, query_dense/...): refused by name.
};

/** The layer's weights in Keras's creation order (vars/0..n of a .keras file). */
export function kerasOrderedWeights(layer: Layer): LayerWeight[] {
  if (layer.weights.length === 0) return [];
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

/** Every layer with weights, with its path in a .keras weights file ("layers/dense", "layers/sequential/layers/dense"). */
export function kerasWeightPaths(model: Model, prefix = ''): [string, Layer][] {
  return kerasContainerNames(model.layers).flatMap(([name, layer]): [string, Layer][] => {
    const path = `${prefix}layers/${name}`;
    if (layer instanceof Model) return kerasWeightPaths(layer, `${path}/`);
    return layer.weights.length > 0 ? [[kerasVariablesPath(path, layer), layer]] : [];
  });
}
