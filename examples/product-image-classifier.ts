// The Keras documentation's Sequential example: 64x64 RGB product images, 10 categories.
//   npx strata summary examples/product-image-classifier.ts
import { Sequential, layers } from 'strata';

const model = new Sequential(
  [
    new layers.Conv2D(32, [3, 3], { activation: 'relu', inputShape: [64, 64, 3], name: 'conv1' }),
    new layers.MaxPooling2D([2, 2], { name: 'pool1' }),
    new layers.Conv2D(64, [3, 3], { activation: 'relu', name: 'conv2' }),
    new layers.MaxPooling2D([2, 2], { name: 'pool2' }),
    new layers.Flatten({ name: 'flatten' }),
    new layers.Dense(64, { activation: 'relu', name: 'dense1' }),
    new layers.Dropout(0.5, { name: 'dropout1' }),
    new layers.Dense(10, { activation: 'softmax', name: 'output_softmax' }),
  ],
  { name: 'product_image_classifier_sequential' },
);

export default model;
