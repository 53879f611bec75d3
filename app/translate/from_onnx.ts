// Opens an ONNX file that Strata exported as a trainable model again: the Keras JSON in its
// metadata rebuilds the layers, and the initializers listed in its weight map give them back
// their weights (Conv kernels converted from OIHW to Keras's (kh, kw, in, out)).
import { ConfigError, Model, modelFromJSON, type Layer } from '../model/index.ts';
import { parseOnnxModel } from '../onnx/inspect.ts';
import { tensorToArray } from '../onnx/tensor.ts';
import type { ModelProto } from '../onnx/schema.ts';
import { kernelFromOihw } from './kernel_layout.ts';
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
  for (const location of JSON.parse(weightMap) as WeightLocation[]) {
    const layer = layerAt(model, location.layer);
    const weight = layer.weights.find((w) => w.name === location.weight);
    const tensor = initializers.get(location.initializer);
    if (!weight || !tensor) throw new ConfigError(`${source}: weight ${location.layer}/${location.weight} (initializer "${location.initializer}") is missing`);
    const array = tensorToArray(tensor);
    if (array.dtype !== 'float32' || array.data.length !== weight.value.length) {
      throw new ConfigError(`${source}: initializer "${location.initializer}" holds ${array.data.length} ${array.dtype} values; ${location.layer}/${location.weight} needs ${weight.value.length} float32`);
    }
    const data = array.data as Float32Array;
    weight.value = location.layout === 'oihw' ? kernelFromOihw(data, weight.shape) : Float32Array.from(data);
  }
  return model;
}
