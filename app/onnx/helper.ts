// Builders for ONNX messages in the spirit of Python's onnx.helper (make_node, make_graph,
// make_model, make_tensor_value_info). They only assemble plain objects; schema.ts encodes.
import type { NdArray } from '../data/ndarray.ts';
import { AttributeType, type AttributeProto, type GraphProto, type ModelProto, type NodeProto, type OperatorSetIdProto, type TensorProto, type ValueInfoProto } from './schema.ts';
import { arrayToTensor } from './tensor.ts';

/** An attribute value: numbers are INT when integral unless given as `{ float: x }`. */
export type AttributeValue = number | string | number[] | string[] | { float: number } | { floats: number[] } | TensorProto | GraphProto;

export function makeAttribute(name: string, value: AttributeValue): AttributeProto {
  if (typeof value === 'number') {
    return Number.isInteger(value) ? { name, type: AttributeType.INT, i: value } : { name, type: AttributeType.FLOAT, f: value };
  }
  if (typeof value === 'string') return { name, type: AttributeType.STRING, s: new TextEncoder().encode(value) };
  if (Array.isArray(value)) {
    if (value.length > 0 && value.every((v) => typeof v === 'string')) {
      return { name, type: AttributeType.STRINGS, strings: (value as string[]).map((v) => new TextEncoder().encode(v)) };
    }
    const numbers = value as number[];
    return numbers.every(Number.isInteger) ? { name, type: AttributeType.INTS, ints: numbers } : { name, type: AttributeType.FLOATS, floats: numbers };
  }
  if ('float' in value) return { name, type: AttributeType.FLOAT, f: value.float };
  if ('floats' in value) return { name, type: AttributeType.FLOATS, floats: value.floats };
  if ('node' in value || 'output' in value) return { name, type: AttributeType.GRAPH, g: value as GraphProto };
  return { name, type: AttributeType.TENSOR, t: value as TensorProto };
}

export function makeNode(
  opType: string,
  inputs: string[],
  outputs: string[],
  options: { name?: string; domain?: string; attributes?: Record<string, AttributeValue> } = {},
): NodeProto {
  const node: NodeProto = { opType, input: inputs, output: outputs };
  if (options.name !== undefined) node.name = options.name;
  if (options.domain !== undefined) node.domain = options.domain;
  node.attribute = Object.entries(options.attributes ?? {}).map(([name, value]) => makeAttribute(name, value));
  return node;
}

/** A tensor ValueInfo; dims are sizes, symbolic names (strings) or null for unknown. */
export function makeTensorValueInfo(name: string, elemType: number, shape: (number | string | null)[] | null): ValueInfoProto {
  const tensorType: NonNullable<NonNullable<ValueInfoProto['type']>['tensorType']> = { elemType };
  if (shape) {
    tensorType.shape = { dim: shape.map((d) => (d === null ? {} : typeof d === 'string' ? { dimParam: d } : { dimValue: d })) };
  }
  return { name, type: { tensorType } };
}

export function makeTensor(name: string, array: NdArray): TensorProto {
  return arrayToTensor(name, array);
}

export function makeGraph(nodes: NodeProto[], name: string, inputs: ValueInfoProto[], outputs: ValueInfoProto[], initializers: TensorProto[] = []): GraphProto {
  return { node: nodes, name, input: inputs, output: outputs, initializer: initializers };
}

export function makeModel(
  graph: GraphProto,
  options: { opsetImports?: OperatorSetIdProto[]; irVersion?: number; producerName?: string; producerVersion?: string; metadata?: Record<string, string> } = {},
): ModelProto {
  return {
    // IR 8 and opset 17 are read by onnxruntime 1.14 and later and by onnx 1.12 (Debian 12).
    irVersion: options.irVersion ?? 8,
    opsetImport: options.opsetImports ?? [{ domain: '', version: 17 }],
    producerName: options.producerName ?? 'strata',
    producerVersion: options.producerVersion ?? '',
    graph,
    metadataProps: Object.entries(options.metadata ?? {}).map(([key, value]) => ({ key, value })),
  };
}
