// The ONNX files the UI benchmark opens, made with Strata's own ONNX builders.
import { makeGraph, makeModel, makeNode, makeTensor, makeTensorValueInfo } from '../app/onnx/helper.ts';
import { DataType, encodeModel, type NodeProto, type TensorProto } from '../app/onnx/schema.ts';

const CHANNELS = 8;

function tensor(name: string, shape: number[], fill: (i: number) => number): TensorProto {
  const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
  for (let i = 0; i < data.length; i++) data[i] = fill(i);
  return makeTensor(name, { dtype: 'float32', shape, data });
}

/** A ResNet-like graph of about `nodeCount` nodes: blocks of Conv, BatchNormalization, Relu, Conv, BatchNormalization, Add, Relu. */
export function resnetLike(nodeCount: number): Uint8Array {
  const nodes: NodeProto[] = [];
  const weights: TensorProto[] = [];
  const conv = (input: string, output: string) => {
    const name = `conv${nodes.length}`;
    weights.push(tensor(`${name}.W`, [CHANNELS, CHANNELS, 3, 3], (i) => Math.sin(i) * 0.1));
    nodes.push(makeNode('Conv', [input, `${name}.W`], [output], { name, attributes: { kernel_shape: [3, 3], pads: [1, 1, 1, 1] } }));
  };
  const batchNorm = (input: string, output: string) => {
    const name = `bn${nodes.length}`;
    for (const part of ['scale', 'B', 'mean', 'var']) weights.push(tensor(`${name}.${part}`, [CHANNELS], () => (part === 'var' || part === 'scale' ? 1 : 0)));
    nodes.push(makeNode('BatchNormalization', [input, `${name}.scale`, `${name}.B`, `${name}.mean`, `${name}.var`], [output], { name }));
  };
  let x = 'image';
  conv(x, 'stem');
  x = 'stem';
  for (let block = 0; nodes.length + 7 <= nodeCount - 1; block++) {
    const p = `b${block}`;
    conv(x, `${p}.c1`);
    batchNorm(`${p}.c1`, `${p}.n1`);
    nodes.push(makeNode('Relu', [`${p}.n1`], [`${p}.r1`], { name: `${p}.relu1` }));
    conv(`${p}.r1`, `${p}.c2`);
    batchNorm(`${p}.c2`, `${p}.n2`);
    nodes.push(makeNode('Add', [`${p}.n2`, x], [`${p}.sum`], { name: `${p}.add` }));
    nodes.push(makeNode('Relu', [`${p}.sum`], [`${p}.out`], { name: `${p}.relu2` }));
    x = `${p}.out`;
  }
  nodes.push(makeNode('GlobalAveragePool', [x], ['pooled'], { name: 'pool' }));
  const graph = makeGraph(nodes, `resnet_like_${nodeCount}`, [makeTensorValueInfo('image', DataType.FLOAT, ['batch', CHANNELS, 16, 16])], [makeTensorValueInfo('pooled', DataType.FLOAT, null)], weights);
  return encodeModel(makeModel(graph, { producerName: 'strata bench-ui' }));
}

/** An MLP whose 1,000x1,000 float weights make a file of about `megabytes` MB. */
export function bigMlp(megabytes: number): Uint8Array {
  const width = 1000;
  const layers = Math.round((megabytes * 1e6) / (width * width * 4));
  const nodes: NodeProto[] = [];
  const weights: TensorProto[] = [];
  let x = 'features';
  for (let layer = 0; layer < layers; layer++) {
    weights.push(tensor(`dense${layer}.W`, [width, width], (i) => ((i * 2654435761) % 1000) / 1e4 - 0.05), tensor(`dense${layer}.B`, [width], () => 0));
    nodes.push(makeNode('MatMul', [x, `dense${layer}.W`], [`d${layer}.m`], { name: `dense${layer}` }));
    nodes.push(makeNode('Add', [`d${layer}.m`, `dense${layer}.B`], [`d${layer}.a`], { name: `dense${layer}.bias` }));
    nodes.push(makeNode('Relu', [`d${layer}.a`], [`d${layer}.out`], { name: `dense${layer}.relu` }));
    x = `d${layer}.out`;
  }
  const graph = makeGraph(nodes, 'big_mlp', [makeTensorValueInfo('features', DataType.FLOAT, ['batch', width])], [makeTensorValueInfo(x, DataType.FLOAT, ['batch', width])], weights);
  return encodeModel(makeModel(graph, { producerName: 'strata bench-ui' }));
}
