// Tests of the reference forward pass itself: small cases of every layer worked out by hand
// (the arithmetic is in the comments), activations against known values, and the two seed
// models run end to end. The reference is the oracle for the ONNX and native backends, so
// it is checked here against nothing but arithmetic.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import {
  Activation, Add, AveragePooling2D, BatchNormalization, Concatenate, Conv2D, Dense, Dropout, Embedding, Flatten,
  GlobalAveragePooling1D, GlobalAveragePooling2D, Input, Layer, MaxPooling2D, Model, Rescaling, Reshape, Sequential,
  type Shape, type SymbolicTensor,
} from '../../app/model/index.ts';
import productImageClassifier from '../../examples/product-image-classifier.ts';
import purchasePredictor from '../../examples/purchase-predictor.ts';
import {
  ELEMENTWISE_ACTIVATIONS, LEAKY_RELU_SLOPE, SELU_ALPHA, SELU_SCALE, applyActivation, erf, erfc, gelu, paddingFor,
  randomInputs, referencePredict,
} from './keras_forward.ts';
import {
  assertAllClose, at, compareTensors, offsetOf, randomIntTensor, randomTensor, stridesOf, tensor, toNested, type RefTensor,
} from './tensor.ts';

/** Runs one layer on one or more inputs (shapes without the batch dimension) with the given weights. */
function runLayer(layer: Layer, inputs: RefTensor[], weights?: number[][]): RefTensor {
  const symbolic = inputs.map((x) => Input({ shape: x.shape.slice(1) }));
  const model = new Model({ inputs: symbolic, outputs: layer.apply(symbolic.length === 1 ? symbolic[0]! : symbolic) });
  if (weights) layer.setWeights(weights.map((w) => Float32Array.from(w)));
  const outputs = referencePredict(model, inputs);
  assert.equal(outputs.length, 1);
  return outputs[0]!;
}

/** Exact comparison of a small result with nested arrays. */
function assertValues(t: RefTensor, shape: number[], nested: unknown): void {
  assert.deepEqual(t.shape, shape);
  assert.deepEqual(toNested(t), nested);
}

function assertNear(actual: number, expected: number, rtol = 1e-15, what = ''): void {
  assert.ok(Math.abs(actual - expected) <= rtol * Math.max(Math.abs(expected), 1e-300), `${what}: got ${actual}, expected ${expected}`);
}

/** The 1-channel 4x4 image with rows [1..4], [5..8], [9..12], [13..16], shape (1, 4, 4, 1). */
const image4x4 = (): RefTensor => tensor([1, 4, 4, 1], Array.from({ length: 16 }, (_, i) => i + 1));

describe('tensor helpers', () => {
  test('strides and offsets are row-major', () => {
    assert.deepEqual(stridesOf([2, 3, 4]), [12, 4, 1]);
    assert.equal(offsetOf([2, 3, 4], [1, 2, 3]), 23);
    assert.throws(() => offsetOf([2, 3], [2, 0]), /out of bounds/);
    assert.equal(at(tensor([2, 2], [1, 2, 3, 4]), [1, 0]), 3);
  });

  test('random tensors are seeded and float32-representable', () => {
    const a = randomTensor([3, 5], 42);
    const b = randomTensor([3, 5], 42);
    assert.deepEqual(a, b);
    assert.notDeepEqual(randomTensor([3, 5], 43).data, a.data);
    for (const v of a.data) {
      assert.ok(v >= -1 && v < 1);
      assert.equal(v, Math.fround(v));
    }
    const ids = randomIntTensor([100], 7, 1);
    assert.ok(ids.data.every((v) => Number.isInteger(v) && v >= 0 && v < 7));
  });

  test('compareTensors and assertAllClose use atol + rtol * |expected| and report the first mismatches', () => {
    const expected = tensor([2, 2], [1, 2, 3, 0]);
    assert.ok(compareTensors(tensor([2, 2], [1 + 5e-6, 2, 3, 5e-7]), expected).ok);
    const bad = compareTensors(tensor([2, 2], [1, 2.001, 3, 0]), expected);
    assert.equal(bad.ok, false);
    assert.equal(bad.mismatchCount, 1);
    assert.deepEqual(bad.firstMismatches, ['[0, 1]: got 2.001, expected 2']);
    assert.equal(compareTensors(tensor([4], [1, 2, 3, 0]), expected).ok, false);
    assert.equal(compareTensors(tensor([2, 2], [1, 2, NaN, 0]), expected).ok, false);
    assert.throws(() => assertAllClose(tensor([2, 2], [1, 2.001, 3, 0]), expected, { what: 'dense' }), /dense: 1 of 4 elements differ[\s\S]*\[0, 1\]/);
  });
});

describe('activations (Keras 3 definitions)', () => {
  test('erf and erfc to double precision (values from Python math.erf/erfc)', () => {
    const cases: [number, number][] = [[0.5, 0.5204998778130465], [1, 0.8427007929497149], [2, 0.9953222650189527], [0.01, 0.011283415555849616], [2.4, 0.999311486103355]];
    for (const [x, e] of cases) {
      assertNear(erf(x), e, 4e-16, `erf(${x})`);
      assertNear(erf(-x), -e, 4e-16, `erf(${-x})`);
    }
    assertNear(erfc(3), 2.2090496998585438e-5, 1e-14, 'erfc(3)');
    assertNear(erfc(5), 1.5374597944280351e-12, 1e-14, 'erfc(5)');
    assertNear(erfc(10), 2.088487583762545e-45, 1e-14, 'erfc(10)');
    assertNear(erfc(2.6), 0.00023603441652934908, 1e-14, 'erfc(2.6)');
    assertNear(erfc(-1), 2 - erfc(1), 1e-16, 'erfc(-1)');
    assert.equal(erf(0), 0);
  });

  test('gelu is exact (erf form, approximate=False)', () => {
    assertNear(gelu(1), 0.8413447460685429, 4e-16, 'gelu(1)');
    assertNear(gelu(-0.5), -0.15426876936299344, 4e-16, 'gelu(-0.5)');
    assert.equal(gelu(0), 0);
    // Far in the tails gelu is x itself, and a tiny negative number rather than 0 or NaN.
    assertNear(gelu(8), 8, 1e-15, 'gelu(8)');
    assert.ok(gelu(-8) < 0 && gelu(-8) > -1e-13);
    assert.equal(gelu(-40), -0);
  });

  test('elementwise activations against their formulas', () => {
    const f = ELEMENTWISE_ACTIVATIONS;
    for (const x of [-3, -0.5, 0, 0.25, 2]) {
      assert.equal(f.linear(x), x);
      assert.equal(f.relu(x), Math.max(x, 0));
      assertNear(f.sigmoid(x), 1 / (1 + Math.exp(-x)), 1e-15, `sigmoid(${x})`);
      assert.equal(f.tanh(x), Math.tanh(x));
      assertNear(f.elu(x), x > 0 ? x : Math.exp(x) - 1, 1e-15, `elu(${x})`);
      assertNear(f.selu(x), SELU_SCALE * (x > 0 ? x : SELU_ALPHA * (Math.exp(x) - 1)), 1e-15, `selu(${x})`);
      assert.equal(f.leaky_relu(x), x >= 0 ? x : 0.2 * x);
      assertNear(f.swish(x), x / (1 + Math.exp(-x)), 1e-15, `swish(${x})`);
    }
    assert.equal(LEAKY_RELU_SLOPE, 0.2);
    assertNear(f.selu(-1), -1.1113307378125625, 1e-15, 'selu(-1)');
    assert.equal(f.sigmoid(0), 0.5);
    assert.ok(f.sigmoid(-1000) >= 0 && f.sigmoid(1000) === 1);
  });

  test('softmax runs over the last axis, rows sum to 1, large logits do not overflow', () => {
    const y = applyActivation(tensor([2, 3], [1, 2, 3, 1000, 1001, 1002]), 'softmax');
    const expected = [0.09003057317038046, 0.24472847105479767, 0.6652409557748219];
    for (let j = 0; j < 3; j++) {
      assertNear(y.data[j]!, expected[j]!, 1e-15, `row 0 [${j}]`);
      assertNear(y.data[3 + j]!, expected[j]!, 1e-15, `row 1 [${j}]`);
    }
    const z = applyActivation(randomTensor([4, 5, 6], 3, { low: -20, high: 20 }), 'softmax');
    for (let row = 0; row < 20; row++) assertNear(z.data.slice(row * 6, row * 6 + 6).reduce((a, b) => a + b, 0), 1, 1e-15, `row ${row}`);
  });

  test('the Activation layer applies its function', () => {
    const x = tensor([1, 2, 2], [-1, 0, 1, 2]);
    assertValues(runLayer(new Activation('relu'), [x]), [1, 2, 2], [[[0, 0], [1, 2]]]);
    const s = runLayer(new Activation('softmax'), [x]);
    assertNear(s.data[0]! + s.data[1]!, 1, 1e-15, 'softmax row');
    assertNear(s.data[0]!, 1 / (1 + Math.E), 1e-15, 'softmax(-1, 0)[0]');
    assertNear(runLayer(new Activation('gelu'), [tensor([1, 1], [1])]).data[0]!, 0.8413447460685429, 4e-16, 'gelu layer');
    assertNear(runLayer(new Activation('silu'), [tensor([1, 1], [1])]).data[0]!, 1 / (1 + Math.exp(-1)), 1e-15, 'silu = swish');
  });
});

describe('Dense', () => {
  // kernel (in 2, units 3) = [[1, 2, 3], [4, 5, 6]], bias [0.5, 0, -1]:
  // x = [1, 2] -> [1 + 8 + 0.5, 2 + 10 + 0, 3 + 12 - 1] = [9.5, 12, 14].
  const kernel = [1, 2, 3, 4, 5, 6];
  const bias = [0.5, 0, -1];

  test('x @ kernel + bias, then the activation', () => {
    const x = tensor([2, 2], [1, 2, -1, -2]);
    assertValues(runLayer(new Dense(3), [x], [kernel, bias]), [2, 3], [[9.5, 12, 14], [-8.5, -12, -16]]);
    assertValues(runLayer(new Dense(3, { activation: 'relu' }), [x], [kernel, bias]), [2, 3], [[9.5, 12, 14], [0, 0, 0]]);
  });

  test('without bias', () => {
    assertValues(runLayer(new Dense(3, { useBias: false }), [tensor([1, 2], [1, 2])], [kernel]), [1, 3], [[9, 12, 15]]);
  });

  test('on a sequence it works on the last axis', () => {
    const x = tensor([1, 2, 2], [1, 2, 0, 1]);
    assertValues(runLayer(new Dense(3), [x], [kernel, bias]), [1, 2, 3], [[[9.5, 12, 14], [4.5, 5, 5]]]);
  });
});

describe('Conv2D', () => {
  test('TensorFlow padding arithmetic: the smaller half of the padding goes before', () => {
    assert.deepEqual(paddingFor(4, 3, 1, 1, 'same'), { out: 4, before: 1 });
    assert.deepEqual(paddingFor(4, 3, 2, 1, 'same'), { out: 2, before: 0 }); // total 1: 0 before, 1 after
    assert.deepEqual(paddingFor(5, 3, 2, 1, 'same'), { out: 3, before: 1 }); // total 2
    assert.deepEqual(paddingFor(4, 2, 1, 1, 'same'), { out: 4, before: 0 }); // total 1
    assert.deepEqual(paddingFor(6, 3, 1, 2, 'same'), { out: 6, before: 2 }); // span 5, total 4
    assert.deepEqual(paddingFor(4, 3, 1, 1, 'valid'), { out: 2, before: 0 });
    assert.deepEqual(paddingFor(7, 3, 2, 1, 'valid'), { out: 3, before: 0 });
  });

  test('3x3 of ones, valid: sums of the 3x3 windows', () => {
    // (0,0): 1+2+3+5+6+7+9+10+11 = 54; each step right adds 3 x 3 = 9, each step down 3 x 12 = 36.
    const y = runLayer(new Conv2D(1, 3, { useBias: false }), [image4x4()], [Array(9).fill(1)]);
    assertValues(y, [1, 2, 2, 1], [[[[54], [63]], [[90], [99]]]]);
  });

  test('3x3 of ones, same: one cell of zero padding on every side', () => {
    // Corner (0,0) sees rows 0-1, cols 0-1: 1+2+5+6 = 14; the centre cells match the valid case.
    const y = runLayer(new Conv2D(1, 3, { padding: 'same', useBias: false }), [image4x4()], [Array(9).fill(1)]);
    const expected = [[14, 24, 30, 22], [33, 54, 63, 45], [57, 90, 99, 69], [46, 72, 78, 54]];
    assertValues(y, [1, 4, 4, 1], [expected.map((row) => row.map((v) => [v]))]);
  });

  test('3x3 of ones, same, stride 2: padding 0 before and 1 after', () => {
    // (0,0): rows 0-2 x cols 0-2 = 54; (0,1): rows 0-2 x cols 2-3 = 3+4+7+8+11+12 = 45;
    // (1,0): rows 2-3 x cols 0-2 = 9+10+11+13+14+15 = 72; (1,1): 11+12+15+16 = 54.
    const y = runLayer(new Conv2D(1, 3, { padding: 'same', strides: 2, useBias: false }), [image4x4()], [Array(9).fill(1)]);
    assertValues(y, [1, 2, 2, 1], [[[[54], [45]], [[72], [54]]]]);
  });

  test('an asymmetric 2x2 kernel, same: kernel rows are kh, columns kw; the padding goes after', () => {
    // kernel [[1, 10], [100, 1000]]: y[i][j] = x[i][j] + 10 x[i][j+1] + 100 x[i+1][j] + 1000 x[i+1][j+1].
    // (0,0) = 1 + 20 + 500 + 6000 = 6521; (0,3) = 4 + 100 * 8 = 804; (3,0) = 13 + 10 * 14 = 153; (3,3) = 16.
    const y = runLayer(new Conv2D(1, 2, { padding: 'same' }), [image4x4()], [[1, 10, 100, 1000], [0.5]]);
    const expected = [[6521, 7632, 8743, 804], [10965, 12076, 13187, 1208], [15409, 16520, 17631, 1612], [153, 164, 175, 16]];
    assertValues(y, [1, 4, 4, 1], [expected.map((row) => row.map((v) => [v + 0.5]))]);
  });

  test('dilation 2: a 2x2 kernel of ones reads cells two apart', () => {
    // (0,0) = x00 + x02 + x20 + x22 = 1 + 3 + 9 + 11 = 24; (0,1) = 2+4+10+12 = 28; (1,0) = 40; (1,1) = 44.
    const y = runLayer(new Conv2D(1, 2, { dilationRate: 2, useBias: false }), [image4x4()], [Array(4).fill(1)]);
    assertValues(y, [1, 2, 2, 1], [[[[24], [28]], [[40], [44]]]]);
  });

  test('channels: kernel (kh, kw, in, out), bias per filter, activation after the bias', () => {
    // 1x1 kernel, in 2, out 3: K = [[1, 0, -1], [10, 1, 0]] (rows are input channels).
    // pixel (c0, c1) = (1, 2) -> [1 + 20, 2, -1] + bias [0, 0, 0.5] = [21, 2, -0.5] -> relu [21, 2, 0].
    const x = tensor([2, 1, 2, 2], [1, 2, 3, 4, -1, -2, 0, 1]);
    const y = runLayer(new Conv2D(3, 1, { activation: 'relu' }), [x], [[1, 0, -1, 10, 1, 0], [0, 0, 0.5]]);
    assertValues(y, [2, 1, 2, 3], [[[[21, 2, 0], [43, 4, 0]]], [[[0, 0, 1.5], [10, 1, 0.5]]]]);
  });
});

describe('pooling', () => {
  test('2x2 max and average pooling, valid', () => {
    assertValues(runLayer(new MaxPooling2D(), [image4x4()]), [1, 2, 2, 1], [[[[6], [8]], [[14], [16]]]]);
    assertValues(runLayer(new AveragePooling2D(), [image4x4()]), [1, 2, 2, 1], [[[[3.5], [5.5]], [[11.5], [13.5]]]]);
  });

  test('max pooling, same, ignores the padded cells (all-negative input)', () => {
    // 3x3 stride 2 on 4x4: padding 0 before, 1 after. On -x the maxima are at each window's top-left cell:
    // (0,0) -1, (0,1) -3, (1,0) -9, (1,1) -11. Padding read as 0 would give 0 on the right and bottom.
    const x = image4x4();
    x.data = x.data.map((v) => -v);
    assertValues(runLayer(new MaxPooling2D(3, { strides: 2, padding: 'same' }), [x]), [1, 2, 2, 1], [[[[-1], [-3]], [[-9], [-11]]]]);
  });

  test('average pooling, same, divides by the number of cells inside the image', () => {
    // Windows as in the conv stride-2 case: 54 / 9 = 6, 45 / 6 = 7.5, 72 / 6 = 12, 54 / 4 = 13.5.
    assertValues(runLayer(new AveragePooling2D(3, { strides: 2, padding: 'same' }), [image4x4()]), [1, 2, 2, 1], [[[[6], [7.5]], [[12], [13.5]]]]);
    // 2x2 stride 1 same on 3x3 [[1,2,3],[4,5,6],[7,8,9]]: padding after only; the last column
    // averages (3+6)/2, (6+9)/2, and the bottom-right cell is 9 alone.
    const y = runLayer(new AveragePooling2D(2, { strides: 1, padding: 'same' }), [tensor([1, 3, 3, 1], [1, 2, 3, 4, 5, 6, 7, 8, 9])]);
    assertValues(y, [1, 3, 3, 1], [[[[3], [4], [4.5]], [[6], [7], [7.5]], [[7.5], [8.5], [9]]]]);
  });

  test('channels pool independently; strides other than the pool size', () => {
    // 2 channels: c0 = 1..16, c1 = -(1..16); 2x2 stride 1 valid max -> 3x3.
    const x = tensor([1, 4, 4, 2], Array.from({ length: 32 }, (_, i) => (i % 2 === 0 ? i / 2 + 1 : -((i - 1) / 2 + 1))));
    const y = runLayer(new MaxPooling2D(2, { strides: 1 }), [x]);
    assert.deepEqual(y.shape, [1, 3, 3, 2]);
    assert.equal(at(y, [0, 0, 0, 0]), 6);
    assert.equal(at(y, [0, 0, 0, 1]), -1);
    assert.equal(at(y, [0, 2, 2, 0]), 16);
    assert.equal(at(y, [0, 2, 2, 1]), -11);
  });

  test('global average pooling over H, W (2D) and steps (1D), with keepdims', () => {
    const x = tensor([1, 2, 2, 2], [1, 10, 2, 20, 3, 30, 4, 40]);
    assertValues(runLayer(new GlobalAveragePooling2D(), [x]), [1, 2], [[2.5, 25]]);
    assertValues(runLayer(new GlobalAveragePooling2D({ keepdims: true }), [x]), [1, 1, 1, 2], [[[[2.5, 25]]]]);
    const s = tensor([2, 3, 2], [1, 2, 3, 4, 5, 6, 0, 0, 0, 0, 3, -3]);
    assertValues(runLayer(new GlobalAveragePooling1D(), [s]), [2, 2], [[3, 4], [1, -1]]);
    assertValues(runLayer(new GlobalAveragePooling1D({ keepdims: true }), [s]), [2, 1, 2], [[[3, 4]], [[1, -1]]]);
  });
});

describe('Embedding, Reshape, Flatten, Dropout, Rescaling', () => {
  test('Embedding looks up rows of (input_dim, output_dim); ids come as floats', () => {
    const table = [0, 0.5, 1, 1.5, 2, 2.5, 3, 3.5]; // 4 ids x 2
    const ids = tensor([2, 3], [3, 0, 1, 2, 2, 0]);
    const y = runLayer(new Embedding(4, 2), [ids], [table]);
    assertValues(y, [2, 3, 2], [[[3, 3.5], [0, 0.5], [1, 1.5]], [[2, 2.5], [2, 2.5], [0, 0.5]]]);
    assert.throws(() => runLayer(new Embedding(4, 2), [tensor([1, 1], [4])], [table]), /id 4 .*outside \[0, 4\)/);
  });

  test('Reshape keeps the row-major order and infers -1', () => {
    const x = tensor([2, 6], Array.from({ length: 12 }, (_, i) => i));
    assertValues(runLayer(new Reshape([-1, 2]), [x]), [2, 3, 2], [[[0, 1], [2, 3], [4, 5]], [[6, 7], [8, 9], [10, 11]]]);
    assertValues(runLayer(new Reshape([2, 3]), [x]), [2, 2, 3], [[[0, 1, 2], [3, 4, 5]], [[6, 7, 8], [9, 10, 11]]]);
  });

  test('Flatten is row-major over (H, W, C)', () => {
    // Element (h, w, c) of a 2x2x2 image goes to h * 4 + w * 2 + c.
    const x = tensor([1, 2, 2, 2], [0, 1, 2, 3, 4, 5, 6, 7].map((v) => v * 10));
    const y = runLayer(new Flatten(), [x]);
    assert.deepEqual(y.shape, [1, 8]);
    for (const [h, w, c] of [[0, 0, 0], [0, 1, 1], [1, 0, 1], [1, 1, 0]] as const) assert.equal(y.data[h * 4 + w * 2 + c], at(x, [0, h, w, c]));
  });

  test('Dropout is the identity in inference', () => {
    const x = randomTensor([3, 4], 5);
    assert.deepEqual(runLayer(new Dropout(0.5), [x]).data, x.data);
  });

  test('Rescaling is x * scale + offset', () => {
    assertValues(runLayer(new Rescaling(1 / 255, { offset: -1 }), [tensor([1, 2], [0, 255])]), [1, 2], [[-1, 0]]);
    assertValues(runLayer(new Rescaling(2), [tensor([1, 2], [1.5, -3])]), [1, 2], [[3, -6]]);
  });
});

describe('BatchNormalization (inference: moving statistics)', () => {
  // gamma [2, 3], beta [0.5, -1], moving_mean [0, 1], moving_variance [4, 0.25], epsilon 1e-3:
  // x = [1, 2] -> [2 * (1 - 0) / sqrt(4.001) + 0.5, 3 * (2 - 1) / sqrt(0.251) - 1].
  const gamma = [2, 3];
  const beta = [0.5, -1];
  const mean = [0, 1];
  const variance = [4, 0.25];

  test('gamma * (x - mean) / sqrt(variance + epsilon) + beta', () => {
    const y = runLayer(new BatchNormalization(), [tensor([1, 2], [1, 2])], [gamma, beta, mean, variance]);
    assertNear(y.data[0]!, 2 / Math.sqrt(4.001) + 0.5, 1e-15, 'channel 0');
    assertNear(y.data[1]!, 3 / Math.sqrt(0.251) - 1, 1e-15, 'channel 1');
    assertNear(y.data[0]!, 1.4998750234326181, 1e-15, 'channel 0 (numpy)');
  });

  test('on images it normalizes the last axis; epsilon is the layer\'s', () => {
    const x = tensor([1, 1, 2, 2], [1, 2, 3, 5]);
    const y = runLayer(new BatchNormalization({ epsilon: 0.5 }), [x], [gamma, beta, mean, variance]);
    assertNear(at(y, [0, 0, 1, 0]), (2 * 3) / Math.sqrt(4.5) + 0.5, 1e-15, '(0, 1, c0)');
    assertNear(at(y, [0, 0, 1, 1]), (3 * 4) / Math.sqrt(0.75) - 1, 1e-15, '(0, 1, c1)');
  });

  test('without scale (no gamma) and without center (no beta)', () => {
    const noScale = runLayer(new BatchNormalization({ scale: false }), [tensor([1, 2], [1, 2])], [beta, mean, variance]);
    assertNear(noScale.data[1]!, 1 / Math.sqrt(0.251) - 1, 1e-15, 'no scale');
    const noCenter = runLayer(new BatchNormalization({ center: false }), [tensor([1, 2], [1, 2])], [gamma, mean, variance]);
    assertNear(noCenter.data[0]!, 2 / Math.sqrt(4.001), 1e-15, 'no center');
    const neither = runLayer(new BatchNormalization({ center: false, scale: false }), [tensor([1, 2], [1, 2])], [mean, variance]);
    assertNear(neither.data[1]!, 1 / Math.sqrt(0.251), 1e-15, 'neither');
  });
});

describe('merging', () => {
  test('Concatenate along axis 1 of a sequence and along -1', () => {
    const a = tensor([2, 2, 2], [1, 2, 3, 4, 5, 6, 7, 8]);
    const b = tensor([2, 1, 2], [-1, -2, -3, -4]);
    assertValues(runLayer(new Concatenate({ axis: 1 }), [a, b]), [2, 3, 2], [[[1, 2], [3, 4], [-1, -2]], [[5, 6], [7, 8], [-3, -4]]]);
    const c = tensor([2, 2], [1, 2, 3, 4]);
    const d = tensor([2, 3], [5, 6, 7, 8, 9, 10]);
    assertValues(runLayer(new Concatenate(), [c, d]), [2, 5], [[1, 2, 5, 6, 7], [3, 4, 8, 9, 10]]);
    const e = tensor([2, 2, 1], [9, 9, -9, -9]);
    assertValues(runLayer(new Concatenate(-1), [a, e]), [2, 2, 3], [[[1, 2, 9], [3, 4, 9]], [[5, 6, -9], [7, 8, -9]]]);
  });

  test('Add sums elementwise, several inputs, and broadcasts a dimension of 1', () => {
    const a = tensor([2, 2], [1, 2, 3, 4]);
    const b = tensor([2, 2], [10, 20, 30, 40]);
    assertValues(runLayer(new Add(), [a, b]), [2, 2], [[11, 22], [33, 44]]);
    assertValues(runLayer(new Add(), [a, b, a]), [2, 2], [[12, 24], [36, 48]]);
    assertValues(runLayer(new Add(), [a, tensor([2, 1], [100, 200])]), [2, 2], [[101, 102], [203, 204]]);
  });
});

describe('graphs and models', () => {
  test('a Sequential model chains its layers', () => {
    const model = new Sequential([new Dense(2, { inputShape: [2], useBias: false }), new Activation('relu'), new Dense(1, { useBias: false })]);
    model.layers[0]!.setWeights([Float32Array.from([1, -1, 2, 1])]); // [x0 + 2 x1, -x0 + x1]
    model.layers[2]!.setWeights([Float32Array.from([1, 10])]);
    // x = [1, 2] -> [5, 1] -> 5 + 10 = 15; x = [3, 0] -> [3, -3] -> relu [3, 0] -> 3.
    assertValues(referencePredict(model, [tensor([2, 2], [1, 2, 3, 0])])[0]!, [2, 1], [[15], [3]]);
  });

  test('a nested model is run by binding its inputs to the node\'s inputs', () => {
    const innerInput = Input({ shape: [2] });
    const innerDense = new Dense(2, { useBias: false });
    const inner = new Model({ inputs: innerInput, outputs: innerDense.apply(innerInput), name: 'inner_block' });
    innerDense.setWeights([Float32Array.from([2, 0, 0, 3])]); // [2 x0, 3 x1]
    const x = Input({ shape: [2] });
    const head = new Dense(1, { useBias: false });
    const outer = new Model({ inputs: x, outputs: head.apply(inner.apply(inner.apply(x))) });
    head.setWeights([Float32Array.from([1, 1])]);
    // Applied twice: [4 x0, 9 x1]; x = [1, 1] -> 13, x = [0.5, -1] -> 2 - 9 = -7.
    assertValues(referencePredict(outer, [tensor([2, 2], [1, 1, 0.5, -1])])[0]!, [2, 1], [[13], [-7]]);
    const seq = new Sequential([inner, new Dense(1, { useBias: false, name: 'seq_head' })]);
    seq.build([null, 2]);
    seq.layers[1]!.setWeights([Float32Array.from([1, 0])]);
    assertValues(referencePredict(seq, [tensor([1, 2], [5, 7])])[0]!, [1, 1], [[10]]);
  });

  test('a subclassed model runs the graph its call() traced', () => {
    class TwoStep extends Model {
      first = new Dense(2, { useBias: false, activation: 'relu' });
      second = new Dense(1, { useBias: false });
      override call(inputs: SymbolicTensor | SymbolicTensor[]): SymbolicTensor {
        return this.second.apply(this.first.apply(inputs));
      }
    }
    const model = new TwoStep();
    model.build([null, 2]);
    model.first.setWeights([Float32Array.from([1, -1, 1, 1])]); // [x0 + x1, x1 - x0]
    model.second.setWeights([Float32Array.from([1, 100])]);
    // x = [1, 2] -> relu [3, 1] -> 103; x = [2, -3] -> relu [-1, -5] = [0, 0] -> 0.
    assertValues(referencePredict(model, [tensor([2, 2], [1, 2, 2, -3])])[0]!, [2, 1], [[103], [0]]);
  });

  test('a shared layer, several inputs and several outputs', () => {
    const a = Input({ shape: [2], name: 'in_a' });
    const b = Input({ shape: [2], name: 'in_b' });
    const shared = new Dense(1, { useBias: false });
    const sa = shared.apply(a);
    const sb = shared.apply(b);
    const model = new Model({ inputs: [a, b], outputs: [new Add().apply([sa, sb]), new Concatenate().apply([sa, sb])] });
    shared.setWeights([Float32Array.from([1, 2])]);
    // a = [1, 1] -> 3, b = [2, 0] -> 2.
    const [sum, both] = referencePredict(model, [tensor([1, 2], [1, 1]), tensor([1, 2], [2, 0])]);
    assertValues(sum!, [1, 1], [[5]]);
    assertValues(both!, [1, 2], [[3, 2]]);
  });

  test('unsupported layers, wrong inputs and graph/shape disagreements are errors that name the culprit', () => {
    class Mystery extends Layer {
      static override className = 'Mystery';
      computeOutputShapes(inputShapes: Shape[]): Shape[] {
        return [[...inputShapes[0]!]];
      }
    }
    const x = Input({ shape: [3] });
    const model = new Model({ inputs: x, outputs: new Mystery({ name: 'mystery_1' }).apply(x) });
    assert.throws(() => referencePredict(model, [tensor([1, 3])]), /mystery_1 \(Mystery\) has no reference implementation/);
    const dense = new Model({ inputs: x, outputs: new Dense(2).apply(x) });
    assert.throws(() => referencePredict(dense, []), /has 1 input/);
    assert.throws(() => referencePredict(dense, [tensor([1, 4])]), /input 0 .*shape \[1, 4\]/);
  });

  test('randomInputs: batch size, token ids below input_dim, seeded', () => {
    const ids = Input({ shape: [5], name: 'token_ids' });
    const features = Input({ shape: [3], name: 'features' });
    const pooled = new GlobalAveragePooling1D().apply(new Embedding(6, 4).apply(ids));
    const model = new Model({ inputs: [ids, features], outputs: new Concatenate().apply([pooled, features]) });
    const [t, f] = randomInputs(model, 7, 1);
    assert.deepEqual(t!.shape, [7, 5]);
    assert.deepEqual(f!.shape, [7, 3]);
    assert.ok(t!.data.every((v) => Number.isInteger(v) && v >= 0 && v < 6));
    assert.deepEqual(randomInputs(model, 7, 1), [t, f]);
    assert.deepEqual(referencePredict(model, [t!, f!])[0]!.shape, [7, 7]);
  });
});

// A second opinion on the TensorFlow conventions (padding split, pooling over valid cells,
// kernel layout) from TensorFlow.js's CPU kernels, in float32, on random data.
describe('agrees with TensorFlow.js ops on random inputs', () => {
  const tfjs = (t: RefTensor) => tf.tensor(Array.from(t.data), t.shape);
  const fromTfjs = (t: tf.Tensor): RefTensor => tensor(t.shape, t.dataSync());
  const close = { rtol: 1e-4, atol: 1e-5 };

  const convCases: { kernel: [number, number]; strides: [number, number]; dilation: [number, number]; padding: 'valid' | 'same'; hw: [number, number] }[] = [
    { kernel: [3, 3], strides: [1, 1], dilation: [1, 1], padding: 'same', hw: [7, 6] },
    { kernel: [3, 2], strides: [2, 3], dilation: [1, 1], padding: 'same', hw: [8, 9] },
    { kernel: [4, 4], strides: [3, 2], dilation: [1, 1], padding: 'same', hw: [7, 7] },
    { kernel: [3, 3], strides: [2, 2], dilation: [1, 1], padding: 'valid', hw: [9, 8] },
    { kernel: [3, 2], strides: [1, 1], dilation: [2, 3], padding: 'same', hw: [9, 10] },
    { kernel: [2, 3], strides: [1, 1], dilation: [3, 2], padding: 'valid', hw: [9, 10] },
  ];
  for (const c of convCases) {
    test(`Conv2D ${c.kernel.join('x')} strides ${c.strides.join('x')} dilation ${c.dilation.join('x')} ${c.padding} on ${c.hw.join('x')}`, () => {
      const x = randomTensor([2, ...c.hw, 3], 11);
      const kernel = randomTensor([...c.kernel, 3, 4], 12);
      const bias = randomTensor([4], 13);
      const layer = new Conv2D(4, c.kernel, { strides: c.strides, dilationRate: c.dilation, padding: c.padding });
      const y = runLayer(layer, [x], [[...kernel.data], [...bias.data]]);
      const expected = tf.add(tf.conv2d(tfjs(x) as tf.Tensor4D, tfjs(kernel) as tf.Tensor4D, c.strides, c.padding, 'NHWC', c.dilation), tfjs(bias));
      assertAllClose(y, fromTfjs(expected), close);
    });
  }

  for (const padding of ['valid', 'same'] as const) {
    for (const [pool, strides] of [[[3, 3], [2, 2]], [[2, 3], [1, 2]], [[3, 2], [3, 1]]] as [number, number][][]) {
      test(`max and average pooling ${pool.join('x')} strides ${strides.join('x')} ${padding}`, () => {
        const x = randomTensor([2, 7, 8, 3], 21);
        const args = { strides: strides as [number, number], padding };
        const max = runLayer(new MaxPooling2D(pool as [number, number], args), [x]);
        const avg = runLayer(new AveragePooling2D(pool as [number, number], args), [x]);
        const t = tfjs(x) as tf.Tensor4D;
        assertAllClose(max, fromTfjs(tf.maxPool(t, pool as [number, number], strides as [number, number], padding)), close);
        assertAllClose(avg, fromTfjs(tf.avgPool(t, pool as [number, number], strides as [number, number], padding)), close);
      });
    }
  }

  test('activations: sigmoid, tanh, elu, selu, leaky_relu (0.2), softmax', () => {
    const x = randomTensor([3, 17], 31, { low: -6, high: 6 });
    const t = tfjs(x);
    const pairs: [Parameters<typeof applyActivation>[1], tf.Tensor][] = [
      ['sigmoid', tf.sigmoid(t)], ['tanh', tf.tanh(t)], ['elu', tf.elu(t)], ['selu', tf.selu(t)], ['leaky_relu', tf.leakyRelu(t, 0.2)], ['softmax', tf.softmax(t)],
    ];
    for (const [name, expected] of pairs) assertAllClose(applyActivation(x, name), fromTfjs(expected), { ...close, what: name });
  });
});

describe('seed models', () => {
  for (const model of [productImageClassifier, purchasePredictor]) {
    test(`${model.name}: batch 7 runs, and each sample equals its batch-1 run`, () => {
      const inputs = randomInputs(model, 7, 2024);
      const outputs = referencePredict(model, inputs);
      assert.equal(outputs.length, model.outputs.length);
      for (const [i, y] of outputs.entries()) {
        assert.deepEqual(y.shape, [7, ...(model.outputs[i]!.shape.slice(1) as number[])]);
        assert.ok(y.data.every(Number.isFinite));
      }
      for (const sample of [0, 6]) {
        const single = inputs.map((x) => {
          const n = x.data.length / 7;
          return tensor([1, ...x.shape.slice(1)], x.data.slice(sample * n, (sample + 1) * n));
        });
        const y = referencePredict(model, single)[0]!;
        const n = y.data.length;
        assert.deepEqual([...y.data], [...outputs[0]!.data.slice(sample * n, (sample + 1) * n)]);
      }
    });
  }

  test('the classifier ends in a softmax over 10 classes; the predictor in a sigmoid', () => {
    const probabilities = referencePredict(productImageClassifier, randomInputs(productImageClassifier, 1, 7))[0]!;
    assertNear(probabilities.data.reduce((a, b) => a + b, 0), 1, 1e-14, 'softmax sum');
    const p = referencePredict(purchasePredictor, randomInputs(purchasePredictor, 1, 7))[0]!;
    assert.ok(p.data[0]! > 0 && p.data[0]! < 1);
  });
});
