// LeNet-5 (LeCun et al., 1998) for 28x28 grayscale images (MNIST, Fashion-MNIST): two
// convolutions with average pooling, then three dense layers, tanh throughout as in the paper.
// The first convolution pads ("same") so that 28x28 inputs give the paper's 5x5x16 maps.
//   npx strata summary examples/lenet5.ts
import { Sequential, layers } from 'strata';

const model = new Sequential(
  [
    new layers.Conv2D(6, [5, 5], { padding: 'same', activation: 'tanh', inputShape: [28, 28, 1], name: 'c1' }),
    new layers.AveragePooling2D([2, 2], { name: 's2' }),
    new layers.Conv2D(16, [5, 5], { activation: 'tanh', name: 'c3' }),
    new layers.AveragePooling2D([2, 2], { name: 's4' }),
    new layers.Flatten({ name: 'flatten' }),
    new layers.Dense(120, { activation: 'tanh', name: 'c5' }),
    new layers.Dense(84, { activation: 'tanh', name: 'f6' }),
    new layers.Dense(10, { activation: 'softmax', name: 'output' }),
  ],
  { name: 'lenet5' },
);

export default model;
