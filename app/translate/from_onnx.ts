// Opens an ONNX file that Strata exported as a trainable model again: the Keras JSON in its
// metadata rebuilds the layers, and the initializers listed in its weight map give them back
// their weights (Conv kernels converted from OIHW to Keras's (kh, kw, in, out)). A file whose
// metadata was edited or damaged is a FormatError naming the file and the entry at fault.
import { ConfigError, FormatError, Model, modelFromJSON, type Layer } from '../model/index.ts';
import { parseOnnxModel } from '../onnx/inspect.ts';
import { tensorToArray } from '../onnx/tensor.ts';
import type { ModelProto } from '../onnx/schema.ts';
import { ONNX_LAYOUTS, fromOnnxLayout } from './kernel_layout.ts';
import { METADATA_KERAS_JSON, METADATA_WEIGHTS, type WeightLocation } from './to_onnx.ts';

/** Finds "encoder/dense" by walking nested models. */
export function layerAt(model: Model, path: string): Layer {
  let layer: Layer = model;
  for (const part of path.split('/')) {
    if (!(layer instanceof Model)) throw new ConfigError(`weight map names layer "${path}", but "${layer.name}" is not a model`);
    layer = layer.getLayer(part);
  }
  return layer;
}

export function modelFromOnnx(bytes: Uint8Array, source = '<onnx>'): Model {
  const proto: ModelProto = parseOnnxModel(bytes, source);
  const metadata = new Map((proto.metadataProps ?? []).map((p) => [p.key ?? '', p.value ?? '']));
  const json = metadata.get(METADATA_KERAS_JSON);
  const weightMap = metadata.get(METADATA_WEIGHTS);
  if (json === undefined || weightMap === undefined) {
    throw new ConfigError(
      `${source}: not written by Strata (no "${METADATA_KERAS_JSON}" in its metadata), so it cannot be opened as a trainable model; ` +
        `'strata inspect' and 'strata predict' work on any ONNX file`,
    );
  }
  const model = modelFromJSON(json, `${source} metadata`);
  const initializers = new Map((proto.graph?.initializer ?? []).map((t) => [t.name ?? '', t]));
  parseWeightMap(weightMap, source).forEach((location, i) => {
    const where = `${source}: ${METADATA_WEIGHTS}[${i}]`;
    let layer: Layer;
    try {
      layer = layerAt(model, location.layer);
    } catch (error) {
      throw new FormatError(`${where}: ${(error as Error).message}`, { file: source });
    }
    const weight = layer.weights.find((w) => w.name === location.weight);
    const tensor = initializers.get(location.initializer);
    if (!weight || !tensor) throw new ConfigError(`${source}: weight ${location.layer}/${location.weight} (initializer "${location.initializer}") is missing`);
    let array;
    try {
      array = tensorToArray(tensor);
    } catch (error) {
      throw new FormatError(`${source}: ${(error as Error).message}`, { file: source });
    }
    if (array.dtype !== 'float32' || array.data.length !== weight.value.length) {
      throw new ConfigError(`${source}: initializer "${location.initializer}" holds ${array.data.length} ${array.dtype} values; ${location.layer}/${location.weight} needs ${weight.value.length} float32`);
    }
    const data = array.data as Float32Array;
    weight.value = fromOnnxLayout(data, weight.shape, location.layout);
  });
  return model;
}

/** The weight map in the metadata: a JSON list of {layer, weight, initializer, layout}, checked entry by entry. */
function parseWeightMap(text: string, source: string): WeightLocation[] {
  const fail = (what: string): never => {
    throw new FormatError(`${source}: metadata "${METADATA_WEIGHTS}" ${what}; the file was changed after Strata wrote it`, { file: source, field: METADATA_WEIGHTS });
  };
  let entries: unknown;
  try {
    entries = JSON.parse(text);
  } catch (error) {
    return fail(`is not valid JSON (${(error as Error).message})`);
  }
  if (!Array.isArray(entries)) return fail('is not a list');
  return entries.map((entry: unknown, i) => {
    const e = entry as Partial<Record<keyof WeightLocation, unknown>> | null;
    const valid = typeof e === 'object' && e !== null && typeof e.layer === 'string' && typeof e.weight === 'string' && typeof e.initializer === 'string' && ONNX_LAYOUTS.includes(e.layout as string) && (e.dims === undefined || (Array.isArray(e.dims) && e.dims.every((d) => Number.isInteger(d) && d >= 0)));
    return valid ? (e as WeightLocation) : fail(`entry ${i} is ${JSON.stringify(entry)}, not {"layer", "weight", "initializer", "layout": ${ONNX_LAYOUTS.map((l) => `"${l}"`).join(' | ')}, "dims"?: [integers]}`);
  });
}
