// Which colour a node's header gets, from its Keras class or ONNX op type: the grouping
// Netron uses (layers, activations, pooling, normalization, dropout, shape and tensor ops).
import type { NodeCategory } from './types.ts';

const ONNX_CATEGORIES: Record<string, NodeCategory> = {};
const KERAS_CATEGORIES: Record<string, NodeCategory> = {};

function assign(table: Record<string, NodeCategory>, category: NodeCategory, names: string): void {
  for (const name of names.split(/\s+/).filter(Boolean)) table[name] = category;
}

assign(ONNX_CATEGORIES, 'layer', 'Conv ConvTranspose ConvInteger QLinearConv Gemm MatMul MatMulInteger QLinearMatMul LSTM GRU RNN Attention MultiHeadAttention Einsum');
assign(ONNX_CATEGORIES, 'activation', 'Relu LeakyRelu PRelu Sigmoid HardSigmoid Tanh Softmax LogSoftmax Softplus Softsign Elu Selu Celu Gelu HardSwish Mish Clip ThresholdedRelu Swish');
assign(ONNX_CATEGORIES, 'pool', 'MaxPool AveragePool GlobalAveragePool GlobalMaxPool LpPool GlobalLpPool MaxRoiPool MaxUnpool');
assign(ONNX_CATEGORIES, 'normalization', 'BatchNormalization LayerNormalization InstanceNormalization GroupNormalization LRN LpNormalization MeanVarianceNormalization');
assign(ONNX_CATEGORIES, 'dropout', 'Dropout');
assign(ONNX_CATEGORIES, 'shape', 'Reshape Flatten Transpose Squeeze Unsqueeze Shape Size Expand DepthToSpace SpaceToDepth Cast CastLike');
assign(ONNX_CATEGORIES, 'tensor', 'Concat Split Slice Gather GatherElements GatherND Scatter ScatterElements ScatterND Pad Tile Resize Upsample Where OneHot TopK NonZero Range ConstantOfShape');
assign(ONNX_CATEGORIES, 'constant', 'Constant Identity');

assign(KERAS_CATEGORIES, 'layer', 'Dense Conv1D Conv2D Conv3D Conv2DTranspose SeparableConv2D DepthwiseConv2D Embedding LSTM GRU SimpleRNN MultiHeadAttention EinsumDense');
assign(KERAS_CATEGORIES, 'activation', 'Activation ReLU LeakyReLU PReLU ELU Softmax');
assign(KERAS_CATEGORIES, 'pool', 'MaxPooling1D MaxPooling2D MaxPooling3D AveragePooling1D AveragePooling2D AveragePooling3D GlobalAveragePooling1D GlobalAveragePooling2D GlobalMaxPooling1D GlobalMaxPooling2D');
assign(KERAS_CATEGORIES, 'normalization', 'BatchNormalization LayerNormalization GroupNormalization Normalization UnitNormalization');
assign(KERAS_CATEGORIES, 'dropout', 'Dropout SpatialDropout1D SpatialDropout2D GaussianDropout AlphaDropout');
assign(KERAS_CATEGORIES, 'shape', 'Flatten Reshape Permute RepeatVector Cropping2D ZeroPadding2D UpSampling2D Rescaling Resizing CenterCrop');
assign(KERAS_CATEGORIES, 'merge', 'Add Subtract Multiply Average Maximum Minimum Concatenate Dot');
assign(KERAS_CATEGORIES, 'io', 'InputLayer');

export function onnxCategory(opType: string): NodeCategory {
  return ONNX_CATEGORIES[opType] ?? 'other';
}

export function kerasCategory(className: string): NodeCategory {
  return KERAS_CATEGORIES[className] ?? 'layer';
}

/** Header fill and text colour per category (light theme; white text has 7:1 contrast or better on each fill). */
export const CATEGORY_COLORS: Record<NodeCategory, { fill: string; text: string }> = {
  layer: { fill: '#335588', text: '#ffffff' },
  activation: { fill: '#702921', text: '#ffffff' },
  pool: { fill: '#335533', text: '#ffffff' },
  normalization: { fill: '#2f5d57', text: '#ffffff' },
  dropout: { fill: '#454770', text: '#ffffff' },
  shape: { fill: '#6c4f47', text: '#ffffff' },
  tensor: { fill: '#59423b', text: '#ffffff' },
  merge: { fill: '#4b3f6b', text: '#ffffff' },
  constant: { fill: '#e4e7eb', text: '#1f2933' },
  io: { fill: '#e4e7eb', text: '#1f2933' },
  other: { fill: '#e4e7eb', text: '#1f2933' },
};
