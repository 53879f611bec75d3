// Moves weights between a model (Keras layouts, in its layers) and an engine session (the
// ONNX initializers the translator wrote), through the translator's weight map.
import type { LayerWeight, Model } from '../model/index.ts';
import { layerAt } from '../translate/from_onnx.ts';
import { fromOnnxLayout, onnxDims, toOnnxLayout } from '../translate/kernel_layout.ts';
import type { WeightLocation } from '../translate/to_onnx.ts';
import type { NativeTensor, TrainingSession } from './binding.ts';

interface Slot {
  location: WeightLocation;
  weight: LayerWeight;
}

export class WeightSync {
  private readonly slots: Slot[];

  constructor(
    private readonly model: Model,
    locations: WeightLocation[],
  ) {
    this.slots = locations.map((location) => {
      const weight = layerAt(model, location.layer).weights.find((w) => w.name === location.weight);
      if (!weight) throw new Error(`weight map names ${location.layer}/${location.weight}, which the model does not have`);
      return { location, weight };
    });
  }

  /** Initializer names of the model's trainable weights (frozen layers excluded). */
  trainableInitializers(): string[] {
    const trainable = new Set(this.model.trainableWeights);
    return this.slots.filter((s) => trainable.has(s.weight)).map((s) => s.location.initializer);
  }

  /** Engine -> model: every weight, the trained ones and BatchNormalization's moving statistics. */
  pull(session: TrainingSession): void {
    const byLayer = new Map<string, Map<LayerWeight, Float32Array>>();
    for (const { location, weight } of this.slots) {
      const data = session.getWeight(location.initializer).data as Float32Array;
      const value = fromOnnxLayout(data, weight.shape, location.layout);
      let layerValues = byLayer.get(location.layer);
      if (!layerValues) byLayer.set(location.layer, (layerValues = new Map()));
      layerValues.set(weight, value);
    }
    // setWeights per layer, so that each layer's weightsVersion moves (runtimes drop stale copies).
    for (const [path, values] of byLayer) {
      const layer = layerAt(this.model, path);
      layer.setWeights(layer.weights.map((w) => values.get(w) ?? w.value));
    }
  }

  /** Model -> engine (after a callback restored or changed weights). */
  push(session: TrainingSession): void {
    for (const { location, weight } of this.slots) {
      const data = toOnnxLayout(weight.value, weight.shape, location.layout);
      session.setWeight(location.initializer, { shape: location.dims ?? onnxDims(weight.shape, location.layout), data } satisfies NativeTensor);
    }
  }
}
