// Keras activations as ONNX nodes (opset 17), one row per activation. Constants are Keras's:
// selu's alpha and scale are ONNX's defaults; leaky_relu's slope is Keras's 0.2 (ONNX's
// default is 0.01); gelu is the exact erf form, Keras's default (approximate=False);
// hard_sigmoid is Keras 3's relu6(x + 3) / 6 (tf.keras 2.x had 0.2 * x + 0.5, clipped).
import type { ActivationName } from '../model/index.ts';
import { physicalAxis, type GraphBuilder, type Value } from './graph_builder.ts';

type ActivationRow = (b: GraphBuilder, x: Value, name: string, output: string) => string;

const ACTIVATION_TABLE: Record<Exclude<ActivationName, 'linear'>, ActivationRow> = {
  relu: (b, x, name, output) => b.addNode('Relu', [x.name], name, {}, output),
  sigmoid: (b, x, name, output) => b.addNode('Sigmoid', [x.name], name, {}, output),
  tanh: (b, x, name, output) => b.addNode('Tanh', [x.name], name, {}, output),
  softmax: (b, x, name, output) => b.addNode('Softmax', [x.name], name, { axis: physicalAxis(x, -1) }, output),
  elu: (b, x, name, output) => b.addNode('Elu', [x.name], name, { alpha: { float: 1 } }, output),
  selu: (b, x, name, output) => b.addNode('Selu', [x.name], name, {}, output),
  leaky_relu: (b, x, name, output) => b.addNode('LeakyRelu', [x.name], name, { alpha: { float: 0.2 } }, output),
  swish: (b, x, name, output) => {
    const sigmoid = b.addNode('Sigmoid', [x.name], `${name}/sigmoid`);
    return b.addNode('Mul', [x.name, sigmoid], name, {}, output);
  },
  softplus: (b, x, name, output) => b.addNode('Softplus', [x.name], name, {}, output),
  hard_sigmoid: (b, x, name, output) => b.addNode('HardSigmoid', [x.name], name, { alpha: { float: 1 / 6 }, beta: { float: 0.5 } }, output),
  relu6: (b, x, name, output) => clip(b, x.name, 0, 6, name, output),
  gelu: (b, x, name, output) => {
    // 0.5 * x * (1 + erf(x / sqrt(2)))
    const scaled = b.addNode('Div', [x.name, b.floatConstant(`${name}/sqrt2`, [Math.SQRT2])], `${name}/div`);
    const erf = b.addNode('Erf', [scaled], `${name}/erf`);
    const onePlus = b.addNode('Add', [erf, b.floatConstant(`${name}/one`, [1])], `${name}/add`);
    const times = b.addNode('Mul', [x.name, onePlus], `${name}/mul`);
    return b.addNode('Mul', [times, b.floatConstant(`${name}/half`, [0.5])], name, {}, output);
  },
};

/** ONNX Clip (opset >= 11: min and max are inputs) of tensor `x` to [min, max]. */
export function clip(b: GraphBuilder, x: string, min: number, max: number, name: string, output?: string): string {
  return b.addNode('Clip', [x, b.floatConstant(`${name}/min`, [min]), b.floatConstant(`${name}/max`, [max])], name, {}, output);
}

/** Applies an activation; linear returns the input untouched. */
export function applyActivation(b: GraphBuilder, activation: ActivationName, x: Value, name: string, output?: string): Value {
  if (activation === 'linear') return x;
  return { ...x, name: ACTIVATION_TABLE[activation](b, x, name, output ?? b.uniqueName(name)) };
}
