// Dense, Dropout, Activation, Flatten, Reshape and Rescaling, with Keras's defaults and
// config keys. Keras's positional arguments stay positional (`new Dense(64, {...})`).
import { getActivation, type ActivationName } from '../activations.ts';
import { ShapeError, ValueError, assertPositiveInteger } from '../errors.ts';
import { getInitializer, type Initializer } from '../initializers.ts';
import { ConfigReader } from '../keras_format/config_reader.ts';
import { LAYER_ARG_NAMES, Layer, type LayerArgs } from '../layer.ts';
import { checkOptions } from '../options.ts';
import { registerLayer } from '../registry.ts';
import { formatShape, sizeOf, type Shape } from '../shape.ts';
import { KERNEL_OPTIONS, KernelRules, kernelLayerConfig, readKernelLayerArgs, type KernelLayerArgs } from './kernel_layer.ts';

export interface DenseArgs extends LayerArgs, KernelLayerArgs {}

/** `activation(dot(input, kernel) + bias)` over the last axis; kernel (in, units). */
export class Dense extends Layer {
  static override className = 'Dense';
  readonly units: number;
  readonly activation: ActivationName;
  readonly useBias: boolean;
  readonly kernelInitializer: Initializer;
  readonly biasInitializer: Initializer;
  /** The kernel's and bias's regularizers and constraints, and the output's activity regularizer. */
  readonly rules: KernelRules;
  private inputDim: number | null = null;

  constructor(units: number, args: DenseArgs = {}) {
    super(checkOptions('Dense', args, [...LAYER_ARG_NAMES, ...KERNEL_OPTIONS], "{activation: 'relu'}"));
    assertPositiveInteger(units, 'units', this.name);
    this.units = units;
    this.activation = getActivation(args.activation, this.name);
    this.useBias = args.useBias ?? true;
    this.kernelInitializer = getInitializer(args.kernelInitializer ?? 'glorot_uniform', `${this.name}.kernel_initializer`);
    this.biasInitializer = getInitializer(args.biasInitializer ?? 'zeros', `${this.name}.bias_initializer`);
    this.rules = new KernelRules(args, this.name);
  }

  override build(inputShapes: Shape[]): void {
    const shape = this.checkInput(inputShapes);
    this.inputDim = shape[shape.length - 1]!;
    this.addWeight('kernel', [this.inputDim, this.units], this.kernelInitializer);
    if (this.useBias) this.addWeight('bias', [this.units], this.biasInitializer);
  }

  private checkInput(inputShapes: Shape[]): Shape {
    const shape = this.singleInput(inputShapes);
    const last = shape[shape.length - 1];
    if (shape.length < 2 || last === null || last === undefined) {
      throw new ShapeError(`${this.name}: expected an input of rank >= 2 (batch, ..., features) with known features, got ${formatShape(shape)}`);
    }
    if (this.inputDim !== null && last !== this.inputDim) {
      throw new ShapeError(`${this.name}: built for ${this.inputDim} input features, got an input of shape ${formatShape(shape)}`);
    }
    return shape;
  }

  computeOutputShapes(inputShapes: Shape[]): Shape[] {
    const shape = this.checkInput(inputShapes);
    return [[...shape.slice(0, -1), this.units]];
  }

  override get weightRules(): KernelRules {
    return this.rules;
  }

  override getConfig(): Record<string, unknown> {
    return {
      ...super.getConfig(),
      units: this.units,
      ...kernelLayerConfig(this),
    };
  }

  static fromConfig(config: Record<string, unknown>): Dense {
    const c = new ConfigReader(Dense.className, config);
    const args: DenseArgs = c.layerArgs();
    const units = c.number('units');
    readKernelLayerArgs(c, args);
    c.finish();
    return new Dense(units, args);
  }
}
registerLayer(Dense);

export interface DropoutArgs extends LayerArgs {
  noiseShape?: Shape | null;
  seed?: number | null;
}

/** Zeroes a fraction `rate` of inputs during training and scales the rest by 1/(1-rate). */
export class Dropout extends Layer {
  static override className = 'Dropout';
  readonly rate: number;
  readonly seed: number | null;

  constructor(rate: number, args: DropoutArgs = {}) {
    super(checkOptions('Dropout', args, [...LAYER_ARG_NAMES, 'noiseShape', 'seed'], '{seed: 42}'));
    if (!(rate >= 0 && rate < 1)) throw new ValueError(`${this.name}: rate must be in [0, 1), got ${rate}`);
    if (args.noiseShape) throw new ValueError(`${this.name}: noise_shape is not supported`);
    this.rate = rate;
    this.seed = args.seed ?? null;
  }

  computeOutputShapes(inputShapes: Shape[]): Shape[] {
    return [[...this.singleInput(inputShapes)]];
  }

  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), rate: this.rate, noise_shape: null, seed: this.seed };
  }

  static fromConfig(config: Record<string, unknown>): Dropout {
    const c = new ConfigReader(Dropout.className, config);
    const args: DropoutArgs = { ...c.layerArgs(), seed: c.optionalNumber('seed') ?? null };
    const rate = c.number('rate');
    c.unsupported('noise_shape');
    c.finish();
    return new Dropout(rate, args);
  }
}
registerLayer(Dropout);

/** Applies an activation function elementwise. */
export class Activation extends Layer {
  static override className = 'Activation';
  readonly activation: ActivationName;

  constructor(activation: string, args: LayerArgs = {}) {
    super(checkOptions('Activation', args, LAYER_ARG_NAMES, "{name: 'act'}"));
    this.activation = getActivation(activation, this.name);
  }

  computeOutputShapes(inputShapes: Shape[]): Shape[] {
    return [[...this.singleInput(inputShapes)]];
  }

  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), activation: this.activation };
  }

  static fromConfig(config: Record<string, unknown>): Activation {
    const c = new ConfigReader(Activation.className, config);
    const args = c.layerArgs();
    const activation = c.optionalString('activation') ?? 'linear';
    c.finish();
    return new Activation(activation, args);
  }
}
registerLayer(Activation);

/** (batch, d1, d2, ...) -> (batch, d1 * d2 * ...), in row-major (H, W, C) order as Keras. */
export class Flatten extends Layer {
  static override className = 'Flatten';

  computeOutputShapes(inputShapes: Shape[]): Shape[] {
    const shape = this.singleInput(inputShapes);
    if (shape.length < 2) throw new ShapeError(`${this.name}: expected an input of rank >= 2 (batch, ...), got ${formatShape(shape)}`);
    return [[shape[0]!, sizeOf(shape.slice(1))]];
  }

  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), data_format: 'channels_last' };
  }

  static fromConfig(config: Record<string, unknown>): Flatten {
    const c = new ConfigReader(Flatten.className, config);
    const args = c.layerArgs();
    c.channelsLast();
    c.finish();
    return new Flatten(args);
  }
}
registerLayer(Flatten);

/** Reshapes each sample to `targetShape` (without the batch dimension); one entry may be -1. */
export class Reshape extends Layer {
  static override className = 'Reshape';
  readonly targetShape: number[];

  constructor(targetShape: number[], args: LayerArgs = {}) {
    super(checkOptions('Reshape', args, LAYER_ARG_NAMES, "{name: 'reshape'}"));
    if (!Array.isArray(targetShape) || !targetShape.every((d) => Number.isSafeInteger(d) && (d > 0 || d === -1)) || targetShape.filter((d) => d === -1).length > 1) {
      throw new ValueError(`${this.name}: target_shape must hold positive integers and at most one -1, got ${JSON.stringify(targetShape)}`);
    }
    this.targetShape = [...targetShape];
  }

  computeOutputShapes(inputShapes: Shape[]): Shape[] {
    const shape = this.singleInput(inputShapes);
    const inputSize = sizeOf(shape.slice(1));
    const known = this.targetShape.filter((d) => d !== -1).reduce((a, b) => a * b, 1);
    const target: Shape = [...this.targetShape];
    const wildcard = target.indexOf(-1);
    if (inputSize !== null) {
      if (wildcard >= 0) {
        if (inputSize % known !== 0) throw this.sizeMismatch(shape);
        target[wildcard] = inputSize / known;
      } else if (inputSize !== known) {
        throw this.sizeMismatch(shape);
      }
    } else if (wildcard >= 0) {
      target[wildcard] = null;
    }
    return [[shape[0]!, ...target]];
  }

  private sizeMismatch(shape: Shape): ShapeError {
    return new ShapeError(`${this.name}: cannot reshape an input of shape ${formatShape(shape)} to target shape ${formatShape(this.targetShape)}`);
  }

  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), target_shape: [...this.targetShape] };
  }

  static fromConfig(config: Record<string, unknown>): Reshape {
    const c = new ConfigReader(Reshape.className, config);
    const args = c.layerArgs();
    // TensorFlow.js writes the inferred dimension as null, Keras as -1.
    const targetShape = (c.shape('target_shape') ?? []).map((d) => d ?? -1);
    c.finish();
    return new Reshape(targetShape, args);
  }
}
registerLayer(Reshape);

export interface RescalingArgs extends LayerArgs {
  offset?: number;
}

/** `x * scale + offset`, e.g. Rescaling(1/255) for 8-bit images. */
export class Rescaling extends Layer {
  static override className = 'Rescaling';
  readonly scale: number;
  readonly offset: number;

  constructor(scale: number, args: RescalingArgs = {}) {
    super(checkOptions('Rescaling', args, [...LAYER_ARG_NAMES, 'offset'], '{offset: -1}'));
    if (!Number.isFinite(scale)) throw new ValueError(`${this.name}: scale must be a finite number, got ${scale}`);
    this.scale = scale;
    this.offset = args.offset ?? 0;
    if (!Number.isFinite(this.offset)) throw new ValueError(`${this.name}: offset must be a finite number, got ${this.offset}`);
  }

  computeOutputShapes(inputShapes: Shape[]): Shape[] {
    return [[...this.singleInput(inputShapes)]];
  }

  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), scale: this.scale, offset: this.offset };
  }

  static fromConfig(config: Record<string, unknown>): Rescaling {
    const c = new ConfigReader(Rescaling.className, config);
    const args: RescalingArgs = c.layerArgs();
    const scale = c.number('scale');
    args.offset = c.number('offset', 0);
    c.finish();
    return new Rescaling(scale, args);
  }
}
registerLayer(Rescaling);
