// Weight initializers with Keras's names, defaults and formulas. Glorot, He and LeCun are
// VarianceScaling presets, as in Keras (and TensorFlow.js writes them that way in JSON).
import { ConfigError, ValueError } from './errors.ts';
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
  generate(shape: readonly number[]): Float32Array {
    return new Float32Array(product(shape));
  }
  getConfig() {
    return {};
  }
}

export class Ones implements Initializer {
  readonly className = 'Ones';
  generate(shape: readonly number[]): Float32Array {
    return new Float32Array(product(shape)).fill(1);
  }
  getConfig() {
    return {};
  }
}

export class Constant implements Initializer {
  readonly className = 'Constant';
  constructor(readonly value = 0) {}
  generate(shape: readonly number[]): Float32Array {
    return new Float32Array(product(shape)).fill(this.value);
  }
  getConfig() {
    return { value: this.value };
  }
}

export class RandomUniform implements Initializer {
  readonly className = 'RandomUniform';
  constructor(readonly minval = -0.05, readonly maxval = 0.05, readonly seed: number | null = null) {}
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

export class RandomNormal implements Initializer {
  readonly className = 'RandomNormal';
  constructor(readonly mean = 0, readonly stddev = 0.05, readonly seed: number | null = null) {}
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
  constructor(readonly mean = 0, readonly stddev = 0.05, readonly seed: number | null = null) {}
  generate(shape: readonly number[]): Float32Array {
    return truncatedNormal(generatorFor(this.seed), this.mean, this.stddev, product(shape));
  }
  getConfig() {
    return { mean: this.mean, stddev: this.stddev, seed: this.seed };
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

export class VarianceScaling implements Initializer {
  constructor(
    readonly scale = 1.0,
    readonly mode: FanMode = 'fan_in',
    readonly distribution: ScalingDistribution = 'truncated_normal',
    readonly seed: number | null = null,
    readonly className: string = 'VarianceScaling',
  ) {
    if (!(scale > 0)) throw new ValueError(`VarianceScaling: scale must be positive, got ${scale}`);
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

const VARIANCE_SCALING_PRESETS: Record<string, [number, FanMode, ScalingDistribution]> = {
  GlorotUniform: [1, 'fan_avg', 'uniform'],
  GlorotNormal: [1, 'fan_avg', 'truncated_normal'],
  HeUniform: [2, 'fan_in', 'uniform'],
  HeNormal: [2, 'fan_in', 'truncated_normal'],
  LecunUniform: [1, 'fan_in', 'uniform'],
  LecunNormal: [1, 'fan_in', 'truncated_normal'],
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
};

export type InitializerIdentifier = string | Initializer | InitializerConfig;

function numberField(config: Record<string, unknown>, key: string, fallback: number, owner: string): number {
  const value = config[key] ?? fallback;
  if (typeof value !== 'number') throw new ConfigError(`${owner}: "${key}" must be a number, got ${JSON.stringify(value)}`);
  return value;
}

function seedField(config: Record<string, unknown>, owner: string): number | null {
  const seed = config.seed ?? null;
  if (seed !== null && typeof seed !== 'number') throw new ConfigError(`${owner}: "seed" must be a number or null, got ${JSON.stringify(seed)}`);
  return seed;
}

const KNOWN_KEYS: Record<string, string[]> = {
  Zeros: [],
  Ones: [],
  Constant: ['value'],
  RandomUniform: ['minval', 'maxval', 'seed'],
  RandomNormal: ['mean', 'stddev', 'seed'],
  TruncatedNormal: ['mean', 'stddev', 'seed'],
  VarianceScaling: ['scale', 'mode', 'distribution', 'seed'],
};

/** Builds an initializer from a string, an instance, or Keras's {class_name, config}. */
export function getInitializer(identifier: InitializerIdentifier, owner = 'initializer'): Initializer {
  if (typeof identifier === 'object' && 'generate' in identifier) return identifier;
  const className = typeof identifier === 'string' ? STRING_IDENTIFIERS[identifier] ?? identifier : identifier.class_name;
  const config = typeof identifier === 'string' ? {} : identifier.config ?? {};
  const where = `${owner} (${className})`;
  const known = KNOWN_KEYS[className] ?? (className in VARIANCE_SCALING_PRESETS ? ['seed'] : undefined);
  if (!known) {
    const names = [...Object.keys(STRING_IDENTIFIERS), ...Object.keys(KNOWN_KEYS), ...Object.keys(VARIANCE_SCALING_PRESETS)];
    throw new ConfigError(`${owner}: unsupported initializer ${JSON.stringify(className)}; supported: ${[...new Set(names)].join(', ')}`);
  }
  for (const key of Object.keys(config)) {
    if (!known.includes(key)) throw new ConfigError(`${where}: unsupported config key "${key}"`);
  }
  const seed = seedField(config, where);
  switch (className) {
    case 'Zeros':
      return new Zeros();
    case 'Ones':
      return new Ones();
    case 'Constant':
      return new Constant(numberField(config, 'value', 0, where));
    case 'RandomUniform':
      return new RandomUniform(numberField(config, 'minval', -0.05, where), numberField(config, 'maxval', 0.05, where), seed);
    case 'RandomNormal':
      return new RandomNormal(numberField(config, 'mean', 0, where), numberField(config, 'stddev', 0.05, where), seed);
    case 'TruncatedNormal':
      return new TruncatedNormal(numberField(config, 'mean', 0, where), numberField(config, 'stddev', 0.05, where), seed);
    case 'VarianceScaling': {
      const mode = config.mode ?? 'fan_in';
      if (mode !== 'fan_in' && mode !== 'fan_out' && mode !== 'fan_avg') throw new ConfigError(`${where}: unsupported mode ${JSON.stringify(mode)}`);
      let distribution = config.distribution ?? 'truncated_normal';
      if (distribution === 'normal') distribution = 'truncated_normal'; // Keras's legacy spelling
      if (distribution !== 'truncated_normal' && distribution !== 'untruncated_normal' && distribution !== 'uniform') {
        throw new ConfigError(`${where}: unsupported distribution ${JSON.stringify(distribution)}`);
      }
      return new VarianceScaling(numberField(config, 'scale', 1, where), mode, distribution, seed);
    }
    default: {
      const [scale, mode, distribution] = VARIANCE_SCALING_PRESETS[className]!;
      return new VarianceScaling(scale, mode, distribution, seed, className);
    }
  }
}

/** Keras 2.x JSON form: {"class_name": "GlorotUniform", "config": {"seed": null}}. */
export function serializeInitializer(initializer: Initializer): InitializerConfig {
  return { class_name: initializer.className, config: initializer.getConfig() };
}
