// A TensorFlow.js layers model on disk: model.json (the Keras topology plus a weightsManifest)
// and its binary shards. Weights are read as tf.loadLayersModel reads them: each manifest
// group's shards are concatenated, then sliced in order by the weight specs; quantized
// weights (uint8/uint16 affine, float16) are dequantized. Every model weight must be found
// and every weight in the files must belong to the model.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ConfigError, Model, modelFromJSON, type Layer, type LayerWeight } from '../model/index.ts';

interface WeightSpec {
  name: string;
  shape: number[];
  dtype: 'float32' | 'int32' | 'bool' | 'string';
  quantization?: { dtype: 'uint8' | 'uint16' | 'float16'; scale?: number; min?: number };
  /** 'optimizer' for the optimizer's variables (TensorFlow.js's includeOptimizer, Strata's saves). */
  group?: 'model' | 'optimizer';
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
  const q = spec.quantization?.dtype;
  return count * (q === 'uint8' ? 1 : q === 'uint16' || q === 'float16' ? 2 : 4);
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
  const json = JSON.parse(text) as { modelTopology?: unknown; weightsManifest?: WeightsGroup[] };
  const model = modelFromJSON(json as Record<string, unknown>, file);
  const optimizerWeights = new Map<string, Float32Array>();
  const manifest = json.weightsManifest;
  if (!Array.isArray(manifest)) return { model, optimizerWeights };
  const byName = namedWeights(model);
  const loaded = new Set<LayerWeight>();
  for (const group of manifest) {
    const shards = group.paths.map((shard) => {
      const shardPath = path.join(path.dirname(file), shard);
      try {
        return readFileSync(shardPath);
      } catch (error) {
        throw new ConfigError(`${file}: cannot read weight shard ${shard} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
      }
    });
    const data = Buffer.concat(shards);
    let offset = 0;
    for (const spec of group.weights) {
      const size = byteSize(spec);
      if (offset + size > data.length) throw new ConfigError(`${file}: weight "${spec.name}" needs bytes ${offset}..${offset + size}, but the shards ${group.paths.join(', ')} hold ${data.length}`);
      if (spec.group === 'optimizer') {
        if (spec.dtype === 'float32') optimizerWeights.set(spec.name, decodeWeight(spec, data.subarray(offset, offset + size), file));
        offset += size;
        continue;
      }
      const target = targetOf(spec.name, byName);
      if (!target) throw new ConfigError(`${file}: weight "${spec.name}" matches no weight of the model (${[...byName.keys()].join(', ')})`);
      const expected = target.shape.reduce((a, b) => a * b, 1);
      if (spec.shape.reduce((a, b) => a * b, 1) !== expected) {
        throw new ConfigError(`${file}: weight "${spec.name}" has shape [${spec.shape.join(', ')}], the model's has [${target.shape.join(', ')}]`);
      }
      target.value = decodeWeight(spec, data.subarray(offset, offset + size), file);
      loaded.add(target);
      offset += size;
    }
  }
  const missing = [...byName.entries()].filter(([, w]) => !loaded.has(w)).map(([name]) => name);
  if (missing.length > 0) throw new ConfigError(`${file}: the weights manifest has no values for ${missing.join(', ')}`);
  return { model, optimizerWeights };
}
