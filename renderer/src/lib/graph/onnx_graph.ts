// An ONNX graph as Netron draws it: one box per node (op type in the header, its weights as
// rows), the graph's inputs and outputs as boxes of their own, and an edge per value passed
// between nodes, labelled with the value's shape. Constants are weights, not boxes: a Constant
// node, or an Identity of an initializer (PyTorch's export writes one per shared weight),
// shows as a row of the node that uses it.
import type { Dim, GraphDescription, NodeDescription } from '../../../../app/onnx/description.ts';
import { formatDims } from '../format.ts';
import { initializersByName, type ValueType } from '../onnx_values.ts';
import { onnxCategory } from './categories.ts';
import type { NodeRow, ViewEdge, ViewGraph, ViewNode } from './types.ts';

/** The ONNX specification's names for the inputs of common ops, for the weight rows ("W", "B"). */
const INPUT_NAMES: Record<string, string[]> = {
  Conv: ['X', 'W', 'B'],
  ConvTranspose: ['X', 'W', 'B'],
  Gemm: ['A', 'B', 'C'],
  MatMul: ['A', 'B'],
  BatchNormalization: ['X', 'scale', 'B', 'mean', 'var'],
  InstanceNormalization: ['input', 'scale', 'B'],
  LayerNormalization: ['X', 'scale', 'B'],
  PRelu: ['X', 'slope'],
  Reshape: ['data', 'shape'],
  Clip: ['input', 'min', 'max'],
  Gather: ['data', 'indices'],
  Pad: ['data', 'pads', 'value'],
  Slice: ['data', 'starts', 'ends', 'axes', 'steps'],
  Resize: ['X', 'roi', 'scales', 'sizes'],
  LSTM: ['X', 'W', 'R', 'B', 'lens', 'h0', 'c0'],
  GRU: ['X', 'W', 'R', 'B', 'lens', 'h0'],
  Add: ['A', 'B'],
  Sub: ['A', 'B'],
  Mul: ['A', 'B'],
  Div: ['A', 'B'],
};

const MAX_TEXT = 40;

/** Long names stay readable on a node: the start and the end, an ellipsis between. */
export function shorten(text: string, max = MAX_TEXT): string {
  if (text.length <= max) return text;
  const head = Math.ceil((max - 1) / 2);
  return `${text.slice(0, head)}…${text.slice(text.length - (max - 1 - head))}`;
}

export function inputLabel(opType: string, index: number, valueName: string): string {
  return INPUT_NAMES[opType]?.[index] ?? shorten(valueName, 16);
}

export const onnxNodeId = (index: number) => `n${index}`;
export const graphInputId = (name: string) => `input:${name}`;
export const graphOutputId = (name: string) => `output:${name}`;

/** A value fixed when the file is written: its shape, and the initializer holding it, if one does. */
export interface ConstantValue {
  shape: Dim[] | null;
  initializer: string | null;
}

/**
 * The graph's constant values by name: its initializers, the outputs of Constant nodes and
 * of Identity nodes whose input is constant, with the indices of the nodes folded away.
 */
export function constantValues(graph: GraphDescription): { values: Map<string, ConstantValue>; folded: Set<number> } {
  const values = new Map<string, ConstantValue>([...initializersByName(graph)].map(([name, tensor]) => [name, { shape: tensor.shape, initializer: name }]));
  const folded = new Set<number>();
  graph.nodes.forEach((node, index) => {
    const output = node.outputs[0];
    if (node.domain || node.outputs.length !== 1 || !output) return;
    if (node.opType === 'Constant' && node.inputs.length === 0) {
      const tensor = node.attributes.find((attribute) => attribute.type === 'TENSOR')?.value as { shape?: Dim[] } | undefined;
      values.set(output, { shape: tensor?.shape ?? null, initializer: null });
      folded.add(index);
    } else if (node.opType === 'Identity' && values.has(node.inputs[0] ?? '')) {
      values.set(output, values.get(node.inputs[0]!)!);
      folded.add(index);
    }
  });
  return { values, folded };
}

function nodeRows(node: NodeDescription, constants: Map<string, ConstantValue>): NodeRow[] {
  const rows: NodeRow[] = [];
  node.inputs.forEach((input, index) => {
    const constant = constants.get(input);
    if (constant) rows.push({ label: inputLabel(node.opType, index, input), value: `⟨${formatDims(constant.shape)}⟩` });
  });
  return rows;
}

export function onnxGraph(graph: GraphDescription, types: Map<string, ValueType>): ViewGraph {
  const { values: constants, folded } = constantValues(graph);
  const nodes: ViewNode[] = [];
  const edges: ViewEdge[] = [];
  const producer = new Map<string, string>();
  const edgeLabel = (value: string) => {
    const type = types.get(value);
    return type?.shape ? formatDims(type.shape) : '';
  };
  // A graph input's or output's type and shape, inferred where the file declares no shape.
  const valueRow = (name: string, declaredType: string): NodeRow => {
    const type = types.get(name);
    return { label: type?.type ?? declaredType, value: formatDims(type?.shape ?? null) };
  };
  const connect = (value: string, to: string) => {
    const from = producer.get(value);
    if (from !== undefined) edges.push({ id: `e${edges.length}`, from, to, label: edgeLabel(value) });
  };

  for (const input of graph.inputs) {
    const id = graphInputId(input.name);
    producer.set(input.name, id);
    nodes.push({ id, title: 'Input', name: input.name, showName: true, category: 'io', rows: [valueRow(input.name, input.type)] });
  }
  graph.nodes.forEach((node, index) => {
    if (folded.has(index)) return;
    for (const output of node.outputs) if (output) producer.set(output, onnxNodeId(index));
  });
  graph.nodes.forEach((node, index) => {
    if (folded.has(index)) return;
    const id = onnxNodeId(index);
    nodes.push({
      id,
      title: node.opType,
      name: node.name,
      showName: false,
      category: onnxCategory(node.opType),
      rows: nodeRows(node, constants),
      keywords: [...node.inputs, ...node.outputs].filter(Boolean),
    });
    for (const input of node.inputs) if (input && !constants.has(input)) connect(input, id);
  });
  for (const output of graph.outputs) {
    const id = graphOutputId(output.name);
    nodes.push({ id, title: 'Output', name: output.name, showName: true, category: 'io', rows: [valueRow(output.name, output.type)] });
    connect(output.name, id);
  }
  return { nodes, edges };
}
