// The Keras documentation's Functional example: two inputs (image features and text
// features) in two branches, joined to predict whether a visitor buys.
// Below the model, the file builds its own data (data()), so it trains as it is:
//   npx strata train examples/purchase-predictor.ts --epochs 10
import { Input, Model, layers } from 'strata';

const imageInput = Input({ shape: [64, 64, 3], name: 'image_features_input' });
const textInput = Input({ shape: [100], name: 'text_features_input' });

let image = new layers.Flatten({ name: 'flatten_image' }).apply(imageInput);
image = new layers.Dense(64, { activation: 'relu', name: 'dense_image_1' }).apply(image);
image = new layers.Dropout(0.3, { name: 'dropout_image' }).apply(image);
image = new layers.Dense(32, { activation: 'relu', name: 'dense_image_2' }).apply(image);

let text = new layers.Dense(64, { activation: 'relu', name: 'dense_text_1' }).apply(textInput);
text = new layers.Dropout(0.3, { name: 'dropout_text' }).apply(text);
text = new layers.Dense(32, { activation: 'relu', name: 'dense_text_2' }).apply(text);

let combined = layers.concatenate([image, text], { name: 'concatenate_branches' });
combined = new layers.Dense(32, { activation: 'relu', name: 'dense_combined' }).apply(combined);
const output = new layers.Dense(1, { activation: 'sigmoid', name: 'output_sigmoid' }).apply(combined);

const model = new Model({ inputs: [imageInput, textInput], outputs: output, name: 'multi_input_purchase_predictor' });

export default model;

// The data's import stands here, apart from the model's code above (which README.md shows).
import { RandomGenerator, type ArrayData, type ModelData } from 'strata';

const IMAGE_SHAPE = [64, 64, 3];
const TEXT_FEATURES = 100;

/**
 * Visitors with a product image and a text: a visitor buys (1) when the image's warmth (red
 * over blue) and the text's interest (its first ten features) add up to more than zero.
 * Either input alone tells about three visitors in four; the model must join both.
 */
export function data(): ModelData {
  const random = new RandomGenerator(64);
  return {
    description: 'visitors (a 64x64 image, 100 text features) who buy when the image\'s warmth plus the text\'s interest is positive',
    train: visitors(800, random),
    test: visitors(200, random),
  };
}

function visitors(count: number, random: RandomGenerator): { x: ArrayData[]; y: ArrayData } {
  const pixelsPerImage = IMAGE_SHAPE[0]! * IMAGE_SHAPE[1]!;
  const images = new Float32Array(count * pixelsPerImage * 3);
  const texts = new Float32Array(count * TEXT_FEATURES);
  const bought = new Float32Array(count);
  for (let n = 0; n < count; n++) {
    const warmth = 2 * random.uniform() - 1;
    const interest = 2 * random.uniform() - 1;
    for (let p = 0, at = n * pixelsPerImage * 3; p < pixelsPerImage; p++, at += 3) {
      images[at] = 0.5 + 0.2 * warmth + 0.1 * random.normal();
      images[at + 1] = 0.5 + 0.1 * random.normal();
      images[at + 2] = 0.5 - 0.2 * warmth + 0.1 * random.normal();
    }
    for (let f = 0; f < TEXT_FEATURES; f++) texts[n * TEXT_FEATURES + f] = (f < 10 ? interest : 0) + 0.5 * random.normal();
    bought[n] = warmth + interest > 0 ? 1 : 0;
  }
  return {
    x: [{ dtype: 'float32', shape: [count, ...IMAGE_SHAPE], data: images }, { dtype: 'float32', shape: [count, TEXT_FEATURES], data: texts }],
    y: { dtype: 'float32', shape: [count, 1], data: bought },
  };
}
