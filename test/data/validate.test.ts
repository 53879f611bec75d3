// validateDataset, the one check of data against a compiled model before training: empty
// splits, array counts, input shapes and dtypes, and labels for each loss (class ids within
// the output's classes, one-hot rows of its width, binary targets in [0, 1], regression
// targets of its shape). Each error is one line naming the split, the sample and the value.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { makeDataset } from '../../app/data/dataset.ts';
import type { NdArray } from '../../app/data/ndarray.ts';
import { type DatasetSplit, validateDataset } from '../../app/data/validate.ts';
import { EngineBackend } from '../../app/engine/trainer.ts';
import { CustomCallback, Dense, Embedding, Flatten, Input, Model, Sequential } from '../../app/model/index.ts';
import type { LossIdentifier } from '../../app/model/losses.ts';

/** 4 features -> Dense(units), compiled with `loss`. */
function classifier(units: number, loss: LossIdentifier, activation: 'softmax' | 'sigmoid' | 'linear' = 'softmax'): Model {
  const model = new Sequential([new Dense(units, { inputShape: [4], activation, name: 'out' })], { name: 'm' });
  model.compile({ optimizer: 'sgd', loss });
  return model;
}

const features = (n: number): NdArray<'float32'> => ({ dtype: 'float32', shape: [n, 4], data: new Float32Array(n * 4) });
const ids = (...values: number[]): NdArray<'int32'> => ({ dtype: 'int32', shape: [values.length], data: Int32Array.from(values) });
const floats = (shape: number[], ...values: number[]): NdArray<'float32'> => ({ dtype: 'float32', shape, data: Float32Array.from(values) });
const split = (y: NdArray, extra: Partial<DatasetSplit> = {}): DatasetSplit => ({ name: 'train', data: makeDataset(features(y.shape[0]!), y), ...extra });

/** A one-line DataValueError matching `pattern`. */
function rejects(pattern: RegExp) {
  return (error: Error) => error.name === 'ValueError' && pattern.test(error.message) && !error.message.includes('\n');
}

describe('validateDataset', () => {
  test('valid data of every loss passes', () => {
    validateDataset(classifier(3, 'sparse_categorical_crossentropy'), [split(ids(0, 1, 2)), split(floats([2, 1], 2, 0), { name: 'test' })]);
    validateDataset(classifier(3, 'categorical_crossentropy'), [split(floats([2, 3], 1, 0, 0, 0, 0.5, 0.5))]);
    validateDataset(classifier(1, 'binary_crossentropy', 'sigmoid'), [split(ids(0, 1, 1)), split(floats([2, 1], 0.25, 1))]);
    validateDataset(classifier(1, 'mse', 'linear'), [split(ids(5, 70, 3)), split(floats([2], -4, 1e6))]);
    validateDataset(classifier(2, 'mae', 'linear'), [split(floats([1, 2], -1, 2))]);
  });

  test('an empty split is refused by name, train, validation or test', () => {
    const model = classifier(3, 'sparse_categorical_crossentropy');
    for (const name of ['train', 'validation', 'test']) {
      assert.throws(() => validateDataset(model, [split(ids(0)), split(ids(), { name, source: 'data.npz' })]), rejects(new RegExp(`^${name} split of data\\.npz: no samples; .*Keras refuses empty data`)));
    }
  });

  test('class ids outside the output, negative, fractional: the sample named where it comes from', () => {
    const model = classifier(3, 'sparse_categorical_crossentropy');
    const where = (i: number) => `data.csv:${i + 2}`;
    assert.throws(() => validateDataset(model, [split(ids(0, 1, 7), { where })]), rejects(/^data\.csv:4: label 7 is not one of the 3 classes of m's output "out" \(None, 3\): class ids are whole numbers 0\.\.2$/));
    assert.throws(() => validateDataset(model, [split(floats([1], -1))]), rejects(/^train data: sample 0: label -1 is not one of the 3 classes/));
    assert.throws(() => validateDataset(model, [split(floats([2, 1], 1, 1.5))]), rejects(/sample 1: label 1\.5 is not a class id/));
    assert.throws(() => validateDataset(model, [split(floats([1], 2e9))]), rejects(/label 2000000000 is not one of the 3 classes/));
    const named = { name: 'train', data: makeDataset(features(2), ids(0, 3), { classNames: ['ant', 'bee', 'cat', 'dog'] }), where: (i: number) => ['ant/1.png', 'dog/1.png'][i]! };
    assert.throws(() => validateDataset(model, [named]), rejects(/^dog\/1\.png: label 3 \(class "dog"\) is not one of the 3 classes .*; the data has 4 classes \(ant, bee, cat, dog\)$/));
    assert.throws(() => validateDataset(model, [split(floats([1, 3], 1, 0, 0))]), rejects(/labels of shape \(1, 3\); sparse_categorical_crossentropy takes class ids .*for one-hot rows use categorical_crossentropy/));
  });

  test('one-hot labels: class ids, the wrong width and values outside [0, 1] are refused', () => {
    const model = classifier(3, 'categorical_crossentropy');
    assert.throws(() => validateDataset(model, [split(ids(0, 2))]), rejects(/labels are class ids \(2,\); categorical_crossentropy takes one-hot rows \(n, 3\).*use sparse_categorical_crossentropy/));
    assert.throws(() => validateDataset(model, [split(floats([1, 4], 1, 0, 0, 0))]), rejects(/one-hot rows of shape \(1, 4\) do not fit m's output "out" \(None, 3\)/));
    assert.throws(() => validateDataset(model, [split(floats([2, 3], 1, 0, 0, 0, 2, 0))]), rejects(/sample 1: label 2 is outside \[0, 1\]/));
  });

  test('binary targets outside [0, 1] and class ids for a regression output are refused', () => {
    assert.throws(() => validateDataset(classifier(1, 'binary_crossentropy', 'sigmoid'), [split(ids(0, 1, 2))]), rejects(/sample 2: label 2 is outside \[0, 1\]: binary_crossentropy takes targets in \[0, 1\]/));
    assert.throws(() => validateDataset(classifier(3, 'mse'), [split(ids(0, 1, 2))]), rejects(/labels are class ids \(3,\); mean_squared_error compares targets .*\(None, 3\): for class ids use sparse_categorical_crossentropy/));
    assert.throws(() => validateDataset(classifier(2, 'mae', 'linear'), [split(floats([1, 3], 1, 2, 3))]), rejects(/targets of shape \(1, 3\) do not fit m's output "out" \(None, 2\)/));
  });

  test('inputs: the shape, the dtype and the number of arrays the model takes', () => {
    const model = classifier(3, 'sparse_categorical_crossentropy');
    const wrongShape = { name: 'train', data: makeDataset({ dtype: 'float32', shape: [1, 5], data: new Float32Array(5) }, ids(0)) };
    assert.throws(() => validateDataset(model, [wrongShape]), rejects(/^train data: x\[0\] has shape \(1, 5\); m's input "out_input" takes \(None, 4\)$/));
    const intFeatures = { name: 'train', data: makeDataset({ dtype: 'int32', shape: [1, 4], data: new Int32Array(4) }, ids(0)) };
    assert.throws(() => validateDataset(model, [intFeatures]), rejects(/x\[0\] is int32; m's input "out_input" takes float32: store the features as floats/));
    const two = { name: 'train', data: makeDataset([features(1), features(1)], ids(0)) };
    assert.throws(() => validateDataset(model, [two]), rejects(/2 input arrays for a model with 1 inputs \(out_input\)/));
    const tokens = Input({ shape: [3], dtype: 'int32', name: 'tokens' });
    const embedded = new Model({ inputs: tokens, outputs: new Dense(2, { activation: 'softmax', name: 'p' }).apply(new Flatten().apply(new Embedding(10, 4).apply(tokens))) });
    embedded.compile({ optimizer: 'sgd', loss: 'sparse_categorical_crossentropy' });
    validateDataset(embedded, [{ name: 'train', data: makeDataset({ dtype: 'int32', shape: [1, 3], data: Int32Array.of(1, 2, 3) }, ids(1)) }]);
  });

  test('model.fit() refuses empty data and bad labels before its first step', async () => {
    const engine = new EngineBackend({ write: () => {} });
    const model = classifier(3, 'sparse_categorical_crossentropy');
    let steps = 0;
    const counting = { onBatchEnd: () => void steps++ };
    await assert.rejects(engine.fit(model, [features(0)], [ids()], { callbacks: [new CustomCallback(counting)] }), rejects(/^training data: no samples/));
    await assert.rejects(engine.fit(model, [features(3)], [ids(0, 1, 5)], { callbacks: [new CustomCallback(counting)] }), rejects(/^training data: sample 2: label 5 is not one of the 3 classes/));
    await assert.rejects(
      engine.fit(model, [features(4)], [ids(0, 1, 2, 0)], { validationData: [[features(1)], [ids(4)]], callbacks: [new CustomCallback(counting)] }),
      rejects(/^validation data: sample 0: label 4/),
    );
    assert.equal(steps, 0);
  });
});
