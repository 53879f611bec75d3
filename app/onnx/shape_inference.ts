// Types and shapes of the values an ONNX file leaves undeclared, for the Inspect view: what
// onnx.shape_inference.infer_shapes(model, data_prop=True) finds for the common operators,
// in TypeScript, with no Python. Symbolic dims ('batch') are carried through as onnx does;
// a dim nobody can know is null. Small integer tensors (shapes, axes, Shape's output) are
// folded as constants, so Shape -> Gather -> Concat -> Reshape chains resolve as they do with
// onnx's data propagation.
//
// Operators not listed in RULES, other domains and subgraphs get nothing: the view shows
// their outputs as unknown rather than a guess. A node whose inputs contradict its rule (a
// corrupt or hand-edited file) gets nothing either; inference never fails an inspection.
import type { Dim } from './description.ts';
import { AttributeType, DataType, type AttributeProto, type GraphProto, type ModelProto, type NodeProto, type TensorProto, type TypeProto } from './schema.ts';
import { elementTypeName, externalDataOf, tensorDims, tensorToArray } from './tensor.ts';

export interface InferredValue {
  /** Element type name ('float32', 'int64', ...). */
  type: string;
  /** Null when the rank is unknown. */
  shape: Dim[] | null;
}

/** What inference knows of one value. */
interface ValueType {
  /** A DataType number; 0 when unknown. */
  elemType: number;
  shape: Dim[] | null;
  /** The elements of a small integer tensor of rank 0 or 1 whose content is known (a shape, axes). */
  value?: Dim[];
}

/** Integer tensors up to this many elements are folded (shapes and axes are far smaller). */
const MAX_FOLDED_ELEMENTS = 64;
/** More dims than any tensor has (onnxruntime allows far fewer): a larger rank in a file is a conflict. */
const MAX_RANK = 1024;
const INTEGER_TYPES: readonly number[] = [DataType.INT64, DataType.INT32];

/**
 * The values of the main graph that the file does not declare (or declares with less than
 * inference finds), by name: node outputs whose type inference can tell.
 */
export function inferShapes(model: ModelProto): Record<string, InferredValue> {
  const graph = model.graph ?? {};
  const opset = defaultOpset(model);
  const declared = declaredValues(graph);
  const known = new Map<string, ValueType>(declared);
  for (const tensor of graph.initializer ?? []) known.set(tensor.name ?? '', constantOf(tensor));
  const inferred: Record<string, InferredValue> = {};
  for (const node of graph.node ?? []) {
    const outputs = inferNode(node, opset, known);
    (node.output ?? []).forEach((name, i) => {
      const output = outputs[i];
      if (!name || !output) return;
      const before = declared.get(name);
      const merged = before ? mergeDeclared(before, output) : output;
      known.set(name, merged);
      if (merged.elemType && (!before || addsInformation(merged, before))) inferred[name] = { type: elementTypeName(merged.elemType), shape: merged.shape };
    });
  }
  return inferred;
}

function defaultOpset(model: ModelProto): number {
  const entry = (model.opsetImport ?? []).find((o) => !o.domain || o.domain === 'ai.onnx');
  return entry ? Number(entry.version ?? 0) : 0;
}

function declaredValues(graph: GraphProto): Map<string, ValueType> {
  const declared = new Map<string, ValueType>();
  for (const info of [...(graph.input ?? []), ...(graph.valueInfo ?? []), ...(graph.output ?? [])]) {
    const type = tensorTypeOf(info.type);
    if (info.name && type) declared.set(info.name, type);
  }
  return declared;
}

function tensorTypeOf(type: TypeProto | undefined): ValueType | undefined {
  const tensor = type?.tensorType;
  if (!tensor) return undefined;
  const shape = tensor.shape ? (tensor.shape.dim ?? []).map((d): Dim => (d.dimValue !== undefined ? Number(d.dimValue) : d.dimParam ? d.dimParam : null)) : null;
  return { elemType: tensor.elemType ?? 0, shape };
}

/**
 * Slice's "to the end" sentinels, int64's extremes (PyTorch writes -2^63 + 1 for a reversed
 * slice), as the largest safe integers: they clamp to a dim the same way.
 */
function saturated(v: number): number {
  return Math.abs(v) >= 2 ** 62 ? Math.sign(v) * Number.MAX_SAFE_INTEGER : v;
}

/** An initializer or Constant: its type and dims, and its elements when it is a small integer tensor. */
function constantOf(tensor: TensorProto): ValueType {
  const shape = tensorDims(tensor);
  const type: ValueType = { elemType: tensor.dataType ?? 0, shape };
  const count = shape.reduce((n, d) => n * d, 1);
  const integer = INTEGER_TYPES.includes(tensor.dataType ?? 0);
  if (integer && shape.length <= 1 && count <= MAX_FOLDED_ELEMENTS && !externalDataOf(tensor)) {
    try {
      type.value = Array.from(tensorToArray(tensor).data as ArrayLike<number | bigint>, (v) => saturated(Number(v)));
    } catch {
      // Elements that disagree with dims: the type and shape still hold.
    }
  }
  return type;
}

/** The declared type with what inference adds: a missing element type, shape or dims. */
function mergeDeclared(declared: ValueType, inferred: ValueType): ValueType {
  const elemType = declared.elemType || inferred.elemType;
  let shape = declared.shape ?? inferred.shape;
  if (declared.shape && inferred.shape && declared.shape.length === inferred.shape.length) {
    shape = declared.shape.map((d, i) => d ?? inferred.shape![i]!);
  }
  return { elemType, shape, ...(inferred.value ? { value: inferred.value } : {}) };
}

function addsInformation(merged: ValueType, declared: ValueType): boolean {
  if (!declared.elemType && merged.elemType) return true;
  if (!declared.shape) return merged.shape !== null;
  return declared.shape.some((d, i) => d === null && merged.shape![i] !== null);
}

// --- Dims -------------------------------------------------------------------------------

const isNumber = (d: Dim | undefined): d is number => typeof d === 'number';

/** onnx's product of dims: known values multiply, 1 keeps the other dim (even a symbol). */
function mulDim(a: Dim, b: Dim): Dim {
  if (isNumber(a) && isNumber(b)) return a * b;
  if (a === 1) return b;
  if (b === 1) return a;
  return null;
}

function addDim(a: Dim, b: Dim): Dim {
  if (isNumber(a) && isNumber(b)) return a + b;
  if (a === 0) return b;
  if (b === 0) return a;
  return null;
}

function product(dims: Dim[]): Dim {
  return dims.reduce<Dim>((n, d) => mulDim(n, d), 1);
}

/** Thrown by a rule whose inputs contradict it; the node's outputs stay unknown. */
class InferenceConflict extends Error {}

/** NumPy's (ONNX's multidirectional) broadcasting; a symbol against 1 stays, two different symbols are unknown. */
function broadcast(shapes: Dim[][]): Dim[] {
  const rank = Math.max(0, ...shapes.map((s) => s.length));
  const result: Dim[] = [];
  for (let i = 0; i < rank; i++) {
    let size = 1;
    const symbols: Dim[] = [];
    for (const shape of shapes) {
      const d = shape[i - rank + shape.length];
      if (d === undefined) continue;
      if (isNumber(d)) {
        if (d === 1) continue;
        if (size !== 1 && size !== d) throw new InferenceConflict(`dims ${size} and ${d} do not broadcast`);
        size = d;
      } else symbols.push(d);
    }
    if (size !== 1 || symbols.length === 0) result.push(size);
    else result.push(symbols.every((s) => s !== null && s === symbols[0]) ? symbols[0]! : null);
  }
  return result;
}

function normalizeAxis(axis: number, rank: number): number {
  const normalized = axis < 0 ? axis + rank : axis;
  if (normalized < 0 || normalized >= rank) throw new InferenceConflict(`axis ${axis} is out of range for rank ${rank}`);
  return normalized;
}

// --- Nodes ------------------------------------------------------------------------------

/** A node as a rule sees it: its inputs' types, its attributes, the model's opset. */
class NodeView {
  constructor(
    readonly node: NodeProto,
    readonly opset: number,
    private readonly known: Map<string, ValueType>,
  ) {}

  get inputCount(): number {
    return (this.node.input ?? []).length;
  }

  input(i: number): ValueType | undefined {
    const name = this.node.input?.[i];
    return name ? this.known.get(name) : undefined;
  }

  /** The input's shape; a rule that needs it gets nothing when it is unknown. */
  shape(i: number): Dim[] {
    const shape = this.input(i)?.shape;
    if (!shape) throw new UnknownInput();
    return shape;
  }

  elemType(i: number): number {
    return this.input(i)?.elemType ?? 0;
  }

  /** The input's elements, when every one is a known number. */
  ints(i: number): number[] | undefined {
    const value = this.input(i)?.value;
    return value?.every(isNumber) ? value : undefined;
  }

  private attribute(name: string): AttributeProto | undefined {
    return (this.node.attribute ?? []).find((a) => a.name === name);
  }

  int(name: string, fallback: number): number {
    const a = this.attribute(name);
    return a?.i !== undefined ? Number(a.i) : fallback;
  }

  intList(name: string): number[] | undefined {
    const a = this.attribute(name);
    return a && (a.type === AttributeType.INTS || a.ints?.length) ? (a.ints ?? []).map(Number) : undefined;
  }

  floatList(name: string): number[] | undefined {
    const a = this.attribute(name);
    return a && (a.type === AttributeType.FLOATS || a.floats?.length) ? (a.floats ?? []) : undefined;
  }

  string(name: string, fallback: string): string {
    const a = this.attribute(name);
    return a?.s ? new TextDecoder().decode(a.s) : fallback;
  }

  tensor(name: string): TensorProto | undefined {
    return this.attribute(name)?.t;
  }

  has(name: string): boolean {
    return this.attribute(name) !== undefined;
  }

  /** Axes given as an attribute before `inputSince`, as input `index` from then on. */
  axes(inputSince: number, index: number): number[] | undefined {
    if (this.opset >= inputSince) return this.node.input?.[index] ? this.ints(index) : [];
    return this.intList('axes') ?? [];
  }
}

/** An input whose shape is unknown: the rule cannot say anything. */
class UnknownInput extends Error {}

type Rule = (node: NodeView) => (ValueType | undefined)[];

function inferNode(node: NodeProto, opset: number, known: Map<string, ValueType>): (ValueType | undefined)[] {
  if (node.domain && node.domain !== 'ai.onnx') return [];
  const rule = RULES[node.opType ?? ''];
  if (!rule) return [];
  try {
    return rule(new NodeView(node, opset, known)).map((output) => (output && isPlausible(output) ? output : undefined));
  } catch (error) {
    if (error instanceof UnknownInput || error instanceof InferenceConflict) return [];
    throw error;
  }
}

/**
 * A rule's output is kept only when every dim is a size (an integer >= 0), a symbol or
 * unknown: attributes that disagree with the input's rank (a corrupt file) leave holes and
 * NaNs in what a rule computes, and those are no shape.
 */
function isPlausible(output: ValueType): boolean {
  const isDim = (d: Dim | undefined) => d === null || typeof d === 'string' || (Number.isSafeInteger(d) && d! >= 0);
  return (output.shape === null || output.shape.every(isDim)) && (output.value === undefined || output.value.every((d) => d === null || typeof d === 'string' || Number.isSafeInteger(d)));
}

/** `rank` unknown dims, for a rank read from the file; a rank no tensor can have is a conflict, not an allocation. */
function unknownDims(rank: number): null[] {
  if (!Number.isSafeInteger(rank) || rank < 0 || rank > MAX_RANK) throw new InferenceConflict(`rank ${rank}`);
  return Array.from({ length: rank }, () => null);
}

const tensorOf = (elemType: number, shape: Dim[] | null, value?: Dim[]): ValueType => (value ? { elemType, shape, value } : { elemType, shape });

/** Output 0 has input 0's type and shape (activations, normalizations, Identity, ...). */
const sameAsInput: Rule = (n) => {
  const x = n.input(0);
  return x ? [tensorOf(x.elemType, x.shape, x.value)] : [];
};

/** Elementwise over all inputs with broadcasting; the type is input 0's, or `elemType`. */
function elementwise(elemType?: number): Rule {
  return (n) => {
    const shapes = Array.from({ length: n.inputCount }, (_, i) => n.shape(i));
    return [tensorOf(elemType ?? n.elemType(0), broadcast(shapes), foldArithmetic(n))];
  };
}

/** onnx's data propagation through Add, Sub and Mul of small integer tensors. */
function foldArithmetic(n: NodeView): Dim[] | undefined {
  const op = n.node.opType;
  const [a, b] = [n.input(0)?.value, n.input(1)?.value];
  if (!a || !b || (op !== 'Add' && op !== 'Sub' && op !== 'Mul')) return undefined;
  if (a.length !== b.length && a.length !== 1 && b.length !== 1) return undefined;
  const length = Math.max(a.length, b.length);
  return Array.from({ length }, (_, i) => {
    const [x, y] = [a[a.length === 1 ? 0 : i]!, b[b.length === 1 ? 0 : i]!];
    if (op === 'Mul') return mulDim(x, y);
    if (op === 'Add') return addDim(x, y);
    return isNumber(x) && isNumber(y) ? x - y : y === 0 ? x : null;
  });
}

/** Output spatial size of a convolution or pooling window along one axis. */
function windowOutput(size: Dim, kernel: number, stride: number, dilation: number, padBegin: number, padEnd: number, autoPad: string, ceilMode: boolean): Dim {
  if (!isNumber(size)) return null;
  if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') return Math.ceil(size / stride);
  const span = (kernel - 1) * dilation + 1;
  const padded = autoPad === 'VALID' ? size : size + padBegin + padEnd;
  if (padded < span) throw new InferenceConflict(`window ${span} is larger than the input ${padded}`);
  const round = ceilMode ? Math.ceil : Math.floor;
  return round((padded - span) / stride) + 1;
}

/** Conv and the pools: [N, channels, spatial...]. */
function windowed(n: NodeView, channels: Dim, kernel: number[], ceilMode: boolean): Dim[] {
  const x = n.shape(0);
  const spatial = x.length - 2;
  if (spatial < 1 || kernel.length !== spatial) throw new InferenceConflict('kernel rank does not match the input');
  const strides = n.intList('strides') ?? kernel.map(() => 1);
  const dilations = n.intList('dilations') ?? kernel.map(() => 1);
  const pads = n.intList('pads') ?? kernel.flatMap(() => [0, 0]);
  const autoPad = n.string('auto_pad', 'NOTSET');
  const dims = kernel.map((k, i) => windowOutput(x[i + 2]!, k, strides[i]!, dilations[i]!, pads[i]!, pads[i + spatial]!, autoPad, ceilMode));
  return [x[0]!, channels, ...dims];
}

const conv: Rule = (n) => {
  const w = n.shape(1);
  const kernel = n.intList('kernel_shape') ?? (w.slice(2).every(isNumber) ? (w.slice(2) as number[]) : undefined);
  if (!kernel) return [tensorOf(n.elemType(0), null)];
  return [tensorOf(n.elemType(0), windowed(n, w[0]!, kernel, false))];
};

const convTranspose: Rule = (n) => {
  const [x, w] = [n.shape(0), n.shape(1)];
  const spatial = x.length - 2;
  const kernel = n.intList('kernel_shape') ?? (w.slice(2) as number[]);
  const channels = mulDim(w[1]!, n.int('group', 1));
  const explicit = n.intList('output_shape');
  if (explicit) return [tensorOf(n.elemType(0), [x[0]!, channels, ...explicit.slice(-spatial)])];
  const strides = n.intList('strides') ?? kernel.map(() => 1);
  const dilations = n.intList('dilations') ?? kernel.map(() => 1);
  const pads = n.intList('pads') ?? kernel.flatMap(() => [0, 0]);
  const outputPadding = n.intList('output_padding') ?? kernel.map(() => 0);
  const autoPad = n.string('auto_pad', 'NOTSET');
  const dims = kernel.map((k, i): Dim => {
    const size = x[i + 2];
    if (!isNumber(size) || !isNumber(k)) return null;
    if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') return size * strides[i]!;
    return strides[i]! * (size - 1) + outputPadding[i]! + (k - 1) * dilations[i]! + 1 - pads[i]! - pads[i + spatial]!;
  });
  return [tensorOf(n.elemType(0), [x[0]!, channels, ...dims])];
};

const pool: Rule = (n) => {
  const x = n.shape(0);
  const kernel = n.intList('kernel_shape');
  if (!kernel) return [];
  const shape = windowed(n, x[1]!, kernel, n.int('ceil_mode', 0) === 1);
  return [tensorOf(n.elemType(0), shape), tensorOf(DataType.INT64, shape)];
};

const globalPool: Rule = (n) => {
  const x = n.shape(0);
  return [tensorOf(n.elemType(0), [x[0]!, x[1]!, ...x.slice(2).map(() => 1)])];
};

const gemm: Rule = (n) => {
  const [a, b] = [n.shape(0), n.shape(1)];
  if (a.length !== 2 || b.length !== 2) throw new InferenceConflict('Gemm takes matrices');
  const m = n.int('transA', 0) ? a[1]! : a[0]!;
  const cols = n.int('transB', 0) ? b[0]! : b[1]!;
  return [tensorOf(n.elemType(0), [m, cols])];
};

/** numpy.matmul: vectors are promoted to matrices and the added dim removed again; batch dims broadcast. */
const matmul: Rule = (n) => {
  const [a, b] = [n.shape(0), n.shape(1)];
  if (a.length === 0 || b.length === 0) throw new InferenceConflict('MatMul takes no scalars');
  const left = a.length === 1 ? [1, a[0]!] : a;
  const right = b.length === 1 ? [b[0]!, 1] : b;
  const shape = [...broadcast([left.slice(0, -2), right.slice(0, -2)])];
  if (a.length > 1) shape.push(left[left.length - 2]!);
  if (b.length > 1) shape.push(right[right.length - 1]!);
  return [tensorOf(n.elemType(0), shape)];
};

const flatten: Rule = (n) => {
  const x = n.shape(0);
  const axis = n.int('axis', 1);
  const split = axis < 0 ? axis + x.length : axis;
  return [tensorOf(n.elemType(0), [product(x.slice(0, split)), product(x.slice(split))])];
};

const concat: Rule = (n) => {
  const shapes = Array.from({ length: n.inputCount }, (_, i) => n.shape(i));
  if (shapes.length === 0) throw new InferenceConflict('Concat of no inputs');
  const rank = shapes[0]!.length;
  const axis = normalizeAxis(n.int('axis', 0), rank);
  const shape = shapes[0]!.map((_, i) => (i === axis ? shapes.reduce<Dim>((sum, s) => addDim(sum, s[i]!), 0) : shapes.map((s) => s[i]!).find((d) => d !== null) ?? null));
  const values = Array.from({ length: n.inputCount }, (_, i) => n.input(i)?.value);
  const value = rank === 1 && values.every((v) => v !== undefined) ? values.flat() : undefined;
  return [tensorOf(n.elemType(0), shape, value as Dim[] | undefined)];
};

const reshape: Rule = (n) => {
  const x = n.input(0);
  const target = n.input(1)?.value;
  if (!target) {
    const rank = n.input(1)?.shape?.[0];
    return [tensorOf(n.elemType(0), isNumber(rank) ? unknownDims(rank) : null)];
  }
  const allowZero = n.int('allowzero', 0) === 1;
  const shape = target.map((d, i): Dim => (d === 0 && !allowZero ? (x?.shape?.[i] ?? null) : d === -1 ? null : d));
  const unknown = target.indexOf(-1);
  if (unknown >= 0 && x?.shape) shape[unknown] = remainingDim(x.shape, shape.filter((_, i) => i !== unknown));
  return [tensorOf(n.elemType(0), shape, x?.value)];
};

/** Reshape's -1: the input's size over the other output dims; a symbol must appear on both sides and cancels. */
function remainingDim(input: Dim[], others: Dim[]): Dim {
  if (input.includes(null) || others.includes(null)) return null;
  const unmatched = others.filter((d): d is string => typeof d === 'string');
  let total = 1;
  for (const d of input) {
    if (isNumber(d)) total *= d;
    else if (d !== null && unmatched.includes(d)) unmatched.splice(unmatched.indexOf(d), 1);
    else return null;
  }
  if (unmatched.length > 0) return null;
  const rest = others.filter(isNumber).reduce((n, d) => n * d, 1);
  return rest !== 0 && total % rest === 0 ? total / rest : null;
}

const transpose: Rule = (n) => {
  const x = n.shape(0);
  const perm = n.intList('perm') ?? x.map((_, i) => x.length - 1 - i);
  const shape = perm.map((p) => x[p] ?? null);
  const value = rearranged(n.input(0)?.value, x, shape, (at) => {
    const source = x.map(() => 0);
    perm.forEach((p, k) => (source[p] = at[k]!));
    return source;
  });
  return [tensorOf(n.elemType(0), shape, value)];
};

const squeeze: Rule = (n) => {
  const x = n.shape(0);
  const axes = n.axes(13, 1);
  if (!axes) return [tensorOf(n.elemType(0), null)];
  const drop = new Set(axes.length ? axes.map((a) => normalizeAxis(a, x.length)) : x.flatMap((d, i) => (d === 1 ? [i] : [])));
  return [tensorOf(n.elemType(0), x.filter((_, i) => !drop.has(i)), n.input(0)?.value)];
};

const unsqueeze: Rule = (n) => {
  const x = n.shape(0);
  const axes = n.axes(13, 1);
  if (!axes) return [tensorOf(n.elemType(0), null)];
  const rank = x.length + axes.length;
  const added = new Set(axes.map((a) => normalizeAxis(a, rank)));
  const rest = [...x];
  const shape = Array.from({ length: rank }, (_, i) => (added.has(i) ? 1 : rest.shift()!));
  return [tensorOf(n.elemType(0), shape, n.input(0)?.value)];
};

const shapeOf: Rule = (n) => {
  const x = n.shape(0);
  const clamp = (i: number) => Math.min(Math.max(i < 0 ? i + x.length : i, 0), x.length);
  // start and end came with opset 15.
  const [start, end] = n.opset >= 15 ? [n.int('start', 0), n.int('end', x.length)] : [0, x.length];
  const dims = x.slice(clamp(start), clamp(end));
  return [tensorOf(DataType.INT64, [dims.length], dims)];
};

const size: Rule = (n) => {
  const total = product(n.shape(0));
  return [tensorOf(DataType.INT64, [], total === null ? undefined : [total])];
};

const gather: Rule = (n) => {
  const [data, indices] = [n.shape(0), n.shape(1)];
  const axis = normalizeAxis(n.int('axis', 0), data.length);
  const shape = [...data.slice(0, axis), ...indices, ...data.slice(axis + 1)];
  const [values, picks] = [n.input(0)?.value, n.ints(1)];
  const value = values && picks && data.length === 1 ? picks.map((i) => values[i < 0 ? i + values.length : i] ?? null) : undefined;
  return [tensorOf(n.elemType(0), shape, value)];
};

const constant: Rule = (n) => {
  const tensor = n.tensor('value');
  if (tensor) return [constantOf(tensor)];
  if (n.has('value_float')) return [tensorOf(DataType.FLOAT, [])];
  const floats = n.floatList('value_floats');
  if (floats) return [tensorOf(DataType.FLOAT, [floats.length])];
  if (n.has('value_int')) return [tensorOf(DataType.INT64, [], [n.int('value_int', 0)])];
  const ints = n.intList('value_ints');
  if (ints) return [tensorOf(DataType.INT64, [ints.length], ints)];
  return [];
};

const constantOfShape: Rule = (n) => {
  const value = n.tensor('value');
  const elemType = value?.dataType ?? DataType.FLOAT;
  const dims = n.input(0)?.value;
  if (dims) {
    // A small integer fill is a value later shape computations read (PyTorch's F.pad pads start as one).
    const fill = value ? constantOf(value).value : undefined;
    const count = dims.every(isNumber) ? dims.reduce((a, d) => a * d, 1) : Infinity;
    return [tensorOf(elemType, dims, fill?.length === 1 && count <= MAX_FOLDED_ELEMENTS ? new Array<Dim>(count).fill(fill[0]!) : undefined)];
  }
  const rank = n.input(0)?.shape?.[0];
  return [tensorOf(elemType, isNumber(rank) ? unknownDims(rank) : null)];
};

/** The elements Slice keeps along one axis of `size`: onnx's clamping rules. */
function sliceCount(size: number, start: number, end: number, step: number): number {
  if (step === 0) throw new InferenceConflict('Slice step 0');
  const from = start < 0 ? start + size : start;
  const to = end < 0 ? end + size : end;
  const [first, last] = step > 0 ? [clampTo(from, 0, size), clampTo(to, 0, size)] : [clampTo(from, 0, size - 1), clampTo(to, -1, size - 1)];
  return Math.max(0, Math.ceil((last - first) / step));
}

function clampTo(value: number, low: number, high: number): number {
  return Math.min(Math.max(value, low), high);
}

const slice: Rule = (n) => {
  const x = n.shape(0);
  const fromInputs = n.opset >= 10;
  const starts = fromInputs ? n.ints(1) : n.intList('starts');
  const ends = fromInputs ? n.ints(2) : n.intList('ends');
  const axes = (fromInputs ? (n.node.input?.[3] ? n.ints(3) : undefined) : n.intList('axes')) ?? starts?.map((_, i) => i);
  const steps = (fromInputs && n.node.input?.[4] ? n.ints(4) : undefined) ?? starts?.map(() => 1);
  if (!starts || !ends || !axes || !steps) return [tensorOf(n.elemType(0), x.map(() => null))];
  const shape = [...x];
  axes.forEach((a, i) => {
    const axis = normalizeAxis(a, x.length);
    const dim = x[axis]!;
    shape[axis] = isNumber(dim) ? sliceCount(dim, starts[i]!, ends[i]!, steps[i]!) : null;
  });
  // The elements too, when they are known: index k along a sliced axis reads first + k * step.
  const first = x.map(() => 0);
  const stride = x.map(() => 1);
  axes.forEach((a, i) => {
    const axis = normalizeAxis(a, x.length);
    const dim = x[axis];
    if (!isNumber(dim)) return;
    const from = starts[i]! < 0 ? starts[i]! + dim : starts[i]!;
    first[axis] = steps[i]! > 0 ? clampTo(from, 0, dim) : clampTo(from, 0, dim - 1);
    stride[axis] = steps[i]!;
  });
  const value = rearranged(n.input(0)?.value, x, shape, (at) => at.map((k, axis) => first[axis]! + k * stride[axis]!));
  return [tensorOf(n.elemType(0), shape, value)];
};

/**
 * Known elements moved into a new shape: out[at] = values[source(at)], coordinates in row-major
 * order; undefined unless both shapes are known numbers.
 */
function rearranged(values: Dim[] | undefined, inShape: Dim[], outShape: Dim[], source: (at: number[]) => number[]): Dim[] | undefined {
  if (!values || !inShape.every(isNumber) || !outShape.every(isNumber)) return undefined;
  const count = outShape.reduce((a, d) => a * d, 1);
  if (values.length !== inShape.reduce((a, d) => a * d, 1) || count > MAX_FOLDED_ELEMENTS) return undefined;
  return Array.from({ length: count }, (_, flat) => {
    const at = outShape.map(() => 0);
    for (let axis = outShape.length - 1, rest = flat; axis >= 0; axis--) {
      at[axis] = rest % outShape[axis]!;
      rest = Math.floor(rest / outShape[axis]!);
    }
    return values[source(at).reduce((offset, c, axis) => offset * inShape[axis]! + c, 0)]!;
  });
}

const split: Rule = (n) => {
  const x = n.shape(0);
  const axis = normalizeAxis(n.int('axis', 0), x.length);
  const outputs = (n.node.output ?? []).length;
  const sizes = n.opset >= 13 ? (n.node.input?.[1] ? n.ints(1) : undefined) : n.intList('split');
  const dim = x[axis]!;
  const parts: Dim[] = sizes ?? Array.from({ length: outputs }, (_, i) => (isNumber(dim) ? (n.has('num_outputs') ? evenSplit(dim, outputs, i) : dim / outputs) : null));
  return parts.map((part) => tensorOf(n.elemType(0), x.map((d, i) => (i === axis ? (isNumber(part) && Number.isInteger(part) ? part : null) : d))));
};

/** Split with num_outputs (opset 18): all but the last part are ceil(dim / n). */
function evenSplit(dim: number, parts: number, index: number): number {
  const chunk = Math.ceil(dim / parts);
  return index < parts - 1 ? chunk : dim - chunk * (parts - 1);
}

const pad: Rule = (n) => {
  const x = n.shape(0);
  const pads = n.opset >= 11 ? n.ints(1) : n.intList('pads');
  if (!pads) return [tensorOf(n.elemType(0), x.map(() => null))];
  const axes = n.opset >= 18 && n.node.input?.[3] ? n.ints(3) : x.map((_, i) => i);
  if (!axes) return [tensorOf(n.elemType(0), x.map(() => null))];
  const shape = [...x];
  axes.forEach((a, i) => {
    const axis = normalizeAxis(a, x.length);
    shape[axis] = addDim(addDim(x[axis]!, pads[i]!), pads[i + axes.length]!);
  });
  return [tensorOf(n.elemType(0), shape)];
};

/** ReduceSum takes its axes as an input from opset 13, the other reductions from opset 18. */
function reduce(axesInputSince: number): Rule {
  return (n) => {
    const x = n.shape(0);
    const axes = n.axes(axesInputSince, 1);
    if (!axes) return [tensorOf(n.elemType(0), null)];
    const keep = n.int('keepdims', 1) === 1;
    if (axes.length === 0 && n.int('noop_with_empty_axes', 0) === 1) return [tensorOf(n.elemType(0), x)];
    const reduced = new Set(axes.length ? axes.map((a) => normalizeAxis(a, x.length)) : x.map((_, i) => i));
    const shape = x.flatMap((d, i) => (!reduced.has(i) ? [d] : keep ? [1] : []));
    return [tensorOf(n.elemType(0), shape)];
  };
}

const argReduce: Rule = (n) => {
  const x = n.shape(0);
  const axis = normalizeAxis(n.int('axis', 0), x.length);
  const keep = n.int('keepdims', 1) === 1;
  return [tensorOf(DataType.INT64, x.flatMap((d, i) => (i !== axis ? [d] : keep ? [1] : [])))];
};

const batchNormalization: Rule = (n) => {
  const x = n.input(0);
  if (!x) return [];
  const channels = tensorOf(x.elemType, x.shape ? [x.shape[1] ?? null] : null);
  return [tensorOf(x.elemType, x.shape), channels, channels, channels, channels];
};

const layerNormalization: Rule = (n) => {
  const x = n.shape(0);
  const axis = normalizeAxis(n.int('axis', -1), x.length);
  const stats = tensorOf(n.int('stash_type', DataType.FLOAT), x.map((d, i) => (i < axis ? d : 1)));
  return [tensorOf(n.elemType(0), x), stats, stats];
};

const dropout: Rule = (n) => {
  const x = n.input(0);
  return x ? [tensorOf(x.elemType, x.shape), tensorOf(DataType.BOOL, x.shape)] : [];
};

const cast: Rule = (n) => {
  const x = n.input(0);
  const value = x?.value && INTEGER_TYPES.includes(n.int('to', 0)) ? x.value : undefined;
  return [tensorOf(n.int('to', 0), x?.shape ?? null, value)];
};

const castLike: Rule = (n) => [tensorOf(n.elemType(1), n.input(0)?.shape ?? null)];

const where: Rule = (n) => [tensorOf(n.elemType(1), broadcast([n.shape(0), n.shape(1), n.shape(2)]))];

const expand: Rule = (n) => {
  const target = n.input(1)?.value;
  return [tensorOf(n.elemType(0), target ? broadcast([n.shape(0), target]) : null)];
};

const tile: Rule = (n) => {
  const x = n.shape(0);
  const repeats = n.ints(1);
  return [tensorOf(n.elemType(0), repeats ? x.map((d, i) => mulDim(d, repeats[i]!)) : x.map(() => null))];
};

const topK: Rule = (n) => {
  const x = n.shape(0);
  const axis = normalizeAxis(n.int('axis', -1), x.length);
  const k = n.opset >= 10 ? n.ints(1)?.[0] : n.int('k', -1);
  const shape = x.map((d, i) => (i === axis ? (k !== undefined && k >= 0 ? k : null) : d));
  return [tensorOf(n.elemType(0), shape), tensorOf(DataType.INT64, shape)];
};

/**
 * LSTM, GRU and RNN: Y (seq, directions, batch, hidden), Y_h and Y_c (directions, batch,
 * hidden); with layout 1 batch first: (batch, seq, directions, hidden), (batch, directions, hidden).
 */
const recurrent: Rule = (n) => {
  const x = n.shape(0);
  if (x.length !== 3) throw new InferenceConflict('recurrent ops take (seq, batch, features)');
  const w = n.shape(1);
  const directions = n.string('direction', 'forward') === 'bidirectional' ? 2 : 1;
  // without hidden_size: W is (directions, gates * hidden, features)
  const gates = { LSTM: 4, GRU: 3 }[n.node.opType ?? ''] ?? 1;
  const hidden: Dim = n.has('hidden_size') ? n.int('hidden_size', 0) : isNumber(w[1]) ? w[1] / gates : null;
  const batchFirst = n.int('layout', 0) === 1;
  const [seq, batch] = batchFirst ? [x[1]!, x[0]!] : [x[0]!, x[1]!];
  const y = batchFirst ? [batch, seq, directions, hidden] : [seq, directions, batch, hidden];
  const state = batchFirst ? [batch, directions, hidden] : [directions, batch, hidden];
  const outputs = (n.node.output ?? []).length;
  return Array.from({ length: outputs }, (_, i) => tensorOf(n.elemType(0), i === 0 ? y : [...state]));
};

const resize: Rule = (n) => {
  const x = n.shape(0);
  const sizes = n.ints(3);
  if (sizes?.length === x.length) return [tensorOf(n.elemType(0), sizes)];
  // Scales are floats, which inference does not fold: the rank is all it can tell.
  return [tensorOf(n.elemType(0), x.map(() => null))];
};

const nonZero: Rule = (n) => [tensorOf(DataType.INT64, [n.shape(0).length, null])];

const gatherElements: Rule = (n) => [tensorOf(n.elemType(0), n.shape(1))];

const UNARY = [
  'Abs', 'Acos', 'Acosh', 'Asin', 'Asinh', 'Atan', 'Atanh', 'Ceil', 'Celu', 'Clip', 'Cos', 'Cosh', 'CumSum', 'Elu', 'Erf', 'Exp',
  'Floor', 'Gelu', 'Hardmax', 'HardSigmoid', 'HardSwish', 'Identity', 'InstanceNormalization', 'LeakyRelu', 'Log', 'LogSoftmax',
  'LpNormalization', 'LRN', 'MeanVarianceNormalization', 'Mish', 'Neg', 'PRelu', 'Reciprocal', 'Relu', 'Round', 'Selu',
  'Shrink', 'Sigmoid', 'Sign', 'Sin', 'Sinh', 'Softmax', 'Softplus', 'Softsign', 'Sqrt', 'Tan', 'Tanh', 'ThresholdedRelu', 'Trilu',
];
const ARITHMETIC = ['Add', 'Sub', 'Mul', 'Div', 'Pow', 'Mod', 'Max', 'Min', 'Sum', 'Mean', 'BitShift', 'BitwiseAnd', 'BitwiseOr', 'BitwiseXor'];
const PREDICATES = ['Equal', 'Less', 'LessOrEqual', 'Greater', 'GreaterOrEqual', 'And', 'Or', 'Xor'];
const REDUCTIONS = ['ReduceMean', 'ReduceMax', 'ReduceMin', 'ReduceProd', 'ReduceL1', 'ReduceL2', 'ReduceLogSum', 'ReduceLogSumExp', 'ReduceSumSquare'];

/** One rule per operator of the default domain. */
const RULES: Record<string, Rule> = {
  ...Object.fromEntries(UNARY.map((op) => [op, sameAsInput])),
  ...Object.fromEntries(ARITHMETIC.map((op) => [op, elementwise()])),
  ...Object.fromEntries(PREDICATES.map((op) => [op, elementwise(DataType.BOOL)])),
  ...Object.fromEntries(REDUCTIONS.map((op) => [op, reduce(18)])),
  Not: (n) => [tensorOf(DataType.BOOL, n.input(0)?.shape ?? null)],
  IsNaN: (n) => [tensorOf(DataType.BOOL, n.input(0)?.shape ?? null)],
  IsInf: (n) => [tensorOf(DataType.BOOL, n.input(0)?.shape ?? null)],
  ReduceSum: reduce(13),
  ArgMax: argReduce,
  ArgMin: argReduce,
  Conv: conv,
  ConvTranspose: convTranspose,
  MaxPool: pool,
  AveragePool: pool,
  LpPool: pool,
  GlobalAveragePool: globalPool,
  GlobalMaxPool: globalPool,
  GlobalLpPool: globalPool,
  BatchNormalization: batchNormalization,
  LayerNormalization: layerNormalization,
  Dropout: dropout,
  Gemm: gemm,
  MatMul: matmul,
  Flatten: flatten,
  Concat: concat,
  Reshape: reshape,
  Transpose: transpose,
  Squeeze: squeeze,
  Unsqueeze: unsqueeze,
  Shape: shapeOf,
  Size: size,
  Gather: gather,
  GatherElements: gatherElements,
  Constant: constant,
  ConstantOfShape: constantOfShape,
  Slice: slice,
  Split: split,
  Pad: pad,
  Cast: cast,
  CastLike: castLike,
  Where: where,
  Expand: expand,
  Tile: tile,
  TopK: topK,
  Resize: resize,
  LSTM: recurrent,
  GRU: recurrent,
  RNN: recurrent,
  NonZero: nonZero,
};
