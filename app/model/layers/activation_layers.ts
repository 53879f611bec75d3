// Activations as layers with their own arguments, as Keras's keras.layers.ReLU, LeakyReLU,
// ELU, Softmax and PReLU (tf.keras's "advanced activations"). Shape in = shape out; only
// PReLU has a weight (its learned slopes).
import { ConfigError, ShapeError, ValueError } from '../errors.ts';
import { getInitializer, serializeInitializer, type Initializer, type InitializerIdentifier } from '../initializers.ts';
import { ConfigReader } from '../keras_format/config_reader.ts';
import { LAYER_ARG_NAMES, Layer, type LayerArgs } from '../layer.ts';
import { checkNumber, checkOptions } from '../options.ts';
import { registerLayer } from '../registry.ts';
import { formatShape, type Shape } from '../shape.ts';

/** A number option: `fallback` when absent, else finite and `valid`, or a ValueError naming it. */
function numberOption(owner: string, key: string, value: unknown, fallback: number, valid: (n: number) => boolean, rule: string): number {
  return value === undefined ? fallback : checkNumber(owner, key, value, valid, rule);
}

abstract class ActivationLayer extends Layer {
  computeOutputShapes(inputShapes: Shape[]): Shape[] {
    return [[...this.singleInput(inputShapes)]];
  }
}

export interface ReLUArgs extends LayerArgs {
  /** The largest output (Keras's max_value; null: none). ReLU({maxValue: 6}) is ReLU6. */
  maxValue?: number | null;
  /** The slope below the threshold (default 0). */
  negativeSlope?: number;
  /** Inputs above it pass unchanged (default 0). */
  threshold?: number;
}

/**
 * Keras's ReLU layer: x for threshold < x < max_value, max_value above it, and
 * negative_slope * (x - threshold) below the threshold (keras.activations.relu).
 */
export class ReLU extends ActivationLayer {
  static override className = 'ReLU';
  readonly maxValue: number | null;
  readonly negativeSlope: number;
  readonly threshold: number;

  constructor(args: ReLUArgs = {}) {
    super(checkOptions('ReLU', args, [...LAYER_ARG_NAMES, 'maxValue', 'negativeSlope', 'threshold'], '{maxValue: 6}'));
    const nonNegative = (n: number) => n >= 0;
    this.maxValue = args.maxValue === null || args.maxValue === undefined ? null : checkNumber(this.name, 'max_value', args.maxValue, nonNegative, 'a number >= 0 or null');
    this.negativeSlope = numberOption(this.name, 'negative_slope', args.negativeSlope, 0, nonNegative, 'a number >= 0');
    this.threshold = numberOption(this.name, 'threshold', args.threshold, 0, nonNegative, 'a number >= 0');
  }

  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), max_value: this.maxValue, negative_slope: this.negativeSlope, threshold: this.threshold };
  }

  static fromConfig(config: Record<string, unknown>): ReLU {
    const c = new ConfigReader(ReLU.className, config);
    const args: ReLUArgs = c.layerArgs();
    args.maxValue = c.optionalNumber('max_value') ?? null;
    args.negativeSlope = c.number('negative_slope', 0);
    args.threshold = c.number('threshold', 0);
    c.finish();
    return new ReLU(args);
  }
}
registerLayer(ReLU);

export interface LeakyReLUArgs extends LayerArgs {
  /** The slope for x < 0 (Keras 3's negative_slope, tf.keras 2.x's alpha; default 0.3). */
  negativeSlope?: number;
}

/** Keras's LeakyReLU layer: x for x >= 0, negative_slope * x below. */
export class LeakyReLU extends ActivationLayer {
  static override className = 'LeakyReLU';
  readonly negativeSlope: number;

  constructor(args: LeakyReLUArgs = {}) {
    super(checkOptions('LeakyReLU', args, [...LAYER_ARG_NAMES, 'negativeSlope'], '{negativeSlope: 0.1}'));
    this.negativeSlope = numberOption(this.name, 'negative_slope', args.negativeSlope, 0.3, (n) => n >= 0, 'a number >= 0');
  }

  /** tf.keras 2.x calls the slope alpha (Keras 3 reads both). */
  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), alpha: this.negativeSlope };
  }

  static fromConfig(config: Record<string, unknown>): LeakyReLU {
    const c = new ConfigReader(LeakyReLU.className, config);
    const args: LeakyReLUArgs = c.layerArgs();
    const slope = c.optionalNumber('negative_slope');
    const alpha = c.optionalNumber('alpha');
    if (slope !== undefined && alpha !== undefined && slope !== alpha) {
      throw new ConfigError(`${c.where}: "negative_slope" (${slope}) and its older name "alpha" (${alpha}) disagree`);
    }
    args.negativeSlope = slope ?? alpha ?? 0.3;
    c.finish();
    return new LeakyReLU(args);
  }
}
registerLayer(LeakyReLU);

export interface ELUArgs extends LayerArgs {
  /** The scale of the negative part, alpha * (exp(x) - 1) (default 1). */
  alpha?: number;
}

/** Keras's ELU layer: x for x > 0, alpha * (exp(x) - 1) below. */
export class ELU extends ActivationLayer {
  static override className = 'ELU';
  readonly alpha: number;

  constructor(args: ELUArgs = {}) {
    super(checkOptions('ELU', args, [...LAYER_ARG_NAMES, 'alpha'], '{alpha: 1}'));
    this.alpha = numberOption(this.name, 'alpha', args.alpha, 1, () => true, 'a finite number');
  }

  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), alpha: this.alpha };
  }

  static fromConfig(config: Record<string, unknown>): ELU {
    const c = new ConfigReader(ELU.className, config);
    const args: ELUArgs = c.layerArgs();
    args.alpha = c.number('alpha', 1);
    c.finish();
    return new ELU(args);
  }
}
registerLayer(ELU);

export interface SoftmaxArgs extends LayerArgs {
  /** The axis normalized over (default -1); the batch axis 0 cannot be. */
  axis?: number;
}

/** Keras's Softmax layer: exp(x) / sum(exp(x)) along `axis`. */
export class Softmax extends ActivationLayer {
  static override className = 'Softmax';
  readonly axis: number;

  constructor(args: SoftmaxArgs = {}) {
    super(checkOptions('Softmax', args, [...LAYER_ARG_NAMES, 'axis'], '{axis: -1}'));
    this.axis = numberOption(this.name, 'axis', args.axis, -1, (n) => Number.isInteger(n), 'an integer');
  }

  override computeOutputShapes(inputShapes: Shape[]): Shape[] {
    const shape = this.singleInput(inputShapes);
    const axis = this.axis < 0 ? this.axis + shape.length : this.axis;
    if (axis < 1 || axis >= shape.length) {
      throw new ShapeError(`${this.name}: axis ${this.axis} is not a non-batch axis of an input of shape ${formatShape(shape)}`);
    }
    return [[...shape]];
  }

  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), axis: this.axis };
  }

  static fromConfig(config: Record<string, unknown>): Softmax {
    const c = new ConfigReader(Softmax.className, config);
    const args: SoftmaxArgs = c.layerArgs();
    // Keras 3 also takes a list of axes; Strata normalizes over one.
    const axis = c.intTuple('axis', [-1]);
    if (axis.length !== 1) throw new ConfigError(`${c.where}: softmax over several axes (${JSON.stringify(axis)}) is not supported; give one axis`);
    args.axis = axis[0]!;
    c.finish();
    return new Softmax(args);
  }
}
registerLayer(Softmax);

export interface PReLUArgs extends LayerArgs {
  /** The slopes' initial values (default 'zeros': PReLU starts as ReLU). */
  alphaInitializer?: InitializerIdentifier;
  /** Axes (1-based, as Keras counts past the batch) along which one slope is shared, e.g. [1, 2] for one slope per channel of an image. */
  sharedAxes?: number | number[] | null;
}

/**
 * Keras's PReLU layer: x for x >= 0, alpha * x below, with alpha a learned weight of the
 * input's shape past the batch (one slope per element), shared along `sharedAxes`.
 */
export class PReLU extends ActivationLayer {
  static override className = 'PReLU';
  readonly alphaInitializer: Initializer;
  readonly sharedAxes: number[] | null;

  constructor(args: PReLUArgs = {}) {
    super(checkOptions('PReLU', args, [...LAYER_ARG_NAMES, 'alphaInitializer', 'sharedAxes'], "{sharedAxes: [1, 2]}"));
    this.alphaInitializer = getInitializer(args.alphaInitializer ?? 'zeros', `${this.name}.alpha_initializer`);
    // Keras takes one axis as a bare int (keras/src/layers/activations/prelu.py)
    const axes = typeof args.sharedAxes === 'number' ? [args.sharedAxes] : args.sharedAxes;
    if (axes !== undefined && axes !== null && !(Array.isArray(axes) && axes.every((a) => Number.isInteger(a) && a >= 1))) {
      throw new ValueError(`${this.name}: shared_axes must be an axis >= 1 or a list of them (the batch axis 0 cannot be shared), or null; got ${JSON.stringify(axes)}`);
    }
    this.sharedAxes = axes === undefined || axes === null ? null : [...axes];
  }

  /** The slopes' shape: the input's past the batch, 1 along the shared axes. */
  alphaShape(inputShape: Shape): number[] {
    const shape = inputShape.slice(1).map((d, i) => {
      if (this.sharedAxes?.includes(i + 1)) return 1;
      if (d === null) throw new ShapeError(`${this.name}: dimension ${i + 1} of the input ${formatShape(inputShape)} is unknown; PReLU needs it, or list it in shared_axes`);
      return d;
    });
    const outside = this.sharedAxes?.find((a) => a > shape.length);
    if (outside !== undefined) throw new ShapeError(`${this.name}: shared axis ${outside} is not an axis of an input of shape ${formatShape(inputShape)}`);
    return shape;
  }

  override computeOutputShapes(inputShapes: Shape[]): Shape[] {
    const shape = this.singleInput(inputShapes);
    this.alphaShape(shape);
    return [[...shape]];
  }

  override build(inputShapes: Shape[]): void {
    this.addWeight('alpha', this.alphaShape(this.singleInput(inputShapes)), this.alphaInitializer);
  }

  override getConfig(): Record<string, unknown> {
    return {
      ...super.getConfig(),
      alpha_initializer: serializeInitializer(this.alphaInitializer),
      alpha_regularizer: null,
      alpha_constraint: null,
      shared_axes: this.sharedAxes,
    };
  }

  static fromConfig(config: Record<string, unknown>): PReLU {
    const c = new ConfigReader(PReLU.className, config);
    const args: PReLUArgs = c.layerArgs();
    const init = c.initializer('alpha_initializer');
    if (init) args.alphaInitializer = init;
    args.sharedAxes = c.optionalIntTuple('shared_axes') ?? null;
    c.unsupported('alpha_regularizer');
    c.unsupported('alpha_constraint');
    c.finish();
    return new PReLU(args);
  }
}
registerLayer(PReLU);
