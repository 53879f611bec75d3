// compile({metrics}): Keras 3's identifiers ('accuracy', 'mae', 'mean_squared_error', the
// explicit accuracies, RootMeanSquaredError as a class), per output as a list for all, a list
// of lists or a map by output name; the names Keras logs (the string as given, a class's
// snake_case name, prefixed by the output's name when there are several); what does not fit an
// output's loss refused naming metric, output and loss; and the training_config round trip.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Dense, Input, Model, Sequential, ValueError, logNames, metrics } from '../../app/model/index.ts';
import { compileArgsFromTrainingConfig } from '../../app/model/training.ts';
import { trainingConfigOf } from '../../app/io/model_store.ts';

function twoOutputs(): Model {
  const x = Input({ shape: [4] });
  const cls = new Dense(3, { activation: 'softmax', name: 'cls' }).apply(x);
  const price = new Dense(1, { name: 'price' }).apply(x);
  return new Model({ inputs: x, outputs: [cls, price] });
}

const regression = () => new Sequential([new Dense(2, { inputShape: [4] })]);
const refused = (run: () => unknown, pattern: RegExp) => assert.throws(run, (e: Error) => e instanceof ValueError && pattern.test(e.message), `expected ${pattern}`);

describe('compile metrics', () => {
  test('one output: each identifier logs under the name Keras 3 gives it', () => {
    const model = regression();
    model.compile({ loss: 'mse', metrics: ['mae', 'mean_squared_error', { className: 'RootMeanSquaredError' }, 'binary_accuracy', 'categorical_accuracy'] });
    assert.deepEqual(logNames(model.compiled!), ['loss', 'mae', 'mean_squared_error', 'root_mean_squared_error', 'binary_accuracy', 'categorical_accuracy']);
    assert.deepEqual(
      model.compiled!.losses[0]!.metrics.map((m) => m.kind),
      ['mean_absolute_error', 'mean_squared_error', 'root_mean_squared_error', 'binary_accuracy', 'categorical_accuracy'],
    );
    model.compile({ loss: 'mse', metrics: [new metrics.RootMeanSquaredError(), 'mse', 'mean_absolute_error'] });
    assert.deepEqual(logNames(model.compiled!), ['loss', 'root_mean_squared_error', 'mse', 'mean_absolute_error']);
    // Keras's JSON spelling of the class, with its own name
    model.compile({ loss: 'mse', metrics: [{ class_name: 'RootMeanSquaredError', config: { name: 'rmse' } }] });
    assert.deepEqual(logNames(model.compiled!), ['loss', 'rmse']);
  });

  test("'accuracy' and 'acc' follow the loss and keep their spelling; on a regression loss they log nothing", () => {
    const classifier = new Sequential([new Dense(3, { inputShape: [4], activation: 'softmax' })]);
    classifier.compile({ loss: 'sparse_categorical_crossentropy', metrics: ['acc'] });
    assert.deepEqual(classifier.compiled!.losses[0]!.metrics, [{ kind: 'sparse_categorical_accuracy', name: 'acc' }]);
    classifier.compile({ loss: 'categorical_crossentropy', metrics: ['accuracy', 'mae'] });
    assert.deepEqual(logNames(classifier.compiled!), ['loss', 'accuracy', 'mae']);
    assert.equal(classifier.compiled!.losses[0]!.metrics[0]!.kind, 'categorical_accuracy');
    const model = regression();
    model.compile({ loss: 'mae', metrics: ['accuracy'] });
    assert.deepEqual(logNames(model.compiled!), ['loss']);
  });

  test('several outputs: a list for all, a list of lists, a map by output name; names prefixed by the output', () => {
    const model = twoOutputs();
    model.compile({ loss: { cls: 'sparse_categorical_crossentropy', price: 'mse' }, metrics: { cls: 'accuracy', price: ['mae', { className: 'RootMeanSquaredError' }] } });
    assert.deepEqual(logNames(model.compiled!), ['loss', 'cls_loss', 'cls_accuracy', 'price_loss', 'price_mae', 'price_root_mean_squared_error']);
    model.compile({ loss: ['sparse_categorical_crossentropy', 'mse'], metrics: [['sparse_categorical_accuracy'], ['mse']] });
    assert.deepEqual(logNames(model.compiled!), ['loss', 'cls_loss', 'cls_sparse_categorical_accuracy', 'price_loss', 'price_mse']);
    model.compile({ loss: ['categorical_crossentropy', 'mse'], metrics: ['accuracy', 'mae'] });
    assert.deepEqual(logNames(model.compiled!), ['loss', 'cls_loss', 'cls_accuracy', 'cls_mae', 'price_loss', 'price_mae']);
    model.compile({ loss: ['categorical_crossentropy', 'mse'], metrics: { price: 'mae' } });
    assert.deepEqual(logNames(model.compiled!), ['loss', 'cls_loss', 'price_loss', 'price_mae']);
  });

  test('refusals name the metric, the output and the loss, or list what is supported', () => {
    const model = twoOutputs();
    const loss = { cls: 'sparse_categorical_crossentropy', price: 'mse' };
    refused(() => model.compile({ loss, metrics: ['f1_score'] }), /unknown metric "f1_score" for output "cls"; supported: 'accuracy'\/'acc', 'mae', 'mean_absolute_error', 'mse', .*\{className: 'RootMeanSquaredError'\}/);
    refused(() => model.compile({ loss, metrics: [{ className: 'AUC' }] }), /unknown metric \{"className":"AUC"\}/);
    refused(() => model.compile({ loss, metrics: ['mae'] }), /metric "mae" does not fit output "cls" with loss sparse_categorical_crossentropy: its labels are class indices/);
    refused(() => model.compile({ loss, metrics: { price: 'sparse_categorical_accuracy' } }), /metric "sparse_categorical_accuracy" does not fit output "price" with loss mean_squared_error: sparse_categorical_accuracy reads class indices/);
    refused(() => model.compile({ loss, metrics: { cls: 'categorical_accuracy' } }), /metric "categorical_accuracy" does not fit output "cls" with loss sparse_categorical_crossentropy/);
    refused(() => model.compile({ loss, metrics: { score: 'mae' } }), /metrics names "score", which is not an output; outputs: cls, price/);
    refused(() => model.compile({ loss, metrics: [['accuracy']] }), /metrics has 1 entries, the model has 2 outputs \(cls, price\)/);
    refused(() => model.compile({ loss, metrics: [['accuracy'], 'mae'] as never }), /metrics mixes lists and single metrics/);
    refused(() => model.compile({ loss, metrics: { price: ['mae', 'mae'] } }), /metric "mae" is given twice for output "price"/);
  });

  test("training_config: Strata writes the metrics it logs and reads back those it computes, leaving others out", () => {
    const model = twoOutputs();
    model.compile({ loss: { cls: 'sparse_categorical_crossentropy', price: 'mse' }, metrics: { cls: ['acc'], price: ['mae', { className: 'RootMeanSquaredError' }] } });
    const config = trainingConfigOf(model.compiled!);
    assert.deepEqual(config.metrics, { cls: ['acc'], price: ['mae', { class_name: 'RootMeanSquaredError', config: { name: 'root_mean_squared_error' } }] });
    const again = twoOutputs();
    again.compileFromTrainingConfig(JSON.parse(JSON.stringify(config)));
    assert.deepEqual(logNames(again.compiled!), logNames(model.compiled!));
    // tf.keras 2's forms: a list of lists, MeanMetricWrapper around a named function, classes Strata does not compute
    const args = compileArgsFromTrainingConfig({
      loss: 'mse',
      metrics: [['mae', { class_name: 'MeanMetricWrapper', config: { name: 'mse_fn', fn: 'mean_squared_error' } }, { class_name: 'AUC', config: { name: 'auc' } }, 'f1']],
    });
    const one = regression();
    one.compile(args);
    assert.deepEqual(logNames(one.compiled!), ['loss', 'mae', 'mse_fn']);
  });
});
