// BatchNormalization over the last axis (channels), with Keras's momentum 0.99 and epsilon
// 1e-3. gamma and beta train; moving_mean and moving_variance are non-trainable weights.
// LayerNormalization over any non-batch axes of each sample, as Keras's.
import { ShapeError, ValueError } from '../errors.ts';
import { getInitializer, serializeInitializer, type Initializer, type InitializerIdentifier } from '../initializers.ts';
import { ConfigReader } from '../keras_format/config_reader.ts';
import { LAYER_ARG_NAMES, Layer, type LayerArgs } from '../layer.ts';
import { checkNumber, checkOptions } from '../options.ts';
import { registerLayer } from '../registry.ts';
import { assertBuiltAxes, formatShape, type Shape } from '../shape.ts';

export interface BatchNormalizationArgs extends LayerArgs {
  axis?: number;
  momentum?: number;
  epsilon?: number;
  center?: boolean;
  scale?: boolean;
  betaInitializer?: InitializerIdentifier;
  gammaInitializer?: InitializerIdentifier;
  movingMeanInitializer?: InitializerIdentifier;
  movingVarianceInitializer?: InitializerIdentifier;
}

const BATCH_NORMALIZATION_OPTIONS = [
  ...LAYER_ARG_NAMES,
  ...['axis', 'momentum', 'epsilon', 'center', 'scale', 'betaInitializer', 'gammaInitializer', 'movingMeanInitializer', 'movingVarianceInitializer'],
];

export class BatchNormalization extends Layer {
  static override className = 'BatchNormalization';
  readonly axis: number;
  readonly momentum: number;
  readonly epsilon: number;
  readonly center: boolean;
  readonly scale: boolean;
  readonly betaInitializer: Initializer;
  readonly gammaInitializer: Initializer;
  readonly movingMeanInitializer: Initializer;
  readonly movingVarianceInitializer: Initializer;
  private features: number | null = null;

  constructor(args: BatchNormalizationArgs = {}) {
    super(checkOptions('BatchNormalization', args, BATCH_NORMALIZATION_OPTIONS, '{momentum: 0.9}'));
    this.axis = args.axis ?? -1;
    this.momentum = args.momentum ?? 0.99;
    this.epsilon = args.epsilon ?? 1e-3;
    if (!(this.momentum >= 0 && this.momentum <= 1)) throw new ValueError(`${this.name}: momentum must be in [0, 1], got ${this.momentum}`);
    if (!(this.epsilon > 0)) throw new ValueError(`${this.name}: epsilon must be positive, got ${this.epsilon}`);
    this.center = args.center ?? true;
    this.scale = args.scale ?? true;
    this.betaInitializer = getInitializer(args.betaInitializer ?? 'zeros', `${this.name}.beta_initializer`);
    this.gammaInitializer = getInitializer(args.gammaInitializer ?? 'ones', `${this.name}.gamma_initializer`);
    this.movingMeanInitializer = getInitializer(args.movingMeanInitializer ?? 'zeros', `${this.name}.moving_mean_initializer`);
    this.movingVarianceInitializer = getInitializer(args.movingVarianceInitializer ?? 'ones', `${this.name}.moving_variance_initializer`);
  }

  private checkInput(inputShapes: Shape[]): Shape {
    const shape = this.singleInput(inputShapes);
    // Only the last axis: that is what the ONNX and native backends normalize over.
    if (shape.length < 2 || (this.axis !== -1 && this.axis !== shape.length - 1)) {
      throw new ShapeError(`${this.name}: normalizes over the last axis only (axis=-1), got axis=${this.axis} for an input of shape ${formatShape(shape)}`);
    }
    const features = shape[shape.length - 1];
    if (features === null || features === undefined) throw new ShapeError(`${this.name}: the last dimension of the input must be known, got ${formatShape(shape)}`);
    if (this.features !== null && features !== this.features) {
      throw new ShapeError(`${this.name}: built for ${this.features} features, got an input of shape ${formatShape(shape)}`);
    }
    return shape;
  }

  override build(inputShapes: Shape[]): void {
    const shape = this.checkInput(inputShapes);
    this.features = shape[shape.length - 1]!;
    const n = this.features;
    if (this.scale) this.addWeight('gamma', [n], this.gammaInitializer);
    if (this.center) this.addWeight('beta', [n], this.betaInitializer);
    this.addWeight('moving_mean', [n], this.movingMeanInitializer, false);
    this.addWeight('moving_variance', [n], this.movingVarianceInitializer, false);
  }

  computeOutputShapes(inputShapes: Shape[]): Shape[] {
    return [[...this.checkInput(inputShapes)]];
  }

  override getConfig(): Record<string, unknown> {
    return {
      ...super.getConfig(),
      axis: this.axis,
      momentum: this.momentum,
      epsilon: this.epsilon,
      center: this.center,
      scale: this.scale,
      beta_initializer: serializeInitializer(this.betaInitializer),
      gamma_initializer: serializeInitializer(this.gammaInitializer),
      moving_mean_initializer: serializeInitializer(this.movingMeanInitializer),
      moving_variance_initializer: serializeInitializer(this.movingVarianceInitializer),
      beta_regularizer: null,
      gamma_regularizer: null,
      beta_constraint: null,
      gamma_constraint: null,
    };
  }

  static fromConfig(config: Record<string, unknown>): BatchNormalization {
    const c = new ConfigReader(BatchNormalization.className, config);
    const args: BatchNormalizationArgs = c.layerArgs();
    const axis = c.intTuple('axis', [-1]);
    if (axis.length !== 1) throw new ValueError(`${c.where}: normalizing over several axes (${JSON.stringify(axis)}) is not supported`);
    args.axis = axis[0]!;
    args.momentum = c.number('momentum', 0.99);
    args.epsilon = c.number('epsilon', 1e-3);
    args.center = c.boolean('center', true);
    args.scale = c.boolean('scale', true);
    const initializers = [
      ['beta_initializer', 'betaInitializer'],
      ['gamma_initializer', 'gammaInitializer'],
      ['moving_mean_initializer', 'movingMeanInitializer'],
      ['moving_variance_initializer', 'movingVarianceInitializer'],
    ] as const;
    for (const [key, field] of initializers) {
      const init = c.initializer(key);
      if (init) args[field] = init;
    }
    for (const key of ['beta_regularizer', 'gamma_regularizer', 'beta_constraint', 'gamma_constraint']) c.unsupported(key);
    c.unsupported('synchronized', [false, null]);
    c.unsupported('renorm', [false, null]);
    c.unsupported('renorm_clipping', [null]);
    c.unsupported('renorm_momentum', [null, 0.99]);
    c.unsupported('fused', [null, true, false]);
    c.unsupported('virtual_batch_size', [null]);
    c.unsupported('adjustment', [null]);
    c.finish();
    return new BatchNormalization(args);
  }
}
registerLayer(BatchNormalization);

export interface LayerNormalizationArgs extends LayerArgs {
  /** The axis or axes normalized over, each sample on its own (default -1); never the batch axis 0. */
  axis?: number | number[];
  epsilon?: number;
  /** Adds the trained offset beta (default true). */
  center?: boolean;
  /** Multiplies by the trained gamma (default true). */
  scale?: boolean;
  betaInitializer?: InitializerIdentifier;
  gammaInitializer?: InitializerIdentifier;
}

const LAYER_NORMALIZATION_OPTIONS = [...LAYER_ARG_NAMES, 'axis', 'epsilon', 'center', 'scale', 'betaInitializer', 'gammaInitializer'];

/**
 * Keras's LayerNormalization: each sample's values over `axis` get mean 0 and variance 1
 * ((x - mean) / sqrt(variance + epsilon), the variance biased), then gamma * that + beta,
 * gamma and beta holding one value per element of the normalized axes.
 */
export class LayerNormalization extends Layer {
  static override className = 'LayerNormalization';
  /** As given; `axes` holds them resolved against the input's rank once built. */
  readonly axis: number | number[];
  readonly epsilon: number;
  readonly center: boolean;
  readonly scale: boolean;
  readonly betaInitializer: Initializer;
  readonly gammaInitializer: Initializer;
  /** The normalized axes, positive and ascending, once built (tf.keras writes these to JSON). */
  axes: number[] | null = null;
  private builtFor: Shape | null = null;

  constructor(args: LayerNormalizationArgs = {}) {
    super(checkOptions('LayerNormalization', args, LAYER_NORMALIZATION_OPTIONS, '{epsilon: 1e-6}'));
    const axis = args.axis ?? -1;
    const list = Array.isArray(axis) ? axis : [axis];
    if (list.length === 0 || !list.every((a) => Number.isInteger(a))) {
      throw new ValueError(`${this.name}: axis must be an integer or a non-empty list of integers, got ${JSON.stringify(axis)}`);
    }
    this.axis = Array.isArray(axis) ? [...axis] : axis;
    this.epsilon = checkNumber(this.name, 'epsilon', args.epsilon ?? 1e-3, (n) => n > 0, 'a number > 0');
    this.center = args.center ?? true;
    this.scale = args.scale ?? true;
    this.betaInitializer = getInitializer(args.betaInitializer ?? 'zeros', `${this.name}.beta_initializer`);
    this.gammaInitializer = getInitializer(args.gammaInitializer ?? 'ones', `${this.name}.gamma_initializer`);
  }

  /** The axes resolved against `shape`'s rank, or a ShapeError naming the layer, the axis and the shape. */
  private resolveAxes(shape: Shape): number[] {
    const rank = shape.length;
    const axes = (Array.isArray(this.axis) ? this.axis : [this.axis]).map((a) => (a < 0 ? a + rank : a));
    for (const [i, a] of axes.entries()) {
      const given = Array.isArray(this.axis) ? this.axis[i] : this.axis;
      if (a < 1 || a >= rank) throw new ShapeError(`${this.name}: axis ${given} is not a non-batch axis of an input of shape ${formatShape(shape)}`);
      if (shape[a] === null) throw new ShapeError(`${this.name}: axis ${given} of the input ${formatShape(shape)} must have a known size`);
    }
    if (new Set(axes).size !== axes.length) throw new ShapeError(`${this.name}: axis ${JSON.stringify(this.axis)} names an axis twice for an input of shape ${formatShape(shape)}`);
    return axes.sort((a, b) => a - b);
  }

  /** gamma's and beta's shape: the sizes of the normalized axes. */
  get parameterShape(): number[] {
    return this.axes!.map((a) => this.builtFor![a] as number);
  }

  override build(inputShapes: Shape[]): void {
    const shape = this.singleInput(inputShapes);
    this.axes = this.resolveAxes(shape);
    this.builtFor = [...shape];
    if (this.scale) this.addWeight('gamma', this.parameterShape, this.gammaInitializer);
    if (this.center) this.addWeight('beta', this.parameterShape, this.betaInitializer);
  }

  computeOutputShapes(inputShapes: Shape[]): Shape[] {
    const shape = this.singleInput(inputShapes);
    assertBuiltAxes(this.name, this.builtFor, shape, this.resolveAxes(shape));
    return [[...shape]];
  }

  override getConfig(): Record<string, unknown> {
    return {
      ...super.getConfig(),
      axis: this.axes ? [...this.axes] : this.axis,
      epsilon: this.epsilon,
      center: this.center,
      scale: this.scale,
      beta_initializer: serializeInitializer(this.betaInitializer),
      gamma_initializer: serializeInitializer(this.gammaInitializer),
      beta_regularizer: null,
      gamma_regularizer: null,
      beta_constraint: null,
      gamma_constraint: null,
    };
  }

  static fromConfig(config: Record<string, unknown>): LayerNormalization {
    const c = new ConfigReader(LayerNormalization.className, config);
    const args: LayerNormalizationArgs = c.layerArgs();
    const axis = c.raw('axis', -1);
    args.axis = axis as number | number[];
    args.epsilon = c.number('epsilon', 1e-3);
    args.center = c.boolean('center', true);
    args.scale = c.boolean('scale', true);
    const beta = c.initializer('beta_initializer');
    if (beta) args.betaInitializer = beta;
    const gamma = c.initializer('gamma_initializer');
    if (gamma) args.gammaInitializer = gamma;
    for (const key of ['beta_regularizer', 'gamma_regularizer', 'beta_constraint', 'gamma_constraint']) c.unsupported(key);
    // Keras 3: root-mean-square scaling instead of centering; Strata centers.
    c.unsupported('rms_scaling', [false, null]);
    c.finish();
    return new LayerNormalization(args);
  }
}
registerLayer(LayerNormalization);
