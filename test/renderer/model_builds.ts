// The seed models built edit by edit, as a user builds them in the list and the graph editors
// (for the document tests), and "equal modulo formatting" for comparing code.
import { addLayer, addNode, connect, renameLayer, setInputShape, setLayerArgument } from '../../renderer/src/lib/document/edits.ts';
import { EMPTY_MODEL, withConfig, type ModelJson } from '../../renderer/src/lib/document/model_json.ts';

/** Source text without comments, whitespace or trailing commas: "equal modulo formatting". */
export function normalizeSource(source: string): string {
  return source
    .replace(/\/\/.*$/gm, '')
    .replace(/\s+/g, '')
    .replace(/,([\])}])/g, '$1');
}

/** A model file's code up to its `export default model;`: what the editor writes, without the file's own data() after it. */
export function modelCode(source: string): string {
  const end = 'export default model;';
  return source.slice(0, source.indexOf(end) + end.length);
}

function add(json: ModelJson, className: string, name: string, args: Record<string, unknown> = {}): ModelJson {
  const added = addLayer(json, className);
  let next = renameLayer(added.json, added.name, name);
  for (const [key, value] of Object.entries(args)) next = setLayerArgument(next, name, key, value);
  return next;
}

export function buildSeedCnn(): ModelJson {
  let json = withConfig(EMPTY_MODEL, (config) => ({ ...config, name: 'product_image_classifier_sequential' }));
  json = setInputShape(json, [64, 64, 3]);
  json = add(json, 'Conv2D', 'conv1', { filters: 32, kernel_size: [3, 3], activation: 'relu' });
  json = add(json, 'MaxPooling2D', 'pool1');
  json = add(json, 'Conv2D', 'conv2', { filters: 64, activation: 'relu' });
  json = add(json, 'MaxPooling2D', 'pool2');
  json = add(json, 'Flatten', 'flatten');
  json = add(json, 'Dense', 'dense1', { units: 64, activation: 'relu' });
  json = add(json, 'Dropout', 'dropout1', { rate: 0.5 });
  return add(json, 'Dense', 'output_softmax', { units: 10, activation: 'softmax' });
}

export function buildPurchasePredictor(): ModelJson {
  let json: ModelJson = withConfig(EMPTY_MODEL, (config) => ({ ...config, name: 'multi_input_purchase_predictor' }));
  const node = (className: string, name: string, args: Record<string, unknown> = {}) => {
    const added = addNode(json, className);
    json = renameLayer(added.json, added.name, name);
    for (const [key, value] of Object.entries(args)) json = setLayerArgument(json, name, key, value);
  };
  const wire = (from: string, to: string) => (json = connect(json, { layer: from, call: 0 }, { layer: to, call: 0 }));
  node('InputLayer', 'image_features_input', { shape: [64, 64, 3] });
  node('InputLayer', 'text_features_input', { shape: [100] });
  node('Flatten', 'flatten_image');
  node('Dense', 'dense_image_1', { units: 64, activation: 'relu' });
  node('Dropout', 'dropout_image', { rate: 0.3 });
  node('Dense', 'dense_image_2', { units: 32, activation: 'relu' });
  node('Dense', 'dense_text_1', { units: 64, activation: 'relu' });
  node('Dropout', 'dropout_text', { rate: 0.3 });
  node('Dense', 'dense_text_2', { units: 32, activation: 'relu' });
  node('Concatenate', 'concatenate_branches');
  node('Dense', 'dense_combined', { units: 32, activation: 'relu' });
  node('Dense', 'output_sigmoid', { units: 1, activation: 'sigmoid' });
  wire('image_features_input', 'flatten_image');
  wire('flatten_image', 'dense_image_1');
  wire('dense_image_1', 'dropout_image');
  wire('dropout_image', 'dense_image_2');
  wire('text_features_input', 'dense_text_1');
  wire('dense_text_1', 'dropout_text');
  wire('dropout_text', 'dense_text_2');
  wire('dense_image_2', 'concatenate_branches');
  wire('dense_text_2', 'concatenate_branches');
  wire('concatenate_branches', 'dense_combined');
  wire('dense_combined', 'output_sigmoid');
  return json;
}

