// Reads any ONNX model file into a plain, JSON-serializable description: what `strata inspect`
// prints and what the graph view can show. Nothing is interpreted beyond the schema: operators
// that ONNX does not define (custom domains, newer opsets) are listed like any other.
//
// Bytes that are not a model fail with an OnnxFormatError naming the file and the fault: an
// empty file, another format's magic, protobuf that does not decode (truncated or random
// bytes), or protobuf that decodes but is not a model (no ir_version, no graph, ...).
import path from 'node:path';
import { OnnxFormatError } from './errors.ts';
import { AttributeType, type AttributeProto, type GraphProto, type ModelProto, type NodeProto, type SparseTensorProto, type TensorProto, type TypeProto, type ValueInfoProto, decodeModel } from './schema.ts';
import { elementTypeName, externalDataOf, int64ToJSON, tensorByteSize, tensorDims, tensorProblem, tensorToArray } from './tensor.ts';
import { locateInFolder, readFileOrThrow } from '../io/read_file.ts';
import type { AttributeDescription, ExternalDataReference, FunctionDescription, GraphDescription, JSONValue, ModelDescription, NodeDescription, OperatorUse, TensorSummary, ValueDescription } from './description.ts';

export type * from './description.ts';

const STANDARD_DOMAINS = new Set(['', 'ai.onnx', 'ai.onnx.ml', 'ai.onnx.training', 'ai.onnx.preview.training']);
const PREVIEW_VALUES = 8;

/** Reads and validates an ONNX file; the ModelProto and the file's size. */
export function readOnnxModel(file: string): { model: ModelProto; bytes: Uint8Array } {
  const bytes = readFileOrThrow(file, OnnxFormatError);
  return { model: parseOnnxModel(bytes, file), bytes };
}

/** Decodes and validates ModelProto bytes; `source` names them in errors. */
export function parseOnnxModel(bytes: Uint8Array, source = '<onnx>'): ModelProto {
  const fail = (what: string): never => {
    throw new OnnxFormatError(`${source}: ${what}`);
  };
  if (bytes.length === 0) fail('the file is empty, not an ONNX model');
  const other = sniffOtherFormat(bytes);
  if (other) fail(`not an ONNX model: this is ${other}`);
  let model: ModelProto;
  try {
    model = decodeModel(bytes);
  } catch (error) {
    fail(`not an ONNX model, or a truncated or corrupt one: protobuf decoding failed (${oneLine((error as Error).message)})`);
  }
  checkModel(model!, fail);
  return model!;
}

/** Reads an ONNX file into its description. */
export function inspectOnnxFile(file: string): ModelDescription {
  const { model, bytes } = readOnnxModel(file);
  return describeModel(model, { file, fileBytes: bytes.length });
}

/** Magic numbers of formats users mistake for ONNX files, for a clearer message. */
function sniffOtherFormat(bytes: Uint8Array): string | undefined {
  const ascii = (start: number, end: number) => String.fromCharCode(...bytes.subarray(start, end));
  if (bytes[0] === 0x93 && ascii(1, 6) === 'NUMPY') return 'a NumPy .npy array';
  if (ascii(0, 4) === 'PK\x03\x04') return 'a zip archive (.npz, .keras or a PyTorch checkpoint?)';
  if (ascii(0, 8) === '\x89HDF\r\n\x1a\n') return 'an HDF5 file (a Keras .h5 model?)';
  if (ascii(0, 8) === '\x89PNG\r\n\x1a\n') return 'a PNG image';
  // Flatbuffers carry their identifier at offset 4; an ONNX file starts with ir_version's tag 0x08.
  if (bytes[0] !== 0x08 && ascii(4, 8) === 'ORTM') return 'an ONNX Runtime .ort model (flatbuffers), not an .onnx protobuf';
  if (bytes[0] !== 0x08 && ascii(4, 8) === 'TFL3') return 'a TensorFlow Lite model';
  if (bytes[0] === 0x80 && bytes[1]! >= 2 && bytes[1]! <= 5) return 'a Python pickle';
  const firstChar = ascii(0, Math.min(bytes.length, 64)).trimStart()[0];
  if (firstChar === '{' || firstChar === '[') return 'a JSON file (a Keras or TensorFlow.js model.json?)';
  return undefined;
}

/** Protobuf accepts many byte strings; a model must at least have these. */
function checkModel(model: ModelProto, fail: (what: string) => never): void {
  const ir = model.irVersion === undefined ? 0 : Number(model.irVersion);
  if (ir <= 0) fail('not an ONNX model: it has no ir_version (truncated or not a model?)');
  if (ir > 1000) fail(`not an ONNX model: ir_version ${int64ToJSON(model.irVersion!)} is not a plausible IR version`);
  if (!model.graph) fail('not an ONNX model, or a truncated one: it has no graph');
  if (ir >= 3 && (model.opsetImport ?? []).length === 0) fail(`not an ONNX model, or a truncated one: IR version ${ir} requires opset_import, there is none`);
  const missingOp = (model.graph!.node ?? []).findIndex((node) => !node.opType);
  if (missingOp >= 0) fail(`corrupt ONNX model: node #${missingOp} has no op_type`);
}

export interface DescribeOptions {
  /** The file the model was read from: external data is looked for beside it. */
  file?: string | null;
  fileBytes?: number;
}

export function describeModel(model: ModelProto, options: DescribeOptions = {}): ModelDescription {
  const file = options.file ?? null;
  const externalData: ExternalDataReference[] = [];
  const context: DescribeContext = { baseDir: file ? path.dirname(file) : null, externalData };
  const functions = (model.functions ?? []).map((fn) => ({
    domain: fn.domain ?? '',
    name: fn.name ?? '',
    inputs: fn.input ?? [],
    outputs: fn.output ?? [],
    attributes: fn.attribute ?? [],
    opsetImports: (fn.opsetImport ?? []).map((o) => ({ domain: o.domain ?? '', version: int64ToJSON(o.version ?? 0) })),
    nodes: (fn.node ?? []).map((node) => describeNode(node, context)),
  }));
  const graph = describeGraph(model.graph ?? {}, context);
  return {
    file,
    fileBytes: options.fileBytes ?? 0,
    irVersion: int64ToJSON(model.irVersion ?? 0),
    producer: { name: model.producerName ?? '', version: model.producerVersion ?? '' },
    domain: model.domain ?? '',
    modelVersion: model.modelVersion === undefined ? null : int64ToJSON(model.modelVersion),
    docString: model.docString ?? '',
    opsetImports: (model.opsetImport ?? []).map((o) => ({ domain: o.domain ?? '', version: int64ToJSON(o.version ?? 0) })),
    graph,
    functions,
    metadata: (model.metadataProps ?? []).map((entry) => ({ key: entry.key ?? '', value: entry.value ?? '' })),
    externalData,
    operators: countOperators(graph, functions),
  };
}

interface DescribeContext {
  baseDir: string | null;
  externalData: ExternalDataReference[];
}

function describeGraph(graph: GraphProto, context: DescribeContext): GraphDescription {
  const initializerNames = new Set((graph.initializer ?? []).map((t) => t.name ?? ''));
  const description: GraphDescription = {
    name: graph.name ?? '',
    inputs: (graph.input ?? []).filter((v) => !initializerNames.has(v.name ?? '')).map(describeValue),
    outputs: (graph.output ?? []).map(describeValue),
    nodes: (graph.node ?? []).map((node) => describeNode(node, context)),
    initializers: (graph.initializer ?? []).map((t) => summarizeTensor(t, context, false)),
    sparseInitializers: (graph.sparseInitializer ?? []).map((t) => summarizeSparseTensor(t, context)),
    valueInfo: (graph.valueInfo ?? []).map(describeValue),
  };
  if (graph.docString) description.docString = graph.docString;
  return description;
}

function describeValue(value: ValueInfoProto): ValueDescription {
  const description: ValueDescription = { name: value.name ?? '', type: typeName(value.type), shape: null };
  const tensor = value.type?.tensorType ?? value.type?.sparseTensorType;
  if (tensor?.shape) {
    description.shape = (tensor.shape.dim ?? []).map((d) => (d.dimValue !== undefined ? int64ToJSON(d.dimValue) : d.dimParam ? d.dimParam : null));
  }
  if (value.docString) description.docString = value.docString;
  return description;
}

function typeName(type: TypeProto | undefined): string {
  if (!type) return 'unknown';
  if (type.tensorType) return elementTypeName(type.tensorType.elemType);
  if (type.sparseTensorType) return `sparse_tensor<${elementTypeName(type.sparseTensorType.elemType)}>`;
  if (type.sequenceType) return `sequence<${typeName(type.sequenceType.elemType)}>`;
  if (type.mapType) return `map<${elementTypeName(type.mapType.keyType)},${typeName(type.mapType.valueType)}>`;
  if (type.optionalType) return `optional<${typeName(type.optionalType.elemType)}>`;
  return 'unknown';
}

function describeNode(node: NodeProto, context: DescribeContext): NodeDescription {
  const description: NodeDescription = {
    name: node.name ?? '',
    opType: node.opType ?? '',
    domain: node.domain ?? '',
    inputs: node.input ?? [],
    outputs: node.output ?? [],
    attributes: (node.attribute ?? []).map((a) => describeAttribute(a, context)),
  };
  if (node.docString) description.docString = node.docString;
  return description;
}

const ATTRIBUTE_TYPE_NAMES = Object.fromEntries(Object.entries(AttributeType).map(([name, n]) => [n, name])) as Record<number, string>;

/** The attribute's type; files from before IR 3 may leave it out, then the field set tells. */
function attributeType(attribute: AttributeProto): number {
  if (attribute.type) return attribute.type;
  if (attribute.f !== undefined) return AttributeType.FLOAT;
  if (attribute.i !== undefined) return AttributeType.INT;
  if (attribute.s !== undefined) return AttributeType.STRING;
  if (attribute.t) return AttributeType.TENSOR;
  if (attribute.g) return AttributeType.GRAPH;
  if (attribute.sparseTensor) return AttributeType.SPARSE_TENSOR;
  if (attribute.tp) return AttributeType.TYPE_PROTO;
  if (attribute.floats?.length) return AttributeType.FLOATS;
  if (attribute.ints?.length) return AttributeType.INTS;
  if (attribute.strings?.length) return AttributeType.STRINGS;
  if (attribute.tensors?.length) return AttributeType.TENSORS;
  if (attribute.graphs?.length) return AttributeType.GRAPHS;
  if (attribute.sparseTensors?.length) return AttributeType.SPARSE_TENSORS;
  if (attribute.typeProtos?.length) return AttributeType.TYPE_PROTOS;
  return AttributeType.UNDEFINED;
}

function describeAttribute(attribute: AttributeProto, context: DescribeContext): AttributeDescription {
  const type = attributeType(attribute);
  // Nesting is bounded: the decoder refuses messages nested over 100 deep, as protoc does.
  const subgraph = (g: GraphProto): JSONValue => describeGraph(g, context) as unknown as JSONValue;
  let value: JSONValue;
  switch (type) {
    case AttributeType.FLOAT:
      value = float32ToJSON(attribute.f ?? 0);
      break;
    case AttributeType.INT:
      value = int64ToJSON(attribute.i ?? 0);
      break;
    case AttributeType.STRING:
      value = bytesToString(attribute.s ?? new Uint8Array());
      break;
    case AttributeType.TENSOR:
      value = summarizeTensor(attribute.t ?? {}, context, true) as unknown as JSONValue;
      break;
    case AttributeType.GRAPH:
      value = subgraph(attribute.g ?? {});
      break;
    case AttributeType.SPARSE_TENSOR:
      value = summarizeSparseTensor(attribute.sparseTensor ?? {}, context) as unknown as JSONValue;
      break;
    case AttributeType.TYPE_PROTO:
      value = typeName(attribute.tp);
      break;
    case AttributeType.FLOATS:
      value = (attribute.floats ?? []).map(float32ToJSON);
      break;
    case AttributeType.INTS:
      value = (attribute.ints ?? []).map(int64ToJSON);
      break;
    case AttributeType.STRINGS:
      value = (attribute.strings ?? []).map(bytesToString);
      break;
    case AttributeType.TENSORS:
      value = (attribute.tensors ?? []).map((t) => summarizeTensor(t, context, true) as unknown as JSONValue);
      break;
    case AttributeType.GRAPHS:
      value = (attribute.graphs ?? []).map(subgraph);
      break;
    case AttributeType.SPARSE_TENSORS:
      value = (attribute.sparseTensors ?? []).map((t) => summarizeSparseTensor(t, context) as unknown as JSONValue);
      break;
    case AttributeType.TYPE_PROTOS:
      value = (attribute.typeProtos ?? []).map(typeName);
      break;
    default:
      value = null;
  }
  const description: AttributeDescription = { name: attribute.name ?? '', type: ATTRIBUTE_TYPE_NAMES[type] ?? `unknown(${type})`, value };
  if (attribute.refAttrName) description.refAttrName = attribute.refAttrName;
  return description;
}

function summarizeTensor(tensor: TensorProto, context: DescribeContext, preview: boolean): TensorSummary {
  const shape = tensorDims(tensor);
  const summary: TensorSummary = {
    name: tensor.name ?? '',
    type: elementTypeName(tensor.dataType),
    shape,
    elements: shape.reduce((n, d) => n * d, 1),
    bytes: tensorByteSize(tensor),
  };
  const problem = tensorProblem(tensor);
  if (problem) summary.invalid = problem;
  const external = externalDataOf(tensor);
  if (external) {
    const location = external['location'] ?? '';
    // Located, not read; an absolute location or one through ".." is not even looked at.
    const place = context.baseDir === null || location === '' ? null : locateInFolder(context.baseDir, location);
    const outside = place !== null && 'outside' in place;
    const reference: ExternalDataReference = {
      tensor: summary.name,
      location,
      offset: external['offset'] !== undefined ? Number(external['offset']) : null,
      length: external['length'] !== undefined ? Number(external['length']) : null,
      exists: place === null || outside ? null : 'file' in place,
      ...(outside ? { outside } : {}),
    };
    summary.external = reference;
    context.externalData.push(reference);
  } else if (preview) {
    const values = previewValues(tensor);
    if (values) summary.values = values;
  }
  return summary;
}

function summarizeSparseTensor(sparse: SparseTensorProto, context: DescribeContext): TensorSummary {
  const values = summarizeTensor(sparse.values ?? {}, context, false);
  const shape = (sparse.dims ?? []).map((d) => Number(d));
  return { ...values, type: `sparse<${values.type}>`, shape, elements: shape.reduce((n, d) => n * d, 1) };
}

function previewValues(tensor: TensorProto): (number | string | boolean)[] | undefined {
  if (tensor.stringData?.length) return tensor.stringData.slice(0, PREVIEW_VALUES).map(bytesToString);
  try {
    const array = tensorToArray(tensor);
    const values: (number | string | boolean)[] = [];
    for (let i = 0; i < Math.min(PREVIEW_VALUES, array.data.length); i++) {
      const v = array.data[i]!;
      values.push(typeof v === 'bigint' ? int64ToJSON(v) : array.dtype === 'bool' ? v !== 0 : array.dtype === 'float32' ? float32ToJSON(v) : finiteOrString(v));
    }
    return values;
  } catch {
    return undefined; // an element type Strata does not hold (float16, ...): the summary says enough
  }
}

/** The shortest decimal that reads back as the same float32 (0.1, not 0.10000000149011612). */
export function float32ToJSON(value: number): number | string {
  if (!Number.isFinite(value)) return String(value);
  for (let digits = 1; digits <= 9; digits++) {
    const rounded = Number(value.toPrecision(digits));
    if (Math.fround(rounded) === Math.fround(value)) return rounded;
  }
  return value;
}

function finiteOrString(value: number): number | string {
  return Number.isFinite(value) ? value : String(value);
}

function bytesToString(bytes: Uint8Array): string {
  return new TextDecoder('utf-8').decode(bytes);
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

function countOperators(graph: GraphDescription, functions: FunctionDescription[]): OperatorUse[] {
  const localFunctions = new Set(functions.map((fn) => `${fn.domain}\u0000${fn.name}`));
  const uses = new Map<string, OperatorUse>();
  const visitNodes = (nodes: NodeDescription[]) => {
    for (const node of nodes) {
      const key = `${node.domain}\u0000${node.opType}`;
      const use = uses.get(key);
      if (use) use.count++;
      else {
        uses.set(key, {
          domain: node.domain,
          opType: node.opType,
          count: 1,
          standard: STANDARD_DOMAINS.has(node.domain),
          localFunction: localFunctions.has(key),
        });
      }
      for (const attribute of node.attributes) {
        if (attribute.type === 'GRAPH') visitGraph(attribute.value);
        if (attribute.type === 'GRAPHS') for (const g of attribute.value as JSONValue[]) visitGraph(g);
      }
    }
  };
  const visitGraph = (value: JSONValue) => {
    const nodes = (value as { nodes?: unknown }).nodes;
    if (Array.isArray(nodes)) visitNodes(nodes as NodeDescription[]);
  };
  visitNodes(graph.nodes);
  for (const fn of functions) visitNodes(fn.nodes);
  return [...uses.values()].sort((a, b) => b.count - a.count || a.domain.localeCompare(b.domain) || a.opType.localeCompare(b.opType));
}
