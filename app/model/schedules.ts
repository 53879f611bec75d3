// Keras's learning-rate schedules (keras.optimizers.schedules): a learning rate as a function
// of the optimizer's step count, given to an optimizer in place of a number,
//   new optimizers.Adam({ learningRate: new schedules.PiecewiseConstantDecay({ boundaries: [3752], values: [1e-3, 1e-4] }) })
// The trainer asks at(step) before every step (step = the optimizer's iterations, counted
// from 0 and kept across fit() calls and saves, as Keras's), so a schedule resumes where it
// stopped. Each formula is Keras 3's, config keys included.
import { ValueError } from './errors.ts';
import { checkOptions } from './options.ts';

export abstract class LearningRateSchedule {
  abstract readonly className: string;
  /** The learning rate for the step after `step` steps. */
  abstract at(step: number): number;
  /** Keras's config (snake_case keys), as in its saved training_config. */
  abstract getConfig(): Record<string, unknown>;
}

function positive(owner: string, name: string, value: number): void {
  if (!(Number.isFinite(value) && value > 0)) throw new ValueError(`${owner}: ${name} must be a positive number, got ${value}`);
}

export interface ExponentialDecayArgs {
  initialLearningRate: number;
  decaySteps: number;
  decayRate: number;
  staircase?: boolean;
}

export interface InverseTimeDecayArgs extends ExponentialDecayArgs {}

/** The two schedules of Keras that decay with step / decaySteps (floored when staircase), and share a config. */
abstract class StepFractionDecay extends LearningRateSchedule {
  readonly args: ExponentialDecayArgs;
  constructor(readonly className: string, args: ExponentialDecayArgs) {
    super();
    this.args = checkOptions(className, args, ['initialLearningRate', 'decaySteps', 'decayRate', 'staircase'], '{initialLearningRate: 0.01, decaySteps: 1000, decayRate: 0.9}');
    positive(this.className, 'initialLearningRate', args.initialLearningRate);
    positive(this.className, 'decaySteps', args.decaySteps);
  }
  protected progress(step: number): number {
    const p = step / this.args.decaySteps;
    return this.args.staircase ? Math.floor(p) : p;
  }
  getConfig() {
    const a = this.args;
    return { initial_learning_rate: a.initialLearningRate, decay_steps: a.decaySteps, decay_rate: a.decayRate, staircase: a.staircase ?? false, name: this.className };
  }
}

/** initial * decayRate ^ (step / decaySteps). */
export class ExponentialDecay extends StepFractionDecay {
  constructor(args: ExponentialDecayArgs) {
    super('ExponentialDecay', args);
    positive('ExponentialDecay', 'decayRate', args.decayRate);
  }
  at(step: number): number {
    return this.args.initialLearningRate * this.args.decayRate ** this.progress(step);
  }
}

/** initial / (1 + decayRate * step / decaySteps). */
export class InverseTimeDecay extends StepFractionDecay {
  constructor(args: InverseTimeDecayArgs) {
    super('InverseTimeDecay', args);
    if (!(args.decayRate >= 0)) throw new ValueError(`InverseTimeDecay: decayRate must be >= 0, got ${args.decayRate}`);
  }
  at(step: number): number {
    return this.args.initialLearningRate / (1 + this.args.decayRate * this.progress(step));
  }
}

export interface PiecewiseConstantDecayArgs {
  /** Increasing step counts. */
  boundaries: number[];
  /** One more than boundaries: values[k] while boundaries[k-1] < step <= boundaries[k]. */
  values: number[];
}

/** values[0] up to and including step boundaries[0], values[1] after it, and so on (Keras's `step <= boundary`). */
export class PiecewiseConstantDecay extends LearningRateSchedule {
  readonly className = 'PiecewiseConstantDecay';
  constructor(readonly args: PiecewiseConstantDecayArgs) {
    super();
    const { boundaries, values } = checkOptions('PiecewiseConstantDecay', args, ['boundaries', 'values'], '{boundaries: [1000], values: [1e-3, 1e-4]}');
    if (!Array.isArray(boundaries) || !Array.isArray(values)) throw new ValueError('PiecewiseConstantDecay: boundaries and values must be arrays of numbers, such as {boundaries: [1000], values: [1e-3, 1e-4]}');
    if (values.length !== boundaries.length + 1) {
      throw new ValueError(`PiecewiseConstantDecay: values needs one more entry than boundaries; got ${values.length} values for ${boundaries.length} boundaries`);
    }
    boundaries.forEach((b, k) => {
      if (!Number.isFinite(b) || (k > 0 && b <= boundaries[k - 1]!)) throw new ValueError(`PiecewiseConstantDecay: boundaries must increase, got ${JSON.stringify(boundaries)}`);
    });
    values.forEach((v, k) => positive('PiecewiseConstantDecay', `values[${k}]`, v));
  }
  at(step: number): number {
    let k = 0;
    while (k < this.args.boundaries.length && step > this.args.boundaries[k]!) k++;
    return this.args.values[k]!;
  }
  getConfig() {
    return { boundaries: [...this.args.boundaries], values: [...this.args.values], name: 'PiecewiseConstantDecay' };
  }
}

export interface CosineDecayArgs {
  initialLearningRate: number;
  decaySteps: number;
  /** The floor, as a fraction of the initial rate (default 0). */
  alpha?: number;
  /** With warmupSteps: rise linearly from initialLearningRate to this first, then decay from it. */
  warmupTarget?: number | null;
  warmupSteps?: number;
}

/** Keras 3's CosineDecay, its optional linear warm-up included. */
export class CosineDecay extends LearningRateSchedule {
  readonly className = 'CosineDecay';
  constructor(readonly args: CosineDecayArgs) {
    super();
    checkOptions('CosineDecay', args, ['initialLearningRate', 'decaySteps', 'alpha', 'warmupTarget', 'warmupSteps'], '{initialLearningRate: 0.001, decaySteps: 10000}');
    // 0 is common with a warm-up, which starts from initialLearningRate.
    if (!(Number.isFinite(args.initialLearningRate) && args.initialLearningRate >= 0)) {
      throw new ValueError(`CosineDecay: initialLearningRate must be a number >= 0, got ${args.initialLearningRate}`);
    }
    positive('CosineDecay', 'decaySteps', args.decaySteps);
    const alpha = args.alpha ?? 0;
    if (!(alpha >= 0 && alpha <= 1)) throw new ValueError(`CosineDecay: alpha must be in [0, 1], got ${alpha}`);
    if (args.warmupTarget != null) positive('CosineDecay', 'warmupTarget', args.warmupTarget);
  }
  at(step: number): number {
    const { initialLearningRate, decaySteps, alpha = 0, warmupTarget = null, warmupSteps = 0 } = this.args;
    let start = initialLearningRate;
    if (warmupTarget !== null) {
      if (step < warmupSteps) return initialLearningRate + (warmupTarget - initialLearningRate) * (step / warmupSteps);
      start = warmupTarget;
      step -= warmupSteps;
    }
    const fraction = Math.min(step, decaySteps) / decaySteps;
    return start * ((1 - alpha) * 0.5 * (1 + Math.cos(Math.PI * fraction)) + alpha);
  }
  getConfig() {
    const a = this.args;
    return { initial_learning_rate: a.initialLearningRate, decay_steps: a.decaySteps, alpha: a.alpha ?? 0, name: 'CosineDecay', warmup_target: a.warmupTarget ?? null, warmup_steps: a.warmupSteps ?? 0 };
  }
}

/** Keras's serialized form, as its optimizer configs hold it under "learning_rate". */
export function serializeSchedule(schedule: LearningRateSchedule): Record<string, unknown> {
  return { module: 'keras.optimizers.schedules', class_name: schedule.className, config: schedule.getConfig(), registered_name: null };
}

/** A schedule from Keras's {class_name, config}, as a saved training_config gives it. */
export function scheduleFromConfig(value: { class_name?: unknown; config?: unknown }): LearningRateSchedule {
  const c = (value.config ?? {}) as Record<string, unknown>;
  const num = (key: string): number => {
    if (typeof c[key] !== 'number') throw new ValueError(`learning-rate schedule ${String(value.class_name)}: config.${key} must be a number, got ${JSON.stringify(c[key])}`);
    return c[key] as number;
  };
  const numbers = (key: string): number[] => {
    const list = c[key];
    if (!Array.isArray(list) || !list.every((v) => typeof v === 'number')) throw new ValueError(`learning-rate schedule ${String(value.class_name)}: config.${key} must be a list of numbers`);
    return list as number[];
  };
  switch (value.class_name) {
    case 'ExponentialDecay':
      return new ExponentialDecay({ initialLearningRate: num('initial_learning_rate'), decaySteps: num('decay_steps'), decayRate: num('decay_rate'), staircase: c.staircase === true });
    case 'InverseTimeDecay':
      return new InverseTimeDecay({ initialLearningRate: num('initial_learning_rate'), decaySteps: num('decay_steps'), decayRate: num('decay_rate'), staircase: c.staircase === true });
    case 'PiecewiseConstantDecay':
      return new PiecewiseConstantDecay({ boundaries: numbers('boundaries'), values: numbers('values') });
    case 'CosineDecay':
      return new CosineDecay({
        initialLearningRate: num('initial_learning_rate'),
        decaySteps: num('decay_steps'),
        alpha: typeof c.alpha === 'number' ? c.alpha : 0,
        warmupTarget: typeof c.warmup_target === 'number' ? c.warmup_target : null,
        warmupSteps: typeof c.warmup_steps === 'number' ? c.warmup_steps : 0,
      });
    default:
      throw new ValueError(`unsupported learning-rate schedule ${JSON.stringify(value.class_name)}; supported: ExponentialDecay, InverseTimeDecay, PiecewiseConstantDecay, CosineDecay`);
  }
}
