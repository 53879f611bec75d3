// ONNX files written by another tool: PyTorch 1.13's torch.onnx.export (Debian 12), with
// PyTorch's own output for a fixed input saved beside each model (make_torch_fixtures.py).
// `strata inspect` reads them, and onnxruntime, through OnnxSession and `strata predict`,
// reproduces PyTorch's outputs to fp32 tolerance.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { NdArray } from '../../app/data/ndarray.ts';
import { readNpy } from '../../app/data/npy.ts';
import { inspectOnnxFile } from '../../app/onnx/inspect.ts';
import { decodeModel, encodeModel } from '../../app/onnx/schema.ts';
import { OnnxSession } from '../../app/runtime/session.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const fixture = (name: string) => path.join(ROOT, 'test', 'fixtures', 'onnx', name);
const scratch = mkdtempSync(path.join(tmpdir(), 'strata-foreign-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

/** The PyTorch exports: model, input file, PyTorch's output for it. */
const EXPORTS = [
  { name: 'torch_convnet', input: 'torch_convnet_x.npy' },
  { name: 'torch_embedding', input: 'torch_embedding_ids.npy' },
];

function strata(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [path.join(ROOT, 'app', 'cli', 'strata.js'), ...args], { cwd: scratch, encoding: 'utf8' });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** fp32 tolerance: same dtype and shape, |a - b| <= 1e-5 * max(1, |b|); reports the first 5 misses. */
function assertClose(actual: NdArray, expected: NdArray, what: string): void {
  assert.deepEqual([actual.dtype, actual.shape], [expected.dtype, expected.shape], `${what}: dtype and shape`);
  const bad: string[] = [];
  for (let i = 0; i < expected.data.length; i++) {
    const [a, b] = [Number(actual.data[i]), Number(expected.data[i])];
    if (!(Math.abs(a - b) <= 1e-5 * Math.max(1, Math.abs(b)))) bad.push(`[${i}] ${a} vs ${b}`);
  }
  assert.deepEqual(bad.slice(0, 5), [], `${what}: ${bad.length} mismatches`);
}

describe('files written by PyTorch (torch.onnx.export)', () => {
  test('convnet: opset 13, symbolic batch, BatchNormalization kept, Constant nodes with tensor attributes', () => {
    const d = inspectOnnxFile(fixture('torch_convnet.onnx'));
    assert.deepEqual([d.irVersion, d.producer.name, d.opsetImports], [7, 'pytorch', [{ domain: '', version: 13 }]]);
    assert.match(d.producer.version, /^1\.13/);
    assert.deepEqual(d.graph.inputs, [{ name: 'image', type: 'float32', shape: ['batch', 3, 8, 8] }]);
    assert.deepEqual(d.graph.outputs, [{ name: 'y', type: 'float32', shape: ['batch', 5] }]);
    assert.deepEqual(
      d.graph.initializers.map((t) => [t.name, t.shape]),
      [['conv.weight', [4, 3, 3, 3]], ['conv.bias', [4]], ['bn.weight', [4]], ['bn.bias', [4]], ['bn.running_mean', [4]], ['bn.running_var', [4]], ['fc.weight', [5, 64]], ['fc.bias', [5]]],
    );
    const uses = Object.fromEntries(d.operators.map((o) => [o.opType, o.count]));
    assert.deepEqual([uses['Conv'], uses['BatchNormalization'], uses['Relu'], uses['MaxPool'], uses['Reshape'], uses['Gemm']], [1, 1, 1, 1, 1, 1]);
    assert.ok(d.operators.every((o) => o.standard && !o.localFunction));
    const conv = d.graph.nodes.find((n) => n.opType === 'Conv')!;
    assert.deepEqual(Object.fromEntries(conv.attributes.map((a) => [a.name, a.value])), { dilations: [1, 1], group: 1, kernel_shape: [3, 3], pads: [1, 1, 1, 1], strides: [1, 1] });
    const constant = d.graph.nodes.find((n) => n.opType === 'Constant')!.attributes[0]!;
    assert.deepEqual([constant.name, constant.type, constant.value], ['value', 'TENSOR', { name: '', type: 'int64', shape: [], elements: 1, bytes: 8, values: [0] }]);
  });

  test('embedding: weights also listed as graph inputs are not run-time inputs; generated names', () => {
    const d = inspectOnnxFile(fixture('torch_embedding.onnx'));
    const raw = decodeModel(readFileSync(fixture('torch_embedding.onnx')));
    assert.deepEqual(raw.graph!.input!.map((v) => v.name), ['ids', 'embedding.weight', 'fc.bias', 'onnx::MatMul_8'], 'keep_initializers_as_inputs');
    assert.deepEqual(d.graph.inputs, [{ name: 'ids', type: 'int64', shape: ['batch', 3] }]);
    assert.deepEqual(d.graph.nodes.map((n) => [n.opType, n.inputs]), [
      ['Gather', ['embedding.weight', 'ids']],
      ['MatMul', ['/embedding/Gather_output_0', 'onnx::MatMul_8']],
      ['Add', ['fc.bias', '/fc/MatMul_output_0']],
    ]);
  });

  for (const { name, input } of EXPORTS) {
    test(`${name}: OnnxSession reproduces PyTorch's output, whole and in batches of 1`, async () => {
      const x = readNpy(fixture(input));
      const expected = readNpy(fixture(`${name}_y.npy`));
      const session = await OnnxSession.create(fixture(`${name}.onnx`));
      try {
        assertClose((await session.run(x))['y']!, expected, name);
        assertClose((await session.run(x, { batchSize: 1 }))['y']!, expected, `${name}, batch size 1`);
      } finally {
        await session.release();
      }
    });

    test(`${name}: strata inspect --json and strata predict reproduce PyTorch's output`, () => {
      const inspected = strata('inspect', fixture(`${name}.onnx`), '--json');
      assert.equal(inspected.status, 0, inspected.stderr);
      assert.equal(JSON.parse(inspected.stdout).producer.name, 'pytorch');
      const out = `${name}_y.npy`;
      const predicted = strata('predict', fixture(`${name}.onnx`), '--input', fixture(input), '--output', out, '--batch-size', '1');
      assert.equal(predicted.status, 0, predicted.stderr);
      assertClose(readNpy(path.join(scratch, out)), readNpy(fixture(`${name}_y.npy`)), `strata predict ${name}`);
    });
  }

  test('an opset onnxruntime does not implement is a one-line load error', async () => {
    // The embedding model relabelled as opset 6 (as PyTorch 0.3 wrote): its ops still check,
    // but onnxruntime has no kernel for Add before opset 7.
    const model = decodeModel(readFileSync(fixture('torch_embedding.onnx')));
    model.opsetImport = [{ domain: '', version: 6 }];
    await assert.rejects(OnnxSession.create(encodeModel(model), { name: 'embedding_opset6.onnx' }), (error: Error) => {
      assert.equal(error.name, 'UserError');
      assert.match(error.message, /^embedding_opset6\.onnx: onnxruntime cannot load this model: .*Add\(6\)/);
      assert.doesNotMatch(error.message, /\n/);
      return true;
    });
  });
});
