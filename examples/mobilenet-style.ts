// A small MobileNet-style image classifier (Howard et al., 2017): a strided stem convolution,
// then depthwise-separable blocks (a 3x3 DepthwiseConv2D and a 1x1 Conv2D, each followed by
// batch normalization and ReLU6), one of them strided behind MobileNet's ZeroPadding2D, a
// SeparableConv2D, global average pooling and ten classes. For 32x32 RGB images (CIFAR-10).
// The file builds its own data (data() below): synthetic images of stripes and checkerboards,
// so it trains as it is:
//   npx strata train examples/mobilenet-style.ts --epochs 10
import { Input, Model, layers, type SymbolicTensor, syntheticImages, type ModelData } from 'strata';

/** Batch normalization then ReLU6, as MobileNet follows every convolution. */
function bnRelu6(x: SymbolicTensor, name: string): SymbolicTensor {
  const normalized = new layers.BatchNormalization({ name: `${name}_bn` }).apply(x);
  return new layers.ReLU({ maxValue: 6, name: `${name}_relu` }).apply(normalized);
}

/** MobileNet's depthwise-separable block: 3x3 depthwise (strided with its asymmetric padding), then 1x1 to `filters`. */
function separableBlock(x: SymbolicTensor, filters: number, strides: 1 | 2, name: string): SymbolicTensor {
  const padded = strides === 2 ? new layers.ZeroPadding2D([[0, 1], [0, 1]], { name: `${name}_pad` }).apply(x) : x;
  const depthwise = new layers.DepthwiseConv2D(3, { strides, padding: strides === 2 ? 'valid' : 'same', useBias: false, name: `${name}_dw` }).apply(padded);
  const pointwise = new layers.Conv2D(filters, 1, { useBias: false, name: `${name}_pw` }).apply(bnRelu6(depthwise, `${name}_dw`));
  return bnRelu6(pointwise, `${name}_pw`);
}

const image = Input({ shape: [32, 32, 3], name: 'image' });
let x = bnRelu6(new layers.Conv2D(16, 3, { strides: 2, padding: 'same', useBias: false, name: 'stem' }).apply(image), 'stem');
x = separableBlock(x, 32, 1, 'block1');
x = separableBlock(x, 64, 2, 'block2');
x = new layers.SeparableConv2D(64, 3, { padding: 'same', activation: 'relu6', name: 'block3_sep' }).apply(x);
x = new layers.GlobalAveragePooling2D({ name: 'pool' }).apply(x);
x = new layers.Dropout(0.2, { name: 'dropout' }).apply(x);
const output = new layers.Dense(10, { activation: 'softmax', name: 'output' }).apply(x);

const model = new Model({ inputs: image, outputs: output, name: 'mobilenet_style' });
model.compile({ optimizer: 'adam', loss: 'sparse_categorical_crossentropy', metrics: ['accuracy'] });

export default model;

/** Ten classes of 32x32 images: stripes of four orientations and checkerboards, in warm or cool colours. */
export function data(): ModelData {
  return syntheticImages({ train: 3000, test: 300, size: [32, 32], channels: 3, classes: 10, seed: 1 });
}
