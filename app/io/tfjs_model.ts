// A TensorFlow.js layers model on disk: model.json (the Keras topology plus a weightsManifest)
// and its binary shards. Weights are read as tf.loadLayersModel reads them: each manifest
// group's shards are concatenated, then sliced in order by the weight specs; quantized
// weights (uint8/uint16 affine, float16) are dequantized. Every model weight must be found
// and every weight in the files must belong to the model.
import path from 'node:path';
import { ConfigError, FileError, FormatError, LimitError, Model, modelFromJSON, type Layer, type LayerWeight } from '../model/index.ts';
import { parseJsonObject } from '../model/keras_format/model_json.ts';
import { LIMITS } from '../model/limits.ts';
import { describeFileError, locateInFolder, readFileOrThrow } from './read_file.ts';

/** Bytes per element of each weight dtype TensorFlow.js writes unquantized ('string' weights are not read). */
const DTYPE_BYTES = { float32: 4, int32: 4, bool: 1 } as const;
const QUANTIZED_BYTES = { uint8: 1, uint16: 2, float16: 2 } as const;

interface WeightSpec {
  name: string;
  shape: number[];
  dtype: keyof typeof DTYPE_BYTES;
  quantization?: { dtype: keyof typeof QUANTIZED_BYTES; scale?: number; min?: number };
  /** 'optimizer' for the optimizer's variables (TensorFlow.js's includeOptimizer, Strata's saves). */
  group?: string;
}

interface WeightsGroup {
  paths: string[];
  weights: WeightSpec[];
}

/** float16 bits -> number. */
function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exponent = (h >> 10) & 0x1f;
  const fraction = h & 0x3ff;
  if (exponent === 0) return sign * 2 ** -14 * (fraction / 1024);
  if (exponent === 31) return fraction ? NaN : sign * Infinity;
  return sign * 2 ** (exponent - 15) * (1 + fraction / 1024);
}

function decodeWeight(spec: WeightSpec, bytes: Uint8Array, where: string): Float32Array {
  const count = spec.shape.reduce((a, b) => a * b, 1);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Float32Array(count);
  const q = spec.quantization;
  if (!q) {
    if (spec.dtype !== 'float32') throw new ConfigError(`${where}: weight "${spec.name}" is ${spec.dtype}; model weights must be float32`);
    for (let i = 0; i < count; i++) out[i] = view.getFloat32(4 * i, true);
  } else if (q.dtype === 'float16') {
    for (let i = 0; i < count; i++) out[i] = halfToFloat(view.getUint16(2 * i, true));
  } else {
    const scale = q.scale ?? 1;
    const min = q.min ?? 0;
    for (let i = 0; i < count; i++) out[i] = (q.dtype === 'uint8' ? view.getUint8(i) : view.getUint16(2 * i, true)) * scale + min;
  }
  return out;
}

function byteSize(spec: WeightSpec): number {
  const count = spec.shape.reduce((a, b) => a * b, 1);
  return count * (spec.quantization ? QUANTIZED_BYTES[spec.quantization.dtype] : DTYPE_BYTES[spec.dtype]);
}

/** Every weight of the model by its TensorFlow.js name, "<layer>/<weight>" (nested: "<model>/<layer>/<weight>"), in layer order. */
export function namedWeights(model: Model): Map<string, LayerWeight> {
  const byName = new Map<string, LayerWeight>();
  const visit = (layers: Layer[], prefix: string) => {
    for (const layer of layers) {
      if (layer instanceof Model) visit(layer.layers, `${prefix}${layer.name}/`);
      else for (const w of layer.weights) byName.set(`${prefix}${layer.name}/${w.name}`, w);
    }
  };
  visit(model.layers, '');
  return byName;
}

/** Finds a spec's target: its full name, or (for nested models) the name without outer prefixes. */
function targetOf(name: string, byName: Map<string, LayerWeight>): LayerWeight | undefined {
  const plain = name.replace(/:\d+$/, '');
  if (byName.has(plain)) return byName.get(plain);
  const matches = [...byName.entries()].filter(([key]) => key.endsWith(`/${plain}`) || plain.endsWith(`/${key}`));
  return matches.length === 1 ? matches[0]![1] : undefined;
}

/** Reads a TensorFlow.js model.json and its weight shards into a model with those weights. */
export function loadTfjsModel(file: string, text: string): Model {
  return readTfjsModel(file, text).model;
}

/** The model with its weights, and the optimizer's variables by spec name where the files hold them. */
export function readTfjsModel(file: string, text: string): { model: Model; optimizerWeights: Map<string, Float32Array> } {
  const json = parseJsonObject(text, file);
  const manifest = readManifest(json.weightsManifest, file);
  const model = modelFromJSON(json, file);
  const optimizerWeights = new Map<string, Float32Array>();
  if (manifest === null) return { model, optimizerWeights };
  const byName = namedWeights(model);
  const loaded = new Set<LayerWeight>();
  manifest.forEach((group, g) => {
    const data = readShards(file, group, `weightsManifest[${g}].paths`);
    let offset = 0;
    for (const spec of group.weights) {
      const size = byteSize(spec);
      if (offset + size > data.length) throw new FormatError(`${file}: weight "${spec.name}" needs bytes ${offset}..${offset + size}, but the shards ${group.paths.join(', ')} hold ${data.length}`, { file });
      if (spec.group === 'optimizer') {
        if (spec.dtype === 'float32') optimizerWeights.set(spec.name, decodeWeight(spec, data.subarray(offset, offset + size), file));
        offset += size;
        continue;
      }
      const target = targetOf(spec.name, byName);
      if (!target) throw new ConfigError(`${file}: weight "${spec.name}" matches no weight of the model (${[...byName.keys()].join(', ')})`);
      if (spec.shape.length !== target.shape.length || spec.shape.some((d, i) => d !== target.shape[i])) {
        throw new ConfigError(`${file}: weight "${spec.name}" has shape [${spec.shape.join(', ')}], the model's has [${target.shape.join(', ')}]`);
      }
      target.value = decodeWeight(spec, data.subarray(offset, offset + size), file);
      loaded.add(target);
      offset += size;
    }
  });
  const missing = [...byName.entries()].filter(([, w]) => !loaded.has(w)).map(([name]) => name);
  if (missing.length > 0) throw new ConfigError(`${file}: the weights manifest has no values for ${missing.join(', ')}`);
  return { model, optimizerWeights };
}

/** A group's shards, concatenated in order, each read from inside the model's folder. */
function readShards(file: string, group: WeightsGroup, field: string): Buffer {
  const shards = group.paths.map((shard, i) => {
    const where = `${file}: ${field}[${i}] "${shard}"`;
    const shardFile = shardPath(path.dirname(file), shard, where);
    try {
      return readFileOrThrow(shardFile, FileError);
    } catch (error) {
      // The read error names the resolved path; say which manifest entry it came from.
      throw new (error instanceof LimitError ? LimitError : FileError)(`${where}: ${(error as Error).message.replace(`${shardFile}: `, '')}`, { file, field });
    }
  });
  const total = shards.reduce((n, shard) => n + shard.length, 0);
  if (total > LIMITS.fileBytes) throw new LimitError(`${file}: the shards of ${field} hold ${total} bytes, more than the ${LIMITS.fileBytes} Strata reads for one weight group`, { file, field });
  return Buffer.concat(shards);
}

/** The real path of a shard the manifest names: inside the model's folder, or an error naming the entry. */
function shardPath(dir: string, shard: string, where: string): string {
  const place = locateInFolder(dir, shard);
  if ('outside' in place) throw new FileError(`${where}: ${place.outside}, outside the model's folder ${dir}; weight shards must be files inside it`, { field: where });
  if ('error' in place) throw new FileError(`${where}: cannot read: ${describeFileError(place.error)}`, { field: where });
  return place.file;
}

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * The weightsManifest, checked field by field before anything is read: null when the file has
 * none (a topology without weights). Errors name the file and the entry, e.g.
 * "weightsManifest[0].weights[3].shape".
 */
function readManifest(manifest: unknown, file: string): WeightsGroup[] | null {
  if (manifest === undefined || manifest === null) return null;
  const fail = (field: string, expected: string, value: unknown): never => {
    throw new FormatError(`${file}: ${field} must be ${expected}, got ${JSON.stringify(value) ?? String(value)}`, { file, field });
  };
  if (!Array.isArray(manifest)) fail('weightsManifest', 'a list of weight groups', manifest);
  return (manifest as unknown[]).map((group, g) => {
    const where = `weightsManifest[${g}]`;
    if (!isObject(group)) return fail(where, 'an object with "paths" and "weights"', group);
    const { paths, weights } = group;
    if (!Array.isArray(paths) || !paths.every((p) => typeof p === 'string' && p !== '')) fail(`${where}.paths`, 'a list of shard file names', paths);
    if (!Array.isArray(weights)) fail(`${where}.weights`, 'a list of weight specs', weights);
    return { paths: paths as string[], weights: (weights as unknown[]).map((spec, w) => readWeightSpec(spec, `${where}.weights[${w}]`, fail)) };
  });
}

function readWeightSpec(spec: unknown, where: string, fail: (field: string, expected: string, value: unknown) => never): WeightSpec {
  if (!isObject(spec)) return fail(where, 'an object with "name", "shape" and "dtype"', spec);
  const { name, shape, dtype, quantization, group } = spec;
  if (typeof name !== 'string' || name === '') fail(`${where}.name`, 'a weight name', name);
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) fail(`${where}.shape`, 'a list of sizes (integers >= 0)', shape);
  if (typeof dtype !== 'string' || !Object.hasOwn(DTYPE_BYTES, dtype)) fail(`${where}.dtype`, `one of ${Object.keys(DTYPE_BYTES).join(', ')}`, dtype);
  if (group !== undefined && group !== null && typeof group !== 'string') fail(`${where}.group`, 'a string', group);
  const checked: WeightSpec = { name: name as string, shape: shape as number[], dtype: dtype as WeightSpec['dtype'] };
  if (typeof group === 'string') checked.group = group;
  if (quantization !== undefined && quantization !== null) {
    const q = isObject(quantization) ? quantization : fail(`${where}.quantization`, 'an object {dtype, scale, min}', quantization);
    if (typeof q.dtype !== 'string' || !Object.hasOwn(QUANTIZED_BYTES, q.dtype)) fail(`${where}.quantization.dtype`, `one of ${Object.keys(QUANTIZED_BYTES).join(', ')}`, q.dtype);
    for (const key of ['scale', 'min'] as const) {
      if (q[key] !== undefined && !Number.isFinite(q[key])) fail(`${where}.quantization.${key}`, 'a finite number', q[key]);
    }
    checked.quantization = q as WeightSpec['quantization'] & object;
  }
  return checked;
}
