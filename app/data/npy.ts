// NumPy .npy files (format versions 1.0, 2.0 and 3.0), as NumPy's np.save writes them and
// np.load reads them: the magic "\x93NUMPY", the version, a little-endian header length, a
// Python dict literal {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), } padded with
// spaces to a multiple of 64 bytes, then the elements. Only C-order, little-endian arrays of
// plain numeric or bool dtypes are read; anything else is a FormatError that says so.
import { type DType, type NdArray, formatShape, fromBytes, itemSize, shapeSize, toBytes, toFloat32 } from './ndarray.ts';
import { FormatError } from '../model/errors.ts';
import { writeFileAtomic } from '../io/atomic_write.ts';
import { readFileOrThrow } from '../io/read_file.ts';

/** A .npy or .npz file that cannot be read (a FormatError, app/model/errors.ts). */
export class NpyFormatError extends FormatError {}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

/** NumPy's dtype strings (byte order, kind, item size) for the dtypes Strata handles. */
const DESCR_TO_DTYPE: Record<string, DType> = {
  '<f4': 'float32',
  '<f8': 'float64',
  '|i1': 'int8',
  '|u1': 'uint8',
  '<i2': 'int16',
  '<u2': 'uint16',
  '<i4': 'int32',
  '<u4': 'uint32',
  '<i8': 'int64',
  '<u8': 'uint64',
  '|b1': 'bool',
};
const DTYPE_TO_DESCR = Object.fromEntries(Object.entries(DESCR_TO_DTYPE).map(([descr, dtype]) => [dtype, descr])) as Record<DType, string>;

export interface NpyReadOptions {
  /** Convert the elements to float32 (from any numeric dtype or bool). */
  asFloat32?: boolean;
}

/** Reads a .npy file. Errors name the file. */
export function readNpy(file: string, options: NpyReadOptions = {}): NdArray {
  return parseNpy(readFileOrThrow(file, NpyFormatError), file, options);
}

/** Parses .npy bytes; `source` names them in errors. */
export function parseNpy(bytes: Uint8Array, source = '<npy>', options: NpyReadOptions = {}): NdArray {
  const fail = (what: string): never => {
    throw new NpyFormatError(`${source}: ${what}`);
  };
  const { dtype, shape, dataStart, byteLength } = readNpyLayout(bytes, fail);
  // Sizes are checked before anything is allocated: the array is never larger than the file.
  const present = bytes.length - dataStart;
  const expected = byteLength - dataStart;
  if (present < expected) fail(`truncated data: shape ${formatShape(shape)} of ${dtype} needs ${expected} bytes, the file has ${present}`);
  if (present > expected) fail(`${present - expected} bytes after the data of shape ${formatShape(shape)} of ${dtype}: corrupt file?`);
  const array: NdArray = { dtype, shape, data: fromBytes(dtype, bytes.subarray(dataStart)) };
  return options.asFloat32 ? toFloat32(array) : array;
}

/** The longest .npy header read: NumPy's own reader refuses headers over 10,000 bytes by default. */
export const NPY_MAX_HEADER_BYTES = 65536 + 12;

export interface NpyLayout {
  dtype: DType;
  shape: number[];
  /** Where the elements start. */
  dataStart: number;
  /** The whole file's length as its header declares it: header plus elements. */
  byteLength: number;
}

/** The header of .npy bytes (only the header need be there): dtype, shape and the file length it declares. */
export function readNpyLayout(bytes: Uint8Array, fail: (what: string) => never): NpyLayout {
  if (bytes.length === 0) fail('the file is empty, not a .npy file');
  if (bytes.length < 10 || MAGIC.some((b, i) => bytes[i] !== b)) fail('not a .npy file (it does not start with "\\x93NUMPY")');
  const major = bytes[6]!;
  const minor = bytes[7]!;
  if (major < 1 || major > 3) fail(`unsupported .npy format version ${major}.${minor} (versions 1.0 to 3.0 are read)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const lengthBytes = major === 1 ? 2 : 4;
  if (bytes.length < 8 + lengthBytes) fail('truncated .npy header');
  const headerLength = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const dataStart = 8 + lengthBytes + headerLength;
  if (dataStart > NPY_MAX_HEADER_BYTES) fail(`a header of ${headerLength} bytes; NumPy writes headers of a few hundred (is this a .npy file?)`);
  if (dataStart > bytes.length) fail(`truncated .npy header (${headerLength} header bytes announced, ${bytes.length - 8 - lengthBytes} present)`);
  const headerBytes = bytes.subarray(8 + lengthBytes, dataStart);
  const header = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(headerBytes);
  const { descr, fortranOrder, shape } = parseHeader(header, fail);

  if (/^[<>|=]?O/.test(descr)) {
    fail(`an object array (dtype '${descr}'): its elements are Python pickles, and unpickling runs code. NumPy refuses it unless allow_pickle=True ("Object arrays cannot be loaded when allow_pickle=False"); Strata never loads one. Save a numeric array: np.save(f, x.astype(np.float32))`);
  }
  const dtype = DESCR_TO_DTYPE[descr] ?? DESCR_TO_DTYPE[descr.replace(/^=/, '<')] ?? DESCR_TO_DTYPE[descr.replace(/^[<>=]([iub]1)$/, '|$1')];
  if (!dtype) {
    const hint = descr.startsWith('>') ? `; it is big-endian: save it as x.astype('<${descr.slice(1)}')` : '; save it as float32: x.astype(np.float32)';
    return fail(`unsupported dtype '${descr}'${hint}`);
  }
  if (fortranOrder && shape.filter((d) => d > 1).length > 1) {
    fail('the array is in Fortran (column-major) order; save it in C order: np.save(f, np.ascontiguousarray(x))');
  }
  return { dtype, shape, dataStart, byteLength: dataStart + shapeSize(shape) * itemSize(dtype) };
}

interface NpyHeader {
  descr: string;
  fortranOrder: boolean;
  shape: number[];
}

function parseHeader(header: string, fail: (what: string) => never): NpyHeader {
  const text = header.trim();
  if (!text.startsWith('{') || !text.endsWith('}')) fail(`malformed .npy header ${JSON.stringify(header.slice(0, 80))}`);
  const descr = /['"]descr['"]\s*:\s*(['"])([^'"]*)\1/.exec(text);
  if (!descr) {
    if (/['"]descr['"]\s*:\s*\[/.test(text)) fail('structured (record) arrays are not supported: save a plain numeric array');
    fail(`no 'descr' in .npy header ${JSON.stringify(text)}`);
  }
  const fortran = /['"]fortran_order['"]\s*:\s*(True|False)/.exec(text);
  if (!fortran) fail(`no 'fortran_order' in .npy header ${JSON.stringify(text)}`);
  const shape = /['"]shape['"]\s*:\s*\(([^)]*)\)/.exec(text);
  if (!shape) fail(`no 'shape' in .npy header ${JSON.stringify(text)}`);
  const dims = shape![1]!
    .split(',')
    .map((d) => d.trim())
    .filter((d) => d !== '')
    .map((d) => (/^\d+L?$/.test(d) ? Number.parseInt(d, 10) : Number.NaN));
  if (dims.some((d) => !Number.isSafeInteger(d))) fail(`bad shape (${shape![1]}) in .npy header`);
  return { descr: descr![2]!, fortranOrder: fortran![1] === 'True', shape: dims };
}

/** The bytes of a .npy file holding `array` (format 1.0, or 2.0 for a very long header). */
export function formatNpy(array: NdArray): Uint8Array {
  const expected = shapeSize(array.shape);
  if (array.data.length !== expected) throw new RangeError(`shape ${formatShape(array.shape)} holds ${expected} elements, the data has ${array.data.length}`);
  const shape = array.shape.length === 1 ? `(${array.shape[0]},)` : `(${array.shape.join(', ')})`;
  const dict = `{'descr': '${DTYPE_TO_DESCR[array.dtype]}', 'fortran_order': False, 'shape': ${shape}, }`;
  // The data starts at a multiple of 64 bytes; the header ends with a newline.
  let major = 1;
  let prefix = 10;
  if (dict.length + 1 + prefix > 0xffff) {
    major = 2;
    prefix = 12;
  }
  const padded = dict.padEnd(Math.ceil((prefix + dict.length + 1) / 64) * 64 - prefix - 1, ' ') + '\n';
  const data = toBytes(array.data);
  const out = new Uint8Array(prefix + padded.length + data.byteLength);
  out.set(MAGIC, 0);
  out[6] = major;
  out[7] = 0;
  const view = new DataView(out.buffer);
  if (major === 1) view.setUint16(8, padded.length, true);
  else view.setUint32(8, padded.length, true);
  for (let i = 0; i < padded.length; i++) out[prefix + i] = padded.charCodeAt(i);
  out.set(data, prefix + padded.length);
  return out;
}

/** Writes `array` to a .npy file atomically (flushed to a temporary file renamed over the target; a failure leaves nothing behind). */
export function writeNpy(file: string, array: NdArray): void {
  writeFileAtomic(file, formatNpy(array));
}
