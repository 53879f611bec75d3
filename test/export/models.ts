// Models the export tests share: together they use every layer class Strata has, with the
// options that change how a layer computes (strides, asymmetric "same" padding, groups,
// dilation, depth multipliers, keepdims, axes), shared and frozen layers, several inputs and outputs.
import { Input, Model, Sequential, layers } from '../../app/node.ts';

/** A model with every convolution, padding and pooling form: odd sizes, strides 2, asymmetric "same" padding. */
export function imageLayers(): Model {
  const image = Input({ shape: [9, 10, 4], name: 'image' });
  let x = new layers.Conv2D(6, [3, 4], { strides: 2, padding: 'same', activation: 'relu', name: 'strided_same' }).apply(image);
  x = new layers.Conv2D(6, [3, 3], { padding: 'same', dilationRate: 2, groups: 2, name: 'dilated_grouped', useBias: false }).apply(x);
  x = new layers.DepthwiseConv2D([3, 2], { strides: 2, padding: 'same', depthMultiplier: 2, activation: 'elu', name: 'depthwise' }).apply(x);
  x = new layers.SeparableConv2D(5, 3, { padding: 'same', depthMultiplier: 2, activation: 'gelu', name: 'separable' }).apply(x);
  x = new layers.ZeroPadding2D([[1, 2], [0, 3]], { name: 'pad' }).apply(x);
  const maxed = new layers.MaxPooling2D([3, 3], { strides: 2, padding: 'same', name: 'max_same' }).apply(x);
  const averaged = new layers.AveragePooling2D([3, 3], { strides: 2, padding: 'same', name: 'average_same' }).apply(x);
  x = layers.concatenate([maxed, averaged], { name: 'pools' });
  x = new layers.BatchNormalization({ name: 'bn_image', epsilon: 0.01 }).apply(x);
  x = new layers.ReLU({ maxValue: 1.5, negativeSlope: 0.1, threshold: 0.2, name: 'relu_full' }).apply(x);
  const pooledValid = new layers.AveragePooling2D([2, 2], { strides: 1, name: 'average_valid' }).apply(x);
  const global = new layers.GlobalAveragePooling2D({ keepdims: true, name: 'global_keep' }).apply(pooledValid);
  x = new layers.Flatten({ name: 'flatten' }).apply(global);
  const output = new layers.Dense(4, { activation: 'softmax', name: 'probabilities' }).apply(x);
  return new Model({ inputs: image, outputs: output, name: 'image_layers' });
}

/** Token ids through an Embedding, rank-3 BatchNormalization and Dense, sequence pooling. */
export function sequenceLayers(): Model {
  const tokens = Input({ shape: [7], dtype: 'int32', name: 'tokens' });
  let x = new layers.Embedding(20, 8, { name: 'embedding' }).apply(tokens);
  x = new layers.BatchNormalization({ name: 'bn_steps' }).apply(x);
  x = new layers.LeakyReLU({ negativeSlope: 0.1, name: 'leaky' }).apply(x);
  x = new layers.Dense(6, { activation: 'selu', name: 'per_step' }).apply(x);
  x = new layers.ELU({ alpha: 0.5, name: 'elu' }).apply(x);
  x = new layers.Softmax({ axis: 1, name: 'over_steps' }).apply(x);
  x = new layers.GlobalAveragePooling1D({ name: 'mean_steps' }).apply(x);
  const output = new layers.Dense(3, { activation: 'hard_sigmoid', name: 'scores' }).apply(x);
  return new Model({ inputs: tokens, outputs: output, name: 'sequence_layers' });
}

/** Merges, reshapes, a shared layer, a frozen layer, two outputs and (unless `nested` is false) a Sequential inside. */
export function graphLayers({ nested = true } = {}): Model {
  const features = Input({ shape: [12], name: 'features' });
  const shared = new layers.Dense(12, { activation: 'swish', name: 'shared' });
  const a = shared.apply(features);
  const b = shared.apply(new layers.Dense(12, { activation: 'softplus', name: 'softplus', trainable: false }).apply(features));
  const c = new layers.Dense(12, { activation: 'relu6', name: 'relu6' }).apply(features);
  const product = layers.multiply([a, b, c], { name: 'product' });
  const mean = layers.average([a, b, c], { name: 'mean' });
  let x = layers.add([product, mean], { name: 'sum' });
  x = new layers.Reshape([4, -1], { name: 'to_rows' }).apply(x);
  x = new layers.Rescaling(0.5, { offset: 0.1, name: 'rescale' }).apply(x);
  x = new layers.Flatten({ name: 'rows_flat' }).apply(x);
  if (nested) {
    const inner = new Sequential([new layers.Dense(8, { inputShape: [12], activation: 'leaky_relu', name: 'inner_dense' }), new layers.Activation('tanh', { name: 'inner_tanh' })], { name: 'inner' });
    x = inner.apply(x);
  } else {
    x = new layers.Activation('tanh', { name: 'tanh' }).apply(new layers.Dense(8, { activation: 'leaky_relu', name: 'dense_8' }).apply(x));
  }
  const first = new layers.Dense(2, { activation: 'sigmoid', name: 'first_out' }).apply(x);
  const second = new layers.Dense(3, { activation: 'elu', useBias: false, name: 'second_out' }).apply(layers.concatenate([x, c], { axis: 1, name: 'join' }));
  return new Model({ inputs: features, outputs: [first, second], name: 'graph_layers' });
}

/** LeNet-5's layers at a smaller size, for training checks. */
export function imageClassifier(): Model {
  return new Sequential(
    [
      new layers.Conv2D(3, [5, 5], { padding: 'same', activation: 'tanh', inputShape: [12, 12, 1], name: 'c1' }),
      new layers.AveragePooling2D([2, 2], { name: 's2' }),
      new layers.Conv2D(4, [3, 3], { activation: 'tanh', name: 'c3' }),
      new layers.MaxPooling2D([2, 2], { name: 's4' }),
      new layers.Flatten({ name: 'flatten' }),
      new layers.Dense(4, { activation: 'softmax', name: 'output' }),
    ],
    { name: 'small_lenet' },
  );
}


/** The 1-D, recurrent and normalization layers on sequences: every branch ends in the output. */
export function recurrentLayers(): Model {
  const steps = Input({ shape: [8, 3], name: 'steps' });
  let x = new layers.Conv1D(4, 3, { padding: 'causal', dilationRate: 2, activation: 'tanh', name: 'causal' }).apply(steps);
  x = new layers.Conv1D(6, 2, { padding: 'same', groups: 2, name: 'grouped_same' }).apply(x);
  x = new layers.PReLU({ alphaInitializer: 'glorot_uniform', sharedAxes: [1], name: 'prelu' }).apply(x);
  x = new layers.LayerNormalization({ epsilon: 0.01, name: 'norm_features' }).apply(x);
  x = new layers.GaussianNoise(0.3, { name: 'noise' }).apply(x);
  const lstm = new layers.LSTM(5, { returnSequences: true, returnState: true, name: 'lstm' }).applyMultiOutput(x);
  const gru = new layers.GRU(4, { resetAfter: false, goBackwards: true, returnSequences: true, recurrentActivation: 'hard_sigmoid', name: 'gru' }).apply(lstm[0]!);
  const pooled = new layers.MaxPooling1D(2, { name: 'max_steps' }).apply(gru);
  const averaged = new layers.AveragePooling1D(3, { strides: 2, padding: 'same', name: 'average_steps' }).apply(pooled);
  const rnn = new layers.Bidirectional(new layers.SimpleRNN(3, { activation: 'relu', name: 'rnn' }), { mergeMode: 'ave', name: 'both_ways' }).apply(averaged);
  const bidirectionalGru = new layers.Bidirectional(new layers.GRU(2, { returnSequences: true, name: 'gru_seq' }), { name: 'both_gru' }).apply(gru);
  const maxed = new layers.GlobalMaxPooling1D({ name: 'global_max' }).apply(bidirectionalGru);
  const repeated = new layers.RepeatVector(2, { name: 'repeat' }).apply(layers.concatenate([rnn, maxed, lstm[2]!], { name: 'join' }));
  const permuted = new layers.Permute([2, 1], { name: 'swap' }).apply(repeated);
  const output = new layers.Dense(3, { name: 'scores' }).apply(new layers.Flatten({ name: 'flat' }).apply(permuted));
  return new Model({ inputs: steps, outputs: [output, lstm[1]!], name: 'recurrent_layers' });
}

/** Image layers the first image model leaves out: cropping, channel dropout, a shared PReLU, global max pooling. */
export function moreImageLayers(): Model {
  const image = Input({ shape: [7, 6, 3], name: 'image' });
  let x = new layers.Cropping2D([[1, 0], [2, 1]], { name: 'crop' }).apply(image);
  x = new layers.Conv2D(4, 2, { name: 'conv' }).apply(x);
  x = new layers.SpatialDropout2D(0.5, { name: 'channel_dropout' }).apply(x);
  x = new layers.GaussianDropout(0.2, { name: 'gaussian_dropout' }).apply(x);
  x = new layers.PReLU({ alphaInitializer: 'glorot_uniform', sharedAxes: [1, 2], name: 'prelu_shared' }).apply(x);
  x = new layers.LayerNormalization({ axis: [1, 2, 3], center: false, name: 'norm_image' }).apply(x);
  const output = new layers.GlobalMaxPooling2D({ keepdims: true, name: 'global_max' }).apply(x);
  return new Model({ inputs: image, outputs: output, name: 'more_image_layers' });
}

/** Attention in both score modes, causal and with its scores returned, and MultiHeadAttention with a key of its own. */
export function attentionLayers(): Model {
  const query = Input({ shape: [5, 4], name: 'query' });
  const value = Input({ shape: [6, 4], name: 'value' });
  const dot = new layers.Attention({ useScale: true, name: 'dot' }).applyMultiOutput([query, value], { returnAttentionScores: true });
  const concat = new layers.Attention({ scoreMode: 'concat', useScale: true, name: 'concat' }).apply([query, value, value], { useCausalMask: true });
  const key = new layers.Dense(3, { name: 'key' }).apply(value);
  const heads = new layers.MultiHeadAttention(2, 3, { valueDim: 2, outputShape: 5, name: 'heads' }).apply([layers.add([dot[0]!, concat], { name: 'both' }), value, key], { useCausalMask: true });
  const self = new layers.MultiHeadAttention(3, 2, { useBias: false, name: 'self_heads' }).applyMultiOutput([query, query], { returnAttentionScores: true });
  return new Model({ inputs: [query, value], outputs: [heads, dot[1]!, self[0]!, self[1]!], name: 'attention_layers' });
}

/** Conv2DTranspose with "same" and "valid" padding, strides, an output padding, dilation. */
export function transposedConvolutions(): Model {
  const image = Input({ shape: [4, 5, 3], name: 'image' });
  let x = new layers.Conv2DTranspose(4, 3, { strides: 2, padding: 'same', activation: 'relu', name: 'up_same' }).apply(image);
  x = new layers.Conv2DTranspose(3, [2, 3], { strides: [3, 2], name: 'up_valid' }).apply(x);
  x = new layers.Conv2DTranspose(2, 3, { strides: 2, padding: 'same', outputPadding: 0, useBias: false, name: 'up_output_padding' }).apply(x);
  const output = new layers.Conv2DTranspose(2, 2, { dilationRate: 2, name: 'dilated' }).apply(x);
  return new Model({ inputs: image, outputs: output, name: 'transposed_convolutions' });
}

/** Normalization (adapted, given and inverted), UpSampling2D both ways, Resizing up and down both ways, CenterCrop. */
export function preprocessingLayers(): Model {
  const image = Input({ shape: [6, 7, 3], name: 'image' });
  const adapted = new layers.Normalization({ name: 'adapted' });
  let x = adapted.apply(image);
  adapted.adapt({ shape: [4, 6, 7, 3], data: Float32Array.from({ length: 4 * 6 * 7 * 3 }, (_, i) => Math.sin(i) * 3 + 1) });
  x = new layers.Normalization({ axis: [1, 2], mean: 0.5, variance: 4, name: 'given' }).apply(x);
  x = new layers.Normalization({ mean: [0.1, -0.2, 0.3], variance: [1, 2, 3], invert: true, name: 'inverted' }).apply(x);
  const nearest = new layers.UpSampling2D([2, 3], { name: 'up_nearest' }).apply(x);
  const bilinear = new layers.UpSampling2D(2, { interpolation: 'bilinear', name: 'up_bilinear' }).apply(x);
  const down = new layers.Resizing(12, 21, { name: 'resize_bilinear' }).apply(layers.add([nearest, new layers.Resizing(12, 21, { interpolation: 'nearest', name: 'resize_nearest' }).apply(bilinear)], { name: 'sum' }));
  const small = new layers.Resizing(5, 4, { name: 'resize_down' }).apply(down);
  return new Model({ inputs: image, outputs: new layers.CenterCrop(3, 2, { name: 'crop' }).apply(small), name: 'preprocessing_layers' });
}

/** The image augmentation layers with their options (pairs as factors, every fill mode, nearest reads, seeds), before a small classifier. */
export function augmentationLayers(): Model {
  const image = Input({ shape: [9, 8, 3], name: 'image' });
  let x = new layers.RandomFlip('horizontal', { seed: 11, name: 'flip' }).apply(image);
  x = new layers.RandomContrast([0.1, 0.3], { valueRange: [-10, 10], name: 'contrast' }).apply(x);
  x = new layers.RandomTranslation(0.2, [-0.1, 0.3], { fillMode: 'wrap', name: 'translation' }).apply(x);
  x = new layers.RandomZoom([-0.2, 0.3], { widthFactor: 0.1, fillMode: 'constant', fillValue: 0.5, interpolation: 'nearest', name: 'zoom' }).apply(x);
  x = new layers.RandomRotation(0.05, { fillMode: 'nearest', seed: 4, name: 'rotation' }).apply(x);
  x = new layers.Conv2D(4, 3, { activation: 'relu', name: 'conv' }).apply(x);
  x = new layers.GlobalAveragePooling2D({ name: 'pool' }).apply(x);
  return new Model({ inputs: image, outputs: new layers.Dense(3, { activation: 'softmax', name: 'probabilities' }).apply(x), name: 'augmentation_layers' });
}

/** Subtract, Maximum, Minimum and Dot: a Siamese pair's difference and cosine, Dot's axes as a pair over a sequence. */
export function mergeLayers(): Model {
  const left = Input({ shape: [6], name: 'left' });
  const right = Input({ shape: [6], name: 'right' });
  const steps = Input({ shape: [4, 5], name: 'steps' });
  const embed = new layers.Dense(5, { activation: 'tanh', name: 'embed' });
  const [l, r] = [embed.apply(left), embed.apply(right)];
  const diff = layers.subtract([l, r], { name: 'diff' });
  const high = layers.maximum([l, r, diff], { name: 'high' });
  const low = layers.minimum([l, r], { name: 'low' });
  const cosine = layers.dot([high, low], { axes: 1, normalize: true, name: 'cosine' });
  const scores = new layers.Dot([2, 1], { name: 'scores' }).apply([steps, diff]);
  return new Model({ inputs: [left, right, steps], outputs: [cosine, scores], name: 'merge_layers' });
}

/** TimeDistributed and the 1-D layers: TimeDistributed Conv2D and Flatten over frames, then SpatialDropout1D, ZeroPadding1D, Cropping1D and UpSampling1D over the steps. */
export function timeLayers(): Model {
  const clip = Input({ shape: [4, 6, 6, 2], name: 'clip' });
  let x = new layers.TimeDistributed(new layers.Conv2D(3, 3, { activation: 'relu', name: 'frame_conv' }), { name: 'conv_frames' }).apply(clip);
  x = new layers.TimeDistributed(new layers.Flatten({ name: 'frame_flat' }), { name: 'flat_frames' }).apply(x);
  x = new layers.SpatialDropout1D(0.2, { name: 'drop_features' }).apply(x);
  x = new layers.ZeroPadding1D([1, 2], { name: 'pad_steps' }).apply(x);
  x = new layers.Cropping1D([2, 0], { name: 'crop_steps' }).apply(x);
  x = new layers.UpSampling1D(3, { name: 'repeat_steps' }).apply(x);
  x = new layers.GlobalAveragePooling1D({ name: 'mean_steps' }).apply(x);
  return new Model({ inputs: clip, outputs: new layers.Dense(2, { name: 'scores' }).apply(x), name: 'time_layers' });
}
