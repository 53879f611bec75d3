// Training in the engine process (app/host/training.ts), driven as the contract drives it, in
// this process: a data preview and a shape mismatch named before any run exists; a run's
// events (every step once, each epoch, the end) and its folder; Stop before the next step
// with the last step's weights kept, Resume with the optimizer's state; evaluation and
// prediction on the checkpoint; a run the CLI resumes and one it writes, read back here.
// The data are made by the test: 4 features, 3 classes the tiny classifier learns.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import type { RunRecord, TrainingEvent, TrainingSettings } from '../../app/contract/training.ts';
import { batchCount } from '../../app/data/dataset.ts';
import { type NdArray, ndarray } from '../../app/data/ndarray.ts';
import { formatNpy } from '../../app/data/npy.ts';
import { writeNpz } from '../../app/data/npz.ts';
import { DocumentStore } from '../../app/host/documents.ts';
import { regressionValues } from '../../app/host/regression.ts';
import { TrainingService, defaultThreads } from '../../app/host/training.ts';
import { EngineBackend } from '../../app/engine/trainer.ts';
import { loadModelFolder } from '../../app/io/model_store.ts';
import { CHECKPOINT_FOLDER, HISTORY_FILE, readRun, runFolder } from '../../app/io/runs.ts';
import { RandomGenerator } from '../../app/model/random.ts';
import { ROOT } from './foreign_models.ts';
import { rejection, scratchFolder } from './helpers.ts';

const MODEL = path.join(ROOT, 'test/fixtures/models/tiny-classifier.ts'); // 4 features, 3 classes
const scratch = scratchFolder('training');

/** n samples of 4 features in 3 separable classes. */
function arrays(n: number, seed = 5) {
  const rng = new RandomGenerator(seed);
  const x = new Float32Array(n * 4);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    y[i] = i % 3;
    for (let j = 0; j < 4; j++) x[i * 4 + j] = rng.normal() * 0.5 + (j === i % 3 ? 2 : 0);
  }
  return { x: ndarray('float32', [n, 4], x), y: ndarray('int32', [n], y) };
}

const small = path.join(scratch, 'small.npz');
const { x: trainX, y: trainY } = arrays(600);
const { x: testX, y: testY } = arrays(90, 9);
writeNpz(small, { x_train: trainX, y_train: trainY, x_test: testX, y_test: testY });
const large = path.join(scratch, 'large.npz');
writeNpz(large, arrays(40_000, 7) as unknown as Record<string, ReturnType<typeof ndarray>>);

async function service() {
  const store = new DocumentStore();
  const document = await store.open(MODEL);
  const events: TrainingEvent[] = [];
  const listeners = new Set<(event: TrainingEvent) => void>();
  const training = new TrainingService(store, (event) => {
    events.push(event);
    listeners.forEach((listener) => listener(event));
  });
  /** Resolves with the first event that matches. */
  const next = (match: (event: TrainingEvent) => boolean) =>
    new Promise<TrainingEvent>((resolve) => {
      const listener = (event: TrainingEvent) => {
        if (!match(event)) return;
        listeners.delete(listener);
        resolve(event);
      };
      listeners.add(listener);
    });
  const ended = (runId: string) => next((e) => e.kind === 'ended' && e.run.id === runId).then((e) => (e as Extract<TrainingEvent, { kind: 'ended' }>).run);
  return { training, store, documentId: document.id, events, next, ended };
}

async function settingsFor(training: TrainingService, documentId: string, changes: (s: TrainingSettings) => void): Promise<TrainingSettings> {
  const settings = await training.defaults(documentId);
  settings.data = { kind: 'path', path: small };
  settings.threads = 1;
  settings.fit.seed = 11;
  changes(settings);
  return settings;
}

/** A model file (from the repository root) trained to its end with the settings `prepare` returns: the service, the project, the run's record. */
async function trainedFileRun(file: string, folder: string, prepare: (training: TrainingService, documentId: string) => Promise<TrainingSettings>) {
  const store = new DocumentStore();
  const document = await store.open(path.join(ROOT, file));
  let finished: (event: TrainingEvent) => void = () => {};
  const training = new TrainingService(store, (event) => event.kind === 'ended' && finished(event));
  const settings = await prepare(training, document.id);
  const project = scratchFolder(folder);
  const ended = new Promise<TrainingEvent>((resolve) => (finished = resolve));
  await training.start(document.id, project, settings);
  const record = (await ended as Extract<TrainingEvent, { kind: 'ended' }>).run;
  return { training, project, record, settings };
}

test('defaults are Keras\'s, with the model file\'s own compile(): Adam at 0.02, sparse categorical cross-entropy, accuracy; 1 epoch of batch 32', async () => {
  const { training, documentId } = await service();
  const settings = await training.defaults(documentId);
  assert.deepEqual(settings.compile, { optimizer: { class_name: 'Adam', config: { learning_rate: 0.02, beta_1: 0.9, beta_2: 0.999, epsilon: 1e-7 } }, loss: 'sparse_categorical_crossentropy', fromLogits: false, metrics: ['accuracy'] });
  assert.deepEqual(settings.fit, { epochs: 1, batchSize: 32, shuffle: true, validation: { kind: 'none' }, seed: null, callbacks: { earlyStopping: null, modelCheckpoint: null, reduceLrOnPlateau: null } });
  assert.equal(settings.threads, defaultThreads());
});

test('the engine\'s threads in the app: one on two cores or fewer (the window keeps a core), auto with more', () => {
  assert.deepEqual([1, 2, 3, 16].map((cores) => defaultThreads(cores)), [1, 1, 'auto', 'auto']);
});

test('the preview gives each split\'s size, shapes, value range and class counts, and samples with their labels', async () => {
  const { training, documentId } = await service();
  const preview = await training.preview(documentId, await settingsFor(training, documentId, (s) => (s.fit.validation = { kind: 'split', fraction: 0.25 })));
  assert.equal(preview.mismatch, null);
  assert.deepEqual(preview.splits.map((s) => [s.name, s.size, s.x[0]!.shape, s.y[0]!.dtype, s.classCounts]), [
    ['train', 450, [450, 4], 'int32', [150, 150, 150]],
    ['validation', 150, [150, 4], 'int32', [50, 50, 50]],
    ['test', 90, [90, 4], 'int32', [30, 30, 30]],
  ]);
  assert.ok(preview.splits[0]!.x[0]!.min < 0 && preview.splits[0]!.x[0]!.max > 2);
  assert.deepEqual(preview.samples.slice(0, 3).map((s) => s.label), ['0', '1', '2']);
  assert.deepEqual(preview.samples[0]!.values, Array.from(trainX.data.subarray(0, 4)));
});

test('data that does not fit the model is named before any run exists, with both shapes; start refuses it the same way', async () => {
  const { training, documentId } = await service();
  const wide = path.join(scratch, 'wide.npz');
  writeNpz(wide, { x: ndarray('float32', [10, 5], new Float32Array(50)), y: ndarray('int32', [10], new Int32Array(10)) });
  const settings = await settingsFor(training, documentId, (s) => (s.data = { kind: 'path', path: wide }));
  const preview = await training.preview(documentId, settings);
  assert.match(preview.mismatch!, /x\[0\] has shape \(10, 5\); tiny's input "h_input" takes \(None, 4\)/);
  const project = scratchFolder('mismatch');
  const error = await rejection(training.start(documentId, project, settings));
  assert.match(error.name, /ValueError$/);
  assert.match(error.message, /\(10, 5\).*\(None, 4\)/);
  assert.equal(existsSync(path.join(project, 'runs')), false, 'no run was created');
});

test('a checkpoint cadence that is not a whole number of epochs or "none" is refused before any run exists', async () => {
  const { training, documentId } = await service();
  for (const every of [0, 1.5, 'sometimes']) {
    const project = scratchFolder('cadence');
    const settings = await settingsFor(training, documentId, (s) => (s.fit.checkpointEvery = every as never));
    const error = await rejection(training.start(documentId, project, settings));
    assert.match(error.message, /^fit\.checkpointEvery must be a whole number of epochs >= 1 or "none", got /);
    assert.equal(existsSync(path.join(project, 'runs')), false, 'no run was created');
  }
});

test('a callback monitoring a metric the run does not log is refused before the run starts, naming what it logs', async () => {
  const { training, documentId } = await service();
  const settings = await settingsFor(training, documentId, (s) => (s.fit.callbacks.earlyStopping = { monitor: 'val_loss', patience: 1, minDelta: 0, restoreBestWeights: false }));
  const error = await rejection(training.start(documentId, scratchFolder('monitor'), settings));
  assert.match(error.message, /early stopping: monitor "val_loss" is not a metric this run logs \(loss, accuracy\); val_ metrics need validation data/);
});

test('a run streams every step once (throttled), each epoch and its end; its folder holds run.json, history.csv and the checkpoint', async () => {
  const { training, documentId, events, next, ended } = await service();
  const project = scratchFolder('run');
  const settings = await settingsFor(training, documentId, (s) => {
    s.fit.epochs = 2;
    s.fit.validation = { kind: 'split', fraction: 0.2 };
  });
  const started = await training.start(documentId, project, settings);
  const steps = batchCount(480, 32);
  // The checkpoint after the first epoch holds that epoch's optimizer state (what a crash there would resume from).
  const afterFirst = next((e) => e.kind === 'epoch' && e.epoch === 0).then(() => checkpointIterations(project, started.id));
  const run = await ended(started.id);
  assert.equal(run.status, 'finished');
  assert.equal(await afterFirst, steps);
  const batches = events.filter((e): e is Extract<TrainingEvent, { kind: 'batch' }> => e.kind === 'batch');
  const xs = batches.flatMap((e) => e.points.x);
  assert.deepEqual(xs, [...Array(2 * steps).keys()].map((i) => Math.floor(i / steps) + ((i % steps) + 1) / steps), 'every step, once, in order');
  assert.deepEqual(events.filter((e) => e.kind === 'epoch').map((e) => (e as { epoch: number }).epoch), [0, 1]);
  assert.deepEqual(Object.keys(run.history).sort(), ['accuracy', 'loss', 'val_accuracy', 'val_loss']);
  assert.ok(run.test!.accuracy! > 0.9, `test accuracy ${run.test!.accuracy}`);
  // Each step's own loss, weighted by its samples, averages to the epoch's loss (Keras's running mean at its end).
  for (let epoch = 0; epoch < 2; epoch++) {
    const own = run.batches.values.loss!.slice(epoch * steps, (epoch + 1) * steps);
    const sizes = own.map((_, i) => (i === steps - 1 ? 480 - 32 * (steps - 1) : 32));
    const mean = own.reduce((sum, v, i) => sum + v * sizes[i]!, 0) / 480;
    assert.ok(Math.abs(mean - run.history.loss![epoch]!) < 1e-5, `epoch ${epoch}: ${mean} vs ${run.history.loss![epoch]}`);
  }
  const onDisk = readRun(project, run.id);
  assert.deepEqual(onDisk.history, run.history);
  assert.equal(onDisk.process, null);
  assert.equal(readFileSync(path.join(runFolder(project, run.id), HISTORY_FILE), 'utf8').trim().split('\n').length, 3);
  assert.ok(existsSync(path.join(runFolder(project, run.id), CHECKPOINT_FOLDER, 'model.json')));
  assert.deepEqual(training.list(project).runs.map((r) => [r.id, r.status]), [[run.id, 'finished']]);
});

test('a project trains its model as edited (unsaved changes included), its runs name the project; a broken edit is named before any run exists', async () => {
  const { training, store, documentId, ended } = await service();
  const project = store.edit(documentId); // the model file opened for editing, not saved yet
  const edited = structuredClone(project.model) as unknown as { config: { layers: { config: { name: string; units?: number } }[] } };
  const hidden = edited.config.layers.find((layer) => layer.config.name === 'h')!;
  hidden.config.units = 16;
  const json = edited as unknown as typeof project.model;
  const settings = await settingsFor(training, project.id, () => {});
  Object.assign(settings, { ...(await training.defaults(project.id, json)), data: settings.data, threads: 1 });
  assert.equal((await training.preview(project.id, settings, json)).mismatch, null);
  const folder = scratchFolder('edited-project');
  const started = await training.start(project.id, folder, settings, json);
  const run = await ended(started.id);
  assert.equal(run.status, 'finished');
  assert.equal(run.model.params, 4 * 16 + 16 + 16 * 3 + 3, 'the edited model (16 hidden units, not the file\'s 8) trained');
  assert.equal(run.model.source, project.title);
  assert.deepEqual(training.list(folder).runs.map((r) => r.id), [run.id]);

  hidden.config.units = -3;
  const error = await rejection(training.start(project.id, scratchFolder('broken-edit'), settings, json));
  assert.match(error.message, /^cannot train tiny-classifier\.ts: .*\bh\b.*units/);
});

test('Stop ends a run before its next step, keeping the last step\'s weights; Resume goes on from that step with the optimizer\'s state', async () => {
  const { training, documentId, next, ended } = await service();
  const project = scratchFolder('stop');
  const settings = await settingsFor(training, documentId, (s) => {
    s.data = { kind: 'path', path: large };
    s.fit.epochs = 3;
    s.fit.batchSize = 64;
  });
  const started = await training.start(documentId, project, settings);
  const steps = batchCount(40_000, 64);
  const inSecond = (await next((e) => e.kind === 'batch' && e.epoch === 1 && e.step > 0)) as Extract<TrainingEvent, { kind: 'batch' }>;
  training.stop(started.id);
  assert.equal((await rejection(training.start(documentId, project, settings))).message.includes('is training'), true);
  const stopped = await ended(started.id);
  assert.equal(stopped.status, 'stopped');
  assert.equal(stopped.epochs, 1);
  assert.equal(stopped.stoppedAt!.epoch, 1);
  // The step in progress when Stop came finishes; no other starts.
  assert.ok(stopped.stoppedAt!.step >= inSecond.step && stopped.stoppedAt!.step <= inSecond.step + 2, `stopped at ${stopped.stoppedAt!.step}, asked after ${inSecond.step}`);
  assert.equal(stopped.batches.x.length, steps + stopped.stoppedAt!.step, 'the partial epoch\'s steps are kept');
  assert.match(stopped.message!, new RegExp(`stopped in epoch 2/3 after step ${stopped.stoppedAt!.step}/${steps}`));
  assert.equal(checkpointIterations(project, started.id), steps + stopped.stoppedAt!.step, 'the checkpoint holds the last finished step');

  const resumed = await training.resume(project, started.id);
  const finished = await ended(resumed.id);
  assert.equal(finished.status, 'finished');
  assert.equal(finished.epochs, 3);
  assert.equal(finished.history.loss!.length, 3);
  assert.equal(finished.batches.x.length, 3 * steps, 'the interrupted epoch went on from its step');
  assert.deepEqual(finished.batches.x, [...Array(3 * steps).keys()].map((i) => Math.floor(i / steps) + ((i % steps) + 1) / steps), 'every step once, in order');
  // The optimizer went on counting from the checkpoint's steps (its state came with it), and ran each step once.
  assert.equal(checkpointIterations(project, started.id), 3 * steps);
  assert.match((await rejection(training.resume(project, started.id))).message, /is finished: only a stopped run can be resumed/);
});

test('evaluation on the test split: metrics, a confusion matrix that counts every sample, per-class scores, and samples by index', async () => {
  const { training, documentId, ended } = await service();
  const project = scratchFolder('evaluate');
  const run = await ended((await training.start(documentId, project, await settingsFor(training, documentId, (s) => (s.fit.epochs = 2)))).id);
  const { outputs, metrics, split } = await training.evaluate(project, run.id);
  assert.equal(split, 'test');
  assert.equal(outputs.length, 1);
  const evaluation = outputs[0]!;
  assert.ok(evaluation.kind === 'classifier');
  assert.ok(Math.abs(metrics.accuracy! - run.test!.accuracy!) < 1e-6);
  assert.equal(evaluation.confusion.flat().reduce((a, b) => a + b, 0), 90);
  assert.deepEqual(evaluation.confusion.map((row) => row.reduce((a, b) => a + b, 0)), [30, 30, 30]);
  const correct = evaluation.truth.filter((t, i) => t === evaluation.predicted[i]).length;
  assert.ok(Math.abs(correct / 90 - metrics.accuracy!) < 1e-6, 'the predictions are the ones the accuracy counts');
  assert.deepEqual(evaluation.perClass.map((c) => c.support), [30, 30, 30]);
  assert.ok(evaluation.confidence.every((p) => p >= 1 / 3 && p <= 1));
  const samples = await training.samples(project, run.id, [0, 89]);
  assert.deepEqual(samples.map((s) => [s.index, s.label, s.values]), [
    [0, '0', Array.from(testX.data.subarray(0, 4))],
    [89, '2', Array.from(testX.data.subarray(89 * 4, 90 * 4))],
  ]);
  assert.match((await rejection(training.samples(project, run.id, [90]))).message, /sample 90 is outside the 90 held-out samples/);
});

test('a regression model (mean squared error) is evaluated as one: its predictions against the targets with MAE, RMSE and R², not as classes', async () => {
  const { training, project, record, settings } = await trainedFileRun('test/fixtures/models/prices-regression.ts', 'regression-project', async (training, id) => {
    const settings = await training.defaults(id);
    assert.equal(settings.compile.loss, 'mean_squared_error');
    settings.compile.metrics = ['mae', { class_name: 'RootMeanSquaredError', config: { name: 'root_mean_squared_error' } }];
    settings.fit.epochs = 30;
    settings.fit.seed = 4;
    settings.threads = 1;
    return settings;
  });
  assert.equal(record.status, 'finished');
  assert.deepEqual(Object.keys(record.history).sort(), ['loss', 'mae', 'root_mean_squared_error'], 'the chosen metrics are logged and kept in the run');
  assert.deepEqual(readRun(project, record.id).settings.compile.metrics, settings.compile.metrics);
  const { outputs: [evaluation], metrics } = await training.evaluate(project, record.id);
  assert.ok(evaluation?.kind === 'regression', `evaluated as ${evaluation?.kind}`);
  // Evaluate's metrics are evaluate()'s logs: the run's metrics on the held-out data, the same as Strata's own errors
  assert.ok(Math.abs(metrics.mae! - evaluation.mae) < 1e-4 * evaluation.mae, `mae ${metrics.mae} vs ${evaluation.mae}`);
  assert.equal(evaluation.width, 1);
  assert.equal(evaluation.truth.length, 100);
  assert.equal(evaluation.predicted.length, 100);
  assert.ok(evaluation.truth.every((t) => t >= 15 && t <= 31), 'the targets as given, not class ids');
  // Keras's loss on the same predictions: the mean squared error is RMSE squared.
  assert.ok(Math.abs(evaluation.rmse ** 2 - metrics.loss!) < 1e-3 * metrics.loss! + 1e-4, `${evaluation.rmse ** 2} vs ${metrics.loss}`);
  assert.ok(evaluation.r2 !== null && evaluation.r2 > 0.8, `R² ${evaluation.r2}, MAE ${evaluation.mae}`);
});

test("a model of two outputs trains with each output's loss and weight (Keras's loss={...}, loss_weights={...}), kept in the run", async () => {
  const { project, record, settings } = await trainedFileRun('test/fixtures/models/two-losses.ts', 'two-losses', async (training, id) => {
    const settings = await training.defaults(id);
    assert.deepEqual(settings.compile.outputs, [
      { output: 'p', loss: 'binary_crossentropy', fromLogits: false, weight: 1, metrics: ['accuracy'] },
      { output: 'q', loss: 'mean_squared_error', fromLogits: false, weight: 0.5, metrics: [] },
    ]);
    settings.compile.outputs![1]!.metrics = ['mae'];
    settings.threads = 1;
    settings.fit.seed = 2;
    return settings;
  });
  assert.equal(record.status, 'finished', record.message ?? '');
  assert.deepEqual(readRun(project, record.id).settings.compile.outputs, settings.compile.outputs);
  // The checkpoint was trained (and saved) with a loss each: 'q' is not scored by binary crossentropy.
  const trained = loadModelFolder(path.join(runFolder(project, record.id), CHECKPOINT_FOLDER)).model;
  assert.deepEqual(trained.compiled!.losses.map((l) => [l.output, l.kind, l.weight]), [['p', 'binary_crossentropy', 1], ['q', 'mean_squared_error', 0.5]]);
  assert.deepEqual(Object.keys(record.history).sort(), ['loss', 'p_accuracy', 'p_loss', 'q_loss', 'q_mae'], 'each output logs the metrics chosen for it');
  const [loss, p, q] = [record.history.loss!.at(-1)!, record.history.p_loss!.at(-1)!, record.history.q_loss!.at(-1)!];
  assert.ok(Math.abs(loss - (p + 0.5 * q)) < 1e-3 * loss, `loss ${loss} = p_loss ${p} + 0.5 q_loss ${q}`);
});

test('Evaluate reads each output by its own loss: a sigmoid output trained with binary crossentropy as classes, a value trained with mean squared error as a regression', async () => {
  const { training, project, record: run } = await trainedFileRun('test/fixtures/models/two-losses.ts', 'two-losses-evaluate', async (training, id) => {
    const settings = await training.defaults(id);
    settings.threads = 1;
    settings.fit.epochs = 3;
    return settings;
  });
  assert.equal(run.status, 'finished');
  const { metrics, outputs } = await training.evaluate(project, run.id);
  assert.deepEqual(outputs.map((o) => [o.output, o.kind]), [['p', 'classifier'], ['q', 'regression']]);
  const [p, q] = outputs;
  assert.ok(p?.kind === 'classifier' && q?.kind === 'regression');
  assert.equal(p.truth.length, 32);
  assert.ok(Math.abs(p.truth.filter((t, i) => t === p.predicted[i]).length / 32 - metrics.p_accuracy!) < 1e-6, 'the classes are the ones p_accuracy counts');
  assert.ok(Math.abs(q.rmse ** 2 - metrics.q_loss!) < 1e-3 * metrics.q_loss! + 1e-5, `q: RMSE² ${q.rmse ** 2}, q_loss ${metrics.q_loss}`);
});

test('a classifier trained on logits (from_logits: true): Evaluate and Predict show probabilities, not logits', async () => {
  const { training, project, record: run, settings } = await trainedFileRun('test/fixtures/models/tiny-logits-classifier.ts', 'logits', (training, id) => settingsFor(training, id, (s) => (s.fit.epochs = 2)));
  assert.equal(settings.compile.fromLogits, true);
  assert.equal(run.status, 'finished');
  const { metrics, outputs: [evaluation] } = await training.evaluate(project, run.id);
  assert.ok(evaluation?.kind === 'classifier');
  assert.ok(evaluation.confidence.every((p) => p >= 1 / 3 - 1e-6 && p <= 1), 'probabilities of the predicted class');
  assert.ok(Math.abs(evaluation.truth.filter((t, i) => t === evaluation.predicted[i]).length / 90 - metrics.accuracy!) < 1e-6);
  const [prediction] = await training.predict(project, run.id, [{ name: 'one.csv', bytes: new TextEncoder().encode('0,2,0,0\n') }]);
  assert.equal(prediction?.top.length, 3);
  assert.ok(Math.abs(prediction!.top.reduce((sum, c) => sum + c.probability, 0) - 1) < 1e-5, 'the top classes are softmax probabilities');
});

test('regression errors: MAE, RMSE and R² over every value; R² is null where the targets do not vary; a shape that does not match is named', () => {
  const values = regressionValues(ndarray('float32', [3, 1], Float32Array.from([1, 2, 3])), ndarray('float32', [3, 1], Float32Array.from([1, 2, 5])));
  assert.deepEqual([values.width, values.truth, values.predicted], [1, [1, 2, 3], [1, 2, 5]]);
  assert.ok(Math.abs(values.mae - 2 / 3) < 1e-12 && Math.abs(values.rmse - Math.sqrt(4 / 3)) < 1e-12);
  assert.equal(values.r2, -1);
  assert.equal(regressionValues(ndarray('float32', [2, 1], Float32Array.from([4, 4])), ndarray('float32', [2, 1], Float32Array.from([4, 5]))).r2, null);
  assert.throws(() => regressionValues(ndarray('float32', [2, 2], new Float32Array(4)), ndarray('float32', [2, 1], new Float32Array(2))), /the model predicts 1 values a sample \(shape \[1\]\), the targets have 2/);
});

test('prediction on files the user picked (.npy rows, CSV rows): the top classes of each, named by file and row; a bad file is named', async () => {
  const { training, documentId, ended } = await service();
  const project = scratchFolder('predict');
  const run = await ended((await training.start(documentId, project, await settingsFor(training, documentId, (s) => (s.fit.epochs = 2)))).id);
  const rows = ndarray('float32', [2, 4], new Float32Array([2, 0, 0, 0, 0, 0, 2, 0]));
  const predictions = await training.predict(project, run.id, [
    { name: 'two.npy', bytes: formatNpy(rows) },
    { name: 'one.csv', bytes: new TextEncoder().encode('a,b,c,d\n0,2,0,0\n') },
  ]);
  assert.deepEqual(predictions.map((p) => [p.name, p.output, p.top[0]!.classId]), [['two.npy [0]', 'probs', 0], ['two.npy [1]', 'probs', 2], ['one.csv', 'probs', 1]]);
  for (const prediction of predictions) {
    assert.equal(prediction.top.length, 3);
    assert.ok(Math.abs(prediction.top.reduce((sum, c) => sum + c.probability, 0) - 1) < 1e-5);
  }
  const error = await rejection(training.predict(project, run.id, [{ name: 'wide.csv', bytes: new TextEncoder().encode('1,2,3,4,5,6\n') }]));
  assert.match(error.message, /^wide\.csv: 6 feature columns, input 'h_input' takes 4/);
  assert.doesNotMatch(error.message, /strata-predict-/, 'the error names the file as the user picked it');
});

const TWO_BY_TWO = path.join(ROOT, 'test/fixtures/models/two-input-two-output.ts'); // inputs a (4), b (3); sigmoid outputs buy, churn

/** A run of the two-input, two-output model, one epoch on its own data with the given loss (for both outputs). */
async function twoByTwoRun(loss: string) {
  const store = new DocumentStore();
  const document = await store.open(TWO_BY_TWO);
  let finished: (run: RunRecord) => void;
  const ended = new Promise<RunRecord>((resolve) => (finished = resolve));
  const training = new TrainingService(store, (event) => event.kind === 'ended' && finished(event.run));
  const settings = await training.defaults(document.id);
  assert.deepEqual(settings.data, { kind: 'model-file', file: TWO_BY_TWO });
  settings.threads = 1;
  settings.fit.seed = 3;
  settings.compile.loss = loss;
  settings.compile.outputs = settings.compile.outputs!.map((output) => ({ ...output, loss }));
  const project = scratchFolder('predict-two');
  await training.start(document.id, project, settings);
  const run = await ended;
  assert.equal(run.status, 'finished', run.message);
  return { training, project, run };
}

const npyFile = (name: string, rows: number[][], input?: string) => ({ name, bytes: formatNpy(ndarray('float32', [rows.length, rows[0]!.length], new Float32Array(rows.flat()))), ...(input ? { input } : {}) });
const A_ROWS = [[2, -1, 0, 0], [-2, 1, 0, 0]];
const B_ROWS = [[1, 0, 0], [-1, 0, 0]];

test('a model of two inputs and two outputs predicts from one file per input: each output\'s top classes, output by output, as the model computes them', async () => {
  const { training, project, run } = await twoByTwoRun('binary_crossentropy');
  assert.deepEqual(training.signature(project, run.id), { inputs: [{ name: 'a', shape: [null, 4] }, { name: 'b', shape: [null, 3] }], outputs: [{ name: 'buy', shape: [null, 1] }, { name: 'churn', shape: [null, 1] }] });
  // b's file first: files reach their inputs by name, not by order.
  const predictions = await training.predict(project, run.id, [npyFile('b.npy', B_ROWS, 'b'), { name: 'a.csv', bytes: new TextEncoder().encode(A_ROWS.map((row) => row.join(',')).join('\n')), input: 'a' }]);
  assert.deepEqual(predictions.map((p) => [p.output, p.name]), [['buy', 'a.csv + b.npy [0]'], ['buy', 'a.csv + b.npy [1]'], ['churn', 'a.csv + b.npy [0]'], ['churn', 'a.csv + b.npy [1]']]);
  const { model } = loadModelFolder(path.join(runFolder(project, run.id), CHECKPOINT_FOLDER));
  // The native engine's forward pass, beside onnxruntime's that Predict runs.
  const engine = new EngineBackend({ backend: 'cpu', numThreads: 1, write: () => {}, interactive: false });
  const [buy, churn] = (await engine.predict(model, [ndarray('float32', [2, 4], new Float32Array(A_ROWS.flat())), ndarray('float32', [2, 3], new Float32Array(B_ROWS.flat()))], {})) as NdArray[];
  const expected = [...buy!.data, ...churn!.data] as number[];
  predictions.forEach((prediction, i) => {
    assert.equal(prediction.values, undefined, 'a sigmoid output trained with cross-entropy is a classifier');
    assert.deepEqual(prediction.top.map((c) => c.label).sort(), ['0', '1']);
    const yes = prediction.top.find((c) => c.classId === 1)!.probability;
    assert.ok(Math.abs(yes - expected[i]!) < 1e-5, `${prediction.output} ${prediction.name}: ${yes} vs the model's ${expected[i]}`);
  });
});

test('a model of two inputs refuses files it cannot pair: counts that differ (naming both inputs), an unknown input, a file for no input, an input without a file', async () => {
  const { training, project, run } = await twoByTwoRun('binary_crossentropy');
  const a = npyFile('a.npy', A_ROWS, 'a');
  const mismatch = await rejection(training.predict(project, run.id, [a, npyFile('b.npy', [...B_ROWS, [0, 0, 0]], 'b')]));
  assert.equal(mismatch.message, "input 'a' (a.npy) has 2 samples, input 'b' (b.npy) has 3 samples: the files of the inputs must have as many samples each");
  assert.equal((await rejection(training.predict(project, run.id, [a, npyFile('c.npy', B_ROWS, 'c')]))).message, "c.npy: the model has no input 'c'; its inputs are: a, b");
  assert.equal((await rejection(training.predict(project, run.id, [a, npyFile('b.npy', B_ROWS)]))).message, 'b.npy: say which input it feeds; the model has 2 inputs (a, b), one file each');
  assert.equal((await rejection(training.predict(project, run.id, [a]))).message, "no file for input 'b' (None, 3); the model takes one file per input (a, b)");
  assert.equal((await rejection(training.predict(project, run.id, [a, npyFile('a2.npy', A_ROWS, 'a'), npyFile('b.npy', B_ROWS, 'b')]))).message, "input 'a' was given 2 files (a.npy, a2.npy); the model takes one file per input");
});

test('an output not trained as a classifier (mean squared error) shows its values', async () => {
  const { training, project, run } = await twoByTwoRun('mean_squared_error');
  const predictions = await training.predict(project, run.id, [npyFile('a.npy', A_ROWS.slice(0, 1), 'a'), npyFile('b.npy', B_ROWS.slice(0, 1), 'b')]);
  assert.deepEqual(predictions.map((p) => [p.output, p.name, p.top, p.values!.length]), [['buy', 'a.npy + b.npy', [], 1], ['churn', 'a.npy + b.npy', [], 1]]);
});

test('a run the app stopped, `strata train --resume` finishes; a run `strata train --project` writes, the app lists and evaluates', async () => {
  const { training, documentId, next, ended } = await service();
  const project = scratchFolder('parity');
  const settings = await settingsFor(training, documentId, (s) => {
    s.data = { kind: 'path', path: large };
    s.fit.epochs = 2;
    s.fit.batchSize = 128;
  });
  const started = await training.start(documentId, project, settings);
  await next((e) => e.kind === 'batch' && e.step > 2);
  training.stop(started.id);
  assert.equal((await ended(started.id)).status, 'stopped');
  const resumed = strata('train', '--project', project, '--resume', started.id, '--json');
  assert.equal(resumed.status, 0, resumed.stderr);
  assert.deepEqual(
    training.list(project).runs.map((r) => [r.id, r.status, r.epochs, r.writer]),
    [[started.id, 'finished', 2, 'app']],
  );

  const cli = strata('train', MODEL, '--data', small, '--epochs', '2', '--validation-split', '0.2', '--seed', '3', '--threads', '1', '--project', project, '--json');
  assert.equal(cli.status, 0, cli.stderr);
  const final = JSON.parse(cli.stdout.trim().split('\n').at(-1)!) as { run: string; test_accuracy: number };
  const listed = training.list(project).runs.find((r) => r.id === final.run)!;
  assert.equal(listed.writer, 'cli');
  assert.equal(listed.status, 'finished');
  assert.deepEqual(listed.settings.fit.validation, { kind: 'split', fraction: 0.2 });
  assert.equal(listed.test!.accuracy, final.test_accuracy);
  assert.equal((await training.evaluate(project, final.run)).metrics.accuracy, final.test_accuracy);

  // --settings takes a run's settings: the same seed, threads and data give the same run.
  const again = strata('train', MODEL, '--settings', path.join(runFolder(project, final.run), 'run.json'), '--project', project, '--json');
  assert.equal(again.status, 0, again.stderr);
  const second = training.list(project).runs.find((r) => r.id === JSON.parse(again.stdout.trim().split('\n').at(-1)!).run)!;
  assert.deepEqual(second.settings, listed.settings);
  assert.deepEqual(second.history, listed.history);
});

test('a run is deleted with its folder; the run training now cannot be', async () => {
  const { training, documentId, next, ended } = await service();
  const project = scratchFolder('delete');
  const settings = await settingsFor(training, documentId, (s) => (s.data = { kind: 'path', path: large }));
  const started = await training.start(documentId, project, settings);
  await next((e) => e.kind === 'batch');
  assert.match((await rejection(Promise.resolve().then(() => training.delete(project, started.id)))).message, /is training; stop it before deleting it/);
  training.stop(started.id);
  await ended(started.id);
  training.delete(project, started.id);
  assert.deepEqual(training.list(project).runs, []);
});

function checkpointIterations(project: string, runId: string): number {
  const json = JSON.parse(readFileSync(path.join(runFolder(project, runId), CHECKPOINT_FOLDER, 'model.json'), 'utf8')) as { userDefinedMetadata: { optimizer_iterations: number } };
  return json.userDefinedMetadata.optimizer_iterations;
}

function strata(...args: string[]) {
  return spawnSync(process.execPath, [path.join(ROOT, 'app/cli/strata.js'), ...args], { cwd: ROOT, encoding: 'utf8' });
}
