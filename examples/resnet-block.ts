// A small residual network (He et al., 2016): a stem convolution, one residual block (two
// convolutions with batch normalization whose output is added to the block's input), then
// global average pooling and ten classes. For 32x32 RGB images (CIFAR-10).
// The file builds its own data (data() below): synthetic images of stripes and checkerboards,
// so it trains as it is:
//   npx strata train examples/resnet-block.ts --epochs 10
import { Input, Model, layers, syntheticImages, type ModelData } from 'strata';

const image = Input({ shape: [32, 32, 3], name: 'image' });
const stem = new layers.Conv2D(32, [3, 3], { padding: 'same', activation: 'relu', name: 'stem' }).apply(image);

let h = new layers.Conv2D(32, [3, 3], { padding: 'same', useBias: false, name: 'block_conv1' }).apply(stem);
h = new layers.BatchNormalization({ name: 'block_bn1' }).apply(h);
h = new layers.Activation('relu', { name: 'block_relu1' }).apply(h);
h = new layers.Conv2D(32, [3, 3], { padding: 'same', useBias: false, name: 'block_conv2' }).apply(h);
h = new layers.BatchNormalization({ name: 'block_bn2' }).apply(h);

let x = layers.add([stem, h], { name: 'residual' });
x = new layers.Activation('relu', { name: 'block_out' }).apply(x);
x = new layers.GlobalAveragePooling2D({ name: 'pool' }).apply(x);
const output = new layers.Dense(10, { activation: 'softmax', name: 'output' }).apply(x);

const model = new Model({ inputs: image, outputs: output, name: 'small_resnet' });
model.compile({ optimizer: 'adam', loss: 'sparse_categorical_crossentropy', metrics: ['accuracy'] });

export default model;

/** Ten classes of 32x32 images: stripes of four orientations and checkerboards, in warm or cool colours. */
export function data(): ModelData {
  return syntheticImages({ train: 2000, test: 200, size: [32, 32], channels: 3, classes: 10, seed: 2 });
}
