// ONNX's protobuf schema, read and written with protobufjs. The schema is ONNX's own
// onnx.proto as Debian 12 ships it (libonnx-dev 1.12.0, copied beside this file); protobufjs
// parses it once, on first use, so nothing here hand-codes the wire format.
//
// Fields that later ONNX releases added (metadata_props on graphs, nodes, tensors and value
// infos; FunctionProto's attribute_proto, value_info and overload; NodeProto's overload)
// are not in that schema: when a newer file carries them they are skipped on decoding, as
// protobuf skips any unknown field. Element types are int32 fields, so newer DataType numbers
// (float8, int4, ...) decode as numbers and DataType below names them.
//
// Messages are plain objects whose field names are onnx.proto's in camelCase
// (`ir_version` → `irVersion`, `op_type` → `opType`, `raw_data` → `rawData`). The interfaces
// below mirror the messages Strata reads or writes; every field is optional, as in proto2.
// 64-bit integer fields are `bigint` in decoded models; when writing, `number` or `bigint`.
//
// Building a model (what the translator does):
//   const bytes = encodeModel({ irVersion: 9, opsetImport: [{ domain: '', version: 17 }],
//     producerName: 'strata', graph: { name: 'g', node: [...], input: [...], output: [...] } });
// (helper.ts has onnx.helper-style builders for nodes, tensors and value infos.)
import protobuf from 'protobufjs';
import { fileURLToPath } from 'node:url';

/** An int64 field: `bigint` when decoded; `number` (a safe integer) or `bigint` when writing. */
export type Int64 = number | bigint;

/**
 * TensorProto.DataType: the element type of a tensor, as its enum number. Numbers up to
 * BFLOAT16 (16) are onnx.proto 1.12's enum; the later ones are those of newer ONNX releases.
 */
export const DataType = {
  UNDEFINED: 0,
  FLOAT: 1,
  UINT8: 2,
  INT8: 3,
  UINT16: 4,
  INT16: 5,
  INT32: 6,
  INT64: 7,
  STRING: 8,
  BOOL: 9,
  FLOAT16: 10,
  DOUBLE: 11,
  UINT32: 12,
  UINT64: 13,
  COMPLEX64: 14,
  COMPLEX128: 15,
  BFLOAT16: 16,
  FLOAT8E4M3FN: 17,
  FLOAT8E4M3FNUZ: 18,
  FLOAT8E5M2: 19,
  FLOAT8E5M2FNUZ: 20,
  UINT4: 21,
  INT4: 22,
  FLOAT4E2M1: 23,
  FLOAT8E8M0: 24,
  UINT2: 25,
  INT2: 26,
} as const;

/** AttributeProto.AttributeType. */
export const AttributeType = {
  UNDEFINED: 0,
  FLOAT: 1,
  INT: 2,
  STRING: 3,
  TENSOR: 4,
  GRAPH: 5,
  FLOATS: 6,
  INTS: 7,
  STRINGS: 8,
  TENSORS: 9,
  GRAPHS: 10,
  SPARSE_TENSOR: 11,
  SPARSE_TENSORS: 12,
  TYPE_PROTO: 13,
  TYPE_PROTOS: 14,
} as const;

/** TensorProto.DataLocation. */
export const DataLocation = { DEFAULT: 0, EXTERNAL: 1 } as const;

export interface StringStringEntryProto {
  key?: string;
  value?: string;
}

export interface OperatorSetIdProto {
  /** '' (or 'ai.onnx') is the default operator set. */
  domain?: string;
  version?: Int64;
}

export interface TensorProto {
  dims?: Int64[];
  /** A DataType number. */
  dataType?: number;
  segment?: { begin?: Int64; end?: Int64 };
  floatData?: number[];
  int32Data?: number[];
  stringData?: Uint8Array[];
  int64Data?: Int64[];
  name?: string;
  docString?: string;
  /** Little-endian element bytes; the usual way to store weights. */
  rawData?: Uint8Array;
  /** For dataLocation EXTERNAL: keys 'location', 'offset', 'length', 'checksum'. */
  externalData?: StringStringEntryProto[];
  dataLocation?: number;
  doubleData?: number[];
  uint64Data?: Int64[];
}

export interface SparseTensorProto {
  values?: TensorProto;
  indices?: TensorProto;
  dims?: Int64[];
}

export interface TensorShapeProtoDimension {
  /** Set for a fixed size; `dimParam` names a symbolic one; neither: unknown. */
  dimValue?: Int64;
  dimParam?: string;
  denotation?: string;
}

export interface TensorShapeProto {
  dim?: TensorShapeProtoDimension[];
}

export interface TypeProto {
  tensorType?: { elemType?: number; shape?: TensorShapeProto };
  sequenceType?: { elemType?: TypeProto };
  mapType?: { keyType?: number; valueType?: TypeProto };
  optionalType?: { elemType?: TypeProto };
  sparseTensorType?: { elemType?: number; shape?: TensorShapeProto };
  denotation?: string;
}

export interface ValueInfoProto {
  name?: string;
  type?: TypeProto;
  docString?: string;
}

export interface AttributeProto {
  name?: string;
  refAttrName?: string;
  docString?: string;
  /** An AttributeType number; 0 (or absent) in some old files, where the set field tells. */
  type?: number;
  f?: number;
  i?: Int64;
  s?: Uint8Array;
  t?: TensorProto;
  g?: GraphProto;
  sparseTensor?: SparseTensorProto;
  tp?: TypeProto;
  floats?: number[];
  ints?: Int64[];
  strings?: Uint8Array[];
  tensors?: TensorProto[];
  graphs?: GraphProto[];
  sparseTensors?: SparseTensorProto[];
  typeProtos?: TypeProto[];
}

export interface NodeProto {
  input?: string[];
  output?: string[];
  name?: string;
  opType?: string;
  domain?: string;
  attribute?: AttributeProto[];
  docString?: string;
}

export interface GraphProto {
  node?: NodeProto[];
  name?: string;
  initializer?: TensorProto[];
  sparseInitializer?: SparseTensorProto[];
  docString?: string;
  input?: ValueInfoProto[];
  output?: ValueInfoProto[];
  valueInfo?: ValueInfoProto[];
}

export interface FunctionProto {
  name?: string;
  input?: string[];
  output?: string[];
  /** Names of the function's attributes. */
  attribute?: string[];
  node?: NodeProto[];
  docString?: string;
  opsetImport?: OperatorSetIdProto[];
  domain?: string;
}

export interface ModelProto {
  irVersion?: Int64;
  opsetImport?: OperatorSetIdProto[];
  producerName?: string;
  producerVersion?: string;
  domain?: string;
  modelVersion?: Int64;
  docString?: string;
  graph?: GraphProto;
  metadataProps?: StringStringEntryProto[];
  functions?: FunctionProto[];
}

let root: protobuf.Root | undefined;

/** A reflected message type of onnx.proto, which is parsed on first use. */
function messageType(name: 'ModelProto'): protobuf.Type {
  root ??= protobuf.loadSync(fileURLToPath(new URL('./onnx.proto', import.meta.url)));
  return root.lookupType(`onnx.${name}`);
}

const TO_OBJECT: protobuf.IConversionOptions = { longs: BigInt, enums: Number, arrays: true, defaults: false };

/**
 * Decodes ModelProto bytes. Throws protobufjs's error (a RangeError or Error naming the wire
 * problem) for bytes that are not a protobuf message; inspect.ts turns those into a
 * FormatError and checks that what decoded is a model. Bytes fields alias `bytes`.
 */
export function decodeModel(bytes: Uint8Array): ModelProto {
  const type = messageType('ModelProto');
  return type.toObject(type.decode(bytes), TO_OBJECT) as ModelProto;
}

/** Encodes a ModelProto into the bytes of an .onnx file. */
export function encodeModel(model: ModelProto): Uint8Array {
  const type = messageType('ModelProto');
  // protobufjs (through the 'long' package) reads int64 values from numbers and decimal
  // strings, but silently turns a bigint into 0; hand it decimal strings instead.
  return type.encode(type.fromObject(bigintsToStrings(model) as Record<string, unknown>)).finish();
}

function bigintsToStrings(value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (Array.isArray(value)) return value.some(needsConversion) ? value.map(bigintsToStrings) : value;
  if (value === null || typeof value !== 'object' || ArrayBuffer.isView(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(value)) out[key] = bigintsToStrings(field);
  return out;
}

function needsConversion(item: unknown): boolean {
  return typeof item === 'bigint' || (item !== null && typeof item === 'object' && !ArrayBuffer.isView(item));
}
