// Model: a graph of layers from inputs to outputs. The same class serves the three ways of
// defining a model, as in Keras:
//  - Functional: `new Model({inputs, outputs})` over tensors built by applying layers;
//  - subclassing: a class that extends Model and defines call(); build() traces call() once
//    with symbolic inputs into the same kind of graph (so Python-style control flow that
//    depends on data is fixed at trace time);
//  - Sequential (sequential.ts): a chain built by applying each layer to the previous output.
// A model is also a Layer, so it can be applied inside another model.
import { LimitError, ShapeError, ValueError } from './errors.ts';
import { LIMITS } from './limits.ts';
import { Input } from './layers/input.ts';
import { Layer, uniqueLayerName, toSnakeCase, type LayerWeight, type Node, type SymbolicTensor } from './layer.ts';
import { mapNetwork, type Network } from './network.ts';
import { formatShape, type Shape } from './shape.ts';
import { describeGraph, type GraphDescription } from './graph.ts';
import { renderSummary, summaryData, type SummaryOptions } from './summary.ts';
import { arraysInOrder, getInferenceBackend, type ArrayData, type PredictOptions } from './backend.ts';
import type { History, Logs } from './callbacks.ts';
import type { Optimizer } from './optimizers.ts';
import { compileArgsFromTrainingConfig, getTrainingBackend, resolveCompile, type CompileArgs, type CompiledConfig, type EvaluateOptions, type FitOptions } from './training.ts';

/** Written into Keras JSON as keras_version: the format is tf.keras 2.x's, the writer Strata. */
export const KERAS_JSON_WRITER = 'strata';

export interface ModelArgs {
  inputs?: SymbolicTensor | SymbolicTensor[];
  outputs?: SymbolicTensor | SymbolicTensor[];
  name?: string;
  trainable?: boolean;
}

export interface CallOptions {
  /** Undefined while tracing: layers such as Dropout switch on it at run time, not at trace time. */
  training?: boolean;
}

function asList<T>(x: T | T[] | undefined): T[] {
  return x === undefined ? [] : Array.isArray(x) ? x : [x];
}

/** A model definition is given as a shape with the batch dimension, or one per input. */
function asShapeList(shape: Shape | Shape[]): Shape[] {
  return shape.length > 0 && Array.isArray(shape[0]) ? (shape as Shape[]) : [shape as Shape];
}

export class Model extends Layer {
  static override className = 'Functional';

  inputs: SymbolicTensor[] = [];
  outputs: SymbolicTensor[] = [];
  protected network: Network | null = null;

  constructor(args: ModelArgs = {}) {
    const ctor = new.target as unknown as { className?: string; name: string };
    const ownClassName = Object.prototype.hasOwnProperty.call(ctor, 'className');
    const prefix = ownClassName ? toSnakeCase(ctor.className!) : toSnakeCase(ctor.name);
    super({ name: args.name ?? uniqueLayerName(prefix), ...(args.trainable !== undefined ? { trainable: args.trainable } : {}) });
    if (args.inputs !== undefined || args.outputs !== undefined) {
      if (args.inputs === undefined || args.outputs === undefined) throw new ValueError(`${this.name}: a functional model needs both inputs and outputs`);
      this.initGraph(asList(args.inputs), asList(args.outputs));
    }
  }

  /** "Functional", "Sequential", or the name of a subclass (as Keras's summary shows). */
  override get className(): string {
    const ctor = this.constructor as typeof Model;
    return Object.prototype.hasOwnProperty.call(ctor, 'className') ? ctor.className : ctor.name;
  }

  /** True for classes that extend Model and define call(). */
  get isSubclassed(): boolean {
    return this.call !== Model.prototype.call;
  }

  /** How the model was defined; decides how summary() lists it. */
  get kind(): 'functional' | 'sequential' | 'subclassed' {
    return this.isSubclassed ? 'subclassed' : 'functional';
  }

  /** A subclassed model is saved as the Functional graph its call() traces to. */
  override get kerasClassName(): string {
    return this.isSubclassed ? 'Functional' : this.className;
  }

  /** Training settings read from a Keras or TensorFlow.js file, kept so that saving loses nothing. */
  trainingConfig: Record<string, unknown> | null = null;

  /** Set by compile(). */
  compiled: CompiledConfig | null = null;
  /** Set by a callback to end fit() after the current batch or epoch (Keras's stop_training). */
  stopTraining = false;

  get optimizer(): Optimizer | null {
    return this.compiled?.optimizer ?? null;
  }

  /** Keras's compile(): an optimizer, one loss per output (or one for all), metrics, loss weights. */
  compile(args: CompileArgs): void {
    this.assertBuilt();
    this.compiled = resolveCompile(this, args);
  }

  /** compile() from Keras's training_config, as a file loaded from disk carries it. */
  compileFromTrainingConfig(config: Record<string, unknown>): void {
    this.compile(compileArgsFromTrainingConfig(config));
  }

  private assertCompiled(): CompiledConfig {
    if (!this.compiled) throw new ValueError(`${this.name}: call compile({optimizer, loss}) before fit() or evaluate()`);
    return this.compiled;
  }

  /** Keras's fit(): trains on x (one array per input) and y (one per output); returns the History. */
  async fit(x: ArrayData | ArrayData[] | Record<string, ArrayData>, y: ArrayData | ArrayData[] | Record<string, ArrayData>, options: FitOptions = {}): Promise<History> {
    this.assertCompiled();
    const inputs = arraysInOrder(x, this.inputs.map((t) => t.sourceLayer.name), `${this.name}.fit() x`);
    const targets = arraysInOrder(y, this.outputs.map((t) => t.sourceLayer.name), `${this.name}.fit() y`);
    return getTrainingBackend().fit(this, inputs, targets, options);
  }

  /** Keras's evaluate(): the loss and metrics over x and y, in inference mode. */
  async evaluate(x: ArrayData | ArrayData[] | Record<string, ArrayData>, y: ArrayData | ArrayData[] | Record<string, ArrayData>, options: EvaluateOptions = {}): Promise<Logs> {
    this.assertCompiled();
    const inputs = arraysInOrder(x, this.inputs.map((t) => t.sourceLayer.name), `${this.name}.evaluate() x`);
    const targets = arraysInOrder(y, this.outputs.map((t) => t.sourceLayer.name), `${this.name}.evaluate() y`);
    return getTrainingBackend().evaluate(this, inputs, targets, options);
  }

  /** Levels of models in this one, itself included: 1 for a model of plain layers, 2 with a model inside, ... */
  nestingDepth = 1;

  protected initGraph(inputs: SymbolicTensor[], outputs: SymbolicTensor[]): void {
    if (inputs.length === 0 || outputs.length === 0) throw new ValueError(`${this.name}: a model needs at least one input and one output`);
    const network = mapNetwork(inputs, outputs, this.name);
    // Deeper nesting would overflow the stack of every walk over the model (summary, export, weights).
    const depth = 1 + network.layers.reduce((deepest, layer) => Math.max(deepest, layer instanceof Model ? layer.nestingDepth : 0), 0);
    if (depth > LIMITS.nestingDepth) {
      throw new LimitError(`${this.name}: models nested ${depth} deep; Strata takes at most ${LIMITS.nestingDepth} levels of models inside models`, { layer: this.name });
    }
    this.nestingDepth = depth;
    this.network = network;
    this.inputs = inputs;
    this.outputs = outputs;
    this.built = true;
  }

  /**
   * For subclassed models: builds the layers by tracing call() on symbolic inputs of the
   * given shape(s), batch dimension first (`model.build([null, 100])`).
   */
  override build(inputShape: Shape | Shape[]): void {
    if (!this.isSubclassed) {
      if (this.network) return;
      throw new ValueError(`${this.name}: a Functional model is built from its inputs and outputs`);
    }
    const inputs = asShapeList(inputShape).map((batchShape) => Input({ batchShape }));
    const result = this.call(inputs.length === 1 ? inputs[0]! : inputs, {});
    this.initGraph(inputs, asList(result));
  }

  /** Subclasses define the forward pass here, applying layers to the given tensors. */
  call(_inputs: SymbolicTensor | SymbolicTensor[], _options: CallOptions): SymbolicTensor | SymbolicTensor[] {
    throw new ValueError(`${this.name}: call() is defined by subclasses of Model; a Functional model is applied with apply()`);
  }

  /** The mapped graph; throws if the model has no inputs yet. */
  get graph(): Network {
    return this.assertBuilt();
  }

  protected assertBuilt(): Network {
    if (!this.network) {
      throw new ValueError(
        `${this.name}: this model has not yet been built. Build it by calling build(inputShape) ` +
          `or give the first layer an inputShape (or start with Input(...))`,
      );
    }
    return this.network;
  }

  /**
   * The model's layers as Keras lists them: Functional models include their InputLayers;
   * subclassed models list the layers assigned to their fields, in assignment order.
   */
  get layers(): Layer[] {
    if (this.isSubclassed) return trackedLayers(this);
    return this.network ? [...this.network.layers] : [];
  }

  /** Finds a layer by name, as Keras's get_layer. */
  getLayer(name: string): Layer {
    const layer = this.layers.find((l) => l.name === name);
    if (!layer) throw new ValueError(`${this.name}: no layer named "${name}"; layers: ${this.layers.map((l) => l.name).join(', ')}`);
    return layer;
  }

  /** Each distinct layer's weights, layer by layer (Keras's get_weights order). */
  override get weights(): LayerWeight[] {
    return [...new Set(this.layers.flatMap((layer) => layer.weights))];
  }

  override get trainableWeights(): LayerWeight[] {
    return this.trainable ? [...new Set(this.layers.flatMap((layer) => layer.trainableWeights))] : [];
  }

  override get nonTrainableWeights(): LayerWeight[] {
    const all = new Set(this.layers.flatMap((layer) => layer.weights));
    const trainable = new Set(this.trainableWeights);
    return [...all].filter((w) => !trainable.has(w));
  }

  /** The nodes of `layer` that belong to this model's graph. */
  nodesOf(layer: Layer): Node[] {
    const nodes = this.network ? new Set(this.network.nodes) : new Set<Node>();
    return layer.inboundNodes.filter((node) => nodes.has(node));
  }

  /**
   * Runs the model on arrays, as Keras's predict: one array per input (a list in model.inputs
   * order, or a map by input name), the batch first. Returns one array per output (a single
   * array for single-output models). Inference mode: Dropout off, BatchNormalization's moving
   * statistics.
   */
  async predict(x: ArrayData | ArrayData[] | Record<string, ArrayData>, options: PredictOptions = {}): Promise<ArrayData | ArrayData[]> {
    this.assertBuilt();
    const inputs = arraysInOrder(x, this.inputs.map((t) => t.sourceLayer.name), `${this.name}.predict() x`);
    const outputs = await getInferenceBackend(options.runtime).predict(this, inputs, options);
    return outputs.length === 1 ? outputs[0]! : outputs;
  }

  /** Keras's summary table; returned, and passed to printFn when given. */
  summary(options: ModelSummaryOptions = {}): string {
    return renderSummary(summaryData(this), options);
  }

  /** The layer graph as plain data, for graph views and plot_model-style exports. */
  describeGraph(): GraphDescription {
    return describeGraph(this);
  }

  /** tf.keras 2.x's Functional config: layers with their inbound nodes, input and output layers. */
  override getConfig(): Record<string, unknown> {
    const network = this.graph;
    const inNetwork = new Set(network.nodes);
    // Node indices in the file count only this model's calls of each layer, as Keras remaps them.
    const nodeIndex = new Map<Node, number>();
    for (const layer of network.layers) layer.inboundNodes.filter((n) => inNetwork.has(n)).forEach((n, i) => nodeIndex.set(n, i));
    const ref = (t: SymbolicTensor): [string, number, number] => [t.sourceLayer.name, nodeIndex.get(t.sourceLayer.inboundNodes[t.nodeIndex]!)!, t.tensorIndex];
    return {
      name: this.name,
      trainable: this.trainable,
      layers: network.layers.map((layer) => ({
        class_name: layer.kerasClassName,
        config: layer.getConfig(),
        name: layer.name,
        inbound_nodes: this.nodesOf(layer)
          .filter((n) => !n.isInput)
          .map((n) => nodeReferences(n, ref)),
      })),
      input_layers: this.inputs.map(ref),
      output_layers: this.outputs.map(ref),
    };
  }

  /** The Keras JSON of the model, as tf.keras 2.x's model.to_json(). */
  toJSON(): string {
    const json: Record<string, unknown> = { class_name: this.kerasClassName, config: this.getConfig(), keras_version: KERAS_JSON_WRITER, backend: 'strata' };
    if (this.trainingConfig) json.training_config = this.trainingConfig;
    return JSON.stringify(json);
  }

  /** A model used as a layer: inputs must match its own, outputs keep their shapes. */
  computeOutputShapes(inputShapes: Shape[]): Shape[] {
    this.assertBuilt();
    if (inputShapes.length !== this.inputs.length) {
      throw new ShapeError(`${this.name}: expects ${this.inputs.length} input(s), got ${inputShapes.length}`);
    }
    inputShapes.forEach((shape, i) => {
      const expected = this.inputs[i]!.shape;
      const fits = shape.length === expected.length && shape.every((d, j) => j === 0 || d === null || expected[j] === null || d === expected[j]);
      if (!fits) throw new ShapeError(`${this.name}: input ${i} expected shape ${formatShape(expected)}, got ${formatShape(shape)}`);
    });
    return this.outputs.map((out) => [inputShapes[0]![0]!, ...out.shape.slice(1)]);
  }
}

export interface ModelSummaryOptions extends SummaryOptions {}

/**
 * A node's inbound references as tf.keras 2.x's Node.serialize() writes them: each positional
 * input with the call's kwargs beside it; inputs the layer takes as kwargs (MultiHeadAttention's
 * value and key) inside those kwargs instead.
 */
function nodeReferences(node: Node, ref: (t: SymbolicTensor) => [string, number, number]): unknown[] {
  const tensorKeys = (node.layer.constructor as typeof Layer).tensorCallArguments;
  const positional = tensorKeys.length > 0 ? node.inputs.slice(0, 1) : node.inputs;
  const kwargs: Record<string, unknown> = Object.fromEntries(node.inputs.slice(positional.length).map((t, i) => [tensorKeys[i]!, ref(t)]));
  Object.assign(kwargs, node.kwargs);
  return positional.map((t) => [...ref(t), kwargs]);
}

/**
 * Changes whenever setWeights() is called on any of the model's layers (nested models
 * included): runtimes compare it to know when their copy of the weights is stale.
 */
export function weightsGeneration(model: Model): number {
  return model.layers.reduce((sum, layer) => sum + layer.weightsVersion + (layer instanceof Model ? weightsGeneration(layer) : 0), model.weightsVersion);
}

/** Layers held by a subclassed model's fields (directly or in arrays), in field order. */
function trackedLayers(model: Model): Layer[] {
  const found: Layer[] = [];
  const visit = (value: unknown): void => {
    if (value instanceof Layer && value !== model && !found.includes(value)) found.push(value);
    else if (Array.isArray(value)) value.forEach(visit);
  };
  for (const [key, value] of Object.entries(model)) {
    if (key === 'inputs' || key === 'outputs' || key === 'network' || key === 'inboundNodes') continue;
    visit(value);
  }
  return found;
}
