// Strata's model API: Keras semantics in TypeScript. Pure TypeScript with no Node or DOM
// imports, shared by the renderer, the main process and the CLI.
import { Dense, Dropout, Activation, Flatten, Reshape, Rescaling } from './layers/core.ts';
import { ELU, LeakyReLU, ReLU, Softmax } from './layers/activation_layers.ts';
import { Conv2D, DepthwiseConv2D, SeparableConv2D } from './layers/conv.ts';
import { ZeroPadding2D } from './layers/padding.ts';
import { Embedding } from './layers/embedding.ts';
import { Input, InputLayer } from './layers/input.ts';
import { Add, Average, Concatenate, Multiply, add, average, concatenate, multiply } from './layers/merge.ts';
import { BatchNormalization } from './layers/normalization.ts';
import { AveragePooling2D, GlobalAveragePooling1D, GlobalAveragePooling2D, MaxPooling2D } from './layers/pooling.ts';

export { Dense, Dropout, Activation, Flatten, Reshape, Rescaling } from './layers/core.ts';
export { ELU, LeakyReLU, ReLU, Softmax, type ELUArgs, type LeakyReLUArgs, type ReLUArgs, type SoftmaxArgs } from './layers/activation_layers.ts';
export { ZeroPadding2D, type Padding2D, type ZeroPadding2DArgs } from './layers/padding.ts';
export { Conv2D, DepthwiseConv2D, SeparableConv2D, type Conv2DArgs, type DepthwiseConv2DArgs, type SeparableConv2DArgs } from './layers/conv.ts';
export { Embedding } from './layers/embedding.ts';
export { Input, InputLayer } from './layers/input.ts';
export { Add, Average, Concatenate, ElementwiseMerge, Multiply, add, average, concatenate, multiply } from './layers/merge.ts';
export { BatchNormalization } from './layers/normalization.ts';
export { AveragePooling2D, GlobalAveragePooling1D, GlobalAveragePooling2D, MaxPooling2D } from './layers/pooling.ts';

/** Keras's `keras.layers` namespace: `new layers.Dense(64, {activation: 'relu'})`. */
export const layers = {
  Dense,
  Dropout,
  Activation,
  Flatten,
  Reshape,
  Rescaling,
  Conv2D,
  DepthwiseConv2D,
  SeparableConv2D,
  ReLU,
  LeakyReLU,
  ELU,
  Softmax,
  ZeroPadding2D,
  Embedding,
  Input,
  InputLayer,
  Add,
  Average,
  Concatenate,
  Multiply,
  add,
  average,
  concatenate,
  multiply,
  BatchNormalization,
  AveragePooling2D,
  GlobalAveragePooling1D,
  GlobalAveragePooling2D,
  MaxPooling2D,
};

export { Model, weightsGeneration, type ModelArgs, type CallOptions } from './model.ts';
export { Sequential, type SequentialArgs } from './sequential.ts';
export { Layer, SymbolicTensor, Node, clearSession, type LayerArgs, type LayerWeight } from './layer.ts';
export { modelFromJSON } from './keras_format/model_json.ts';
export { summaryData, renderSummary, countParams, type SummaryData, type SummaryRow, type ParamCounts } from './summary.ts';
export { describeGraph, type GraphDescription, type GraphNodeDescription, type GraphEdgeDescription } from './graph.ts';
export { setRandomSeed } from './random.ts';
export { setInferenceBackend, getInferenceBackend, arraysInOrder, type ArrayData, type InferenceBackend, type PredictOptions } from './backend.ts';
export * as initializers from './initializers.ts';
export { ACTIVATIONS, type ActivationName } from './activations.ts';
export { StrataUserError, ValueError, ShapeError, ConfigError, FormatError, FileError, LimitError, isUserError, type ErrorContext } from './errors.ts';
export { LIMITS } from './limits.ts';
export * as optimizers from './optimizers.ts';
export { Optimizer, SGD, Adam, AdamW, RMSprop, type OptimizerVariables } from './optimizers.ts';
export * as losses from './losses.ts';
export * as callbacks from './callbacks.ts';
export { Callback, CustomCallback, EarlyStopping, History, LearningRateScheduler, ReduceLROnPlateau, TerminateOnNaN, type CallbackState, type Logs } from './callbacks.ts';
export { setTrainingBackend, getTrainingBackend, logNames, type CompileArgs, type CompiledConfig, type FitOptions, type EvaluateOptions, type Device, type TrainingBackend, type OutputLoss } from './training.ts';
export { formatShape, type Shape, type Dim } from './shape.ts';
export {
  LAYER_CATALOG, LAYER_GROUPS, INITIALIZER_NAMES, catalogEntry, docsUrl, initializerName, newLayerConfig,
  type LayerCatalogEntry, type LayerArgument, type ArgumentType, type LayerGroup,
} from './layer_catalog.ts';
export { getLayerClass, registeredClassNames } from './registry.ts';
