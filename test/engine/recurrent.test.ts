// LSTM, GRU, SimpleRNN and Bidirectional on the native engine: every model of
// test/translate/models.ts's recurrentCases() runs forward as the float64 reference computes
// it (every option the ONNX export writes differently), and models of each kind train: the loss
// falls, accuracy passes chance, every weight moves, and onnxruntime on the exported model
// agrees with the engine after. (The engine's gradients through time are checked in C++:
// native/tests/test_recurrent.cpp against finite differences.)
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { EngineBackend, Input, Model, layers, optimizers, setRandomSeed, type ArrayData, type SymbolicTensor } from '../../app/node.ts';
import { RandomGenerator } from '../../app/model/random.ts';
import { testForwardMatchesReference } from './forward_matches_reference.ts';
import { relativeError } from '../translate/compare.ts';
import { recurrentCases } from '../translate/models.ts';

const engine = new EngineBackend({ write: () => {} });

describe('recurrent layers on the native engine', () => {
  testForwardMatchesReference(engine, recurrentCases(), { weights: 500, batch: 4, inputs: 91 });
});

/** Sequences of `steps` tokens from 10; class 1 when token 1 occurs before token 2 (order matters: pooling cannot tell). */
export function tokenOrder(n: number, steps: number, seed: number): { xs: ArrayData; ys: ArrayData } {
  const rng = new RandomGenerator(seed);
  const x = new Int32Array(n * steps);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    for (let t = 0; t < steps; t++) x[i * steps + t] = 3 + Math.floor(rng.uniform() * 7);
    const a = Math.floor(rng.uniform() * steps);
    let b = Math.floor(rng.uniform() * (steps - 1));
    if (b >= a) b++;
    y[i] = i % 2;
    const [first, second] = y[i] === 1 ? [1, 2] : [2, 1];
    x[i * steps + Math.min(a, b)] = first;
    x[i * steps + Math.max(a, b)] = second;
  }
  return { xs: { dtype: 'int32', shape: [n, steps], data: x }, ys: { dtype: 'int32', shape: [n], data: y } };
}

/**
 * Trains Embedding -> `block` -> Dense softmax on tokenOrder for 8 epochs: the loss falls below a
 * tenth of the first epoch's, accuracy ends above 0.9 (chance is 0.5), every weight moves,
 * and onnxruntime on the exported model gives the engine's predictions to 1e-5.
 */
async function trains(name: string, block: (embedded: SymbolicTensor) => SymbolicTensor): Promise<void> {
  const epochs = 8;
  const { xs, ys } = tokenOrder(256, 8, 31);
  setRandomSeed(7);
  const tokens = Input({ shape: [8], name: 'tokens', dtype: 'int32' });
  const encoded = block(new layers.Embedding(10, 8, { name: 'embed' }).apply(tokens));
  const model = new Model({ inputs: tokens, outputs: new layers.Dense(2, { activation: 'softmax', name: 'probs' }).apply(encoded), name });
  model.compile({ optimizer: new optimizers.Adam({ learningRate: 0.02 }), loss: 'sparse_categorical_crossentropy', metrics: ['accuracy'] });
  const before = model.getWeights();
  const history = await engine.fit(model, [xs], [ys], { epochs, batchSize: 32, seed: 4 });
  const loss = history.history.loss!;
  const accuracy = history.history.accuracy!;
  // Chance is 0.5. setRandomSeed 7, every model here: the loss went from 0.65-0.70 to 0.000-0.011 and
  // accuracy reached 1.0 by the fifth epoch (the pooled bidirectional GRU by the seventh).
  assert.ok(loss[epochs - 1]! < loss[0]! * 0.1, `loss ${loss.join(' ')}`);
  assert.ok(accuracy[epochs - 1]! > 0.9, `accuracy ${accuracy.join(' ')}`);
  assert.ok(model.getWeights().every((w, i) => w.some((v, j) => v !== before[i]![j])), 'every weight trained');
  const native = (await model.predict(xs, { runtime: 'native' })) as ArrayData;
  const onnx = (await model.predict(xs)) as ArrayData;
  assert.ok(relativeError(native.data, onnx.data) <= 1e-5, `engine vs onnxruntime: ${relativeError(native.data, onnx.data)}`);
}

describe('recurrent models train on the native engine', () => {
  test('Embedding -> LSTM -> Dense trains; onnxruntime agrees with the engine after', async () => {
    await trains('lstm_classifier', (x) => new layers.LSTM(12, { name: 'lstm' }).apply(x));
  });

  test('Embedding -> GRU (reset_after false, returning sequences) -> GRU -> Dense trains; onnxruntime agrees', async () => {
    await trains('gru_classifier', (x) => {
      const sequence = new layers.GRU(8, { resetAfter: false, returnSequences: true, name: 'gru1' }).apply(x);
      return new layers.GRU(8, { name: 'gru2' }).apply(sequence);
    });
  });

  test('Embedding -> Bidirectional(LSTM) -> Dense trains; onnxruntime agrees', async () => {
    await trains('bidirectional_classifier', (x) => new layers.Bidirectional(new layers.LSTM(6), { name: 'bi' }).apply(x));
  });

  test('Embedding -> Bidirectional(GRU, sequences: the backward one reversed by Slice) -> pooling -> Dense trains; onnxruntime agrees', async () => {
    await trains('bidirectional_sequences_classifier', (x) => {
      const sequences = new layers.Bidirectional(new layers.GRU(6, { returnSequences: true }), { name: 'bi' }).apply(x);
      return new layers.GlobalAveragePooling1D({ name: 'pool' }).apply(sequences);
    });
  });

  test('Embedding -> SimpleRNN -> Dense trains; onnxruntime agrees', async () => {
    await trains('simple_rnn_classifier', (x) => new layers.SimpleRNN(12, { name: 'rnn' }).apply(x));
  });

  test('a model reading return_state\'s final states trains: Y_h and Y_c carry gradients too', async () => {
    await trains('lstm_states_classifier', (x) => {
      const [, h, c] = new layers.LSTM(6, { returnState: true, name: 'lstm' }).applyMultiOutput(x);
      return layers.concatenate([h!, c!], { name: 'states' });
    });
  });
});
