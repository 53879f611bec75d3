// The Keras documentation's Functional example: two inputs (image features and text
// features) in two branches, joined to predict whether a visitor buys.
//   npx strata summary examples/purchase-predictor.ts
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
