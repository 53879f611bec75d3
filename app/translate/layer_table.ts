// One row per Keras layer class: how its call becomes ONNX nodes (opset 17). Each row gets
// the layer, its input values and the name its result should carry, and returns the
// result values. Weights become initializers named "<layer>/<weight>" (Conv kernels are
// stored OIHW, as ONNX's Conv wants; every other weight keeps its Keras layout).
import {
  Activation, Add, Average, AveragePooling2D, BatchNormalization, Concatenate, Conv2D, Dense, Dropout, Embedding, Flatten,
  GlobalAveragePooling1D, GlobalAveragePooling2D, MaxPooling2D, Multiply, Rescaling, Reshape, ValueError, type Layer, type LayerWeight,
} from '../model/index.ts';
import type { AttributeValue } from '../onnx/helper.ts';
import { DataType } from '../onnx/schema.ts';
import { applyActivation } from './activations.ts';
import { physicalAxis, type GraphBuilder, type Value } from './graph_builder.ts';

export interface LayerCall {
  b: GraphBuilder;
  inputs: Value[];
  /** Base for node names: the layer name, prefixed by enclosing models' names. */
  name: string;
  /** The tensor name the layer's result should have. */
  output: string;
  /** The initializer holding one of the layer's weights. */
  weight(weight: LayerWeight, layout?: 'oihw'): string;
}

type Row<L extends Layer> = (layer: L, call: LayerCall) => Value;

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

const conv2d: Row<Conv2D> = (layer, call) => {
  const { b } = call;
  const x = b.inLayout(single(layer, call), 'nchw');
  const kernelWeight = weightNamed(layer, 'kernel')!;
  const inputs = [x.name, call.weight(kernelWeight, 'oihw')];
  if (layer.useBias) inputs.push(call.weight(weightNamed(layer, 'bias')!));
  const attributes = {
    kernel_shape: [...layer.kernelSize],
    strides: [...layer.strides],
    dilations: [...layer.dilationRate],
    ...paddingAttributes(x, layer.padding, layer.kernelSize, layer.strides, layer.dilationRate),
  };
  const y = b.addNode('Conv', inputs, `${call.name}/Conv`, attributes, layer.activation === 'linear' ? call.output : undefined);
  const shape = layer.computeOutputShapes([x.shape])[0]!;
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

/** Layer class name -> translation. Models (nested) and InputLayers are handled by the graph walk. */
export const LAYER_TABLE: Record<string, Row<never>> = {
  Dense: dense,
  Conv2D: conv2d,
  MaxPooling2D: pooling('MaxPool'),
  AveragePooling2D: pooling('AveragePool'),
  GlobalAveragePooling2D: globalAveragePooling2d,
  GlobalAveragePooling1D: globalAveragePooling1d,
  Flatten: flatten,
  Reshape: reshape,
  Dropout: dropout,
  Activation: activation,
  BatchNormalization: batchNormalization,
  Rescaling: rescaling,
  Embedding: embedding,
  Concatenate: concatenate,
  Add: add,
  Multiply: multiply,
  Average: average,
};
