// A multilayer perceptron for 28x28 grayscale images: flatten, one hidden layer, dropout,
// ten classes (Keras's "Simple MNIST" starting point).
//   npx strata summary examples/mlp.ts
import { Sequential, layers } from 'strata';

const model = new Sequential(
  [
    new layers.Flatten({ inputShape: [28, 28, 1], name: 'flatten' }),
    new layers.Dense(128, { activation: 'relu', name: 'hidden' }),
    new layers.Dropout(0.2, { name: 'dropout' }),
    new layers.Dense(10, { activation: 'softmax', name: 'output' }),
  ],
  { name: 'mlp' },
);

export default model;
