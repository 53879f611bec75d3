// Strata for Node programs (`import ... from 'strata/node'`): the model API, with
// model.predict() on onnxruntime-node and fit()/evaluate() on the native engine, plus ONNX
// export and import.
import { EngineBackend } from './engine/trainer.ts';
import { setInferenceBackend, setTrainingBackend } from './model/index.ts';
import { OnnxRuntimeBackend } from './runtime/onnx_backend.ts';

export * from './model/index.ts';
export { exportOnnx, modelToOnnx } from './translate/to_onnx.ts';
export { modelFromOnnx } from './translate/from_onnx.ts';
export { OnnxRuntimeBackend } from './runtime/onnx_backend.ts';
export { EngineBackend, TrainingError } from './engine/trainer.ts';
export { saveModel, loadModelFolder } from './io/model_store.ts';
export { saveKerasModel, loadKerasModel } from './io/keras_file.ts';
export { ModelCheckpoint, CSVLogger } from './io/callbacks.ts';

// Data: loaders that give arrays in the {dtype, shape, data} form fit(), evaluate() and
// predict() take, and the .npy/.npz readers and writers.
export { loadFashionMnist, loadMnist, loadIdxFolder, loadIdx, FASHION_MNIST_CLASS_NAMES, MNIST_CLASS_NAMES, type TrainTestSplits, type IdxFolderOptions } from './data/idx.ts';
export { loadImageFolder, loadImages, listImageFiles, IMAGE_EXTENSIONS, type ImageFolderOptions, type ImageFolderDataset } from './data/images.ts';
export { loadCsv, loadCsvFeatures, type CsvOptions, type CsvFeatureOptions, type CsvDataset, type CsvLabels } from './data/csv.ts';
export { loadArrays, type ArrayFiles, type ArraySplits, type ArrayOptions } from './data/arrays.ts';
export { readNpy, writeNpy } from './data/npy.ts';
export { readNpz, writeNpz } from './data/npz.ts';
export { makeDataset, split, toOneHot, fromOneHot, type Dataset, type DatasetOptions } from './data/dataset.ts';
export { type NdArray, type DType } from './data/ndarray.ts';
export { DataFormatError, DataValueError } from './data/errors.ts';

// predict() runs on onnxruntime by default, on the engine with {runtime: 'native'}.
const engine = new EngineBackend();
setInferenceBackend(new OnnxRuntimeBackend());
setInferenceBackend(engine);
setTrainingBackend(engine);
