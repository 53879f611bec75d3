// An ONNX file from PyTorch 1.13's torch.onnx.export (opset 17) using nn.LayerNorm (ONNX's
// LayerNormalization op), F.pad(mode='reflect') (Pad, its pads computed by a chain of integer
// ops the engine folds at load) and F.log_softmax (LogSoftmax), made by the test with Debian's
// /usr/bin/python3 (torch_norm_pad_model.py). `strata inspect` reads it; the engine predicts
// what onnxruntime and PyTorch predict to 1e-5 on the CPU and reference backends, and trains it.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { NdArray } from '../../app/data/ndarray.ts';
import { readNpy } from '../../app/data/npy.ts';
import { loadNativeEngine } from '../../app/engine/binding.ts';
import { inspectOnnxFile } from '../../app/onnx/inspect.ts';
import { decodeModel } from '../../app/onnx/schema.ts';
import { inferShapes } from '../../app/onnx/shape_inference.ts';
import { OnnxSession } from '../../app/runtime/session.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SCRIPT = fileURLToPath(new URL('./torch_norm_pad_model.py', import.meta.url));
const scratch = mkdtempSync(path.join(tmpdir(), 'strata-torch-ops-'));
after(() => rmSync(scratch, { recursive: true, force: true }));
const file = (name: string) => path.join(scratch, name);
const engine = loadNativeEngine();

/** |a - b| <= 1e-5 * max(1, |b|) everywhere; reports the first 5 misses. */
function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: element count`);
  const bad: string[] = [];
  for (let i = 0; i < expected.length; i++) {
    const [a, b] = [actual[i]!, expected[i]!];
    if (!(Math.abs(a - b) <= 1e-5 * Math.max(1, Math.abs(b)))) bad.push(`[${i}] ${a} vs ${b}`);
  }
  assert.deepEqual(bad.slice(0, 5), [], `${what}: ${bad.length} mismatches`);
}

const floats = (a: NdArray) => a.data as Float32Array;

describe('a PyTorch export with LayerNormalization, reflect Pad and LogSoftmax', () => {
  before(() => {
    const made = spawnSync('/usr/bin/python3', [SCRIPT, scratch], { encoding: 'utf8' });
    assert.equal(made.status, 0, made.stderr);
  });

  test('strata inspect names the ops; shape inference follows the pads\' integer subgraph to every shape', () => {
    const d = inspectOnnxFile(file('norm_pad.onnx'));
    assert.deepEqual(d.opsetImports, [{ domain: '', version: 17 }]);
    const uses = Object.fromEntries(d.operators.map((o) => [o.opType, o.count]));
    assert.deepEqual([uses['LayerNormalization'], uses['Pad'], uses['LogSoftmax'], uses['Slice'], uses['ConstantOfShape']], [1, 1, 1, 1, 1]);
    const pad = d.graph.nodes.find((n) => n.opType === 'Pad')!;
    assert.deepEqual(pad.attributes.map((a) => [a.name, a.value]), [['mode', 'reflect']]);
    assert.deepEqual(d.graph.outputs, [{ name: 'y', type: 'float32', shape: ['batch', 5] }]);
    // Pad's pads are computed from Constants by ConstantOfShape, Concat, Reshape, Slice (step -1),
    // Transpose, Reshape and Cast; inference follows their values to Pad's output shape.
    const inferred = inferShapes(decodeModel(readFileSync(file('norm_pad.onnx'))));
    assert.deepEqual(inferred['/Cast_output_0'], { type: 'int64', shape: [8] });
    assert.deepEqual(inferred['/Pad_output_0'], { type: 'float32', shape: ['batch', 2, 8, 8] });
    assert.deepEqual(inferred['/norm/LayerNormalization_output_0'], { type: 'float32', shape: ['batch', 4, 6, 6] });
    assert.deepEqual(inferred['/Flatten_output_0'], { type: 'float32', shape: ['batch', 144] });
    const cli = spawnSync(process.execPath, [path.join(ROOT, 'app', 'cli', 'strata.js'), 'inspect', file('norm_pad.onnx')], { encoding: 'utf8' });
    assert.equal(cli.status, 0, cli.stderr);
    assert.match(cli.stdout, /LayerNormalization/);
  });

  for (const backend of ['cpu', 'reference'] as const) {
    test(`the engine (${backend}) predicts what onnxruntime and PyTorch predict, to 1e-5`, async () => {
      const x = readNpy(file('x.npy'));
      const ort = await OnnxSession.create(file('norm_pad.onnx'));
      let expected: NdArray;
      try {
        expected = (await ort.run(x))['y']!;
      } finally {
        await ort.release();
      }
      assertClose(floats(expected), floats(readNpy(file('y_torch.npy'))), 'onnxruntime against PyTorch');
      const session = new engine.TrainingSession(readFileSync(file('norm_pad.onnx')), {
        losses: [{ output: 'y', kind: 'sparse_categorical_crossentropy', fromLogits: true }],
        optimizer: { kind: 'adam' },
        backend,
      });
      try {
        const [y] = await session.forward([{ shape: [...x.shape], data: floats(x) }]);
        assert.deepEqual(y!.shape, [8, 5]);
        assertClose(y!.data as Float32Array, floats(expected), `engine ${backend} against onnxruntime`);
      } finally {
        session.dispose();
      }
    });
  }

  test('the engine trains it: the loss falls and the LayerNorm and conv weights move', async () => {
    const x = readNpy(file('x.npy'));
    // log_softmax's output read as logits: log_softmax of log-probabilities is themselves, so this is the NLL
    const session = new engine.TrainingSession(readFileSync(file('norm_pad.onnx')), {
      losses: [{ output: 'y', kind: 'sparse_categorical_crossentropy', fromLogits: true }],
      optimizer: { kind: 'adam', learningRate: 0.01 },
      seed: 1,
    });
    try {
      assert.deepEqual(new Set(session.trainableNames()), new Set(['conv.weight', 'conv.bias', 'norm.weight', 'norm.bias', 'fc.weight', 'fc.bias']));
      const before = new Map(session.trainableNames().map((n) => [n, Float32Array.from(session.getWeight(n).data as Float32Array)]));
      const inputs = [{ shape: [...x.shape], data: floats(x) }];
      const targets = [{ shape: [8], data: Int32Array.from([0, 1, 2, 3, 4, 0, 1, 2]) }];
      const losses: number[] = [];
      for (let step = 0; step < 30; step++) losses.push((await session.trainStep(inputs, targets)).loss);
      assert.ok(losses.at(-1)! < losses[0]! * 0.5, `loss ${losses[0]} -> ${losses.at(-1)}`);
      for (const [name, was] of before) {
        const now = session.getWeight(name).data as Float32Array;
        assert.ok(now.some((v, i) => v !== was[i]), `${name} moved`);
      }
    } finally {
      session.dispose();
    }
  });
});
