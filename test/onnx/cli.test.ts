// `strata inspect` and `strata predict`, run as users run them (node app/cli/strata.js).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { readNpy, writeNpy } from '../../app/data/npy.ts';
import { readNpz } from '../../app/data/npz.ts';
import { ndarray } from '../../app/data/ndarray.ts';
import { formatArray } from '../../app/cli/commands/predict.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const FIXTURES = path.join(ROOT, 'test', 'fixtures', 'onnx');
const fixture = (name: string) => path.join(FIXTURES, name);
const scratch = mkdtempSync(path.join(tmpdir(), 'strata-cli-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

function strata(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [path.join(ROOT, 'app', 'cli', 'strata.js'), ...args], { cwd: scratch, encoding: 'utf8' });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

function assertOneLineError(result: ReturnType<typeof strata>, pattern: RegExp): void {
  assert.equal(result.status, 1, result.stderr);
  assert.equal(result.stdout, '');
  assert.match(result.stderr, /^strata: [^\n]*\n$/, 'exactly one line');
  assert.match(result.stderr, pattern);
}

describe('strata inspect', () => {
  test('text report lists opsets, inputs, nodes with attributes, initializers, unknown ops, metadata', () => {
    const { status, stdout } = strata('inspect', fixture('custom_ops.onnx'));
    assert.equal(status, 0);
    for (const line of [
      '  ONNX IR version 8; opsets: ai.onnx 17, com.example 1, com.example.functions 1',
      '  fancy   float32  (None, width)',
      '  0  com.example.FancyOp "fancy" (x, ∅, table) → fancy  {alpha=0.1, axes=[0,-1,"9223372036854775807"], bias=tensor float32 (3,) [1.5, -2, 3], count=3, labels=["cat","dog"], mode="reflect", weights=[0.5,0.25]}',
      '       then_branch: graph "then_branch"',
      '         0  Identity (x) → then_out',
      "Operators outside ONNX's standard domains (listed, not checked): com.example.FancyOp, com.example.functions.ScaleBy (function in this model)",
      '  table  int64  (2, 3)  6 elements  48 B',
    ]) {
      assert.ok(stdout.split('\n').includes(line), `missing line:\n${line}\nin:\n${stdout}`);
    }
    const external = strata('inspect', fixture('external_missing.onnx')).stdout;
    assert.match(external, /^ {2}W → missing\.bin \(offset 0, length 48\) {2}MISSING$/m);
    assert.match(external, /^ {2}formula: y = x @ W \+ b$/m);
  });

  test('--json prints the description', () => {
    const { status, stdout } = strata('inspect', fixture('conv_net.onnx'), '--json');
    assert.equal(status, 0);
    const d = JSON.parse(stdout);
    assert.deepEqual(d.graph.inputs, [{ name: 'image', type: 'float32', shape: ['N', 3, 8, 8] }]);
    assert.equal(d.graph.nodes.length, 6);
  });

  test('corrupt files: one line, exit 1', () => {
    const bytes = readFileSync(fixture('conv_net.onnx'));
    writeFileSync(path.join(scratch, 'cut.onnx'), bytes.subarray(0, 1000));
    writeFileSync(path.join(scratch, 'random.onnx'), Uint8Array.from({ length: 4096 }, (_, i) => (i * 7919 + 13) % 251));
    assertOneLineError(strata('inspect', 'cut.onnx'), /^strata: cut\.onnx: .*truncated/);
    assertOneLineError(strata('inspect', 'random.onnx'), /^strata: random\.onnx: not an ONNX model/);
    assertOneLineError(strata('inspect', fixture('x_5x4.npy')), /x_5x4\.npy: not an ONNX model: this is a NumPy \.npy array/);
  });
});

describe('strata predict', () => {
  test('one output to y.npy, in batches', () => {
    const { status, stderr } = strata('predict', fixture('matmul_add.onnx'), '--input', fixture('x_5x4.npy'), '--output', 'y.npy', '--batch-size', '2');
    assert.equal(status, 0, stderr);
    const y = readNpy(path.join(scratch, 'y.npy'));
    assert.deepEqual([y.dtype, y.shape], ['float32', [5, 3]]);
    assert.ok(Math.abs(y.data[0] as number - -5.575) < 1e-5); // row 0: [-2, -1.75, -1.5, -1.25] @ W + b
  });

  test('several outputs: by name, or one file each from a bare name; named inputs', () => {
    writeNpy(path.join(scratch, 'x3.npy'), ndarray('float32', [2, 3], new Float32Array([1, -2, 3, -4, 5, -6])));
    let result = strata('predict', fixture('two_outputs.onnx'), '-i', 'x=x3.npy', '-o', 'total=t.npy');
    assert.equal(result.status, 0, result.stderr);
    assert.deepEqual([...readNpy(path.join(scratch, 't.npy')).data], [2, -5]);
    assert.equal(existsSync(path.join(scratch, 'relu.npy')), false);
    result = strata('predict', fixture('two_outputs.onnx'), '-i', 'x3.npy', '-o', 'out.npy');
    assert.equal(result.status, 0, result.stderr);
    assert.deepEqual([...readNpy(path.join(scratch, 'out.relu.npy')).data], [1, 0, 3, 0, 5, 0]);
    assert.deepEqual([...readNpy(path.join(scratch, 'out.total.npy')).data], [2, -5]);
  });

  test('.npz in (by name or in order) and out', () => {
    // symbolic_dims: y = mean(a, axis 1) + b, with ab.npz's a (2, 3, 4) and b (2, 4).
    const a = Array.from({ length: 24 }, (_, i) => (i - 10) / 8);
    const b = [1, -1, 0.5, 2, 0, 0, -3, 1];
    const expected = b.map((v, k) => {
      const [row, col] = [Math.floor(k / 4), k % 4];
      return v + (a[row * 12 + col]! + a[row * 12 + 4 + col]! + a[row * 12 + 8 + col]!) / 3;
    });
    for (const input of ['ab.npz', 'ab_compressed.npz']) {
      const result = strata('predict', fixture('symbolic_dims.onnx'), '--input', fixture(input), '--output', 'y.npz');
      assert.equal(result.status, 0, result.stderr);
      const { y } = readNpz(path.join(scratch, 'y.npz'));
      assert.deepEqual(y!.shape, [2, 4]);
      [...y!.data].forEach((v, i) => assert.ok(Math.abs(Number(v) - expected[i]!) < 1e-5, `${input} [${i}]`));
    }
  });

  test('without --output, outputs are printed; external data found beside the model', () => {
    copyFileSync(fixture('x_5x4.npy'), path.join(scratch, 'x.npy'));
    const { status, stdout } = strata('predict', fixture('external_data.onnx'), '--input', 'x.npy');
    assert.equal(status, 0);
    assert.match(stdout, /^y: float32 \(5, 3\)\n\[\[-5\.575, -3\.85, -2\.125\],\n \[-2\.075/);
  });

  test('a model module is translated to ONNX in memory, then run', () => {
    // y = relu(x @ ones(4, 2)): each output column is the row sum, floored at 0.
    const model = path.join(scratch, 'sum_model.mts');
    const api = new URL('../../app/model/index.ts', import.meta.url).href;
    writeFileSync(model, `import { Sequential, layers } from '${api}';\nexport default new Sequential([new layers.Dense(2, { inputShape: [4], activation: 'relu', kernelInitializer: 'ones' })]);\n`);
    const { status, stderr } = strata('predict', model, '--input', fixture('x_5x4.npy'), '--output', 'sums.npy');
    assert.equal(status, 0, stderr);
    const y = readNpy(path.join(scratch, 'sums.npy'));
    assert.deepEqual([y.dtype, y.shape, [...y.data]], ['float32', [5, 2], [0, 0, 0, 0, 1.5, 1.5, 5.5, 5.5, 9.5, 9.5]]);
  });

  test('bad inputs: one line naming the input, exit 1', () => {
    assertOneLineError(strata('predict', fixture('matmul_add.onnx'), '--input', fixture('f8_2x3.npy')), /input 'x': expected float32 elements, got float64/);
    assertOneLineError(strata('predict', fixture('matmul_add.onnx'), '--input', fixture('f4_rank4.npy')), /input 'x': expected a 2-D array of shape \(batch, 4\), got shape \(2, 3, 2, 2\)/);
    assertOneLineError(strata('predict', fixture('symbolic_dims.onnx'), '--input', fixture('x_5x4.npy')), /missing input 'a'|input 'a': expected a 3-D/);
    assertOneLineError(strata('predict', fixture('matmul_add.onnx'), '--input', 'z=x.npy'), /--input z=x\.npy: the model has no input 'z'; its inputs are: x/);
    assertOneLineError(strata('predict', fixture('custom_ops.onnx'), '--input', 'x.npy'), /custom_ops\.onnx: onnxruntime cannot load this model: .*FancyOp/);
    assertOneLineError(strata('predict', fixture('matmul_add.onnx'), '--input', 'nowhere.npy'), /nowhere\.npy: cannot read/);
  });
});

test('formatArray prints nested lists and cuts large arrays', () => {
  assert.equal(formatArray(ndarray('float32', [2, 2], new Float32Array([1, 0.5, -2, 3]))), '[[1, 0.5],\n [-2, 3]]');
  assert.equal(formatArray(ndarray('int64', [], new BigInt64Array([7n]))), '7');
  assert.match(formatArray(ndarray('float32', [300], new Float32Array(300)), 10), /^\[0, 0, 0, 0, 0, 0, 0, 0, 0, 0, …\]\n\(300 elements; first 10 shown/);
});
