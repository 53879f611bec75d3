// Strata's model API: Keras semantics in TypeScript. Pure TypeScript with no Node or DOM
// imports, shared by the renderer, the main process and the CLI.
import { Dense, Dropout, Activation, Flatten, Reshape, Rescaling } from './layers/core.ts';
import { ELU, LeakyReLU, PReLU, ReLU, Softmax } from './layers/activation_layers.ts';
import { Conv1D, Conv2D, Conv2DTranspose, DepthwiseConv2D, SeparableConv2D } from './layers/conv.ts';
import { Cropping1D, Cropping2D, ZeroPadding1D, ZeroPadding2D } from './layers/padding.ts';
import { Permute, RepeatVector } from './layers/reshaping.ts';
import { ActivityRegularization, GaussianDropout, GaussianNoise, SpatialDropout1D, SpatialDropout2D } from './layers/noise.ts';
import { Embedding } from './layers/embedding.ts';
import { Bidirectional, GRU, LSTM, SimpleRNN } from './layers/recurrent.ts';
import { Input, InputLayer } from './layers/input.ts';
import { Add, Average, Concatenate, Multiply, add, average, concatenate, multiply, Subtract, Maximum, Minimum, Dot, subtract, maximum, minimum, dot } from './layers/merge.ts';
import { BatchNormalization, LayerNormalization } from './layers/normalization.ts';
import { Attention, MultiHeadAttention } from './layers/attention.ts';
import { Normalization } from './layers/preprocessing.ts';
import { RandomContrast, RandomFlip, RandomRotation, RandomTranslation, RandomZoom } from './layers/augmentation.ts';
import {
  AveragePooling1D, AveragePooling2D, GlobalAveragePooling1D, GlobalAveragePooling2D, GlobalMaxPooling1D, GlobalMaxPooling2D, MaxPooling1D, MaxPooling2D,
} from './layers/pooling.ts';
import { CenterCrop, Resizing, UpSampling1D, UpSampling2D } from './layers/resizing.ts';
import { TimeDistributed } from './layers/time_distributed.ts';

export { Dense, Dropout, Activation, Flatten, Reshape, Rescaling } from './layers/core.ts';
export { ELU, LeakyReLU, PReLU, ReLU, Softmax, type ELUArgs, type LeakyReLUArgs, type PReLUArgs, type ReLUArgs, type SoftmaxArgs } from './layers/activation_layers.ts';
export { Permute, RepeatVector } from './layers/reshaping.ts';
export { Cropping1D, Cropping2D, ZeroPadding1D, ZeroPadding2D, type Cropping2DArgs, type Padding1D, type Padding2D, type ZeroPadding1DArgs, type ZeroPadding2DArgs } from './layers/padding.ts';
export { ActivityRegularization, GaussianDropout, GaussianNoise, SpatialDropout1D, SpatialDropout2D, type ActivityRegularizationArgs, type NoiseArgs } from './layers/noise.ts';
export {
  Conv1D, Conv2D, Conv2DTranspose, DepthwiseConv2D, SeparableConv2D, transposedOutputLength, type Conv1DArgs, type Conv2DArgs, type Conv2DTransposeArgs, type DepthwiseConv2DArgs, type SeparableConv2DArgs } from './layers/conv.ts';
export { Embedding } from './layers/embedding.ts';
export {
  Bidirectional, GRU, LSTM, MERGE_MODES, RecurrentLayer, SimpleRNN, type BidirectionalArgs, type GRUArgs, type LSTMArgs, type MergeMode, type RecurrentArgs,
} from './layers/recurrent.ts';
export { Input, InputLayer } from './layers/input.ts';
export { Add, Average, Concatenate, ElementwiseMerge, Multiply, add, average, concatenate, multiply, Subtract, Maximum, Minimum, Dot, subtract, maximum, minimum, dot, type DotArgs } from './layers/merge.ts';
export { BatchNormalization, LayerNormalization, type LayerNormalizationArgs } from './layers/normalization.ts';
export { Attention, MultiHeadAttention, type AttentionArgs, type MultiHeadAttentionArgs } from './layers/attention.ts';
export { Normalization, type AdaptArray, type AdaptData, type NestedNumbers, type NormalizationArgs } from './layers/preprocessing.ts';
export {
  FILL_MODES, FLIP_MODES, INTERPOLATIONS, RandomContrast, RandomFlip, RandomRotation, RandomTranslation, RandomZoom,
  type AugmentationArgs, type Factor, type FillArgs, type FillMode, type FlipMode, type Interpolation, type RandomContrastArgs, type RandomZoomArgs,
} from './layers/augmentation.ts';
export {
  AveragePooling1D, AveragePooling2D, GlobalAveragePooling1D, GlobalAveragePooling2D, GlobalMaxPooling1D, GlobalMaxPooling2D, MaxPooling1D, MaxPooling2D,
  type Pooling1DArgs, type Pooling2DArgs,
} from './layers/pooling.ts';
export { TimeDistributed } from './layers/time_distributed.ts';
export { CenterCrop, Resizing, UpSampling1D, UpSampling2D, type CenterCropArgs, type ResizeInterpolation, type ResizingArgs, type UpSampling2DArgs } from './layers/resizing.ts';

/** Keras's `keras.layers` namespace: `new layers.Dense(64, {activation: 'relu'})`. */
export const layers = {
  Dense,
  Dropout,
  Activation,
  Flatten,
  Reshape,
  Rescaling,
  Conv1D,
  Conv2D,
  Conv2DTranspose,
  DepthwiseConv2D,
  SeparableConv2D,
  ReLU,
  LeakyReLU,
  ELU,
  PReLU,
  Softmax,
  ZeroPadding2D,
  Cropping2D,
  Permute,
  RepeatVector,
  GaussianNoise,
  GaussianDropout,
  SpatialDropout2D,
  ActivityRegularization,
  Embedding,
  LSTM,
  GRU,
  SimpleRNN,
  Bidirectional,
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
  LayerNormalization,
  Attention,
  MultiHeadAttention,
  AveragePooling2D,
  GlobalAveragePooling1D,
  GlobalAveragePooling2D,
  MaxPooling2D,
  MaxPooling1D,
  AveragePooling1D,
  GlobalMaxPooling1D,
  GlobalMaxPooling2D,
  Normalization,
  RandomFlip,
  RandomContrast,
  RandomTranslation,
  RandomZoom,
  RandomRotation,
  UpSampling2D,
  Resizing,
  CenterCrop,
  Subtract,
  Maximum,
  Minimum,
  Dot,
  subtract,
  maximum,
  minimum,
  dot,
  ZeroPadding1D,
  Cropping1D,
  UpSampling1D,
  SpatialDropout1D,
  TimeDistributed,
};

export { Model, weightsGeneration, type ModelArgs, type CallOptions } from './model.ts';
export { Sequential, type SequentialArgs } from './sequential.ts';
export { Layer, SymbolicTensor, Node, clearSession, type CallKwargs, type LayerArgs, type LayerWeight } from './layer.ts';
export { modelFromJSON } from './keras_format/model_json.ts';
export { summaryData, renderSummary, countParams, type SummaryData, type SummaryRow, type ParamCounts } from './summary.ts';
export { describeGraph, type GraphDescription, type GraphNodeDescription, type GraphEdgeDescription } from './graph.ts';
export { setRandomSeed, RandomGenerator } from './random.ts';
export { syntheticImages, type ModelData, type ModelDataSplit, type SyntheticImageOptions } from './model_data.ts';
export { setInferenceBackend, getInferenceBackend, arraysInOrder, type ArrayData, type InferenceBackend, type PredictOptions } from './backend.ts';
export * as initializers from './initializers.ts';
export * as regularizers from './regularizers.ts';
export * as constraints from './constraints.ts';
export { type Regularizer, type RegularizerIdentifier } from './regularizers.ts';
export { type Constraint, type ConstraintIdentifier } from './constraints.ts';
export { ACTIVATIONS, type ActivationName } from './activations.ts';
export { StrataUserError, ValueError, ShapeError, ConfigError, FormatError, FileError, LimitError, isUserError, type ErrorContext } from './errors.ts';
export { LIMITS } from './limits.ts';
export * as optimizers from './optimizers.ts';
export { Optimizer, SGD, Adam, AdamW, RMSprop, type OptimizerVariables } from './optimizers.ts';
export * as losses from './losses.ts';
export * as callbacks from './callbacks.ts';
export * as metrics from './metrics.ts';
export { engineMetric, type KerasMetric, type MetricIdentifier, type MetricKind, type OutputMetric } from './metrics.ts';
export { Callback, CustomCallback, EarlyStopping, History, LearningRateScheduler, ReduceLROnPlateau, TerminateOnNaN, type CallbackState, type Logs } from './callbacks.ts';
export { setTrainingBackend, getTrainingBackend, logNames, loggedMetrics, type LoggedMetric, type MetricsArg, type CompileArgs, type CompiledConfig, type FitOptions, type EvaluateOptions, type Device, type TrainingBackend, type OutputLoss } from './training.ts';
export { formatShape, type Shape, type Dim } from './shape.ts';
export {
  LAYER_CATALOG, LAYER_GROUPS, INITIALIZER_NAMES, catalogEntry, docsUrl, initializerName, newLayerConfig,
  type LayerCatalogEntry, type LayerArgument, type ArgumentType, type LayerGroup,
} from './layer_catalog.ts';
export { getLayerClass, registeredClassNames } from './registry.ts';
