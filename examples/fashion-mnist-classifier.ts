// The seed Sequential architecture for 28x28 grayscale images (Fashion-MNIST), compiled as
// Keras's tutorial does: Adam (1e-3) and sparse categorical cross-entropy.
//   npx strata train examples/fashion-mnist-classifier.ts --data fashion-mnist --epochs 10 --batch-size 128
import { Sequential, layers, optimizers } from 'strata';

const model = new Sequential(
  [
    new layers.Conv2D(32, [3, 3], { activation: 'relu', inputShape: [28, 28, 1], name: 'conv1' }),
    new layers.MaxPooling2D([2, 2], { name: 'pool1' }),
    new layers.Conv2D(64, [3, 3], { activation: 'relu', name: 'conv2' }),
    new layers.MaxPooling2D([2, 2], { name: 'pool2' }),
    new layers.Flatten({ name: 'flatten' }),
    new layers.Dense(64, { activation: 'relu', name: 'dense1' }),
    new layers.Dropout(0.5, { name: 'dropout1' }),
    new layers.Dense(10, { activation: 'softmax', name: 'output_softmax' }),
  ],
  { name: 'fashion_mnist_classifier' },
);
model.compile({ optimizer: new optimizers.Adam({ learningRate: 1e-3 }), loss: 'sparse_categorical_crossentropy', metrics: ['accuracy'] });

export default model;
