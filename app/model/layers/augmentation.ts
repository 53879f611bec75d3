// Keras's image augmentation layers: RandomFlip, RandomContrast, RandomTranslation, RandomZoom
// and RandomRotation. Each acts only while training, on images (batch, height, width,
// channels): the identity in inference and in an exported ONNX file. The native engine applies
// them in training (ops of the ai.strata domain), drawing each image's transformation from
// its seeded generator (fit's seed), so a seed gives the same augmentation every run. No weights.
import { ConfigError, ShapeError, ValueError } from '../errors.ts';
import { ConfigReader } from '../keras_format/config_reader.ts';
import { LAYER_ARG_NAMES, Layer, type LayerArgs } from '../layer.ts';
import { checkNumber, checkOptions } from '../options.ts';
import { registerLayer } from '../registry.ts';
import { formatShape, type Shape } from '../shape.ts';

export const FILL_MODES = ['reflect', 'wrap', 'constant', 'nearest'] as const;
export type FillMode = (typeof FILL_MODES)[number];
export const INTERPOLATIONS = ['bilinear', 'nearest'] as const;
export type Interpolation = (typeof INTERPOLATIONS)[number];
export const FLIP_MODES = ['horizontal', 'vertical', 'horizontal_and_vertical'] as const;
export type FlipMode = (typeof FLIP_MODES)[number];

/** A factor as Keras takes it: one number f (the range [-f, f]) or a pair [lower, upper]. */
export type Factor = number | [number, number];

export interface AugmentationArgs extends LayerArgs {
  /** Kept for Keras's config; the engine draws from its own seeded generator (fit's seed). */
  seed?: number | null;
}

/** The options the geometric layers share with Keras (RandomTranslation, RandomZoom, RandomRotation). */
export interface FillArgs extends AugmentationArgs {
  /** How points outside the image are filled (default "reflect"). */
  fillMode?: FillMode;
  /** The value for fillMode "constant" (default 0). */
  fillValue?: number;
  /** "bilinear" (default) or "nearest". */
  interpolation?: Interpolation;
}

const AUGMENTATION_OPTIONS = [...LAYER_ARG_NAMES, 'seed'];
const FILL_OPTIONS = [...AUGMENTATION_OPTIONS, 'fillMode', 'fillValue', 'interpolation'];

function oneOf<T extends string>(layer: string, key: string, value: unknown, allowed: readonly T[]): T {
  if (typeof value !== 'string' || !allowed.includes(value as T)) {
    throw new ValueError(`${layer}: ${key} must be one of ${allowed.map((a) => `"${a}"`).join(', ')}, got ${JSON.stringify(value)}`);
  }
  return value as T;
}

/**
 * A Keras factor as the range [lower, upper] it stands for: f gives [-|f|, |f|], a pair itself
 * (lower <= upper). `bound` limits |lower| and |upper| where Keras does.
 */
export function factorRange(layer: string, key: string, factor: unknown, bound = Infinity): [number, number] {
  const rule = `a number or a pair [lower, upper] with lower <= upper${Number.isFinite(bound) ? `, each in [-${bound}, ${bound}]` : ''}`;
  const finite = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && Math.abs(v) <= bound;
  if (finite(factor)) return [-Math.abs(factor), Math.abs(factor)];
  if (Array.isArray(factor) && factor.length === 2 && finite(factor[0]) && finite(factor[1]) && factor[0] <= factor[1]) return [factor[0], factor[1]];
  throw new ValueError(`${layer}: ${key} must be ${rule}, got ${JSON.stringify(factor)}`);
}

function copyFactor(factor: Factor): Factor {
  return Array.isArray(factor) ? [factor[0], factor[1]] : factor;
}

/** A layer acting only while training on images (batch, height, width, channels). */
abstract class AugmentationLayer extends Layer {
  readonly seed: number | null;

  constructor(className: string, args: AugmentationArgs, known: readonly string[], example: string) {
    super(checkOptions(className, args, known, example));
    const seed = args.seed;
    this.seed = seed === undefined || seed === null ? null : checkNumber(this.name, 'seed', seed, Number.isInteger, 'an integer or null');
  }

  computeOutputShapes(inputShapes: Shape[]): Shape[] {
    const shape = this.singleInput(inputShapes);
    if (shape.length !== 4) throw new ShapeError(`${this.name}: expects images (batch, height, width, channels), got an input of shape ${formatShape(shape)}`);
    return [[...shape]];
  }

  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), seed: this.seed };
  }
}

/** A config's base fields, seed and data_format (channels_last only), with `read` for the rest. */
function readConfig<T>(className: string, config: Record<string, unknown>, read: (c: ConfigReader, args: AugmentationArgs) => T): T {
  const c = new ConfigReader(className, config);
  const args: AugmentationArgs = { ...c.layerArgs(), seed: c.optionalNumber('seed') ?? null };
  c.channelsLast();
  const result = read(c, args);
  c.finish();
  return result;
}

/** A factor from a config: a number or a pair, checked by the layer's constructor. */
function configFactor(c: ConfigReader, key: string): Factor {
  const value = c.raw(key, undefined);
  if (value === undefined) throw new ConfigError(`${c.where}: "${key}" is required`);
  return value as Factor;
}

/** Keras's RandomFlip: each image flipped left-right and/or up-down, each with probability 1/2. */
export class RandomFlip extends AugmentationLayer {
  static override className = 'RandomFlip';
  readonly mode: FlipMode;

  constructor(mode: FlipMode = 'horizontal_and_vertical', args: AugmentationArgs = {}) {
    super('RandomFlip', args, AUGMENTATION_OPTIONS, '{seed: 42}');
    this.mode = oneOf(this.name, 'mode', mode, FLIP_MODES);
  }

  get horizontal(): boolean {
    return this.mode !== 'vertical';
  }

  get vertical(): boolean {
    return this.mode !== 'horizontal';
  }

  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), mode: this.mode };
  }

  static fromConfig(config: Record<string, unknown>): RandomFlip {
    return readConfig(RandomFlip.className, config, (c, args) => new RandomFlip(c.string('mode', FLIP_MODES, 'horizontal_and_vertical'), args));
  }
}
registerLayer(RandomFlip);

export interface RandomContrastArgs extends AugmentationArgs {
  /** The range the images' values lie in; the result is clipped to it (default [0, 255], as Keras). */
  valueRange?: [number, number];
}

/**
 * Keras's RandomContrast: each image's channels move away from or toward their mean over the
 * image, (x - mean) * c + mean, with c drawn per image from [1 - lower, 1 + upper] (factor f:
 * lower = upper = f), then clipped to valueRange.
 */
export class RandomContrast extends AugmentationLayer {
  static override className = 'RandomContrast';
  readonly factor: Factor;
  /** The contrast factor's range [1 - lower, 1 + upper]. */
  readonly contrastRange: [number, number];
  readonly valueRange: [number, number];

  constructor(factor: Factor, args: RandomContrastArgs = {}) {
    super('RandomContrast', args, [...AUGMENTATION_OPTIONS, 'valueRange'], '{valueRange: [0, 1]}');
    const inUnit = (v: unknown): v is number => typeof v === 'number' && v >= 0 && v <= 1;
    const pair = Array.isArray(factor) ? factor : [factor, factor];
    if (pair.length !== 2 || !inUnit(pair[0]) || !inUnit(pair[1])) {
      throw new ValueError(`${this.name}: factor must be a number in [0, 1] or a pair [lower, upper] of them, got ${JSON.stringify(factor)}`);
    }
    this.factor = copyFactor(factor);
    this.contrastRange = [1 - pair[0], 1 + pair[1]];
    const range = args.valueRange ?? [0, 255];
    if (!Array.isArray(range) || range.length !== 2 || !range.every((v) => Number.isFinite(v)) || !(range[0] < range[1])) {
      throw new ValueError(`${this.name}: valueRange must be a pair [low, high] of numbers with low < high, got ${JSON.stringify(range)}`);
    }
    this.valueRange = [range[0], range[1]];
  }

  override getConfig(): Record<string, unknown> {
    // tf.keras 2 has no value_range (it clips to [0, 255]): written only when it is not that
    const range = this.valueRange[0] === 0 && this.valueRange[1] === 255 ? {} : { value_range: [...this.valueRange] };
    return { ...super.getConfig(), factor: copyFactor(this.factor), ...range };
  }

  static fromConfig(config: Record<string, unknown>): RandomContrast {
    return readConfig(RandomContrast.className, config, (c, args) => {
      const factor = configFactor(c, 'factor');
      const range = c.raw('value_range', undefined);
      return new RandomContrast(factor, range === undefined ? args : { ...args, valueRange: range as [number, number] });
    });
  }
}
registerLayer(RandomContrast);

/** The geometric layers: each image resampled through an affine map, points outside filled by fillMode. */
abstract class AffineAugmentation extends AugmentationLayer {
  readonly fillMode: FillMode;
  readonly fillValue: number;
  readonly interpolation: Interpolation;

  constructor(className: string, args: FillArgs, known: readonly string[]) {
    super(className, args, known, '{fillMode: "constant"}');
    this.fillMode = oneOf(this.name, 'fillMode', args.fillMode ?? 'reflect', FILL_MODES);
    this.fillValue = checkNumber(this.name, 'fillValue', args.fillValue ?? 0);
    this.interpolation = oneOf(this.name, 'interpolation', args.interpolation ?? 'bilinear', INTERPOLATIONS);
  }

  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), fill_mode: this.fillMode, fill_value: this.fillValue, interpolation: this.interpolation };
  }
}

/** The fill options of a geometric layer's config. */
function readFillArgs(c: ConfigReader, args: AugmentationArgs): FillArgs {
  return {
    ...args,
    fillMode: c.string('fill_mode', FILL_MODES, 'reflect'),
    fillValue: c.number('fill_value', 0),
    interpolation: c.string('interpolation', INTERPOLATIONS, 'bilinear'),
  };
}

/**
 * Keras's RandomTranslation: each image shifted by a fraction of its height and of its width,
 * drawn from heightFactor's and widthFactor's ranges (f: [-f, f]; each in [-1, 1]).
 */
export class RandomTranslation extends AffineAugmentation {
  static override className = 'RandomTranslation';
  readonly heightFactor: Factor;
  readonly widthFactor: Factor;
  readonly heightRange: [number, number];
  readonly widthRange: [number, number];

  constructor(heightFactor: Factor, widthFactor: Factor, args: FillArgs = {}) {
    super('RandomTranslation', args, FILL_OPTIONS);
    this.heightRange = factorRange(this.name, 'heightFactor', heightFactor, 1);
    this.widthRange = factorRange(this.name, 'widthFactor', widthFactor, 1);
    this.heightFactor = copyFactor(heightFactor);
    this.widthFactor = copyFactor(widthFactor);
  }

  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), height_factor: copyFactor(this.heightFactor), width_factor: copyFactor(this.widthFactor) };
  }

  static fromConfig(config: Record<string, unknown>): RandomTranslation {
    return readConfig(RandomTranslation.className, config, (c, args) => new RandomTranslation(configFactor(c, 'height_factor'), configFactor(c, 'width_factor'), readFillArgs(c, args)));
  }
}
registerLayer(RandomTranslation);

export interface RandomZoomArgs extends FillArgs {
  /** The width's zoom range; null (default): the height's zoom, keeping the aspect ratio. */
  widthFactor?: Factor | null;
}

/**
 * Keras's RandomZoom: each image zoomed by 1 + z, z drawn from heightFactor's range (f:
 * [-f, f]; positive values zoom out, negative zoom in), the width by widthFactor's or the same.
 */
export class RandomZoom extends AffineAugmentation {
  static override className = 'RandomZoom';
  readonly heightFactor: Factor;
  readonly widthFactor: Factor | null;
  readonly heightRange: [number, number];
  readonly widthRange: [number, number] | null;

  constructor(heightFactor: Factor, args: RandomZoomArgs = {}) {
    super('RandomZoom', args, [...FILL_OPTIONS, 'widthFactor']);
    this.heightRange = factorRange(this.name, 'heightFactor', heightFactor, 1);
    this.heightFactor = copyFactor(heightFactor);
    const width = args.widthFactor ?? null;
    this.widthRange = width === null ? null : factorRange(this.name, 'widthFactor', width, 1);
    this.widthFactor = width === null ? null : copyFactor(width);
  }

  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), height_factor: copyFactor(this.heightFactor), width_factor: this.widthFactor === null ? null : copyFactor(this.widthFactor) };
  }

  static fromConfig(config: Record<string, unknown>): RandomZoom {
    return readConfig(RandomZoom.className, config, (c, args) => {
      const height = configFactor(c, 'height_factor');
      const width = c.raw('width_factor', null) as Factor | null;
      return new RandomZoom(height, { ...readFillArgs(c, args), widthFactor: width });
    });
  }
}
registerLayer(RandomZoom);

/**
 * Keras's RandomRotation: each image rotated about its center by an angle drawn from factor's
 * range, in fractions of a full turn (f: [-f, f] * 2 pi; positive is counter-clockwise).
 */
export class RandomRotation extends AffineAugmentation {
  static override className = 'RandomRotation';
  readonly factor: Factor;
  readonly range: [number, number];

  constructor(factor: Factor, args: FillArgs = {}) {
    super('RandomRotation', args, FILL_OPTIONS);
    this.range = factorRange(this.name, 'factor', factor);
    this.factor = copyFactor(factor);
  }

  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), factor: copyFactor(this.factor) };
  }

  static fromConfig(config: Record<string, unknown>): RandomRotation {
    return readConfig(RandomRotation.className, config, (c, args) => new RandomRotation(configFactor(c, 'factor'), readFillArgs(c, args)));
  }
}
registerLayer(RandomRotation);
