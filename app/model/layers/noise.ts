// Keras's regularization layers that act only while training (keras.layers.GaussianNoise,
// GaussianDropout, SpatialDropout1D, SpatialDropout2D) and ActivityRegularization, whose penalty joins the loss.
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

/** A layer drawing noise: its options are the layer's and Keras's seed. */
abstract class NoiseLayer extends TrainingOnlyLayer {
  readonly seed: number | null;

  constructor(className: string, args: NoiseArgs) {
    super(checkOptions(className, args, [...LAYER_ARG_NAMES, 'seed'], '{seed: 42}'));
    const seed = args.seed;
    this.seed = seed === undefined || seed === null ? null : checkNumber(this.name, 'seed', seed, Number.isInteger, 'an integer or null');
  }
}

/** A noise layer's config: its one number (`key`), the seed, and what `more` reads. */
function readNoiseConfig(className: string, config: Record<string, unknown>, key: 'stddev' | 'rate', more?: (c: ConfigReader) => void): [number, NoiseArgs] {
  const c = new ConfigReader(className, config);
  const args: NoiseArgs = { ...c.layerArgs(), seed: c.optionalNumber('seed') ?? null };
  const value = c.number(key);
  more?.(c);
  c.finish();
  return [value, args];
}

/** Keras's GaussianNoise: x + N(0, stddev^2) noise while training; x otherwise. */
export class GaussianNoise extends NoiseLayer {
  static override className = 'GaussianNoise';
  readonly stddev: number;

  constructor(stddev: number, args: NoiseArgs = {}) {
    super('GaussianNoise', args);
    this.stddev = checkNumber(this.name, 'stddev', stddev, (s) => s >= 0, 'a number >= 0');
  }

  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), stddev: this.stddev, seed: this.seed };
  }

  static fromConfig(config: Record<string, unknown>): GaussianNoise {
    return new GaussianNoise(...readNoiseConfig(GaussianNoise.className, config, 'stddev'));
  }
}
registerLayer(GaussianNoise);

/** A noise layer with a dropout rate in [0, 1). */
abstract class RateNoiseLayer extends NoiseLayer {
  readonly rate: number;

  constructor(className: string, rate: number, args: NoiseArgs) {
    super(className, args);
    this.rate = checkNumber(this.name, 'rate', rate, (r) => r >= 0 && r < 1, 'in [0, 1)');
  }

  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), rate: this.rate, seed: this.seed };
  }
}

/** Keras's GaussianDropout: x * N(1, rate / (1 - rate)) noise while training; x otherwise. */
export class GaussianDropout extends RateNoiseLayer {
  static override className = 'GaussianDropout';

  constructor(rate: number, args: NoiseArgs = {}) {
    super('GaussianDropout', rate, args);
  }

  /** The multiplicative noise's standard deviation, sqrt(rate / (1 - rate)). */
  get stddev(): number {
    return Math.sqrt(this.rate / (1 - this.rate));
  }

  static fromConfig(config: Record<string, unknown>): GaussianDropout {
    return new GaussianDropout(...readNoiseConfig(GaussianDropout.className, config, 'rate'));
  }
}
registerLayer(GaussianDropout);

/**
 * Keras's SpatialDropout2D: while training, whole channels of an image (batch, h, w, c) are
 * zeroed with probability `rate` and the others scaled by 1 / (1 - rate) (Dropout with
 * noise_shape (batch, 1, 1, c)); x otherwise.
 */
export class SpatialDropout2D extends RateNoiseLayer {
  static override className = 'SpatialDropout2D';

  constructor(rate: number, args: NoiseArgs = {}) {
    super('SpatialDropout2D', rate, args);
  }

  override computeOutputShapes(inputShapes: Shape[]): Shape[] {
    const shape = this.singleInput(inputShapes);
    if (shape.length !== 4) throw new ShapeError(`${this.name}: expects images (batch, height, width, channels), got an input of shape ${formatShape(shape)}`);
    return [[...shape]];
  }

  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), data_format: 'channels_last' };
  }

  static fromConfig(config: Record<string, unknown>): SpatialDropout2D {
    const channelsLast = (c: ConfigReader) => {
      c.channelsLast();
      c.unsupported('noise_shape');
    };
    return new SpatialDropout2D(...readNoiseConfig(SpatialDropout2D.className, config, 'rate', channelsLast));
  }
}
registerLayer(SpatialDropout2D);

/**
 * Keras's SpatialDropout1D: while training, whole channels of a sequence (batch, steps, channels)
 * are zeroed with probability `rate` and the others scaled by 1 / (1 - rate) (Dropout with
 * noise_shape (batch, 1, channels)); x otherwise.
 */
export class SpatialDropout1D extends RateNoiseLayer {
  static override className = 'SpatialDropout1D';

  constructor(rate: number, args: NoiseArgs = {}) {
    super('SpatialDropout1D', rate, args);
  }

  override computeOutputShapes(inputShapes: Shape[]): Shape[] {
    const shape = this.singleInput(inputShapes);
    if (shape.length !== 3) throw new ShapeError(`${this.name}: expects sequences (batch, steps, channels), got an input of shape ${formatShape(shape)}`);
    return [[...shape]];
  }

  static fromConfig(config: Record<string, unknown>): SpatialDropout1D {
    // tf.keras 2.x and TensorFlow.js write Dropout's noise_shape beside the rate (null)
    const noiseShape = (c: ConfigReader) => c.unsupported('noise_shape');
    return new SpatialDropout1D(...readNoiseConfig(SpatialDropout1D.className, config, 'rate', noiseShape));
  }
}
registerLayer(SpatialDropout1D);

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
