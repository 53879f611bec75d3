// ONNX files written by other tools (PyTorch, onnx-caffe2), from the ONNX project's backend
// test data (test/fixtures/onnx/onnx-backend-data/README.md): inspect reads them, and
// onnxruntime reproduces PyTorch's own outputs for the inputs shipped with them.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { inspectOnnxFile } from '../../app/onnx/inspect.ts';
import { decodeTensor } from '../../app/onnx/schema.ts';
import { tensorToArray } from '../../app/onnx/tensor.ts';
import { OnnxSession } from '../../app/runtime/session.ts';

const DATA = fileURLToPath(new URL('../fixtures/onnx/onnx-backend-data/', import.meta.url));
const pytorch = (name: string, file: string) => path.join(DATA, 'pytorch-converted', name, file);

describe('files written by other tools', () => {
  test('PyTorch 0.3 export: IR 3, initializers also listed as inputs, numeric names', () => {
    const d = inspectOnnxFile(pytorch('test_Conv2d_padding', 'model.onnx'));
    assert.deepEqual([d.irVersion, d.producer, d.opsetImports], [3, { name: 'pytorch', version: '0.3' }, [{ domain: '', version: 6 }]]);
    assert.deepEqual(d.graph.inputs, [{ name: '0', type: 'float32', shape: [2, 3, 6, 6] }], 'weights fed by initializers are not inputs');
    assert.deepEqual(d.graph.initializers.map((t) => [t.name, t.shape]), [['1', [4, 3, 3, 3]], ['2', [4]]]);
    const conv = d.graph.nodes[0]!;
    assert.deepEqual(Object.fromEntries(conv.attributes.map((a) => [a.name, a.value])), { dilations: [1, 1], group: 1, kernel_shape: [3, 3], pads: [1, 1, 1, 1], strides: [2, 2] });
  });

  test('onnx-caffe2 SqueezeNet (model zoo, light): 105 nodes, tensor attributes', () => {
    const d = inspectOnnxFile(path.join(DATA, 'light', 'light_squeezenet.onnx'));
    assert.equal(d.producer.name, 'onnx-caffe2');
    assert.equal(d.graph.nodes.length, 105);
    assert.deepEqual(d.graph.inputs, [{ name: 'data_0', type: 'float32', shape: [1, 3, 224, 224] }]);
    const uses = Object.fromEntries(d.operators.map((o) => [o.opType, o.count]));
    assert.equal(uses['Conv'], 26);
    const value = d.graph.nodes[0]!.attributes[0]!;
    assert.deepEqual([value.name, value.type, (value.value as { type: string }).type], ['value', 'TENSOR', 'float32']);
  });

  for (const name of ['test_Conv2d_padding', 'test_Embedding']) {
    test(`${name}: onnxruntime matches PyTorch's output`, async () => {
      const input = tensorToArray(decodeTensor(readFileSync(pytorch(name, 'input_0.pb'))));
      const expected = tensorToArray(decodeTensor(readFileSync(pytorch(name, 'output_0.pb'))));
      const session = await OnnxSession.create(pytorch(name, 'model.onnx'));
      const [output] = Object.values(await session.run(input));
      await session.release();
      assert.deepEqual([output!.dtype, output!.shape], [expected.dtype, expected.shape]);
      for (let i = 0; i < expected.data.length; i++) {
        const [a, b] = [Number(output!.data[i]), Number(expected.data[i])];
        assert.ok(Math.abs(a - b) <= 1e-5 * Math.max(1, Math.abs(b)), `[${i}] ${a} vs ${b}`);
      }
    });
  }

  test('an opset onnxruntime no longer implements is a one-line load error', async () => {
    await assert.rejects(OnnxSession.create(pytorch('test_Linear', 'model.onnx')), (error: Error) => {
      assert.equal(error.name, 'UserError');
      assert.match(error.message, /test_Linear[/\\]model\.onnx: onnxruntime cannot load this model: .*Gemm\(6\)/);
      assert.doesNotMatch(error.message, /\n/);
      return true;
    });
  });
});
