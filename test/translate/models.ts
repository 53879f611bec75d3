// The models the translation tests run: the two seed examples and one small model per layer
// type and option, covering every row of the translation table and every activation.
import {
  ACTIVATIONS, Input, Model, Sequential, clearSession, layers, setRandomSeed, type Layer, type Normalization, type Shape, type SymbolicTensor,
} from '../../app/model/index.ts';
import productImageClassifier from '../../examples/product-image-classifier.ts';
import purchasePredictor from '../../examples/purchase-predictor.ts';

/** Activations added after the first set: their cases come last (see translationCases). */
const LATER_ACTIVATIONS: readonly string[] = ['softplus', 'hard_sigmoid', 'relu6'];

/** A one-layer model over an input of the given shape (batch dimension omitted). */
function single(name: string, inputShape: Shape, layer: Layer, dtype: 'float32' | 'int32' = 'float32'): Model {
  const x = Input({ shape: inputShape, name: 'x', dtype });
  return new Model({ inputs: x, outputs: layer.apply(x), name });
}

/** Sets every weight to seeded random values, so biases and BN statistics are not trivial. */
export function randomizeWeights(model: Model, seed: number): Model {
  setRandomSeed(seed);
  let state = seed;
  const next = () => ((state = (Math.imul(state, 1664525) + 1013904223) >>> 0) / 2 ** 32);
  for (const w of model.weights) {
    // Variances must stay positive for BatchNormalization.
    w.value = w.value.map(() => (w.name === 'moving_variance' || w.name === 'variance' ? 0.5 + next() : next() * 2 - 1));
  }
  return model;
}

export function translationCases(): Model[] {
  clearSession();
  setRandomSeed(1234);
  const cases: Model[] = [
    single('dense', [12], new layers.Dense(5)),
    single('dense_no_bias_on_sequence', [3, 12], new layers.Dense(4, { useBias: false, activation: 'tanh' })),
    single('conv_valid', [9, 8, 3], new layers.Conv2D(4, [3, 3])),
    single('conv_same_stride2', [9, 8, 3], new layers.Conv2D(4, [3, 2], { strides: 2, padding: 'same', activation: 'relu' })),
    single('conv_dilated', [11, 10, 2], new layers.Conv2D(3, 3, { dilationRate: [2, 1], padding: 'same', useBias: false })),
    single('max_pool_valid', [7, 8, 3], new layers.MaxPooling2D([2, 2])),
    single('max_pool_same', [7, 8, 3], new layers.MaxPooling2D(3, { strides: 2, padding: 'same' })),
    single('avg_pool_valid', [7, 8, 3], new layers.AveragePooling2D(2, { strides: 1 })),
    single('avg_pool_same', [7, 8, 3], new layers.AveragePooling2D(3, { strides: 2, padding: 'same' })),
    single('global_avg_pool_2d', [5, 6, 4], new layers.GlobalAveragePooling2D()),
    single('global_avg_pool_2d_keepdims', [5, 6, 4], new layers.GlobalAveragePooling2D({ keepdims: true })),
    single('global_avg_pool_1d', [9, 4], new layers.GlobalAveragePooling1D()),
    single('embedding_int_ids', [6], new layers.Embedding(20, 3), 'int32'),
    single('embedding_float_ids', [6], new layers.Embedding(20, 3)),
    single('flatten', [3, 4, 2], new layers.Flatten()),
    single('reshape', [12], new layers.Reshape([3, -1])),
    single('dropout', [10], new layers.Dropout(0.5)),
    single('batch_norm_features', [6], new layers.BatchNormalization()),
    single('batch_norm_sequence', [4, 6], new layers.BatchNormalization({ center: false })),
    single('rescaling', [4, 4, 3], new layers.Rescaling(1 / 255, { offset: -0.5 })),
    ...ACTIVATIONS.filter((a) => !LATER_ACTIVATIONS.includes(a)).map((a) => single(`activation_${a}`, [3, 7], new layers.Activation(a))),
  ];

  // Convolutions with images: BatchNormalization, Flatten after NCHW ops, joins of NCHW values.
  const image = Input({ shape: [8, 8, 3], name: 'image' });
  const c1 = new layers.Conv2D(4, 3, { padding: 'same', name: 'c1' }).apply(image);
  const bn = new layers.BatchNormalization({ name: 'bn' }).apply(c1);
  const c2 = new layers.Conv2D(4, 3, { padding: 'same', activation: 'softmax', name: 'c2' }).apply(bn);
  const sum = layers.add([c1, c2, bn], { name: 'sum' });
  const product = layers.multiply([sum, c2], { name: 'product' });
  const mean = layers.average([product, c1, bn], { name: 'mean' });
  const cat = layers.concatenate([mean, image], { name: 'cat' });
  const pooled = new layers.MaxPooling2D(2, { name: 'pool' }).apply(cat);
  const head = new layers.Dense(3, { activation: 'softmax', name: 'head' }).apply(new layers.Flatten({ name: 'flat' }).apply(pooled));
  const mixedImages = new Model({ inputs: image, outputs: [head, pooled], name: 'image_joins' });
  cases.push(mixedImages);

  // Shared layers and a nested model.
  const inner = Input({ shape: [8], name: 'inner' });
  const block = new Model({ inputs: inner, outputs: new layers.Dense(8, { activation: 'gelu', name: 'block_dense' }).apply(inner), name: 'block' });
  const left = Input({ shape: [8], name: 'left' });
  const right = Input({ shape: [8], name: 'right' });
  const shared = new layers.Dense(8, { activation: 'swish', name: 'shared' });
  const joined = layers.add([block.apply(shared.apply(left)), shared.apply(right)], { name: 'join' });
  cases.push(new Model({ inputs: [left, right], outputs: joined, name: 'shared_and_nested' }));

  // Elementwise merges of two channels-last values, one broadcast along the features.
  const a = Input({ shape: [3, 4], name: 'a' });
  const b = Input({ shape: [3, 1], name: 'b' });
  const scaled = layers.multiply([a, b], { name: 'scaled' });
  cases.push(new Model({ inputs: [a, b], outputs: layers.average([scaled, a], { name: 'averaged' }), name: 'multiply_average' }));

  const seq = new Sequential([new layers.Dense(6, { inputShape: [4], activation: 'elu', name: 'h' }), new layers.Dense(2, { activation: 'softmax', name: 'o' })], { name: 'small_sequential' });
  cases.push(seq, productImageClassifier, purchasePredictor);
  // Layers added later go last, so that the cases above keep their seeds (numerics.test.ts
  // seeds weights and inputs by a case's index).
  cases.push(...laterLayerCases());
  cases.push(...normLayerCases());
  // The recurrent layers last: the engine (test/engine/later_layers) does not run them yet.
  cases.push(...recurrentCases());
  cases.push(...augmentLayerCases());
  cases.push(...resizeLayerCases());
  cases.push(...mergeLayerCases());
  cases.push(...timeLayerCases());
  return cases;
}

/** Softmax over an image's rows (axis 1) and channels (-1) after a Conv: the value is channels-first there. */
function imageSoftmax(): Model {
  const image = Input({ shape: [5, 4, 3], name: 'image' });
  const c = new layers.Conv2D(3, 2, { padding: 'same', name: 'c' }).apply(image);
  const rows = new layers.Softmax({ axis: 1, name: 'rows' }).apply(c);
  const channels = new layers.Softmax({ name: 'channels' }).apply(new layers.ReLU({ maxValue: 6, name: 'relu6' }).apply(c));
  return new Model({ inputs: image, outputs: [rows, channels], name: 'image_softmax' });
}

/** MobileNet's stride-2 block: ZeroPadding2D(((0, 1), (0, 1))) between channels-first convolutions. */
function paddedConvolutions(): Model {
  const image = Input({ shape: [8, 8, 3], name: 'image' });
  const c = new layers.Conv2D(4, 3, { padding: 'same', name: 'c' }).apply(image);
  const padded = new layers.ZeroPadding2D([[0, 1], [0, 1]], { name: 'pad' }).apply(c);
  const dw = new layers.DepthwiseConv2D(3, { strides: 2, name: 'dw' }).apply(padded);
  return new Model({ inputs: image, outputs: new layers.ReLU({ maxValue: 6, name: 'relu6' }).apply(dw), name: 'padded_convolutions' });
}

/** A MobileNet-style stack: Conv, BatchNormalization, depthwise and separable convolutions, a classifier. */
function mobileNetBlock(): Model {
  const image = Input({ shape: [12, 12, 3], name: 'image' });
  let x = new layers.Conv2D(8, 3, { strides: 2, padding: 'same', name: 'stem' }).apply(image);
  x = new layers.BatchNormalization({ name: 'stem_bn' }).apply(x);
  x = new layers.DepthwiseConv2D(3, { padding: 'same', activation: 'relu', name: 'dw' }).apply(x);
  x = new layers.Conv2D(12, 1, { name: 'pw' }).apply(x);
  x = new layers.SeparableConv2D(16, 3, { strides: 2, padding: 'same', activation: 'relu', name: 'sep' }).apply(x);
  const pooled = new layers.GlobalAveragePooling2D({ name: 'gap' }).apply(x);
  return new Model({ inputs: image, outputs: new layers.Dense(4, { activation: 'softmax', name: 'head' }).apply(pooled), name: 'mobilenet_block' });
}

/** One small model per layer added after the seed models' set (issue 21), and a stack of them. */
export function laterLayerCases(): Model[] {
  return [
    single('depthwise_valid', [7, 6, 3], new layers.DepthwiseConv2D(3)),
    single('depthwise_same_stride2_multiplier2', [9, 8, 4], new layers.DepthwiseConv2D([3, 2], { strides: 2, padding: 'same', depthMultiplier: 2, activation: 'relu' })),
    single('depthwise_dilated_no_bias', [11, 10, 2], new layers.DepthwiseConv2D(3, { dilationRate: [2, 1], padding: 'same', useBias: false })),
    single('separable_valid', [7, 6, 3], new layers.SeparableConv2D(5, 3)),
    single('separable_same_stride2_multiplier3', [9, 8, 2], new layers.SeparableConv2D(4, [3, 3], { strides: 2, padding: 'same', depthMultiplier: 3, activation: 'elu' })),
    single('separable_dilated_no_bias', [10, 11, 3], new layers.SeparableConv2D(2, 2, { dilationRate: 2, useBias: false })),
    ...LATER_ACTIVATIONS.map((a) => single(`activation_${a}`, [3, 7], new layers.Activation(a))),
    single('relu_layer', [3, 7], new layers.ReLU()),
    single('relu6_layer', [3, 7], new layers.ReLU({ maxValue: 0.6 })),
    single('relu_leaky_capped', [3, 7], new layers.ReLU({ maxValue: 0.5, negativeSlope: 0.1 })),
    single('relu_threshold', [3, 7], new layers.ReLU({ threshold: 0.2 })),
    single('relu_threshold_slope_capped', [3, 7], new layers.ReLU({ threshold: 0.25, negativeSlope: 0.3, maxValue: 0.7 })),
    single('relu_slope', [3, 7], new layers.ReLU({ negativeSlope: 0.05 })),
    single('leaky_relu_layer', [3, 7], new layers.LeakyReLU()),
    single('elu_layer', [3, 7], new layers.ELU({ alpha: 0.5 })),
    single('softmax_layer', [3, 7], new layers.Softmax()),
    single('softmax_axis1', [3, 7], new layers.Softmax({ axis: 1 })),
    imageSoftmax(),
    single('zero_padding_1', [4, 5, 2], new layers.ZeroPadding2D()),
    single('zero_padding_asymmetric', [4, 5, 2], new layers.ZeroPadding2D([[0, 1], [2, 0]])),
    paddedConvolutions(),
    single('conv_groups2', [7, 6, 4], new layers.Conv2D(6, 3, { groups: 2, padding: 'same' })),
    single('conv_groups3_strided_no_bias', [9, 8, 6], new layers.Conv2D(3, [2, 3], { groups: 3, strides: 2, useBias: false, activation: 'tanh' })),
    mobileNetBlock(),
    ...sequenceLayerCases(),
    ...layerNormalizationCases(),
    ...attentionCases(),
  ];
}

/** Embedding -> LSTM (sequences) -> GRU -> Dense: a text classifier's shape. */
function textClassifier(): Model {
  const ids = Input({ shape: [7], name: 'ids', dtype: 'int32' });
  let x = new layers.Embedding(30, 5, { name: 'embed' }).apply(ids);
  x = new layers.LSTM(6, { returnSequences: true, name: 'lstm' }).apply(x);
  x = new layers.GRU(4, { name: 'gru' }).apply(x);
  return new Model({ inputs: ids, outputs: new layers.Dense(3, { activation: 'softmax', name: 'head' }).apply(x), name: 'text_classifier' });
}

/** A recurrent layer whose final states are outputs too (return_state). */
function withStates(name: string, layer: Layer, inputShape: Shape): Model {
  const x = Input({ shape: inputShape, name: 'x' });
  return new Model({ inputs: x, outputs: layer.applyMultiOutput(x), name });
}

/** LSTM, GRU (reset_after both ways), SimpleRNN and Bidirectional: every option ONNX export writes differently. */
export function recurrentCases(): Model[] {
  return [
    single('lstm_last', [5, 3], new layers.LSTM(4)),
    single('lstm_sequences_no_bias', [5, 3], new layers.LSTM(3, { returnSequences: true, useBias: false })),
    single('lstm_backwards_sequences', [6, 2], new layers.LSTM(4, { returnSequences: true, goBackwards: true })),
    single('lstm_relu_tanh_gates', [4, 3], new layers.LSTM(3, { activation: 'relu', recurrentActivation: 'tanh', unitForgetBias: false })),
    // hard_sigmoid takes ONNX's activation_alpha/beta: gates only, then the candidate only
    single('lstm_hard_sigmoid_gates', [4, 3], new layers.LSTM(3, { recurrentActivation: 'hard_sigmoid' })),
    single('gru_hard_sigmoid_candidate', [4, 3], new layers.GRU(3, { activation: 'hard_sigmoid', recurrentActivation: 'tanh', returnSequences: true })),
    withStates('lstm_states', new layers.LSTM(4, { returnState: true }), [5, 3]),
    withStates('lstm_sequences_states_backwards', new layers.LSTM(2, { returnSequences: true, returnState: true, goBackwards: true }), [4, 3]),
    single('gru_reset_after', [5, 3], new layers.GRU(4)),
    single('gru_reset_before_sequences', [5, 3], new layers.GRU(4, { resetAfter: false, returnSequences: true })),
    single('gru_backwards_no_bias', [6, 2], new layers.GRU(3, { goBackwards: true, useBias: false })),
    withStates('gru_states', new layers.GRU(3, { returnState: true, resetAfter: false }), [4, 2]),
    single('simple_rnn', [5, 3], new layers.SimpleRNN(4)),
    single('simple_rnn_relu_sequences_backwards', [5, 3], new layers.SimpleRNN(3, { activation: 'relu', returnSequences: true, goBackwards: true })),
    withStates('simple_rnn_states', new layers.SimpleRNN(3, { returnState: true }), [4, 2]),
    single('bidirectional_lstm_concat', [5, 3], new layers.Bidirectional(new layers.LSTM(3, { returnSequences: true }))),
    single('bidirectional_gru_sum', [5, 3], new layers.Bidirectional(new layers.GRU(3), { mergeMode: 'sum' })),
    single('bidirectional_rnn_mul_sequences', [4, 2], new layers.Bidirectional(new layers.SimpleRNN(3, { returnSequences: true }), { mergeMode: 'mul' })),
    single('bidirectional_gru_ave_backwards', [4, 2], new layers.Bidirectional(new layers.GRU(2, { returnSequences: true, goBackwards: true, resetAfter: false }), { mergeMode: 'ave' })),
    withStates('bidirectional_lstm_states', new layers.Bidirectional(new layers.LSTM(3, { returnState: true })), [4, 3]),
    textClassifier(),
  ];
}
/** Conv1D (every padding, strides, dilation, groups), the 1-D pools and the global max pools. */
function sequenceLayerCases(): Model[] {
  return [
    single('conv1d_valid', [9, 3], new layers.Conv1D(4, 3)),
    single('conv1d_same_stride2', [9, 3], new layers.Conv1D(5, 4, { strides: 2, padding: 'same', activation: 'relu' })),
    single('conv1d_causal_dilated', [10, 2], new layers.Conv1D(3, 3, { padding: 'causal', dilationRate: 2, activation: 'tanh' })),
    single('conv1d_groups2_causal_no_bias', [8, 4], new layers.Conv1D(6, 2, { padding: 'causal', groups: 2, useBias: false })),
    single('conv1d_softmax', [7, 3], new layers.Conv1D(4, 1, { activation: 'softmax' })),
    single('max_pool_1d_valid', [9, 3], new layers.MaxPooling1D()),
    single('max_pool_1d_same_stride1', [9, 3], new layers.MaxPooling1D(3, { strides: 1, padding: 'same' })),
    single('avg_pool_1d_valid_stride1', [9, 3], new layers.AveragePooling1D(3, { strides: 1 })),
    single('avg_pool_1d_same', [9, 3], new layers.AveragePooling1D(2, { padding: 'same' })),
    single('global_max_pool_2d', [5, 6, 4], new layers.GlobalMaxPooling2D()),
    single('global_max_pool_2d_keepdims', [5, 6, 4], new layers.GlobalMaxPooling2D({ keepdims: true })),
    single('global_max_pool_1d', [9, 4], new layers.GlobalMaxPooling1D()),
    single('global_max_pool_1d_keepdims', [9, 4], new layers.GlobalMaxPooling1D({ keepdims: true })),
    sequenceStack(),
    ...transposedConvolutionCases(),
  ];
}

/** Conv2DTranspose: valid and same, strides, output_padding, dilation, and a U-Net-style decoder step. */
function transposedConvolutionCases(): Model[] {
  const image = Input({ shape: [6, 6, 3], name: 'image' });
  const down = new layers.Conv2D(8, 3, { strides: 2, padding: 'same', activation: 'relu', name: 'down' }).apply(image);
  const up = new layers.Conv2DTranspose(4, 3, { strides: 2, padding: 'same', activation: 'relu', name: 'up' }).apply(down);
  const decoder = new Model({ inputs: image, outputs: layers.concatenate([up, image], { name: 'skip' }), name: 'transposed_decoder' });
  return [
    single('conv_transpose_valid', [4, 5, 3], new layers.Conv2DTranspose(2, 3)),
    single('conv_transpose_same_stride2', [4, 5, 3], new layers.Conv2DTranspose(4, [3, 2], { strides: 2, padding: 'same', activation: 'tanh' })),
    single('conv_transpose_valid_stride3_kernel2', [3, 4, 2], new layers.Conv2DTranspose(3, 2, { strides: 3 })),
    single('conv_transpose_same_output_padding', [4, 4, 2], new layers.Conv2DTranspose(3, 3, { strides: 2, padding: 'same', outputPadding: 0, useBias: false })),
    single('conv_transpose_valid_output_padding', [3, 4, 2], new layers.Conv2DTranspose(3, [3, 4], { strides: [2, 3], outputPadding: [1, 2] })),
    single('conv_transpose_same_even_kernel_output_padding', [4, 3, 2], new layers.Conv2DTranspose(2, 4, { strides: 2, padding: 'same', outputPadding: 1 })),
    single('conv_transpose_dilated', [5, 4, 2], new layers.Conv2DTranspose(3, 3, { dilationRate: 2, padding: 'same' })),
    decoder,
    single('cropping_default', [4, 5, 2], new layers.Cropping2D()),
    single('cropping_asymmetric', [6, 7, 2], new layers.Cropping2D([[1, 2], [0, 3]])),
    uNetSkip(),
    single('permute_sequence', [3, 5], new layers.Permute([2, 1])),
    single('permute_image', [3, 4, 2], new layers.Permute([3, 1, 2])),
    single('repeat_vector', [4], new layers.RepeatVector(3)),
    permuteAfterConvolution(),
  ];
}

/** Permute of a channels-first value (after a Conv) and RepeatVector feeding a Conv1D. */
function permuteAfterConvolution(): Model {
  const image = Input({ shape: [5, 4, 3], name: 'image' });
  const c = new layers.Conv2D(2, 3, { padding: 'same', name: 'c' }).apply(image);
  const swapped = new layers.Permute([2, 1, 3], { name: 'swap' }).apply(c);
  const vector = Input({ shape: [3], name: 'vector' });
  const repeated = new layers.RepeatVector(6, { name: 'repeat' }).apply(vector);
  const conv = new layers.Conv1D(2, 3, { padding: 'causal', name: 'seq' }).apply(repeated);
  return new Model({ inputs: [image, vector], outputs: [swapped, conv], name: 'permute_repeat' });
}

/** U-Net's skip: the encoder's larger map cropped to the decoder's, between channels-first convolutions. */
function uNetSkip(): Model {
  const image = Input({ shape: [9, 9, 2], name: 'image' });
  const encoder = new layers.Conv2D(4, 3, { padding: 'same', activation: 'relu', name: 'encoder' }).apply(image);
  const down = new layers.MaxPooling2D(2, { name: 'down' }).apply(encoder);
  const up = new layers.Conv2DTranspose(4, 2, { strides: 2, name: 'up' }).apply(down);
  const skip = new layers.Cropping2D([[0, 1], [1, 0]], { name: 'crop' }).apply(encoder);
  return new Model({ inputs: image, outputs: layers.concatenate([up, skip], { name: 'join' }), name: 'unet_skip' });
}

/** A 1-D signal classifier: Conv1D, pools, a global max beside a global mean, joined. */
function sequenceStack(): Model {
  const signal = Input({ shape: [16, 2], name: 'signal' });
  let h = new layers.Conv1D(6, 3, { padding: 'causal', activation: 'relu', name: 'c1' }).apply(signal);
  h = new layers.MaxPooling1D(2, { name: 'p1' }).apply(h);
  h = new layers.Conv1D(8, 3, { padding: 'same', activation: 'relu', name: 'c2' }).apply(h);
  h = new layers.AveragePooling1D(2, { name: 'p2' }).apply(h);
  const joined = layers.concatenate([new layers.GlobalMaxPooling1D({ name: 'gmax' }).apply(h), new layers.GlobalAveragePooling1D({ name: 'gavg' }).apply(h)], { name: 'join' });
  return new Model({ inputs: signal, outputs: new layers.Dense(3, { activation: 'softmax', name: 'head' }).apply(joined), name: 'sequence_stack' });
}

/** PReLU after a convolution (its slopes stored (c, h, w) beside the channels-first value) and a Conv after it. */
function convPrelu(): Model {
  const image = Input({ shape: [6, 5, 2], name: 'image' });
  let x = new layers.Conv2D(3, 3, { padding: 'same', name: 'conv' }).apply(image);
  x = new layers.PReLU({ name: 'per_element' }).apply(x);
  x = new layers.PReLU({ sharedAxes: [1, 2], name: 'per_channel' }).apply(x);
  return new Model({ inputs: image, outputs: new layers.Conv2D(2, 3, { name: 'conv2' }).apply(x), name: 'conv_prelu' });
}

/** One small model per layer of issue 21's activation, regularization and preprocessing families (norm21). */
export function normLayerCases(): Model[] {
  return [
    // swish and gelu on the engine as well as in ONNX (the engine's cases run these)
    ...['swish', 'gelu'].map((a) => single(`activation_${a}_again`, [3, 7], new layers.Activation(a))),
    single('prelu_features', [7], new layers.PReLU()),
    single('prelu_sequence_shared_time', [4, 3], new layers.PReLU({ sharedAxes: 1 })),
    single('prelu_image', [4, 5, 3], new layers.PReLU()),
    single('prelu_image_shared', [4, 5, 3], new layers.PReLU({ sharedAxes: [1, 2] })),
    convPrelu(),
    // training-only layers: Identity in the exported file and in the engine's inference
    single('gaussian_noise', [5, 4], new layers.GaussianNoise(0.5)),
    single('gaussian_dropout', [6], new layers.GaussianDropout(0.3)),
    single('spatial_dropout2d', [4, 3, 2], new layers.SpatialDropout2D(0.4)),
    single('activity_regularization', [6], new layers.ActivityRegularization({ l1: 0.1, l2: 0.2 })),
  ];
}

/** Attention: dot and concat scores, with and without scale, a key of its own, a causal call, the scores as a second output, dropout (identity here). */
function attentionCases(): Model[] {
  const make = (name: string, shapes: Shape[], layer: Layer, callArgs: Record<string, boolean> = {}) => {
    const inputs = shapes.map((shape, i) => Input({ shape, name: ['query', 'value', 'key'][i]! }));
    return new Model({ inputs, outputs: layer.applyMultiOutput(inputs, callArgs), name });
  };
  return [
    make('attention_dot', [[4, 6], [5, 6]], new layers.Attention()),
    make('attention_scaled_key_own_features', [[4, 6], [5, 3], [5, 6]], new layers.Attention({ useScale: true })),
    make('attention_concat_scaled_causal', [[4, 5], [4, 5]], new layers.Attention({ scoreMode: 'concat', useScale: true }), { useCausalMask: true }),
    make('attention_causal_scores_dropout', [[3, 4], [3, 4]], new layers.Attention({ dropout: 0.2 }), { useCausalMask: true, returnAttentionScores: true }),
    make('attention_concat_cross', [[2, 3], [5, 3]], new layers.Attention({ scoreMode: 'concat' })),
    make('mha_self', [[4, 6], [4, 6]], new layers.MultiHeadAttention(2, 3)),
    make('mha_cross_key_value_dim_output_shape', [[3, 5], [4, 2], [4, 6]], new layers.MultiHeadAttention(3, 2, { valueDim: 4, outputShape: 7 })),
    make('mha_causal_scores_no_bias_dropout', [[4, 6], [4, 6]], new layers.MultiHeadAttention(2, 4, { useBias: false, dropout: 0.1 }), { useCausalMask: true, returnAttentionScores: true }),
  ];
}

/** LayerNormalization over the last axis, over two axes apart (gamma stored as (3, 1, 5)), without beta or gamma, and after a Conv (a channels-first value). */
function layerNormalizationCases(): Model[] {
  const image = Input({ shape: [5, 4, 3], name: 'image' });
  const conv = new layers.Conv2D(3, 2, { padding: 'same', name: 'c' }).apply(image);
  const imageNorm = new Model({ inputs: image, outputs: new layers.LayerNormalization({ axis: [1, 2, 3], name: 'norm' }).apply(conv), name: 'layer_norm_after_conv' });
  return [
    single('layer_norm', [4, 6], new layers.LayerNormalization()),
    single('layer_norm_axes_1_3_no_center', [3, 4, 5], new layers.LayerNormalization({ axis: [1, 3], center: false, epsilon: 1e-5 })),
    single('layer_norm_two_axes_no_scale', [3, 4], new layers.LayerNormalization({ axis: [-2, -1], scale: false })),
    imageNorm,
  ];
}

/** Normalization adapted to a small array of its own (weights mean, variance, count), so that the statistics are not trivial. */
function adapted(layer: Normalization, shape: number[], seed: number): Normalization {
  let state = seed;
  const data = Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => ((state = (Math.imul(state, 1664525) + 1013904223) >>> 0) / 2 ** 32) * 6 - 2);
  layer.adapt({ shape, data });
  return layer;
}

/**
 * Normalization (adapted, given, inverted, over several axes and over none) and the image
 * augmentation layers (augment22): the augmentation is Identity in the exported file and in the
 * engine's inference.
 */
export function augmentLayerCases(): Model[] {
  const image = Input({ shape: [5, 4, 3], name: 'image' });
  const conv = new layers.Conv2D(3, 2, { padding: 'same', name: 'c' }).apply(image);
  const afterConv = new Model({ inputs: image, outputs: new layers.Normalization({ mean: [0.5, -1, 2], variance: [4, 0.25, 1], name: 'norm' }).apply(conv), name: 'normalization_after_conv' });
  const augmented = Input({ shape: [6, 5, 3], name: 'image' });
  let h = new layers.RandomFlip('horizontal', { name: 'flip' }).apply(augmented);
  h = new layers.RandomContrast(0.3, { name: 'contrast' }).apply(h);
  h = new layers.RandomTranslation(0.2, [-0.1, 0.3], { name: 'translation' }).apply(h);
  h = new layers.RandomZoom(0.2, { fillMode: 'constant', fillValue: 0.5, name: 'zoom' }).apply(h);
  h = new layers.RandomRotation(0.1, { interpolation: 'nearest', name: 'rotation' }).apply(h);
  const augmentation = new Model({ inputs: augmented, outputs: new layers.Conv2D(2, 3, { name: 'conv' }).apply(h), name: 'image_augmentation' });
  return [
    single('normalization_adapted_features', [6], adapted(new layers.Normalization(), [40, 6], 3)),
    single('normalization_adapted_image_channels', [4, 3, 2], adapted(new layers.Normalization(), [7, 4, 3, 2], 4)),
    single('normalization_adapted_axes_1_2', [4, 3, 2], adapted(new layers.Normalization({ axis: [1, 2] }), [9, 4, 3, 2], 5)),
    single('normalization_adapted_scalar', [5], adapted(new layers.Normalization({ axis: null }), [8, 5], 6)),
    single('normalization_given_broadcast', [3, 4], new layers.Normalization({ axis: [1, 2], mean: [1, 2, 3, 4], variance: [1, 4, 9, 16] })),
    single('normalization_invert', [4], adapted(new layers.Normalization({ invert: true }), [10, 4], 7)),
    afterConv,
    augmentation,
  ];
}
/**
 * UpSampling2D (nearest, bilinear), Resizing up and down, CenterCrop (of the input, and of a
 * convolution's channels-first value), and a small U-Net (Conv2D, MaxPooling2D, Conv2D,
 * UpSampling2D, concatenate, Conv2D).
 */
export function resizeLayerCases(): Model[] {
  return [
    single('upsampling_nearest_default', [3, 4, 2], new layers.UpSampling2D()),
    single('upsampling_nearest_3x2', [3, 4, 2], new layers.UpSampling2D([3, 2])),
    single('upsampling_bilinear', [3, 4, 2], new layers.UpSampling2D(2, { interpolation: 'bilinear' })),
    single('upsampling_bilinear_3x2', [3, 5, 2], new layers.UpSampling2D([3, 2], { interpolation: 'bilinear' })),
    single('resizing_bilinear_up', [4, 5, 2], new layers.Resizing(7, 9)),
    single('resizing_bilinear_down', [9, 8, 2], new layers.Resizing(4, 3)),
    single('resizing_nearest', [6, 5, 2], new layers.Resizing(4, 8, { interpolation: 'nearest' })),
    single('resizing_nearest_down', [9, 7, 3], new layers.Resizing(4, 3, { interpolation: 'nearest' })),
    single('center_crop', [7, 8, 2], new layers.CenterCrop(4, 5)),
    single('center_crop_whole', [4, 5, 2], new layers.CenterCrop(4, 5)),
    uNet(),
    croppedConvolution(),
  ];
}

/** CenterCrop of a Conv2D's channels-first value, margins 4 (even) and 3 (odd: the extra column on the right). */
function croppedConvolution(): Model {
  const image = Input({ shape: [8, 7, 2], name: 'image' });
  const features = new layers.Conv2D(3, 1, { name: 'features' }).apply(image);
  return new Model({ inputs: image, outputs: new layers.CenterCrop(4, 4, { name: 'crop' }).apply(features), name: 'center_crop_after_conv' });
}

/** A U-Net in small: the encoder's map joined to the decoder's upsampled one, between channels-first convolutions. */
export function uNet(): Model {
  const image = Input({ shape: [8, 8, 2], name: 'image' });
  const encoder = new layers.Conv2D(4, 3, { padding: 'same', activation: 'relu', name: 'encoder' }).apply(image);
  const down = new layers.MaxPooling2D(2, { name: 'down' }).apply(encoder);
  const middle = new layers.Conv2D(6, 3, { padding: 'same', activation: 'relu', name: 'middle' }).apply(down);
  const up = new layers.UpSampling2D(2, { interpolation: 'bilinear', name: 'up' }).apply(middle);
  const joined = layers.concatenate([up, encoder], { name: 'join' });
  const mask = new layers.Conv2D(1, 1, { activation: 'sigmoid', name: 'mask' }).apply(joined);
  return new Model({ inputs: image, outputs: mask, name: 'unet' });
}

/** A model of `inputs` (shapes without the batch, named x0, x1, ...) joined by `join`. */
function joined(name: string, shapes: Shape[], join: (inputs: SymbolicTensor[]) => SymbolicTensor): Model {
  const inputs = shapes.map((shape, i) => Input({ shape, name: `x${i}` }));
  return new Model({ inputs, outputs: join(inputs), name });
}

/** Subtract, Maximum, Minimum and Dot: broadcasts, every form of Dot's axes, normalize, channels-first operands. */
export function mergeLayerCases(): Model[] {
  return [
    joined('subtract_broadcast', [[3, 4], [3, 1]], (xs) => layers.subtract(xs)),
    joined('maximum_three', [[3, 4], [3, 1], [1, 4]], (xs) => layers.maximum(xs)),
    joined('minimum_two', [[5], [5]], (xs) => layers.minimum(xs)),
    joined('dot_vectors', [[6], [6]], (xs) => layers.dot(xs, { axes: 1 })),
    joined('dot_axes_1', [[4, 3], [4, 5]], (xs) => layers.dot(xs, { axes: 1 })),
    joined('dot_axes_pair', [[3, 5], [10, 3]], (xs) => layers.dot(xs, { axes: [1, 2] })),
    joined('dot_normalize', [[5, 4], [6, 4]], (xs) => layers.dot(xs, { axes: -1, normalize: true })),
    joined('dot_rank4_with_matrix', [[2, 3, 4], [4, 5]], (xs) => layers.dot(xs, { axes: [3, 1] })),
    joined('dot_vector_with_matrix', [[3], [3, 5]], (xs) => layers.dot(xs, { axes: [1, 1], normalize: true })),
    joined('dot_matrix_with_vector', [[4, 3], [3]], (xs) => layers.dot(xs, { axes: [2, 1] })),
    mergesAfterConvolutions(),
  ];
}

/** Maximum and Minimum of channels-first values (two Conv2Ds), Subtract with the image, Dot of the map with a vector. */
function mergesAfterConvolutions(): Model {
  const image = Input({ shape: [5, 4, 2], name: 'image' });
  const weights = Input({ shape: [2], name: 'weights' });
  const c1 = new layers.Conv2D(2, 3, { padding: 'same', name: 'c1' }).apply(image);
  const c2 = new layers.Conv2D(2, 1, { name: 'c2' }).apply(image);
  const high = layers.maximum([c1, c2], { name: 'high' });
  const low = layers.minimum([c1, c2, high], { name: 'low' });
  const diff = layers.subtract([high, image], { name: 'diff' });
  const scores = layers.dot([low, weights], { axes: [3, 1], name: 'scores' });
  return new Model({ inputs: [image, weights], outputs: [diff, scores], name: 'merges_after_convolutions' });
}

/** A clip of frames (time, h, w, c): TimeDistributed Conv2D, MaxPooling2D and Flatten per frame, an LSTM over the frames, a Dense head. */
export function videoClassifier(): Model {
  const clip = Input({ shape: [3, 6, 6, 2], name: 'clip' });
  let x = new layers.TimeDistributed(new layers.Conv2D(4, 3, { activation: 'relu', name: 'frame_conv' }), { name: 'conv_frames' }).apply(clip);
  x = new layers.TimeDistributed(new layers.MaxPooling2D(2, { name: 'frame_pool' }), { name: 'pool_frames' }).apply(x);
  x = new layers.TimeDistributed(new layers.Flatten({ name: 'frame_flat' }), { name: 'flat_frames' }).apply(x);
  x = new layers.LSTM(5, { name: 'over_time' }).apply(x);
  return new Model({ inputs: clip, outputs: new layers.Dense(2, { activation: 'softmax', name: 'label' }).apply(x), name: 'video_classifier' });
}

/** TimeDistributed over a Conv2D's output (a channels-first value): each image row is a time step of a Conv1D. */
function timeDistributedAfterConv(): Model {
  const image = Input({ shape: [5, 4, 2], name: 'image' });
  const features = new layers.Conv2D(3, 1, { name: 'features' }).apply(image);
  const rows = new layers.TimeDistributed(new layers.Conv1D(2, 2, { padding: 'same', name: 'row_conv' }), { name: 'rows' }).apply(features);
  return new Model({ inputs: image, outputs: rows, name: 'time_distributed_after_conv' });
}

/** ZeroPadding1D, Cropping1D, UpSampling1D, SpatialDropout1D and TimeDistributed over the layers that run on merged time steps (seq25). */
export function timeLayerCases(): Model[] {
  const distributed = (name: string, shape: Shape, inner: Layer) => single(name, shape, new layers.TimeDistributed(inner));
  return [
    single('zero_padding1d_default', [4, 3], new layers.ZeroPadding1D()),
    single('zero_padding1d_uneven', [4, 3], new layers.ZeroPadding1D([2, 0])),
    single('cropping1d_default', [6, 3], new layers.Cropping1D()),
    single('cropping1d_start_only', [6, 3], new layers.Cropping1D([2, 0])),
    single('upsampling1d_default', [4, 3], new layers.UpSampling1D()),
    single('upsampling1d_3', [3, 2], new layers.UpSampling1D(3)),
    single('spatial_dropout1d', [5, 4], new layers.SpatialDropout1D(0.3)),
    distributed('time_distributed_dense', [4, 6], new layers.Dense(3, { activation: 'tanh' })),
    distributed('time_distributed_dense_on_images', [3, 4, 5], new layers.Dense(2)),
    distributed('time_distributed_conv2d_same_stride2', [2, 5, 6, 3], new layers.Conv2D(4, 3, { strides: 2, padding: 'same' })),
    distributed('time_distributed_conv1d_causal', [3, 7, 2], new layers.Conv1D(3, 3, { padding: 'causal' })),
    distributed('time_distributed_avg_pool', [2, 6, 6, 2], new layers.AveragePooling2D(3, { strides: 2, padding: 'same' })),
    distributed('time_distributed_global_pool', [3, 4, 4, 3], new layers.GlobalAveragePooling2D()),
    distributed('time_distributed_batch_norm', [3, 4, 5, 2], new layers.BatchNormalization()),
    distributed('time_distributed_dropout', [4, 3], new layers.Dropout(0.5)),
    distributed('time_distributed_flatten', [3, 2, 4, 2], new layers.Flatten()),
    distributed('time_distributed_nested', [2, 3, 4], new layers.TimeDistributed(new layers.Dense(2))),
    distributed('time_distributed_zero_padding1d', [2, 4, 3], new layers.ZeroPadding1D(1)),
    timeDistributedAfterConv(),
    videoClassifier(),
  ];
}
