// Keras's metrics on the native engine: fit logs mae / mse / root_mean_squared_error and their
// val_ twins, evaluate() returns them, each equal (1e-4 relative) to a plain recomputation here
// from predict() on the same data. With a learning rate of 1e-30 the weights stay put, so the
// epoch's training metrics are those of predict() on the training data too: an epoch's value
// is the batch-size-weighted mean over its uneven batches, and the root mean squared error the
// root of the epoch's mean squared error, not a mean of per-batch roots.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Dense, EngineBackend, Input, Model, Sequential, optimizers, setRandomSeed, type ArrayData } from '../../app/node.ts';
import { RandomGenerator } from '../../app/model/random.ts';

const quiet = new EngineBackend({ write: () => {} });
/** SGD whose steps vanish in float32 rounding (a learning rate must be positive): the weights stay as they are. */
const still = () => new optimizers.SGD({ learningRate: 1e-30 });

function regressionData(n: number, width: number, seed: number): { x: ArrayData; y: ArrayData } {
  const rng = new RandomGenerator(seed);
  const x = Float32Array.from({ length: n * 4 }, () => rng.normal());
  const y = Float32Array.from({ length: n * width }, (_, i) => x[Math.floor(i / width) * 4]! * 2 + rng.normal());
  return { x: { dtype: 'float32', shape: [n, 4], data: x }, y: { dtype: 'float32', shape: [n, width], data: y } };
}

/** mae, mse and rmse of predictions against targets, over every element (float64). */
function errors(pred: ArrayData, target: ArrayData): { mae: number; mse: number; rmse: number } {
  let abs = 0;
  let sq = 0;
  const p = pred.data as Float32Array;
  const t = target.data as Float32Array;
  assert.equal(p.length, t.length);
  for (let i = 0; i < p.length; i++) {
    abs += Math.abs(p[i]! - t[i]!);
    sq += (p[i]! - t[i]!) ** 2;
  }
  return { mae: abs / p.length, mse: sq / p.length, rmse: Math.sqrt(sq / p.length) };
}

const rows = (a: ArrayData, from: number, to: number): ArrayData => {
  const width = a.shape.slice(1).reduce((m, d) => m * d, 1);
  return { ...a, shape: [to - from, ...a.shape.slice(1)], data: (a.data as Float32Array).slice(from * width, to * width) } as ArrayData;
};

function near(got: number | undefined, want: number, what: string): void {
  assert.ok(got !== undefined, `${what} is logged`);
  assert.ok(Math.abs(got - want) <= 1e-4 * Math.abs(want), `${what}: got ${got}, want ${want}`);
}

describe('metrics on the engine', () => {
  test('fit logs mae, mse, root_mean_squared_error and val_ twins equal to a recomputation from predict()', async () => {
    setRandomSeed(3);
    const model = new Sequential([new Dense(8, { inputShape: [4], activation: 'tanh' }), new Dense(3)]);
    model.compile({ optimizer: still(), loss: 'mae', metrics: ['mae', 'mse', { className: 'RootMeanSquaredError' }] });
    const { x, y } = regressionData(100, 3, 7);
    // 80 training rows in batches of 32, 32, 16: uneven, so a plain mean of batch values would differ
    const history = await model.fit(x, y, { epochs: 1, batchSize: 32, validationSplit: 0.2, verbose: 0, seed: 1 });
    assert.deepEqual(Object.keys(history.history).sort(), ['loss', 'mae', 'mse', 'root_mean_squared_error', 'val_loss', 'val_mae', 'val_mse', 'val_root_mean_squared_error']);
    const train = errors((await model.predict(rows(x, 0, 80))) as ArrayData, rows(y, 0, 80));
    const val = errors((await model.predict(rows(x, 80, 100))) as ArrayData, rows(y, 80, 100));
    const last = (key: string) => history.history[key]![0];
    near(last('mae'), train.mae, 'mae');
    near(last('loss'), train.mae, 'loss (mae)');
    near(last('mse'), train.mse, 'mse');
    near(last('root_mean_squared_error'), train.rmse, 'root_mean_squared_error');
    near(last('val_mae'), val.mae, 'val_mae');
    near(last('val_mse'), val.mse, 'val_mse');
    near(last('val_root_mean_squared_error'), val.rmse, 'val_root_mean_squared_error');
    const evaluated = await quiet.evaluate(model, [x], [y], { batchSize: 30 });
    const all = errors((await model.predict(x)) as ArrayData, y);
    near(evaluated.mae, all.mae, 'evaluate mae');
    near(evaluated.root_mean_squared_error, all.rmse, 'evaluate root_mean_squared_error');
  });

  test("fit's progress line shows each metric and its val_ twin", async () => {
    setRandomSeed(5);
    const model = new Sequential([new Dense(2, { inputShape: [4] })]);
    model.compile({ optimizer: 'adam', loss: 'mse', metrics: ['mae', { className: 'RootMeanSquaredError' }] });
    const { x, y } = regressionData(50, 2, 3);
    let printed = '';
    const engine = new EngineBackend({ write: (text: string) => (printed += text) });
    await engine.fit(model, [x], [y], { epochs: 1, batchSize: 16, validationSplit: 0.2, verbose: 2 });
    assert.match(printed, / - mae: \d+\.\d+/);
    assert.match(printed, / - root_mean_squared_error: \d+\.\d+/);
    assert.match(printed, / - val_mae: \d+\.\d+/);
  });

  test('two outputs: each logs its own prefixed metrics; a classifier\'s mae reads its probabilities', async () => {
    setRandomSeed(4);
    const input = Input({ shape: [4] });
    const kind = new Dense(3, { activation: 'softmax', name: 'kind' }).apply(input);
    const price = new Dense(2, { name: 'price' }).apply(input);
    const model = new Model({ inputs: input, outputs: [kind, price] });
    model.compile({ optimizer: still(), loss: { kind: 'categorical_crossentropy', price: 'mse' }, metrics: { kind: ['accuracy', 'mae'], price: ['mae'] } });
    const { x, y } = regressionData(40, 2, 9);
    const onehot = new Float32Array(40 * 3).map((_, i) => (i % 3 === Math.floor(i / 3) % 3 ? 1 : 0));
    const labels: ArrayData = { dtype: 'float32', shape: [40, 3], data: onehot };
    const logs = await quiet.evaluate(model, [x], [labels, y], { batchSize: 16 });
    assert.deepEqual(Object.keys(logs).sort(), ['kind_accuracy', 'kind_loss', 'kind_mae', 'loss', 'price_loss', 'price_mae']);
    const [probs, prices] = (await model.predict(x)) as ArrayData[];
    near(logs.kind_mae, errors(probs!, labels).mae, 'kind_mae (of the softmax probabilities)');
    near(logs.price_mae, errors(prices!, y).mae, 'price_mae');
    near(logs.price_loss, errors(prices!, y).mse, 'price_loss');
  });
});
