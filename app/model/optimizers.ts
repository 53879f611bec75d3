// Keras's optimizers as configurations, with Keras's defaults: the update rules run in the
// engine (native/core/optim.h). The learning rate is a number that callbacks such as
// ReduceLROnPlateau may change, or a Keras schedule of the step count (schedules.ts).
import { ValueError } from './errors.ts';
import { checkNumber, checkOptions } from './options.ts';
import { LearningRateSchedule, scheduleFromConfig, serializeSchedule } from './schedules.ts';

// Keras's keras.optimizers.schedules: optimizers.schedules.CosineDecay and the others.
export * as schedules from './schedules.ts';

export type OptimizerKind = 'sgd' | 'adam' | 'adamw' | 'rmsprop';

/**
 * The optimizer's variables after training: per trainable weight (by its path, "dense/kernel"),
 * the slots "m", "v", "mg" (empty until used), and the step count. Keras keeps them across
 * fit() calls and in saved models, so training resumes where it stopped.
 */
export interface OptimizerVariables {
  iterations: number;
  slots: Record<string, { m: Float32Array; v: Float32Array; mg: Float32Array }>;
}

export abstract class Optimizer {
  abstract readonly kind: OptimizerKind;
  /** Keras's class name, e.g. "Adam". */
  abstract readonly className: string;
  /** Set by Keras's learning-rate schedule argument; null for a fixed (callback-settable) rate. */
  readonly schedule: LearningRateSchedule | null;
  /** The fixed rate; unused with a schedule. */
  private rate = 0;
  /** Set by training; null before the first step. */
  variables: OptimizerVariables | null = null;

  constructor(learningRate: number | LearningRateSchedule) {
    if (learningRate instanceof LearningRateSchedule) {
      this.schedule = learningRate;
    } else {
      if (!(learningRate > 0)) throw new ValueError(`${new.target.name}: learningRate must be positive, got ${learningRate}`);
      this.schedule = null;
      this.rate = learningRate;
    }
  }

  /** The rate of the next step: the schedule's at the step count, or the number given (or set since). */
  get learningRate(): number {
    return this.learningRateAt(this.variables?.iterations ?? 0);
  }
  set learningRate(value: number) {
    if (this.schedule) {
      // As Keras: a schedule owns the rate, so ReduceLROnPlateau or a scheduler callback cannot also steer it.
      throw new ValueError(`${this.className}: its learning rate is a ${this.schedule.className} schedule, so it cannot be set; give the optimizer a number to steer it from callbacks`);
    }
    this.rate = value;
  }
  learningRateAt(step: number): number {
    return this.schedule ? this.schedule.at(step) : this.rate;
  }

  /** Keras's config value of learning_rate: the number, or the serialized schedule. */
  protected learningRateConfig(): number | Record<string, unknown> {
    return this.schedule ? serializeSchedule(this.schedule) : this.rate;
  }

  /** Hyperparameters in Keras's config spelling (snake_case). */
  abstract getConfig(): Record<string, unknown>;
}

export class SGD extends Optimizer {
  readonly kind = 'sgd';
  readonly className = 'SGD';
  readonly momentum: number;
  readonly nesterov: boolean;
  constructor(args?: { learningRate?: number | LearningRateSchedule; momentum?: number; nesterov?: boolean }) {
    const { learningRate = 0.01, momentum = 0, nesterov = false } = checkOptions('SGD', args, ['learningRate', 'momentum', 'nesterov'], '{learningRate: 0.01, momentum: 0.9}');
    super(learningRate);
    this.momentum = checkNumber('SGD', 'momentum', momentum, (v) => v >= 0 && v <= 1, 'in [0, 1]');
    this.nesterov = nesterov;
  }
  getConfig() {
    return { learning_rate: this.learningRateConfig(), momentum: this.momentum, nesterov: this.nesterov };
  }
}

export interface AdamArgs {
  learningRate?: number | LearningRateSchedule;
  beta1?: number;
  beta2?: number;
  epsilon?: number;
}

const ADAM_OPTIONS = ['learningRate', 'beta1', 'beta2', 'epsilon'];

export class Adam extends Optimizer {
  readonly kind: OptimizerKind = 'adam';
  readonly className: string = 'Adam';
  readonly beta1: number;
  readonly beta2: number;
  readonly epsilon: number;
  constructor(args?: AdamArgs) {
    const owner = new.target.name; // AdamW's checks name AdamW
    const { learningRate = 0.001, beta1 = 0.9, beta2 = 0.999, epsilon = 1e-7 } = checkOptions(owner, args, ADAM_OPTIONS, '{learningRate: 0.001}');
    super(learningRate);
    this.beta1 = checkNumber(owner, 'beta1', beta1, (v) => v >= 0 && v < 1, 'in [0, 1)');
    this.beta2 = checkNumber(owner, 'beta2', beta2, (v) => v >= 0 && v < 1, 'in [0, 1)');
    this.epsilon = checkNumber(owner, 'epsilon', epsilon, (v) => v > 0, 'positive');
  }
  getConfig(): Record<string, unknown> {
    return { learning_rate: this.learningRateConfig(), beta_1: this.beta1, beta_2: this.beta2, epsilon: this.epsilon };
  }
}

export class AdamW extends Adam {
  override readonly kind = 'adamw';
  override readonly className = 'AdamW';
  readonly weightDecay: number;
  constructor(args?: AdamArgs & { weightDecay?: number }) {
    const { weightDecay = 0.004, ...adam } = checkOptions('AdamW', args, [...ADAM_OPTIONS, 'weightDecay'], '{learningRate: 0.001, weightDecay: 0.004}');
    super(adam);
    this.weightDecay = checkNumber('AdamW', 'weightDecay', weightDecay, (v) => v >= 0, '>= 0');
  }
  override getConfig() {
    return { ...super.getConfig(), weight_decay: this.weightDecay };
  }
}

export class RMSprop extends Optimizer {
  readonly kind = 'rmsprop';
  readonly className = 'RMSprop';
  readonly rho: number;
  readonly momentum: number;
  readonly epsilon: number;
  readonly centered: boolean;
  constructor(args?: { learningRate?: number | LearningRateSchedule; rho?: number; momentum?: number; epsilon?: number; centered?: boolean }) {
    const options = checkOptions('RMSprop', args, ['learningRate', 'rho', 'momentum', 'epsilon', 'centered'], '{learningRate: 0.001}');
    const { learningRate = 0.001, rho = 0.9, momentum = 0, epsilon = 1e-7, centered = false } = options;
    super(learningRate);
    this.rho = checkNumber('RMSprop', 'rho', rho, (v) => v >= 0 && v < 1, 'in [0, 1)');
    this.momentum = checkNumber('RMSprop', 'momentum', momentum, (v) => v >= 0 && v <= 1, 'in [0, 1]');
    this.epsilon = checkNumber('RMSprop', 'epsilon', epsilon, (v) => v > 0, 'positive');
    this.centered = centered;
  }
  getConfig() {
    return { learning_rate: this.learningRateConfig(), rho: this.rho, momentum: this.momentum, epsilon: this.epsilon, centered: this.centered };
  }
}

/** 'adam', 'sgd', 'adamw', 'rmsprop' with Keras's defaults, an instance, or Keras's {class_name, config} as keras.optimizers.get() takes it. */
export function getOptimizer(identifier: string | Optimizer | { class_name: string; config?: Record<string, unknown> }): Optimizer {
  if (identifier instanceof Optimizer) return identifier;
  if (typeof identifier === 'object' && identifier !== null && typeof identifier.class_name === 'string') return optimizerFromConfig(identifier.class_name, identifier.config ?? {});
  if (typeof identifier !== 'string') {
    throw new ValueError(`expected an optimizer name such as 'adam', an instance such as new optimizers.Adam({learningRate: 0.01}), or Keras's {class_name: 'Adam', config: {learning_rate: 0.01}}, got ${JSON.stringify(identifier)}`);
  }
  switch (identifier.toLowerCase()) {
    case 'sgd':
      return new SGD();
    case 'adam':
      return new Adam();
    case 'adamw':
      return new AdamW();
    case 'rmsprop':
      return new RMSprop();
    default:
      throw new ValueError(`unknown optimizer ${JSON.stringify(identifier)}; supported: sgd, adam, adamw, rmsprop`);
  }
}

/** An optimizer from Keras's {class_name, config} (snake_case hyperparameters). */
export function optimizerFromConfig(className: string, config: Record<string, unknown>): Optimizer {
  const num = (key: string): number | undefined => (typeof config[key] === 'number' ? (config[key] as number) : undefined);
  const rawLr = config.learning_rate;
  const lr = typeof rawLr === 'object' && rawLr !== null ? scheduleFromConfig(rawLr as { class_name?: unknown; config?: unknown }) : (num('learning_rate') ?? num('lr'));
  const pick = <T extends object>(o: T) => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
  switch (className) {
    case 'SGD':
      return new SGD(pick({ learningRate: lr, momentum: num('momentum'), nesterov: config.nesterov === true ? true : undefined }));
    case 'Adam':
      return new Adam(pick({ learningRate: lr, beta1: num('beta_1'), beta2: num('beta_2'), epsilon: num('epsilon') }));
    case 'AdamW':
      return new AdamW(pick({ learningRate: lr, beta1: num('beta_1'), beta2: num('beta_2'), epsilon: num('epsilon'), weightDecay: num('weight_decay') }));
    case 'RMSprop':
      return new RMSprop(pick({ learningRate: lr, rho: num('rho'), momentum: num('momentum'), epsilon: num('epsilon'), centered: config.centered === true ? true : undefined }));
    default:
      throw new ValueError(`unsupported optimizer class ${JSON.stringify(className)} in training_config; supported: SGD, Adam, AdamW, RMSprop`);
  }
}
