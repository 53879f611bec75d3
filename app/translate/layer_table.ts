// One row per Keras layer class: how its call becomes ONNX nodes (opset 17). Each row gets
// the layer, its input values and the name its result should carry, and returns the
// result values. Weights become initializers named "<layer>/<weight>" (Conv kernels are
// stored OIHW, as ONNX's Conv wants; every other weight keeps its Keras layout).
import {
  Activation, Add, Attention, MultiHeadAttention, Average, AveragePooling2D, BatchNormalization, Concatenate, LayerNormalization, Conv2D, Dense, DepthwiseConv2D, Dropout, ELU, Embedding, Flatten,
  GlobalAveragePooling1D, GlobalAveragePooling2D, LeakyReLU, MaxPooling2D, Multiply, ReLU, Rescaling, Reshape, SeparableConv2D, Softmax, ValueError, ZeroPadding2D, formatShape,
  type CallKwargs, type Layer, type LayerWeight,
} from '../model/index.ts';
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
}

/** A layer's results: one value, or one per output (Attention returning its scores). */
type Row<L extends Layer> = (layer: L, call: LayerCall) => Value | Value[];

/**
 * TensorFlow's "same" padding as explicit [begin..., end...] pads (the odd pixel at the end,
 * ONNX's SAME_UPPER); undefined when a spatial size is unknown (then auto_pad does it).
 */
function samePads(shape: Value['shape'], kernel: number[], strides: number[], dilations: number[]): number[] | undefined {
  const begins: number[] = [];
  const ends: number[] = [];
  for (let i = 0; i < 2; i++) {
    const n = shape[i + 1];
    if (n === null || n === undefined) return undefined;
    const span = (kernel[i]! - 1) * dilations[i]! + 1;
    const total = Math.max((Math.ceil(n / strides[i]!) - 1) * strides[i]! + span - n, 0);
    begins.push(Math.floor(total / 2));
    ends.push(total - Math.floor(total / 2));
  }
  return [...begins, ...ends];
}

function paddingAttributes(x: Value, padding: 'valid' | 'same', kernel: number[], strides: number[], dilations = [1, 1]): Record<string, AttributeValue> {
  if (padding === 'valid') return {};
  const pads = samePads(x.shape, kernel, strides, dilations);
  return pads ? { pads } : { auto_pad: 'SAME_UPPER' };
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

/** A convolution's window, as Conv2D, DepthwiseConv2D and SeparableConv2D hold it. */
interface Window {
  kernelSize: [number, number];
  strides: [number, number];
  dilationRate: [number, number];
  padding: 'valid' | 'same';
}

/** One ONNX Conv over channels-first `x`: kernel (and bias) initializers, `group` groups. */
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

function pooling(opType: 'MaxPool' | 'AveragePool'): Row<MaxPooling2D | AveragePooling2D> {
  return (layer, call) => {
    const x = call.b.inLayout(single(layer, call), 'nchw');
    const attributes = { kernel_shape: [...layer.poolSize], strides: [...layer.strides], ...paddingAttributes(x, layer.padding, layer.poolSize, layer.strides) };
    const name = call.b.addNode(opType, [x.name], `${call.name}/${opType}`, attributes, call.output);
    return { ...x, name, shape: layer.computeOutputShapes([x.shape])[0]! };
  };
}

const globalAveragePooling2d: Row<GlobalAveragePooling2D> = (layer, call) => {
  const { b } = call;
  const x = b.inLayout(single(layer, call), 'nchw');
  const shape = layer.computeOutputShapes([x.shape])[0]!;
  if (layer.keepdims) return { ...x, shape, name: b.addNode('GlobalAveragePool', [x.name], `${call.name}/GlobalAveragePool`, {}, call.output) };
  const pooled = b.addNode('GlobalAveragePool', [x.name], `${call.name}/GlobalAveragePool`);
  return { ...x, shape, layout: 'keras', name: b.addNode('Flatten', [pooled], `${call.name}/Flatten`, { axis: 1 }, call.output) };
};

const globalAveragePooling1d: Row<GlobalAveragePooling1D> = (layer, call) => {
  const x = single(layer, call);
  const name = call.b.addNode('ReduceMean', [x.name], `${call.name}/ReduceMean`, { axes: [1], keepdims: layer.keepdims ? 1 : 0 }, call.output);
  return { ...x, name, shape: layer.computeOutputShapes([x.shape])[0]! };
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

const dropout: Row<Dropout> = (layer, call) => {
  // Identity at inference (training_mode defaults to false); kept so that training sees it.
  const x = single(layer, call);
  const ratio = call.b.floatConstant(`${call.name}/ratio`, [layer.rate]);
  const name = call.b.addNode('Dropout', [x.name, ratio], `${call.name}/Dropout`, layer.seed !== null ? { seed: layer.seed } : {}, call.output);
  return { ...x, name };
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

/** Softmax over the layer's axis, wherever that axis lies in the value's layout. */
const softmax: Row<Softmax> = (layer, call) => {
  const x = single(layer, call);
  return { ...x, name: call.b.addNode('Softmax', [x.name], `${call.name}/Softmax`, { axis: physicalAxis(x, layer.axis) }, call.output) };
};

/** Keras's ZeroPadding2D: ONNX Pad on the value's own layout (NCHW or NHWC), zeros. */
const zeroPadding2d: Row<ZeroPadding2D> = (layer, call) => {
  const x = single(layer, call);
  const [[top, bottom], [left, right]] = layer.padding;
  const nchw = x.layout === 'nchw';
  const begins = nchw ? [0, 0, top, left] : [0, top, left, 0];
  const ends = nchw ? [0, 0, bottom, right] : [0, bottom, right, 0];
  const pads = call.b.int64Constant(`${call.name}/pads`, [...begins, ...ends]);
  const name = call.b.addNode('Pad', [x.name, pads], `${call.name}/Pad`, { mode: 'constant' }, call.output);
  return { ...x, name, shape: layer.computeOutputShapes([x.shape])[0]! };
};

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

/** Layer class name -> translation. Models (nested) and InputLayers are handled by the graph walk. */
export const LAYER_TABLE: Record<string, Row<never>> = {
  Dense: dense,
  Conv2D: conv2d,
  DepthwiseConv2D: depthwiseConv2d,
  SeparableConv2D: separableConv2d,
  MaxPooling2D: pooling('MaxPool'),
  AveragePooling2D: pooling('AveragePool'),
  GlobalAveragePooling2D: globalAveragePooling2d,
  GlobalAveragePooling1D: globalAveragePooling1d,
  Flatten: flatten,
  Reshape: reshape,
  Dropout: dropout,
  Activation: activation,
  ReLU: relu,
  LeakyReLU: leakyRelu,
  ELU: elu,
  Softmax: softmax,
  ZeroPadding2D: zeroPadding2d,
  BatchNormalization: batchNormalization,
  LayerNormalization: layerNormalization,
  Rescaling: rescaling,
  Embedding: embedding,
  Concatenate: concatenate,
  Attention: attention,
  MultiHeadAttention: multiHeadAttention,
  Add: add,
  Multiply: multiply,
  Average: average,
};
