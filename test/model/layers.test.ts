// Each layer's output shape and parameter count, worked out by hand from Keras's rules
// (conv_output_length, compute_pooling_output_shape, weight shapes), one case per row.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  Activation, Add, AveragePooling2D, BatchNormalization, Concatenate, Conv2D, Dense, Dropout, Embedding, Flatten,
  GlobalAveragePooling1D, GlobalAveragePooling2D, Input, MaxPooling2D, Rescaling, Reshape, type Layer, type Shape,
} from '../../app/model/index.ts';

interface Case {
  name: string;
  make: () => Layer;
  inputs: Shape[];
  output: Shape;
  params: number;
  trainable?: number;
}

const cases: Case[] = [
  { name: 'Dense on (None, 100)', make: () => new Dense(64), inputs: [[null, 100]], output: [null, 64], params: 100 * 64 + 64 },
  { name: 'Dense without bias', make: () => new Dense(64, { useBias: false }), inputs: [[null, 100]], output: [null, 64], params: 6400 },
  { name: 'Dense on a sequence (last axis)', make: () => new Dense(16), inputs: [[null, 10, 8]], output: [null, 10, 16], params: 8 * 16 + 16 },
  { name: 'Conv2D 3x3 valid', make: () => new Conv2D(32, [3, 3]), inputs: [[null, 64, 64, 3]], output: [null, 62, 62, 32], params: 3 * 3 * 3 * 32 + 32 },
  { name: 'Conv2D 3x3 same', make: () => new Conv2D(32, 3, { padding: 'same' }), inputs: [[null, 64, 64, 3]], output: [null, 64, 64, 32], params: 896 },
  { name: 'Conv2D stride 2 valid', make: () => new Conv2D(8, 3, { strides: 2 }), inputs: [[null, 64, 63, 3]], output: [null, 31, 31, 8], params: 27 * 8 + 8 },
  { name: 'Conv2D stride 2 same', make: () => new Conv2D(8, 3, { strides: [2, 2], padding: 'same' }), inputs: [[null, 64, 63, 3]], output: [null, 32, 32, 8], params: 224 },
  { name: 'Conv2D dilation 2', make: () => new Conv2D(4, [3, 3], { dilationRate: 2 }), inputs: [[null, 20, 20, 2]], output: [null, 16, 16, 4], params: 9 * 2 * 4 + 4 },
  { name: 'Conv2D 5x3 kernel, no bias', make: () => new Conv2D(6, [5, 3], { useBias: false }), inputs: [[null, 10, 10, 4]], output: [null, 6, 8, 6], params: 5 * 3 * 4 * 6 },
  { name: 'Conv2D unknown spatial size', make: () => new Conv2D(8, 3), inputs: [[null, null, null, 3]], output: [null, null, null, 8], params: 224 },
  { name: 'MaxPooling2D default 2x2', make: () => new MaxPooling2D(), inputs: [[null, 62, 62, 32]], output: [null, 31, 31, 32], params: 0 },
  { name: 'MaxPooling2D odd size floors', make: () => new MaxPooling2D([2, 2]), inputs: [[null, 29, 29, 64]], output: [null, 14, 14, 64], params: 0 },
  { name: 'MaxPooling2D 3x3 stride 2', make: () => new MaxPooling2D({ poolSize: 3, strides: 2 }), inputs: [[null, 62, 62, 8]], output: [null, 30, 30, 8], params: 0 },
  { name: 'MaxPooling2D same', make: () => new MaxPooling2D(3, { strides: 2, padding: 'same' }), inputs: [[null, 62, 61, 8]], output: [null, 31, 31, 8], params: 0 },
  { name: 'AveragePooling2D 2x2', make: () => new AveragePooling2D([2, 2]), inputs: [[null, 10, 9, 3]], output: [null, 5, 4, 3], params: 0 },
  { name: 'GlobalAveragePooling2D', make: () => new GlobalAveragePooling2D(), inputs: [[null, 7, 7, 128]], output: [null, 128], params: 0 },
  { name: 'GlobalAveragePooling2D keepdims', make: () => new GlobalAveragePooling2D({ keepdims: true }), inputs: [[null, 7, 7, 128]], output: [null, 1, 1, 128], params: 0 },
  { name: 'GlobalAveragePooling1D', make: () => new GlobalAveragePooling1D(), inputs: [[null, 20, 16]], output: [null, 16], params: 0 },
  { name: 'Embedding', make: () => new Embedding(1000, 64), inputs: [[null, 20]], output: [null, 20, 64], params: 64000 },
  { name: 'Embedding with input_length', make: () => new Embedding(50, 8, { inputLength: 12 }), inputs: [[null, null]], output: [null, 12, 8], params: 400 },
  { name: 'Flatten', make: () => new Flatten(), inputs: [[null, 14, 14, 64]], output: [null, 12544], params: 0 },
  { name: 'Flatten unknown size', make: () => new Flatten(), inputs: [[null, null, 4]], output: [null, null], params: 0 },
  { name: 'Reshape', make: () => new Reshape([7, 7, 4]), inputs: [[null, 196]], output: [null, 7, 7, 4], params: 0 },
  { name: 'Reshape with -1', make: () => new Reshape([-1, 4]), inputs: [[null, 12, 2]], output: [null, 6, 4], params: 0 },
  { name: 'Dropout', make: () => new Dropout(0.5), inputs: [[null, 64]], output: [null, 64], params: 0 },
  { name: 'Activation', make: () => new Activation('gelu'), inputs: [[null, 3, 5]], output: [null, 3, 5], params: 0 },
  { name: 'Rescaling', make: () => new Rescaling(1 / 255), inputs: [[null, 28, 28, 1]], output: [null, 28, 28, 1], params: 0 },
  { name: 'BatchNormalization', make: () => new BatchNormalization(), inputs: [[null, 32]], output: [null, 32], params: 128, trainable: 64 },
  { name: 'BatchNormalization on images', make: () => new BatchNormalization(), inputs: [[null, 8, 8, 16]], output: [null, 8, 8, 16], params: 64, trainable: 32 },
  { name: 'BatchNormalization without scale', make: () => new BatchNormalization({ scale: false }), inputs: [[null, 10]], output: [null, 10], params: 30, trainable: 10 },
  { name: 'Concatenate', make: () => new Concatenate(), inputs: [[null, 32], [null, 16]], output: [null, 48], params: 0 },
  { name: 'Concatenate on channels of images', make: () => new Concatenate(3), inputs: [[null, 8, 8, 3], [null, 8, 8, 5]], output: [null, 8, 8, 8], params: 0 },
  { name: 'Concatenate axis 1', make: () => new Concatenate({ axis: 1 }), inputs: [[null, 4, 6], [null, 2, 6]], output: [null, 6, 6], params: 0 },
  { name: 'Add', make: () => new Add(), inputs: [[null, 16], [null, 16], [null, 16]], output: [null, 16], params: 0 },
];

describe('layer output shapes and parameter counts (Keras rules)', () => {
  for (const c of cases) {
    test(c.name, () => {
      const layer = c.make();
      const inputs = c.inputs.map((shape) => Input({ batchShape: shape }));
      const out = layer.apply(inputs.length === 1 ? inputs[0]! : inputs);
      assert.deepEqual(out.shape, c.output);
      assert.equal(layer.countParams(), c.params);
      const trainable = layer.trainableWeights.reduce((n, w) => n + w.value.length, 0);
      assert.equal(trainable, c.trainable ?? c.params);
      for (const w of layer.weights) assert.equal(w.value.length, w.shape.reduce((a, b) => a * b, 1), `${w.name} storage`);
    });
  }
});

describe('weights in Keras layouts', () => {
  test('Conv2D kernel is (kh, kw, in, out), Dense kernel is (in, out)', () => {
    const conv = new Conv2D(32, [3, 5]);
    conv.apply(Input({ shape: [10, 10, 3] }));
    assert.deepEqual(conv.weights.map((w) => [w.name, w.shape]), [['kernel', [3, 5, 3, 32]], ['bias', [32]]]);
    const dense = new Dense(7);
    dense.apply(Input({ shape: [4] }));
    assert.deepEqual(dense.weights.map((w) => [w.name, w.shape]), [['kernel', [4, 7]], ['bias', [7]]]);
  });

  test('BatchNormalization weights: gamma, beta trainable; moving statistics not', () => {
    const bn = new BatchNormalization();
    bn.apply(Input({ shape: [3] }));
    assert.deepEqual(bn.weights.map((w) => [w.name, w.trainable]), [['gamma', true], ['beta', true], ['moving_mean', false], ['moving_variance', false]]);
    assert.deepEqual([...bn.weights[0]!.value], [1, 1, 1]);
    assert.deepEqual([...bn.weights[3]!.value], [1, 1, 1]);
    assert.deepEqual([...bn.weights[1]!.value], [0, 0, 0]);
    assert.equal(bn.momentum, 0.99);
    assert.equal(bn.epsilon, 1e-3);
  });

  test('a frozen layer counts all its weights as non-trainable', () => {
    const dense = new Dense(3, { trainable: false });
    dense.apply(Input({ shape: [2] }));
    assert.equal(dense.trainableWeights.length, 0);
    assert.equal(dense.nonTrainableWeights.length, 2);
  });
});
