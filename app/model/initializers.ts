// Weight initializers with Keras's names, defaults and formulas. Glorot, He and LeCun are
// VarianceScaling presets, as in Keras (and TensorFlow.js writes them that way in JSON).
import { ConfigError, ValueError } from './errors.ts';
import { checkNumber, checkOptions } from './options.ts';
import { getGlobalGenerator, RandomGenerator } from './random.ts';
import { product } from './shape.ts';

export interface InitializerConfig {
  class_name: string;
  config: Record<string, unknown>;
}

export interface Initializer {
  readonly className: string;
  /** Fills a new array of the given (Keras-layout) shape. */
  generate(shape: readonly number[]): Float32Array;
  getConfig(): Record<string, unknown>;
}

/** A generator for one initializer: its own when seeded, else the global one. */
function generatorFor(seed: number | null): RandomGenerator {
  return seed === null ? getGlobalGenerator() : new RandomGenerator(seed);
}

export class Zeros implements Initializer {
  readonly className = 'Zeros';
  constructor(args?: Record<string, never>) {
    checkOptions('Zeros', args, [], '{}');
  }
  generate(shape: readonly number[]): Float32Array {
    return new Float32Array(product(shape));
  }
  getConfig() {
    return {};
  }
}

export class Ones implements Initializer {
  readonly className = 'Ones';
  constructor(args?: Record<string, never>) {
    checkOptions('Ones', args, [], '{}');
  }
  generate(shape: readonly number[]): Float32Array {
    return new Float32Array(product(shape)).fill(1);
  }
  getConfig() {
    return {};
  }
}

export interface ConstantArgs {
  value?: number;
}

export class Constant implements Initializer {
  readonly className = 'Constant';
  readonly value: number;
  constructor(args?: ConstantArgs) {
    const { value = 0 } = checkOptions('Constant', args, ['value'], '{value: 0.5}');
    this.value = checkNumber('Constant', 'value', value);
  }
  generate(shape: readonly number[]): Float32Array {
    return new Float32Array(product(shape)).fill(this.value);
  }
  getConfig() {
    return { value: this.value };
  }
}

/** Keras's seed argument: an integer fixes this initializer's values, null draws from the global generator. */
function checkSeed(owner: string, seed: unknown): number | null {
  if (seed === null || seed === undefined) return null;
  return checkNumber(owner, 'seed', seed, Number.isInteger, 'an integer or null');
}

export interface RandomUniformArgs {
  minval?: number;
  maxval?: number;
  seed?: number | null;
}

export class RandomUniform implements Initializer {
  readonly className = 'RandomUniform';
  readonly minval: number;
  readonly maxval: number;
  readonly seed: number | null;
  constructor(args?: RandomUniformArgs) {
    const { minval = -0.05, maxval = 0.05, seed } = checkOptions('RandomUniform', args, ['minval', 'maxval', 'seed'], '{minval: -0.05, maxval: 0.05}');
    this.minval = checkNumber('RandomUniform', 'minval', minval);
    this.maxval = checkNumber('RandomUniform', 'maxval', maxval, (v) => v >= this.minval, `a number >= minval (${this.minval})`);
    this.seed = checkSeed('RandomUniform', seed);
  }
  generate(shape: readonly number[]): Float32Array {
    const rng = generatorFor(this.seed);
    const out = new Float32Array(product(shape));
    for (let i = 0; i < out.length; i++) out[i] = this.minval + (this.maxval - this.minval) * rng.uniform();
    return out;
  }
  getConfig() {
    return { minval: this.minval, maxval: this.maxval, seed: this.seed };
  }
}

export interface RandomNormalArgs {
  mean?: number;
  stddev?: number;
  seed?: number | null;
}

/** The checked fields of RandomNormal and TruncatedNormal, which take the same arguments. */
function normalArgs(owner: string, args: RandomNormalArgs | undefined): Required<RandomNormalArgs> {
  const { mean = 0, stddev = 0.05, seed } = checkOptions(owner, args, ['mean', 'stddev', 'seed'], '{mean: 0, stddev: 0.05}');
  return { mean: checkNumber(owner, 'mean', mean), stddev: checkNumber(owner, 'stddev', stddev, (v) => v >= 0, 'a number >= 0'), seed: checkSeed(owner, seed) };
}

export class RandomNormal implements Initializer {
  readonly className = 'RandomNormal';
  readonly mean: number;
  readonly stddev: number;
  readonly seed: number | null;
  constructor(args?: RandomNormalArgs) {
    ({ mean: this.mean, stddev: this.stddev, seed: this.seed } = normalArgs('RandomNormal', args));
  }
  generate(shape: readonly number[]): Float32Array {
    const rng = generatorFor(this.seed);
    const out = new Float32Array(product(shape));
    for (let i = 0; i < out.length; i++) out[i] = this.mean + this.stddev * rng.normal();
    return out;
  }
  getConfig() {
    return { mean: this.mean, stddev: this.stddev, seed: this.seed };
  }
}

/** Normal values redrawn when more than two standard deviations from the mean (as Keras). */
function truncatedNormal(rng: RandomGenerator, mean: number, stddev: number, n: number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    let z: number;
    do z = rng.normal();
    while (Math.abs(z) > 2);
    out[i] = mean + stddev * z;
  }
  return out;
}

export class TruncatedNormal implements Initializer {
  readonly className = 'TruncatedNormal';
  readonly mean: number;
  readonly stddev: number;
  readonly seed: number | null;
  constructor(args?: RandomNormalArgs) {
    ({ mean: this.mean, stddev: this.stddev, seed: this.seed } = normalArgs('TruncatedNormal', args));
  }
  generate(shape: readonly number[]): Float32Array {
    return truncatedNormal(generatorFor(this.seed), this.mean, this.stddev, product(shape));
  }
  getConfig() {
    return { mean: this.mean, stddev: this.stddev, seed: this.seed };
  }
}

export interface OrthogonalArgs {
  gain?: number;
  seed?: number | null;
}

/**
 * Keras's Orthogonal (the recurrent kernels' default): a (rows, cols) matrix, rows = the
 * product of all but the last dimension, whose rows or columns (the shorter side) are
 * orthonormal, times `gain`. As Keras: Q of a normal matrix's QR decomposition with R's
 * diagonal made positive, which Gram-Schmidt on the columns gives directly.
 */
export class Orthogonal implements Initializer {
  readonly className = 'Orthogonal';
  readonly gain: number;
  readonly seed: number | null;
  constructor(args?: OrthogonalArgs) {
    const { gain = 1, seed } = checkOptions('Orthogonal', args, ['gain', 'seed'], '{gain: 1}');
    this.gain = checkNumber('Orthogonal', 'gain', gain);
    this.seed = checkSeed('Orthogonal', seed);
  }
  generate(shape: readonly number[]): Float32Array {
    const n = product(shape);
    if (shape.length < 2) throw new ValueError(`Orthogonal: needs a shape of rank >= 2, got (${shape.join(', ')})`);
    const cols = shape[shape.length - 1]!;
    const rows = n / cols;
    // tall (long, short): orthonormal columns; a wide matrix is the transpose of its tall form
    const long = Math.max(rows, cols);
    const short = Math.min(rows, cols);
    const rng = generatorFor(this.seed);
    const q = Array.from({ length: short }, () => Float64Array.from({ length: long }, () => rng.normal()));
    for (let j = 0; j < short; j++) {
      const v = q[j]!;
      for (let k = 0; k < j; k++) {
        const u = q[k]!;
        let dot = 0;
        for (let i = 0; i < long; i++) dot += u[i]! * v[i]!;
        for (let i = 0; i < long; i++) v[i]! -= dot * u[i]!;
      }
      let squares = 0;
      for (let i = 0; i < long; i++) squares += v[i]! * v[i]!;
      const norm = Math.sqrt(squares);
      for (let i = 0; i < long; i++) v[i]! /= norm;
    }
    const out = new Float32Array(n);
    for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[r * cols + c] = this.gain * (rows >= cols ? q[c]![r]! : q[r]![c]!);
    return out;
  }
  getConfig() {
    return { gain: this.gain, seed: this.seed };
  }
}

export type FanMode = 'fan_in' | 'fan_out' | 'fan_avg';
export type ScalingDistribution = 'truncated_normal' | 'untruncated_normal' | 'uniform';

/** Keras's fans: a kernel (..., in, out) has fan_in = in * receptive field, fan_out = out * receptive field. */
export function computeFans(shape: readonly number[]): [number, number] {
  if (shape.length === 0) return [1, 1];
  if (shape.length === 1) return [shape[0]!, shape[0]!];
  const receptive = product(shape.slice(0, -2));
  return [shape[shape.length - 2]! * receptive, shape[shape.length - 1]! * receptive];
}

export interface VarianceScalingArgs {
  scale?: number;
  mode?: FanMode;
  /** 'normal' is Keras's legacy spelling of 'truncated_normal'. */
  distribution?: ScalingDistribution | 'normal';
  seed?: number | null;
}

const FAN_MODES: readonly string[] = ['fan_in', 'fan_out', 'fan_avg'];
const DISTRIBUTIONS: readonly string[] = ['truncated_normal', 'untruncated_normal', 'uniform'];

/** A Glorot, He or LeCun preset: Keras's class name and the VarianceScaling arguments it fixes. */
interface Preset {
  className: string;
  scale: number;
  mode: FanMode;
  distribution: ScalingDistribution;
}

export class VarianceScaling implements Initializer {
  readonly className: string;
  readonly scale: number;
  readonly mode: FanMode;
  readonly distribution: ScalingDistribution;
  readonly seed: number | null;
  /** `preset` is given by the Glorot/He/LeCun subclasses, which take only a seed. */
  constructor(args?: VarianceScalingArgs, preset?: Preset) {
    const owner = preset?.className ?? 'VarianceScaling';
    const known = preset ? ['seed'] : ['scale', 'mode', 'distribution', 'seed'];
    const options = checkOptions(owner, args, known, preset ? '{seed: 42}' : "{scale: 2, mode: 'fan_in', distribution: 'truncated_normal'}");
    const { scale = 1, mode = 'fan_in', distribution = 'truncated_normal' } = preset ?? options;
    this.className = owner;
    this.scale = checkNumber(owner, 'scale', scale, (v) => v > 0, 'a positive number');
    if (!FAN_MODES.includes(mode)) throw new ValueError(`${owner}: mode must be one of ${FAN_MODES.join(', ')}, got ${JSON.stringify(mode)}`);
    this.mode = mode;
    const normalized = distribution === 'normal' ? 'truncated_normal' : distribution;
    if (!DISTRIBUTIONS.includes(normalized)) throw new ValueError(`${owner}: distribution must be one of ${DISTRIBUTIONS.join(', ')}, got ${JSON.stringify(distribution)}`);
    this.distribution = normalized;
    this.seed = checkSeed(owner, options.seed);
  }

  generate(shape: readonly number[]): Float32Array {
    const [fanIn, fanOut] = computeFans(shape);
    const fan = this.mode === 'fan_in' ? fanIn : this.mode === 'fan_out' ? fanOut : (fanIn + fanOut) / 2;
    const variance = this.scale / Math.max(1, fan);
    const rng = generatorFor(this.seed);
    const n = product(shape);
    if (this.distribution === 'uniform') {
      const limit = Math.sqrt(3 * variance);
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = limit * (2 * rng.uniform() - 1);
      return out;
    }
    if (this.distribution === 'untruncated_normal') {
      const out = new Float32Array(n);
      const stddev = Math.sqrt(variance);
      for (let i = 0; i < n; i++) out[i] = stddev * rng.normal();
      return out;
    }
    // 0.8796... is the stddev of a unit normal truncated to [-2, 2]; dividing by it keeps the variance.
    return truncatedNormal(rng, 0, Math.sqrt(variance) / 0.8796256610342398, n);
  }

  getConfig(): Record<string, unknown> {
    if (this.className !== 'VarianceScaling') return { seed: this.seed };
    return { scale: this.scale, mode: this.mode, distribution: this.distribution, seed: this.seed };
  }
}

/** Keras's keyword form for the presets: `new GlorotUniform({seed: 42})`. */
export interface SeedArgs {
  seed?: number | null;
}

/** A preset's class: takes only a seed, as Keras's GlorotUniform(seed=None) does. */
function presetClass(className: string, scale: number, mode: FanMode, distribution: ScalingDistribution) {
  return class extends VarianceScaling {
    constructor(args?: SeedArgs) {
      super(args, { className, scale, mode, distribution });
    }
  };
}

export const GlorotUniform = presetClass('GlorotUniform', 1, 'fan_avg', 'uniform');
export const GlorotNormal = presetClass('GlorotNormal', 1, 'fan_avg', 'truncated_normal');
export const HeUniform = presetClass('HeUniform', 2, 'fan_in', 'uniform');
export const HeNormal = presetClass('HeNormal', 2, 'fan_in', 'truncated_normal');
export const LecunUniform = presetClass('LecunUniform', 1, 'fan_in', 'uniform');
export const LecunNormal = presetClass('LecunNormal', 1, 'fan_in', 'truncated_normal');

/** Keras's class names; a config's keys are the constructor's options (one word each, no case to convert). */
// `any`: each class checks its own options at run time (checkOptions), which is the point here.
const CLASSES: Record<string, new (args?: any) => Initializer> = {
  Zeros,
  Ones,
  Constant,
  RandomUniform,
  RandomNormal,
  TruncatedNormal,
  VarianceScaling,
  GlorotUniform,
  GlorotNormal,
  HeUniform,
  HeNormal,
  LecunUniform,
  LecunNormal,
  Orthogonal,
};

/** Keras's string identifiers, e.g. "glorot_uniform", mapped to class names. */
const STRING_IDENTIFIERS: Record<string, string> = {
  zeros: 'Zeros',
  ones: 'Ones',
  constant: 'Constant',
  uniform: 'RandomUniform',
  random_uniform: 'RandomUniform',
  normal: 'RandomNormal',
  random_normal: 'RandomNormal',
  truncated_normal: 'TruncatedNormal',
  variance_scaling: 'VarianceScaling',
  glorot_uniform: 'GlorotUniform',
  glorot_normal: 'GlorotNormal',
  he_uniform: 'HeUniform',
  he_normal: 'HeNormal',
  lecun_uniform: 'LecunUniform',
  lecun_normal: 'LecunNormal',
  orthogonal: 'Orthogonal',
};

export type InitializerIdentifier = string | Initializer | InitializerConfig;

/** Builds an initializer from a string, an instance, or Keras's {class_name, config}. */
export function getInitializer(identifier: InitializerIdentifier, owner = 'initializer'): Initializer {
  if (typeof identifier === 'object' && identifier !== null && 'generate' in identifier) return identifier;
  if (typeof identifier !== 'string' && (typeof identifier !== 'object' || identifier === null || typeof identifier.class_name !== 'string')) {
    throw new ConfigError(`${owner}: expected an initializer name, an instance from initializers or {class_name, config}, got ${JSON.stringify(identifier)}`);
  }
  const className = typeof identifier === 'string' ? (STRING_IDENTIFIERS[identifier] ?? identifier) : identifier.class_name;
  const Class = Object.hasOwn(CLASSES, className) ? CLASSES[className] : undefined;
  if (!Class) {
    const names = [...Object.keys(STRING_IDENTIFIERS), ...Object.keys(CLASSES)];
    throw new ConfigError(`${owner}: unsupported initializer ${JSON.stringify(className)}; supported: ${names.join(', ')}`);
  }
  const config = typeof identifier === 'string' ? {} : (identifier.config ?? {});
  try {
    return new Class(config);
  } catch (error) {
    if (error instanceof ValueError) throw new ConfigError(`${owner}: ${error.message.replace(/unknown option/, 'unsupported config key')}`);
    throw error;
  }
}

/** Keras 2.x JSON form: {"class_name": "GlorotUniform", "config": {"seed": null}}. */
export function serializeInitializer(initializer: Initializer): InitializerConfig {
  return { class_name: initializer.className, config: initializer.getConfig() };
}
