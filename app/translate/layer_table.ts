// One row per Keras layer class: how its call becomes ONNX nodes (opset 17). Each row gets
// the layer, its input values and the name its result should carry, and returns the
// result values. Weights become initializers named "<layer>/<weight>" (Conv kernels are
// stored OIHW, as ONNX's Conv wants; every other weight keeps its Keras layout).
import {
  Activation, ActivityRegularization, Add, Attention, MultiHeadAttention, Average, AveragePooling1D, AveragePooling2D, BatchNormalization, Bidirectional, GRU, LSTM, RecurrentLayer,
  Concatenate, LayerNormalization, Conv1D, Conv2D, Conv2DTranspose, Cropping2D, Dense, DepthwiseConv2D, Dropout, ELU, Embedding, Flatten, GaussianDropout, GaussianNoise,
  GlobalAveragePooling1D, GlobalAveragePooling2D, GlobalMaxPooling1D, GlobalMaxPooling2D, LeakyReLU, MaxPooling1D, MaxPooling2D, Permute, PReLU, RepeatVector, Multiply, ReLU, Rescaling,
  Reshape, SeparableConv2D, Softmax, SpatialDropout2D, ValueError, ZeroPadding2D, formatShape, transposedOutputLength,
  Normalization, RandomContrast, RandomFlip, RandomRotation, RandomTranslation, RandomZoom,
  CenterCrop, Resizing, ShapeError, UpSampling2D, Subtract, Maximum, Minimum, Dot,
  Cropping1D, SpatialDropout1D, TimeDistributed, UpSampling1D, ZeroPadding1D,
  type ActivationName, type CallKwargs, type Layer, type LayerWeight,
} from '../model/index.ts';
import type { ConvPadding } from '../model/layers/conv.ts';
import type { AttributeValue } from '../onnx/helper.ts';
import { DataType } from '../onnx/schema.ts';
import { applyActivation, clip } from './activations.ts';
import { physicalAxis, type GraphBuilder, type Value } from './graph_builder.ts';
import type { OnnxLayout } from './kernel_layout.ts';

export interface LayerCall {
  b: GraphBuilder;
  inputs: Value[];
  /** Base for node names: the layer name, prefixed by enclosing models' names. */
  name: string;
  /** The tensor name the layer's (first) result should have. */
  output: string;
  /** The call's arguments (Attention's use_causal_mask, return_attention_scores). */
  kwargs: CallKwargs;
  /**
   * The initializer holding one of the layer's weights, in `layout` (kernel_layout.ts; default 'keras'),
   * with `dims` where a 'keras' weight is stored reshaped (same values, e.g. broadcastable).
   */
  weight(weight: LayerWeight, layout?: OnnxLayout, dims?: number[]): string;
  /** For the native engine (translateModel's trainingOps): training-only layers as Strata's own ops. */
  trainingOps: boolean;
}

/** The domain of the ops only Strata's engine runs (the training-only layers' noise and penalties). */
export const STRATA_DOMAIN = 'ai.strata';

/** A layer's results: one value, or one per output in output order (return_state, Attention's scores). */
type Row<L extends Layer> = (layer: L, call: LayerCall) => Value | Value[];

/**
 * TensorFlow's "same" padding as explicit [begin..., end...] pads (the odd pixel at the end,
 * ONNX's SAME_UPPER) over the spatial axes of a channels-last `shape`; undefined when a
 * spatial size is unknown (then auto_pad does it).
 */
function samePads(shape: Value['shape'], kernel: number[], strides: number[], dilations: number[]): number[] | undefined {
  const begins: number[] = [];
  const ends: number[] = [];
  for (let i = 0; i < kernel.length; i++) {
    const n = shape[i + 1];
    if (n === null || n === undefined) return undefined;
    const span = (kernel[i]! - 1) * dilations[i]! + 1;
    const total = Math.max((Math.ceil(n / strides[i]!) - 1) * strides[i]! + span - n, 0);
    begins.push(Math.floor(total / 2));
    ends.push(total - Math.floor(total / 2));
  }
  return [...begins, ...ends];
}

/** Conv1D's "causal": the whole span of the dilated kernel before the start, nothing after. */
function causalPads(kernel: number[], dilations: number[]): number[] {
  return [...kernel.map((k, i) => (k - 1) * dilations[i]!), ...kernel.map(() => 0)];
}

function paddingAttributes(x: Value, padding: ConvPadding, kernel: number[], strides: number[], dilations = kernel.map(() => 1)): Record<string, AttributeValue> {
  if (padding === 'valid') return {};
  if (padding === 'causal') return { pads: causalPads(kernel, dilations) };
  const pads = samePads(x.shape, kernel, strides, dilations);
  return pads ? { pads } : { auto_pad: 'SAME_UPPER' };
}

/**
 * A 1-D op (Conv1D, the 1-D pools) over a (batch, steps, features) value: ONNX wants it
 * channels-first, so the op runs between two Transposes. `op` gets the (batch, features,
 * steps) tensor and returns its result; the output name goes to the Transpose back.
 */
function channelsFirst1d(b: GraphBuilder, x: Value, name: string, op: (ncw: string) => string, output?: string): string {
  const ncw = b.addNode('Transpose', [x.name], `${name}/to_ncw`, { perm: [0, 2, 1] });
  return b.addNode('Transpose', [op(ncw)], `${name}/to_nwc`, { perm: [0, 2, 1] }, output);
}

function single(layer: Layer, call: LayerCall): Value {
  if (call.inputs.length !== 1) throw new ValueError(`${layer.name}: expected one input`);
  return call.inputs[0]!;
}

function weightNamed(layer: Layer, name: string): LayerWeight | undefined {
  return layer.weights.find((w) => w.name === name);
}

const dense: Row<Dense> = (layer, call) => {
  const { b } = call;
  const x = b.inLayout(single(layer, call), 'keras');
  const kernel = call.weight(weightNamed(layer, 'kernel')!);
  const bias = layer.useBias ? call.weight(weightNamed(layer, 'bias')!) : undefined;
  const shape = [...x.shape.slice(0, -1), layer.units];
  const linearOut = layer.activation === 'linear' ? call.output : undefined;
  let y: string;
  if (x.shape.length === 2) {
    y = b.addNode('Gemm', bias ? [x.name, kernel, bias] : [x.name, kernel], `${call.name}/Gemm`, {}, linearOut);
  } else {
    const product = b.addNode('MatMul', [x.name, kernel], `${call.name}/MatMul`, {}, bias ? undefined : linearOut);
    y = bias ? b.addNode('Add', [product, bias], `${call.name}/BiasAdd`, {}, linearOut) : product;
  }
  return applyActivation(b, layer.activation, { ...x, name: y, shape }, `${call.name}/${layer.activation}`, call.output);
};

/** A convolution's window, as Conv1D, Conv2D, DepthwiseConv2D and SeparableConv2D hold it. */
interface Window {
  kernelSize: number[];
  strides: number[];
  dilationRate: number[];
  padding: ConvPadding;
}

/** One ONNX Conv over channels-first `x` (its shape Keras's): kernel (and bias) initializers, `group` groups. */
function convNode(b: GraphBuilder, x: Value, weights: string[], window: Window, group: number, name: string, output?: string): string {
  const attributes: Record<string, AttributeValue> = {
    kernel_shape: [...window.kernelSize],
    strides: [...window.strides],
    dilations: [...window.dilationRate],
    ...paddingAttributes(x, window.padding, window.kernelSize, window.strides, window.dilationRate),
  };
  if (group > 1) attributes.group = group;
  return b.addNode('Conv', [x.name, ...weights], name, attributes, output);
}

/** The layer's bias initializer, when it has one. */
function biasOf(layer: Layer & { useBias: boolean }, call: LayerCall): string[] {
  return layer.useBias ? [call.weight(weightNamed(layer, 'bias')!)] : [];
}

const conv2d: Row<Conv2D> = (layer, call) => {
  const { b } = call;
  const x = b.inLayout(single(layer, call), 'nchw');
  const weights = [call.weight(weightNamed(layer, 'kernel')!, 'oihw'), ...biasOf(layer, call)];
  // a grouped kernel (kh, kw, c / groups, filters) in OIHW is ONNX's (filters, c / groups, kh, kw)
  const y = convNode(b, x, weights, layer, layer.groups, `${call.name}/Conv`, layer.activation === 'linear' ? call.output : undefined);
  const shape = layer.computeOutputShapes([x.shape])[0]!;
  return applyActivation(b, layer.activation, { ...x, name: y, shape }, `${call.name}/${layer.activation}`, call.output);
};

/** Keras's Conv1D: a 1-D Conv between Transposes; "causal" pads the start only. */
const conv1d: Row<Conv1D> = (layer, call) => {
  const { b } = call;
  const x = single(layer, call);
  const weights = [call.weight(weightNamed(layer, 'kernel')!, 'oihw'), ...biasOf(layer, call)];
  const linearOut = layer.activation === 'linear' ? call.output : undefined;
  const y = channelsFirst1d(b, x, call.name, (ncw) => convNode(b, { ...x, name: ncw }, weights, layer, layer.groups, `${call.name}/Conv`), linearOut);
  const shape = layer.computeOutputShapes([x.shape])[0]!;
  return applyActivation(b, layer.activation, { ...x, name: y, shape }, `${call.name}/${layer.activation}`, call.output);
};

/**
 * ConvTranspose's pads and output_padding for Keras's Conv2DTranspose, per axis: the output
 * length L is Keras's; TensorFlow pads the convolution it transposes (from L to the input's
 * length) as that convolution's "same" or "valid" padding would, and rows still missing at
 * the end are ONNX's output_padding. Neither depends on the input's length.
 */
function transposedPadding(layer: Conv2DTranspose): { pads: number[]; output_padding: number[] } {
  const begins: number[] = [], ends: number[] = [], extra: number[] = [];
  for (let i = 0; i < 2; i++) {
    const [k, s, d] = [layer.kernelSize[i]!, layer.strides[i]!, layer.dilationRate[i]!];
    const length = transposedOutputLength(1, k, layer.padding, layer.outputPadding?.[i] ?? null, s, d)!;
    const total = (k - 1) * d + 1 - length; // (input - 1) * s + span - L at input 1
    const padded = layer.padding === 'same' ? Math.max(total, 0) : 0;
    begins.push(Math.floor(padded / 2));
    ends.push(padded - Math.floor(padded / 2));
    extra.push(padded - total);
  }
  return { pads: [...begins, ...ends], output_padding: extra };
}

/** Keras's Conv2DTranspose: ONNX ConvTranspose, its (kh, kw, filters, c) kernel stored (c, filters, kh, kw). */
const conv2dTranspose: Row<Conv2DTranspose> = (layer, call) => {
  const { b } = call;
  const x = b.inLayout(single(layer, call), 'nchw');
  const weights = [call.weight(weightNamed(layer, 'kernel')!, 'oihw'), ...biasOf(layer, call)];
  const attributes = { kernel_shape: [...layer.kernelSize], strides: [...layer.strides], dilations: [...layer.dilationRate], ...transposedPadding(layer) };
  const y = b.addNode('ConvTranspose', [x.name, ...weights], `${call.name}/ConvTranspose`, attributes, layer.activation === 'linear' ? call.output : undefined);
  const shape = layer.computeOutputShapes([x.shape])[0]!;
  return applyActivation(b, layer.activation, { ...x, name: y, shape }, `${call.name}/${layer.activation}`, call.output);
};

/** Keras's DepthwiseConv2D: a Conv with one group per input channel, kernel (c * multiplier, 1, kh, kw). */
const depthwiseConv2d: Row<DepthwiseConv2D> = (layer, call) => {
  const { b } = call;
  const x = b.inLayout(single(layer, call), 'nchw');
  const weights = [call.weight(weightNamed(layer, 'depthwise_kernel')!, 'depthwise'), ...biasOf(layer, call)];
  const y = convNode(b, x, weights, layer.window, x.shape[3] as number, `${call.name}/Conv`, layer.activation === 'linear' ? call.output : undefined);
  const shape = layer.computeOutputShapes([x.shape])[0]!;
  return applyActivation(b, layer.activation, { ...x, name: y, shape }, `${call.name}/${layer.activation}`, call.output);
};

/** Keras's SeparableConv2D: the depthwise Conv (no bias), then a 1x1 Conv with the bias. */
const separableConv2d: Row<SeparableConv2D> = (layer, call) => {
  const { b } = call;
  const x = b.inLayout(single(layer, call), 'nchw');
  const depthwise = convNode(b, x, [call.weight(weightNamed(layer, 'depthwise_kernel')!, 'depthwise')], layer.window, x.shape[3] as number, `${call.name}/depthwise`);
  const shape = layer.computeOutputShapes([x.shape])[0]!;
  const pointwiseWindow: Window = { kernelSize: [1, 1], strides: [1, 1], dilationRate: [1, 1], padding: 'valid' };
  const middle: Value = { ...x, name: depthwise, shape: [...shape.slice(0, 3), (x.shape[3] as number) * layer.depthMultiplier] };
  const weights = [call.weight(weightNamed(layer, 'pointwise_kernel')!, 'oihw'), ...biasOf(layer, call)];
  const y = convNode(b, middle, weights, pointwiseWindow, 1, `${call.name}/pointwise`, layer.activation === 'linear' ? call.output : undefined);
  return applyActivation(b, layer.activation, { ...x, name: y, shape }, `${call.name}/${layer.activation}`, call.output);
};

function pooling(opType: 'MaxPool' | 'AveragePool'): Row<MaxPooling2D | AveragePooling2D | MaxPooling1D | AveragePooling1D> {
  return (layer, call) => {
    const { b } = call;
    const input = single(layer, call);
    const shape = layer.computeOutputShapes([input.shape])[0]!;
    const attributes = { kernel_shape: [...layer.poolSize], strides: [...layer.strides], ...paddingAttributes(input, layer.padding, layer.poolSize, layer.strides) };
    if (layer.poolSize.length === 1) {
      const name = channelsFirst1d(b, input, call.name, (ncw) => b.addNode(opType, [ncw], `${call.name}/${opType}`, attributes), call.output);
      return { ...input, name, shape };
    }
    const x = b.inLayout(input, 'nchw');
    return { ...x, name: b.addNode(opType, [x.name], `${call.name}/${opType}`, attributes, call.output), shape };
  };
}

/** GlobalAveragePool or GlobalMaxPool over an image's h and w, channels-first; Flatten drops the 1 x 1 unless keepdims. */
function globalPooling2d(opType: 'GlobalAveragePool' | 'GlobalMaxPool'): Row<GlobalAveragePooling2D | GlobalMaxPooling2D> {
  return (layer, call) => {
    const { b } = call;
    const x = b.inLayout(single(layer, call), 'nchw');
    const shape = layer.computeOutputShapes([x.shape])[0]!;
    if (layer.keepdims) return { ...x, shape, name: b.addNode(opType, [x.name], `${call.name}/${opType}`, {}, call.output) };
    const pooled = b.addNode(opType, [x.name], `${call.name}/${opType}`);
    return { ...x, shape, layout: 'keras', name: b.addNode('Flatten', [pooled], `${call.name}/Flatten`, { axis: 1 }, call.output) };
  };
}

const globalAveragePooling1d: Row<GlobalAveragePooling1D> = (layer, call) => {
  const x = single(layer, call);
  const name = call.b.addNode('ReduceMean', [x.name], `${call.name}/ReduceMean`, { axes: [1], keepdims: layer.keepdims ? 1 : 0 }, call.output);
  return { ...x, name, shape: layer.computeOutputShapes([x.shape])[0]! };
};

/** GlobalMaxPool over the steps, channels-first: (batch, features, 1), then (batch, 1, features) or (batch, features). */
const globalMaxPooling1d: Row<GlobalMaxPooling1D> = (layer, call) => {
  const { b } = call;
  const x = single(layer, call);
  const shape = layer.computeOutputShapes([x.shape])[0]!;
  if (layer.keepdims) return { ...x, shape, name: channelsFirst1d(b, x, call.name, (ncw) => b.addNode('GlobalMaxPool', [ncw], `${call.name}/GlobalMaxPool`), call.output) };
  const ncw = b.addNode('Transpose', [x.name], `${call.name}/to_ncw`, { perm: [0, 2, 1] });
  const pooled = b.addNode('GlobalMaxPool', [ncw], `${call.name}/GlobalMaxPool`);
  return { ...x, shape, name: b.addNode('Flatten', [pooled], `${call.name}/Flatten`, { axis: 1 }, call.output) };
};

const flatten: Row<Flatten> = (layer, call) => {
  // Keras flattens in (h, w, c) order: a channels-first value goes back to NHWC first.
  const x = call.b.inLayout(single(layer, call), 'keras');
  const name = call.b.addNode('Flatten', [x.name], `${call.name}/Flatten`, { axis: 1 }, call.output);
  return { ...x, name, shape: layer.computeOutputShapes([x.shape])[0]! };
};

const reshape: Row<Reshape> = (layer, call) => {
  const x = call.b.inLayout(single(layer, call), 'keras');
  const target = call.b.int64Constant(`${call.name}/shape`, [0, ...layer.targetShape]);
  const name = call.b.addNode('Reshape', [x.name, target], `${call.name}/Reshape`, {}, call.output);
  return { ...x, name, shape: layer.computeOutputShapes([x.shape])[0]! };
};

/** Keras's Permute: a Transpose of the channels-last value, the batch axis kept first. */
const permute: Row<Permute> = (layer, call) => {
  const x = call.b.inLayout(single(layer, call), 'keras');
  const name = call.b.addNode('Transpose', [x.name], `${call.name}/Transpose`, { perm: [0, ...layer.dims] }, call.output);
  return { ...x, name, shape: layer.computeOutputShapes([x.shape])[0]! };
};

/** Keras's RepeatVector: (batch, features) unsqueezed to (batch, 1, features), then Expand to n rows. */
const repeatVector: Row<RepeatVector> = (layer, call) => {
  const { b } = call;
  const x = single(layer, call);
  const row = b.addNode('Unsqueeze', [x.name, b.int64Constant(`${call.name}/axes`, [1])], `${call.name}/Unsqueeze`);
  const name = b.addNode('Expand', [row, b.int64Constant(`${call.name}/shape`, [1, layer.n, 1])], `${call.name}/Expand`, {}, call.output);
  return { ...x, name, shape: layer.computeOutputShapes([x.shape])[0]! };
};

const dropout: Row<Dropout> = (layer, call) => {
  // Identity at inference (training_mode defaults to false); kept so that training sees it.
  const x = single(layer, call);
  const ratio = call.b.floatConstant(`${call.name}/ratio`, [layer.rate]);
  const name = call.b.addNode('Dropout', [x.name, ratio], `${call.name}/Dropout`, layer.seed !== null ? { seed: layer.seed } : {}, call.output);
  return { ...x, name };
};

/**
 * A layer that acts only while training: Identity in an exported file (onnxruntime, inference);
 * for the engine, its op `opType` in STRATA_DOMAIN with `attributes` (native/README.md).
 */
function trainingOnly(layer: Layer, call: LayerCall, opType: string, attributes: (x: Value) => Record<string, AttributeValue>): Value {
  const x = single(layer, call);
  if (!call.trainingOps) return { ...x, name: call.b.addNode('Identity', [x.name], `${call.name}/Identity`, {}, call.output) };
  return { ...x, name: addStrataNode(call.b, opType, x.name, `${call.name}/${opType}`, attributes(x), call.output) };
}

/** A one-input node of STRATA_DOMAIN (only the engine runs these); returns its output. */
export function addStrataNode(b: GraphBuilder, opType: string, input: string, name: string, attributes: Record<string, AttributeValue>, output?: string): string {
  const result = b.addNode(opType, [input], name, attributes, output);
  b.nodes.at(-1)!.domain = STRATA_DOMAIN;
  return result;
}

const gaussianNoise: Row<GaussianNoise> = (layer, call) => trainingOnly(layer, call, 'GaussianNoise', () => ({ stddev: { float: layer.stddev } }));
const gaussianDropout: Row<GaussianDropout> = (layer, call) => trainingOnly(layer, call, 'GaussianDropout', () => ({ stddev: { float: layer.stddev } }));
/** Whole channels dropped: the channel axis is 1 beside a channels-first image, else the last (of a sequence too). */
const spatialDropout: Row<SpatialDropout2D | SpatialDropout1D> = (layer, call) =>
  trainingOnly(layer, call, 'SpatialDropout', (x) => ({ ratio: { float: layer.rate }, axis: physicalAxis(x, -1) }));
const activityRegularization: Row<ActivityRegularization> = (layer, call) =>
  trainingOnly(layer, call, 'ActivityRegularization', () => ({ l1: { float: layer.l1 }, l2: { float: layer.l2 } }));

/**
 * An image augmentation layer: Identity in an exported file; for the engine, its op in
 * STRATA_DOMAIN on the channels-last image (the engine's augmentation kernels read NHWC).
 */
function imageAugmentation(layer: Layer, call: LayerCall, opType: string, attributes: Record<string, AttributeValue>): Value {
  if (!call.trainingOps) return trainingOnly(layer, call, opType, () => ({}));
  const x = call.b.inLayout(single(layer, call), 'keras');
  return { ...x, name: addStrataNode(call.b, opType, x.name, `${call.name}/${opType}`, attributes, call.output) };
}

/** The fill options of the geometric layers, as the engine's RandomAffine takes them. */
function fillAttributes(layer: RandomTranslation | RandomZoom | RandomRotation): Record<string, AttributeValue> {
  return { fill_mode: layer.fillMode, fill_value: { float: layer.fillValue }, interpolation: layer.interpolation };
}

const randomFlip: Row<RandomFlip> = (layer, call) =>
  imageAugmentation(layer, call, 'RandomFlip', { horizontal: layer.horizontal ? 1 : 0, vertical: layer.vertical ? 1 : 0 });
const randomContrast: Row<RandomContrast> = (layer, call) =>
  imageAugmentation(layer, call, 'RandomContrast', { factor_range: { floats: [...layer.contrastRange] }, value_range: { floats: [...layer.valueRange] } });
const randomTranslation: Row<RandomTranslation> = (layer, call) =>
  imageAugmentation(layer, call, 'RandomAffine', { translate_height: { floats: [...layer.heightRange] }, translate_width: { floats: [...layer.widthRange] }, ...fillAttributes(layer) });
const randomZoom: Row<RandomZoom> = (layer, call) =>
  imageAugmentation(layer, call, 'RandomAffine', {
    zoom_height: { floats: [...layer.heightRange] },
    ...(layer.widthRange ? { zoom_width: { floats: [...layer.widthRange] } } : {}),
    ...fillAttributes(layer),
  });
/** The angle's range in radians: Keras's factor is a fraction of a full turn. */
const randomRotation: Row<RandomRotation> = (layer, call) =>
  imageAugmentation(layer, call, 'RandomAffine', { rotation: { floats: layer.range.map((f) => f * 2 * Math.PI) }, ...fillAttributes(layer) });

/**
 * Keras's Normalization: Sub the mean, Div by max(sqrt(variance), 1e-7) (inverted: Mul by it,
 * then Add the mean), as constants of the layer's broadcast shape (1 along the reduced axes).
 */
const normalization: Row<Normalization> = (layer, call) => {
  const { b } = call;
  const x = b.inLayout(single(layer, call), 'keras');
  const dims = layer.broadcastShape;
  const mean = b.floatConstant(`${call.name}/mean`, Array.from(layer.statistics().mean), dims);
  const deviation = b.floatConstant(`${call.name}/standard_deviation`, Array.from(layer.standardDeviations()), dims);
  if (layer.invert) {
    const scaled = b.addNode('Mul', [x.name, deviation], `${call.name}/Mul`);
    return { ...x, name: b.addNode('Add', [scaled, mean], `${call.name}/Add`, {}, call.output) };
  }
  const centered = b.addNode('Sub', [x.name, mean], `${call.name}/Sub`);
  return { ...x, name: b.addNode('Div', [centered, deviation], `${call.name}/Div`, {}, call.output) };
};

const activation: Row<Activation> = (layer, call) => {
  const x = single(layer, call);
  if (layer.activation === 'linear') return { ...x, name: call.b.addNode('Identity', [x.name], `${call.name}/Identity`, {}, call.output) };
  return applyActivation(call.b, layer.activation, x, `${call.name}/${layer.activation}`, call.output);
};

/**
 * Keras's ReLU layer: Relu, or Clip(0, max_value) (ReLU6), or LeakyRelu; in general
 * keras.activations.relu's steps: ThresholdedRelu (x above the threshold), Clip to
 * [0, max_value], minus negative_slope * Relu(threshold - x).
 */
const relu: Row<ReLU> = (layer, call) => {
  const { b } = call;
  const x = single(layer, call);
  const { maxValue, negativeSlope, threshold } = layer;
  const done = (name: string): Value => ({ ...x, name });
  if (negativeSlope === 0 && threshold === 0) {
    return done(maxValue === null ? b.addNode('Relu', [x.name], `${call.name}/Relu`, {}, call.output) : clip(b, x.name, 0, maxValue, `${call.name}/Clip`, call.output));
  }
  if (maxValue === null && threshold === 0) return done(b.addNode('LeakyRelu', [x.name], `${call.name}/LeakyRelu`, { alpha: { float: negativeSlope } }, call.output));
  const last = (step: boolean) => (step ? call.output : undefined);
  let y = threshold === 0 ? b.addNode('Relu', [x.name], `${call.name}/Relu`) : b.addNode('ThresholdedRelu', [x.name], `${call.name}/ThresholdedRelu`, { alpha: { float: threshold } }, last(maxValue === null && negativeSlope === 0));
  if (maxValue !== null) y = clip(b, y, 0, maxValue, `${call.name}/Clip`, last(negativeSlope === 0));
  if (negativeSlope === 0) return done(y);
  const below = b.addNode('Relu', [b.addNode('Sub', [b.floatConstant(`${call.name}/threshold`, [threshold]), x.name], `${call.name}/below`)], `${call.name}/below_relu`);
  const scaled = b.addNode('Mul', [below, b.floatConstant(`${call.name}/negative_slope`, [negativeSlope])], `${call.name}/negative_part`);
  return done(b.addNode('Sub', [y, scaled], `${call.name}/Sub`, {}, call.output));
};

const leakyRelu: Row<LeakyReLU> = (layer, call) => {
  const x = single(layer, call);
  return { ...x, name: call.b.addNode('LeakyRelu', [x.name], `${call.name}/LeakyRelu`, { alpha: { float: layer.negativeSlope } }, call.output) };
};

const elu: Row<ELU> = (layer, call) => {
  const x = single(layer, call);
  return { ...x, name: call.b.addNode('Elu', [x.name], `${call.name}/Elu`, { alpha: { float: layer.alpha } }, call.output) };
};

/**
 * Keras's PReLU: ONNX PRelu, its slopes broadcast against the value. Images run channels-first
 * (as the convolutions around them do) with the (h, w, c) slopes stored (c, h, w); one layout
 * per weight, whichever call of a shared layer comes first.
 */
const prelu: Row<PReLU> = (layer, call) => {
  const x = call.b.inLayout(single(layer, call), 'nchw');
  const slope = call.weight(weightNamed(layer, 'alpha')!, x.layout === 'nchw' ? 'chw' : 'keras');
  return { ...x, name: call.b.addNode('PRelu', [x.name, slope], `${call.name}/PRelu`, {}, call.output) };
};

/** Softmax over the layer's axis, wherever that axis lies in the value's layout. */
const softmax: Row<Softmax> = (layer, call) => {
  const x = single(layer, call);
  return { ...x, name: call.b.addNode('Softmax', [x.name], `${call.name}/Softmax`, { axis: physicalAxis(x, layer.axis) }, call.output) };
};

/**
 * ONNX Pad of `layer`'s input by `begins` and `ends` per axis of its physical layout, zeros;
 * `sign` -1 removes them instead (Pad's negative pads).
 */
function padValue(layer: ZeroPadding2D | Cropping2D | ZeroPadding1D | Cropping1D, call: LayerCall, begins: number[], ends: number[], sign: 1 | -1): Value {
  const x = single(layer, call);
  const pads = call.b.int64Constant(`${call.name}/pads`, [...begins, ...ends].map((p) => sign * p));
  const name = call.b.addNode('Pad', [x.name, pads], `${call.name}/Pad`, { mode: 'constant' }, call.output);
  return { ...x, name, shape: layer.computeOutputShapes([x.shape])[0]! };
}

/** padValue of an image by [[top, bottom], [left, right]], on the value's own layout (NCHW or NHWC). */
function padImage(layer: ZeroPadding2D | Cropping2D, call: LayerCall, [[top, bottom], [left, right]]: [[number, number], [number, number]], sign: 1 | -1): Value {
  const nchw = single(layer, call).layout === 'nchw';
  return padValue(layer, call, nchw ? [0, 0, top, left] : [0, top, left, 0], nchw ? [0, 0, bottom, right] : [0, bottom, right, 0], sign);
}

/** Keras's ZeroPadding2D: ONNX Pad on the value's own layout (NCHW or NHWC), zeros. */
const zeroPadding2d: Row<ZeroPadding2D> = (layer, call) => padImage(layer, call, layer.padding, 1);

/** Keras's Cropping2D: ONNX Pad with negative pads, on the value's own layout. */
const cropping2d: Row<Cropping2D> = (layer, call) => padImage(layer, call, layer.cropping, -1);

/** Keras's ZeroPadding1D: ONNX Pad of the steps axis of (batch, steps, features), zeros. */
const zeroPadding1d: Row<ZeroPadding1D> = (layer, call) => padValue(layer, call, [0, layer.padding[0], 0], [0, layer.padding[1], 0], 1);

/** Keras's Cropping1D: ONNX Pad with negative pads on the steps axis. */
const cropping1d: Row<Cropping1D> = (layer, call) => padValue(layer, call, [0, layer.cropping[0], 0], [0, layer.cropping[1], 0], -1);

/**
 * Keras's CenterCrop: ONNX Slice of the (height, width) window on the value's own layout,
 * starting int((in - out) / 2) rows and columns in (Keras 3's: an odd margin leaves its extra
 * row or column at the bottom or right). Starts, ends and axes are initializers.
 */
const centerCrop: Row<CenterCrop> = (layer, call) => {
  const x = single(layer, call);
  const [, h, w] = x.shape as number[];
  const [[top], [left]] = layer.cropping(h!, w!);
  const constant = (what: string, values: number[]) => call.b.int64Constant(`${call.name}/${what}`, values);
  const window = [constant('starts', [top, left]), constant('ends', [top + layer.height, left + layer.width]), constant('axes', [physicalAxis(x, 1), physicalAxis(x, 2)])];
  const name = call.b.addNode('Slice', [x.name, ...window], `${call.name}/Slice`, {}, call.output);
  return { ...x, name, shape: layer.computeOutputShapes([x.shape])[0]! };
};

/**
 * ONNX Resize of an image, channels-first, by float scales [1, 1, sh, sw]. Each scale is the
 * smallest float32 with floor(in * scale) = out, as onnxruntime and the engine compute the
 * output size; the coordinates then use it as they would out / in (within float rounding).
 */
function resizeImage(layer: UpSampling2D | Resizing, call: LayerCall, attributes: Record<string, AttributeValue>): Value {
  const { b } = call;
  const x = b.inLayout(single(layer, call), 'nchw');
  const shape = layer.computeOutputShapes([x.shape])[0]!;
  const scales = [1, 2].map((axis) => {
    const [from, to] = [x.shape[axis], shape[axis]];
    if (from === null || to === null || from === undefined || to === undefined) {
      throw new ShapeError(`${layer.name}: the ONNX translation needs a known height and width, got input ${formatShape(x.shape)}`, { layer: layer.name });
    }
    return float32AtLeast(to / from, (s) => from * s >= to);
  });
  const name = b.addNode('Resize', [x.name, '', b.floatConstant(`${call.name}/scales`, [1, 1, ...scales])], `${call.name}/Resize`, attributes, call.output);
  return { ...x, name, shape };
}

/** The float32 nearest `value`, or the next one up when it fails `enough`. */
function float32AtLeast(value: number, enough: (s: number) => boolean): number {
  const s = Math.fround(value);
  if (enough(s)) return s;
  const bits = new Float32Array([s]);
  new Uint32Array(bits.buffer)[0]! += 1;
  return bits[0]!;
}

/** Keras's coordinates: TensorFlow's half-pixel centres (bilinear, and nearest rounding half up); nearest UpSampling2D repeats. */
const HALF_PIXEL_LINEAR = { mode: 'linear', coordinate_transformation_mode: 'half_pixel' };
const HALF_PIXEL_NEAREST = { mode: 'nearest', coordinate_transformation_mode: 'half_pixel', nearest_mode: 'round_prefer_ceil' };
const REPEAT_NEAREST = { mode: 'nearest', coordinate_transformation_mode: 'asymmetric', nearest_mode: 'floor' };

/** Keras's UpSampling2D: nearest repeats each row and column (asymmetric + floor), bilinear is half-pixel. */
const upSampling2d: Row<UpSampling2D> = (layer, call) => resizeImage(layer, call, layer.interpolation === 'nearest' ? REPEAT_NEAREST : HALF_PIXEL_LINEAR);

/**
 * Keras's UpSampling1D (ops.repeat along the steps): (batch, steps, features) unsqueezed to
 * (batch, steps, 1, features), Expand to size copies of each step, Reshape to (batch, steps * size, features).
 */
const upSampling1d: Row<UpSampling1D> = (layer, call) => {
  const { b } = call;
  const x = single(layer, call);
  const features = x.shape[2];
  if (features === null || features === undefined) throw new ShapeError(`${layer.name}: the ONNX translation needs a known number of features, got input ${formatShape(x.shape)}`, { layer: layer.name });
  const steps = b.addNode('Unsqueeze', [x.name, b.int64Constant(`${call.name}/axes`, [2])], `${call.name}/Unsqueeze`);
  const repeated = b.addNode('Expand', [steps, b.int64Constant(`${call.name}/repeats`, [1, 1, layer.size, 1])], `${call.name}/Expand`);
  const name = b.addNode('Reshape', [repeated, b.int64Constant(`${call.name}/shape`, [0, -1, features])], `${call.name}/Reshape`, {}, call.output);
  return { ...x, name, shape: layer.computeOutputShapes([x.shape])[0]! };
};

/** Keras's Resizing: tf.image.resize's half-pixel centres, bilinear or nearest. */
const resizing: Row<Resizing> = (layer, call) => resizeImage(layer, call, layer.interpolation === 'nearest' ? HALF_PIXEL_NEAREST : HALF_PIXEL_LINEAR);

const batchNormalization: Row<BatchNormalization> = (layer, call) => {
  const { b } = call;
  // ONNX normalizes over axis 1: NCHW for images, (batch, features) as is, and a
  // (batch, steps, features) sequence transposed around the op.
  let x = single(layer, call);
  const rank = x.shape.length;
  x = rank === 4 ? b.inLayout(x, 'nchw') : x;
  const features = x.shape[rank - 1] as number;
  const param = (weightName: string, fallback: number) => {
    const weight = weightNamed(layer, weightName);
    return weight ? call.weight(weight) : b.floatConstant(`${call.name}/${weightName}`, Array<number>(features).fill(fallback), [features]);
  };
  const inputs = [param('gamma', 1), param('beta', 0), call.weight(weightNamed(layer, 'moving_mean')!), call.weight(weightNamed(layer, 'moving_variance')!)];
  const attributes = { epsilon: { float: layer.epsilon }, momentum: { float: layer.momentum } };
  if (rank === 3) {
    const channelsFirst = b.addNode('Transpose', [x.name], `${call.name}/to_channels_first`, { perm: [0, 2, 1] });
    const normalized = b.addNode('BatchNormalization', [channelsFirst, ...inputs], `${call.name}/BatchNormalization`, attributes);
    return { ...x, name: b.addNode('Transpose', [normalized], `${call.name}/to_channels_last`, { perm: [0, 2, 1] }, call.output) };
  }
  return { ...x, name: b.addNode('BatchNormalization', [x.name, ...inputs], `${call.name}/BatchNormalization`, attributes, call.output) };
};

/**
 * Keras's LayerNormalization, decomposed as TensorFlow computes it: the mean and the biased
 * variance over the axes (ReduceMean), (x - mean) / Sqrt(variance + epsilon), then gamma and
 * beta stored with 1s on the axes between, so that they broadcast against the input.
 */
const layerNormalization: Row<LayerNormalization> = (layer, call) => {
  const { b } = call;
  const x = b.inLayout(single(layer, call), 'keras');
  const axes = layer.axes!;
  const first = axes[0]!;
  const broadcastDims = x.shape.slice(first).map((d, i) => (axes.includes(first + i) ? (d as number) : 1));
  const reduce = (input: string, what: string) => b.addNode('ReduceMean', [input], `${call.name}/${what}`, { axes, keepdims: 1 });
  const centered = b.addNode('Sub', [x.name, reduce(x.name, 'mean')], `${call.name}/centered`);
  const variance = reduce(b.addNode('Mul', [centered, centered], `${call.name}/squared`), 'variance');
  const std = b.addNode('Sqrt', [b.addNode('Add', [variance, b.floatConstant(`${call.name}/epsilon`, [layer.epsilon])], `${call.name}/plus_epsilon`)], `${call.name}/std`);
  const steps: [string, string][] = [];
  if (layer.scale) steps.push(['Mul', call.weight(weightNamed(layer, 'gamma')!, 'keras', broadcastDims)]);
  if (layer.center) steps.push(['Add', call.weight(weightNamed(layer, 'beta')!, 'keras', broadcastDims)]);
  let y = b.addNode('Div', [centered, std], `${call.name}/normalized`, {}, steps.length === 0 ? call.output : undefined);
  steps.forEach(([op, param], i) => (y = b.addNode(op, [y, param], `${call.name}/${op === 'Mul' ? 'gamma' : 'beta'}`, {}, i === steps.length - 1 ? call.output : undefined)));
  return { ...x, name: y };
};

const rescaling: Row<Rescaling> = (layer, call) => {
  const { b } = call;
  const x = single(layer, call);
  const scale = b.floatConstant(`${call.name}/scale`, [layer.scale]);
  if (layer.offset === 0) return { ...x, name: b.addNode('Mul', [x.name, scale], `${call.name}/Mul`, {}, call.output) };
  const scaled = b.addNode('Mul', [x.name, scale], `${call.name}/Mul`);
  return { ...x, name: b.addNode('Add', [scaled, b.floatConstant(`${call.name}/offset`, [layer.offset])], `${call.name}/Add`, {}, call.output) };
};

const embedding: Row<Embedding> = (layer, call) => {
  const { b } = call;
  const x = single(layer, call);
  // Gather takes int32 or int64 indices; float inputs (as Keras accepts) are cast.
  const indices = x.elemType === DataType.FLOAT ? b.addNode('Cast', [x.name], `${call.name}/Cast`, { to: DataType.INT64 }) : x.name;
  const name = b.addNode('Gather', [call.weight(weightNamed(layer, 'embeddings')!), indices], `${call.name}/Gather`, { axis: 0 }, call.output);
  return { name, shape: layer.computeOutputShapes([x.shape])[0]!, layout: 'keras', elemType: DataType.FLOAT };
};

/** Joins keep channels-first only when every input already is; otherwise all go channels-last. */
function commonLayout(call: LayerCall): Value[] {
  const layout = call.inputs.every((x) => x.layout === 'nchw') ? 'nchw' : 'keras';
  return call.inputs.map((x) => call.b.inLayout(x, layout));
}

const concatenate: Row<Concatenate> = (layer, call) => {
  const inputs = commonLayout(call);
  const axis = physicalAxis(inputs[0]!, layer.axis);
  const name = call.b.addNode('Concat', inputs.map((x) => x.name), `${call.name}/Concat`, { axis }, call.output);
  return { ...inputs[0]!, name, shape: layer.computeOutputShapes(inputs.map((x) => x.shape))[0]! };
};

const add: Row<Add> = (layer, call) => {
  const inputs = commonLayout(call);
  const opType = inputs.length === 2 ? 'Add' : 'Sum';
  const name = call.b.addNode(opType, inputs.map((x) => x.name), `${call.name}/${opType}`, {}, call.output);
  return { ...inputs[0]!, name, shape: layer.computeOutputShapes(inputs.map((x) => x.shape))[0]! };
};

/** Multiply: the product, as a chain of Mul nodes (ONNX's Mul takes two inputs). */
const multiply: Row<Multiply> = (layer, call) => {
  const inputs = commonLayout(call);
  let product = inputs[0]!.name;
  inputs.slice(1).forEach((x, i) => {
    const last = i === inputs.length - 2;
    product = call.b.addNode('Mul', [product, x.name], `${call.name}/Mul${last ? '' : `_${i}`}`, {}, last ? call.output : undefined);
  });
  return { ...inputs[0]!, name: product, shape: layer.computeOutputShapes(inputs.map((x) => x.shape))[0]! };
};

/** Average: the sum (Add, or Sum for more than two) scaled by 1/n. */
const average: Row<Average> = (layer, call) => {
  const inputs = commonLayout(call);
  const opType = inputs.length === 2 ? 'Add' : 'Sum';
  const sum = call.b.addNode(opType, inputs.map((x) => x.name), `${call.name}/${opType}`);
  const name = call.b.addNode('Mul', [sum, call.b.floatConstant(`${call.name}/scale`, [1 / inputs.length])], `${call.name}/Mul`, {}, call.output);
  return { ...inputs[0]!, name, shape: layer.computeOutputShapes(inputs.map((x) => x.shape))[0]! };
};

/** Subtract, Maximum, Minimum: one broadcasting ONNX node (Max and Min take any number of inputs). */
function elementwiseNode(opType: 'Sub' | 'Max' | 'Min'): Row<Subtract | Maximum | Minimum> {
  return (layer, call) => {
    const inputs = commonLayout(call);
    const name = call.b.addNode(opType, inputs.map((x) => x.name), `${call.name}/${opType}`, {}, call.output);
    return { ...inputs[0]!, name, shape: layer.computeOutputShapes(inputs.map((x) => x.shape))[0]! };
  };
}

/** Keras 3's L2 normalization along `axis`: x / Sqrt(Max(ReduceSumSquare(x), 1e-14)), which is x * min(rsqrt(sum x^2), 1e7). */
function l2Normalize(b: GraphBuilder, x: string, axis: number, name: string): string {
  const squares = b.addNode('ReduceSumSquare', [x], `${name}/sum_squares`, { axes: [axis], keepdims: 1 });
  const floored = b.addNode('Max', [squares, b.floatConstant(`${name}/epsilon_squared`, [1e-14])], `${name}/floored`);
  return b.addNode('Div', [x, b.addNode('Sqrt', [floored], `${name}/norm`)], `${name}/normalized`);
}

/** The known size of `dims` (1 for none), or undefined when one is unknown. */
function knownSize(dims: readonly (number | null)[]): number | undefined {
  return dims.every((d) => d !== null) ? (dims as number[]).reduce((n, d) => n * d, 1) : undefined;
}

/**
 * One Dot operand as a batch of matrices (batch_dot's rank-3 form): its summed axis moved last
 * (`last`, the first operand: (N, M, K)) or to axis 1 (the second: (N, K, P)) by a Transpose, the
 * other axes flattened by a Reshape; either is left out where it changes nothing.
 */
function dotOperand(layer: Dot, b: GraphBuilder, x: Value, axis: number, last: boolean, name: string): string {
  const others = x.shape.map((_, k) => k).filter((k) => k !== 0 && k !== axis);
  const perm = last ? [0, ...others, axis] : [0, axis, ...others];
  let out = perm.every((p, k) => p === k) ? x.name : b.addNode('Transpose', [x.name], `${name}/Transpose`, { perm });
  if (x.shape.length === 3) return out;
  const free = knownSize(others.map((k) => x.shape[k]!));
  const summed = x.shape[axis]!;
  if (free === undefined && summed === null) {
    throw new ValueError(`${layer.name}: ONNX export needs the size of the summed axis or of the other axes of ${formatShape(x.shape)}`, { layer: layer.name });
  }
  const dims = free === undefined ? [0, -1, summed!] : summed === null ? [0, free, -1] : [0, free, summed];
  out = b.addNode('Reshape', [out, b.int64Constant(`${name}/shape`, last ? dims : [dims[0]!, dims[2]!, dims[1]!])], `${name}/Reshape`);
  return out;
}

/**
 * Keras's Dot as batch_dot computes it (keras/src/layers/merging/dot.py): each input L2-normalized
 * along its axis when `normalize`, then the first as (N, M, K), the second as (N, K, P), one
 * batched MatMul, and a Reshape to Keras's output shape where that is not (N, M, P).
 */
const dot: Row<Dot> = (layer, call) => {
  const { b } = call;
  const [x, y] = call.inputs.map((v) => b.inLayout(v, 'keras')) as [Value, Value];
  const shape = layer.computeOutputShapes([x.shape, y.shape])[0]!;
  const [ax, ay] = layer.resolvedAxes([x.shape, y.shape]);
  const operand = (v: Value, axis: number, last: boolean, which: string) => {
    const normalized = layer.normalize ? { ...v, name: l2Normalize(b, v.name, axis, `${call.name}/${which}`) } : v;
    return dotOperand(layer, b, normalized, axis, last, `${call.name}/${which}`);
  };
  const threeD = x.shape.length === 3 && y.shape.length === 3;  // the MatMul's (N, M, P) is Keras's output
  const product = b.addNode('MatMul', [operand(x, ax, true, 'x'), operand(y, ay, false, 'y')], `${call.name}/MatMul`, {}, threeD ? call.output : undefined);
  if (threeD) return { name: product, shape, layout: 'keras', elemType: DataType.FLOAT };
  const unknown = shape.slice(1).filter((d) => d === null).length;
  if (unknown > 1) throw new ValueError(`${layer.name}: ONNX export needs all but one of the output's dimensions, got ${formatShape(shape)}`, { layer: layer.name });
  const target = b.int64Constant(`${call.name}/shape`, [0, ...shape.slice(1).map((d) => d ?? -1)]);
  const name = b.addNode('Reshape', [product, target], `${call.name}/Reshape`, {}, call.output);
  return { name, shape, layout: 'keras', elemType: DataType.FLOAT };
};

/**
 * The activations ONNX's recurrent ops can take: name, and (alpha, beta) for those with
 * parameters. hard_sigmoid is Keras 3's x / 6 + 0.5, clipped (activations.ts).
 */
const RECURRENT_ACTIVATIONS: Partial<Record<ActivationName, { name: string; alphaBeta?: [number, number] }>> = {
  sigmoid: { name: 'Sigmoid' },
  tanh: { name: 'Tanh' },
  relu: { name: 'Relu' },
  hard_sigmoid: { name: 'HardSigmoid', alphaBeta: [1 / 6, 0.5] },
};

function recurrentActivation(layer: RecurrentLayer, activation: ActivationName, field: string): { name: string; alphaBeta?: [number, number] } {
  const found = RECURRENT_ACTIVATIONS[activation];
  if (!found) {
    const supported = Object.keys(RECURRENT_ACTIVATIONS).join(', ');
    throw new ValueError(`${layer.name}: ${field} "${activation}" has no ONNX ${layer.className} equivalent; ONNX export supports ${supported}`, { layer: layer.name, field });
  }
  return found;
}

/**
 * The activations attributes: ONNX reads activation_alpha and activation_beta in order, one
 * value for each activation that takes one (onnxruntime's NormalizeActivationArgumentAndGetAlphaBetaCount).
 */
function activationAttributes(layer: RecurrentLayer, activations: [ActivationName, string][]): Record<string, AttributeValue> {
  const found = activations.map(([activation, field]) => recurrentActivation(layer, activation, field));
  const withParameters = found.filter((a) => a.alphaBeta);
  const attributes: Record<string, AttributeValue> = { activations: found.map((a) => a.name) };
  if (withParameters.length > 0) {
    attributes.activation_alpha = { floats: withParameters.map((a) => a.alphaBeta![0]) };
    attributes.activation_beta = { floats: withParameters.map((a) => a.alphaBeta![1]) };
  }
  return attributes;
}

/** The ONNX op and its attributes (activations, GRU's linear_before_reset) for one recurrent layer. */
function recurrentOp(layer: RecurrentLayer): { opType: string; attributes: Record<string, AttributeValue> } {
  const act: [ActivationName, string] = [layer.activation, 'activation'];
  const gate: [ActivationName, string] = [layer.recurrentActivation, 'recurrent_activation'];
  if (layer instanceof LSTM) return { opType: 'LSTM', attributes: activationAttributes(layer, [gate, act, act]) };
  if (layer instanceof GRU) {
    // reset_after is ONNX's linear_before_reset: r multiplies (h R_h + Rb_h)
    return { opType: 'GRU', attributes: { ...activationAttributes(layer, [gate, act]), linear_before_reset: layer.resetAfter ? 1 : 0 } };
  }
  return { opType: 'RNN', attributes: activationAttributes(layer, [act]) };
}

/** ONNX's B (1, 2 * gates * units): Keras's input bias, and the recurrent bias (GRU reset_after's second row, else zeros). */
function recurrentBias(layer: RecurrentLayer, bias: LayerWeight, call: LayerCall, name: string): string {
  const lstm = layer instanceof LSTM;
  const initializer = call.weight(bias, lstm ? 'lstm_bias' : 'rnn_bias');
  if (layer instanceof GRU && layer.resetAfter) return initializer;
  const size = layer.gates * layer.units;
  const zeros = call.b.floatConstant(`${name}/recurrent_bias`, Array<number>(size).fill(0), [1, size]);
  return call.b.addNode('Concat', [initializer, zeros], `${name}/B`, { axis: 1 });
}

/**
 * One recurrent layer over `timeMajor` (steps, batch, features) as ONNX's LSTM/GRU/RNN;
 * go_backwards is direction "reverse", whose Y ONNX keeps in time order. Returns Keras's
 * outputs (batch-major): the sequence, time-reversed when `reversed`, or the last state
 * (named `output` when given), then the final states when return_state asks for them.
 */
function recurrentValues(layer: RecurrentLayer, weights: LayerWeight[], timeMajor: Value, reversed: boolean, call: LayerCall, name: string, output?: string): Value[] {
  const { b } = call;
  const [kernel, recurrent, bias] = weights;
  const { opType, attributes } = recurrentOp(layer);
  const kernelLayout = layer instanceof LSTM ? 'lstm_kernel' : 'rnn_kernel';
  const inputs = [timeMajor.name, call.weight(kernel!, kernelLayout), call.weight(recurrent!, kernelLayout)];
  if (bias) inputs.push(recurrentBias(layer, bias, call, name));
  const outputNames = ['Y', 'Y_h', 'Y_c'].slice(0, layer.stateCount + 1).map((o) => b.uniqueName(`${name}/${o}`));
  const direction = layer.goBackwards ? 'reverse' : 'forward';
  const [y, ...states] = b.addMultiOutputNode(opType, inputs, `${name}/${opType}`, { hidden_size: layer.units, direction, ...attributes }, outputNames);
  const [batch, steps] = [timeMajor.shape[1]!, timeMajor.shape[0]!];
  const value = (tensor: string, shape: Value['shape']): Value => ({ name: tensor, shape, layout: 'keras', elemType: DataType.FLOAT });
  const squeeze = (tensor: string, axis: number, what: string, outputName?: string) =>
    b.addNode('Squeeze', [tensor, b.int64Constant(`${name}/${what}_axes`, [axis])], `${name}/${what}`, {}, outputName);
  let result: Value;
  if (layer.returnSequences) {
    let sequence = squeeze(y!, 1, 'sequence');
    if (reversed) {
      const slice = (what: string, v: number) => b.int64Constant(`${name}/reverse_${what}`, [v]);
      sequence = b.addNode('Slice', [sequence, slice('starts', -1), slice('ends', -(2 ** 63)), slice('axes', 0), slice('steps', -1)], `${name}/reverse`);
    }
    result = value(b.addNode('Transpose', [sequence], `${name}/to_batch_major`, { perm: [1, 0, 2] }, output), [batch, steps, layer.units]);
  } else {
    result = value(squeeze(states[0]!, 0, 'last', output), [batch, layer.units]);
  }
  if (!layer.returnState) return [result];
  return [result, ...states.map((state, i) => value(squeeze(state, 0, ['h', 'c'][i]!), [batch, layer.units]))];
}

/** (batch, steps, features) -> (steps, batch, features), ONNX's recurrent layout. */
function toTimeMajor(x: Value, call: LayerCall): Value {
  const name = call.b.addNode('Transpose', [x.name], `${call.name}/to_time_major`, { perm: [1, 0, 2] });
  return { ...x, name, shape: [x.shape[1]!, x.shape[0]!, x.shape[2]!] };
}

const recurrent: Row<RecurrentLayer> = (layer, call) => {
  const x = toTimeMajor(single(layer, call), call);
  return recurrentValues(layer, layer.weights, x, layer.goBackwards, call, call.name, call.output);
};

/** Keras's Bidirectional: both directions over the same input, the backward sequence put back in time order, merged. */
const bidirectional: Row<Bidirectional> = (layer, call) => {
  const { b } = call;
  const x = toTimeMajor(single(layer, call), call);
  const ownWeights = (sub: RecurrentLayer) => layer.weights.filter((w) => w.name.startsWith(`${sub.name}/`));
  const { forwardLayer: fwd, backwardLayer: bwd } = layer;
  const [forward, ...forwardStates] = recurrentValues(fwd, ownWeights(fwd), x, fwd.goBackwards, call, `${call.name}/${fwd.name}`);
  const [backward, ...backwardStates] = recurrentValues(bwd, ownWeights(bwd), x, fwd.returnSequences && !bwd.goBackwards, call, `${call.name}/${bwd.name}`);
  const pair = [forward!.name, backward!.name];
  const shape = layer.computeOutputShapes([single(layer, call).shape])[0]!;
  let merged: string;
  if (layer.mergeMode === 'concat') merged = b.addNode('Concat', pair, `${call.name}/Concat`, { axis: -1 }, call.output);
  else if (layer.mergeMode === 'sum') merged = b.addNode('Add', pair, `${call.name}/Add`, {}, call.output);
  else if (layer.mergeMode === 'mul') merged = b.addNode('Mul', pair, `${call.name}/Mul`, {}, call.output);
  else merged = b.addNode('Mul', [b.addNode('Add', pair, `${call.name}/Add`), b.floatConstant(`${call.name}/half`, [0.5])], `${call.name}/Mul`, {}, call.output);
  return [{ ...forward!, name: merged, shape }, ...forwardStates, ...backwardStates];
};

/**
 * Scores (..., Tq, Tv) -> attention weights: -1e9 added above the diagonal for a causal call,
 * as Keras masks (a constant, so the steps must be known), Softmax over the value steps, and
 * Dropout (training only).
 */
function attentionWeights(call: LayerCall, scores: string, query: Value, value: Value, causal: boolean, dropout: number): string {
  const { b } = call;
  const [tq, tv] = [query.shape[1], value.shape[1]];
  if (causal) {
    if (tq === null || tv === null || tq === undefined || tv === undefined) {
      throw new ValueError(`${call.name}: a causal mask in ONNX needs known query and value steps, got query ${formatShape(query.shape)} and value ${formatShape(value.shape)}`);
    }
    const mask = Array.from({ length: tq * tv }, (_, at) => (at % tv > Math.floor(at / tv) ? -1e9 : 0));
    scores = b.addNode('Add', [scores, b.floatConstant(`${call.name}/causal_mask`, mask, [tq, tv])], `${call.name}/masked_scores`);
  }
  const weights = b.addNode('Softmax', [scores], `${call.name}/Softmax`, { axis: -1 });
  if (dropout === 0) return weights;
  return b.addNode('Dropout', [weights, b.floatConstant(`${call.name}/dropout_ratio`, [dropout])], `${call.name}/Dropout`);
}

/**
 * Keras's MultiHeadAttention: each projection a MatMul with its (features, heads, size) kernel
 * stored as (features, heads * size) plus the bias, Reshape to (batch, steps, heads, size) and
 * Transpose to (batch, heads, steps, size) (the key to (batch, heads, size, steps)); the query
 * scaled by 1 / sqrt(key_dim); MatMul, the weights, MatMul with the values; back to
 * (batch, steps, heads * value_dim) and the output kernel (heads * value_dim, features).
 */
const multiHeadAttention: Row<MultiHeadAttention> = (layer, call) => {
  const { b } = call;
  const [query, value, key = value] = call.inputs as [Value, Value, Value?];
  const heads = layer.numHeads;
  const node = (op: string, inputs: string[], what: string, attributes: Record<string, AttributeValue> = {}, output?: string) => b.addNode(op, inputs, `${call.name}/${what}`, attributes, output);
  const dense = (x: string, name: string, rows: number, columns: number, output?: string) => {
    const kernel = call.weight(weightNamed(layer, `${name}/kernel`)!, 'keras', [rows, columns]);
    const product = node('MatMul', [x, kernel], `${name}/MatMul`, {}, layer.useBias ? undefined : output);
    return layer.useBias ? node('Add', [product, call.weight(weightNamed(layer, `${name}/bias`)!, 'keras', [columns])], `${name}/BiasAdd`, {}, output) : product;
  };
  const project = (x: Value, name: string, size: number, perm: number[]) => {
    const flat = dense(x.name, name, x.shape[2] as number, heads * size);
    const split = node('Reshape', [flat, b.int64Constant(`${call.name}/${name}/heads`, [0, 0, heads, size])], `${name}/split_heads`);
    return node('Transpose', [split], `${name}/heads_first`, { perm });
  };
  const q = node('Mul', [project(query, 'query', layer.keyDim, [0, 2, 1, 3]), b.floatConstant(`${call.name}/query_scale`, [1 / Math.sqrt(layer.keyDim)])], 'scaled_query');
  const scores = node('MatMul', [q, project(key, 'key', layer.keyDim, [0, 2, 3, 1])], 'scores');
  const weights = attentionWeights(call, scores, query, value, call.kwargs.use_causal_mask === true, layer.dropout);
  const context = node('MatMul', [weights, project(value, 'value', layer.valueDim, [0, 2, 1, 3])], 'context');
  const steps = node('Transpose', [context], 'steps_first', { perm: [0, 2, 1, 3] });
  const joined = node('Reshape', [steps, b.int64Constant(`${call.name}/joined_heads`, [0, 0, heads * layer.valueDim])], 'join_heads');
  const outputShapes = layer.computeOutputShapes(call.inputs.map((x) => x.shape), call.kwargs);
  const result: Value = { ...query, name: dense(joined, 'attention_output', heads * layer.valueDim, outputShapes[0]![2] as number, call.output), shape: outputShapes[0]! };
  return call.kwargs.return_attention_scores ? [result, { ...query, name: weights, shape: outputShapes[1]! }] : result;
};

/**
 * Keras's Attention: scores = query @ key^T (MatMul after a Transpose; times `scale`), or for
 * "concat" concat_score_weight * sum(tanh(scale * (query + key))) over the features (the sum a
 * MatMul with ones); a causal call adds -1e9 above the diagonal (a constant, so the steps
 * must be known); Softmax over the value steps, Dropout (training only), MatMul with value.
 */
const attention: Row<Attention> = (layer, call) => {
  const { b } = call;
  const [query, value, key = value] = call.inputs as [Value, Value, Value?];
  const scale = layer.useScale ? call.weight(weightNamed(layer, 'scale')!) : undefined;
  const node = (op: string, inputs: string[], what: string, attributes: Record<string, AttributeValue> = {}, output?: string) => b.addNode(op, inputs, `${call.name}/${what}`, attributes, output);
  let scores: string;
  if (layer.scoreMode === 'dot') {
    scores = node('MatMul', [query.name, node('Transpose', [key.name], 'key_transposed', { perm: [0, 2, 1] })], 'scores');
    if (scale) scores = node('Mul', [scores, scale], 'scaled_scores');
  } else {
    const q = node('Unsqueeze', [query.name, b.int64Constant(`${call.name}/query_axis`, [2])], 'query_expanded');
    const k = node('Unsqueeze', [key.name, b.int64Constant(`${call.name}/key_axis`, [1])], 'key_expanded');
    let sum = node('Add', [q, k], 'query_plus_key');
    if (scale) sum = node('Mul', [sum, scale], 'scaled_sum');
    const features = query.shape[2] as number;
    const summed = node('MatMul', [node('Tanh', [sum], 'tanh'), b.floatConstant(`${call.name}/ones`, Array<number>(features).fill(1), [features, 1])], 'feature_sum');
    const squeezed = node('Squeeze', [summed, b.int64Constant(`${call.name}/sum_axis`, [3])], 'squeezed');
    scores = node('Mul', [squeezed, call.weight(weightNamed(layer, 'concat_score_weight')!)], 'scores');
  }
  const weights = attentionWeights(call, scores, query, value, layer.isCausal(call.kwargs), layer.dropout);
  const outputShapes = layer.computeOutputShapes(call.inputs.map((x) => x.shape), call.kwargs);
  const result: Value = { ...query, name: node('MatMul', [weights, value.name], 'MatMul', {}, call.output), shape: outputShapes[0]! };
  return call.kwargs.return_attention_scores ? [result, { ...query, name: weights, shape: outputShapes[1]! }] : result;
};

/**
 * Why `inner`'s translation cannot run inside a TimeDistributed on the merged (batch * time, ...)
 * batch, or undefined: a recurrent layer (its own sequences), or a class without a row. (Models
 * never reach here, TimeDistributed's constructor refuses them; nor layers of several inputs,
 * whose shape checks refuse one input.)
 */
function timeDistributedRefusal(inner: Layer): string | undefined {
  if (inner instanceof RecurrentLayer || inner instanceof Bidirectional) return 'a recurrent layer is not translated on merged time steps';
  if (!(inner.className in LAYER_TABLE)) return 'Strata has no ONNX translation for it';
  return undefined;
}

/**
 * Keras's TimeDistributed: Reshape (batch, time, ...) to (batch * time, ...), the wrapped layer's
 * own translation on that batch (its weights under the wrapper's name), Reshape back to
 * (batch, time, ...). The time steps and each step's shape must be known.
 */
const timeDistributed: Row<TimeDistributed> = (layer, call) => {
  const { b } = call;
  const inner = layer.layer;
  const refusal = timeDistributedRefusal(inner);
  if (refusal) throw new ValueError(`${call.name}: TimeDistributed over ${inner.name} (${inner.className}) has no ONNX translation: ${refusal}`, { layer: layer.name, field: 'layer' });
  const x = b.inLayout(single(layer, call), 'keras');
  const outputShape = layer.computeOutputShapes([x.shape])[0]!;
  const [batch, time, ...step] = x.shape;
  const known = (dims: Value['shape']): dims is number[] => dims.every((d) => d !== null && d !== undefined);
  if (time === null || time === undefined || !known(step) || !known(outputShape.slice(1))) {
    throw new ShapeError(`${call.name}: the ONNX translation of TimeDistributed needs known time steps and step shapes, got input ${formatShape(x.shape)} and output ${formatShape(outputShape)}`, { layer: layer.name });
  }
  const merged: Value = {
    ...x,
    name: b.addNode('Reshape', [x.name, b.int64Constant(`${call.name}/merged_shape`, [-1, ...step])], `${call.name}/merge_time`),
    shape: [batch === null || batch === undefined ? null : batch * time, ...step],
  };
  const innerName = `${call.name}/${inner.name}`;
  const row = LAYER_TABLE[inner.className] as Row<Layer>;
  const result = row(inner, { ...call, inputs: [merged], name: innerName, output: b.uniqueName(innerName) });
  const y = b.inLayout(Array.isArray(result) ? result[0]! : result, 'keras');
  const target = b.int64Constant(`${call.name}/split_shape`, [-1, ...(outputShape.slice(1) as number[])]);
  return { ...y, name: b.addNode('Reshape', [y.name, target], `${call.name}/split_time`, {}, call.output), shape: outputShape };
};

/** Layer class name -> translation. Models (nested) and InputLayers are handled by the graph walk. */
export const LAYER_TABLE: Record<string, Row<never>> = {
  Dense: dense,
  Conv1D: conv1d,
  Conv2D: conv2d,
  Conv2DTranspose: conv2dTranspose,
  DepthwiseConv2D: depthwiseConv2d,
  SeparableConv2D: separableConv2d,
  MaxPooling2D: pooling('MaxPool'),
  AveragePooling2D: pooling('AveragePool'),
  MaxPooling1D: pooling('MaxPool'),
  AveragePooling1D: pooling('AveragePool'),
  GlobalAveragePooling2D: globalPooling2d('GlobalAveragePool'),
  GlobalAveragePooling1D: globalAveragePooling1d,
  GlobalMaxPooling2D: globalPooling2d('GlobalMaxPool'),
  GlobalMaxPooling1D: globalMaxPooling1d,
  Flatten: flatten,
  Reshape: reshape,
  Permute: permute,
  RepeatVector: repeatVector,
  Dropout: dropout,
  GaussianNoise: gaussianNoise,
  GaussianDropout: gaussianDropout,
  SpatialDropout2D: spatialDropout,
  ActivityRegularization: activityRegularization,
  Activation: activation,
  ReLU: relu,
  LeakyReLU: leakyRelu,
  ELU: elu,
  PReLU: prelu,
  Softmax: softmax,
  ZeroPadding2D: zeroPadding2d,
  Cropping2D: cropping2d,
  BatchNormalization: batchNormalization,
  LayerNormalization: layerNormalization,
  Rescaling: rescaling,
  Embedding: embedding,
  LSTM: recurrent,
  GRU: recurrent,
  SimpleRNN: recurrent,
  Bidirectional: bidirectional,
  Concatenate: concatenate,
  Attention: attention,
  MultiHeadAttention: multiHeadAttention,
  Add: add,
  Multiply: multiply,
  Average: average,
  Normalization: normalization,
  RandomFlip: randomFlip,
  RandomContrast: randomContrast,
  RandomTranslation: randomTranslation,
  RandomZoom: randomZoom,
  RandomRotation: randomRotation,
  UpSampling2D: upSampling2d,
  Resizing: resizing,
  CenterCrop: centerCrop,
  Subtract: elementwiseNode('Sub'),
  Maximum: elementwiseNode('Max'),
  Minimum: elementwiseNode('Min'),
  Dot: dot,
  ZeroPadding1D: zeroPadding1d,
  Cropping1D: cropping1d,
  UpSampling1D: upSampling1d,
  SpatialDropout1D: spatialDropout,
  TimeDistributed: timeDistributed,
};
