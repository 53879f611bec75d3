// Keras's regularization layers that act only while training (keras.layers.GaussianNoise,
// GaussianDropout, SpatialDropout2D) and ActivityRegularization, whose penalty joins the loss.
// All are the identity in inference and in an exported ONNX file; the native engine applies
// them in training, its noise drawn from the engine's seeded generator. No weights.
import { ShapeError } from '../errors.ts';
import { ConfigReader } from '../keras_format/config_reader.ts';
import { LAYER_ARG_NAMES, Layer, type LayerArgs } from '../layer.ts';
import { checkNumber, checkOptions } from '../options.ts';
import { registerLayer } from '../registry.ts';
import { formatShape, type Shape } from '../shape.ts';

abstract class TrainingOnlyLayer extends Layer {
  computeOutputShapes(inputShapes: Shape[]): Shape[] {
    return [[...this.singleInput(inputShapes)]];
  }
}

export interface NoiseArgs extends LayerArgs {
  /** Kept for Keras's config; the engine draws from its own seeded generator (fit's seed). */
  seed?: number | null;
}

/** A dropout rate in [0, 1), or a ValueError naming the layer. */
function checkRate(owner: string, rate: unknown): number {
  return checkNumber(owner, 'rate', rate, (r) => r >= 0 && r < 1, 'in [0, 1)');
}

/** Keras's optional integer seed. */
function checkSeed(owner: string, seed: unknown): number | null {
  return seed === undefined || seed === null ? null : checkNumber(owner, 'seed', seed, Number.isInteger, 'an integer or null');
}

/** Keras's GaussianNoise: x + N(0, stddev^2) noise while training; x otherwise. */
export class GaussianNoise extends TrainingOnlyLayer {
  static override className = 'GaussianNoise';
  readonly stddev: number;
  readonly seed: number | null;

  constructor(stddev: number, args: NoiseArgs = {}) {
    super(checkOptions('GaussianNoise', args, [...LAYER_ARG_NAMES, 'seed'], '{seed: 42}'));
    this.stddev = checkNumber(this.name, 'stddev', stddev, (s) => s >= 0, 'a number >= 0');
    this.seed = checkSeed(this.name, args.seed);
  }

  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), stddev: this.stddev, seed: this.seed };
  }

  static fromConfig(config: Record<string, unknown>): GaussianNoise {
    const c = new ConfigReader(GaussianNoise.className, config);
    const args: NoiseArgs = { ...c.layerArgs(), seed: c.optionalNumber('seed') ?? null };
    const stddev = c.number('stddev');
    c.finish();
    return new GaussianNoise(stddev, args);
  }
}
registerLayer(GaussianNoise);

/** Keras's GaussianDropout: x * N(1, rate / (1 - rate)) noise while training; x otherwise. */
export class GaussianDropout extends TrainingOnlyLayer {
  static override className = 'GaussianDropout';
  readonly rate: number;
  readonly seed: number | null;

  constructor(rate: number, args: NoiseArgs = {}) {
    super(checkOptions('GaussianDropout', args, [...LAYER_ARG_NAMES, 'seed'], '{seed: 42}'));
    this.rate = checkRate(this.name, rate);
    this.seed = checkSeed(this.name, args.seed);
  }

  /** The multiplicative noise's standard deviation, sqrt(rate / (1 - rate)). */
  get stddev(): number {
    return Math.sqrt(this.rate / (1 - this.rate));
  }

  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), rate: this.rate, seed: this.seed };
  }

  static fromConfig(config: Record<string, unknown>): GaussianDropout {
    const c = new ConfigReader(GaussianDropout.className, config);
    const args: NoiseArgs = { ...c.layerArgs(), seed: c.optionalNumber('seed') ?? null };
    const rate = c.number('rate');
    c.finish();
    return new GaussianDropout(rate, args);
  }
}
registerLayer(GaussianDropout);

/**
 * Keras's SpatialDropout2D: while training, whole channels of an image (batch, h, w, c) are
 * zeroed with probability `rate` and the others scaled by 1 / (1 - rate) (Dropout with
 * noise_shape (batch, 1, 1, c)); x otherwise.
 */
export class SpatialDropout2D extends TrainingOnlyLayer {
  static override className = 'SpatialDropout2D';
  readonly rate: number;
  readonly seed: number | null;

  constructor(rate: number, args: NoiseArgs = {}) {
    super(checkOptions('SpatialDropout2D', args, [...LAYER_ARG_NAMES, 'seed'], '{seed: 42}'));
    this.rate = checkRate(this.name, rate);
    this.seed = checkSeed(this.name, args.seed);
  }

  override computeOutputShapes(inputShapes: Shape[]): Shape[] {
    const shape = this.singleInput(inputShapes);
    if (shape.length !== 4) throw new ShapeError(`${this.name}: expects images (batch, height, width, channels), got an input of shape ${formatShape(shape)}`);
    return [[...shape]];
  }

  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), rate: this.rate, seed: this.seed, data_format: 'channels_last' };
  }

  static fromConfig(config: Record<string, unknown>): SpatialDropout2D {
    const c = new ConfigReader(SpatialDropout2D.className, config);
    const args: NoiseArgs = { ...c.layerArgs(), seed: c.optionalNumber('seed') ?? null };
    const rate = c.number('rate');
    c.channelsLast();
    c.unsupported('noise_shape');
    c.finish();
    return new SpatialDropout2D(rate, args);
  }
}
registerLayer(SpatialDropout2D);

export interface ActivityRegularizationArgs extends LayerArgs {
  /** The L1 factor: l1 * sum(|x|) joins the loss (default 0). */
  l1?: number;
  /** The L2 factor: l2 * sum(x^2) joins the loss (default 0). */
  l2?: number;
}

/**
 * Keras's ActivityRegularization: passes x through and adds l1 * sum(|x|) + l2 * sum(x^2)
 * over the batch to the loss, as Keras 3 does (tf.keras 2.x divided it by the batch size).
 */
export class ActivityRegularization extends TrainingOnlyLayer {
  static override className = 'ActivityRegularization';
  readonly l1: number;
  readonly l2: number;

  constructor(args: ActivityRegularizationArgs = {}) {
    super(checkOptions('ActivityRegularization', args, [...LAYER_ARG_NAMES, 'l1', 'l2'], '{l2: 0.01}'));
    const factor = (key: 'l1' | 'l2') => (args[key] === undefined ? 0 : checkNumber(this.name, key, args[key], (v) => v >= 0, 'a number >= 0'));
    this.l1 = factor('l1');
    this.l2 = factor('l2');
  }

  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), l1: this.l1, l2: this.l2 };
  }

  static fromConfig(config: Record<string, unknown>): ActivityRegularization {
    const c = new ConfigReader(ActivityRegularization.className, config);
    const args: ActivityRegularizationArgs = c.layerArgs();
    args.l1 = c.number('l1', 0);
    args.l2 = c.number('l2', 0);
    // the regularizer Keras makes of l1 and l2, when a version writes it beside them
    c.raw('activity_regularizer', null);
    c.finish();
    return new ActivityRegularization(args);
  }
}
registerLayer(ActivityRegularization);
