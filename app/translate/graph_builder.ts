// Assembles an ONNX graph while translating layers: unique names, initializers, nodes, and
// the layout of each 4-D value. Keras tensors are channels-last (NHWC); ONNX's Conv and pools
// want channels-first (NCHW). Values carry their Keras shape and whether their data is
// currently NCHW, and Transposes are inserted only where an op needs the other layout
// (once per value and layout).
import { makeAttribute, type AttributeValue } from '../onnx/helper.ts';
import { DataType, type NodeProto, type TensorProto } from '../onnx/schema.ts';
import type { Shape } from '../model/index.ts';

export type Layout = 'keras' | 'nchw';

export interface Value {
  /** The ONNX tensor name. */
  name: string;
  /** The shape in Keras order (batch first, channels last), whatever the layout. */
  shape: Shape;
  /** 'nchw' only for 4-D values whose data is channels-first. */
  layout: Layout;
  elemType: number;
}

const TO_NCHW = [0, 3, 1, 2];
const TO_NHWC = [0, 2, 3, 1];

export class GraphBuilder {
  readonly nodes: NodeProto[] = [];
  readonly initializers: TensorProto[] = [];
  private readonly tensorNames = new Set<string>();
  private readonly nodeNames = new Set<string>();
  private readonly transposed = new Map<string, Value>();

  /** A tensor (or initializer) name: `base`, or `base_1`, `base_2`, ... if taken. */
  uniqueName(base: string): string {
    return claim(this.tensorNames, base);
  }

  addInitializer(base: string, dims: number[], data: Float32Array | BigInt64Array): string {
    const name = this.uniqueName(base);
    const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice();
    this.initializers.push({ name, dims, dataType: data instanceof Float32Array ? DataType.FLOAT : DataType.INT64, rawData: bytes });
    return name;
  }

  floatConstant(base: string, values: number[], dims: number[] = values.length === 1 ? [] : [values.length]): string {
    return this.addInitializer(base, dims, Float32Array.from(values));
  }

  int64Constant(base: string, values: number[]): string {
    return this.addInitializer(base, [values.length], BigInt64Array.from(values.map(BigInt)));
  }

  /** Adds a node; `outputName` names its (single) output, else one is made from the node name. */
  addNode(opType: string, inputs: string[], nodeName: string, attributes: Record<string, AttributeValue> = {}, outputName?: string): string {
    return this.addMultiOutputNode(opType, inputs, nodeName, attributes, [outputName ?? this.uniqueName(nodeName)])[0]!;
  }

  /** Adds a node with the given output names (LSTM's Y, Y_h, Y_c); returns them. */
  addMultiOutputNode(opType: string, inputs: string[], nodeName: string, attributes: Record<string, AttributeValue>, outputs: string[]): string[] {
    const name = claim(this.nodeNames, nodeName);
    this.nodes.push({ opType, input: inputs, output: outputs, name, attribute: Object.entries(attributes).map(([k, v]) => makeAttribute(k, v)) });
    return outputs;
  }

  /** The value in the wanted layout, transposing (once) if needed. */
  inLayout(value: Value, layout: Layout): Value {
    if (value.layout === layout || value.shape.length !== 4) return value;
    const key = `${value.name}|${layout}`;
    const cached = this.transposed.get(key);
    if (cached) return cached;
    const perm = layout === 'nchw' ? TO_NCHW : TO_NHWC;
    const name = this.addNode('Transpose', [value.name], `${value.name}/to_${layout === 'nchw' ? 'nchw' : 'nhwc'}`, { perm });
    const result: Value = { ...value, name, layout };
    this.transposed.set(key, result);
    return result;
  }

  /** Renames a tensor everywhere it appears (used to give graph outputs their layers' names). */
  renameTensor(from: string, to: string): void {
    for (const node of this.nodes) {
      node.input = node.input?.map((n) => (n === from ? to : n));
      node.output = node.output?.map((n) => (n === from ? to : n));
    }
  }
}

function claim(used: Set<string>, base: string): string {
  let name = base;
  for (let i = 1; used.has(name); i++) name = `${base}_${i}`;
  used.add(name);
  return name;
}

/** The position of a Keras axis (of a 4-D NHWC shape) in a value's physical layout. */
export function physicalAxis(value: Value, kerasAxis: number): number {
  const rank = value.shape.length;
  const axis = kerasAxis < 0 ? rank + kerasAxis : kerasAxis;
  if (value.layout !== 'nchw') return axis;
  return [0, 2, 3, 1][axis]!;
}
