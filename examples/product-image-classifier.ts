// The Keras documentation's Sequential example: 64x64 RGB product images, 10 categories.
// The model is the code the app's list editor writes for it; below it, the file builds its own
// data (data(): synthetic images of stripes and checkerboards), so it trains as it is:
//   npx strata train examples/product-image-classifier.ts --epochs 5
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

// The data's import stands here, apart from the model's code above.
import { syntheticImages, type ModelData } from 'strata';

/** Ten classes of 64x64 images: stripes of four orientations and checkerboards, in warm or cool colours. */
export function data(): ModelData {
  return syntheticImages({ train: 600, test: 200, size: [64, 64], channels: 3, classes: 10, seed: 3 });
}
