// Inference through onnxruntime-node, checked against outputs computed here in plain
// TypeScript from the formulas the fixtures were built with (make_fixtures.py) or from the
// weights read out of the file: the runtime is never compared with itself.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { type NdArray, ndarray } from '../../app/data/ndarray.ts';
import { readNpy } from '../../app/data/npy.ts';
import { makeGraph, makeModel, makeNode, makeTensor, makeTensorValueInfo } from '../../app/onnx/helper.ts';
import { parseOnnxModel } from '../../app/onnx/inspect.ts';
import { DataType, encodeModel } from '../../app/onnx/schema.ts';
import { tensorToArray } from '../../app/onnx/tensor.ts';
import { OnnxSession, cudaAvailability } from '../../app/runtime/session.ts';
import { planBatches } from '../../app/runtime/validate.ts';

const FIXTURES = fileURLToPath(new URL('../fixtures/onnx/', import.meta.url));
const fixture = (name: string) => path.join(FIXTURES, name);

/** fp32 tolerance: |a - b| <= 1e-5 * max(1, |b|). */
function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  const bad: string[] = [];
  for (let i = 0; i < expected.length; i++) {
    if (!(Math.abs(actual[i]! - expected[i]!) <= 1e-5 * Math.max(1, Math.abs(expected[i]!)))) bad.push(`[${i}] ${actual[i]} vs ${expected[i]}`);
  }
  assert.deepEqual(bad.slice(0, 5), [], `${what}: ${bad.length} mismatches`);
}

/** Deterministic inputs in [-2, 2). */
function randomArray(shape: number[], seed: number): NdArray<'float32'> {
  const data = new Float32Array(shape.reduce((n, d) => n * d, 1));
  let state = seed;
  for (let i = 0; i < data.length; i++) {
    state = (state * 1103515245 + 12345) % 2147483648;
    data[i] = (state / 2147483648) * 4 - 2;
  }
  return ndarray('float32', shape, data);
}

/** matmul_add's formula: y = x @ W + b, W[i, j] = (i - j) / 4 + 0.5, b[j] = 0.1 j - 0.2. */
function matmulAddReference(x: NdArray<'float32'>): number[] {
  const rows = x.shape[0]!;
  const y: number[] = [];
  for (let r = 0; r < rows; r++) {
    for (let j = 0; j < 3; j++) {
      let sum = Math.fround(0.1 * j - 0.2);
      for (let i = 0; i < 4; i++) sum += x.data[r * 4 + i]! * Math.fround((i - j) / 4 + 0.5);
      y.push(sum);
    }
  }
  return y;
}

describe('runtime: results match independent references', () => {
  test('matmul_add (onnx.helper) for batch sizes 1, 2, 7 and 32, one session reused', async () => {
    const session = await OnnxSession.create(fixture('matmul_add.onnx'));
    assert.equal(session.device, 'cpu');
    const x = randomArray([23, 4], 1);
    const expected = matmulAddReference(x);
    for (const batchSize of [1, 2, 7, 32]) {
      const { y } = await session.run({ x }, { batchSize });
      assert.deepEqual([y!.dtype, y!.shape], ['float32', [23, 3]]);
      assertClose(y!.data as Float32Array, expected, `batch size ${batchSize}`);
    }
    const fromNumpy = await session.run(readNpy(fixture('x_5x4.npy')));
    assertClose(fromNumpy['y']!.data as Float32Array, matmulAddReference(readNpy(fixture('x_5x4.npy')) as NdArray<'float32'>), 'x_5x4.npy');
    await session.release();
  });

  test('conv_net (NCHW conv, pool, gemm, softmax) against a naive TypeScript forward pass', async () => {
    const bytes = readFileSync(fixture('conv_net.onnx'));
    const weights = Object.fromEntries(parseOnnxModel(bytes).graph!.initializer!.map((t) => [t.name!, tensorToArray(t).data as Float32Array]));
    const session = await OnnxSession.create(bytes); // from bytes, not a path
    const image = randomArray([7, 3, 8, 8], 2);
    const { probabilities } = await session.run({ image }, { batchSize: 3 });
    assert.deepEqual(probabilities!.shape, [7, 10]);
    assertClose(probabilities!.data as Float32Array, convNetReference(image, weights), 'conv_net');
    await session.release();
  });

  test('int64 inputs: embedding lookup', async () => {
    const session = await OnnxSession.create(fixture('embedding_lookup.onnx'));
    const ids = readNpy(fixture('i8_ids_2x3.npy'));
    const { vectors } = await session.run({ ids });
    assert.deepEqual(vectors!.shape, [2, 3, 2]);
    const expected = [...(ids.data as BigInt64Array)].flatMap((id) => [10 * Number(id), 10 * Number(id) + 1]);
    assert.deepEqual([...vectors!.data], expected);
    await session.release();
  });

  test('several outputs, batched together', async () => {
    const session = await OnnxSession.create(fixture('two_outputs.onnx'));
    const x = randomArray([9, 3], 3);
    const { relu, total } = await session.run({ x }, { batchSize: 4 });
    assert.deepEqual([relu!.shape, total!.shape], [[9, 3], [9, 1]]);
    assertClose(relu!.data as Float32Array, [...x.data].map((v) => Math.max(v, 0)), 'relu');
    assertClose(total!.data as Float32Array, Array.from({ length: 9 }, (_, r) => x.data[3 * r]! + x.data[3 * r + 1]! + x.data[3 * r + 2]!), 'total');
    await session.release();
  });

  test('external data is found beside the model file', async () => {
    const session = await OnnxSession.create(fixture('external_data.onnx'));
    const x = randomArray([4, 4], 4);
    assertClose((await session.run(x))['y']!.data as Float32Array, matmulAddReference(x), 'external');
    await session.release();
  });

  test('external data with bytes instead of a path: a clear error', async () => {
    await assert.rejects(OnnxSession.create(readFileSync(fixture('external_data.onnx')), { name: 'in-memory model' }), (error: Error) => {
      assert.equal(error.name, 'UserError');
      assert.match(error.message, /^in-memory model: the model keeps tensors in external files \(external_data\.bin\); open it from its file path/);
      return true;
    });
  });

  test('a model built and encoded by Strata (helper.ts + encodeModel) runs', async () => {
    const w = randomArray([5, 2], 5);
    const b = randomArray([2], 6);
    const graph = makeGraph(
      [makeNode('MatMul', ['x', 'w'], ['xw'], { name: 'dense/matmul' }), makeNode('Add', ['xw', 'b'], ['z']), makeNode('Relu', ['z'], ['y'])],
      'dense_relu',
      [makeTensorValueInfo('x', DataType.FLOAT, [null, 5])],
      [makeTensorValueInfo('y', DataType.FLOAT, [null, 2])],
      [makeTensor('w', w), makeTensor('b', b)],
    );
    const session = await OnnxSession.create(encodeModel(makeModel(graph)));
    const x = randomArray([6, 5], 7);
    const expected: number[] = [];
    for (let r = 0; r < 6; r++) {
      for (let j = 0; j < 2; j++) {
        let sum = b.data[j]!;
        for (let i = 0; i < 5; i++) sum += x.data[r * 5 + i]! * w.data[i * 2 + j]!;
        expected.push(Math.max(0, sum));
      }
    }
    assertClose((await session.run({ x }, { batchSize: 4 }))['y']!.data as Float32Array, expected, 'dense_relu');
    await session.release();
  });
});

describe('runtime: inputs are checked before onnxruntime sees them', () => {
  const rejects = async (run: Promise<unknown>, pattern: RegExp) =>
    assert.rejects(run, (error: Error) => {
      assert.equal(error.name, 'ShapeError', `${error.name}: ${error.message}`);
      assert.match(error.message, pattern);
      return true;
    });

  test('wrong dtype, rank, fixed size, shared symbolic size; missing and unknown inputs', async () => {
    const session = await OnnxSession.create(fixture('symbolic_dims.onnx'));
    const a = randomArray([5, 7, 4], 8);
    const b = randomArray([5, 4], 9);
    const { y } = await session.run({ a, b });
    assert.deepEqual(y!.shape, [5, 4]);
    await rejects(session.run({ a, b: ndarray('float64', [5, 4], new Float64Array(20)) }), /input 'b': expected float32 elements, got float64/);
    await rejects(session.run({ a: randomArray([5, 4], 1), b }), /input 'a': expected a 3-D array of shape \(batch, seq, 4\), got shape \(5, 4\)/);
    await rejects(session.run({ a: randomArray([5, 7, 3], 1), b }), /input 'a': expected shape \(batch, seq, 4\), got \(5, 7, 3\) \(axis 2 must be 4\)/);
    await rejects(session.run({ a, b: randomArray([6, 4], 1) }), /input 'b': axis 0 is 'batch' = 6, but input 'a' has 'batch' = 5/);
    await rejects(session.run({ a }), /missing input 'b' \(float32 \(batch, 4\)\)/);
    await rejects(session.run({ a, b, c: b }), /the model has no input 'c'; its inputs are: a, b/);
    await rejects(session.run(a), /the model has 2 inputs \(a, b\); pass them by name/);
    await rejects(session.run({ a, b }, { batchSize: 0 }), /batch size must be a positive integer, got 0/);
    await session.release();
  });

  test('batching refuses outputs without the batch axis first', async () => {
    const graph = makeGraph(
      [makeNode('ReduceSum', ['x'], ['s'], { attributes: { keepdims: 0 } })],
      'sum_all',
      [makeTensorValueInfo('x', DataType.FLOAT, ['n', 2])],
      [makeTensorValueInfo('s', DataType.FLOAT, [])],
    );
    const session = await OnnxSession.create(encodeModel(makeModel(graph)));
    const x = randomArray([5, 2], 10);
    const whole = await session.run(x);
    assertClose(whole['s']!.data as Float32Array, [[...x.data].reduce((s, v) => s + v, 0)], 'sum');
    await rejects(session.run(x, { batchSize: 2 }), /output 's' does not have the batch as its first axis.*batch size of 5 or more/);
    await session.release();
  });

  test('planBatches covers the rows', () => {
    assert.deepEqual(planBatches(7, 3), [[0, 3], [3, 6], [6, 7]]);
    assert.deepEqual(planBatches(0, 3), [[0, 0]]);
  });
});

describe('runtime: models onnxruntime cannot run, devices', () => {
  test('unknown operators and missing external data are one-line user errors', async () => {
    for (const [name, pattern] of [
      ['custom_ops.onnx', /custom_ops\.onnx: onnxruntime cannot load this model: .*FancyOp/],
      ['external_missing.onnx', /external_missing\.onnx: onnxruntime cannot load this model: .*missing\.bin/],
    ] as const) {
      await assert.rejects(OnnxSession.create(fixture(name)), (error: Error) => {
        assert.equal(error.name, 'UserError');
        assert.match(error.message, pattern);
        assert.doesNotMatch(error.message, /\n/);
        return true;
      });
    }
  });

  test('CUDA: used when available, otherwise a clear error (cuda) or the CPU (auto)', async () => {
    const cuda = cudaAvailability();
    if (cuda.available) {
      const session = await OnnxSession.create(fixture('matmul_add.onnx'), { device: 'cuda' });
      assert.equal(session.device, 'cuda');
      const x = randomArray([3, 4], 11);
      assertClose((await session.run(x))['y']!.data as Float32Array, matmulAddReference(x), 'cuda');
      await session.release();
    } else {
      await assert.rejects(OnnxSession.create(fixture('matmul_add.onnx'), { device: 'cuda' }), (error: Error) => {
        assert.equal(error.name, 'UserError');
        assert.match(error.message, /^the CUDA execution provider was requested, but /);
        assert.ok(error.message.includes(cuda.reason));
        return true;
      });
      const session = await OnnxSession.create(fixture('matmul_add.onnx'), { device: 'auto' });
      assert.equal(session.device, 'cpu');
      await session.release();
    }
  });
});

/** conv_net's forward pass, NCHW: Conv(3x3, pad 1) → Relu → MaxPool(2) → Flatten → Gemm(transB) → Softmax. */
function convNetReference(image: NdArray<'float32'>, w: Record<string, Float32Array>): number[] {
  const [n, c, h, wd] = image.shape as [number, number, number, number];
  const out: number[] = [];
  for (let b = 0; b < n; b++) {
    const conv = new Float32Array(4 * h * wd);
    for (let o = 0; o < 4; o++) {
      for (let y = 0; y < h; y++) {
        for (let x = 0; x < wd; x++) {
          let sum = w['conv1.bias']![o]!;
          for (let ci = 0; ci < c; ci++) {
            for (let ky = 0; ky < 3; ky++) {
              for (let kx = 0; kx < 3; kx++) {
                const iy = y + ky - 1;
                const ix = x + kx - 1;
                if (iy < 0 || iy >= h || ix < 0 || ix >= wd) continue;
                sum += image.data[((b * c + ci) * h + iy) * wd + ix]! * w['conv1.weight']![((o * c + ci) * 3 + ky) * 3 + kx]!;
              }
            }
          }
          conv[(o * h + y) * wd + x] = Math.max(0, sum);
        }
      }
    }
    const pooled: number[] = [];
    for (let o = 0; o < 4; o++) {
      for (let y = 0; y < h / 2; y++) {
        for (let x = 0; x < wd / 2; x++) {
          const at = (dy: number, dx: number) => conv[(o * h + 2 * y + dy) * wd + 2 * x + dx]!;
          pooled.push(Math.max(at(0, 0), at(0, 1), at(1, 0), at(1, 1)));
        }
      }
    }
    const logits = Array.from({ length: 10 }, (_, k) => pooled.reduce((s, v, i) => s + v * w['fc.weight']![k * 64 + i]!, w['fc.bias']![k]!));
    const max = Math.max(...logits);
    const exps = logits.map((l) => Math.exp(l - max));
    const total = exps.reduce((s, e) => s + e, 0);
    out.push(...exps.map((e) => e / total));
  }
  return out;
}
