// Keras's training callbacks. The trainer calls the hooks with Keras's `logs` (loss, the
// accuracy for each loss, and their val_ twins); callbacks steer training through the
// model (model.stopTraining, the optimizer's learningRate, get/setWeights). Callbacks that
// write files (ModelCheckpoint, CSVLogger) live with the Node side, in 'strata/node'.
import { ValueError } from './errors.ts';
import { checkOptions } from './options.ts';
import type { Model } from './model.ts';

export type Logs = Record<string, number>;

export abstract class Callback {
  model: Model | null = null;
  setModel(model: Model): void {
    this.model = model;
  }
  onTrainBegin(_logs: Logs): void | Promise<void> {}
  onTrainEnd(_logs: Logs): void | Promise<void> {}
  onEpochBegin(_epoch: number, _logs: Logs): void | Promise<void> {}
  onEpochEnd(_epoch: number, _logs: Logs): void | Promise<void> {}
  onBatchBegin(_batch: number, _logs: Logs): void | Promise<void> {}
  onBatchEnd(_batch: number, _logs: Logs): void | Promise<void> {}
  /**
   * What a run's checkpoint keeps of this callback (JSON), so that a resumed run decides as an
   * uninterrupted one would: EarlyStopping's wait and best, ReduceLROnPlateau's. null: nothing.
   */
  checkpointState(): CallbackState | null {
    return null;
  }
  /** Takes back checkpointState()'s value; called after onTrainBegin of a resumed run. */
  restoreCheckpointState(_state: CallbackState): void {}
}

/** A callback's state in a checkpoint: JSON values (a NaN best is written as null). */
export type CallbackState = Record<string, number | null | number[][]>;

/** JSON has no NaN: a best not yet set is null there. */
function bestOf(value: number | null | number[][] | undefined): number {
  return typeof value === 'number' ? value : NaN;
}

export interface CustomCallbackArgs {
  onTrainBegin?: (logs: Logs) => void | Promise<void>;
  onTrainEnd?: (logs: Logs) => void | Promise<void>;
  onEpochBegin?: (epoch: number, logs: Logs) => void | Promise<void>;
  onEpochEnd?: (epoch: number, logs: Logs) => void | Promise<void>;
  onBatchBegin?: (batch: number, logs: Logs) => void | Promise<void>;
  onBatchEnd?: (batch: number, logs: Logs) => void | Promise<void>;
}

/** Keras's LambdaCallback: `new CustomCallback({onEpochEnd: (epoch, logs) => ...})`. */
export class CustomCallback extends Callback {
  private readonly hooks: CustomCallbackArgs;
  constructor(hooks: CustomCallbackArgs) {
    super();
    const known = ['onTrainBegin', 'onTrainEnd', 'onEpochBegin', 'onEpochEnd', 'onBatchBegin', 'onBatchEnd'];
    this.hooks = checkOptions('CustomCallback', hooks, known, '{onEpochEnd: (epoch, logs) => ...}');
  }
  override onTrainBegin(logs: Logs) {
    return this.hooks.onTrainBegin?.(logs);
  }
  override onTrainEnd(logs: Logs) {
    return this.hooks.onTrainEnd?.(logs);
  }
  override onEpochBegin(epoch: number, logs: Logs) {
    return this.hooks.onEpochBegin?.(epoch, logs);
  }
  override onEpochEnd(epoch: number, logs: Logs) {
    return this.hooks.onEpochEnd?.(epoch, logs);
  }
  override onBatchBegin(batch: number, logs: Logs) {
    return this.hooks.onBatchBegin?.(batch, logs);
  }
  override onBatchEnd(batch: number, logs: Logs) {
    return this.hooks.onBatchEnd?.(batch, logs);
  }
}

/** What fit() returns: every epoch's logs, as Keras's History. */
export class History extends Callback {
  readonly epoch: number[] = [];
  readonly history: Record<string, number[]> = {};
  override onEpochEnd(epoch: number, logs: Logs): void {
    this.epoch.push(epoch);
    for (const [key, value] of Object.entries(logs)) (this.history[key] ??= []).push(value);
  }
}

type Mode = 'auto' | 'min' | 'max';

/** Keras's rule: "auto" minimizes unless the metric is an accuracy. */
function improves(mode: Mode, monitor: string, minDelta: number): (current: number, best: number) => boolean {
  const maximize = mode === 'max' || (mode === 'auto' && /acc/.test(monitor));
  return maximize ? (c, b) => c - Math.abs(minDelta) > b : (c, b) => c + Math.abs(minDelta) < b;
}

function monitored(logs: Logs, monitor: string, owner: string): number | undefined {
  const value = logs[monitor];
  if (value === undefined) {
    // Keras warns and skips; a misspelt monitor would otherwise never stop anything.
    throw new ValueError(`${owner}: monitor "${monitor}" is not among the logged metrics (${Object.keys(logs).join(', ')})`);
  }
  return value;
}

export interface EarlyStoppingArgs {
  monitor?: string;
  minDelta?: number;
  patience?: number;
  mode?: Mode;
  baseline?: number | null;
  restoreBestWeights?: boolean;
  startFromEpoch?: number;
}

export class EarlyStopping extends Callback {
  readonly monitor: string;
  readonly patience: number;
  readonly restoreBestWeights: boolean;
  readonly startFromEpoch: number;
  private readonly better: (current: number, best: number) => boolean;
  private readonly baseline: number | null;
  private best = NaN;
  private bestWeights: Float32Array[] | null = null;
  private wait = 0;
  /** The epoch training stopped at, or 0. */
  stoppedEpoch = 0;

  constructor(args?: EarlyStoppingArgs) {
    super();
    const known = ['monitor', 'minDelta', 'patience', 'mode', 'baseline', 'restoreBestWeights', 'startFromEpoch'];
    const { monitor = 'val_loss', minDelta = 0, patience = 0, mode = 'auto', baseline = null, restoreBestWeights = false, startFromEpoch = 0 } = checkOptions('EarlyStopping', args, known, '{patience: 2}');
    this.monitor = monitor;
    this.patience = patience;
    this.restoreBestWeights = restoreBestWeights;
    this.startFromEpoch = startFromEpoch;
    this.baseline = baseline;
    this.better = improves(mode, monitor, minDelta);
  }

  override onTrainBegin(): void {
    this.wait = 0;
    this.stoppedEpoch = 0;
    this.best = NaN;
    this.bestWeights = null;
  }

  /** As Keras 3: wait counts epochs without improvement; beating the best (and the baseline) resets it. */
  override onEpochEnd(epoch: number, logs: Logs): void {
    const current = monitored(logs, this.monitor, 'EarlyStopping');
    if (current === undefined || epoch < this.startFromEpoch) return;
    if (this.restoreBestWeights && !this.bestWeights) this.bestWeights = this.model!.getWeights();
    this.wait++;
    if (Number.isNaN(this.best) || this.better(current, this.best)) {
      this.best = current;
      if (this.restoreBestWeights) this.bestWeights = this.model!.getWeights();
      if (this.baseline === null || this.better(current, this.baseline)) this.wait = 0;
      return;
    }
    if (this.wait >= this.patience && epoch > 0) {
      this.stoppedEpoch = epoch;
      this.model!.stopTraining = true;
      if (this.restoreBestWeights && this.bestWeights) this.model!.setWeights(this.bestWeights);
    }
  }

  override checkpointState(): CallbackState {
    // Float32 values are exact as JSON numbers; the best weights are there only with restoreBestWeights.
    return { wait: this.wait, best: Number.isNaN(this.best) ? null : this.best, stoppedEpoch: this.stoppedEpoch, bestWeights: this.bestWeights?.map((w) => Array.from(w)) ?? null };
  }

  override restoreCheckpointState(state: CallbackState): void {
    this.wait = Number(state.wait ?? 0);
    this.best = bestOf(state.best);
    this.stoppedEpoch = Number(state.stoppedEpoch ?? 0);
    this.bestWeights = Array.isArray(state.bestWeights) ? state.bestWeights.map((w) => Float32Array.from(w)) : null;
  }
}

export interface ReduceLROnPlateauArgs {
  monitor?: string;
  factor?: number;
  patience?: number;
  mode?: Mode;
  minDelta?: number;
  cooldown?: number;
  minLr?: number;
}

export class ReduceLROnPlateau extends Callback {
  readonly monitor: string;
  readonly factor: number;
  readonly patience: number;
  readonly cooldown: number;
  readonly minLr: number;
  private readonly better: (current: number, best: number) => boolean;
  private best = NaN;
  private wait = 0;
  private cooldownCounter = 0;

  constructor(args?: ReduceLROnPlateauArgs) {
    super();
    const known = ['monitor', 'factor', 'patience', 'mode', 'minDelta', 'cooldown', 'minLr'];
    const { monitor = 'val_loss', factor = 0.1, patience = 10, mode = 'auto', minDelta = 1e-4, cooldown = 0, minLr = 0 } = checkOptions('ReduceLROnPlateau', args, known, '{factor: 0.5, patience: 3}');
    if (!(factor < 1)) throw new ValueError(`ReduceLROnPlateau: factor must be < 1, got ${factor}`);
    this.monitor = monitor;
    this.factor = factor;
    this.patience = patience;
    this.cooldown = cooldown;
    this.minLr = minLr;
    this.better = improves(mode, monitor, minDelta);
  }

  override onEpochEnd(_epoch: number, logs: Logs): void {
    const current = monitored(logs, this.monitor, 'ReduceLROnPlateau')!;
    const optimizer = this.model!.optimizer;
    if (!optimizer) return;
    logs.learning_rate = optimizer.learningRate;
    if (this.cooldownCounter > 0) {
      this.cooldownCounter--;
      this.wait = 0;
    }
    if (Number.isNaN(this.best) || this.better(current, this.best)) {
      this.best = current;
      this.wait = 0;
    } else if (this.cooldownCounter === 0) {
      this.wait++;
      if (this.wait >= this.patience && optimizer.learningRate > this.minLr) {
        optimizer.learningRate = Math.max(optimizer.learningRate * this.factor, this.minLr);
        this.cooldownCounter = this.cooldown;
        this.wait = 0;
      }
    }
  }

  override checkpointState(): CallbackState {
    return { wait: this.wait, best: Number.isNaN(this.best) ? null : this.best, cooldownCounter: this.cooldownCounter };
  }

  override restoreCheckpointState(state: CallbackState): void {
    this.wait = Number(state.wait ?? 0);
    this.best = bestOf(state.best);
    this.cooldownCounter = Number(state.cooldownCounter ?? 0);
  }
}

/**
 * Keras's LearningRateScheduler: before each epoch, `schedule(epoch, currentLearningRate)`
 * gives the learning rate for that epoch (epochs counted from 0, as in Keras); the epoch's
 * logs record it as `learning_rate`.
 */
export class LearningRateScheduler extends Callback {
  constructor(private readonly schedule: (epoch: number, learningRate: number) => number) {
    super();
  }

  override onEpochBegin(epoch: number): void {
    const optimizer = this.model!.optimizer;
    if (!optimizer) throw new ValueError(`LearningRateScheduler: model "${this.model!.name}" has no optimizer; compile it first`);
    const lr = this.schedule(epoch, optimizer.learningRate);
    if (typeof lr !== 'number' || !(Number.isFinite(lr) && lr >= 0)) {
      throw new ValueError(`LearningRateScheduler: the schedule returned ${String(lr)} for epoch ${epoch}; it must return a number >= 0`);
    }
    optimizer.learningRate = lr;
  }

  override onEpochEnd(_epoch: number, logs: Logs): void {
    logs.learning_rate = this.model!.optimizer!.learningRate;
  }
}

/** Stops training, without an error, at the first batch whose loss is NaN or infinite. */
export class TerminateOnNaN extends Callback {
  /** The batch that ended training, or null. */
  terminatedAtBatch: number | null = null;
  override onBatchEnd(batch: number, logs: Logs): void {
    if (logs.loss !== undefined && !Number.isFinite(logs.loss)) {
      this.terminatedAtBatch = batch;
      this.model!.stopTraining = true;
    }
  }
}
