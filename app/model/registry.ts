// Layer classes by Keras class name, for reading Keras JSON (as TensorFlow.js's
// serialization.registerClass). Each layer module registers its classes right below them.
import type { Layer } from './layer.ts';

export interface LayerClass {
  readonly className: string;
  /** Builds the layer from its Keras config (snake_case keys); rejects keys it does not know. */
  fromConfig(config: Record<string, unknown>): Layer;
}

const registry = new Map<string, LayerClass>();

export function registerLayer(cls: LayerClass): void {
  registry.set(cls.className, cls);
}

export function getLayerClass(className: string): LayerClass | undefined {
  return registry.get(className);
}

export function registeredClassNames(): string[] {
  return [...registry.keys()].sort();
}
