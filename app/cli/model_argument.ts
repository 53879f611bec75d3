// The kinds of model file every command that takes a model reads (load_model.ts), said once
// for their --help.
export const MODEL_ARGUMENT_HELP =
  'a .ts/.js model file (an architecture, with fresh weights), a folder saved by `strata train --out` or saveModel() (trained weights), an .onnx file Strata exported, a Keras model file with its weights (.h5, .keras), or a Keras JSON / TensorFlow.js model.json file';
