// A small LSTM sequence classifier: sequences of 20 tokens from a vocabulary of 10, embedded in
// 16 dimensions, read by an LSTM of 32 units whose last output (Keras's default,
// return_sequences=false) feeds two classes; e.g. whether a motif of tokens occurs in order
// somewhere in the sequence, which no bag-of-tokens model can tell.
//   npx strata summary examples/lstm-sequence-classifier.ts
import { Input, Model, layers } from 'strata';

const tokens = Input({ shape: [20], dtype: 'int32', name: 'tokens' });
const embedded = new layers.Embedding(10, 16, { name: 'embedding' }).apply(tokens);
const encoded = new layers.LSTM(32, { name: 'lstm' }).apply(embedded);
const output = new layers.Dense(2, { activation: 'softmax', name: 'output' }).apply(encoded);

const model = new Model({ inputs: tokens, outputs: output, name: 'lstm_sequence_classifier' });

export default model;
