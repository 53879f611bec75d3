// strata train <model-file> [--data <fashion-mnist|path>]: Keras's fit() from the command line
// with the model file's compile() settings (or ones from the flags), progress on the
// terminal or one JSON object per epoch, the trained model saved to --out, and a test
// evaluation when the data has a test split.
//
// Nothing is found too late: before the first step, --out is checked (it can be written and
// holds nothing Strata did not write) and the whole dataset (train, validation and test) is
// checked against the model. Ctrl+C stops at the end of the current step and saves what was
// trained; a second Ctrl+C ends at once. A saved folder trains on from the epochs it has.
//
// With --project DIR the fit is a run of that project folder (app/io/runs.ts), as the app
// records it, and the app lists it; --resume trains a stopped run on, --settings takes a
// run's (or the app's) settings.
import type { Command } from 'commander';
import { mkdirSync, readFileSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { DataSource, RunRecord, TrainingSettings, ValidationSetting } from '../../contract/training.ts';
import { validateDataset } from '../../data/validate.ts';
import { loadNativeEngine } from '../../engine/binding.ts';
import { chooseDevice } from '../../engine/device.ts';
import { EngineBackend } from '../../engine/trainer.ts';
import { SaveError } from '../../io/atomic_write.ts';
import { checkCanSave } from '../../io/model_folder.ts';
import { loadModelFolder, saveModel } from '../../io/model_store.ts';
import { RunRecorder, checkCallbackSettings, compileSettingsOf, compileWith, newRunRecord, openCheckpoint, settingsCallbacks, type RunCheckpointState } from '../../io/run_recorder.ts';
import { checkpointFolder, createRun, listRuns, readRun } from '../../io/runs.ts';
import { CustomCallback, countParams, metrics, optimizers, setRandomSeed, type ArrayData, type Logs, type Model } from '../../model/index.ts';
import { resolveCompile } from '../../model/training.ts';
import { UserError, userErrorLine } from '../errors.ts';
import { loadModel } from '../load_model.ts';
import { hasModelFileData } from '../model_file_data.ts';
import { loadDataSource, splitsOf } from '../training_data.ts';
import { MODEL_ARGUMENT_HELP } from '../model_argument.ts';
import { number, threadCount } from '../flags.ts';

export interface TrainOptions {
  data?: string;
  labels?: string;
  project?: string;
  resume?: string;
  settings?: string;
  epochs: number;
  batchSize: number;
  validationSplit?: number;
  validationData?: string;
  device: 'cpu' | 'cuda' | 'auto';
  out?: string;
  json?: boolean;
  optimizer?: string;
  learningRate?: number;
  loss?: string;
  labelColumn?: string;
  seed?: number;
  threads?: number | 'auto';
  checkpointEvery?: number | 'none';
}

/** --checkpoint-every: a number of epochs, or none. */
function checkpointCadence(value: string): number | 'none' {
  if (value === 'none') return 'none';
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 1) throw new UserError(`--checkpoint-every must be a whole number of epochs >= 1 or none, got '${value}'`);
  return n;
}

/** The model, and the epochs it has trained when it is a folder a save wrote: training goes on from there. */
async function loadForTraining(file: string): Promise<{ model: Model; epochs: number; classNames?: string[] }> {
  if (statSync(file, { throwIfNoEntry: false })?.isDirectory()) return loadModelFolder(file);
  return { model: await loadModel(file), epochs: 0 };
}

/** About the bytes a save takes: the weights, up to two optimizer slots each (Adam's moments), model.json. */
function saveSize(model: Model): number {
  return countParams(model).totalBytes * 3 + model.toJSON().length + 64 * 1024;
}

/** --out is checked before training, so that a bad path costs no training time. */
function checkOut(dir: string, model: Model): void {
  try {
    checkCanSave(dir, saveSize(model));
  } catch (error) {
    if (error instanceof SaveError) throw new UserError(`--out ${error.message}`);
    throw error;
  }
}

/**
 * Ctrl+C (SIGINT), or SIGTERM (a logout, a shutdown, `kill`), while training: the first asks
 * the engine to stop at the end of the current step (the caller then saves and exits with
 * 128 + the signal's number, as shells report a process a signal ended: 130, 143); the listeners are gone after it, so a second signal ends the process at once
 * (the signal's default action), saving nothing more.
 */
function stopOnInterrupt(engine: EngineBackend): { requested: () => NodeJS.Signals | null; dispose: () => void } {
  let requested: NodeJS.Signals | null = null;
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM'];
  const dispose = () => {
    for (const signal of signals) process.removeListener(signal, onSignal);
  };
  function onSignal(signal: NodeJS.Signals) {
    requested = signal;
    dispose();
    engine.interrupt();
    const again = signal === 'SIGINT' ? 'press Ctrl+C again to quit at once' : 'a second SIGTERM or Ctrl+C quits at once';
    process.stderr.write(`\nstrata: ${signal === 'SIGINT' ? '' : `${signal}: `}stopping at the end of this step; ${again}\n`);
  }
  for (const signal of signals) process.on(signal, onSignal);
  return { requested: () => requested, dispose };
}

/** Keras users compile in the model file; where they did not, pick what the output implies. */
function compileFromFlags(model: Model, options: TrainOptions): void {
  const flagsGiven = options.optimizer !== undefined || options.learningRate !== undefined || options.loss !== undefined;
  if (model.compiled && !flagsGiven) return;
  const previous = model.compiled;
  const kind = options.optimizer ?? previous?.optimizer.kind ?? 'adam';
  const optimizer = optimizers.getOptimizer(kind);
  if (options.learningRate !== undefined) optimizer.learningRate = options.learningRate;
  // --loss applies to every output; without it, each output keeps its own loss and weight.
  const kept = previous && options.loss === undefined;
  const loss = options.loss ?? (previous ? Object.fromEntries(previous.losses.map((l) => [l.output, { kind: l.kind, fromLogits: l.fromLogits }])) : impliedLoss(model));
  const args = { optimizer, loss, ...(kept ? { lossWeights: Object.fromEntries(previous.losses.map((l) => [l.output, l.weight])) } : {}) };
  // the model's own metrics while its losses stay; else each loss's default (accuracy, or mae for regression)
  const metricsArg = kept ? previous.metrics : resolveCompile(model, args).losses.map((l) => [metrics.defaultMetricFor(l.kind)]);
  model.compile({ ...args, metrics: metricsArg });
}

/**
 * The loss a model's output implies: class ids for softmax, binary targets for one sigmoid unit,
 * else regression (also for a model with no output yet, the app's empty project, which the data
 * preview and fit then refuse by name). `output`: which of the model's outputs (the first).
 */
export function impliedLoss(model: Model, output = 0): string {
  const tensor = model.outputs[output];
  if (!tensor) return 'mean_squared_error';
  const lastLayer = tensor.sourceLayer as { activation?: string };
  const units = tensor.shape[tensor.shape.length - 1];
  return lastLayer.activation === 'softmax' ? 'sparse_categorical_crossentropy' : lastLayer.activation === 'sigmoid' && units === 1 ? 'binary_crossentropy' : 'mean_squared_error';
}

export function registerTrain(program: Command): void {
  program
    .command('train')
    .description("train a model on a dataset with the native engine, as Keras's fit()")
    .argument('[model-file]', `${MODEL_ARGUMENT_HELP} (none with --resume: the run's checkpoint)`)
    .option('--data <source>', 'fashion-mnist, a folder (IDX files, or one subfolder of images per class), a .csv, an .npz, or an .npy of features with --labels (default: the data the model file exports, if it does)')
    .option('--labels <file.npy>', 'with --data FEATURES.npy: the labels, as NumPy\'s np.save wrote them')
    .option('--epochs <n>', 'epochs', number('--epochs', true, 1), 1)
    .option('--batch-size <n>', 'samples per step', number('--batch-size', true, 1), 32)
    .option('--validation-split <f>', 'hold out the last fraction of the training data', number('--validation-split', false, 0))
    .option('--validation-data <split>', '"test": validate on the data\'s test split after every epoch (Keras\'s validation_data=(x_test, y_test))')
    .option('--device <device>', 'cpu, cuda or auto (auto: the GPU when a usable one is there, else the CPU)', 'auto')
    .option('--out <dir>', 'save the trained model (and its training config) to this folder')
    .option('--project <dir>', "record the fit as a run of this project folder (runs/<id>/: its settings, history, checkpoint and metrics), as the app does; the app lists it")
    .option('--resume <run-id>', 'with --project: train a stopped run on from its checkpoint (weights and optimizer state), with its settings')
    .option('--settings <file>', "train with a run's settings (its run.json) or the app's settings JSON: data, compile, fit and callbacks; flags given override them")
    .option('--json', 'print one JSON object per epoch and a final one, instead of progress bars')
    .option('--optimizer <name>', 'sgd, adam, adamw or rmsprop (overrides the model file)')
    .option('--learning-rate <lr>', 'the optimizer\'s learning rate', number('--learning-rate', false, 0))
    .option('--loss <name>', 'a Keras loss name (overrides the model file)')
    .option('--label-column <column>', 'CSV: the label column, by name or 0-based index (default: the last)')
    .option('--seed <n>', 'seeds the initial weights, shuffling and Dropout: the same seed gives the same run', number('--seed', true, 0))
    .option('--checkpoint-every <n|none>', "with --project: save the run's checkpoint (weights, optimizer, callbacks' state, history) every N epochs (default 1), or none (only when it stops or ends); --resume goes on from it exactly", checkpointCadence)
    .option('--threads <n|auto>', 'CPU threads for the engine: auto (the default: all cores unless other work slows them, then fewer), or 1 to the number of cores (a pinned count, for runs that repeat bit for bit on a busy machine)', threadCount)
    .action(async (file: string | undefined, options: TrainOptions, command: Command) => {
      if (!['cpu', 'cuda', 'auto'].includes(options.device)) throw new UserError(`--device must be cpu, cuda or auto, got '${options.device}'`);
      const device = chooseDevice(options.device, loadNativeEngine);
      if (options.validationData !== undefined && options.validationData !== 'test') throw new UserError(`--validation-data takes "test", got '${options.validationData}'`);
      if (options.validationData === 'test' && options.validationSplit) throw new UserError('give --validation-split or --validation-data, not both');
      const project = options.project === undefined ? undefined : projectFolder(options.project);
      const resumed = options.resume === undefined ? undefined : resumableRun(project, options.resume, file);
      if (!resumed && file === undefined) throw new UserError('missing the model: strata train <model-file> --data SOURCE (or --project DIR --resume RUN-ID)');
      const base = resumed?.settings ?? (options.settings === undefined ? undefined : readSettingsFile(options.settings));
      // As keras.utils.set_random_seed: the seed (a flag's, or the settings') also fixes the weights the model file creates.
      const seed = options.seed ?? (resumed ? undefined : base?.fit.seed);
      if (seed !== undefined && seed !== null) setRandomSeed(seed);
      const modelSource = file ?? checkpointFolder(project!, resumed!.id);
      // A resumed run's record is brought back to its checkpoint (which a kill may have left ahead of run.json).
      const checkpoint = resumed ? openCheckpoint(project!, resumed) : null;
      const { model, epochs: savedEpochs, classNames: savedClassNames } = checkpoint ?? (await loadForTraining(modelSource));
      const resumeState: RunCheckpointState | null = checkpoint?.resume ?? null;
      if (base && !resumed) compileWith(model, base.compile);
      compileFromFlags(model, options);
      if (options.out) checkOut(options.out, model);
      // No --data and no settings' data: the model file's own data, when it exports some.
      const fileData = options.data === undefined && !base && file !== undefined && (await hasModelFileData(file)) ? { kind: 'model-file' as const, file } : undefined;
      const settings = settingsOf(model, options, command, base, device.backend, fileData);
      const data = await loadDataSource(settings.data, model);
      if (settings.fit.validation.kind === 'test' && !data.test) throw new UserError(`--validation-data test: ${data.description} has no test split`);
      const splits = splitsOf(data, settings.fit.validation.kind === 'split' ? settings.fit.validation.fraction : undefined);
      validateDataset(model, splits);
      const validated = settings.fit.validation.kind !== 'none';
      checkCallbackSettings(settings.fit.callbacks, model, validated);
      if (settings.fit.callbacks.modelCheckpoint && !project) throw new UserError('--settings: its model checkpoint saves into a run\'s folder; give --project DIR');

      const initialEpoch = resumed ? resumed.epochs : savedEpochs;
      const totalEpochs = resumed ? resumed.settings.fit.epochs : initialEpoch + settings.fit.epochs;
      const classNames = data.train.classNames ?? savedClassNames;
      const record =
        resumed ?? newRunRecord({ writer: 'cli', model, modelSource: path.resolve(modelSource), data, splits, settings: { ...settings, data: absoluteData(settings.data), fit: { ...settings.fit, epochs: totalEpochs } }, initialEpoch });
      if (project && !resumed) createRun(project, record);
      const { fit } = settings;
      const callbacks = settingsCallbacks(fit.callbacks, project ?? '', record.id);
      const recorder = project ? new RunRecorder(project, record, { callbacks, resume: resumeState, ...(classNames ? { classNames } : {}) }) : null;

      const print = (object: object) => process.stdout.write(`${JSON.stringify(object)}\n`);
      const say = (text: string) => void (options.json || process.stdout.write(`${text}\n`));
      if (device.note) say(device.note);
      const engine = new EngineBackend({ backend: device.backend, numThreads: settings.threads === 'auto' ? -1 : settings.threads, ...(options.json ? { write: () => {} } : {}) });
      say(`Training ${model.name} on ${data.description}: ${splits[0]!.data.size} samples${initialEpoch ? `, from epoch ${initialEpoch + 1} (it has trained ${initialEpoch})` : ''}${project ? `; run ${record.id} in ${project}` : ''}`);
      let epochStarted = 0;
      const jsonLines = new CustomCallback({
        onEpochBegin: () => void (epochStarted = performance.now()),
        onEpochEnd: (epoch: number, logs: Logs) => {
          print({ epoch: epoch + 1, ...logs, seconds: (performance.now() - epochStarted) / 1000 });
        },
      });
      const started = performance.now();
      const interrupts = stopOnInterrupt(engine);
      const final: Record<string, unknown> = project ? { run: record.id } : {};
      let epochsDone: number;
      try {
        const history = await engine.fit(model, data.train.x, data.train.y, {
          epochs: totalEpochs,
          initialEpoch,
          batchSize: fit.batchSize,
          shuffle: fit.shuffle,
          ...(fit.validation.kind === 'split' ? { validationSplit: fit.validation.fraction } : {}),
          ...(fit.validation.kind === 'test' && data.test ? { validationData: [data.test.x, data.test.y] as [ArrayData[], ArrayData[]] } : {}),
          ...(project ? { seed: record.settings.fit.seed! } : fit.seed !== null ? { seed: fit.seed } : {}),
          verbose: options.json ? 0 : 1,
          callbacks: [...(options.json ? [jsonLines] : []), ...callbacks, ...(recorder ? [recorder] : [])],
          ...(resumeState?.position ? { resumeFrom: resumeState.position } : {}),
        });
        epochsDone = initialEpoch + history.epoch.length;
        // Saved before the test evaluation: nothing after training can lose it.
        if (options.out) {
          saveModel(model, options.out, { epochs: epochsDone, ...(classNames ? { classNames } : {}) });
          final.saved = options.out;
        }
      } catch (error) {
        recorder?.finish('failed', { message: userErrorLine(error) ?? `internal error: ${(error as Error).message}` });
        throw error;
      } finally {
        interrupts.dispose();
      }
      const signal = interrupts.requested();
      if (signal) {
        const at = engine.interruption ?? { epoch: totalEpochs, step: 0, steps: 0, totals: { samples: 0, sums: {} } };
        const where = at.step > 0 ? `in epoch ${at.epoch + 1}/${totalEpochs} after step ${at.step}/${at.steps}` : `after epoch ${at.epoch}/${totalEpochs}`;
        recorder?.finish('stopped', { stop: at, message: `stopped ${where}`, checkpoint: true });
        Object.assign(final, { interrupted: true, epoch: at.epoch + (at.step > 0 ? 1 : 0), step: at.step, steps: at.steps, epochs: epochsDone, seconds: (performance.now() - started) / 1000 });
        const kept = [options.out ? `saved to ${options.out}` : '', project ? `run ${record.id} can resume (--project ${options.project} --resume ${record.id})` : ''].filter(Boolean);
        say(`Interrupted ${where}; ${kept.length ? kept.join('; ') : 'nothing saved (no --out)'}`);
        if (options.json) print(final);
        process.exitCode = 128 + os.constants.signals[signal];
        return;
      }
      if (options.out) say(`Saved to ${options.out}`);
      Object.assign(final, { done: true, epochs: epochsDone, seconds: (performance.now() - started) / 1000 });
      let test: Logs | null = null;
      if (data.test) {
        test = await engine.evaluate(model, data.test.x, data.test.y, { batchSize: fit.batchSize });
        for (const [key, value] of Object.entries(test)) final[`test_${key}`] = value;
        say(`Test: ${Object.entries(test).map(([k, v]) => `${k}: ${v.toFixed(4)}`).join(' - ')} (${data.test.size} samples)`);
      }
      const early = model.stopTraining && epochsDone < totalEpochs ? `early stopping ended it after epoch ${epochsDone}` : undefined;
      recorder?.finish('finished', { test, ...(early ? { message: early } : {}) });
      if (project) say(`Run ${record.id} recorded in ${project}`);
      if (options.json) print(final);
    });
}

/** --project: a folder (created when only it is missing) that runs/<id>/ folders go into. */
function projectFolder(dir: string): string {
  const stats = statSync(dir, { throwIfNoEntry: false });
  if (stats && !stats.isDirectory()) throw new UserError(`--project ${dir}: not a folder; a project is a folder`);
  if (!stats) {
    if (!statSync(path.dirname(path.resolve(dir)), { throwIfNoEntry: false })?.isDirectory()) throw new UserError(`--project ${dir}: its parent folder does not exist`);
    mkdirSync(dir);
  }
  return path.resolve(dir);
}

/** --resume: a stopped run of the project, with epochs left to train. */
function resumableRun(project: string | undefined, runId: string, file: string | undefined): RunRecord {
  if (project === undefined) throw new UserError('--resume needs --project DIR, the project holding the run');
  if (file !== undefined) throw new UserError(`--resume trains the run's own checkpoint; give no model file (got ${file})`);
  const run = listRuns(project).runs.find((r) => r.id === runId) ?? readRun(project, runId);
  if (run.status !== 'stopped') throw new UserError(`--resume ${runId}: the run is ${run.status}; only a stopped run resumes`);
  if (run.epochs >= run.settings.fit.epochs) throw new UserError(`--resume ${runId}: the run has trained all of its ${run.settings.fit.epochs} epochs`);
  return run;
}

/** --settings: a run.json (its settings) or the app's TrainingSettings as JSON. */
function readSettingsFile(file: string): TrainingSettings {
  let json: { format?: string; settings?: TrainingSettings } & Partial<TrainingSettings>;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new UserError(`--settings ${file}: ${code ? (code === 'ENOENT' ? 'no such file' : `cannot read (${code})`) : `not JSON (${(error as Error).message})`}`);
  }
  const settings = json?.format === 'strata-run' ? json.settings : (json as TrainingSettings);
  if (typeof settings?.compile !== 'object' || typeof settings.fit !== 'object' || typeof settings.data !== 'object' || settings.compile === null || settings.fit === null) {
    throw new UserError(`--settings ${file}: expected a run.json or training settings (data, compile, fit)`);
  }
  return settings;
}

/** What the flags ask for (a flag given wins), over the settings file's or resumed run's, over Keras's defaults. */
function settingsOf(model: Model, options: TrainOptions, command: Command, base: TrainingSettings | undefined, device: TrainingSettings['device'], fileData?: DataSource): TrainingSettings {
  const given = (key: keyof TrainOptions) => command.getOptionValueSource(key) === 'cli';
  const validation: ValidationSetting = options.validationSplit
    ? { kind: 'split', fraction: options.validationSplit }
    : options.validationData === 'test'
      ? { kind: 'test' }
      : (base?.fit.validation ?? { kind: 'none' });
  return {
    data: options.data !== undefined ? dataSourceOf(options) : (base?.data ?? fileData ?? missingData()),
    compile: compileSettingsOf(model),
    fit: {
      epochs: given('epochs') || !base ? options.epochs : base.fit.epochs,
      batchSize: given('batchSize') || !base ? options.batchSize : base.fit.batchSize,
      shuffle: base?.fit.shuffle ?? true,
      validation,
      seed: options.seed ?? base?.fit.seed ?? null,
      callbacks: base?.fit.callbacks ?? { earlyStopping: null, modelCheckpoint: null, reduceLrOnPlateau: null },
      ...(options.checkpointEvery !== undefined || base?.fit.checkpointEvery !== undefined ? { checkpointEvery: options.checkpointEvery ?? base!.fit.checkpointEvery! } : {}),
    },
    device,
    threads: options.threads ?? base?.threads ?? 'auto',
  };
}

function missingData(): never {
  throw new UserError("required option '--data <source>' not specified (or export the data from the model file: export function data())");
}

/** --data (and --labels, --label-column) as a DataSource, paths as given (errors name them so). */
function dataSourceOf(options: TrainOptions): DataSource {
  const data = options.data!;
  if (options.labels !== undefined) return { kind: 'arrays', x: data, y: options.labels };
  if (path.extname(data).toLowerCase() === '.npy') throw new UserError(`--data ${data}: an .npy file holds features only; give the labels with --labels y.npy`);
  if (data === 'fashion-mnist') return { kind: 'fashion-mnist' };
  return { kind: 'path', path: data, ...(options.labelColumn !== undefined ? { labelColumn: options.labelColumn } : {}) };
}

/** The data's paths made absolute, as a run records them, so that it resumes from any folder. */
function absoluteData(data: DataSource): DataSource {
  if (data.kind === 'arrays') return { ...data, x: path.resolve(data.x), y: path.resolve(data.y) };
  if (data.kind === 'path') return { ...data, path: path.resolve(data.path) };
  if (data.kind === 'model-file') return { ...data, file: path.resolve(data.file) };
  return data;
}
