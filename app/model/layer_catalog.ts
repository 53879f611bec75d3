// Every layer type Strata supports, as the app's editors present it: its Keras arguments
// (config keys), their types, defaults and a line of help, grouped as Keras's documentation
// groups its layers. One table, owned by the model API beside the layers it describes: the
// layer forms, the palette and the code generator read it, and a test checks each row's
// defaults against what the layer class itself writes (test/model/layer_catalog.test.ts).
import { ACTIVATIONS } from './activations.ts';
import { getInitializer, serializeInitializer, type InitializerIdentifier } from './initializers.ts';

/** Keras's layer groups (keras.io/api/layers/), in the documentation's order. */
export const LAYER_GROUPS = ['Core layers', 'Convolution layers', 'Pooling layers', 'Recurrent layers', 'Normalization layers', 'Regularization layers', 'Attention layers', 'Reshaping layers', 'Merging layers', 'Preprocessing layers'] as const;
export type LayerGroup = (typeof LAYER_GROUPS)[number];

/** Keras's initializers by their string names (keras.initializers.get). */
export const INITIALIZER_NAMES = [
  'glorot_uniform',
  'glorot_normal',
  'he_uniform',
  'he_normal',
  'lecun_uniform',
  'lecun_normal',
  'random_uniform',
  'random_normal',
  'truncated_normal',
  'zeros',
  'ones',
  'orthogonal',
] as const;

/** How an argument is typed and edited. */
export type ArgumentType =
  /** A whole number, at least `min` when given. */
  | { kind: 'int'; min?: number }
  /** A whole number or None. */
  | { kind: 'optional-int'; min?: number }
  | { kind: 'float' }
  /** A number or None (ReLU's max_value). */
  | { kind: 'optional-float' }
  | { kind: 'bool' }
  /** One of `options` (padding, activation, dtype). */
  | { kind: 'choice'; options: readonly string[] }
  /** An initializer: a name of INITIALIZER_NAMES, or Keras's {"class_name", "config"}. */
  | { kind: 'initializer' }
  /** An int or a tuple of `length` ints (kernel_size, strides). */
  | { kind: 'int-tuple'; length: number }
  /** A shape without the batch dimension: positive ints or None (an Input's shape). */
  | { kind: 'shape' }
  /** Dimensions with at most one -1 (Reshape's target_shape). */
  | { kind: 'target-shape' }
  /** A recurrent layer to wrap, {"class_name": "LSTM" | "GRU" | "SimpleRNN", "config"} (Bidirectional's layer); written LSTM(32). */
  | { kind: 'recurrent-layer' }
  /** Any layer of one input to wrap, {"class_name", "config"} (TimeDistributed's layer); written with its positional arguments, Conv2D(16, 3). */
  | { kind: 'layer' };

export interface LayerArgument {
  /** The Keras config key (snake_case), as the layer's getConfig() writes it. */
  key: string;
  /** The TypeScript option's name in Strata's API (camelCase). */
  option: string;
  type: ArgumentType;
  /** Keras's default, in the config's form; undefined for a required argument. */
  default?: unknown;
  /** What a new layer gets for a required argument (the palette adds layers with it). */
  initial?: unknown;
  /** Positional in Strata's constructor (Keras's positional arguments), in this order. */
  positional?: boolean;
  help: string;
}

export interface LayerCatalogEntry {
  className: string;
  group: LayerGroup;
  /** One line: what the layer computes. */
  help: string;
  /** The page of Keras's documentation, under https://keras.io/api/layers/. */
  docs: string;
  /** 'one' input, 'several' (merges), or 'none' (an Input). */
  inputs: 'none' | 'one' | 'several';
  args: LayerArgument[];
}

/** Every layer's own arguments come after these (name is edited as the layer's name). */
const TRAINABLE: LayerArgument = { key: 'trainable', option: 'trainable', type: { kind: 'bool' }, default: true, help: 'Whether training updates the weights.' };

const ACTIVATION: LayerArgument = {
  key: 'activation',
  option: 'activation',
  type: { kind: 'choice', options: ACTIVATIONS },
  default: 'linear',
  help: 'Applied to the output; linear is none.',
};

const USE_BIAS: LayerArgument = { key: 'use_bias', option: 'useBias', type: { kind: 'bool' }, default: true, help: 'Whether to add a bias vector.' };
const BIAS_INITIALIZER: LayerArgument = { key: 'bias_initializer', option: 'biasInitializer', type: { kind: 'initializer' }, default: 'zeros', help: 'How the bias starts.' };

function kernelArgs(): LayerArgument[] {
  return [
    ACTIVATION,
    USE_BIAS,
    { key: 'kernel_initializer', option: 'kernelInitializer', type: { kind: 'initializer' }, default: 'glorot_uniform', help: 'How the kernel starts.' },
    BIAS_INITIALIZER,
  ];
}

// The window and depthwise arguments the convolutions share.
const FILTERS: LayerArgument = { key: 'filters', option: 'filters', type: { kind: 'int', min: 1 }, initial: 32, positional: true, help: 'The number of output channels.' };
const STRIDES: LayerArgument = { key: 'strides', option: 'strides', type: { kind: 'int-tuple', length: 2 }, default: [1, 1], help: 'The step between windows.' };
const DILATION: LayerArgument = {
  key: 'dilation_rate',
  option: 'dilationRate',
  type: { kind: 'int-tuple', length: 2 },
  default: [1, 1],
  help: "Spacing between the kernel's taps (atrous convolution).",
};
const GROUPS: LayerArgument = {
  key: 'groups',
  option: 'groups',
  type: { kind: 'int', min: 1 },
  default: 1,
  help: 'Splits the channels into this many groups, each convolved on its own (filters and input channels must be multiples of it).',
};
const DEPTH_MULTIPLIER: LayerArgument = { key: 'depth_multiplier', option: 'depthMultiplier', type: { kind: 'int', min: 1 }, default: 1, help: 'Depthwise output channels per input channel.' };
const DEPTHWISE_INITIALIZER: LayerArgument = {
  key: 'depthwise_initializer',
  option: 'depthwiseInitializer',
  type: { kind: 'initializer' },
  default: 'glorot_uniform',
  help: 'How the depthwise kernel starts.',
};

const ATTENTION_DROPOUT: LayerArgument = { key: 'dropout', option: 'dropout', type: { kind: 'float' }, default: 0, help: 'The fraction of attention weights dropped while training.' };

/** BatchNormalization's and LayerNormalization's shared arguments. */
const NORMALIZATION_ARGS: LayerArgument[] = [
  { key: 'epsilon', option: 'epsilon', type: { kind: 'float' }, default: 0.001, help: 'Added to the variance, so that no division is by zero.' },
  { key: 'center', option: 'center', type: { kind: 'bool' }, default: true, help: 'Learn an offset (beta).' },
  { key: 'scale', option: 'scale', type: { kind: 'bool' }, default: true, help: 'Learn a scale (gamma).' },
];
const PADDING: LayerArgument = {
  key: 'padding',
  option: 'padding',
  type: { kind: 'choice', options: ['valid', 'same'] },
  default: 'valid',
  help: '"valid": no padding; "same": pad so that the output has ceil(input / strides) positions.',
};

/** The noise layers' seed: Keras keeps it; Strata's engine draws from fit()'s seed. */
const NOISE_SEED: LayerArgument = { key: 'seed', option: 'seed', type: { kind: 'optional-int' }, default: null, help: "Kept in the config; training draws from fit()'s seed." };
/** RandomTranslation's, RandomZoom's and RandomRotation's fill options. */
const FILL_ARGUMENTS: LayerArgument[] = [
  { key: 'fill_mode', option: 'fillMode', type: { kind: 'choice', options: ['reflect', 'wrap', 'constant', 'nearest'] }, default: 'reflect', help: 'How points outside the image are filled.' },
  { key: 'fill_value', option: 'fillValue', type: { kind: 'float' }, default: 0, help: 'The value outside the image for fill_mode constant.' },
  { key: 'interpolation', option: 'interpolation', type: { kind: 'choice', options: ['bilinear', 'nearest'] }, default: 'bilinear', help: 'How pixels between samples are read.' },
  NOISE_SEED,
];

function poolingArgs(rank = 2): LayerArgument[] {
  const window = rank === 2 ? 'The window (height, width) to pool over.' : 'The window (steps) to pool over.';
  return [
    { key: 'pool_size', option: 'poolSize', type: { kind: 'int-tuple', length: rank }, default: Array<number>(rank).fill(2), positional: true, help: window },
    { key: 'strides', option: 'strides', type: { kind: 'int-tuple', length: rank }, default: null, help: 'The step between windows; None: the pool size.' },
    PADDING,
  ];
}

// The recurrent layers' shared arguments (Keras's defaults).
const RETURN_SEQUENCES: LayerArgument = { key: 'return_sequences', option: 'returnSequences', type: { kind: 'bool' }, default: false, help: "Output every step's result (batch, steps, units), not only the last step's." };

function recurrentArgs(gated: boolean): LayerArgument[] {
  return [
    { key: 'units', option: 'units', type: { kind: 'int', min: 1 }, initial: 32, positional: true, help: 'The size of the state and of the output.' },
    { ...ACTIVATION, default: 'tanh', help: "The candidate's and the output's activation." },
    ...(gated ? [{ key: 'recurrent_activation', option: 'recurrentActivation', type: { kind: 'choice', options: ACTIVATIONS }, default: 'sigmoid', help: "The gates' activation." } satisfies LayerArgument] : []),
    USE_BIAS,
    RETURN_SEQUENCES,
    { key: 'return_state', option: 'returnState', type: { kind: 'bool' }, default: false, help: 'Also output the final state(s) (LSTM: h and c).' },
    { key: 'go_backwards', option: 'goBackwards', type: { kind: 'bool' }, default: false, help: 'Read the sequence from its end; the outputs come in that order.' },
    { key: 'kernel_initializer', option: 'kernelInitializer', type: { kind: 'initializer' }, default: 'glorot_uniform', help: "How the input kernel starts." },
    { key: 'recurrent_initializer', option: 'recurrentInitializer', type: { kind: 'initializer' }, default: 'orthogonal', help: 'How the recurrent kernel starts.' },
    BIAS_INITIALIZER,
  ];
}

export const LAYER_CATALOG: readonly LayerCatalogEntry[] = [
  {
    className: 'InputLayer',
    group: 'Core layers',
    help: 'Where data enters the model: its shape, without the batch dimension.',
    docs: 'core_layers/input/',
    inputs: 'none',
    args: [
      { key: 'shape', option: 'shape', type: { kind: 'shape' }, initial: [28, 28, 1], help: 'The shape of one sample, e.g. 64, 64, 3 for 64x64 RGB images; None for a size known only when run.' },
      { key: 'dtype', option: 'dtype', type: { kind: 'choice', options: ['float32', 'int32'] }, default: 'float32', help: 'int32 for token ids fed to an Embedding.' },
    ],
  },
  {
    className: 'Dense',
    group: 'Core layers',
    help: 'A fully connected layer: activation(dot(input, kernel) + bias) over the last axis.',
    docs: 'core_layers/dense/',
    inputs: 'one',
    args: [{ key: 'units', option: 'units', type: { kind: 'int', min: 1 }, initial: 32, positional: true, help: 'The number of outputs.' }, ...kernelArgs(), TRAINABLE],
  },
  {
    className: 'Activation',
    group: 'Core layers',
    help: 'Applies an activation function to each value.',
    docs: 'core_layers/activation/',
    inputs: 'one',
    args: [{ ...ACTIVATION, default: undefined, initial: 'relu', positional: true, help: 'The function.' }],
  },
  {
    className: 'Embedding',
    group: 'Core layers',
    help: 'Turns integer token ids into dense vectors of a fixed size.',
    docs: 'core_layers/embedding/',
    inputs: 'one',
    args: [
      { key: 'input_dim', option: 'inputDim', type: { kind: 'int', min: 1 }, initial: 1000, positional: true, help: 'The vocabulary size: token ids run from 0 to input_dim - 1.' },
      { key: 'output_dim', option: 'outputDim', type: { kind: 'int', min: 1 }, initial: 64, positional: true, help: 'The size of each vector.' },
      { key: 'embeddings_initializer', option: 'embeddingsInitializer', type: { kind: 'initializer' }, default: 'random_uniform', help: 'How the vectors start.' },
      { key: 'input_length', option: 'inputLength', type: { kind: 'optional-int', min: 1 }, default: null, help: 'The length of the sequences, when fixed (tf.keras 2.x).' },
      TRAINABLE,
    ],
  },
  {
    className: 'Conv2D',
    group: 'Convolution layers',
    help: 'A 2D convolution over images (batch, height, width, channels): filters slide over the image.',
    docs: 'convolution_layers/convolution2d/',
    inputs: 'one',
    args: [
      FILTERS,
      { key: 'kernel_size', option: 'kernelSize', type: { kind: 'int-tuple', length: 2 }, initial: [3, 3], positional: true, help: 'The window (height, width) each filter covers.' },
      STRIDES,
      PADDING,
      DILATION,
      GROUPS,
      ...kernelArgs(),
      TRAINABLE,
    ],
  },
  {
    className: 'Conv1D',
    group: 'Convolution layers',
    help: 'A 1D convolution over sequences (batch, steps, channels): filters slide along the steps.',
    docs: 'convolution_layers/convolution1d/',
    inputs: 'one',
    args: [
      FILTERS,
      { key: 'kernel_size', option: 'kernelSize', type: { kind: 'int-tuple', length: 1 }, initial: [3], positional: true, help: 'The window (steps) each filter covers.' },
      { ...STRIDES, type: { kind: 'int-tuple', length: 1 }, default: [1] },
      {
        ...PADDING,
        type: { kind: 'choice', options: ['valid', 'same', 'causal'] },
        help: '"valid": no padding; "same": pad so that the output has ceil(input / strides) steps; "causal": pad the start only, so that no output sees a later step.',
      },
      { ...DILATION, type: { kind: 'int-tuple', length: 1 }, default: [1] },
      GROUPS,
      ...kernelArgs(),
      TRAINABLE,
    ],
  },
  {
    className: 'Conv2DTranspose',
    group: 'Convolution layers',
    help: 'A transposed 2D convolution ("deconvolution"): grows images, e.g. by the stride in a U-Net decoder.',
    docs: 'convolution_layers/convolution2d_transpose/',
    inputs: 'one',
    args: [
      FILTERS,
      { key: 'kernel_size', option: 'kernelSize', type: { kind: 'int-tuple', length: 2 }, initial: [3, 3], positional: true, help: 'The window (height, width) each filter covers.' },
      { ...STRIDES, help: 'The step between the copies each input pixel adds: the growth factor.' },
      { ...PADDING, help: '"valid": the full output; "same": the output is the input times the strides.' },
      {
        key: 'output_padding',
        option: 'outputPadding',
        type: { kind: 'int-tuple', length: 2 },
        default: null,
        help: 'Rows and columns added at the end of the output, each below its stride; None: the lengths padding gives.',
      },
      DILATION,
      ...kernelArgs(),
      TRAINABLE,
    ],
  },
  {
    className: 'DepthwiseConv2D',
    group: 'Convolution layers',
    help: 'Convolves each input channel with its own filters (depth_multiplier of them): the first half of a separable convolution.',
    docs: 'convolution_layers/depthwise_convolution2d/',
    inputs: 'one',
    args: [
      { key: 'kernel_size', option: 'kernelSize', type: { kind: 'int-tuple', length: 2 }, initial: [3, 3], positional: true, help: 'The window (height, width) each filter covers.' },
      STRIDES,
      PADDING,
      DEPTH_MULTIPLIER,
      DILATION,
      ACTIVATION,
      USE_BIAS,
      DEPTHWISE_INITIALIZER,
      BIAS_INITIALIZER,
      TRAINABLE,
    ],
  },
  {
    className: 'SeparableConv2D',
    group: 'Convolution layers',
    help: 'A depthwise convolution followed by a 1x1 convolution: far fewer weights than a Conv2D (MobileNet).',
    docs: 'convolution_layers/separable_convolution2d/',
    inputs: 'one',
    args: [
      FILTERS,
      { key: 'kernel_size', option: 'kernelSize', type: { kind: 'int-tuple', length: 2 }, initial: [3, 3], positional: true, help: 'The window (height, width) of the depthwise step.' },
      STRIDES,
      PADDING,
      DEPTH_MULTIPLIER,
      DILATION,
      ACTIVATION,
      USE_BIAS,
      DEPTHWISE_INITIALIZER,
      { key: 'pointwise_initializer', option: 'pointwiseInitializer', type: { kind: 'initializer' }, default: 'glorot_uniform', help: 'How the 1x1 kernel starts.' },
      BIAS_INITIALIZER,
      TRAINABLE,
    ],
  },
  {
    className: 'ReLU',
    group: 'Core layers',
    help: 'max(x, 0), capped at max_value (6: ReLU6), with a slope below the threshold.',
    docs: 'activation_layers/relu/',
    inputs: 'one',
    args: [
      { key: 'max_value', option: 'maxValue', type: { kind: 'optional-float' }, default: null, help: 'The largest output; None: no cap.' },
      { key: 'negative_slope', option: 'negativeSlope', type: { kind: 'float' }, default: 0, help: 'The slope below the threshold.' },
      { key: 'threshold', option: 'threshold', type: { kind: 'float' }, default: 0, help: 'Values at or below it are cut (or sloped).' },
    ],
  },
  {
    className: 'LeakyReLU',
    group: 'Core layers',
    help: 'x for positive values, alpha * x for negative ones.',
    docs: 'activation_layers/leaky_relu/',
    inputs: 'one',
    args: [{ key: 'alpha', option: 'negativeSlope', type: { kind: 'float' }, default: 0.3, help: 'The slope for negative values.' }],
  },
  {
    className: 'ELU',
    group: 'Core layers',
    help: 'x for positive values, alpha * (exp(x) - 1) for negative ones.',
    docs: 'activation_layers/elu/',
    inputs: 'one',
    args: [{ key: 'alpha', option: 'alpha', type: { kind: 'float' }, default: 1, help: 'The value negative inputs tend to, negated.' }],
  },
  {
    className: 'PReLU',
    group: 'Core layers',
    help: 'x for positive values, alpha * x for negative ones, with alpha learned (one slope per element, or per shared axes).',
    docs: 'activation_layers/prelu/',
    inputs: 'one',
    args: [
      { key: 'alpha_initializer', option: 'alphaInitializer', type: { kind: 'initializer' }, default: 'zeros', help: 'How the slopes start; zeros: as ReLU.' },
      { key: 'shared_axes', option: 'sharedAxes', type: { kind: 'shape' }, default: null, help: 'Axes sharing one slope, e.g. 1, 2 for one slope per image channel; None: none.' },
    ],
  },
  {
    className: 'Softmax',
    group: 'Core layers',
    help: 'Turns scores into probabilities that sum to 1 along an axis.',
    docs: 'activation_layers/softmax/',
    inputs: 'one',
    args: [{ key: 'axis', option: 'axis', type: { kind: 'int' }, default: -1, help: 'The axis to normalize over; -1 is the last.' }],
  },
  { className: 'MaxPooling2D', group: 'Pooling layers', help: 'The largest value of each window, per channel.', docs: 'pooling_layers/max_pooling2d/', inputs: 'one', args: poolingArgs() },
  { className: 'AveragePooling2D', group: 'Pooling layers', help: 'The mean of each window, per channel.', docs: 'pooling_layers/average_pooling2d/', inputs: 'one', args: poolingArgs() },
  {
    className: 'GlobalAveragePooling2D',
    group: 'Pooling layers',
    help: 'The mean over height and width: one value per channel.',
    docs: 'pooling_layers/global_average_pooling2d/',
    inputs: 'one',
    args: [{ key: 'keepdims', option: 'keepdims', type: { kind: 'bool' }, default: false, help: 'Keep height and width as dimensions of size 1.' }],
  },
  {
    className: 'GlobalAveragePooling1D',
    group: 'Pooling layers',
    help: 'The mean over the steps of a sequence: one value per feature.',
    docs: 'pooling_layers/global_average_pooling1d/',
    inputs: 'one',
    args: [{ key: 'keepdims', option: 'keepdims', type: { kind: 'bool' }, default: false, help: 'Keep the steps as a dimension of size 1.' }],
  },
  { className: 'MaxPooling1D', group: 'Pooling layers', help: 'The largest value of each window of steps, per feature.', docs: 'pooling_layers/max_pooling1d/', inputs: 'one', args: poolingArgs(1) },
  { className: 'AveragePooling1D', group: 'Pooling layers', help: 'The mean of each window of steps, per feature.', docs: 'pooling_layers/average_pooling1d/', inputs: 'one', args: poolingArgs(1) },
  {
    className: 'GlobalMaxPooling2D',
    group: 'Pooling layers',
    help: 'The largest value over height and width: one value per channel.',
    docs: 'pooling_layers/global_max_pooling2d/',
    inputs: 'one',
    args: [{ key: 'keepdims', option: 'keepdims', type: { kind: 'bool' }, default: false, help: 'Keep height and width as dimensions of size 1.' }],
  },
  {
    className: 'GlobalMaxPooling1D',
    group: 'Pooling layers',
    help: 'The largest value over the steps of a sequence: one value per feature.',
    docs: 'pooling_layers/global_max_pooling1d/',
    inputs: 'one',
    args: [{ key: 'keepdims', option: 'keepdims', type: { kind: 'bool' }, default: false, help: 'Keep the steps as a dimension of size 1.' }],
  },
  {
    className: 'LSTM',
    group: 'Recurrent layers',
    help: 'Long Short-Term Memory over a sequence (batch, steps, features): gates decide what the cell state keeps.',
    docs: 'recurrent_layers/lstm/',
    inputs: 'one',
    args: [...recurrentArgs(true), { key: 'unit_forget_bias', option: 'unitForgetBias', type: { kind: 'bool' }, default: true, help: "Start the forget gate's bias at 1." }, TRAINABLE],
  },
  {
    className: 'GRU',
    group: 'Recurrent layers',
    help: 'Gated Recurrent Unit over a sequence (batch, steps, features): an update and a reset gate.',
    docs: 'recurrent_layers/gru/',
    inputs: 'one',
    args: [...recurrentArgs(true), { key: 'reset_after', option: 'resetAfter', type: { kind: 'bool' }, default: true, help: 'Apply the reset gate after the recurrent matrix multiplication (the CuDNN form).' }, TRAINABLE],
  },
  {
    className: 'SimpleRNN',
    group: 'Recurrent layers',
    help: 'A fully connected recurrent layer: each step is activation(x W + h U + b).',
    docs: 'recurrent_layers/simple_rnn/',
    inputs: 'one',
    args: [...recurrentArgs(false), TRAINABLE],
  },
  {
    className: 'Bidirectional',
    group: 'Recurrent layers',
    help: 'Runs a recurrent layer forward and a copy of it backward over the sequence and merges their outputs.',
    docs: 'recurrent_layers/bidirectional/',
    inputs: 'one',
    args: [
      { key: 'layer', option: 'layer', type: { kind: 'recurrent-layer' }, initial: { class_name: 'LSTM', config: { name: 'lstm', units: 32 } }, positional: true, help: 'The recurrent layer to run both ways, e.g. LSTM(32).' },
      { key: 'merge_mode', option: 'mergeMode', type: { kind: 'choice', options: ['concat', 'sum', 'mul', 'ave'] }, default: 'concat', help: 'How the two outputs combine.' },
      TRAINABLE,
    ],
  },
  {
    className: 'TimeDistributed',
    group: 'Recurrent layers',
    help: 'Applies a layer to every time step of a (batch, time, ...) input with the same weights: per-frame convolutions of a video.',
    docs: 'recurrent_layers/time_distributed/',
    inputs: 'one',
    args: [
      { key: 'layer', option: 'layer', type: { kind: 'layer' }, initial: { class_name: 'Dense', config: { name: 'dense', units: 32 } }, positional: true, help: 'The layer applied to each step, e.g. Dense(32) or Conv2D(16, 3).' },
      TRAINABLE,
    ],
  },
  {
    className: 'BatchNormalization',
    group: 'Normalization layers',
    help: 'Normalizes over the batch while training, and with moving statistics afterwards.',
    docs: 'normalization_layers/batch_normalization/',
    inputs: 'one',
    args: [
      { key: 'momentum', option: 'momentum', type: { kind: 'float' }, default: 0.99, help: 'How slowly the moving mean and variance follow the batches (0 to 1).' },
      ...NORMALIZATION_ARGS,
      TRAINABLE,
    ],
  },
  {
    className: 'Attention',
    group: 'Attention layers',
    help: 'Dot-product attention: each query step takes a softmax-weighted mix of the value steps. Inputs [query, value] or [query, value, key].',
    docs: 'attention_layers/attention/',
    inputs: 'several',
    args: [
      { key: 'use_scale', option: 'useScale', type: { kind: 'bool' }, default: false, help: 'Learn a scalar that scales the scores.' },
      { key: 'score_mode', option: 'scoreMode', type: { kind: 'choice', options: ['dot', 'concat'] }, default: 'dot', help: 'dot: query . key; concat: sum of tanh(query + key).' },
      ATTENTION_DROPOUT,
    ],
  },
  {
    className: 'MultiHeadAttention',
    group: 'Attention layers',
    help: 'Attention in several heads, each with its own projections of query, key and value, joined by an output projection. Inputs [query, value] or [query, value, key].',
    docs: 'attention_layers/multi_head_attention/',
    inputs: 'several',
    args: [
      { key: 'num_heads', option: 'numHeads', type: { kind: 'int', min: 1 }, initial: 2, positional: true, help: 'The number of attention heads.' },
      { key: 'key_dim', option: 'keyDim', type: { kind: 'int', min: 1 }, initial: 16, positional: true, help: 'Each head\'s size for query and key.' },
      { key: 'value_dim', option: 'valueDim', type: { kind: 'optional-int', min: 1 }, default: null, help: 'Each head\'s size for value; None: key_dim.' },
      ATTENTION_DROPOUT,
      USE_BIAS,
      { key: 'output_shape', option: 'outputShape', type: { kind: 'optional-int', min: 1 }, default: null, help: 'The output\'s features; None: the query\'s.' },
      { key: 'kernel_initializer', option: 'kernelInitializer', type: { kind: 'initializer' }, default: 'glorot_uniform', help: 'How the projection kernels start.' },
      BIAS_INITIALIZER,
    ],
  },
  {
    className: 'LayerNormalization',
    group: 'Normalization layers',
    help: 'Normalizes each sample over its last axis (or the axes given) to mean 0 and variance 1, then scales and shifts.',
    docs: 'normalization_layers/layer_normalization/',
    inputs: 'one',
    args: [
      { key: 'axis', option: 'axis', type: { kind: 'int' }, default: -1, help: 'The axis to normalize over; -1 is the last.' },
      ...NORMALIZATION_ARGS,
      { key: 'beta_initializer', option: 'betaInitializer', type: { kind: 'initializer' }, default: 'zeros', help: 'How the offset starts.' },
      { key: 'gamma_initializer', option: 'gammaInitializer', type: { kind: 'initializer' }, default: 'ones', help: 'How the scale starts.' },
      TRAINABLE,
    ],
  },
  {
    className: 'Dropout',
    group: 'Regularization layers',
    help: 'While training, sets a fraction of the values to 0 and scales the rest up; does nothing afterwards.',
    docs: 'regularization_layers/dropout/',
    inputs: 'one',
    args: [
      { key: 'rate', option: 'rate', type: { kind: 'float' }, initial: 0.5, positional: true, help: 'The fraction of values dropped, from 0 up to (not including) 1.' },
      { key: 'seed', option: 'seed', type: { kind: 'optional-int' }, default: null, help: 'Fixes which values are dropped.' },
    ],
  },
  {
    className: 'GaussianNoise',
    group: 'Regularization layers',
    help: 'While training, adds normal noise of mean 0 to every value; does nothing afterwards.',
    docs: 'regularization_layers/gaussian_noise/',
    inputs: 'one',
    args: [{ key: 'stddev', option: 'stddev', type: { kind: 'float' }, initial: 0.1, positional: true, help: "The noise's standard deviation." }, NOISE_SEED],
  },
  {
    className: 'GaussianDropout',
    group: 'Regularization layers',
    help: 'While training, multiplies every value by normal noise of mean 1; does nothing afterwards.',
    docs: 'regularization_layers/gaussian_dropout/',
    inputs: 'one',
    args: [{ key: 'rate', option: 'rate', type: { kind: 'float' }, initial: 0.1, positional: true, help: 'As Dropout\'s rate: the noise\'s variance is rate / (1 - rate).' }, NOISE_SEED],
  },
  {
    className: 'SpatialDropout2D',
    group: 'Regularization layers',
    help: 'While training, sets whole channels of each image to 0 and scales the rest up; does nothing afterwards.',
    docs: 'regularization_layers/spatial_dropout2d/',
    inputs: 'one',
    args: [{ key: 'rate', option: 'rate', type: { kind: 'float' }, initial: 0.5, positional: true, help: 'The fraction of channels dropped, from 0 up to (not including) 1.' }, NOISE_SEED],
  },
  {
    className: 'ActivityRegularization',
    group: 'Regularization layers',
    help: 'Passes values through and adds l1 * sum(|x|) + l2 * sum(x²) to the loss.',
    docs: 'regularization_layers/activity_regularization/',
    inputs: 'one',
    args: [
      { key: 'l1', option: 'l1', type: { kind: 'float' }, default: 0, help: 'The weight of the sum of absolute values.' },
      { key: 'l2', option: 'l2', type: { kind: 'float' }, default: 0, help: 'The weight of the sum of squares.' },
    ],
  },
  {
    className: 'SpatialDropout1D',
    group: 'Regularization layers',
    help: 'While training, sets whole channels of each sequence to 0 and scales the rest up; does nothing afterwards.',
    docs: 'regularization_layers/spatial_dropout1d/',
    inputs: 'one',
    args: [{ key: 'rate', option: 'rate', type: { kind: 'float' }, initial: 0.5, positional: true, help: 'The fraction of channels dropped, from 0 up to (not including) 1.' }, NOISE_SEED],
  },
  {
    className: 'ZeroPadding2D',
    group: 'Reshaping layers',
    help: 'Adds rows and columns of zeros around each image.',
    docs: 'reshaping_layers/zero_padding2d/',
    inputs: 'one',
    args: [{ key: 'padding', option: 'padding', type: { kind: 'int-tuple', length: 2 }, default: [1, 1], positional: true, help: 'Rows (top and bottom) and columns (left and right) to add; uneven padding is written in code, [[top, bottom], [left, right]].' }],
  },
  {
    className: 'Cropping2D',
    group: 'Reshaping layers',
    help: 'Cuts rows and columns off the edges of each image (U-Net skips).',
    docs: 'reshaping_layers/cropping2d/',
    inputs: 'one',
    args: [{ key: 'cropping', option: 'cropping', type: { kind: 'int-tuple', length: 2 }, default: [0, 0], positional: true, help: 'Rows (top and bottom) and columns (left and right) to cut; uneven cropping is written in code, [[top, bottom], [left, right]].' }],
  },
  {
    className: 'Permute',
    group: 'Reshaping layers',
    help: 'Reorders the axes of each sample, e.g. [2, 1] swaps steps and features.',
    docs: 'reshaping_layers/permute/',
    inputs: 'one',
    args: [{ key: 'dims', option: 'dims', type: { kind: 'target-shape' }, initial: [2, 1], positional: true, help: 'The new order of the axes after the batch, counted from 1.' }],
  },
  {
    className: 'RepeatVector',
    group: 'Reshaping layers',
    help: 'Repeats each vector n times: (batch, features) becomes (batch, n, features).',
    docs: 'reshaping_layers/repeat_vector/',
    inputs: 'one',
    args: [{ key: 'n', option: 'n', type: { kind: 'int', min: 1 }, initial: 3, positional: true, help: 'How many copies.' }],
  },
  { className: 'Flatten', group: 'Reshaping layers', help: 'Flattens each sample into a vector (height x width x channels values).', docs: 'reshaping_layers/flatten/', inputs: 'one', args: [] },
  {
    className: 'Reshape',
    group: 'Reshaping layers',
    help: 'Gives each sample a new shape with the same number of values.',
    docs: 'reshaping_layers/reshape/',
    inputs: 'one',
    args: [{ key: 'target_shape', option: 'targetShape', type: { kind: 'target-shape' }, initial: [-1], positional: true, help: 'The new shape without the batch dimension; one -1 is worked out from the rest.' }],
  },
  {
    className: 'Concatenate',
    group: 'Merging layers',
    help: 'Joins its inputs along an axis (all other dimensions must match).',
    docs: 'merging_layers/concatenate/',
    inputs: 'several',
    args: [{ key: 'axis', option: 'axis', type: { kind: 'int' }, default: -1, help: 'The axis to join along; -1 is the last.' }],
  },
  { className: 'Add', group: 'Merging layers', help: 'The sum of its inputs, which must have the same shape (residual joins).', docs: 'merging_layers/add/', inputs: 'several', args: [] },
  { className: 'Multiply', group: 'Merging layers', help: 'The elementwise product of its inputs (gates).', docs: 'merging_layers/multiply/', inputs: 'several', args: [] },
  { className: 'Average', group: 'Merging layers', help: 'The elementwise mean of its inputs.', docs: 'merging_layers/average/', inputs: 'several', args: [] },
  { className: 'Subtract', group: 'Merging layers', help: 'The first input minus the second (exactly two inputs, e.g. a Siamese difference).', docs: 'merging_layers/subtract/', inputs: 'several', args: [] },
  { className: 'Maximum', group: 'Merging layers', help: 'The elementwise maximum of its inputs.', docs: 'merging_layers/maximum/', inputs: 'several', args: [] },
  { className: 'Minimum', group: 'Merging layers', help: 'The elementwise minimum of its inputs.', docs: 'merging_layers/minimum/', inputs: 'several', args: [] },
  {
    className: 'Dot',
    group: 'Merging layers',
    help: 'The dot product of two inputs along an axis, per sample: (None, n) and (None, n) give (None, 1).',
    docs: 'merging_layers/dot/',
    inputs: 'several',
    args: [
      { key: 'axes', option: 'axes', type: { kind: 'int-tuple', length: 2 }, initial: -1, positional: true, help: 'The axis summed over, or one per input (first, second); -1 is the last.' },
      { key: 'normalize', option: 'normalize', type: { kind: 'bool' }, default: false, help: 'L2-normalize both along the axes first: the cosine similarity.' },
    ],
  },
  {
    className: 'Rescaling',
    group: 'Preprocessing layers',
    help: 'Multiplies by a scale and adds an offset, e.g. 1/255 for 8-bit pixels.',
    docs: 'preprocessing_layers/image_preprocessing/rescaling/',
    inputs: 'one',
    args: [
      { key: 'scale', option: 'scale', type: { kind: 'float' }, initial: 1 / 255, positional: true, help: 'The factor.' },
      { key: 'offset', option: 'offset', type: { kind: 'float' }, default: 0, help: 'Added after scaling.' },
    ],
  },
  {
    className: 'Normalization',
    group: 'Preprocessing layers',
    help: 'Shifts and scales each feature to mean 0 and variance 1: (x - mean) / sqrt(variance), with the statistics from adapt() on data.',
    docs: 'preprocessing_layers/numerical/normalization/',
    inputs: 'one',
    args: [
      { key: 'axis', option: 'axis', type: { kind: 'int' }, default: -1, help: 'The axis with its own mean and variance per index; -1 is the last (features).' },
      { key: 'invert', option: 'invert', type: { kind: 'bool' }, default: false, help: 'Undo the normalization instead: mean + x * sqrt(variance).' },
    ],
  },
  {
    className: 'RandomFlip',
    group: 'Preprocessing layers',
    help: 'While training, flips each image left-right and/or up-down with probability 1/2; does nothing afterwards.',
    docs: 'preprocessing_layers/image_augmentation/random_flip/',
    inputs: 'one',
    args: [
      { key: 'mode', option: 'mode', type: { kind: 'choice', options: ['horizontal', 'vertical', 'horizontal_and_vertical'] }, default: 'horizontal_and_vertical', positional: true, help: 'Which flips.' },
      NOISE_SEED,
    ],
  },
  {
    className: 'RandomContrast',
    group: 'Preprocessing layers',
    help: "While training, scales each image's distance from its channels' means by a random factor in [1 - f, 1 + f]; does nothing afterwards.",
    docs: 'preprocessing_layers/image_augmentation/random_contrast/',
    inputs: 'one',
    args: [{ key: 'factor', option: 'factor', type: { kind: 'float' }, initial: 0.2, positional: true, help: 'f in [0, 1] (or a pair [lower, upper]).' }, NOISE_SEED],
  },
  {
    className: 'RandomTranslation',
    group: 'Preprocessing layers',
    help: 'While training, shifts each image by random fractions of its height and width; does nothing afterwards.',
    docs: 'preprocessing_layers/image_augmentation/random_translation/',
    inputs: 'one',
    args: [
      { key: 'height_factor', option: 'heightFactor', type: { kind: 'float' }, initial: 0.1, positional: true, help: 'Shifts up to this fraction of the height, either way (or a pair [lower, upper]).' },
      { key: 'width_factor', option: 'widthFactor', type: { kind: 'float' }, initial: 0.1, positional: true, help: 'Shifts up to this fraction of the width, either way (or a pair [lower, upper]).' },
      ...FILL_ARGUMENTS,
    ],
  },
  {
    className: 'RandomZoom',
    group: 'Preprocessing layers',
    help: 'While training, zooms each image in or out by a random factor; does nothing afterwards.',
    docs: 'preprocessing_layers/image_augmentation/random_zoom/',
    inputs: 'one',
    args: [
      { key: 'height_factor', option: 'heightFactor', type: { kind: 'float' }, initial: 0.1, positional: true, help: 'Zooms by 1 + z, z up to this either way; positive zooms out (or a pair [lower, upper]).' },
      { key: 'width_factor', option: 'widthFactor', type: { kind: 'optional-float' }, default: null, help: "The width's own zoom range; None keeps the aspect ratio." },
      ...FILL_ARGUMENTS,
    ],
  },
  {
    className: 'RandomRotation',
    group: 'Preprocessing layers',
    help: 'While training, rotates each image about its center by a random angle; does nothing afterwards.',
    docs: 'preprocessing_layers/image_augmentation/random_rotation/',
    inputs: 'one',
    args: [
      { key: 'factor', option: 'factor', type: { kind: 'float' }, initial: 0.1, positional: true, help: 'Rotates up to this fraction of a full turn, either way (or a pair [lower, upper]).' },
      ...FILL_ARGUMENTS,
    ],
  },
  {
    className: 'UpSampling2D',
    group: 'Reshaping layers',
    help: 'Enlarges each image by whole factors, repeating pixels (nearest) or interpolating (bilinear): U-Net decoders.',
    docs: 'reshaping_layers/up_sampling2d/',
    inputs: 'one',
    args: [
      { key: 'size', option: 'size', type: { kind: 'int-tuple', length: 2 }, default: [2, 2], positional: true, help: 'The factors for rows and columns.' },
      { key: 'interpolation', option: 'interpolation', type: { kind: 'choice', options: ['nearest', 'bilinear'] }, default: 'nearest', help: 'nearest repeats each row and column; bilinear blends neighbours.' },
    ],
  },
  {
    className: 'ZeroPadding1D',
    group: 'Reshaping layers',
    help: 'Adds steps of zeros at the start and end of each sequence.',
    docs: 'reshaping_layers/zero_padding1d/',
    inputs: 'one',
    args: [{ key: 'padding', option: 'padding', type: { kind: 'int-tuple', length: 2 }, default: [1, 1], positional: true, help: 'Steps to add at the start and at the end.' }],
  },
  {
    className: 'Cropping1D',
    group: 'Reshaping layers',
    help: 'Cuts steps off the start and end of each sequence.',
    docs: 'reshaping_layers/cropping1d/',
    inputs: 'one',
    args: [{ key: 'cropping', option: 'cropping', type: { kind: 'int-tuple', length: 2 }, default: [1, 1], positional: true, help: 'Steps to cut from the start and from the end.' }],
  },
  {
    className: 'UpSampling1D',
    group: 'Reshaping layers',
    help: 'Lengthens each sequence by repeating every step.',
    docs: 'reshaping_layers/up_sampling1d/',
    inputs: 'one',
    args: [{ key: 'size', option: 'size', type: { kind: 'int', min: 1 }, default: 2, positional: true, help: 'How many times each step is repeated.' }],
  },
  {
    className: 'Resizing',
    group: 'Preprocessing layers',
    help: 'Resizes each image to a height and width (the whole image, stretched if the aspect ratio differs).',
    docs: 'preprocessing_layers/image_preprocessing/resizing/',
    inputs: 'one',
    args: [
      { key: 'height', option: 'height', type: { kind: 'int', min: 1 }, initial: 64, positional: true, help: 'The output height.' },
      { key: 'width', option: 'width', type: { kind: 'int', min: 1 }, initial: 64, positional: true, help: 'The output width.' },
      { key: 'interpolation', option: 'interpolation', type: { kind: 'choice', options: ['bilinear', 'nearest'] }, default: 'bilinear', help: 'How output pixels are computed from the input.' },
    ],
  },
  {
    className: 'CenterCrop',
    group: 'Preprocessing layers',
    help: 'Keeps the middle height x width window of each image (the input must be at least that large).',
    docs: 'preprocessing_layers/image_preprocessing/center_crop/',
    inputs: 'one',
    args: [
      { key: 'height', option: 'height', type: { kind: 'int', min: 1 }, initial: 32, positional: true, help: 'The output height.' },
      { key: 'width', option: 'width', type: { kind: 'int', min: 1 }, initial: 32, positional: true, help: 'The output width.' },
    ],
  },
];

const BY_CLASS = new Map(LAYER_CATALOG.map((entry) => [entry.className, entry]));

/** The catalog's row for a layer class, or undefined (a nested model, a class Strata does not have). */
export function catalogEntry(className: string): LayerCatalogEntry | undefined {
  return BY_CLASS.get(className);
}

/** The Keras documentation page of a layer class. */
export function docsUrl(entry: LayerCatalogEntry): string {
  return `https://keras.io/api/layers/${entry.docs}`;
}

/**
 * The config of a new layer of `className` named `name`: every argument at its default or
 * initial value, in Keras's config form (what fromConfig reads).
 */
export function newLayerConfig(className: string, name: string): Record<string, unknown> {
  const entry = BY_CLASS.get(className);
  if (!entry) throw new Error(`newLayerConfig: no catalog entry for ${className}`);
  const config: Record<string, unknown> = { name };
  for (const arg of entry.args) {
    const value = arg.default !== undefined ? arg.default : arg.initial;
    if (arg.key === 'shape') config.batch_input_shape = [null, ...(value as number[])];
    else if (value !== null) config[arg.key] = Array.isArray(value) ? [...value] : value;
  }
  return config;
}

/**
 * The INITIALIZER_NAMES entry an initializer value is (a name, or {"class_name", "config"} with
 * that initializer's default config), or null for one with settings of its own (a seed, a value).
 */
export function initializerName(value: unknown): string | null {
  let serialized: string;
  try {
    serialized = JSON.stringify(serializeInitializer(getInitializer(value as InitializerIdentifier)));
  } catch {
    return null;
  }
  return INITIALIZER_NAMES.find((name) => JSON.stringify(serializeInitializer(getInitializer(name))) === serialized) ?? null;
}
