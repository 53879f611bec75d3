// `strata export --format pytorch`, checked with the system's PyTorch (/usr/bin/python3, torch
// 1.13): the package's predictions equal Strata's (onnxruntime) to 1e-5 on every example
// model and on models that use every layer class with its options (asymmetric "same"
// padding, grouped, depthwise and separable convolutions, nested and shared layers); train.py
// reports the loss Strata's fit() reports on the same batch, before and after one update of
// each optimizer (also through augmentation layers with pinned ranges, whose backward the update
// crosses); a 2-process torchrun with gloo trains; bad arguments are one-line errors. The
// augmentation layers' train() mode: pytorch_augment.test.ts.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  EngineBackend, Input, Layer, Model, OnnxRuntimeBackend, constraints, layers, losses, metrics, optimizers, readNpz, regularizers, registeredClassNames, setRandomSeed, writeNpy,
  type ArrayData, type Shape,
} from '../../app/node.ts';
import { loadModel } from '../../app/cli/load_model.ts';
import { exportPytorch, PYTORCH_LAYERS } from '../../app/export/pytorch.ts';
import { RandomGenerator } from '../../app/model/random.ts';
import { augmentLayerCases } from '../translate/models.ts';
import { maxDifference } from '../translate/compare.ts';
import { attentionLayers, augmentationLayers, mergeLayers, graphLayers, imageClassifier, imageLayers, moreImageLayers, preprocessingLayers, recurrentLayers, sequenceLayers, timeLayers, transposedConvolutions } from './models.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
const PYTHON = '/usr/bin/python3';
const RUNNER = fileURLToPath(new URL('./torch_runner.py', import.meta.url));
const scratch = mkdtempSync(path.join(tmpdir(), 'strata-export-pytorch-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

/** Writes the package for `model` into a fresh folder under the scratch folder. */
function writePackage(model: Model, name: string): string {
  const dir = mkdtempSync(path.join(scratch, `${name}-`));
  for (const [file, contents] of Object.entries(exportPytorch(model, `${name}.ts`).files)) writeFileSync(path.join(dir, file), contents);
  return dir;
}

/**
 * Every weight drawn again, so that layouts and biases matter: kernels with variance 1/fan-in
 * (outputs neither vanish nor saturate), vectors around 0.2, moving variances positive.
 */
function randomizeWeights(model: Model, seed: number): void {
  const rng = new RandomGenerator(seed);
  const scale = (shape: readonly number[]) => (shape.length >= 2 ? 1 / Math.sqrt(shape.slice(0, -1).reduce((a, b) => a * b, 1)) : 0.2);
  model.setWeights(model.weights.map((w) => Float32Array.from(w.value, () => (w.name === 'moving_variance' ? 0.5 + rng.uniform() : scale(w.shape) * rng.normal()))));
}

/** A batch for each input: normal floats, or token ids below the smallest vocabulary for int32 inputs. */
function randomBatch(model: Model, batch: number, seed: number, maxId = 10): ArrayData[] {
  const rng = new RandomGenerator(seed);
  return model.inputs.map((t) => {
    const shape = [batch, ...(t.shape.slice(1) as number[])];
    const size = shape.reduce((a, b) => a * b, 1);
    const int = (t.sourceLayer as { dtype?: string }).dtype === 'int32';
    return int
      ? { dtype: 'int32', shape, data: Int32Array.from({ length: size }, () => Math.floor(rng.uniform() * maxId)) }
      : { dtype: 'float32', shape, data: Float32Array.from({ length: size }, () => rng.normal()) };
  });
}

function run(command: string, args: string[], cwd = root) {
  const result = spawnSync(command, args, { cwd, encoding: 'utf8', timeout: 300_000 });
  return { status: result.status, stdout: result.stdout ?? '', stderr: result.stderr ?? '' };
}

const EXAMPLES = readdirSync(path.join(root, 'examples')).filter((f) => f.endsWith('.ts')).sort();

describe('strata export --format pytorch', () => {
  test('has a module for every layer class Strata reads', () => {
    assert.deepEqual([...PYTORCH_LAYERS, 'InputLayer'].sort(), registeredClassNames());
  });

  test("the package's predictions equal Strata's to 1e-5 on the examples and on every layer class", async (t) => {
    const models: { name: string; model: Model }[] = [];
    for (const file of EXAMPLES) models.push({ name: file.replace(/\.ts$/, ''), model: await loadModel(path.join(root, 'examples', file)) });
    setRandomSeed(3);
    models.push(
      { name: 'image_layers', model: imageLayers() },
      { name: 'sequence_layers', model: sequenceLayers() },
      { name: 'graph_layers', model: graphLayers() },
      { name: 'recurrent_layers', model: recurrentLayers() },
      { name: 'more_image_layers', model: moreImageLayers() },
      { name: 'attention_layers', model: attentionLayers() },
      { name: 'transposed_convolutions', model: transposedConvolutions() },
      { name: 'preprocessing_layers', model: preprocessingLayers() },
      { name: 'augmentation_layers', model: augmentationLayers() },
      { name: 'image_augmentation', model: augmentLayerCases().find((m) => m.name === 'image_augmentation')! },
      { name: 'merge_layers', model: mergeLayers() },
      { name: 'time_layers', model: timeLayers() },
    );
    const runtime = new OnnxRuntimeBackend();
    const jobs = [];
    const expected: ArrayData[][] = [];
    for (const [i, { name, model }] of models.entries()) {
      randomizeWeights(model, 100 + i);
      const dir = writePackage(model, name);
      const inputs = randomBatch(model, 3, 200 + i);
      const files = inputs.map((x, k) => {
        const file = path.join(dir, `input_${k}.npy`);
        writeNpy(file, x);
        return file;
      });
      expected.push(await runtime.predict(model, inputs, {}));
      jobs.push({ package: dir, inputs: files, outputs: path.join(dir, 'outputs.npz') });
    }
    const jobsFile = path.join(scratch, 'jobs.json');
    writeFileSync(jobsFile, JSON.stringify(jobs));
    const result = run(PYTHON, [RUNNER, jobsFile]);
    assert.equal(result.status, 0, result.stderr);
    for (const [i, { name }] of models.entries()) {
      const outputs = readNpz(jobs[i]!.outputs);
      expected[i]!.forEach((want, k) => {
        const got = outputs[`arr_${k}`]!;
        assert.deepEqual(got.shape, want.shape, `${name} output ${k}`);
        const difference = maxDifference(got.data as Float32Array, want.data);
        const spread = Math.max(...want.data) - Math.min(...want.data);
        t.diagnostic(`${name} output ${k}: max |torch - strata| = ${difference.toExponential(2)}, outputs spread over ${spread.toPrecision(3)}`);
        assert.ok(spread > 1e-3, `${name} output ${k}: the outputs are (nearly) constant, which would prove little`);
        // 1e-5, relative to the outputs' spread where that exceeds 1 (the Normalization with random statistics reaches ~50)
        assert.ok(difference <= 1e-5 * Math.max(1, spread), `${name} output ${k}: ${difference}`);
      });
    }
  });
});

/** A compiled model, a batch for it (x and y) and the optimizer the case checks. */
interface TrainingCase {
  name: string;
  build(): Model;
  targets(model: Model, batch: number, rng: RandomGenerator): ArrayData[];
}

const classIds = (classes: number) => (_model: Model, batch: number, rng: RandomGenerator): ArrayData[] => [{ dtype: 'int32', shape: [batch], data: Int32Array.from({ length: batch }, () => Math.floor(rng.uniform() * classes)) }];

const TRAINING_CASES: TrainingCase[] = [
  {
    name: 'lenet5 with SGD (Nesterov momentum), sparse categorical cross-entropy',
    build: () => {
      const model = imageClassifier();
      model.compile({ optimizer: new optimizers.SGD({ learningRate: 0.05, momentum: 0.9, nesterov: true }), loss: 'sparse_categorical_crossentropy', metrics: ['accuracy'] });
      return model;
    },
    targets: classIds(4),
  },
  {
    name: 'a residual block with BatchNormalization and Adam',
    build: () => {
      const image = Input({ shape: [8, 8, 3], name: 'image' });
      const stem = new layers.Conv2D(4, 3, { padding: 'same', activation: 'relu', name: 'stem' }).apply(image);
      const h = new layers.BatchNormalization({ name: 'bn' }).apply(new layers.Conv2D(4, 3, { padding: 'same', useBias: false, name: 'conv' }).apply(stem));
      const x = new layers.GlobalAveragePooling2D({ name: 'pool' }).apply(layers.add([stem, h], { name: 'residual' }));
      const model = new Model({ inputs: image, outputs: new layers.Dense(3, { activation: 'softmax', name: 'probabilities' }).apply(x), name: 'residual' });
      model.compile({ optimizer: new optimizers.Adam({ learningRate: 0.01 }), loss: 'sparse_categorical_crossentropy' });
      return model;
    },
    targets: classIds(3),
  },
  {
    name: 'two inputs, binary cross-entropy and centered RMSprop with momentum',
    build: () => {
      const a = Input({ shape: [5], name: 'a' });
      const b = Input({ shape: [3], name: 'b' });
      const joined = layers.concatenate([new layers.Dense(4, { activation: 'tanh', name: 'da' }).apply(a), new layers.Dense(4, { activation: 'relu', name: 'db' }).apply(b)], { name: 'join' });
      const model = new Model({ inputs: [a, b], outputs: new layers.Dense(1, { activation: 'sigmoid', name: 'buys' }).apply(joined), name: 'two_inputs' });
      model.compile({ optimizer: new optimizers.RMSprop({ learningRate: 0.01, momentum: 0.5, centered: true }), loss: 'binary_crossentropy', metrics: ['accuracy'] });
      return model;
    },
    targets: (_model, batch, rng) => [{ dtype: 'float32', shape: [batch, 1], data: Float32Array.from({ length: batch }, () => (rng.uniform() < 0.5 ? 0 : 1)) }],
  },
  {
    name: 'two outputs with loss weights: categorical cross-entropy from logits and MAE, AdamW on a decaying schedule, accuracy, mse and RMSE',
    build: () => {
      const x = Input({ shape: [6], name: 'x' });
      const h = new layers.Dense(8, { activation: 'elu', name: 'hidden' }).apply(x);
      const logits = new layers.Dense(3, { name: 'logits' }).apply(h);
      const value = new layers.Dense(2, { name: 'value' }).apply(h);
      const model = new Model({ inputs: x, outputs: [logits, value], name: 'two_outputs' });
      const learningRate = new optimizers.schedules.ExponentialDecay({ initialLearningRate: 0.02, decaySteps: 1, decayRate: 0.5 });
      model.compile({
        optimizer: new optimizers.AdamW({ learningRate, weightDecay: 0.1 }),
        loss: [new losses.CategoricalCrossentropy({ fromLogits: true }), 'mean_absolute_error'],
        lossWeights: [1, 0.5],
        metrics: { logits: ['accuracy'], value: ['mse', new metrics.RootMeanSquaredError()] },
      });
      return model;
    },
    targets: (_model, batch, rng) => [
      { dtype: 'float32', shape: [batch, 3], data: Float32Array.from({ length: batch * 3 }, (_, i) => (i % 3 === Math.floor(i / 3) % 3 ? 1 : 0)) },
      { dtype: 'float32', shape: [batch, 2], data: Float32Array.from({ length: batch * 2 }, () => rng.normal()) },
    ],
  },
  {
    name: 'regularizers, constraints (over Keras axes of a Conv1D and a Dense kernel) and activity penalties, with SGD',
    build: () => {
      const steps = Input({ shape: [5, 3], name: 'steps' });
      let x = new layers.Conv1D(4, 2, { kernelRegularizer: 'l2', kernelConstraint: constraints.unitNorm({ axis: [0, 1] }), activation: 'tanh', name: 'conv' }).apply(steps);
      x = new layers.Flatten({ name: 'flat' }).apply(x);
      x = new layers.Dense(8, {
        activation: 'relu', kernelRegularizer: regularizers.l1L2({ l1: 0.01, l2: 0.02 }), biasRegularizer: 'l2', activityRegularizer: regularizers.l1(0.001),
        kernelConstraint: constraints.maxNorm({ maxValue: 0.5 }), biasConstraint: 'non_neg', name: 'hidden',
      }).apply(x);
      x = new layers.ActivityRegularization({ l2: 0.01, name: 'penalty' }).apply(x);
      x = new layers.Dense(6, { kernelConstraint: constraints.minMaxNorm({ minValue: 0.2, maxValue: 0.8, rate: 0.5, axis: 0 }), name: 'mixed' }).apply(x);
      const model = new Model({ inputs: steps, outputs: new layers.Dense(3, { activation: 'softmax', name: 'probabilities' }).apply(x), name: 'regularized' });
      model.compile({ optimizer: new optimizers.SGD({ learningRate: 0.2 }), loss: 'sparse_categorical_crossentropy' });
      return model;
    },
    targets: classIds(3),
  },
  {
    name: 'augmentation layers with pinned ranges after a convolution, whose update goes back through them, with SGD',
    build: () => {
      const image = Input({ shape: [7, 9, 2], name: 'image' });
      let x = new layers.Conv2D(3, 3, { padding: 'same', activation: 'tanh', name: 'conv' }).apply(image);
      x = new layers.RandomTranslation([0.2, 0.2], [-0.3, -0.3], { name: 'shift' }).apply(x);
      x = new layers.RandomZoom([0.3, 0.3], { widthFactor: [-0.2, -0.2], fillMode: 'wrap', interpolation: 'nearest', name: 'zoom' }).apply(x);
      x = new layers.RandomRotation([0.1, 0.1], { fillMode: 'constant', fillValue: 0.5, name: 'turn' }).apply(x);
      const model = new Model({ inputs: image, outputs: new layers.Dense(3, { activation: 'softmax', name: 'probabilities' }).apply(new layers.Flatten({ name: 'flat' }).apply(x)), name: 'augmented' });
      model.compile({ optimizer: new optimizers.SGD({ learningRate: 0.5 }), loss: 'sparse_categorical_crossentropy' });
      return model;
    },
    targets: classIds(3),
  },
];

/** The epoch values of a log name ('loss', 'value_mse') train.py prints. */
function printed(stdout: string, name = 'loss'): number[] {
  return [...stdout.matchAll(new RegExp(String.raw`^epoch \d+/\d+ .* - ${name}: ([-+.\de]+)`, 'gm'))].map((m) => Number(m[1]));
}

/** Writes the arrays as .npy files in `dir`; returns their paths. */
function writeArrays(dir: string, prefix: string, arrays: ArrayData[]): string[] {
  return arrays.map((array, k) => {
    const file = path.join(dir, `${prefix}_${k}.npy`);
    writeNpy(file, array);
    return file;
  });
}

describe('train.py', () => {
  const engine = new EngineBackend({ write: () => {}, numThreads: 1 });
  const BATCH = 16;

  for (const [i, trainingCase] of TRAINING_CASES.entries()) {
    test(`reports Strata's loss on the same batch before and after one step: ${trainingCase.name}`, async (t) => {
      setRandomSeed(40 + i);
      const model = trainingCase.build();
      const dir = writePackage(model, `train_${i}`);
      const rng = new RandomGenerator(60 + i);
      const x = randomBatch(model, BATCH, 50 + i);
      const y = trainingCase.targets(model, BATCH, rng);
      const xFiles = writeArrays(dir, 'x', x);
      const yFiles = writeArrays(dir, 'y', y);
      const history = await engine.fit(model, x, y, { epochs: 2, batchSize: BATCH, shuffle: false, verbose: 0, seed: 1 });
      const result = run(PYTHON, ['train.py', '--x', ...xFiles, '--y', ...yFiles, '--epochs', '2', '--batch-size', String(BATCH), '--no-shuffle', '--device', 'cpu', '--out', 'trained.pt'], dir);
      assert.equal(result.status, 0, result.stderr);
      const torchLosses = printed(result.stdout);
      const strataLosses = history.history.loss!;
      t.diagnostic(`strata ${strataLosses.join(', ')}; torch ${torchLosses.join(', ')}`);
      assert.equal(torchLosses.length, 2, result.stdout);
      assert.ok(Math.abs(torchLosses[0]! - strataLosses[0]!) <= 1e-5 * Math.max(1, Math.abs(strataLosses[0]!)), `first step: torch ${torchLosses[0]}, strata ${strataLosses[0]}`);
      assert.ok(Math.abs(torchLosses[1]! - strataLosses[1]!) <= 1e-5 * Math.max(1, Math.abs(strataLosses[1]!)), `after one update: torch ${torchLosses[1]}, strata ${strataLosses[1]}`);
      assert.notEqual(torchLosses[0], torchLosses[1], 'the step changed the weights');
      for (const name of Object.keys(history.history).filter((key) => key !== 'loss' && !key.endsWith('_loss'))) {
        const [torch, strata] = [printed(result.stdout, name), history.history[name]!];
        t.diagnostic(`${name}: strata ${strata.join(', ')}; torch ${torch.join(', ')}`);
        assert.equal(torch.length, 2, `train.py prints ${name} each epoch:\n${result.stdout}`);
        torch.forEach((value, epoch) => assert.ok(Math.abs(value - strata[epoch]!) <= 1e-5 * Math.max(1, Math.abs(strata[epoch]!)), `${name}, epoch ${epoch + 1}: torch ${value}, strata ${strata[epoch]}`));
      }
    });
  }
});

describe('train.py under torchrun', () => {
  test('two processes with DistributedDataParallel (gloo) train a few steps and rank 0 saves the weights', () => {
    setRandomSeed(7);
    const model = imageClassifier();
    model.compile({ optimizer: 'adam', loss: 'sparse_categorical_crossentropy', metrics: ['accuracy'] });
    const dir = writePackage(model, 'torchrun');
    const rng = new RandomGenerator(8);
    const xFiles = writeArrays(dir, 'x', randomBatch(model, 32, 9));
    const yFiles = writeArrays(dir, 'y', classIds(4)(model, 32, rng));
    // --redirects and --tee: Debian's torch 1.13 under Python 3.11 cannot parse their defaults.
    const args = ['--standalone', '--nproc_per_node=2', '--redirects', '1', '--tee', '1', 'train.py', '--x', ...xFiles, '--y', ...yFiles, '--epochs', '2', '--batch-size', '8', '--steps', '3', '--device', 'cpu', '--out', 'trained.pt'];
    const result = run('/usr/bin/torchrun', args, dir);
    assert.equal(result.status, 0, `${result.stdout}\n${result.stderr}`);
    // 32 samples, 4 per process and step: 4 steps an epoch; --steps 3 stops in the first.
    assert.match(result.stdout, /^\[default0\]:epoch 1\/2 - 3 steps - loss: [\d.]+/m);
    assert.doesNotMatch(result.stdout, /epoch 2\/2/);
    assert.doesNotMatch(result.stdout + result.stderr, /Grad strides/);
    const compare = [
      'import sys, torch; from weights import load_safetensors',
      "before, after = load_safetensors('weights.safetensors'), torch.load('trained.pt')",
      'assert before.keys() == after.keys(), (before.keys(), after.keys())',
      "print(max(float((before[k] - after[k]).abs().max()) for k in before))",
    ].join('\n');
    const moved = run(PYTHON, ['-c', compare], dir);
    assert.equal(moved.status, 0, moved.stderr);
    assert.ok(Number(moved.stdout) > 0, `the weights moved by ${moved.stdout}`);
  });
});

describe('strata export: arguments and refusals', () => {
  function strata(...args: string[]) {
    return run(process.execPath, [path.join(root, 'app', 'cli', 'strata.js'), 'export', ...args], scratch);
  }
  const example = path.join(root, 'examples', 'mlp.ts');

  test('writes the package with the given batch size and epochs, and train.py --help runs', () => {
    const out = path.join(scratch, 'cli-package');
    const result = strata(example, '--format', 'pytorch', '--out', out, '--batch-size', '64', '--epochs', '3');
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stderr, /^wrote .*cli-package \(a PyTorch package/);
    assert.deepEqual(readdirSync(out).sort(), ['__init__.py', 'arrays.py', 'keras_attention.py', 'keras_augment.py', 'keras_layers.py', 'keras_recurrent.py', 'keras_training.py', 'model.py', 'train.py', 'weights.py', 'weights.safetensors']);
    const train = readFileSync(path.join(out, 'train.py'), 'utf8');
    assert.match(train, /^BATCH_SIZE = 64$/m);
    assert.match(train, /^EPOCHS = 3$/m);
    assert.match(train, /it has none: those `strata train` picks/);
    const help = run(PYTHON, ['train.py', '--help'], out);
    assert.equal(help.status, 0, help.stderr);
    assert.match(help.stdout, /--batch-size BATCH_SIZE\s+the global batch size \(default 64\)/);
  });

  test('--format keras writes the script, its data reader and its weights', () => {
    const out = path.join(scratch, 'cli-keras');
    const result = strata(example, '--format', 'keras', '--out', out, '--batch-size', '16');
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stderr, /^wrote .*cli-keras \(a Keras script/);
    assert.deepEqual(readdirSync(out).sort(), ['arrays.py', 'model.py', 'weights.npz']);
    assert.match(readFileSync(path.join(out, 'model.py'), 'utf8'), /^BATCH_SIZE = 16$/m);
  });

  for (const [args, message] of [
    [['--format', 'tensorflow', '--out', 'x'], "--format must be one of onnx, pytorch, keras, got 'tensorflow'"],
    [['--format', 'pytorch'], '--format pytorch writes a folder: give it with --out DIR'],
    [['--format', 'pytorch', '--out', 'x', '-o', 'y.onnx'], '-o is for --format onnx'],
    [['--out', 'x'], '--format onnx needs -o FILE (.onnx, .keras or .h5'],
    [['-o', 'model.pt'], 'model.pt: unknown output format ".pt"; give a .onnx, .keras or .h5 file name'],
    [['--format', 'keras', '--out', 'x', '--epochs', '0'], "--epochs must be an integer >= 1, got '0'"],
  ] as const) {
    test(`refuses ${args.join(' ')} with one line`, () => {
      const result = strata(example, ...args);
      assert.equal(result.status, 1);
      assert.ok(result.stderr.startsWith(`strata: ${message}`), result.stderr);
      assert.equal(result.stderr.trim().split('\n').length, 1, result.stderr);
    });
  }

  test('refuses a layer class it has no module for, naming the layer and the class', () => {
    class Cube extends Layer {
      static override className = 'Cube';
      computeOutputShapes(shapes: Shape[]): Shape[] {
        return [[...shapes[0]!]];
      }
    }
    const x = Input({ shape: [3], name: 'x' });
    const model = new Model({ inputs: x, outputs: new Cube({ name: 'cube' }).apply(new layers.Dense(3, { name: 'd' }).apply(x)) });
    assert.throws(() => exportPytorch(model, 'cube.ts'), /^ValueError: cube: the PyTorch export has no module for layer class Cube; it writes Dense, Conv2D/);
  });
});
