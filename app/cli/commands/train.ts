// strata train <model-file> --data <fashion-mnist|path>: Keras's fit() from the command line,
// with the model file's compile() settings (or ones from the flags), progress on the
// terminal or one JSON object per epoch, a test evaluation when the data has a test split,
// and the trained model saved to --out.
import type { Command } from 'commander';
import { EngineBackend } from '../../engine/trainer.ts';
import { saveModel } from '../../io/model_store.ts';
import { CustomCallback, optimizers, setRandomSeed, type ArrayData, type Logs, type Model } from '../../model/index.ts';
import { UserError } from '../errors.ts';
import { loadModel } from '../load_model.ts';
import { loadTrainingData } from '../training_data.ts';
import { MODEL_ARGUMENT_HELP } from '../model_argument.ts';

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
    .option('--device <device>', 'cpu, cuda or auto (auto trains on the CPU until the CUDA backend has its kernels)', 'auto')
    .option('--out <dir>', 'save the trained model (and its training config) to this folder')
    .option('--json', 'print one JSON object per epoch and a final one, instead of progress bars')
    .option('--optimizer <name>', 'sgd, adam, adamw or rmsprop (overrides the model file)')
    .option('--learning-rate <lr>', 'the optimizer\'s learning rate', number('--learning-rate', false, 0))
    .option('--loss <name>', 'a Keras loss name (overrides the model file)')
    .option('--label-column <column>', 'CSV: the label column, by name or 0-based index (default: the last)')
    .option('--seed <n>', 'seeds the initial weights, shuffling and Dropout: the same seed gives the same run', number('--seed', true, 0))
    .option('--threads <n|auto>', 'CPU threads for the engine (default: auto, all cores unless other work slows them, then fewer; a number pins the count, for runs that repeat bit for bit on a busy machine)', (v: string) => (v === 'auto' ? 'auto' : number('--threads', true, 1)(v)))
    .action(async (file: string, options: TrainOptions) => {
      if (!['cpu', 'cuda', 'auto'].includes(options.device)) throw new UserError(`--device must be cpu, cuda or auto, got '${options.device}'`);
      // As keras.utils.set_random_seed: the seed also fixes the weights the model file creates.
      if (options.seed !== undefined) setRandomSeed(options.seed);
      const model = await loadModel(file);
      compileFromFlags(model, options);
      const data = await loadTrainingData(options.data, model, options.labelColumn !== undefined ? { labelColumn: options.labelColumn } : {});
      if (options.validationData !== undefined && options.validationData !== 'test') throw new UserError(`--validation-data takes "test", got '${options.validationData}'`);
      if (options.validationData === 'test' && !data.test) throw new UserError(`--validation-data test: ${data.description} has no test split`);
      if (options.validationData === 'test' && options.validationSplit) throw new UserError('give --validation-split or --validation-data, not both');
      const print = (object: object) => process.stdout.write(`${JSON.stringify(object)}\n`);
      // The CUDA backend's kernels are not written yet: auto and cpu train on the CPU.
      if (options.device === 'cuda') throw new UserError('--device cuda: the CUDA backend is not implemented yet; use --device cpu');
      const engine = new EngineBackend({ backend: 'cpu', ...(options.threads ? { numThreads: options.threads === 'auto' ? -1 : options.threads } : {}), ...(options.json ? { write: () => {} } : {}) });
      if (!options.json) process.stdout.write(`Training ${model.name} on ${data.description}: ${data.train.size} samples\n`);
      let epochStarted = 0;
      const jsonLines = new CustomCallback({
        onEpochBegin: () => void (epochStarted = performance.now()),
        onEpochEnd: (epoch: number, logs: Logs) => {
          print({ epoch: epoch + 1, ...logs, seconds: (performance.now() - epochStarted) / 1000 });
        },
      });
      const started = performance.now();
      const history = await engine.fit(model, data.train.x, data.train.y, {
        epochs: options.epochs,
        batchSize: options.batchSize,
        ...(options.validationSplit ? { validationSplit: options.validationSplit } : {}),
        ...(options.validationData === 'test' && data.test ? { validationData: [data.test.x, data.test.y] as [ArrayData[], ArrayData[]] } : {}),
        ...(options.seed !== undefined ? { seed: options.seed } : {}),
        verbose: options.json ? 0 : 1,
        callbacks: options.json ? [jsonLines] : [],
      });
      const final: Record<string, unknown> = { done: true, epochs: history.epoch.length, seconds: (performance.now() - started) / 1000 };
      if (data.test) {
        const test = await engine.evaluate(model, data.test.x, data.test.y, { batchSize: options.batchSize });
        for (const [key, value] of Object.entries(test)) final[`test_${key}`] = value;
        if (!options.json) process.stdout.write(`Test: ${Object.entries(test).map(([k, v]) => `${k}: ${v.toFixed(4)}`).join(' - ')} (${data.test.size} samples)\n`);
      }
      if (options.out) {
        saveModel(model, options.out, { epochs: history.epoch.length });
        final.saved = options.out;
        if (!options.json) process.stdout.write(`Saved to ${options.out}\n`);
      }
      if (options.json) print(final);
    });
}
