// The layer base class and the symbolic graph it builds, after TensorFlow.js layers'
// engine/topology.ts: applying a layer to SymbolicTensors builds it (creating its weights
// from the input shape), infers the output shape and records a Node that links inputs to
// outputs. Sequential, Functional and subclassed models are all read from these Nodes.
import { LimitError, ShapeError, ValueError } from './errors.ts';
import { getInitializer, type Initializer } from './initializers.ts';
import { LIMITS } from './limits.ts';
import type { Constraint } from './constraints.ts';
import type { Regularizer } from './regularizers.ts';
import { checkOptions } from './options.ts';
import { formatShape, product, type Shape } from './shape.ts';

/** A placeholder for a batch of data: a shape (batch first, null where unknown) and its producer. */
export class SymbolicTensor {
  constructor(
    readonly shape: Shape,
    /** The layer whose call produced this tensor. */
    readonly sourceLayer: Layer,
    /** Which call of that layer (index into its inboundNodes). */
    readonly nodeIndex: number,
    /** Which output of that call. */
    readonly tensorIndex: number,
  ) {}

  /** Keras's history triple, as written in "Connected to" and in inbound_nodes. */
  get name(): string {
    return `${this.sourceLayer.name}[${this.nodeIndex}][${this.tensorIndex}]`;
  }

  get rank(): number {
    return this.shape.length;
  }
}

/** A call's arguments beyond its inputs, under the names Keras writes in a node's kwargs ({use_causal_mask: true}). */
export type CallKwargs = Readonly<Record<string, boolean>>;

/** One call of a layer: the tensors it consumed and produced, and the call's own arguments. */
export class Node {
  constructor(
    readonly layer: Layer,
    readonly inputs: SymbolicTensor[],
    readonly outputs: SymbolicTensor[],
    readonly kwargs: CallKwargs = {},
  ) {}

  /** The nodes that produced this node's inputs. */
  get parentNodes(): Node[] {
    return this.inputs.map((t) => t.sourceLayer.inboundNodes[t.nodeIndex]!);
  }

  get isInput(): boolean {
    return this.inputs.length === 0;
  }
}

/** A weight variable, held in Keras's layout (Dense kernel (in, out), Conv2D kernel (kh, kw, in, out)). */
export interface LayerWeight {
  /** "kernel", "bias", "gamma", "moving_mean", ... */
  readonly name: string;
  readonly shape: readonly number[];
  readonly trainable: boolean;
  value: Float32Array;
}

/** A layer's Keras regularizers and constraints: per weight (null: none) and on its output. */
export interface WeightRules {
  regularizer(weight: string): Regularizer | null;
  /** Applied after each optimizer step. */
  constraint(weight: string): Constraint | null;
  /** Its penalty on the layer's output joins the loss. */
  readonly activityRegularizer: Regularizer | null;
}

/** Arguments every layer takes (Keras's base-layer keywords in camelCase). */
export interface LayerArgs {
  name?: string;
  trainable?: boolean;
  /** Shape of one sample, without the batch dimension: Keras's input_shape. */
  inputShape?: Shape;
  /** Shape with the batch dimension first: Keras's batch_input_shape. */
  batchInputShape?: Shape;
  batchSize?: number;
  dtype?: 'float32';
}

/** LayerArgs's keys, for layers that check their options object (options.ts's checkOptions). */
export const LAYER_ARG_NAMES: readonly string[] = ['name', 'trainable', 'inputShape', 'batchInputShape', 'batchSize', 'dtype'];

/** Keras's auto names: one counter per prefix, "dense", "dense_1", ... */
const nameCounters = new Map<string, number>();

export function uniqueLayerName(prefix: string): string {
  const count = nameCounters.get(prefix) ?? 0;
  nameCounters.set(prefix, count + 1);
  return count === 0 ? prefix : `${prefix}_${count}`;
}

/** As `keras.backend.clear_session()`: restarts automatic names ("dense", "dense_1", ...). */
export function clearSession(): void {
  nameCounters.clear();
}

/** Keras's to_snake_case: "MaxPooling2D" -> "max_pooling2d". */
export function toSnakeCase(name: string): string {
  return name
    .replace(/(.)([A-Z][a-z]+)/g, '$1_$2')
    .replace(/([a-z])([A-Z])/g, '$1_$2')
    .toLowerCase();
}

export abstract class Layer {
  /** The Keras class name, e.g. "Dense"; also the key in the serialization registry. */
  static className = 'Layer';

  readonly name: string;
  trainable: boolean;
  built = false;
  /** Every call of this layer, in call order. A shared layer has several. */
  readonly inboundNodes: Node[] = [];
  /** Set when the layer was given an input shape; makes it the start of a Sequential model. */
  readonly batchInputShape: Shape | undefined;
  protected readonly weightList: LayerWeight[] = [];

  constructor(args: LayerArgs = {}) {
    this.name = args.name ?? uniqueLayerName(toSnakeCase(this.className));
    // As Keras 3: "/" separates nested models' layers in weight paths ("encoder/dense/kernel").
    if (this.name.length === 0 || this.name.includes('/') || /[\u0000-\u001f]/.test(this.name)) {
      throw new ValueError(`layer name ${JSON.stringify(this.name)} must be non-empty, without "/" or control characters`);
    }
    this.trainable = args.trainable ?? true;
    if (args.dtype !== undefined && args.dtype !== 'float32') {
      throw new ValueError(`${this.name}: dtype ${JSON.stringify(args.dtype)} is not supported; Strata computes in float32`);
    }
    for (const field of ['inputShape', 'batchInputShape'] as const) {
      if (args[field] !== undefined && args[field] !== null && !Array.isArray(args[field])) {
        throw new ValueError(`${this.name}: ${field} must be a list of dimensions, got ${JSON.stringify(args[field]) ?? String(args[field])}`, { layer: this.name, field });
      }
    }
    if (args.batchInputShape) this.batchInputShape = [...args.batchInputShape];
    else if (args.inputShape) this.batchInputShape = [args.batchSize ?? null, ...args.inputShape];
  }

  get className(): string {
    return (this.constructor as typeof Layer).className;
  }

  /** Keras's regularizers and constraints of the layer's weights and its activity_regularizer (Dense, Conv2D); null: none. */
  get weightRules(): WeightRules | null {
    return null;
  }

  /** The class_name written to Keras JSON. */
  get kerasClassName(): string {
    return this.className;
  }

  /**
   * Keras's call arguments the layer takes beyond its inputs, Strata's camelCase name -> the
   * name Keras writes in a node's kwargs (Attention: {useCausalMask: 'use_causal_mask'}).
   */
  static callArguments: Readonly<Record<string, string>> = {};

  /**
   * Inputs after the first that tf.keras 2.x writes as the call's kwargs, in input order
   * (MultiHeadAttention's ['value', 'key']: a node [[query, 0, 0, {"value": [v, 0, 0]}]]).
   */
  static tensorCallArguments: readonly string[] = [];

  /**
   * Calls the layer on symbolic tensors: builds it on first use, checks the input shapes,
   * and returns the output tensor. A layer applied again shares its weights. `callArgs` are
   * the layer's call arguments (callArguments), e.g. {useCausalMask: true}.
   */
  apply(inputs: SymbolicTensor | SymbolicTensor[], callArgs?: Record<string, boolean>): SymbolicTensor {
    const outputs = this.applyMultiOutput(inputs, callArgs);
    if (outputs.length !== 1) {
      throw new ValueError(`${this.name}: has ${outputs.length} outputs; use applyMultiOutput() to get them all`);
    }
    return outputs[0]!;
  }

  /** As apply(), for layers (models, Attention returning its scores) with several outputs. */
  applyMultiOutput(inputs: SymbolicTensor | SymbolicTensor[], callArgs?: Record<string, boolean>): SymbolicTensor[] {
    const known = (this.constructor as typeof Layer).callArguments;
    const given = checkOptions(`${this.name} call`, callArgs, Object.keys(known), '{useCausalMask: true}');
    const kwargs: Record<string, boolean> = {};
    for (const [key, value] of Object.entries(given)) {
      if (typeof value !== 'boolean') throw new ValueError(`${this.name}: call argument ${key} must be true or false, got ${JSON.stringify(value)}`);
      kwargs[known[key]!] = value;
    }
    return this.applyWithKwargs(Array.isArray(inputs) ? inputs : [inputs], kwargs);
  }

  /** As applyMultiOutput(), with the call arguments under Keras's names, as a model file's node holds them. */
  applyWithKwargs(inputs: SymbolicTensor[], kwargs: CallKwargs): SymbolicTensor[] {
    for (const [i, x] of inputs.entries()) {
      if (!(x instanceof SymbolicTensor)) {
        throw new ValueError(`${this.name}: input ${i} is not a symbolic tensor; apply layers to Input(...) or to other layers' outputs`);
      }
    }
    const inputShapes = inputs.map((x) => x.shape);
    if (!this.built) {
      this.build(inputShapes);
      this.built = true;
    }
    const outputShapes = this.computeOutputShapes(inputShapes, kwargs);
    const nodeIndex = this.inboundNodes.length;
    const outputs = outputShapes.map((shape, i) => new SymbolicTensor(shape, this, nodeIndex, i));
    this.inboundNodes.push(new Node(this, inputs, outputs, { ...kwargs }));
    return outputs;
  }

  /** Creates the weights for the given input shapes. Layers without weights keep this. */
  build(_inputShapes: Shape[]): void {}

  /**
   * Checks the input shapes and returns the output shapes. Errors name the layer and the
   * shape at fault: "conv2: expected a 4-D input (batch, h, w, c), got (None, 100)".
   */
  abstract computeOutputShapes(inputShapes: Shape[], kwargs?: CallKwargs): Shape[];

  /** For layers that take one tensor: returns it, or says that a list was given. */
  protected singleInput(inputShapes: Shape[]): Shape {
    if (inputShapes.length !== 1) {
      throw new ShapeError(`${this.name}: expects one input, got ${inputShapes.length}: ${inputShapes.map(formatShape).join(', ')}`);
    }
    return inputShapes[0]!;
  }

  /** Checks the rank of a single input; `layout` spells the dimensions for the message. */
  protected expectRank(shape: Shape, rank: number, layout: string): void {
    if (shape.length !== rank) {
      throw new ShapeError(`${this.name}: expected a ${rank}-D input ${layout}, got ${formatShape(shape)}`);
    }
  }

  protected addWeight(name: string, shape: number[], initializer: Initializer | string, trainable = true): LayerWeight {
    const init = getInitializer(initializer, `${this.name}.${name}`);
    const elements = product(shape);
    if (elements > LIMITS.weightElements) {
      throw new LimitError(
        `${this.name}: weight "${name}" of shape ${formatShape(shape)} would hold ${elements.toLocaleString('en-US')} values, more than the ${LIMITS.weightElements.toLocaleString('en-US')} one weight may have`,
        { layer: this.name, field: name },
      );
    }
    let value: Float32Array;
    try {
      value = init.generate(shape);
    } catch (error) {
      // Allocation failure: the weights so far have used the memory there is.
      if (!(error instanceof RangeError && /allocation failed|Invalid typed array length/.test(error.message))) throw error;
      throw new LimitError(`${this.name}: no memory for weight "${name}" of shape ${formatShape(shape)} (${error.message})`, { layer: this.name, field: name });
    }
    const weight: LayerWeight = { name, shape, trainable, value };
    this.weightList.push(weight);
    return weight;
  }

  /** Trainable weights first, then the rest, as Keras orders layer.weights. */
  get weights(): LayerWeight[] {
    return [...this.trainableWeights, ...this.nonTrainableWeights];
  }

  get trainableWeights(): LayerWeight[] {
    return this.trainable ? this.weightList.filter((w) => w.trainable) : [];
  }

  get nonTrainableWeights(): LayerWeight[] {
    return this.trainable ? this.weightList.filter((w) => !w.trainable) : [...this.weightList];
  }

  countParams(): number {
    return this.weights.reduce((n, w) => n + product(w.shape), 0);
  }

  /** Copies of the weight values, in `weights` order. */
  getWeights(): Float32Array[] {
    return this.weights.map((w) => w.value.slice());
  }

  /** Sets weight values in `weights` order; sizes must match exactly. */
  setWeights(values: readonly Float32Array[]): void {
    const weights = this.weights;
    if (values.length !== weights.length) {
      throw new ValueError(`${this.name}: setWeights expected ${weights.length} arrays (${weights.map((w) => w.name).join(', ')}), got ${values.length}`);
    }
    weights.forEach((w, i) => {
      const v = values[i]!;
      if (v.length !== product(w.shape)) {
        throw new ValueError(`${this.name}: weight "${w.name}" has shape ${formatShape(w.shape)} (${product(w.shape)} values), got ${v.length} values`);
      }
    });
    weights.forEach((w, i) => (w.value = Float32Array.from(values[i]!)));
    this.weightsVersion++;
  }

  /** Counts setWeights() calls, so that runtimes know when cached copies of the weights are stale. */
  weightsVersion = 0;

  /** The layer's Keras config (snake_case keys), base fields first as tf.keras writes them. */
  getConfig(): Record<string, unknown> {
    const config: Record<string, unknown> = { name: this.name, trainable: this.trainable };
    if (this.batchInputShape) config.batch_input_shape = [...this.batchInputShape];
    config.dtype = 'float32';
    return config;
  }
}
