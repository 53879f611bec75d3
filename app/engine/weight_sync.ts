// Moves weights between a model (Keras layouts, in its layers) and an engine session (the
// ONNX initializers the translator wrote), through the translator's weight map.
import { ValueError, type Constraint, type LayerWeight, type Model } from '../model/index.ts';
import { layerAt } from '../translate/from_onnx.ts';
import { fromOnnxLayout, normView, onnxDims, toOnnxLayout } from '../translate/kernel_layout.ts';
import type { WeightLocation } from '../translate/to_onnx.ts';
import type { NativeTensor, NativeWeightRule, TrainingSession } from './binding.ts';

const CONSTRAINT_NAMES: Record<Constraint['className'], NonNullable<NativeWeightRule['constraint']>> = {
  MaxNorm: 'max_norm', NonNeg: 'non_neg', UnitNorm: 'unit_norm', MinMaxNorm: 'min_max_norm',
};

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

  /** The trainable weights' regularizers and constraints, for the engine; their axes in the initializers' layouts. */
  weightRules(): NativeWeightRule[] {
    const trainable = new Set(this.model.trainableWeights);
    return this.slots.flatMap(({ location, weight }): NativeWeightRule[] => {
      if (!trainable.has(weight)) return [];
      const layer = layerAt(this.model, location.layer);
      const regularizer = layer.weightRules?.regularizer(weight.name) ?? null;
      const constraint = layer.weightRules?.constraint(weight.name) ?? null;
      if (!regularizer && !constraint) return [];
      const rule: NativeWeightRule = { initializer: location.initializer, l1: regularizer?.l1 ?? 0, l2: regularizer?.l2 ?? 0 };
      if (!constraint) return [rule];
      const view = constraint.className === 'NonNeg' ? { outer: 1, reduce: 1, inner: 1 } : normView(weight.shape, location.layout, constraint.axis);
      if (!view) {
        throw new ValueError(`${location.layer}: the ${weight.name}'s ${constraint.className} over axis ${JSON.stringify(constraint.axis)} of shape [${weight.shape.join(', ')}] needs adjacent axes in the engine's layout (for a Conv2D kernel, e.g. [0, 1, 2] or 3)`);
      }
      return [{ ...rule, constraint: CONSTRAINT_NAMES[constraint.className], minValue: constraint.minValue, maxValue: constraint.maxValue, rate: constraint.rate, ...view }];
    });
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
