// ONNX element types and TensorProto contents: names, sizes, and the elements as an NdArray.
import { type DType, type NdArray, allocate, fromBytes, ndarray, shapeSize } from '../data/ndarray.ts';
import { OnnxFormatError } from './errors.ts';
import { DataLocation, DataType, type Int64, type TensorProto } from './schema.ts';

interface ElementType {
  /** NumPy / onnxruntime spelling ('float32'); ONNX's enum name lower-cased where NumPy has none. */
  name: string;
  /** Bits per element; 0 for strings (variable length). */
  bits: number;
  /** The NdArray dtype holding it, where Strata can hold it. */
  dtype?: DType;
}

/** TensorProto.DataType number → element type. */
export const ELEMENT_TYPES: Record<number, ElementType> = {
  [DataType.FLOAT]: { name: 'float32', bits: 32, dtype: 'float32' },
  [DataType.UINT8]: { name: 'uint8', bits: 8, dtype: 'uint8' },
  [DataType.INT8]: { name: 'int8', bits: 8, dtype: 'int8' },
  [DataType.UINT16]: { name: 'uint16', bits: 16, dtype: 'uint16' },
  [DataType.INT16]: { name: 'int16', bits: 16, dtype: 'int16' },
  [DataType.INT32]: { name: 'int32', bits: 32, dtype: 'int32' },
  [DataType.INT64]: { name: 'int64', bits: 64, dtype: 'int64' },
  [DataType.STRING]: { name: 'string', bits: 0 },
  [DataType.BOOL]: { name: 'bool', bits: 8, dtype: 'bool' },
  [DataType.FLOAT16]: { name: 'float16', bits: 16 },
  [DataType.DOUBLE]: { name: 'float64', bits: 64, dtype: 'float64' },
  [DataType.UINT32]: { name: 'uint32', bits: 32, dtype: 'uint32' },
  [DataType.UINT64]: { name: 'uint64', bits: 64, dtype: 'uint64' },
  [DataType.COMPLEX64]: { name: 'complex64', bits: 64 },
  [DataType.COMPLEX128]: { name: 'complex128', bits: 128 },
  [DataType.BFLOAT16]: { name: 'bfloat16', bits: 16 },
  [DataType.FLOAT8E4M3FN]: { name: 'float8e4m3fn', bits: 8 },
  [DataType.FLOAT8E4M3FNUZ]: { name: 'float8e4m3fnuz', bits: 8 },
  [DataType.FLOAT8E5M2]: { name: 'float8e5m2', bits: 8 },
  [DataType.FLOAT8E5M2FNUZ]: { name: 'float8e5m2fnuz', bits: 8 },
  [DataType.UINT4]: { name: 'uint4', bits: 4 },
  [DataType.INT4]: { name: 'int4', bits: 4 },
  [DataType.FLOAT4E2M1]: { name: 'float4e2m1', bits: 4 },
  [DataType.FLOAT8E8M0]: { name: 'float8e8m0', bits: 8 },
  [DataType.UINT2]: { name: 'uint2', bits: 2 },
  [DataType.INT2]: { name: 'int2', bits: 2 },
};

/** 'float32' for DataType.FLOAT; 'undefined' for 0; 'unknown(99)' for a number ONNX does not define. */
export function elementTypeName(dataType: number | undefined): string {
  if (!dataType) return 'undefined';
  return ELEMENT_TYPES[dataType]?.name ?? `unknown(${dataType})`;
}

/** The DataType number of an NdArray dtype. */
export function dataTypeOf(dtype: DType): number {
  const entry = Object.entries(ELEMENT_TYPES).find(([, type]) => type.dtype === dtype);
  return Number(entry![0]);
}

/** An int64 as a JSON-safe value: a number when exact, else its decimal string. */
export function int64ToJSON(value: Int64): number | string {
  const n = Number(value);
  return Number.isSafeInteger(n) || typeof value === 'number' ? n : value.toString();
}

export function tensorDims(tensor: TensorProto): number[] {
  return (tensor.dims ?? []).map((d) => Number(d));
}

/** Nominal size of the elements in bytes (strings: their total length). */
export function tensorByteSize(tensor: TensorProto): number {
  const type = ELEMENT_TYPES[tensor.dataType ?? 0];
  if (tensor.dataType === DataType.STRING) return (tensor.stringData ?? []).reduce((n, s) => n + s.length, 0);
  if (!type) return tensor.rawData?.length ?? 0;
  return Math.ceil((shapeSize(tensorDims(tensor)) * type.bits) / 8);
}

/** The entries of a tensor's external_data as an object ({location, offset, length, ...}). */
export function externalDataOf(tensor: TensorProto): Record<string, string> | undefined {
  if (tensor.dataLocation !== DataLocation.EXTERNAL) return undefined;
  return Object.fromEntries((tensor.externalData ?? []).map((entry) => [entry.key ?? '', entry.value ?? '']));
}

/**
 * The typed field that holds a data type's elements when raw_data is not used, and how many
 * of its values make one element (onnx.proto's table). Types it leaves out (float8, 4-bit)
 * are only read from raw_data here.
 */
const TYPED_FIELDS: Record<number, { field: 'floatData' | 'int32Data' | 'stringData' | 'int64Data' | 'doubleData' | 'uint64Data'; per: number }> = {
  [DataType.FLOAT]: { field: 'floatData', per: 1 },
  [DataType.COMPLEX64]: { field: 'floatData', per: 2 },
  [DataType.INT32]: { field: 'int32Data', per: 1 },
  [DataType.INT16]: { field: 'int32Data', per: 1 },
  [DataType.INT8]: { field: 'int32Data', per: 1 },
  [DataType.UINT16]: { field: 'int32Data', per: 1 },
  [DataType.UINT8]: { field: 'int32Data', per: 1 },
  [DataType.BOOL]: { field: 'int32Data', per: 1 },
  [DataType.FLOAT16]: { field: 'int32Data', per: 1 },
  [DataType.BFLOAT16]: { field: 'int32Data', per: 1 },
  [DataType.STRING]: { field: 'stringData', per: 1 },
  [DataType.INT64]: { field: 'int64Data', per: 1 },
  [DataType.DOUBLE]: { field: 'doubleData', per: 1 },
  [DataType.COMPLEX128]: { field: 'doubleData', per: 2 },
  [DataType.UINT32]: { field: 'uint64Data', per: 1 },
  [DataType.UINT64]: { field: 'uint64Data', per: 1 },
};

/**
 * Why a tensor's dims and the data stored for it cannot both be right (a negative size, a
 * raw_data or typed field of another length, external data of another length), or undefined
 * when they agree. Data in external files is checked against its declared length only.
 */
export function tensorProblem(tensor: TensorProto): string | undefined {
  const dims = tensorDims(tensor);
  const shape = `dims [${dims.join(', ')}]`;
  if (dims.some((d) => d < 0)) return `${shape} has a negative size`;
  const type = ELEMENT_TYPES[tensor.dataType ?? 0];
  if (!type) return `element type ${elementTypeName(tensor.dataType)} is not an ONNX type`;
  const count = shapeSize(dims);
  const bytes = Math.ceil((count * type.bits) / 8);
  if (tensor.dataLocation === DataLocation.EXTERNAL) {
    const length = externalDataOf(tensor)?.['length'];
    return length !== undefined && type.bits > 0 && Number(length) !== bytes ? `${shape} of ${type.name} need ${bytes} bytes, its external data is ${length} bytes long` : undefined;
  }
  if (tensor.rawData && tensor.rawData.length > 0) {
    return type.bits > 0 && tensor.rawData.length !== bytes ? `raw_data has ${tensor.rawData.length} bytes, ${shape} of ${type.name} need ${bytes}` : undefined;
  }
  const typed = TYPED_FIELDS[tensor.dataType!];
  if (!typed) return count > 0 ? `${shape} of ${type.name} need ${bytes} bytes of raw_data, it has none` : undefined;
  const stored = (tensor[typed.field] ?? []).length;
  if (stored === 0 && count > 0) return `holds no data; ${shape} of ${type.name} need ${type.bits > 0 ? `${bytes} bytes` : `${count} strings`}`;
  return stored !== count * typed.per ? `${stored} elements stored, ${shape} need ${count * typed.per}` : undefined;
}

/**
 * The elements of a tensor stored in the model (raw_data or the typed *_data fields). Throws
 * an OnnxFormatError for data stored in an external file, for element types Strata cannot
 * hold (float16, strings, ...), and when the stored data disagrees with dims.
 */
export function tensorToArray(tensor: TensorProto): NdArray {
  const what = `tensor '${tensor.name ?? ''}'`;
  const dtype = ELEMENT_TYPES[tensor.dataType ?? 0]?.dtype;
  if (!dtype) throw new OnnxFormatError(`${what}: element type ${elementTypeName(tensor.dataType)} cannot be read as an array`);
  if (tensor.dataLocation === DataLocation.EXTERNAL) {
    throw new OnnxFormatError(`${what}: its data is in the external file '${externalDataOf(tensor)?.['location'] ?? '?'}'`);
  }
  const problem = tensorProblem(tensor);
  if (problem) throw new OnnxFormatError(`${what}: ${problem}`);
  const dims = tensorDims(tensor);
  const count = shapeSize(dims);
  let data;
  if (tensor.rawData && tensor.rawData.length > 0) {
    data = fromBytes(dtype, tensor.rawData);
  } else {
    const values = tensor[TYPED_FIELDS[tensor.dataType!]!.field] as readonly (number | bigint)[] | undefined ?? [];
    data = allocate(dtype, count);
    for (let i = 0; i < count; i++) {
      (data as unknown as unknown[])[i] = dtype === 'int64' || dtype === 'uint64' ? BigInt(values[i]!) : Number(values[i]);
    }
  }
  return ndarray(dtype, dims, data);
}

/** A TensorProto holding `array` in raw_data. */
export function arrayToTensor(name: string, array: NdArray): TensorProto {
  const bytes = new Uint8Array(array.data.buffer, array.data.byteOffset, array.data.byteLength);
  return { name, dataType: dataTypeOf(array.dtype), dims: array.shape, rawData: new Uint8Array(bytes) };
}
