// strata train <model-file> --data <fashion-mnist|path>: Keras's fit() from the command line,
// with the model file's compile() settings (or ones from the flags), progress on the
// terminal or one JSON object per epoch, the trained model saved to --out, and a test
// evaluation when the data has a test split.
//
// Nothing is found too late: before the first step, --out is checked (it can be written and
// holds nothing Strata did not write) and the whole dataset (train, validation and test) is
// checked against the model. Ctrl+C stops at the end of the current step and saves what was
// trained; a second Ctrl+C ends at once. A saved folder trains on from the epochs it has.
import type { Command } from 'commander';
import { statSync } from 'node:fs';
import { split } from '../../data/dataset.ts';
import { type DatasetSplit, validateDataset } from '../../data/validate.ts';
import { loadNativeEngine } from '../../engine/binding.ts';
import { chooseDevice } from '../../engine/device.ts';
import { EngineBackend } from '../../engine/trainer.ts';
import { SaveError } from '../../io/atomic_write.ts';
import { checkCanSave } from '../../io/model_folder.ts';
import { loadModelFolder, saveModel } from '../../io/model_store.ts';
import { CustomCallback, countParams, optimizers, setRandomSeed, type ArrayData, type Logs, type Model } from '../../model/index.ts';
import { UserError } from '../errors.ts';
import { loadModel } from '../load_model.ts';
import { type TrainingData, loadTrainingData } from '../training_data.ts';
import { MODEL_ARGUMENT_HELP } from '../model_argument.ts';
import { threadCount } from '../flags.ts';

export interface TrainOptions {
  data: string;
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
}

function number(name: string, integer: boolean, min: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isFinite(n) || (integer && !Number.isInteger(n)) || n < min) throw new UserError(`${name} must be ${integer ? 'an integer' : 'a number'} >= ${min}, got '${value}'`);
    return n;
  };
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

/** Every split training will touch, with where its samples come from: train, the part --validation-split holds out, test. */
function splitsOf(data: TrainingData, options: TrainOptions): DatasetSplit[] {
  const { source, where } = data;
  const splits: DatasetSplit[] = [];
  if (options.validationSplit && data.train.size > 0) {
    let parts: ReturnType<typeof split>;
    try {
      parts = split(data.train, options.validationSplit);
    } catch (error) {
      throw new UserError(`--validation-split: ${(error as Error).message}`);
    }
    const at = parts.train.size;
    splits.push({ name: 'train', data: parts.train, source, where: where.train }, { name: 'validation', data: parts.validation, source, where: (i) => where.train(at + i) });
  } else {
    splits.push({ name: 'train', data: data.train, source, where: where.train });
  }
  if (data.test) splits.push({ name: 'test', data: data.test, source, ...(where.test ? { where: where.test } : {}) });
  return splits;
}

/**
 * Ctrl+C while training: the first asks the engine to stop at the end of the current step
 * (the caller then saves); the listener is gone after it, so a second one ends the process at
 * once (SIGINT's default: exit status 130), saving nothing more.
 */
function stopOnInterrupt(engine: EngineBackend): { requested: () => boolean; dispose: () => void } {
  let requested = false;
  const onInterrupt = () => {
    requested = true;
    engine.interrupt();
    process.stderr.write('\nstrata: stopping at the end of this step; press Ctrl+C again to quit at once\n');
  };
  process.once('SIGINT', onInterrupt);
  return { requested: () => requested, dispose: () => process.removeListener('SIGINT', onInterrupt) };
}

/** Keras users compile in the model file; where they did not, pick what the output implies. */
function compileFromFlags(model: Model, options: TrainOptions): void {
  const flagsGiven = options.optimizer !== undefined || options.learningRate !== undefined || options.loss !== undefined;
  if (model.compiled && !flagsGiven) return;
  const previous = model.compiled;
  const kind = options.optimizer ?? previous?.optimizer.kind ?? 'adam';
  const optimizer = optimizers.getOptimizer(kind);
  if (options.learningRate !== undefined) optimizer.learningRate = options.learningRate;
  const lastLayer = model.outputs[0]!.sourceLayer as { activation?: string };
  const units = model.outputs[0]!.shape[model.outputs[0]!.shape.length - 1];
  const defaultLoss = lastLayer.activation === 'softmax' ? 'sparse_categorical_crossentropy' : lastLayer.activation === 'sigmoid' && units === 1 ? 'binary_crossentropy' : 'mean_squared_error';
  model.compile({ optimizer, loss: options.loss ?? previous?.losses[0]?.kind ?? defaultLoss, metrics: ['accuracy'] });
}

export function registerTrain(program: Command): void {
  program
    .command('train')
    .description("train a model on a dataset with the native engine, as Keras's fit()")
    .argument('<model-file>', MODEL_ARGUMENT_HELP)
    .requiredOption('--data <source>', 'fashion-mnist, a folder (IDX files, or one subfolder of images per class), a .csv or an .npz')
    .option('--epochs <n>', 'epochs', number('--epochs', true, 1), 1)
    .option('--batch-size <n>', 'samples per step', number('--batch-size', true, 1), 32)
    .option('--validation-split <f>', 'hold out the last fraction of the training data', number('--validation-split', false, 0))
    .option('--validation-data <split>', '"test": validate on the data\'s test split after every epoch (Keras\'s validation_data=(x_test, y_test))')
    .option('--device <device>', 'cpu, cuda or auto (auto: the GPU when a usable one is there, else the CPU)', 'auto')
    .option('--out <dir>', 'save the trained model (and its training config) to this folder')
    .option('--json', 'print one JSON object per epoch and a final one, instead of progress bars')
    .option('--optimizer <name>', 'sgd, adam, adamw or rmsprop (overrides the model file)')
    .option('--learning-rate <lr>', 'the optimizer\'s learning rate', number('--learning-rate', false, 0))
    .option('--loss <name>', 'a Keras loss name (overrides the model file)')
    .option('--label-column <column>', 'CSV: the label column, by name or 0-based index (default: the last)')
    .option('--seed <n>', 'seeds the initial weights, shuffling and Dropout: the same seed gives the same run', number('--seed', true, 0))
    .option('--threads <n|auto>', 'CPU threads for the engine: auto (the default: all cores unless other work slows them, then fewer), or 1 to the number of cores (a pinned count, for runs that repeat bit for bit on a busy machine)', threadCount)
    .action(async (file: string, options: TrainOptions) => {
      if (!['cpu', 'cuda', 'auto'].includes(options.device)) throw new UserError(`--device must be cpu, cuda or auto, got '${options.device}'`);
      const device = chooseDevice(options.device, loadNativeEngine);
      if (options.validationData !== undefined && options.validationData !== 'test') throw new UserError(`--validation-data takes "test", got '${options.validationData}'`);
      if (options.validationData === 'test' && options.validationSplit) throw new UserError('give --validation-split or --validation-data, not both');
      // As keras.utils.set_random_seed: the seed also fixes the weights the model file creates.
      if (options.seed !== undefined) setRandomSeed(options.seed);
      const { model, epochs: initialEpoch, classNames: savedClassNames } = await loadForTraining(file);
      compileFromFlags(model, options);
      if (options.out) checkOut(options.out, model);
      const data = await loadTrainingData(options.data, model, options.labelColumn !== undefined ? { labelColumn: options.labelColumn } : {});
      if (options.validationData === 'test' && !data.test) throw new UserError(`--validation-data test: ${data.description} has no test split`);
      validateDataset(model, splitsOf(data, options));

      const print = (object: object) => process.stdout.write(`${JSON.stringify(object)}\n`);
      const say = (text: string) => void (options.json || process.stdout.write(`${text}\n`));
      if (device.note) say(device.note);
      const engine = new EngineBackend({ backend: device.backend, ...(options.threads ? { numThreads: options.threads === 'auto' ? -1 : options.threads } : {}), ...(options.json ? { write: () => {} } : {}) });
      say(`Training ${model.name} on ${data.description}: ${data.train.size} samples${initialEpoch ? `, from epoch ${initialEpoch + 1} (it has trained ${initialEpoch})` : ''}`);
      let epochStarted = 0;
      const jsonLines = new CustomCallback({
        onEpochBegin: () => void (epochStarted = performance.now()),
        onEpochEnd: (epoch: number, logs: Logs) => {
          print({ epoch: epoch + 1, ...logs, seconds: (performance.now() - epochStarted) / 1000 });
        },
      });
      const started = performance.now();
      const totalEpochs = initialEpoch + options.epochs;
      const interrupts = stopOnInterrupt(engine);
      const final: Record<string, unknown> = {};
      let epochsDone: number;
      try {
        const history = await engine.fit(model, data.train.x, data.train.y, {
          epochs: totalEpochs,
          initialEpoch,
          batchSize: options.batchSize,
          ...(options.validationSplit ? { validationSplit: options.validationSplit } : {}),
          ...(options.validationData === 'test' && data.test ? { validationData: [data.test.x, data.test.y] as [ArrayData[], ArrayData[]] } : {}),
          ...(options.seed !== undefined ? { seed: options.seed } : {}),
          verbose: options.json ? 0 : 1,
          callbacks: options.json ? [jsonLines] : [],
        });
        epochsDone = initialEpoch + history.epoch.length;
        // Saved before the test evaluation: nothing after training can lose it.
        if (options.out) {
          const classNames = data.train.classNames ?? savedClassNames;
          saveModel(model, options.out, { epochs: epochsDone, ...(classNames ? { classNames } : {}) });
          final.saved = options.out;
        }
      } finally {
        interrupts.dispose();
      }
      if (interrupts.requested()) {
        const at = engine.interruption ?? { epoch: totalEpochs, step: 0, steps: 0 };
        const where = at.step > 0 ? `in epoch ${at.epoch + 1}/${totalEpochs} after step ${at.step}/${at.steps}` : `after epoch ${at.epoch}/${totalEpochs}`;
        Object.assign(final, { interrupted: true, epoch: at.epoch + (at.step > 0 ? 1 : 0), step: at.step, steps: at.steps, epochs: epochsDone, seconds: (performance.now() - started) / 1000 });
        say(`Interrupted ${where}; ${options.out ? `saved to ${options.out}` : 'nothing saved (no --out)'}`);
        if (options.json) print(final);
        process.exitCode = 130;
        return;
      }
      if (options.out) say(`Saved to ${options.out}`);
      Object.assign(final, { done: true, epochs: epochsDone, seconds: (performance.now() - started) / 1000 });
      if (data.test) {
        const test = await engine.evaluate(model, data.test.x, data.test.y, { batchSize: options.batchSize });
        for (const [key, value] of Object.entries(test)) final[`test_${key}`] = value;
        say(`Test: ${Object.entries(test).map(([k, v]) => `${k}: ${v.toFixed(4)}`).join(' - ')} (${data.test.size} samples)`);
      }
      if (options.json) print(final);
    });
}
