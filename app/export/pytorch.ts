// `strata export --format pytorch`: the model as a Python package for PyTorch. model.py holds
// the model as an nn.Module built from keras_layers.py's channels-last modules (Keras's
// semantics: padding, initializers, BatchNormalization), weights.safetensors its weights as a
// state_dict, train.py its compile() settings with DistributedDataParallel under torchrun.
// The weights are safetensors, written here without Python: torch 1.x has no reader for it,
// so the package brings a 40-line one (weights.py, numpy and torch only) that also writes a
// .pt; a .pt written from TypeScript would mean copying torch's private pickle layout.
import {
  Activation, ActivityRegularization, Attention, AveragePooling1D, CenterCrop, Normalization, Resizing, UpSampling2D, AveragePooling2D, BatchNormalization, Bidirectional, Concatenate, Conv1D, Conv2D, Conv2DTranspose, Cropping2D, Dense, DepthwiseConv2D, Dropout,
  ELU, Embedding, GaussianDropout, GaussianNoise, GlobalAveragePooling1D, GlobalAveragePooling2D, GlobalMaxPooling1D, GlobalMaxPooling2D, GRU, InputLayer,
  LayerNormalization, LeakyReLU, LSTM, MaxPooling1D, MaxPooling2D, MultiHeadAttention, Permute, PReLU, ReLU, RecurrentLayer, RepeatVector, Rescaling, Reshape, SeparableConv2D,
  Softmax, SpatialDropout2D, ValueError, Dot, ZeroPadding2D, Cropping1D, SpatialDropout1D, TimeDistributed, UpSampling1D, ZeroPadding1D, RandomContrast, RandomFlip, RandomRotation, RandomTranslation, RandomZoom, type Layer, type LayerWeight, type Model, type Shape, type SymbolicTensor,
} from '../model/index.ts';
import { serializeInitializer, type Initializer } from '../model/initializers.ts';
import { onnxDims, toOnnxLayout } from '../translate/kernel_layout.ts';
import { STRATA_VERSION } from '../version.ts';
import { IdentifierPool, flattenCalls, pyClassName, pyKeywords, pyLiteral, pythonSource } from './python.ts';
import { encodeSafetensors, type NamedTensor } from './safetensors.ts';
import { compileSettings, type CompileSettings, type FitSettings } from './compile_settings.ts';

/** The package's files by name. */
export type ExportedFiles = Record<string, string | Uint8Array>;

/** A state_dict entry: the torch key under the module, the Keras weight, and how its values are laid out for torch. */
interface TorchWeight {
  key: string;
  weight: string;
  layout: 'keras' | 'transpose' | 'oihw' | 'depthwise';
}

interface TorchRow<L extends Layer> {
  /** The module's constructor call; `input` is the shape of the layer's (first) input. */
  module(layer: L, input: Shape): string;
  /** Its state_dict entries (a function where they depend on the layer: Bidirectional's sublayers). */
  weights: TorchWeight[] | ((layer: L) => TorchWeight[]);
}

const init = (value: Initializer) => serializeInitializer(value);
const GLOROT = { class_name: 'GlorotUniform', config: { seed: null } };
const ZEROS = { class_name: 'Zeros', config: {} };
const ONES = { class_name: 'Ones', config: {} };
const ORTHOGONAL = { class_name: 'Orthogonal', config: { gain: 1, seed: null } };

function call(className: string, positional: unknown[], keywords: [string, unknown, unknown?][] = []): string {
  return `${className}(${[...positional.map((v) => pyLiteral(v, true)), ...pyKeywords(keywords)].join(', ')})`;
}

function lastDim(shape: Shape, layer: Layer): number {
  const d = shape[shape.length - 1];
  if (typeof d !== 'number') throw new ValueError(`${layer.name}: the input's last dimension must be known to export, got ${JSON.stringify(shape)}`);
  return d;
}

const BIAS: TorchWeight = { key: 'bias', weight: 'bias', layout: 'keras' };
const AS_KERAS = (...names: string[]): TorchWeight[] => names.map((name) => ({ key: name, weight: name, layout: 'keras' }));

/** LSTM, GRU, SimpleRNN: keras_recurrent.py's modules keep Keras's weights and arguments as they are. */
function recurrentModule(l: RecurrentLayer, input: Shape): string {
  const own: [string, unknown, unknown?][] =
    l instanceof LSTM ? [['unit_forget_bias', l.unitForgetBias, true]] : l instanceof GRU ? [['reset_after', l.resetAfter, true]] : [];
  return call(l.className, [lastDim(input, l), l.units], [
    ...own,
    ['activation', l.activation, 'tanh'], ['recurrent_activation', l.recurrentActivation, 'sigmoid'], ['use_bias', l.useBias, true],
    ['kernel_initializer', init(l.kernelInitializer), GLOROT], ['recurrent_initializer', init(l.recurrentInitializer), ORTHOGONAL], ['bias_initializer', init(l.biasInitializer), ZEROS],
    ['return_sequences', l.returnSequences, false], ['return_state', l.returnState, false], ['go_backwards', l.goBackwards, false],
  ]);
}
const RECURRENT_WEIGHTS = ['kernel', 'recurrent_kernel', 'bias'];
const RECURRENT: TorchRow<RecurrentLayer> = { module: recurrentModule, weights: AS_KERAS(...RECURRENT_WEIGHTS) };
const stateless = <L extends Layer>(module: (layer: L) => string): TorchRow<L> => ({ module, weights: [] });

/** The geometric augmentation layers' keyword arguments (keras_augment.py takes Keras's). */
const fillKeywords = (l: RandomTranslation | RandomZoom | RandomRotation): [string, unknown, unknown?][] => [
  ['fill_mode', l.fillMode, 'reflect'], ['interpolation', l.interpolation, 'bilinear'], ['seed', l.seed, null], ['fill_value', l.fillValue, 0],
];

const TORCH_TABLE: Record<string, TorchRow<never>> = {
  Dense: {
    module: (l: Dense, input) => call('Dense', [lastDim(input, l), l.units], [['activation', l.activation, 'linear'], ['use_bias', l.useBias, true], ['kernel_initializer', init(l.kernelInitializer), GLOROT], ['bias_initializer', init(l.biasInitializer), ZEROS]]),
    weights: [{ key: 'weight', weight: 'kernel', layout: 'transpose' }, BIAS],
  } satisfies TorchRow<Dense>,
  Conv2D: {
    module: (l: Conv2D, input) =>
      call('Conv2D', [lastDim(input, l), l.filters, l.kernelSize], [['strides', l.strides, [1, 1]], ['padding', l.padding, 'valid'], ['dilation_rate', l.dilationRate, [1, 1]], ['groups', l.groups, 1], ['activation', l.activation, 'linear'], ['use_bias', l.useBias, true], ['kernel_initializer', init(l.kernelInitializer), GLOROT], ['bias_initializer', init(l.biasInitializer), ZEROS]]),
    weights: [{ key: 'weight', weight: 'kernel', layout: 'oihw' }, BIAS],
  } satisfies TorchRow<Conv2D>,
  DepthwiseConv2D: {
    module: (l: DepthwiseConv2D, input) =>
      call('DepthwiseConv2D', [lastDim(input, l), l.kernelSize], [['strides', l.window.strides, [1, 1]], ['padding', l.window.padding, 'valid'], ['depth_multiplier', l.depthMultiplier, 1], ['dilation_rate', l.window.dilationRate, [1, 1]], ['activation', l.activation, 'linear'], ['use_bias', l.useBias, true], ['depthwise_initializer', init(l.depthwiseInitializer), GLOROT], ['bias_initializer', init(l.biasInitializer), ZEROS]]),
    weights: [{ key: 'weight', weight: 'depthwise_kernel', layout: 'depthwise' }, BIAS],
  } satisfies TorchRow<DepthwiseConv2D>,
  SeparableConv2D: {
    module: (l: SeparableConv2D, input) =>
      call('SeparableConv2D', [lastDim(input, l), l.filters, l.kernelSize], [['strides', l.window.strides, [1, 1]], ['padding', l.window.padding, 'valid'], ['depth_multiplier', l.depthMultiplier, 1], ['dilation_rate', l.window.dilationRate, [1, 1]], ['activation', l.activation, 'linear'], ['use_bias', l.useBias, true], ['depthwise_initializer', init(l.depthwiseInitializer), GLOROT], ['pointwise_initializer', init(l.pointwiseInitializer), GLOROT], ['bias_initializer', init(l.biasInitializer), ZEROS]]),
    weights: [
      { key: 'depthwise.weight', weight: 'depthwise_kernel', layout: 'depthwise' },
      { key: 'pointwise.weight', weight: 'pointwise_kernel', layout: 'oihw' },
      { key: 'pointwise.bias', weight: 'bias', layout: 'keras' },
    ],
  } satisfies TorchRow<SeparableConv2D>,
  Conv2DTranspose: {
    module: (l: Conv2DTranspose, input) => {
      const [, height, width] = l.computeOutputShapes([input])[0]!;
      return call('Conv2DTranspose', [lastDim(input, l), l.filters, l.kernelSize, [height, width]], [['strides', l.strides, [1, 1]], ['dilation_rate', l.dilationRate, [1, 1]], ['activation', l.activation, 'linear'], ['use_bias', l.useBias, true], ['kernel_initializer', init(l.kernelInitializer), GLOROT], ['bias_initializer', init(l.biasInitializer), ZEROS]]);
    },
    weights: [{ key: 'weight', weight: 'kernel', layout: 'oihw' }, BIAS],
  } satisfies TorchRow<Conv2DTranspose>,
  Conv1D: {
    module: (l: Conv1D, input) =>
      call('Conv1D', [lastDim(input, l), l.filters, l.kernelSize], [['strides', l.strides, [1]], ['padding', l.padding, 'valid'], ['dilation_rate', l.dilationRate, [1]], ['groups', l.groups, 1], ['activation', l.activation, 'linear'], ['use_bias', l.useBias, true], ['kernel_initializer', init(l.kernelInitializer), GLOROT], ['bias_initializer', init(l.biasInitializer), ZEROS]]),
    weights: [{ key: 'weight', weight: 'kernel', layout: 'oihw' }, BIAS],
  } satisfies TorchRow<Conv1D>,
  MaxPooling2D: stateless((l: MaxPooling2D) => call('MaxPooling2D', [l.poolSize, l.strides], [['padding', l.padding, 'valid']])),
  MaxPooling1D: stateless((l: MaxPooling1D) => call('MaxPooling1D', [l.poolSize, l.strides], [['padding', l.padding, 'valid']])),
  AveragePooling1D: stateless((l: AveragePooling1D) => call('AveragePooling1D', [l.poolSize, l.strides], [['padding', l.padding, 'valid']])),
  GlobalMaxPooling2D: stateless((l: GlobalMaxPooling2D) => call('GlobalMaxPooling2D', [], [['keepdims', l.keepdims, false]])),
  GlobalMaxPooling1D: stateless((l: GlobalMaxPooling1D) => call('GlobalMaxPooling1D', [], [['keepdims', l.keepdims, false]])),
  AveragePooling2D: stateless((l: AveragePooling2D) => call('AveragePooling2D', [l.poolSize, l.strides], [['padding', l.padding, 'valid']])),
  GlobalAveragePooling2D: stateless((l: GlobalAveragePooling2D) => call('GlobalAveragePooling2D', [], [['keepdims', l.keepdims, false]])),
  GlobalAveragePooling1D: stateless((l: GlobalAveragePooling1D) => call('GlobalAveragePooling1D', [], [['keepdims', l.keepdims, false]])),
  BatchNormalization: {
    module: (l: BatchNormalization, input) =>
      call('BatchNormalization', [lastDim(input, l)], [['momentum', l.momentum, 0.99], ['epsilon', l.epsilon, 1e-3], ['center', l.center, true], ['scale', l.scale, true], ['beta_initializer', init(l.betaInitializer), ZEROS], ['gamma_initializer', init(l.gammaInitializer), ONES], ['moving_mean_initializer', init(l.movingMeanInitializer), ZEROS], ['moving_variance_initializer', init(l.movingVarianceInitializer), ONES]]),
    weights: [
      { key: 'weight', weight: 'gamma', layout: 'keras' },
      { key: 'bias', weight: 'beta', layout: 'keras' },
      { key: 'running_mean', weight: 'moving_mean', layout: 'keras' },
      { key: 'running_var', weight: 'moving_variance', layout: 'keras' },
    ],
  } satisfies TorchRow<BatchNormalization>,
  Embedding: {
    module: (l: Embedding) => call('Embedding', [l.inputDim, l.outputDim], [['embeddings_initializer', init(l.embeddingsInitializer), { class_name: 'RandomUniform', config: { minval: -0.05, maxval: 0.05, seed: null } }]]),
    weights: [{ key: 'weight', weight: 'embeddings', layout: 'keras' }],
  } satisfies TorchRow<Embedding>,
  LayerNormalization: {
    module: (l: LayerNormalization, input) =>
      call('LayerNormalization', [input.slice(1)], [['axis', l.axis, -1], ['epsilon', l.epsilon, 1e-3], ['center', l.center, true], ['scale', l.scale, true], ['beta_initializer', init(l.betaInitializer), ZEROS], ['gamma_initializer', init(l.gammaInitializer), ONES]]),
    weights: [{ key: 'weight', weight: 'gamma', layout: 'keras' }, { key: 'bias', weight: 'beta', layout: 'keras' }],
  } satisfies TorchRow<LayerNormalization>,
  PReLU: {
    module: (l: PReLU, input) => call('PReLU', [l.alphaShape(input)], [['alpha_initializer', init(l.alphaInitializer), ZEROS]]),
    weights: [{ key: 'weight', weight: 'alpha', layout: 'keras' }],
  } satisfies TorchRow<PReLU>,
  LSTM: RECURRENT,
  GRU: RECURRENT,
  SimpleRNN: RECURRENT,
  Bidirectional: {
    module: (l: Bidirectional, input) => `Bidirectional(${recurrentModule(l.forwardLayer, input)}, ${recurrentModule(l.backwardLayer, input)}, merge_mode=${pyLiteral(l.mergeMode)})`,
    weights: (l: Bidirectional) =>
      (
        [
          ['forward_layer', l.forwardLayer],
          ['backward_layer', l.backwardLayer],
        ] as const
      ).flatMap(([key, sub]) => RECURRENT_WEIGHTS.map((name): TorchWeight => ({ key: `${key}.${name}`, weight: `${sub.name}/${name}`, layout: 'keras' }))),
  } satisfies TorchRow<Bidirectional>,
  Attention: {
    module: (l: Attention) => call('Attention', [], [['use_scale', l.useScale, false], ['score_mode', l.scoreMode, 'dot'], ['dropout', l.dropout, 0], ['causal', l.causal, false]]),
    weights: AS_KERAS('scale', 'concat_score_weight'),
  } satisfies TorchRow<Attention>,
  MultiHeadAttention: {
    module: (l: MultiHeadAttention) => {
      const features = (name: string) => l.weights.find((w) => w.name === `${name}/kernel`)!.shape[0];
      return call('MultiHeadAttention', [l.numHeads, l.keyDim, l.valueDim, features('query'), features('value'), features('key'), l.outputFeatures], [['dropout', l.dropout, 0], ['use_bias', l.useBias, true], ['kernel_initializer', init(l.kernelInitializer), GLOROT], ['bias_initializer', init(l.biasInitializer), ZEROS]]);
    },
    weights: ['query', 'key', 'value', 'attention_output'].flatMap((name): TorchWeight[] => {
      const key = name === 'attention_output' ? 'output' : name;
      return [{ key: `${key}_kernel`, weight: `${name}/kernel`, layout: 'keras' }, { key: `${key}_bias`, weight: `${name}/bias`, layout: 'keras' }];
    }),
  } satisfies TorchRow<MultiHeadAttention>,
  ActivityRegularization: stateless((l: ActivityRegularization) => call('ActivityRegularization', [], [['l1', l.l1, 0], ['l2', l.l2, 0]])),
  Normalization: {
    module: (l: Normalization) => {
      const given = l.inputMean ? [['mean', Array.from(l.statistics().mean)], ['variance', Array.from(l.statistics().variance)]] as [string, unknown][] : [];
      return call('Normalization', [l.broadcastShape, l.statisticShape], [...given, ['invert', l.invert, false]]);
    },
    weights: AS_KERAS('mean', 'variance', 'count'),
  } satisfies TorchRow<Normalization>,
  UpSampling2D: stateless((l: UpSampling2D) => call('UpSampling2D', [l.size], [['interpolation', l.interpolation, 'nearest']])),
  Resizing: stateless((l: Resizing) => call('Resizing', [l.height, l.width], [['interpolation', l.interpolation, 'bilinear']])),
  CenterCrop: stateless((l: CenterCrop) => call('CenterCrop', [l.height, l.width])),
  GaussianNoise: stateless((l: GaussianNoise) => call('GaussianNoise', [l.stddev])),
  GaussianDropout: stateless((l: GaussianDropout) => call('GaussianDropout', [l.rate])),
  SpatialDropout2D: stateless((l: SpatialDropout2D) => call('SpatialDropout2D', [l.rate])),
  Cropping2D: stateless((l: Cropping2D) => call('Cropping2D', [l.cropping])),
  Permute: stateless((l: Permute) => call('Permute', [l.dims])),
  RepeatVector: stateless((l: RepeatVector) => call('RepeatVector', [l.n])),
  Flatten: stateless(() => 'Flatten()'),
  Reshape: stateless((l: Reshape) => call('Reshape', [l.targetShape])),
  Dropout: stateless((l: Dropout) => call('Dropout', [l.rate])),
  Activation: stateless((l: Activation) => call('Activation', [l.activation])),
  ReLU: stateless((l: ReLU) => call('ReLU', [], [['max_value', l.maxValue, null], ['negative_slope', l.negativeSlope, 0], ['threshold', l.threshold, 0]])),
  LeakyReLU: stateless((l: LeakyReLU) => call('LeakyReLU', [l.negativeSlope])),
  ELU: stateless((l: ELU) => call('ELU', [l.alpha])),
  Softmax: stateless((l: Softmax) => call('Softmax', [l.axis])),
  ZeroPadding2D: stateless((l: ZeroPadding2D) => call('ZeroPadding2D', [l.padding])),
  Rescaling: stateless((l: Rescaling) => call('Rescaling', [l.scale], [['offset', l.offset, 0]])),
  Concatenate: stateless((l: Concatenate) => call('Concatenate', [], [['axis', l.axis, -1]])),
  Add: stateless(() => 'Add()'),
  Multiply: stateless(() => 'Multiply()'),
  Average: stateless(() => 'Average()'),
  RandomFlip: stateless((l: RandomFlip) => call('RandomFlip', [l.mode], [['seed', l.seed, null]])),
  RandomContrast: stateless((l: RandomContrast) => call('RandomContrast', [l.factor], [['value_range', l.valueRange, [0, 255]], ['seed', l.seed, null]])),
  RandomTranslation: stateless((l: RandomTranslation) => call('RandomTranslation', [l.heightFactor, l.widthFactor], fillKeywords(l))),
  RandomZoom: stateless((l: RandomZoom) => call('RandomZoom', [l.heightFactor], [['width_factor', l.widthFactor, null], ...fillKeywords(l)])),
  RandomRotation: stateless((l: RandomRotation) => call('RandomRotation', [l.factor], fillKeywords(l))),
  Subtract: stateless(() => 'Subtract()'),
  Maximum: stateless(() => 'Maximum()'),
  Minimum: stateless(() => 'Minimum()'),
  Dot: stateless((l: Dot) => call('Dot', [l.axes], [['normalize', l.normalize, false]])),
  ZeroPadding1D: stateless((l: ZeroPadding1D) => call('ZeroPadding1D', [l.padding])),
  Cropping1D: stateless((l: Cropping1D) => call('Cropping1D', [l.cropping])),
  UpSampling1D: stateless((l: UpSampling1D) => call('UpSampling1D', [l.size])),
  SpatialDropout1D: stateless((l: SpatialDropout1D) => call('SpatialDropout1D', [l.rate])),
  TimeDistributed: {
    module: (l: TimeDistributed, input) => `TimeDistributed(${rowFor(l.layer, l.name).module(l.layer as never, l.stepShape(input))})`,
    weights: (l: TimeDistributed) => torchWeightsOf(l.layer, l.name).map((w) => ({ ...w, key: `layer.${w.key}` })),
  } satisfies TorchRow<TimeDistributed>,
};

/** The layer classes the PyTorch export writes. */
export const PYTORCH_LAYERS: readonly string[] = Object.keys(TORCH_TABLE);

function rowFor(layer: Layer, path: string): TorchRow<Layer> {
  const row = TORCH_TABLE[layer.className] as TorchRow<Layer> | undefined;
  if (!row) throw new ValueError(`${path}: the PyTorch export has no module for layer class ${layer.className}; it writes ${PYTORCH_LAYERS.join(', ')}`, { layer: path });
  return row;
}

/** A layer's state_dict entries, by its row. */
function torchWeightsOf(layer: Layer, path: string): TorchWeight[] {
  const row = rowFor(layer, path);
  return typeof row.weights === 'function' ? row.weights(layer) : row.weights;
}

/** A Keras weight's values in torch's layout, and torch's shape. */
function torchTensor(weight: LayerWeight, layout: TorchWeight['layout']): { shape: number[]; data: Float32Array } {
  if (layout === 'oihw' || layout === 'depthwise') return { shape: onnxDims(weight.shape, layout), data: toOnnxLayout(weight.value, weight.shape, layout) };
  if (layout === 'transpose') {
    const [rows, cols] = weight.shape as [number, number];
    const data = new Float32Array(weight.value.length);
    for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) data[c * rows + r] = weight.value[r * cols + c]!;
    return { shape: [cols, rows], data };
  }
  return { shape: [...weight.shape], data: weight.value };
}

/** Where torch's axis j of a weight comes from in Keras's layout (the layouts torchTensor makes). */
function torchAxisOrder(layout: TorchWeight['layout'], rank: number): number[] {
  if (layout === 'transpose') return [1, 0];
  if (layout === 'oihw') return rank === 3 ? [2, 1, 0] : [3, 2, 0, 1];
  return [...Array(rank).keys()];
}

/** A weight's regularizer and constraint for train.py (model.RULES), the constraint's axes in torch's layout; null when it has neither. */
function torchRule(layer: Layer, weight: LayerWeight, layout: TorchWeight['layout']): Record<string, unknown> | null {
  const regularizer = layer.weightRules?.regularizer(weight.name) ?? null;
  const constraint = layer.weightRules?.constraint(weight.name) ?? null;
  if (!regularizer && !constraint) return null;
  if (constraint && layout === 'depthwise') throw new ValueError(`${layer.name}: a constraint on ${weight.name} cannot be exported to PyTorch yet`);
  const order = torchAxisOrder(layout, weight.shape.length);
  const rank = weight.shape.length;
  return {
    l1: regularizer?.l1 ?? 0,
    l2: regularizer?.l2 ?? 0,
    constraint: constraint && {
      kind: constraint.className,
      axes: constraint.axis.map((a) => order.indexOf(((a % rank) + rank) % rank)),
      min_value: constraint.minValue,
      max_value: constraint.maxValue,
      rate: constraint.rate,
    },
  };
}

/** The penalty on a layer's output (model.ACTIVITY): its activity_regularizer, or ActivityRegularization's l1 and l2. */
function activityOf(layer: Layer): [number, number] | null {
  if (layer instanceof ActivityRegularization) return [layer.l1, layer.l2];
  const regularizer = layer.weightRules?.activityRegularizer;
  return regularizer ? [regularizer.l1, regularizer.l2] : null;
}

/** Attributes nn.Module has, which a layer's module must not shadow. */
const MODULE_ATTRIBUTES = ['forward', 'training', 'train', 'eval', 'parameters', 'buffers', 'children', 'modules', 'state_dict', 'load_state_dict', 'to', 'cuda', 'cpu', 'float', 'double', 'half', 'apply', 'zero_grad', 'register_buffer', 'register_parameter', 'add_module', 'named_parameters', 'named_modules', 'named_buffers', 'named_children', 'requires_grad_', 'type', 'dump_patches', 'extra_repr', 'get_submodule', 'get_parameter'];

export interface PytorchExport {
  files: ExportedFiles;
  /** state_dict key -> Keras weight path ("dense/kernel"). */
  weightMap: Record<string, string>;
}

/** The package for `model`; `source` (the file it came from) goes into the docstrings. */
export function exportPytorch(model: Model, source: string, fit: FitSettings = {}): PytorchExport {
  const { calls, resolve } = flattenCalls(model);
  const attributes = new IdentifierPool(MODULE_ATTRIBUTES);
  const locals = new IdentifierPool(['self', 'torch', 'nn', 'F']);
  const modules: string[] = [];
  const attributeOf = new Map<Layer, string>();
  const tensors: NamedTensor[] = [];
  const weightMap: Record<string, string> = {};
  const frozen: string[] = [];
  const rules: Record<string, unknown> = {};
  const activity: Record<string, [number, number]> = {};
  const variables = new Map<SymbolicTensor, string>();
  const inputs = model.inputs.map((t) => {
    const name = locals.take(t.sourceLayer.name);
    variables.set(t, name);
    return { name, layer: t.sourceLayer as InputLayer };
  });
  const body: string[] = [];
  for (const { layer, path, inputs: callInputs, outputs, kwargs } of calls) {
    let attribute = attributeOf.get(layer);
    if (!attribute) {
      const row = rowFor(layer, path);
      attribute = attributes.take(path);
      attributeOf.set(layer, attribute);
      modules.push(`        self.${attribute} = ${row.module(layer as never, callInputs[0]!.shape)}`);
      if (!layer.trainable && layer.weights.length > 0) frozen.push(attribute);
      const penalty = activityOf(layer);
      if (penalty) activity[attribute] = penalty;
      for (const { key, weight: weightName, layout } of torchWeightsOf(layer, path)) {
        const weight = layer.weights.find((w) => w.name === weightName);
        if (!weight) continue; // use_bias=False, center/scale=False
        tensors.push({ name: `${attribute}.${key}`, ...torchTensor(weight, layout) });
        weightMap[`${attribute}.${key}`] = `${path}/${weight.name}`;
        const rule = torchRule(layer, weight, layout);
        if (rule) rules[`${attribute}.${key}`] = rule;
      }
    }
    const args = [...callInputs.map((t) => variables.get(t) ?? missingInput(path, t)), ...pyKeywords(Object.entries(kwargs))];
    const results = outputs.map((t) => {
      const name = locals.take(path.split('/').pop()!);
      variables.set(t, name);
      return name;
    });
    body.push(`        ${results.join(', ')} = self.${attribute}(${args.join(', ')})`);
  }
  const returned = model.outputs.map((t) => variables.get(resolve(t)) ?? variables.get(t)!);
  for (const attribute of frozen) modules.push(`        self.${attribute}.requires_grad_(False)  # trainable=False in Keras`);
  const className = pyClassName(model.name);
  const settings = compileSettings(model, fit);
  return {
    files: {
      'model.py': modelSource(model, source, className, inputs, modules, body, returned, { rules, activity }),
      'keras_layers.py': pythonSource('keras_layers.py'),
      'keras_recurrent.py': pythonSource('keras_recurrent.py'),
      'keras_attention.py': pythonSource('keras_attention.py'),
      'keras_augment.py': pythonSource('keras_augment.py'),
      'keras_training.py': pythonSource('keras_training.py'),
      'weights.py': pythonSource('weights.py'),
      'arrays.py': pythonSource('arrays.py'),
      'train.py': trainSource(settings),
      '__init__.py': `"""${model.name}, exported by Strata ${STRATA_VERSION}: see model.py and train.py."""\nfrom .model import INPUTS, OUTPUTS, build_model, load_model  # noqa: F401\n`,
      'weights.safetensors': encodeSafetensors(tensors, { format: 'pt', strata_keras_weights: JSON.stringify(weightMap) }),
    },
    weightMap,
  };
}

function missingInput(path: string, t: SymbolicTensor): never {
  throw new ValueError(`${path}: its input ${t.name} is not computed before it`);
}

function modelSource(
  model: Model,
  source: string,
  className: string,
  inputs: { name: string; layer: InputLayer }[],
  modules: string[],
  body: string[],
  returned: string[],
  training: { rules: Record<string, unknown>; activity: Record<string, [number, number]> },
): string {
  const inputsLiteral = inputs.map(({ name, layer }) => `(${pyLiteral(name)}, ${pyLiteral(layer.batchShape, true)}, ${pyLiteral(layer.dtype)})`);
  const outputNames = model.outputs.map((t) => t.sourceLayer.name);
  return [
    `"""${model.name}: exported by Strata ${STRATA_VERSION} from ${source.replace(/\\/g, '/').replace(/"""/g, '')}.`,
    '',
    "Keras's semantics in PyTorch, channels last: the model takes the arrays the Keras model takes",
    '(images (batch, height, width, channels)) and returns what it returns.',
    '',
    '    from model import load_model',
    '    model = load_model().eval()   # the exported weights; build_model(): fresh ones, drawn as Keras draws them',
    `    y = model(${inputs.map(({ name }) => name).join(', ')})`,
    '"""',
    'import os',
    '',
    'try:  # imported as a package',
    '    from .keras_layers import *  # noqa: F401,F403',
    '    from .keras_recurrent import *  # noqa: F401,F403',
    '    from .keras_attention import *  # noqa: F401,F403',
    '    from .keras_augment import *  # noqa: F401,F403',
    '    from .weights import load_safetensors',
    'except ImportError:  # run from this folder',
    '    from keras_layers import *  # noqa: F401,F403',
    '    from keras_recurrent import *  # noqa: F401,F403',
    '    from keras_attention import *  # noqa: F401,F403',
    '    from keras_augment import *  # noqa: F401,F403',
    '    from weights import load_safetensors',
    '',
    '# (name, Keras batch shape, dtype) of each input, in forward() order',
    `INPUTS = [${inputsLiteral.join(', ')}]`,
    `OUTPUTS = ${pyLiteral(outputNames)}`,
    "# Keras's regularizers and constraints, which train.py applies: per state_dict key, and on modules' outputs (l1, l2)",
    `RULES = ${pyLiteral(training.rules)}`,
    `ACTIVITY = ${pyLiteral(training.activity, true)}`,
    "WEIGHTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'weights.safetensors')",
    '',
    '',
    `class ${className}(nn.Module):`,
    '    def __init__(self):',
    '        super().__init__()',
    ...modules,
    '',
    `    def forward(self, ${inputs.map(({ name }) => name).join(', ')}):`,
    ...body,
    `        return ${returned.length === 1 ? returned[0] : `${returned.join(', ')}`}`,
    '',
    '',
    'def build_model():',
    `    """The architecture with fresh weights, drawn from each layer's Keras initializers."""`,
    `    return ${className}()`,
    '',
    '',
    'def load_model(path=WEIGHTS):',
    '    """The model with the weights Strata exported (or another state_dict file: .safetensors or .pt)."""',
    `    model = ${className}()`,
    "    state = load_safetensors(path) if path.endswith('.safetensors') else torch.load(path, map_location='cpu')",
    '    model.load_state_dict(state)',
    '    return model',
    '',
  ].join('\n');
}

function trainSource(settings: CompileSettings): string {
  const lines = [
    `# The model's compile() settings${settings.assumed ? ' (it has none: those `strata train` picks, Adam and the loss its output implies)' : ''}.`,
    `OPTIMIZER = ${pyLiteral(settings.optimizer)}`,
    `LOSS_SPECS = ${pyLiteral(settings.losses)}`,
    `BATCH_SIZE = ${settings.batchSize}`,
    `EPOCHS = ${settings.epochs}`,
  ];
  return pythonSource('train.py').replace('# @strata:compile', lines.join('\n'));
}
