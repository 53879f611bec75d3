// Keras's training workflow on the native engine: compile, fit with validation and
// callbacks, evaluate, predict; weights flow back into the model; NaN stops training with
// a message; the seed Functional model learns a task that needs both of its inputs.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import {
  CustomCallback, Dense, EarlyStopping, EngineBackend, Input, LearningRateScheduler, Model, ReduceLROnPlateau, Sequential, TerminateOnNaN, layers, optimizers, setRandomSeed,
  CSVLogger, ModelCheckpoint, loadModelFolder, saveModel, type ArrayData, type Logs,
} from '../../app/node.ts';
import { loadNativeEngine, type NativeBatch, type NativeTensor, type TrainingSession } from '../../app/engine/binding.ts';
import { batches, makeDataset } from '../../app/data/dataset.ts';
import type { NdArray } from '../../app/data/ndarray.ts';
import { RandomGenerator } from '../../app/model/random.ts';
import { relativeError } from '../translate/compare.ts';

const quiet = new EngineBackend({ write: () => {} });
// Bit-for-bit comparisons pin the thread count: the default (auto) follows the machine's load,
// and the test runner trains in two files at once.
const pinned = new EngineBackend({ write: () => {}, numThreads: 0 });

/** Two Gaussian blobs per class in 6 dimensions: learnable, not trivially. */
function blobs(n: number, seed: number): { x: ArrayData; y: ArrayData } {
  const rng = new RandomGenerator(seed);
  const x = new Float32Array(n * 6);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const label = i % 3;
    y[i] = label;
    for (let j = 0; j < 6; j++) x[i * 6 + j] = rng.normal() * 0.7 + (j % 3 === label ? 1.5 : 0);
  }
  return { x: { dtype: 'float32', shape: [n, 6], data: x }, y: { dtype: 'int32', shape: [n], data: y } };
}

function classifier(): Sequential {
  setRandomSeed(11);
  const model = new Sequential([new Dense(16, { inputShape: [6], activation: 'relu', name: 'hidden' }), new Dense(3, { activation: 'softmax', name: 'probs' })], { name: 'blobs' });
  model.compile({ optimizer: new optimizers.Adam({ learningRate: 0.01 }), loss: 'sparse_categorical_crossentropy', metrics: ['accuracy'] });
  return model;
}

describe('fit / evaluate / predict on the engine', () => {
  test('fit learns, logs Keras metrics with validation, calls callbacks, and weights flow back', async () => {
    const model = classifier();
    const { x, y } = blobs(600, 1);
    const before = model.getWeights();
    const seen: string[] = [];
    const history = await quiet.fit(model, [x], [y], {
      epochs: 6,
      batchSize: 32,
      validationSplit: 0.2,
      seed: 5,
      callbacks: [new CustomCallback({ onEpochEnd: (epoch: number, logs: Logs) => void seen.push(`${epoch}:${Object.keys(logs).sort().join(',')}`) })],
    });
    assert.deepEqual(history.epoch, [0, 1, 2, 3, 4, 5]);
    assert.deepEqual(Object.keys(history.history).sort(), ['accuracy', 'loss', 'val_accuracy', 'val_loss']);
    assert.equal(seen[0], '0:accuracy,loss,val_accuracy,val_loss');
    const loss = history.history.loss!;
    assert.ok(loss[5]! < loss[0]! * 0.7, `loss ${loss.join(' ')}`);
    assert.ok(history.history.val_accuracy![5]! > 0.85, `val_accuracy ${history.history.val_accuracy!.join(' ')}`);
    assert.ok(model.getWeights().every((w, i) => w.some((v, j) => v !== before[i]![j])), 'every weight trained');
    // evaluate() agrees with the last epoch's validation numbers on the same rows.
    const valX = { ...x, shape: [120, 6], data: (x.data as Float32Array).subarray(480 * 6) };
    const valY = { ...y, shape: [120], data: (y.data as Int32Array).subarray(480) };
    const evaluated = await quiet.evaluate(model, [valX], [valY], {});
    assert.ok(Math.abs(evaluated.loss! - history.history.val_loss![5]!) < 1e-5);
    assert.ok(Math.abs(evaluated.accuracy! - history.history.val_accuracy![5]!) < 1e-6);
  });

  test('model.predict on the engine ({runtime: \'native\'}) agrees with onnxruntime to 1e-5', async () => {
    const model = classifier();
    const { x, y } = blobs(200, 2);
    await quiet.fit(model, [x], [y], { epochs: 2, seed: 1 });
    const engine = (await model.predict(x, { batchSize: 64, runtime: 'native' })) as ArrayData;
    const ort = (await model.predict(x, { batchSize: 64 })) as ArrayData;
    assert.deepEqual(engine.shape, [200, 3]);
    assert.ok(relativeError(engine.data, ort.data) <= 1e-5, `relative error ${relativeError(engine.data, ort.data)}`);
    await assert.rejects(model.predict(x, { runtime: 'tpu' }), /no inference backend named "tpu"; registered: onnxruntime, native/);
  });

  test('model.fit() runs on the registered engine; EarlyStopping and ReduceLROnPlateau steer it', async () => {
    const model = classifier();
    const { x, y } = blobs(300, 3);
    // Validation labels that cannot be learned: val_loss stops improving at once.
    const noise = blobs(90, 4);
    (noise.y.data as Int32Array).reverse();
    const stopper = new EarlyStopping({ monitor: 'val_loss', patience: 2, restoreBestWeights: true });
    const reducer = new ReduceLROnPlateau({ monitor: 'val_loss', factor: 0.5, patience: 1 });
    const history = await model.fit(x, y, { epochs: 30, validationData: [noise.x, noise.y], callbacks: [stopper, reducer], verbose: 0, seed: 2 });
    assert.ok(history.epoch.length < 30, `stopped after ${history.epoch.length} epochs`);
    assert.ok(stopper.stoppedEpoch > 0);
    assert.ok(model.optimizer!.learningRate < 0.01, `learning rate ${model.optimizer!.learningRate}`);
  });

  test('LearningRateScheduler sets each epoch\'s learning rate before the epoch trains, and History records it', async () => {
    const { x, y } = blobs(256, 6);
    const rates = [0.05, 0.02, 0.005];
    const sgd = (model: Sequential) => model.compile({ optimizer: new optimizers.SGD({ learningRate: 0.1 }), loss: 'sparse_categorical_crossentropy' });
    const scheduled = classifier();
    sgd(scheduled);
    const history = await pinned.fit(scheduled, [x], [y], { epochs: 3, batchSize: 32, seed: 3, callbacks: [new LearningRateScheduler((epoch) => rates[epoch]!)] });
    assert.deepEqual(history.history.learning_rate, rates);
    // The same epochs one fit() at a time, each with its rate set by hand: the same weights, bit for bit.
    const byHand = classifier();
    sgd(byHand);
    for (let epoch = 0; epoch < 3; epoch++) {
      byHand.optimizer!.learningRate = rates[epoch]!;
      await pinned.fit(byHand, [x], [y], { epochs: epoch + 1, initialEpoch: epoch, batchSize: 32, seed: 3 });
    }
    assert.deepEqual(scheduled.getWeights(), byHand.getWeights());
    const broken = classifier();
    await assert.rejects(
      quiet.fit(broken, [x], [y], { epochs: 2, callbacks: [new LearningRateScheduler((epoch) => (epoch === 1 ? Number.NaN : 0.01))] }),
      /LearningRateScheduler: the schedule returned NaN for epoch 1; it must return a number >= 0/,
    );
  });

  test('a schedule as the optimizer\'s learning rate (Keras\'s PiecewiseConstantDecay) follows the step count, across fit() calls too', async () => {
    const { x, y } = blobs(256, 6);
    const rates = [0.05, 0.02, 0.005];
    // 8 steps per epoch: steps 0-7 at rates[0], 8-15 at rates[1], then rates[2].
    const scheduled = () => {
      const model = classifier();
      model.compile({ optimizer: new optimizers.SGD({ learningRate: new optimizers.schedules.PiecewiseConstantDecay({ boundaries: [7, 15], values: rates }) }), loss: 'sparse_categorical_crossentropy' });
      return model;
    };
    const whole = scheduled();
    await pinned.fit(whole, [x], [y], { epochs: 3, batchSize: 32, seed: 3 });
    assert.equal(whole.optimizer!.learningRate, 0.005, 'the rate of the next step, after 24');
    const resumed = scheduled();
    await pinned.fit(resumed, [x], [y], { epochs: 1, batchSize: 32, seed: 3 });
    await pinned.fit(resumed, [x], [y], { epochs: 3, initialEpoch: 1, batchSize: 32, seed: 3 });
    assert.deepEqual(resumed.getWeights(), whole.getWeights());
    // A saved folder keeps the schedule (Keras's config in training_config) and the step count.
    const dir = mkdtempSync(path.join(tmpdir(), 'strata-schedule-'));
    try {
      const once = scheduled();
      await pinned.fit(once, [x], [y], { epochs: 1, batchSize: 32, seed: 3 });
      saveModel(once, dir, { epochs: 1 });
      const { model: loaded, epochs } = loadModelFolder(dir, readFileSync(path.join(dir, 'model.json'), 'utf8'));
      assert.equal(loaded.optimizer!.schedule?.className, 'PiecewiseConstantDecay');
      assert.equal(loaded.optimizer!.learningRate, 0.02, 'the rate of step 8, the first after the save');
      await pinned.fit(loaded, [x], [y], { epochs: 3, initialEpoch: epochs, batchSize: 32, seed: 3 });
      assert.deepEqual(loaded.getWeights(), whole.getWeights());
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    const byCallback = classifier();
    byCallback.compile({ optimizer: new optimizers.SGD({ learningRate: 0.1 }), loss: 'sparse_categorical_crossentropy' });
    await pinned.fit(byCallback, [x], [y], { epochs: 3, batchSize: 32, seed: 3, callbacks: [new LearningRateScheduler((epoch) => rates[epoch]!)] });
    assert.deepEqual(byCallback.getWeights(), whole.getWeights());
    await assert.rejects(
      pinned.fit(whole, [x], [y], { epochs: 1, callbacks: [new LearningRateScheduler(() => 0.1)] }),
      /SGD: its learning rate is a PiecewiseConstantDecay schedule, so it cannot be set/,
    );
  });

  test('a learning rate a callback sets in onBatchBegin applies from that batch on, as Keras reads it every step', async () => {
    const model = classifier();
    const { x, y } = blobs(256, 7);
    const before = model.getWeights();
    // Near zero from the first batch: the weights must stay where they were.
    const frozen = new CustomCallback({ onBatchBegin: () => void (model.optimizer!.learningRate = 1e-12) });
    await quiet.fit(model, [x], [y], { epochs: 1, batchSize: 32, seed: 1, callbacks: [frozen] });
    const drift = Math.max(...model.getWeights().map((w, i) => Math.max(...w.map((v, j) => Math.abs(v - before[i]![j]!)))));
    assert.ok(drift < 1e-6, `weights moved by ${drift} at a learning rate of 1e-12`);
    const invalid = new CustomCallback({ onBatchBegin: (batch: number) => void (batch === 2 && (model.optimizer!.learningRate = -1)) });
    await assert.rejects(quiet.fit(model, [x], [y], { epochs: 1, batchSize: 32, callbacks: [invalid] }), /blobs: the optimizer's learning rate must be a number >= 0; it was set to -1 during training/);
  });

  test('a NaN loss stops fit with a message naming the epoch and batch; TerminateOnNaN stops it quietly', async () => {
    const model = classifier();
    model.compile({ optimizer: new optimizers.SGD({ learningRate: 1e30 }), loss: 'sparse_categorical_crossentropy' });
    const { x, y } = blobs(256, 5);
    const before = model.getWeights();
    await assert.rejects(
      quiet.fit(model, [x], [y], { epochs: 3, batchSize: 32, seed: 1 }),
      (e: Error) => e.name === 'TrainingError' && /blobs: the loss became (NaN|Infinity) at epoch 1, batch \d+ of 8 .*Usual causes: a learning rate too high/.test(e.message),
    );
    assert.deepEqual(model.getWeights(), before, 'the model keeps the weights of the last complete epoch');
    const terminate = new TerminateOnNaN();
    const history = await quiet.fit(model, [x], [y], { epochs: 3, batchSize: 32, seed: 1, callbacks: [terminate] });
    assert.ok(terminate.terminatedAtBatch !== null);
    assert.ok(history.epoch.length <= 1);
    assert.ok(model.getWeights().every((w) => w.every(Number.isFinite)), 'no NaN weights reach the model');
  });

  test('the seed Functional model learns a two-input task that needs both inputs', async () => {
    setRandomSeed(21);
    const { default: model } = await import('../../examples/purchase-predictor.ts');
    const rng = new RandomGenerator(8);
    const n = 640;
    const image = new Float32Array(n * 64 * 64 * 3);
    const text = new Float32Array(n * 100);
    const label = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      // Each input carries one signal and the label needs their sum: either input alone
      // predicts about 75% of the labels, both together nearly all.
      const a = rng.normal();
      const b = rng.normal();
      for (let k = 0; k < 64 * 64 * 3; k++) image[i * 12288 + k] = 0.5 * a + 0.2 * rng.normal();
      for (let k = 0; k < 100; k++) text[i * 100 + k] = 0.5 * b + 0.2 * rng.normal();
      label[i] = a + b > 0 ? 1 : 0;
    }
    model.compile({ optimizer: 'adam', loss: 'binary_crossentropy', metrics: ['accuracy'] });
    const history = await quiet.fit(
      model,
      [{ dtype: 'float32', shape: [n, 64, 64, 3], data: image }, { dtype: 'float32', shape: [n, 100], data: text }],
      [{ dtype: 'float32', shape: [n], data: label }],
      { epochs: 8, batchSize: 32, validationSplit: 0.25, seed: 3 },
    );
    const valAccuracy = history.history.val_accuracy!;
    // Well above the ~75% that one input alone allows.
    assert.ok(valAccuracy[valAccuracy.length - 1]! >= 0.88, `val_accuracy ${valAccuracy.map((v) => v.toFixed(3)).join(' ')}`);
  });

  test('a model with two outputs logs each output\'s loss and accuracy, and their weighted sum', async () => {
    setRandomSeed(5);
    const x = Input({ shape: [6], name: 'x' });
    const hidden = new Dense(16, { activation: 'relu', name: 'shared' }).apply(x);
    const kind = new Dense(3, { activation: 'softmax', name: 'kind' }).apply(hidden);
    const size = new Dense(1, { name: 'size' }).apply(hidden);
    const model = new Model({ inputs: x, outputs: [kind, size], name: 'two_heads' });
    model.compile({ optimizer: new optimizers.Adam({ learningRate: 0.01 }), loss: { kind: 'sparse_categorical_crossentropy', size: 'mse' }, lossWeights: { kind: 1, size: 0.5 }, metrics: ['accuracy'] });
    const { x: features, y: labels } = blobs(300, 6);
    const sizes: ArrayData = { dtype: 'float32', shape: [300, 1], data: Float32Array.from(labels.data, (v) => v * 0.5) };
    const history = await model.fit({ x: features }, { kind: labels, size: sizes }, { epochs: 4, seed: 2, verbose: 0 });
    assert.deepEqual(Object.keys(history.history).sort(), ['kind_accuracy', 'kind_loss', 'loss', 'size_loss']);
    const last = (key: string) => history.history[key]![3]!;
    assert.ok(Math.abs(last('loss') - (last('kind_loss') + 0.5 * last('size_loss'))) < 1e-4);
    assert.ok(last('kind_accuracy') > 0.8);
  });

  test('the same seed gives the same training, weight for weight', async () => {
    const { x, y } = blobs(200, 9);
    const train = async () => {
      const model = classifier();
      await pinned.fit(model, [x], [y], { epochs: 2, batchSize: 16, seed: 42 });
      return model.getWeights();
    };
    assert.deepEqual(await train(), await train());
  });

  test("fit()'s and evaluate()'s device: cpu trains as the default does here, a wrong name is refused, cuda without a GPU says why", async () => {
    const { x, y } = blobs(120, 4);
    const onCpu = classifier();
    await pinned.fit(onCpu, [x], [y], { epochs: 1, batchSize: 16, seed: 5, device: 'cpu' });
    const byDefault = classifier();
    await pinned.fit(byDefault, [x], [y], { epochs: 1, batchSize: 16, seed: 5 });
    const cuda = loadNativeEngine().cudaStatus();
    if (!cuda.available) assert.deepEqual(onCpu.getWeights(), byDefault.getWeights());
    await assert.rejects(pinned.fit(classifier(), [x], [y], { device: 'gpu' as 'cuda' }), /^ValueError: blobs\.fit\(\) device must be 'auto', 'cpu' or 'cuda', got "gpu"$/);
    if (!cuda.available) {
      const message = `blobs.evaluate() device 'cuda': ${cuda.reason}`;
      await assert.rejects(pinned.evaluate(classifier(), [x], [y], { device: 'cuda' }), (error: Error) => error.name === 'EngineSetupError' && error.message === message);
    }
  });

  test('fit() again continues where it stopped (optimizer moments and step count kept), also from a saved folder', async () => {
    const { x, y } = blobs(160, 10);
    const options = { batchSize: 16, seed: 3 };
    const straight = classifier();
    await pinned.fit(straight, [x], [y], { ...options, epochs: 2 });

    const resumed = classifier();
    await pinned.fit(resumed, [x], [y], { ...options, epochs: 1 });
    assert.ok(resumed.optimizer!.variables!.iterations === 10);
    await pinned.fit(resumed, [x], [y], { ...options, epochs: 2, initialEpoch: 1 });
    assert.deepEqual(resumed.getWeights(), straight.getWeights());

    const dir = mkdtempSync(path.join(tmpdir(), 'strata-resume-'));
    try {
      const once = classifier();
      await pinned.fit(once, [x], [y], { ...options, epochs: 1 });
      saveModel(once, dir, { epochs: 1 });
      const { model: loaded, epochs } = loadModelFolder(dir, readFileSync(path.join(dir, 'model.json'), 'utf8'));
      assert.equal(loaded.optimizer!.variables!.iterations, 10);
      await pinned.fit(loaded, [x], [y], { ...options, epochs: 2, initialEpoch: epochs });
      assert.deepEqual(loaded.getWeights(), straight.getWeights());
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a CNN\'s Flatten + Dense: its kernel and Adam moments flow back in Keras\'s row order', async () => {
    // The engine runs Flatten inside the Dense and keeps the Dense kernel's rows in the
    // activation's memory order (native/core/row_order.h): what reaches the model must be
    // Keras's order again, or a fresh session from those weights (evaluate, a resumed fit)
    // would compute something else. 32 channels: with one block of 16 (or 8), the blocked
    // order would be Keras's own, and the test would prove nothing.
    const images = (n: number, seed: number) => {
      const rng = new RandomGenerator(seed);
      const x = new Float32Array(n * 64);
      const y = new Int32Array(n);
      for (let i = 0; i < n; i++) {
        y[i] = i % 3;
        // class 0 lights the top-left quadrant, 1 the top-right, 2 the bottom-right, in noise
        for (let p = 0; p < 64; p++) x[i * 64 + p] = rng.normal() * 0.5 + ((p % 8 < 4) === (y[i] === 0) && (p < 32) === (y[i] !== 2) ? 1 : 0);
      }
      return { x: { dtype: 'float32', shape: [n, 8, 8, 1], data: x } as ArrayData, y: { dtype: 'int32', shape: [n], data: y } as ArrayData };
    };
    const cnn = () => {
      setRandomSeed(12);
      const model = new Sequential([
        new layers.Conv2D(32, 3, { inputShape: [8, 8, 1], activation: 'relu', name: 'conv' }),
        new layers.MaxPooling2D(2, { name: 'pool' }),
        new layers.Flatten({ name: 'flatten' }),
        new layers.Dense(3, { activation: 'softmax', name: 'probs' }),
      ], { name: 'small_cnn' });
      model.compile({ optimizer: 'adam', loss: 'sparse_categorical_crossentropy', metrics: ['accuracy'] });
      return model;
    };
    const { x, y } = images(240, 13);
    const options = { batchSize: 16, seed: 4 };
    const straight = cnn();
    const history = await pinned.fit(straight, [x], [y], { ...options, epochs: 2, validationSplit: 0.25 });
    const valX = { ...x, shape: [60, 8, 8, 1], data: (x.data as Float32Array).subarray(180 * 64) } as ArrayData;
    const valY = { ...y, shape: [60], data: (y.data as Int32Array).subarray(180) } as ArrayData;
    // a second model given the trained weights evaluates in a session of its own
    const copy = cnn();
    copy.setWeights(straight.getWeights());
    const evaluated = await pinned.evaluate(copy, [valX], [valY], {});
    assert.ok(Math.abs(evaluated.loss! - history.history.val_loss![1]!) < 1e-5, `evaluate ${evaluated.loss} against val_loss ${history.history.val_loss![1]}`);
    // and a saved folder resumes in a new session, with the Adam moments
    const dir = mkdtempSync(path.join(tmpdir(), 'strata-cnn-resume-'));
    try {
      const once = cnn();
      await pinned.fit(once, [x], [y], { ...options, epochs: 1, validationSplit: 0.25 });
      saveModel(once, dir, { epochs: 1 });
      const { model: loaded, epochs } = loadModelFolder(dir, readFileSync(path.join(dir, 'model.json'), 'utf8'));
      await pinned.fit(loaded, [x], [y], { ...options, epochs: 2, initialEpoch: epochs, validationSplit: 0.25 });
      assert.deepEqual(loaded.getWeights(), straight.getWeights());
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('ModelCheckpoint saves the best epochs; CSVLogger writes a row per epoch', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'strata-callbacks-'));
    try {
      const model = classifier();
      const { x, y } = blobs(200, 11);
      const checkpoint = new ModelCheckpoint(path.join(dir, 'ckpt-{epoch:02d}-{val_loss:.3f}'), { monitor: 'val_loss', saveBestOnly: true });
      const logger = new CSVLogger(path.join(dir, 'log.csv'));
      const history = await quiet.fit(model, [x], [y], { epochs: 4, validationSplit: 0.25, seed: 4, callbacks: [checkpoint, logger] });
      const valLoss = history.history.val_loss!;
      const improving = valLoss.filter((v, i) => valLoss.slice(0, i).every((w) => v < w)).length;
      assert.equal(checkpoint.saved.length, improving);
      assert.match(path.basename(checkpoint.saved[0]!), /^ckpt-01-\d\.\d{3}$/);
      const last = loadModelFolder(checkpoint.saved.at(-1)!, readFileSync(path.join(checkpoint.saved.at(-1)!, 'model.json'), 'utf8'));
      assert.equal(last.model.countParams(), model.countParams());
      const csv = readFileSync(path.join(dir, 'log.csv'), 'utf8').trim().split('\n');
      assert.equal(csv[0], 'epoch,accuracy,loss,val_accuracy,val_loss');
      assert.equal(csv.length, 5);
      assert.equal(Number(csv[4]!.split(',')[4]), valLoss[3]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('fit hands the engine each batch once, in the epoch\'s order, the next one staged while a step runs', async () => {
    // Every batch the engine trains on, copied when it is handed over (as the binding copies it).
    const engine = loadNativeEngine();
    const Original = engine.TrainingSession;
    const values = (t: { data: unknown }) => Array.from(t.data as Float32Array);
    const copy = (batch: NativeBatch | undefined) => batch && { x: batch.inputs.map(values), y: batch.targets.map(values), w: batch.sampleWeights?.map(values) };
    const trained: ReturnType<typeof copy>[] = [];
    let staged: ReturnType<typeof copy> = undefined;
    let stagedCalls = 0;
    // The addon's methods are read-only: a subclass records the batches.
    engine.TrainingSession = class extends (Original as unknown as new (...args: ConstructorParameters<typeof Original>) => TrainingSession) {
      override trainStep(inputs: NativeTensor[], targets: NativeTensor[], sampleWeights?: NativeTensor[], next?: NativeBatch) {
        trained.push(copy({ inputs, targets, ...(sampleWeights ? { sampleWeights } : {}) }));
        staged = copy(next);
        return super.trainStep(inputs, targets, sampleWeights, next);
      }
      override trainStaged(next?: NativeBatch) {
        trained.push(staged);
        staged = copy(next);
        stagedCalls++;
        return super.trainStaged(next);
      }
    } as typeof Original;
    const { x, y } = blobs(70, 3);
    try {
      await quiet.fit(classifier(), [x], [y], { epochs: 2, batchSize: 16, seed: 8, classWeight: { 0: 1, 1: 2, 2: 0.5 } });
    } finally {
      engine.TrainingSession = Original;
    }
    const want = [];
    for (const epoch of [0, 1]) {
      // copied as they come: the iterator reuses a shuffled batch's arrays
      for (const b of batches(makeDataset(x as NdArray, y as NdArray), { batchSize: 16, shuffle: true, seed: 8 + epoch })) {
        want.push({ x: b.x.map(values), y: b.y.map(values), w: [Array.from(b.y[0]!.data as Int32Array, (c) => [1, 2, 0.5][c]!)] });
      }
    }
    assert.equal(trained.length, 10);
    assert.equal(stagedCalls, 8, 'every step but the first of an epoch trains on the batch staged before it');
    assert.deepEqual(trained, want);
  });

  test('classWeight weights each sample\'s loss by its class, as Keras', async () => {
    const { x, y } = blobs(96, 7);
    const firstLoss = async (classWeight?: Record<number, number>) => {
      const model = classifier();
      const history = await quiet.fit(model, [x], [y], { epochs: 1, batchSize: 96, seed: 1, ...(classWeight ? { classWeight } : {}) });
      return history.history.loss![0]!;
    };
    const plain = await firstLoss();
    assert.ok(Math.abs((await firstLoss({ 0: 2, 1: 2, 2: 2 })) - 2 * plain) < 1e-5);
    // Only class 0 counts: the loss is the mean over all rows of class 0's losses.
    const onlyZero = await firstLoss({ 0: 3, 1: 0, 2: 0 });
    assert.ok(onlyZero > 0 && Math.abs(onlyZero - plain * 3) > 1e-3);
    await assert.rejects(firstLoss({ 0: 1, 1: 1 }), /classWeight has no weight for class 2; give one for every class 0\.\.2/);
  });

  test('compile errors name the problem', () => {
    const a = Input({ shape: [2], name: 'a' });
    const model = new Model({ inputs: a, outputs: [new Dense(1, { name: 'p' }).apply(a), new Dense(2, { name: 'q' }).apply(a)] });
    assert.throws(() => model.compile({ loss: 'hinge' }), /unknown loss "hinge"/);
    assert.throws(() => model.compile({ loss: ['mse'] }), /loss has 1 entries, the model has 2 outputs \(p, q\)/);
    assert.throws(() => model.compile({ loss: { p: 'mse', r: 'mse' } }), /loss names "r", which is not an output/);
    assert.throws(() => model.compile({ loss: 'mse', metrics: ['f1'] }), /unknown metric "f1" for output "[^"]+"; supported: 'accuracy'\/'acc', 'mae'/);
    assert.throws(() => model.compile({ loss: 'mse', optimizer: 'adagrad' }), /unknown optimizer "adagrad"/);
    // An object that is neither an instance nor Keras's {class_name, config} was a TypeError from deep inside.
    assert.throws(() => model.compile({ loss: 'mse', optimizer: { className: 'Adam' } as never }), /expected an optimizer name such as 'adam'.*got \{"className":"Adam"\}/);
    model.compile({ loss: 'mse', optimizer: { class_name: 'Adam', config: { learning_rate: 0.05 } } });
    assert.equal(model.compiled!.optimizer.getConfig().learning_rate, 0.05);
    model.compile({ loss: { p: 'binary_crossentropy', q: 'sparse_categorical_crossentropy' }, lossWeights: [1, 0.5], metrics: ['accuracy'] });
    assert.deepEqual(model.compiled!.losses.map((l) => [l.output, l.kind, l.weight, l.metrics]), [
      ['p', 'binary_crossentropy', 1, [{ kind: 'binary_accuracy', name: 'accuracy' }]],
      ['q', 'sparse_categorical_crossentropy', 0.5, [{ kind: 'sparse_categorical_accuracy', name: 'accuracy' }]],
    ]);
    void layers;
  });
});
