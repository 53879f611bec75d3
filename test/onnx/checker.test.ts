// Models Strata builds with helper.ts + encodeModel pass the ONNX project's own checker with
// full shape inference (python3-onnx, see onnx_checker.ts), and the checker catches a broken one.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { ndarray } from '../../app/data/ndarray.ts';
import { makeGraph, makeModel, makeNode, makeTensor, makeTensorValueInfo } from '../../app/onnx/helper.ts';
import { DataType, encodeModel } from '../../app/onnx/schema.ts';
import { checkerUnavailable, onnxCheck } from './onnx_checker.ts';

const skip = checkerUnavailable() ?? false;

describe('the ONNX checker (python3-onnx) on models Strata encodes', { skip }, () => {
  test('a dense layer with metadata passes full_check', () => {
    const graph = makeGraph(
      [makeNode('MatMul', ['x', 'w'], ['xw'], { name: 'dense/matmul' }), makeNode('Add', ['xw', 'b'], ['y'], { name: 'dense/add' })],
      'dense',
      [makeTensorValueInfo('x', DataType.FLOAT, ['batch', 3])],
      [makeTensorValueInfo('y', DataType.FLOAT, ['batch', 2])],
      [makeTensor('w', ndarray('float32', [3, 2], new Float32Array(6))), makeTensor('b', ndarray('float32', [2], new Float32Array(2)))],
    );
    assert.equal(onnxCheck(encodeModel(makeModel(graph, { metadata: { keras_model: '{}' } }))), '');
  });

  test('a fixture written by onnx.helper passes (the harness works)', () => {
    assert.equal(onnxCheck(readFileSync(new URL('../fixtures/onnx/conv_net.onnx', import.meta.url))), '');
  });

  test('a declared output shape that contradicts inference fails', () => {
    const graph = makeGraph(
      [makeNode('MatMul', ['x', 'w'], ['y'])],
      'wrong',
      [makeTensorValueInfo('x', DataType.FLOAT, ['batch', 3])],
      [makeTensorValueInfo('y', DataType.FLOAT, ['batch', 5])],
      [makeTensor('w', ndarray('float32', [3, 2], new Float32Array(6)))],
    );
    assert.match(onnxCheck(encodeModel(makeModel(graph))), /[Ii]nferred shape and existing shape differ/);
  });
});
