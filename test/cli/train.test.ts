// `strata train` as users run it: data from an .npz, JSON progress, a test split, the model
// saved to a folder that loads again (compiled, with its weights) and trains further; a NaN
// loss is a one-line error.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ndarray } from '../../app/data/ndarray.ts';
import { writeNpz } from '../../app/data/npz.ts';
import { loadNativeEngine } from '../../app/engine/binding.ts';
import { loadModelFolder, saveModel } from '../../app/io/model_store.ts';
import { readNpz } from '../../app/data/npz.ts';
import { Input, Model, Normalization, layers } from '../../app/model/index.ts';
import { RandomGenerator } from '../../app/model/random.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));

function strata(...args: string[]) {
  const result = spawnSync(process.execPath, ['app/cli/strata.js', ...args], { cwd: root, encoding: 'utf8' });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** Three separable classes in 4 features, with a train and a test split. */
function writeData(file: string): void {
  const rng = new RandomGenerator(3);
  const make = (n: number) => {
    const x = new Float32Array(n * 4);
    const y = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      y[i] = i % 3;
      for (let j = 0; j < 4; j++) x[i * 4 + j] = rng.normal() * 0.5 + (j === y[i] ? 2 : 0);
    }
    return [ndarray('float32', [n, 4], x), ndarray('int32', [n], y)] as const;
  };
  const [xTrain, yTrain] = make(300);
  const [xTest, yTest] = make(90);
  writeNpz(file, { x_train: xTrain, y_train: yTrain, x_test: xTest, y_test: yTest });
}

const MODEL = 'test/fixtures/models/tiny-classifier.ts';

describe('strata train', () => {
  let dir = '';
  let data = '';
  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'strata-train-'));
    data = path.join(dir, 'data.npz');
    writeData(data);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('trains with the file\'s compile settings, prints JSON per epoch, evaluates the test split, saves', () => {
    const out = path.join(dir, 'trained');
    const { code, stdout, stderr } = strata('train', MODEL, '--data', data, '--epochs', '5', '--batch-size', '16', '--validation-split', '0.2', '--seed', '1', '--json', '--out', out);
    assert.equal(code, 0, stderr);
    const lines = stdout.trim().split('\n').map((l) => JSON.parse(l));
    assert.equal(lines.length, 6);
    assert.deepEqual(Object.keys(lines[0]).sort(), ['accuracy', 'epoch', 'loss', 'seconds', 'val_accuracy', 'val_loss']);
    assert.ok(lines[4].loss < lines[0].loss);
    const final = lines[5];
    assert.equal(final.done, true);
    assert.equal(final.epochs, 5);
    assert.ok(final.test_accuracy > 0.9, `test accuracy ${final.test_accuracy}`);
    assert.equal(final.saved, out);

    // The saved folder: TensorFlow.js's layers format, compiled again on load, same weights.
    const json = JSON.parse(readFileSync(path.join(out, 'model.json'), 'utf8'));
    assert.equal(json.format, 'layers-model');
    assert.equal(json.modelTopology.training_config.optimizer_config.class_name, 'Adam');
    assert.equal(json.userDefinedMetadata.epochs, 5);
    const { model, epochs } = loadModelFolder(out);
    assert.equal(epochs, 5);
    assert.equal(model.compiled!.losses[0]!.kind, 'sparse_categorical_crossentropy');
    assert.equal(model.optimizer!.learningRate, 0.02);
    const summary = strata('summary', out, '--json');
    assert.equal(JSON.parse(summary.stdout).total_params, 4 * 8 + 8 + 8 * 3 + 3);

    // Training goes on from the saved folder, its epochs counted on from the saved 5.
    const again = strata('train', out, '--data', data, '--epochs', '1', '--json');
    assert.equal(again.code, 0, again.stderr);
    const first = JSON.parse(again.stdout.split('\n')[0]!);
    assert.equal(first.epoch, 6);
    assert.ok(first.loss <= lines[4].loss * 1.5, `resumed loss ${first.loss} vs ${lines[4].loss}`);
  });

  test('--validation-data test validates on the test split after every epoch', () => {
    const { code, stdout, stderr } = strata('train', MODEL, '--data', data, '--epochs', '2', '--validation-data', 'test', '--seed', '1', '--json');
    assert.equal(code, 0, stderr);
    const lines = stdout.trim().split('\n').map((l) => JSON.parse(l));
    assert.ok('val_accuracy' in lines[1]);
    assert.ok(Math.abs(lines[1].val_accuracy - lines[2].test_accuracy) < 1e-6, 'the last epoch\'s validation is the test evaluation');
  });

  test('the same --seed gives the same run, initial weights included', () => {
    const run = () => strata('train', MODEL, '--data', data, '--epochs', '2', '--seed', '7', '--json').stdout.split('\n').slice(0, 2).map((l) => JSON.parse(l).loss);
    assert.deepEqual(run(), run());
  });

  test('a loss that becomes NaN ends with one line naming the epoch and batch', () => {
    const { code, stderr } = strata('train', MODEL, '--data', data, '--optimizer', 'sgd', '--learning-rate', '1e30', '--json');
    assert.equal(code, 1);
    assert.match(stderr, /^strata: tiny: the loss became (NaN|Infinity) at epoch 1, batch \d+ of 10 .*learning rate too high/);
    assert.equal(stderr.trim().split('\n').length, 1);
  });

  test('missing data and a wrong device are one-line errors', () => {
    const missing = strata('train', 'examples/fashion-mnist-classifier.ts', '--data', 'no/such.npz');
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /^strata: --data no\/such\.npz: no such file or folder/);
    const mismatch = strata('train', MODEL, '--data', 'fashion-mnist', '--epochs', '1');
    assert.equal(mismatch.code, 1);
    assert.match(mismatch.stderr, /^strata: train split of \/usr\/share\/datasets\/fashion-mnist: x\[0\] has shape \(60000, 28, 28, 1\); tiny's input "h_input" takes \(None, 4\)\n$/);
    const device = strata('train', 'examples/fashion-mnist-classifier.ts', '--data', 'fashion-mnist', '--device', 'tpu');
    assert.match(device.stderr, /^strata: --device must be cpu, cuda or auto, got 'tpu'/);
    const status = loadNativeEngine().cudaStatus();
    if (!status.available) {  // --device cuda says in one line why it cannot run here
      const cuda = strata('train', 'examples/fashion-mnist-classifier.ts', '--data', 'fashion-mnist', '--device', 'cuda');
      assert.equal(cuda.code, 1);
      assert.equal(cuda.stderr, `strata: --device cuda: ${status.reason}\n`);
    }
  });

  test('a model whose Normalization was never adapted (saved so) is refused in one line naming the layer; adapted, it trains', () => {
    const x = Input({ shape: [4], name: 'features' });
    const norm = new Normalization({ name: 'norm' });
    const model = new Model({ inputs: x, outputs: new layers.Dense(3, { activation: 'softmax', name: 'probs' }).apply(norm.apply(x)), name: 'normalized' });
    model.compile({ optimizer: 'adam', loss: 'sparse_categorical_crossentropy', metrics: ['accuracy'] });
    const unadapted = path.join(dir, 'unadapted');
    saveModel(model, unadapted);
    const refused = strata('train', unadapted, '--data', data, '--epochs', '1');
    assert.equal(refused.code, 1);
    assert.equal(refused.stderr, 'strata: norm (Normalization): has no mean and variance; call its adapt() on the training features before fit (layer.adapt(x)), or give mean and variance\n');
    norm.adapt(readNpz(data).x_train!);
    const adapted = path.join(dir, 'adapted');
    saveModel(model, adapted);
    const trained = strata('train', adapted, '--data', data, '--epochs', '1', '--json');
    assert.equal(trained.code, 0, trained.stderr);
  });
});

test("a model of two outputs keeps each output's loss and weight when a flag recompiles it (--learning-rate), in training and in the run", () => {
  const project = mkdtempSync(path.join(tmpdir(), 'strata-two-losses-'));
  try {
    const result = strata('train', 'test/fixtures/models/two-losses.ts', '--learning-rate', '0.01', '--epochs', '1', '--threads', '1', '--project', project, '--json');
    assert.equal(result.code, 0, result.stderr);
    const final = JSON.parse(result.stdout.trim().split('\n').at(-1)!) as { run: string };
    const run = JSON.parse(readFileSync(path.join(project, 'runs', final.run, 'run.json'), 'utf8'));
    assert.deepEqual(run.settings.compile.outputs, [
      { output: 'p', loss: 'binary_crossentropy', fromLogits: false, weight: 1, metrics: ['accuracy'] },
      { output: 'q', loss: 'mean_squared_error', fromLogits: false, weight: 0.5, metrics: [] },
    ]);
    assert.equal(run.settings.compile.optimizer.config.learning_rate, 0.01);
    const [loss, p, q] = ['loss', 'p_loss', 'q_loss'].map((name) => run.history[name].at(-1) as number);
    assert.ok(Math.abs(loss! - (p! + 0.5 * q!)) < 1e-3 * loss!, `loss ${loss} = p_loss ${p} + 0.5 q_loss ${q}`);
  } finally {
    rmSync(project, { recursive: true, force: true });
  }
});

test('a regression model compiled with mae and RootMeanSquaredError: strata train prints them, their val_ twins and the test split\'s, and the saved folder keeps them', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'strata-train-mae-'));
  try {
    const rng = new RandomGenerator(4);
    const make = (n: number) => {
      const x = Float32Array.from({ length: n * 3 }, () => rng.uniform());
      const y = Float32Array.from({ length: n }, (_, i) => 2 + 3 * x[i * 3]! - x[i * 3 + 1]!);
      return [ndarray('float32', [n, 3], x), ndarray('float32', [n, 1], y)] as const;
    };
    const [xTrain, yTrain] = make(200);
    const [xTest, yTest] = make(50);
    writeNpz(path.join(dir, 'data.npz'), { x_train: xTrain, y_train: yTrain, x_test: xTest, y_test: yTest });
    const input = Input({ shape: [3] });
    const model = new Model({ inputs: input, outputs: new layers.Dense(1).apply(input) });
    model.compile({ optimizer: 'adam', loss: 'mse', metrics: ['mae', { className: 'RootMeanSquaredError' }] });
    saveModel(model, path.join(dir, 'model'));
    const out = path.join(dir, 'trained');
    const { code, stdout, stderr } = strata('train', path.join(dir, 'model'), '--data', path.join(dir, 'data.npz'), '--epochs', '2', '--validation-split', '0.2', '--json', '--out', out);
    assert.equal(code, 0, stderr);
    const lines = stdout.trim().split('\n').map((l) => JSON.parse(l));
    assert.deepEqual(Object.keys(lines[0]).sort(), ['epoch', 'loss', 'mae', 'root_mean_squared_error', 'seconds', 'val_loss', 'val_mae', 'val_root_mean_squared_error']);
    // RootMeanSquaredError is the root of the mean squared error, which is this loss
    assert.ok(Math.abs(lines[0].root_mean_squared_error ** 2 - lines[0].loss) < 1e-4 * lines[0].loss, `rmse ${lines[0].root_mean_squared_error}, loss ${lines[0].loss}`);
    const final = lines.at(-1);
    assert.ok(typeof final.test_mae === 'number' && typeof final.test_root_mean_squared_error === 'number', JSON.stringify(final));
    assert.deepEqual(loadModelFolder(out).model.compiled!.losses[0]!.metrics.map((m) => m.name), ['mae', 'root_mean_squared_error']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
