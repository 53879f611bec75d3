// A small LSTM sequence classifier: sequences of 20 tokens from a vocabulary of 10, embedded in
// 16 dimensions, read by an LSTM of 32 units whose last output (Keras's default,
// return_sequences=false) feeds two classes: whether the motif 1, 2, 3 occurs in order
// (one token after another) somewhere in the sequence, which no bag-of-tokens model can tell.
// The file builds its own data (data() below), so it trains as it is:
//   npx strata train examples/lstm-sequence-classifier.ts --epochs 10
import { Input, Model, RandomGenerator, layers, type ArrayData, type ModelData } from 'strata';

const LENGTH = 20;
const VOCABULARY = 10;
const MOTIF = [1, 2, 3];

const tokens = Input({ shape: [LENGTH], dtype: 'int32', name: 'tokens' });
const embedded = new layers.Embedding(VOCABULARY, 16, { name: 'embedding' }).apply(tokens);
const encoded = new layers.LSTM(32, { name: 'lstm' }).apply(embedded);
const output = new layers.Dense(2, { activation: 'softmax', name: 'output' }).apply(encoded);

const model = new Model({ inputs: tokens, outputs: output, name: 'lstm_sequence_classifier' });
model.compile({ optimizer: 'adam', loss: 'sparse_categorical_crossentropy', metrics: ['accuracy'] });

export default model;

/**
 * Random token sequences, half of them with the motif planted at a random place (label 1),
 * half with the motif's tokens scattered, drawn again until they hold no motif (label 0):
 * both classes hold the motif's tokens; only their order tells the classes apart.
 */
export function data(): ModelData {
  const random = new RandomGenerator(20);
  return {
    description: `token sequences (${LENGTH} of ${VOCABULARY} tokens) labelled by whether ${MOTIF.join(', ')} occurs in order`,
    train: sequences(2000, random),
    test: sequences(500, random),
    classNames: ['no motif', 'motif'],
  };
}

function sequences(count: number, random: RandomGenerator): { x: ArrayData; y: ArrayData } {
  const x = new Int32Array(count * LENGTH);
  const y = new Int32Array(count);
  for (let n = 0; n < count; n++) {
    const label = n % 2;
    const sequence = x.subarray(n * LENGTH, (n + 1) * LENGTH);
    do {
      for (let i = 0; i < LENGTH; i++) sequence[i] = Math.floor(random.uniform() * VOCABULARY);
      // Positives get the motif in order; negatives its tokens at random places, so that counting tokens does not tell.
      if (label === 1) sequence.set(MOTIF, Math.floor(random.uniform() * (LENGTH - MOTIF.length + 1)));
      else for (const token of MOTIF) sequence[Math.floor(random.uniform() * LENGTH)] = token;
    } while (label === 0 && hasMotif(sequence));
    y[n] = label;
  }
  return { x: { dtype: 'int32', shape: [count, LENGTH], data: x }, y: { dtype: 'int32', shape: [count], data: y } };
}

function hasMotif(sequence: Int32Array): boolean {
  for (let i = 0; i + MOTIF.length <= sequence.length; i++) if (MOTIF.every((token, k) => sequence[i + k] === token)) return true;
  return false;
}
