// A fit() as a run in a project folder, for the app's engine process and `strata train
// --project` alike: RunRecorder is a Keras callback that keeps the RunRecord up to date (every
// step's own values, Keras's History, the epoch times), saves the checkpoint after every
// epoch and writes run.json, and hands the app its events (steps throttled to one event per
// BATCH_EVENT_MS). settingsCallbacks() makes the callbacks a run's settings ask for.
import { existsSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import { BATCH_EVENT_MS, type CallbackSettings, type CompileSettings, type RunRecord, type TrainingEvent, type TrainingSettings } from '../contract/training.ts';
import { batchCount } from '../data/dataset.ts';
import type { EpochPosition, Interruption } from '../engine/trainer.ts';
import { Callback, EarlyStopping, FormatError, ReduceLROnPlateau, ValueError, logNames, losses, metrics, type CallbackState, type Logs, type Model, type OutputLoss } from '../model/index.ts';
import { ModelCheckpoint } from './callbacks.ts';
import { MODEL_JSON, finishInterruptedSave } from './model_folder.ts';
import { loadModelFolder, saveModel } from './model_store.ts';
import type { DatasetSplit } from '../data/validate.ts';
import { checkpointFolder, describeRunModel, newRunId, runFolder, writeRun } from './runs.ts';

/**
 * What a run's checkpoint keeps besides the weights and the optimizer's state (which hold the
 * step count, and with it the Dropout masks to come: the engine draws them from the seed and
 * the step), in its model.json, so that one atomic save holds all of it: with it a resumed
 * run goes on exactly as the uninterrupted one. The data order needs nothing: each epoch's is
 * the run's seed + the epoch.
 */
export interface RunCheckpointState {
  /** Whole epochs trained. */
  epochs: number;
  /** A stop mid-epoch: the steps done of epoch `epoch` and their metric sums (the trainer's and the recorder's); null at an epoch's end. */
  position: (EpochPosition & { steps: number; recorder: StepSums }) | null;
  history: RunRecord['history'];
  epochSeconds: number[];
  seconds: number;
  /** checkpointState() of the run's callbacks, in their order. */
  callbacks: (CallbackState | null)[];
}

/** RunRecorder's running sums in an epoch, from which it recovers each step's own value. */
interface StepSums {
  samples: number;
  sums: Record<string, number>;
}

export interface RecorderOptions {
  /** Where the app's events go; the CLI gives none. */
  onEvent?: (event: TrainingEvent) => void;
  /** The output's class names, saved with the checkpoint for predictions later. */
  classNames?: string[];
  /** The clock, in milliseconds (tests pass their own). */
  now?: () => number;
  /** Callbacks whose state the checkpoint keeps (settingsCallbacks()); they must come before the recorder in fit()'s list. */
  callbacks?: Callback[];
  /** A resumed run: its checkpoint's state (openCheckpoint), restored into the callbacks when training begins. */
  resume?: RunCheckpointState | null;
}

export class RunRecorder extends Callback {
  readonly record: RunRecord;
  private readonly project: string;
  private readonly onEvent: (event: TrainingEvent) => void;
  private readonly classNames: string[] | undefined;
  private readonly now: () => number;
  private readonly steps: number;
  private epochStarted = 0;
  private epoch = 0;
  private samplesInEpoch = 0;
  private batchSize = 0;
  /** Sums (running mean x samples) after the last step, to recover each step's own value. */
  private sums: Record<string, number> = {};
  private pending: { x: number[]; values: Record<string, number[]> } = { x: [], values: {} };
  private lastEvent = -Infinity;
  private readonly callbacks: Callback[];
  /** Until the resumed epoch begins: where the checkpoint left it. */
  private resume: RunCheckpointState | null;

  constructor(project: string, record: RunRecord, options: RecorderOptions = {}) {
    super();
    this.project = project;
    this.record = record;
    this.onEvent = options.onEvent ?? (() => {});
    this.classNames = options.classNames;
    this.now = options.now ?? (() => performance.now());
    this.steps = batchCount(record.data.train, record.settings.fit.batchSize);
    this.callbacks = options.callbacks ?? [];
    this.resume = options.resume ?? null;
  }

  override onTrainBegin(): void {
    this.record.status = 'running';
    this.record.process = { pid: process.pid, host: hostname() };
    delete this.record.message;
    this.record.stoppedAt = null;
    // A resumed run goes on from its checkpoint: the steps recorded past it go (they are trained again).
    const position = this.resume?.position;
    const resumedAt = this.record.epochs + (position ? position.step / position.steps : 0);
    const kept = this.record.batches.x.findIndex((x) => x > resumedAt);
    if (kept >= 0) {
      this.record.batches.x.length = kept;
      for (const values of Object.values(this.record.batches.values)) values.length = kept;
    }
    // The callbacks' onTrainBegin (they come first) reset them; the checkpoint's state goes back in.
    this.resume?.callbacks.forEach((state, i) => state && this.callbacks[i]?.restoreCheckpointState(state));
    // A new run's first checkpoint is its starting point: a run killed in its first epoch resumes from there.
    if (!this.resume && this.record.settings.fit.checkpointEvery !== 'none') this.saveCheckpoint(null);
    this.save();
  }

  override onEpochBegin(epoch: number): void {
    this.epoch = epoch;
    this.epochStarted = this.now();
    const position = this.resume?.position;
    this.samplesInEpoch = position?.epoch === epoch ? position.recorder.samples : 0;
    this.sums = position?.epoch === epoch ? { ...position.recorder.sums } : {};
    this.resume = null;
  }

  override onBatchBegin(_batch: number, logs: Logs): void {
    this.batchSize = logs.size ?? this.record.settings.fit.batchSize;
  }

  override onBatchEnd(batch: number, logs: Logs): void {
    const step = batch + 1;
    const previous = this.samplesInEpoch;
    this.samplesInEpoch += this.batchSize;
    const x = this.epoch + step / this.steps;
    this.record.batches.x.push(x);
    this.pending.x.push(x);
    for (const [name, mean] of Object.entries(logs)) {
      // Keras's logs are running means over the epoch; the step's own value is what its samples added.
      const sum = mean * this.samplesInEpoch;
      const own = (sum - (previous === 0 ? 0 : (this.sums[name] ?? 0))) / this.batchSize;
      this.sums[name] = sum;
      const value = Number.isFinite(mean) ? own : mean;
      pushValue(this.record.batches, name, value, this.record.batches.x.length);
      pushValue(this.pending, name, value, this.pending.x.length);
    }
    const last = step === this.steps;
    if (!last && this.now() - this.lastEvent < BATCH_EVENT_MS) return;
    this.sendBatches(step, logs);
    if (last && this.record.data.validation > 0) this.onEvent({ kind: 'phase', runId: this.record.id, phase: 'validating' });
  }

  override onEpochEnd(epoch: number, logs: Logs): void {
    const seconds = (this.now() - this.epochStarted) / 1000;
    for (const [name, value] of Object.entries(logs)) (this.record.history[name] ??= []).push(value);
    this.record.epochs = epoch + 1;
    this.record.epochSeconds.push(seconds);
    this.record.seconds += seconds;
    this.updateThroughput();
    if (this.checkpointDue()) this.saveCheckpoint(null);
    this.save();
    this.onEvent({ kind: 'epoch', runId: this.record.id, epoch, logs: { ...logs }, seconds });
  }

  /**
   * After fit(): the run's status, where a stop left it (`stop`, the trainer's interruption),
   * the test metrics. With `checkpoint` the checkpoint is saved: the last finished step, and
   * after a stop mid-epoch its position, from which a resume goes on exactly.
   */
  finish(status: RunRecord['status'], details: { stop?: Interruption | null; test?: Logs | null; message?: string; checkpoint?: boolean }): RunRecord {
    const stop = details.stop?.step ? details.stop : null;
    this.record.status = status;
    this.record.process = null;
    this.record.stoppedAt = stop ? { epoch: stop.epoch, step: stop.step, steps: stop.steps } : null;
    if (details.test !== undefined) this.record.test = details.test;
    if (details.message !== undefined) this.record.message = details.message;
    if (details.checkpoint) this.saveCheckpoint(stop);
    this.save();
    return this.record;
  }

  /** Sends the steps not yet sent (before a stop's event, so the view has them all). */
  flush(): void {
    if (this.pending.x.length > 0) this.sendBatches(this.record.stoppedAt?.step ?? this.steps, {});
  }

  private sendBatches(step: number, logs: Logs): void {
    const elapsed = (this.now() - this.epochStarted) / 1000;
    const samplesPerSecond = elapsed > 0 ? this.samplesInEpoch / elapsed : 0;
    const fit = this.record.settings.fit;
    const samplesLeft = (this.steps - step) * fit.batchSize + (fit.epochs - this.epoch - 1) * this.record.data.train;
    this.onEvent({
      kind: 'batch',
      runId: this.record.id,
      epoch: this.epoch,
      epochs: fit.epochs,
      step,
      steps: this.steps,
      points: this.pending,
      logs: { ...logs },
      samplesPerSecond,
      etaSeconds: samplesPerSecond > 0 ? Math.max(0, samplesLeft) / samplesPerSecond : 0,
    });
    this.pending = { x: [], values: {} };
    this.lastEvent = this.now();
  }

  private updateThroughput(): void {
    const seconds = this.record.epochSeconds.reduce((a, b) => a + b, 0);
    this.record.samplesPerSecond = seconds > 0 ? (this.record.data.train * this.record.epochSeconds.length) / seconds : null;
  }

  /** At an epoch's end: every checkpointEvery epochs (default 1; 'none': never), and at the last epoch or when a callback ends training. */
  private checkpointDue(): boolean {
    const every = this.record.settings.fit.checkpointEvery ?? 1;
    const last = this.record.epochs >= this.record.settings.fit.epochs || this.model!.stopTraining;
    return last || (every !== 'none' && (this.record.epochs - this.record.initialEpoch) % every === 0);
  }

  /** The epoch's sums so far; a resumed run stopped before its epoch began again keeps the checkpoint's. */
  private stepSums(): StepSums {
    return this.resume?.position?.recorder ?? { samples: this.samplesInEpoch, sums: { ...this.sums } };
  }

  private saveCheckpoint(stop: Interruption | null): void {
    const trainingState: RunCheckpointState = {
      epochs: this.record.epochs,
      position: stop ? { epoch: stop.epoch, step: stop.step, steps: stop.steps, totals: stop.totals, recorder: this.stepSums() } : null,
      history: this.record.history,
      epochSeconds: this.record.epochSeconds,
      seconds: this.record.seconds,
      callbacks: this.callbacks.map((c) => c.checkpointState()),
    };
    const options = { epochs: this.record.epochs, trainingState, ...(this.classNames ? { classNames: this.classNames } : {}) };
    saveModel(this.model!, checkpointFolder(this.project, this.record.id), options);
  }

  private save(): void {
    this.record.updated = new Date().toISOString();
    writeRun(this.project, this.record);
  }
}

/** Appends to values[name], first padding it with NaN to `length - 1` (a metric that appears late). */
function pushValue(target: { values: Record<string, number[]> }, name: string, value: number, length: number): void {
  const list = (target.values[name] ??= []);
  while (list.length < length - 1) list.push(Number.NaN);
  list.push(value);
}

export interface NewRun {
  writer: RunRecord['writer'];
  /** The compiled model as training begins. */
  model: Model;
  /** Where the model came from (its file or folder). */
  modelSource: string;
  data: { description: string; train: { classNames?: string[] } };
  /** The splits training touches (splitsOf). */
  splits: DatasetSplit[];
  settings: TrainingSettings;
  /** Epochs the model had trained before (a saved model trained on). */
  initialEpoch: number;
}

/** A new run's record: the settings with the seed it will use (a random one when they give none), and nothing trained yet. */
export function newRunRecord({ writer, model, modelSource, data, splits, settings, initialEpoch }: NewRun): RunRecord {
  checkCheckpointEvery(settings.fit.checkpointEvery);
  const now = new Date().toISOString();
  const size = (name: string) => splits.find((s) => s.name === name)?.data.size ?? 0;
  const validation = settings.fit.validation.kind === 'test' ? size('test') : size('validation');
  return {
    format: 'strata-run',
    version: 1,
    id: newRunId(),
    status: 'running',
    created: now,
    updated: now,
    writer,
    process: null,
    model: describeRunModel(model, modelSource),
    data: { description: data.description, train: size('train'), validation, test: size('test'), classNames: data.train.classNames ?? null },
    settings: { ...settings, fit: { ...settings.fit, seed: settings.fit.seed ?? Math.floor(Math.random() * 2 ** 31) } },
    initialEpoch,
    epochs: initialEpoch,
    history: {},
    batches: { x: [], values: {} },
    stoppedAt: null,
    test: null,
    seconds: 0,
    epochSeconds: [],
    samplesPerSecond: null,
  };
}

/**
 * A stopped (or cut off) run's checkpoint, to train on: its model (compiled, with the
 * optimizer's state) and the run's record brought back to what the checkpoint holds (its
 * epochs, history and times: a run killed between saving its checkpoint and its run.json
 * resumes from the checkpoint, which is the truth). `resume` is null for a checkpoint of an
 * earlier Strata, which kept only the weights and the epochs.
 */
export function openCheckpoint(project: string, record: RunRecord): { model: Model; epochs: number; classNames?: string[]; resume: RunCheckpointState | null } {
  const folder = checkpointFolder(project, record.id);
  const cadence = record.settings.fit.checkpointEvery === 'none' ? ' (its settings save none: checkpointEvery "none")' : '';
  finishInterruptedSave(folder);  // a checkpoint save killed between its two renames left the folder under another name
  if (!existsSync(path.join(folder, MODEL_JSON)) && !existsSync(folder)) throw new ValueError(`run ${record.id} has no checkpoint to resume from${cadence}; start a new run`);
  const { model, classNames, epochs, trainingState } = loadModelFolder(folder);
  const resume = trainingState === undefined ? null : checkedState(trainingState, path.join(folder, MODEL_JSON), record);
  record.epochs = resume?.epochs ?? epochs;
  record.history = resume?.history ?? Object.fromEntries(Object.entries(record.history).map(([name, values]) => [name, values.slice(0, epochs - record.initialEpoch)]));
  record.epochSeconds = resume?.epochSeconds ?? record.epochSeconds.slice(0, epochs - record.initialEpoch);
  record.seconds = resume?.seconds ?? record.seconds;
  const position = resume?.position;
  record.stoppedAt = position ? { epoch: position.epoch, step: position.step, steps: position.steps } : null;
  return { model, epochs: record.epochs, ...(classNames ? { classNames } : {}), resume };
}

/** A checkpoint's training state, checked for what resuming relies on; FormatError naming model.json otherwise. */
function checkedState(value: unknown, file: string, record: RunRecord): RunCheckpointState {
  const bad = (what: string): never => {
    throw new FormatError(`${file}: its training state ${what}; the checkpoint cannot resume run ${record.id}`);
  };
  const state = value as RunCheckpointState;
  const count = (n: unknown) => Number.isSafeInteger(n) && (n as number) >= 0;
  if (typeof state !== 'object' || state === null) bad('is not an object');
  if (!count(state.epochs) || state.epochs < record.initialEpoch || state.epochs > record.settings.fit.epochs) bad(`has epochs ${JSON.stringify(state.epochs)}, not ${record.initialEpoch} to ${record.settings.fit.epochs}`);
  const lists = (o: unknown) => typeof o === 'object' && o !== null && Object.values(o).every((v) => Array.isArray(v) && v.every((x) => x === null || typeof x === 'number'));
  if (!lists(state.history) || !Array.isArray(state.epochSeconds) || typeof state.seconds !== 'number' || !Array.isArray(state.callbacks)) bad('lacks its history, times or callbacks');
  const p = state.position;
  if (p !== null) {
    const sums = (o: { samples?: unknown; sums?: unknown } | undefined) => typeof o === 'object' && o !== null && typeof o.samples === 'number' && typeof o.sums === 'object' && o.sums !== null && Object.values(o.sums).every((v) => typeof v === 'number');
    if (typeof p !== 'object' || !count(p.epoch) || p.epoch !== state.epochs || !count(p.step) || !Number.isSafeInteger(p.steps) || p.step >= p.steps || !sums(p.totals) || !sums(p.recorder)) bad('has a mid-epoch position that is not one');
  }
  return state;
}

/**
 * The callbacks a run's settings ask for, with Keras's arguments; ModelCheckpoint saves into
 * the run's folder (best/, or epoch-NN/ after every epoch).
 */
export function settingsCallbacks(settings: CallbackSettings, project: string, runId: string): Callback[] {
  const callbacks: Callback[] = [];
  const { earlyStopping, reduceLrOnPlateau, modelCheckpoint } = settings;
  if (earlyStopping) callbacks.push(new EarlyStopping({ monitor: earlyStopping.monitor, patience: earlyStopping.patience, minDelta: earlyStopping.minDelta, restoreBestWeights: earlyStopping.restoreBestWeights }));
  if (reduceLrOnPlateau) callbacks.push(new ReduceLROnPlateau({ monitor: reduceLrOnPlateau.monitor, factor: reduceLrOnPlateau.factor, patience: reduceLrOnPlateau.patience, minLr: reduceLrOnPlateau.minLr }));
  if (modelCheckpoint) {
    const folder = path.join(runFolder(project, runId), modelCheckpoint.saveBestOnly ? 'best' : 'epoch-{epoch:02d}');
    callbacks.push(new ModelCheckpoint(folder, { monitor: modelCheckpoint.monitor, saveBestOnly: modelCheckpoint.saveBestOnly }));
  }
  return callbacks;
}

/**
 * Before the first step: every callback's monitor is a metric fit() will log (Keras would
 * only warn at the end of the first epoch), and ReduceLROnPlateau has a learning rate to
 * change (not a schedule's).
 */
/** fit.checkpointEvery: absent (every epoch), a whole number of epochs >= 1, or 'none' (a settings file or the app may send anything). */
export function checkCheckpointEvery(every: unknown): void {
  if (every === undefined || every === 'none' || (typeof every === 'number' && Number.isSafeInteger(every) && every >= 1)) return;
  throw new ValueError(`fit.checkpointEvery must be a whole number of epochs >= 1 or "none", got ${JSON.stringify(every)}`);
}

export function checkCallbackSettings(settings: CallbackSettings, model: Model, validated: boolean): void {
  const names = logNames(model.compiled!);
  const logged = validated ? [...names, ...names.map((name) => `val_${name}`)] : names;
  const monitors: [string, string | undefined][] = [
    ['early stopping', settings.earlyStopping?.monitor],
    ['model checkpoint', settings.modelCheckpoint?.saveBestOnly ? settings.modelCheckpoint.monitor : undefined],
    ['learning-rate reduction', settings.reduceLrOnPlateau?.monitor],
  ];
  for (const [what, monitor] of monitors) {
    if (monitor !== undefined && !logged.includes(monitor)) {
      const hint = monitor.startsWith('val_') && !validated ? '; val_ metrics need validation data (a validation split or the test split)' : '';
      throw new ValueError(`${what}: monitor "${monitor}" is not a metric this run logs (${logged.join(', ')})${hint}`);
    }
  }
  if (settings.reduceLrOnPlateau && model.compiled!.optimizer.schedule) {
    throw new ValueError(`learning-rate reduction: the optimizer's learning rate is a ${model.compiled!.optimizer.schedule.className} schedule, which owns the rate; use a constant learning rate to reduce it on plateaus`);
  }
}

/** A compiled model's compile() as run settings: the optimizer as Keras's {class_name, config}, the loss (each output's, for several), the metrics. */
export function compileSettingsOf(model: Model): CompileSettings {
  const compiled = model.compiled!;
  const first = compiled.losses[0]!;
  const metricsOf = (loss: OutputLoss) => loss.metrics.map(metrics.serializeMetric);
  const settings: CompileSettings = { optimizer: { class_name: compiled.optimizer.className, config: compiled.optimizer.getConfig() }, loss: first.kind, fromLogits: first.fromLogits, metrics: metricsOf(first) };
  if (compiled.losses.length > 1) settings.outputs = compiled.losses.map((loss) => ({ output: loss.output, loss: loss.kind, fromLogits: loss.fromLogits, weight: loss.weight, metrics: metricsOf(loss) }));
  return settings;
}

/** Compiles the model as run settings say (through Keras's training_config, as a saved file would): each output's loss and weight where they are given. */
export function compileWith(model: Model, compile: CompileSettings): void {
  const serialized = (name: string, fromLogits: boolean) => losses.serializeLoss({ ...losses.getLoss(name), fromLogits });
  const perOutput = compile.outputs;
  const loss = perOutput ? Object.fromEntries(perOutput.map((o) => [o.output, serialized(o.loss, o.fromLogits)])) : serialized(compile.loss, compile.fromLogits);
  const lossWeights = perOutput ? { loss_weights: Object.fromEntries(perOutput.map((o) => [o.output, o.weight])) } : {};
  const metricsByOutput = perOutput ? Object.fromEntries(perOutput.map((o) => [o.output, o.metrics ?? compile.metrics])) : compile.metrics;
  model.compileFromTrainingConfig({ optimizer_config: compile.optimizer, loss, metrics: metricsByOutput, ...lossWeights });
}
