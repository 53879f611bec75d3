// The training views' data, in Node: TensorBoard's smoothing, the curves a run draws and their
// columns for uPlot, one colour per run that stays as runs are added, the settings of runs
// compared side by side, and how the views spell durations and metrics.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compareSettings, settingRows } from '../../renderer/src/lib/training/compare.ts';
import { formatDuration, formatMetric, formatNamed, headlineMetric } from '../../renderer/src/lib/training/format.ts';
import { filesOf, groupByOutput } from '../../renderer/src/lib/training/predict.ts';
import { describeLearningRate, loggedNames, metricChoices, metricsForLoss, scheduleDefaults, toggleMetric } from '../../renderer/src/lib/training/keras_settings.ts';
import { alignCurves, baseMetrics, RUN_COLORS, runColor, runCurves, smooth } from '../../renderer/src/lib/training/series.ts';
import { byLargestError, loggedError, regressionCaption, sampleErrors, sampleTruth, scatterPoints } from '../../renderer/src/lib/training/regression.ts';
import { runRecord } from '../io/run_fixture.ts';

test('smoothing is TensorBoard\'s debiased moving average: the first point stays, missing values stay missing and do not enter it', () => {
  const weight = 0.6;
  const values = [1, 2, null, Number.NaN, 4];
  // TensorBoard: last = last * w + (1 - w) * v; smoothed = last / (1 - w^n) over the n values seen.
  const first = 0.4 * 1;
  const second = first * 0.6 + 0.4 * 2;
  const third = second * 0.6 + 0.4 * 4;
  const expected = [first / 0.4, second / (1 - 0.6 ** 2), null, null, third / (1 - 0.6 ** 3)];
  smooth(values, weight).forEach((value, i) => (expected[i] === null ? assert.equal(value, null) : assert.ok(Math.abs(value! - expected[i]!) < 1e-12, `point ${i}: ${value} vs ${expected[i]}`)));
  assert.deepEqual(smooth([3, Number.POSITIVE_INFINITY, 5], 0), [3, Number.POSITIVE_INFINITY, 5], 'no smoothing: the raw values (an overflow shows as one)');
  assert.deepEqual(smooth([3, Number.NaN], 0), [3, null]);
});

test('a run draws each step smoothed, each epoch as points and validation dashed; uPlot gets one x column with gaps', () => {
  const run = runRecord('a');
  assert.deepEqual(baseMetrics({ ...run, history: { ...run.history, learning_rate: [0.1, 0.1] } }), ['loss', 'accuracy']);
  const curves = runCurves(run, 'loss', '#123456', 'a ');
  assert.deepEqual(
    curves.map((c) => [c.label, c.x, c.y, Boolean(c.smoothed), Boolean(c.points), Boolean(c.dashed)]),
    [
      ['a loss (steps)', [0.5, 1, 1.5, 2], [1, 0.8, 0.6, 0.4], true, false, false],
      ['a loss (epochs)', [1, 2], [0.9, 0.5], false, true, false],
      ['a val_loss', [1, 2], [0.8, 0.6], false, true, true],
    ],
  );
  // A run that trained on from epoch 3 numbers its epochs from 4.
  assert.deepEqual(runCurves({ ...run, initialEpoch: 3 }, 'loss', '#000')[1]!.x, [4, 5]);
  const aligned = alignCurves(curves);
  assert.deepEqual(aligned.x, [0.5, 1, 1.5, 2]);
  assert.deepEqual(aligned.ys, [
    [1, 0.8, 0.6, 0.4],
    [null, 0.9, null, 0.5],
    [null, 0.8, null, 0.6],
  ]);
});

test('a run keeps its colour as newer runs are added, and two runs never share one while there are colours left', () => {
  const runs = [runRecord('b', { created: '2025-03-14T10:00:00.000Z' }), runRecord('a', { created: '2025-03-14T09:00:00.000Z' })];
  const before = runColor('b', runs);
  const more = [runRecord('c', { created: '2025-03-14T11:00:00.000Z' }), ...runs];
  assert.equal(runColor('b', more), before);
  assert.deepEqual(more.map((r) => runColor(r.id, more)).sort(), [RUN_COLORS[0], RUN_COLORS[1], RUN_COLORS[2]].sort());
});

test('runs compared: every setting is a row, the rows where they differ are marked, a row one run lacks shows "–"', () => {
  const a = runRecord('a');
  const b = runRecord('b');
  b.settings.compile.optimizer = { class_name: 'Adam', config: { learning_rate: scheduleDefaults('ExponentialDecay', 0.01), amsgrad: true } };
  b.settings.fit.batchSize = 64;
  const rows = compareSettings([a, b]);
  assert.deepEqual(rows.filter((r) => r.differs).map((r) => [r.name, ...r.values]), [
    ['learning_rate', '0.001', 'ExponentialDecay from 0.01'],
    ['batch_size', '32', '64'],
    // Rows only a later run has come after the first run's.
    ['amsgrad', '–', 'true'],
  ]);
  assert.equal(rows.length, new Set([...settingRows(a), ...settingRows(b)].map(([name]) => name)).size);
  assert.ok(compareSettings([a]).every((r) => !r.differs), 'one run differs from nothing');
});

test('the names a run logs, for the callbacks\' monitors: accuracy only where a classification metric is asked for, val_ only with validation', () => {
  const { compile, fit } = runRecord('a').settings;
  assert.deepEqual(loggedNames(compile, fit), ['loss', 'accuracy', 'val_loss', 'val_accuracy']);
  assert.deepEqual(loggedNames({ ...compile, loss: 'mean_squared_error' }, { ...fit, validation: { kind: 'none' } }), ['loss']);
  const rmse = { class_name: 'RootMeanSquaredError', config: { name: 'root_mean_squared_error' } };
  assert.deepEqual(loggedNames({ ...compile, loss: 'mean_squared_error', metrics: ['mae', rmse] }, fit), ['loss', 'mae', 'root_mean_squared_error', 'val_loss', 'val_mae', 'val_root_mean_squared_error']);
  // a metric that cannot read the loss's target logs nothing (compile would refuse it)
  assert.deepEqual(loggedNames({ ...compile, loss: 'sparse_categorical_crossentropy', metrics: ['accuracy', 'mae'] }, { ...fit, validation: { kind: 'none' } }), ['loss', 'accuracy']);
  assert.equal(describeLearningRate({ learning_rate: scheduleDefaults('PiecewiseConstantDecay', 0.1) }), 'PiecewiseConstantDecay from 0.1');
});

test('durations as Keras\'s ETA and metrics with Keras\'s four decimals', () => {
  assert.deepEqual([formatDuration(0), formatDuration(42.4), formatDuration(725), formatDuration(3723), formatDuration(-3)], ['0:00', '0:42', '12:05', '1:02:03', '0:00']);
  assert.deepEqual([formatMetric(0.123456), formatMetric(0.00001234), formatMetric(0), formatMetric(Number.NaN), formatMetric(null)], ['0.1235', '1.23e-5', '0.0000', 'NaN', '–']);
});

test("a regression evaluation's view: each sample's mean absolute error, the samples by largest error, the chart's points in ascending truth, captions", () => {
  const values = { width: 2, truth: [1, 2, 10, 10, 0, 0], predicted: [1, 2, 7, 12, 0, 1] };
  assert.deepEqual(sampleErrors(values), [0, 2.5, 0.5]);
  assert.deepEqual(byLargestError(values), [1, 2, 0]);
  assert.deepEqual(scatterPoints(values), { x: [0, 0, 1, 2, 10, 10], predicted: [0, 1, 1, 2, 7, 12], diagonal: [0, 0, 1, 2, 10, 10] });
  assert.equal(regressionCaption(values, 1, String), 'mean error 2.5');
  const one = { width: 1, truth: [3, 5], predicted: [3.5, 4] };
  assert.equal(regressionCaption(one, 1, (v) => v.toFixed(1)), '→ 4.0 (off by 1.0)');
  assert.deepEqual(byLargestError(one), [1, 0]);
  assert.deepEqual([sampleTruth(one, 1, String), sampleTruth(values, 2, String)], ['5', '[0, 0]']);
  assert.equal(sampleTruth({ width: 4, truth: [1, 2, 3, 4], predicted: [] }, 0, String), '[1, 2, 3, …]');
  // the errors the run logged already are not shown twice: by Keras's names, prefixed for several outputs
  assert.deepEqual([loggedError({ loss: 1, mae: 2 }, 'y', false, 'mae'), loggedError({ loss: 1, mae: 2 }, 'y', false, 'rmse')], [true, false]);
  assert.deepEqual([loggedError({ q_mean_absolute_error: 2 }, 'q', true, 'mae'), loggedError({ mae: 2 }, 'q', true, 'mae')], [true, false]);
  assert.equal(loggedError({ root_mean_squared_error: 1 }, 'y', false, 'rmse'), true);
});

test('Predict groups a model\'s predictions by output, in the host\'s order, and finds the picked files a prediction is of', () => {
  const prediction = (name: string, output: string) => ({ name, output, top: [] });
  const groups = groupByOutput([prediction('a.npy [0]', 'buy'), prediction('a.npy [1]', 'buy'), prediction('a.npy [0]', 'spend')]);
  assert.deepEqual(groups.map((g) => [g.output, g.predictions.map((p) => p.name)]), [['buy', ['a.npy [0]', 'a.npy [1]']], ['spend', ['a.npy [0]']]]);
  assert.deepEqual(groupByOutput([]), []);
  assert.deepEqual(filesOf('photo.png'), ['photo.png']);
  assert.deepEqual(filesOf('rows.npy [12]'), ['rows.npy']);
  assert.deepEqual(filesOf('photo.png + texts.npy [0]'), ['photo.png + texts.npy', 'photo.png', 'texts.npy']);
});

test("a model of several outputs: the names its run logs (each output's loss, a classifier output's accuracy) and its losses in the settings compared", () => {
  const record = runRecord('a');
  const compile = { ...record.settings.compile, loss: 'binary_crossentropy', outputs: [
    { output: 'p', loss: 'binary_crossentropy', fromLogits: false, weight: 1 },
    { output: 'q', loss: 'mean_squared_error', fromLogits: false, weight: 0.5 },
  ] };
  assert.deepEqual(loggedNames(compile, { ...record.settings.fit, validation: { kind: 'none' } }), ['loss', 'p_loss', 'p_accuracy', 'q_loss']);
  const measured = { ...compile, outputs: [compile.outputs[0]!, { ...compile.outputs[1]!, metrics: ['mae'] }] };
  assert.deepEqual(loggedNames(measured, { ...record.settings.fit, validation: { kind: 'none' } }), ['loss', 'p_loss', 'p_accuracy', 'q_loss', 'q_mae']);
  assert.deepEqual(settingRows({ ...record, settings: { ...record.settings, compile: measured } }).find(([name]) => name === 'metrics'), ['metrics', 'p: accuracy; q: mae']);
  const rows = settingRows({ ...record, settings: { ...record.settings, compile } });
  assert.deepEqual(rows.find(([name]) => name === 'loss'), ['loss', 'p: binary_crossentropy, q: mean_squared_error × 0.5']);
});

test("the Train settings' metrics: what each loss can log, kept across a loss change where they still fit, else the loss's default", () => {
  const labels = (loss: string) => metricChoices(loss).map((c) => c.label);
  assert.deepEqual(labels('sparse_categorical_crossentropy'), ['accuracy']);
  assert.deepEqual(labels('categorical_crossentropy'), ['accuracy', 'mae', 'mse', 'rmse']);
  assert.deepEqual(labels('mean_squared_error'), ['mae', 'mse', 'rmse']);
  assert.deepEqual(metricsForLoss(['accuracy'], 'mean_squared_error'), ['mae']);
  assert.deepEqual(metricsForLoss(['mae', 'mse'], 'mean_absolute_error'), ['mae', 'mse']);
  assert.deepEqual(metricsForLoss(['mae'], 'sparse_categorical_crossentropy'), ['accuracy']);
  const rmse = metricChoices('mean_squared_error').find((c) => c.label === 'rmse')!.metric;
  assert.deepEqual(toggleMetric(['mse'], rmse, true, 'mean_squared_error'), ['mse', rmse]);
  assert.deepEqual(toggleMetric(['mse', rmse], 'mae', true, 'mean_squared_error'), ['mae', 'mse', rmse], 'in the order offered');
  assert.deepEqual(toggleMetric(['mae', 'mse'], 'mae', false, 'mean_squared_error'), ['mse']);
});

test('a run is known by its accuracy, else its first metric (a regression model\'s mae), else its loss; accuracies read as percentages', () => {
  assert.equal(headlineMetric(['loss', 'accuracy', 'val_loss', 'val_accuracy']), 'accuracy');
  assert.equal(headlineMetric(['loss', 'mae', 'val_mae', 'learning_rate']), 'mae');
  assert.equal(headlineMetric(['loss', 'p_loss', 'q_loss', 'q_mae']), 'q_mae');
  assert.equal(headlineMetric(['loss', 'val_loss']), 'loss');
  assert.deepEqual([formatNamed('acc', 0.5), formatNamed('q_mae', 0.5), formatNamed('val_accuracy', 0.91234, 2)], ['50.0%', '0.5000', '91.23%']);
});
