// Sequential: a plain stack of single-input layers. As in TensorFlow.js and Keras 3, it is
// a Functional graph that is a chain: once the input shape is known (from the first layer's
// inputShape, an Input, or build()), each added layer is applied to the previous output.
import { ValueError } from './errors.ts';
import { Input, InputLayer } from './layers/input.ts';
import { Concatenate, ElementwiseMerge } from './layers/merge.ts';
import { Layer, SymbolicTensor } from './layer.ts';
import { Model } from './model.ts';
import type { Shape } from './shape.ts';

export interface SequentialArgs {
  layers?: Layer[];
  name?: string;
  trainable?: boolean;
}

export class Sequential extends Model {
  static override className = 'Sequential';
  private readonly stack: Layer[] = [];
  private inputLayer: InputLayer | null = null;

  /** `new Sequential([layer, ...], {name})`, as Keras's Sequential(layers, name=...). */
  constructor(layers: Layer[] | SequentialArgs = [], args: SequentialArgs = {}) {
    const merged = Array.isArray(layers) ? { ...args, layers } : { ...layers, ...args };
    super({ ...(merged.name !== undefined ? { name: merged.name } : {}), ...(merged.trainable !== undefined ? { trainable: merged.trainable } : {}) });
    for (const layer of merged.layers ?? []) this.add(layer);
  }

  /** Sequential models never show InputLayers among their layers (as Keras). */
  override get layers(): Layer[] {
    return [...this.stack];
  }

  override get isSubclassed(): boolean {
    return false;
  }

  override get kind(): 'sequential' {
    return 'sequential';
  }

  /** tf.keras 2.x's Sequential config: the InputLayer (when the input is known), then each layer. */
  override getConfig(): Record<string, unknown> {
    const entries = this.stack.map((layer) => ({ class_name: layer.kerasClassName, config: layer.getConfig() }));
    if (this.inputLayer) entries.unshift({ class_name: 'InputLayer', config: this.inputLayer.getConfig() });
    return { name: this.name, layers: entries };
  }

  /** Appends a layer, or sets the input with `add(Input({shape}))` / `add(new InputLayer(...))`. */
  add(layer: Layer | SymbolicTensor): void {
    if (layer instanceof SymbolicTensor || layer instanceof InputLayer) {
      const inputLayer = layer instanceof SymbolicTensor ? layer.sourceLayer : layer;
      if (!(inputLayer instanceof InputLayer)) throw new ValueError(`${this.name}: add() takes layers or an Input(...); got a tensor from ${inputLayer.name}`);
      if (this.inputLayer || this.stack.length > 0) {
        throw new ValueError(`${this.name}: an Input can only be added first, to an empty Sequential model`);
      }
      this.inputLayer = inputLayer;
      return;
    }
    if (!(layer instanceof Layer)) throw new ValueError(`${this.name}: add() takes a Layer, got ${String(layer)}`);
    if (layer instanceof Concatenate || layer instanceof ElementwiseMerge) {
      throw new ValueError(`${this.name}: ${layer.name} (${layer.className}) joins several inputs, but a Sequential model is a chain of single-input layers; use the functional API`);
    }
    // The input shape comes from the first layer's inputShape or, for a model used as the
    // first layer, from that model's input (as tf.keras does).
    const firstShape = layer.batchInputShape ?? (layer instanceof Model && layer.built && layer.inputs.length === 1 ? layer.inputs[0]!.shape : undefined);
    if (this.stack.length === 0 && !this.inputLayer && firstShape) {
      // Named as tf.keras 2.x names it ("conv1_input"), which is also the ONNX input's name.
      this.inputLayer = new InputLayer({ batchShape: firstShape, name: `${layer.name}_input` });
    }
    this.stack.push(layer);
    if (this.inputLayer) {
      const previous = this.network ? this.outputs[0]! : this.inputLayer.output;
      this.initGraph([this.inputLayer.output], [layer.apply(previous)]);
    }
  }

  /** Removes the last layer (Keras's pop()). */
  pop(): Layer {
    const layer = this.stack.pop();
    if (!layer) throw new ValueError(`${this.name}: there are no layers to remove`);
    this.network = null;
    this.built = false;
    this.inputs = [];
    this.outputs = [];
    if (this.inputLayer) this.applyStack(this.inputLayer);
    return layer;
  }

  /** Sets the input shape (batch dimension first) of a Sequential model that has none yet. */
  override build(inputShape: Shape | Shape[]): void {
    if (this.network) return;
    const shapes = inputShape.length > 0 && Array.isArray(inputShape[0]) ? (inputShape as Shape[]) : [inputShape as Shape];
    if (shapes.length !== 1) throw new ValueError(`${this.name}: a Sequential model has one input, got ${shapes.length} shapes`);
    this.inputLayer = this.inputLayer ?? Input({ batchShape: shapes[0]! }).sourceLayer as InputLayer;
    this.applyStack(this.inputLayer);
  }

  private applyStack(inputLayer: InputLayer): void {
    if (this.stack.length === 0) return;
    let x = inputLayer.output;
    for (const layer of this.stack) x = layer.apply(x);
    this.initGraph([inputLayer.output], [x]);
  }
}
