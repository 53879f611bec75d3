// The recurrent layers LSTM, GRU and SimpleRNN, and the Bidirectional wrapper, with Keras's
// arguments, defaults, weights and config keys. Input (batch, steps, features); the output is
// the last step's (batch, units), or every step's (batch, steps, units) with
// return_sequences, followed by the final states with return_state (LSTM: h, c; GRU and
// SimpleRNN: h). Weights as Keras holds them: kernel (features, gates * units),
// recurrent_kernel (units, gates * units) and bias, with the gates in Keras's order (LSTM
// i, f, c, o; GRU z, r, h), so Keras's weight files load as they are.
import { getActivation, type ActivationName } from '../activations.ts';
import { ConfigError, ShapeError, ValueError, assertPositiveInteger } from '../errors.ts';
import { getInitializer, serializeInitializer, type Initializer, type InitializerIdentifier } from '../initializers.ts';
import { ConfigReader } from '../keras_format/config_reader.ts';
import { LAYER_ARG_NAMES, Layer, type LayerArgs, type LayerWeight } from '../layer.ts';
import { checkOptions } from '../options.ts';
import { getLayerClass, registerLayer } from '../registry.ts';
import { formatShape, type Shape } from '../shape.ts';

export interface RecurrentArgs extends LayerArgs {
  /** The output (candidate) activation; Keras's default 'tanh'. */
  activation?: string | null;
  useBias?: boolean;
  kernelInitializer?: InitializerIdentifier;
  /** Keras's default 'orthogonal'. */
  recurrentInitializer?: InitializerIdentifier;
  biasInitializer?: InitializerIdentifier;
  /** Every step's output (batch, steps, units) instead of the last step's (batch, units). */
  returnSequences?: boolean;
  /** Also return the final states (LSTM: h and c; GRU and SimpleRNN: h). */
  returnState?: boolean;
  /** Reads the sequence from its last step; the outputs come in that (reversed) order. */
  goBackwards?: boolean;
  /** Keras's loop unrolling: the same result, written back to the config as given. */
  unroll?: boolean;
  /** Training-time dropout on the inputs and on the state: only 0 (use a Dropout layer before the recurrent layer). */
  dropout?: number;
  recurrentDropout?: number;
  /** Keras carries state across batches when true: only false. */
  stateful?: boolean;
}

export interface GatedArgs extends RecurrentArgs {
  /** The gates' activation; Keras's default 'sigmoid'. */
  recurrentActivation?: string | null;
  /** tf.keras's implementation mode (1 or 2): the same result, written back as given. */
  implementation?: 1 | 2;
}

export interface LSTMArgs extends GatedArgs {
  /** Starts the forget gate's bias at 1 (Jozefowicz et al., 2015), as Keras does by default. */
  unitForgetBias?: boolean;
}

export interface GRUArgs extends GatedArgs {
  /** Applies the reset gate after the recurrent matrix multiplication (Keras 2+ default, CuDNN's GRU); bias (2, 3 * units). */
  resetAfter?: boolean;
}

const RECURRENT_OPTIONS = [
  ...LAYER_ARG_NAMES, 'activation', 'useBias', 'kernelInitializer', 'recurrentInitializer', 'biasInitializer', 'returnSequences', 'returnState',
  'goBackwards', 'unroll', 'dropout', 'recurrentDropout', 'stateful',
];
const GATED_OPTIONS = [...RECURRENT_OPTIONS, 'recurrentActivation', 'implementation'];

/** The regularizer and constraint keys Keras writes; Strata reads them only when unset. */
const UNSUPPORTED_KEYS = [
  'kernel_regularizer', 'recurrent_regularizer', 'bias_regularizer', 'activity_regularizer', 'kernel_constraint', 'recurrent_constraint', 'bias_constraint',
];

/** What LSTM, GRU and SimpleRNN share: the arguments, the weights' creation, shapes and config. */
export abstract class RecurrentLayer extends Layer {
  readonly units: number;
  readonly activation: ActivationName;
  /** The gates' activation; SimpleRNN has no gates ('linear' there, unused). */
  readonly recurrentActivation: ActivationName;
  readonly useBias: boolean;
  readonly kernelInitializer: Initializer;
  readonly recurrentInitializer: Initializer;
  readonly biasInitializer: Initializer;
  readonly returnSequences: boolean;
  readonly returnState: boolean;
  readonly goBackwards: boolean;
  readonly unroll: boolean;
  private inputDim: number | null = null;

  /** Gate blocks in the kernels: LSTM 4, GRU 3, SimpleRNN 1. */
  abstract readonly gates: number;
  /** Final states returned with return_state: LSTM 2 (h, c), the others 1. */
  abstract readonly stateCount: number;

  constructor(units: number, args: GatedArgs, options: readonly string[], example: string) {
    super(checkOptions(new.target.className, args, options, example));
    assertPositiveInteger(units, 'units', this.name);
    this.units = units;
    this.activation = getActivation(args.activation === undefined ? 'tanh' : args.activation, `${this.name}.activation`);
    this.recurrentActivation = options.includes('recurrentActivation') ? getActivation(args.recurrentActivation === undefined ? 'sigmoid' : args.recurrentActivation, `${this.name}.recurrent_activation`) : 'linear';
    this.useBias = this.flag(args.useBias, 'use_bias', true);
    this.kernelInitializer = getInitializer(args.kernelInitializer ?? 'glorot_uniform', `${this.name}.kernel_initializer`);
    this.recurrentInitializer = getInitializer(args.recurrentInitializer ?? 'orthogonal', `${this.name}.recurrent_initializer`);
    this.biasInitializer = getInitializer(args.biasInitializer ?? 'zeros', `${this.name}.bias_initializer`);
    this.returnSequences = this.flag(args.returnSequences, 'return_sequences', false);
    this.returnState = this.flag(args.returnState, 'return_state', false);
    this.goBackwards = this.flag(args.goBackwards, 'go_backwards', false);
    this.unroll = this.flag(args.unroll, 'unroll', false);
    for (const [value, field] of [[args.dropout, 'dropout'], [args.recurrentDropout, 'recurrent_dropout']] as const) {
      if (value !== undefined && value !== 0) {
        throw new ValueError(`${this.name}: ${field} = ${JSON.stringify(value)} is not supported (only 0); put a Dropout layer before the recurrent layer instead`, { layer: this.name, field });
      }
    }
    if (args.stateful !== undefined && args.stateful !== false) {
      throw new ValueError(`${this.name}: stateful = ${JSON.stringify(args.stateful)} is not supported (only false): every batch starts from zero states`, { layer: this.name, field: 'stateful' });
    }
  }

  private flag(value: unknown, field: string, fallback: boolean): boolean {
    if (value === undefined) return fallback;
    if (typeof value !== 'boolean') throw new ValueError(`${this.name}: ${field} must be true or false, got ${JSON.stringify(value)}`, { layer: this.name, field });
    return value;
  }

  /** The bias's shape; GRU with reset_after has two rows (input and recurrent). */
  protected biasShape(): number[] {
    return [this.gates * this.units];
  }

  /** The bias's initial values; LSTM's unit_forget_bias sets the forget block to ones. */
  protected initialBias(): Initializer {
    return this.biasInitializer;
  }

  override build(inputShapes: Shape[]): void {
    this.inputDim = this.checkInput(inputShapes)[2] as number;
    this.addWeight('kernel', [this.inputDim, this.gates * this.units], this.kernelInitializer);
    this.addWeight('recurrent_kernel', [this.units, this.gates * this.units], this.recurrentInitializer);
    if (this.useBias) this.addWeight('bias', this.biasShape(), this.initialBias());
  }

  private checkInput(inputShapes: Shape[]): Shape {
    const shape = this.singleInput(inputShapes);
    if (shape.length !== 3 || shape[2] === null) {
      throw new ShapeError(`${this.name}: expected a 3-D input (batch, steps, features) with known features, got ${formatShape(shape)}`);
    }
    if (shape[1] === 0) throw new ShapeError(`${this.name}: the input has no steps: ${formatShape(shape)}`);
    if (this.inputDim !== null && shape[2] !== this.inputDim) {
      throw new ShapeError(`${this.name}: built for ${this.inputDim} input features, got an input of shape ${formatShape(shape)}`);
    }
    return shape;
  }

  computeOutputShapes(inputShapes: Shape[]): Shape[] {
    const [batch, steps] = this.checkInput(inputShapes);
    const output: Shape = this.returnSequences ? [batch!, steps!, this.units] : [batch!, this.units];
    const states: Shape[] = this.returnState ? Array.from({ length: this.stateCount }, () => [batch!, this.units]) : [];
    return [output, ...states];
  }

  /** tf.keras 2.x's order: the base layer's keys, the RNN's, then the cell's. */
  override getConfig(): Record<string, unknown> {
    return {
      ...super.getConfig(),
      return_sequences: this.returnSequences,
      return_state: this.returnState,
      go_backwards: this.goBackwards,
      stateful: false,
      unroll: this.unroll,
      time_major: false,
      units: this.units,
      activation: this.activation,
      ...(this.gates > 1 ? { recurrent_activation: this.recurrentActivation } : {}),
      use_bias: this.useBias,
      kernel_initializer: serializeInitializer(this.kernelInitializer),
      recurrent_initializer: serializeInitializer(this.recurrentInitializer),
      bias_initializer: serializeInitializer(this.biasInitializer),
      ...this.configAfterInitializers(),
      ...Object.fromEntries(UNSUPPORTED_KEYS.map((key) => [key, null])),
      dropout: 0,
      recurrent_dropout: 0,
      ...this.configLast(),
    };
  }

  /** LSTM's unit_forget_bias. */
  protected configAfterInitializers(): Record<string, unknown> {
    return {};
  }

  /** The gated layers' implementation (and GRU's reset_after). */
  protected configLast(): Record<string, unknown> {
    return {};
  }
}

/**
 * Reads what every recurrent layer's config holds (tf.keras 2.x, Keras 3 and TensorFlow.js
 * forms) into `args`; returns the units.
 */
function readRecurrentArgs(c: ConfigReader, config: Record<string, unknown>, args: GatedArgs, gated: boolean): number {
  Object.assign(args, c.layerArgs());
  const units = c.number('units');
  args.returnSequences = c.boolean('return_sequences', false);
  args.returnState = c.boolean('return_state', false);
  args.goBackwards = c.boolean('go_backwards', false);
  args.unroll = c.boolean('unroll', false);
  // absent: Keras's default (tanh, sigmoid); null: linear, as Keras reads None
  const activation = (key: string) => (key in config ? (c.optionalString(key) ?? null) : undefined);
  args.activation = activation('activation');
  if (gated) args.recurrentActivation = activation('recurrent_activation');
  args.useBias = c.boolean('use_bias', true);
  for (const [key, field] of [['kernel_initializer', 'kernelInitializer'], ['recurrent_initializer', 'recurrentInitializer'], ['bias_initializer', 'biasInitializer']] as const) {
    const initializer = c.initializer(key);
    if (initializer) args[field] = initializer;
  }
  for (const key of UNSUPPORTED_KEYS) c.unsupported(key);
  c.unsupported('stateful', [false]);
  c.unsupported('time_major', [false]);
  c.unsupported('dropout', [0]);
  c.unsupported('recurrent_dropout', [0]);
  // Keras 3: the seed of the dropout masks (no dropout here) and zeroed outputs under a mask (no masks here)
  c.raw('seed', null);
  c.raw('zero_output_for_mask', null);
  if (gated) {
    const implementation = c.optionalNumber('implementation');
    if (implementation !== undefined) {
      if (implementation !== 1 && implementation !== 2) throw new ValueError(`${c.where}: "implementation" must be 1 or 2, got ${implementation}`);
      args.implementation = implementation;
    }
  }
  return units;
}

/** An initializer that fills LSTM's bias: `bias` for the i, c and o blocks, ones for f. */
class UnitForgetBias implements Initializer {
  readonly className: string;
  constructor(private readonly bias: Initializer) {
    this.className = bias.className;
  }
  generate(shape: readonly number[]): Float32Array {
    const units = shape[0]! / 4;
    const out = this.bias.generate(shape);
    out.fill(1, units, 2 * units);
    return out;
  }
  getConfig(): Record<string, unknown> {
    return this.bias.getConfig();
  }
}

/**
 * Long Short-Term Memory (Hochreiter, 1997): per step, with z = x W + h U + b split into
 * i, f, c, o: c' = sigmoid(f) c + sigmoid(i) tanh(c~), h' = sigmoid(o) tanh(c').
 */
export class LSTM extends RecurrentLayer {
  static override className = 'LSTM';
  readonly gates = 4;
  readonly stateCount = 2;
  readonly unitForgetBias: boolean;
  readonly implementation: 1 | 2;

  constructor(units: number, args: LSTMArgs = {}) {
    super(units, args, [...GATED_OPTIONS, 'unitForgetBias'], '{returnSequences: true}');
    this.unitForgetBias = args.unitForgetBias ?? true;
    this.implementation = args.implementation ?? 2;
  }

  protected override initialBias(): Initializer {
    return this.unitForgetBias ? new UnitForgetBias(this.biasInitializer) : this.biasInitializer;
  }

  protected override configAfterInitializers(): Record<string, unknown> {
    return { unit_forget_bias: this.unitForgetBias };
  }

  protected override configLast(): Record<string, unknown> {
    return { implementation: this.implementation };
  }

  static fromConfig(config: Record<string, unknown>): LSTM {
    const c = new ConfigReader(LSTM.className, config);
    const args: LSTMArgs = {};
    const units = readRecurrentArgs(c, config, args, true);
    args.unitForgetBias = c.boolean('unit_forget_bias', true);
    c.finish();
    return new LSTM(units, args);
  }
}
registerLayer(LSTM);

/**
 * Gated Recurrent Unit (Cho et al., 2014), Keras's form: z and r gates, candidate h~, and
 * h' = z h + (1 - z) h~. With reset_after (the default) r multiplies h U_h + b_h (CuDNN's
 * form, ONNX's linear_before_reset); without, it multiplies h before U_h.
 */
export class GRU extends RecurrentLayer {
  static override className = 'GRU';
  readonly gates = 3;
  readonly stateCount = 1;
  readonly resetAfter: boolean;
  readonly implementation: 1 | 2;

  constructor(units: number, args: GRUArgs = {}) {
    super(units, args, [...GATED_OPTIONS, 'resetAfter'], '{resetAfter: false}');
    if (args.resetAfter !== undefined && typeof args.resetAfter !== 'boolean') {
      throw new ValueError(`${this.name}: reset_after must be true or false, got ${JSON.stringify(args.resetAfter)}`, { layer: this.name, field: 'reset_after' });
    }
    this.resetAfter = args.resetAfter ?? true;
    this.implementation = args.implementation ?? 2;
  }

  protected override biasShape(): number[] {
    return this.resetAfter ? [2, 3 * this.units] : [3 * this.units];
  }

  protected override configLast(): Record<string, unknown> {
    return { implementation: this.implementation, reset_after: this.resetAfter };
  }

  static fromConfig(config: Record<string, unknown>): GRU {
    const c = new ConfigReader(GRU.className, config);
    const args: GRUArgs = {};
    const units = readRecurrentArgs(c, config, args, true);
    args.resetAfter = c.boolean('reset_after', true);
    c.finish();
    return new GRU(units, args);
  }
}
registerLayer(GRU);

/** Keras's SimpleRNN: h' = activation(x W + h U + b). */
export class SimpleRNN extends RecurrentLayer {
  static override className = 'SimpleRNN';
  readonly gates = 1;
  readonly stateCount = 1;

  constructor(units: number, args: RecurrentArgs = {}) {
    super(units, args, RECURRENT_OPTIONS, "{activation: 'relu'}");
  }

  static fromConfig(config: Record<string, unknown>): SimpleRNN {
    const c = new ConfigReader(SimpleRNN.className, config);
    const args: RecurrentArgs = {};
    const units = readRecurrentArgs(c, config, args, false);
    c.finish();
    return new SimpleRNN(units, args);
  }
}
registerLayer(SimpleRNN);

export const MERGE_MODES = ['concat', 'sum', 'mul', 'ave'] as const;
export type MergeMode = (typeof MERGE_MODES)[number];

export interface BidirectionalArgs extends LayerArgs {
  /** How the two directions' outputs combine; Keras's default 'concat'. */
  mergeMode?: MergeMode;
}

/** One sublayer's weight as the wrapper lists it: "forward_lstm/kernel", its value kept by the sublayer. */
function prefixedWeight(prefix: string, weight: LayerWeight): LayerWeight {
  return {
    name: `${prefix}/${weight.name}`,
    shape: weight.shape,
    trainable: weight.trainable,
    get value() {
      return weight.value;
    },
    set value(value: Float32Array) {
      weight.value = value;
    },
  };
}

/**
 * Keras's Bidirectional: the wrapped recurrent layer reads the sequence forward and a copy of
 * it (its own weights) backward; with return_sequences the backward outputs are put back in
 * time order before the merge. Weights: the forward layer's, then the backward layer's.
 */
export class Bidirectional extends Layer {
  static override className = 'Bidirectional';
  readonly forwardLayer: RecurrentLayer;
  readonly backwardLayer: RecurrentLayer;
  readonly mergeMode: MergeMode;

  constructor(layer: RecurrentLayer, args: BidirectionalArgs = {}) {
    super(checkOptions('Bidirectional', args, [...LAYER_ARG_NAMES, 'mergeMode'], "{mergeMode: 'sum'}"));
    if (!(layer instanceof RecurrentLayer)) {
      throw new ValueError(`${this.name}: wraps an LSTM, GRU or SimpleRNN layer, got ${(layer as object | null)?.constructor?.name ?? String(layer)}`, { layer: this.name, field: 'layer' });
    }
    if (layer.built) throw new ValueError(`${this.name}: the wrapped layer ${layer.name} is already used in a model; give Bidirectional a new layer`, { layer: this.name, field: 'layer' });
    const mergeMode = args.mergeMode ?? 'concat';
    if (!(MERGE_MODES as readonly string[]).includes(mergeMode)) {
      throw new ValueError(`${this.name}: merge_mode must be one of ${MERGE_MODES.map((m) => `"${m}"`).join(', ')}, got ${JSON.stringify(mergeMode)}`, { layer: this.name, field: 'merge_mode' });
    }
    this.mergeMode = mergeMode;
    const Class = getLayerClass(layer.className) as unknown as { fromConfig(config: Record<string, unknown>): RecurrentLayer };
    const base = layer.name.replace(/^forward_/, '');
    const copy = (name: string, goBackwards: boolean) => Class.fromConfig({ ...layer.getConfig(), name, go_backwards: goBackwards });
    this.forwardLayer = copy(`forward_${base}`, layer.goBackwards);
    this.backwardLayer = copy(`backward_${base}`, !layer.goBackwards);
  }

  override build(inputShapes: Shape[]): void {
    for (const sub of [this.forwardLayer, this.backwardLayer]) {
      sub.build(inputShapes);
      sub.built = true;
      for (const weight of sub.weights) this.weightList.push(prefixedWeight(sub.name, weight));
    }
  }

  computeOutputShapes(inputShapes: Shape[]): Shape[] {
    const [output, ...states] = this.forwardLayer.computeOutputShapes(inputShapes);
    const last = output!.length - 1;
    const merged = this.mergeMode === 'concat' ? [...output!.slice(0, last), 2 * (output![last] as number)] : output!;
    return [merged, ...states, ...states.map((s) => [...s])];
  }

  override getConfig(): Record<string, unknown> {
    const sublayer = (layer: RecurrentLayer) => ({ class_name: layer.className, config: layer.getConfig() });
    return { ...super.getConfig(), layer: sublayer(this.forwardLayer), merge_mode: this.mergeMode, backward_layer: sublayer(this.backwardLayer) };
  }

  static fromConfig(config: Record<string, unknown>): Bidirectional {
    const c = new ConfigReader(Bidirectional.className, config);
    const args: BidirectionalArgs = c.layerArgs();
    const layer = Bidirectional.sublayer(c, 'layer');
    if (config.merge_mode === null) throw new ConfigError(`${c.where}: merge_mode null (a list of both directions' outputs) is not supported; use one of ${MERGE_MODES.join(', ')}`);
    args.mergeMode = c.raw('merge_mode', 'concat') as MergeMode;
    const backward = c.has('backward_layer') ? Bidirectional.sublayer(c, 'backward_layer') : (c.raw('backward_layer', null), null);
    c.finish();
    const bidirectional = new Bidirectional(layer, args);
    if (backward) Bidirectional.checkBackward(c.where, bidirectional, backward);
    return bidirectional;
  }

  private static sublayer(c: ConfigReader, key: string): RecurrentLayer {
    const spec = c.raw(key, null) as { class_name?: unknown; config?: unknown } | null;
    const Class = typeof spec?.class_name === 'string' ? getLayerClass(spec.class_name) : undefined;
    if (!Class || typeof spec?.config !== 'object') throw new ConfigError(`${c.where}: "${key}" must be {"class_name": "LSTM" | "GRU" | "SimpleRNN", "config": {...}}, got ${JSON.stringify(spec)}`);
    const layer = Class.fromConfig(spec.config as Record<string, unknown>);
    if (!(layer instanceof RecurrentLayer)) throw new ConfigError(`${c.where}: "${key}" must be an LSTM, GRU or SimpleRNN, got ${spec.class_name as string}`);
    return layer;
  }

  /** Keras writes the backward layer too; Strata builds it from the forward one, so it must agree. */
  private static checkBackward(where: string, bidirectional: Bidirectional, backward: RecurrentLayer): void {
    const expected = { ...bidirectional.backwardLayer.getConfig(), name: null };
    const given = { ...backward.getConfig(), name: null };
    if (backward.className !== bidirectional.backwardLayer.className || JSON.stringify(given) !== JSON.stringify(expected)) {
      throw new ConfigError(`${where}: a backward_layer that differs from the forward layer (other than reading backwards) is not supported`);
    }
  }
}
registerLayer(Bidirectional);
