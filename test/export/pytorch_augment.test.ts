// The PyTorch export's image augmentation layers (keras_augment.py) in train() mode, checked
// with the system's PyTorch. Given the same transformation, each module computes what Strata's
// engine computes in training: the geometric layers with pinned ranges ([a, a]: the draw is a,
// exactly, on both sides) under every fill mode and interpolation, through forward(); RandomFlip
// and RandomContrast with the flips and factors the engine drew (read back from its output)
// passed to transform(). The engine's training-mode output is read through a probe: Flatten and
// a Dense(1) with a zero kernel after the layer, mean squared error to a target of -0.5 on one
// image, so that the kernel's gradient is the layer's output, exactly. Then torch's own draws:
// within Keras's ranges in both factor forms, reproduced by the layer's seed.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { FILL_MODES, FLIP_MODES, INTERPOLATIONS, Input, Model, layers, readNpz, writeNpy, type Layer, type NdArray } from '../../app/node.ts';
import { loadNativeEngine } from '../../app/engine/binding.ts';
import { exportPytorch } from '../../app/export/pytorch.ts';
import { RandomGenerator } from '../../app/model/random.ts';
import { encodeModel } from '../../app/onnx/schema.ts';
import { translateModel } from '../../app/translate/to_onnx.ts';
import { maxDifference } from '../translate/compare.ts';

const PYTHON = '/usr/bin/python3';
const RUNNER = fileURLToPath(new URL('./augment_runner.py', import.meta.url));
const scratch = mkdtempSync(path.join(tmpdir(), 'strata-export-augment-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

/** Images (batch, height, width, channels): height and width differ, so a swapped axis shows. */
const [H, W, C] = [7, 9, 2];
const PIXELS = H * W * C;

interface Call {
  module: string;
  method: 'forward' | 'transform' | 'draw';
  images: string;
  params?: unknown[];
  fresh?: boolean;
  copy?: boolean;
  torch_seed?: number;
}

/** Exports `model` into a fresh folder and runs the calls on its modules (augment_runner.py); returns each call's result. */
function runTorch(model: Model, calls: Call[]): NdArray[] {
  const dir = mkdtempSync(path.join(scratch, `${model.name}-`));
  for (const [file, contents] of Object.entries(exportPytorch(model, `${model.name}.ts`).files)) writeFileSync(path.join(dir, file), contents);
  const job = path.join(dir, 'calls.json');
  writeFileSync(job, JSON.stringify({ package: dir, outputs: path.join(dir, 'outputs.npz'), calls }));
  const result = spawnSync(PYTHON, [RUNNER, job], { encoding: 'utf8', timeout: 300_000 });
  assert.equal(result.status, 0, result.stderr);
  const outputs = readNpz(path.join(dir, 'outputs.npz'));
  return calls.map((_, k) => outputs[`arr_${k}`]!);
}

function writeImages(name: string, shape: number[], data: Float32Array): string {
  const file = path.join(scratch, `${name}.npy`);
  writeNpy(file, { dtype: 'float32', shape, data });
  return file;
}

/** Each layer on the image input, followed by its probe (Flatten, Dense(1) with a zero kernel, no bias). */
function probed(name: string, branches: Layer[]): Model {
  const image = Input({ shape: [H, W, C], name: 'image' });
  const outputs = branches.map((layer) => {
    const flat = new layers.Flatten({ name: `${layer.name}_flat` }).apply(layer.apply(image));
    return new layers.Dense(1, { useBias: false, kernelInitializer: 'zeros', name: `${layer.name}_probe` }).apply(flat);
  });
  return new Model({ inputs: image, outputs, name });
}

/**
 * Each branch's training-mode output for each image, from the engine: one train step per
 * image (learning rate 0) with every probe's output 0 and its target -0.5, so that each probe
 * kernel's gradient, 2 (0 - (-0.5)) times the probe's input, is the branch's output.
 */
async function engineOutputs(model: Model, images: Float32Array, count: number): Promise<Map<string, Float32Array[]>> {
  const engine = loadNativeEngine();
  const probes = model.outputs.map((t) => t.sourceLayer.name);
  const session = new engine.TrainingSession(encodeModel(translateModel(model, { trainingOps: true }).proto), {
    losses: probes.map((output) => ({ output, kind: 'mean_squared_error' as const })),
    optimizer: { kind: 'sgd', learningRate: 0 },
    seed: 3,
    numThreads: 1,
  });
  const outputs = new Map<string, Float32Array[]>(probes.map((p) => [p.replace(/_probe$/, ''), []]));
  for (let n = 0; n < count; n++) {
    const target = { shape: [1, 1], data: Float32Array.of(-0.5) };
    await session.trainStep([{ shape: [1, H, W, C], data: images.slice(n * PIXELS, (n + 1) * PIXELS) }], probes.map(() => target));
    for (const probe of probes) outputs.get(probe.replace(/_probe$/, ''))!.push(Float32Array.from(session.getGradient(`${probe}/kernel`).data as Float32Array));
  }
  session.dispose();
  return outputs;
}

/** Torch's output for image n of a call's batch. */
const imageOf = (batch: NdArray, n: number) => (batch.data as Float32Array).subarray(n * PIXELS, (n + 1) * PIXELS);

/** One image (H, W, C) flipped left-right and/or up-down. */
function flipped(image: Float32Array, horizontal: boolean, vertical: boolean): Float32Array {
  const out = new Float32Array(PIXELS);
  for (let y = 0; y < H; y++)
    for (let x = 0; x < W; x++)
      for (let c = 0; c < C; c++) out[(y * W + x) * C + c] = image[((vertical ? H - 1 - y : y) * W + (horizontal ? W - 1 - x : x)) * C + c]!;
  return out;
}

/**
 * The contrast factor the engine applied to an image: least squares of (out - mean) against
 * (x - mean), the means per channel, over the outputs it did not clip to [lo, hi].
 */
function contrastFactor(image: Float32Array, out: Float32Array, [lo, hi]: [number, number]): number {
  const mean = Array.from({ length: C }, (_, c) => {
    let sum = 0;
    for (let i = c; i < PIXELS; i += C) sum += image[i]!;
    return sum / (H * W);
  });
  let along = 0;
  let norm = 0;
  for (let i = 0; i < PIXELS; i++) {
    if (out[i]! <= Math.fround(lo) || out[i]! >= Math.fround(hi)) continue; // the engine clips in float32
    const m = mean[i % C]!;
    along += (out[i]! - m) * (image[i]! - m);
    norm += (image[i]! - m) ** 2;
  }
  return along / norm;
}

const COUNT = 8;
const rng = new RandomGenerator(17);
const IMAGES = Float32Array.from({ length: COUNT * PIXELS }, () => rng.uniform());

describe('the PyTorch export\'s augmentation layers in train() compute what the engine computes in training', () => {
  test('RandomTranslation, RandomZoom and RandomRotation with pinned ranges, under every fill mode and interpolation', async (t) => {
    const branches: Layer[] = FILL_MODES.flatMap((fillMode) => [
      ...INTERPOLATIONS.flatMap((interpolation) => {
        const args = { fillMode, interpolation, fillValue: 0.25 };
        const tag = `${fillMode}_${interpolation}`;
        return [
          new layers.RandomTranslation([0.3, 0.3], [-0.45, -0.45], { ...args, name: `translation_${tag}` }),
          new layers.RandomZoom([0.6, 0.6], { ...args, widthFactor: [-0.3, -0.3], name: `zoom_${tag}` }),
          new layers.RandomRotation([0.1, 0.1], { ...args, name: `rotation_${tag}` }),
        ];
      }),
      // shifts by the whole height and width: the folds of points farther than one image away
      new layers.RandomTranslation([-1, -1], [1, 1], { fillMode, name: `far_${fillMode}` }),
    ]);
    branches.push(new layers.RandomZoom([0.5, 0.5], { name: 'zoom_aspect' }));
    // reads at x / 2 + 2 and y / 2 + 1.5: nearest rounds the halves away from zero (std::round, not torch.round's to even)
    branches.push(new layers.RandomZoom([-0.5, -0.5], { interpolation: 'nearest', name: 'zoom_halves' }));
    const model = probed('pinned', branches);
    const expected = await engineOutputs(model, IMAGES, COUNT);
    const images = writeImages('pinned', [COUNT, H, W, C], IMAGES);
    const got = runTorch(model, branches.map((layer) => ({ module: layer.name, method: 'forward', images })));
    branches.forEach((layer, k) => {
      const want = expected.get(layer.name)!;
      const difference = Math.max(...want.map((image, n) => maxDifference(imageOf(got[k]!, n), image)));
      t.diagnostic(`${layer.name}: max |torch - engine| = ${difference.toExponential(2)}`);
      assert.ok(difference <= 1e-5, `${layer.name}: ${difference}`);
      assert.ok(maxDifference(want[0]!, IMAGES.subarray(0, PIXELS)) > 0.1, `${layer.name} changes the image`);
    });
    // each fill mode reads other pixels than the others for every geometry: swapping two would show
    for (const prefix of ['translation_', 'zoom_', 'rotation_']) {
      for (const interpolation of INTERPOLATIONS) {
        const byFill = FILL_MODES.map((fill) => expected.get(`${prefix}${fill}_${interpolation}`)![0]!);
        byFill.forEach((a, i) => byFill.slice(i + 1).forEach((b, j) => assert.ok(maxDifference(a, b) > 1e-3, `${prefix}${FILL_MODES[i]} and ${FILL_MODES[i + j + 1]} (${interpolation}) differ`)));
      }
    }
  });

  test('RandomFlip in every mode, given the flips the engine drew', async () => {
    const branches = FLIP_MODES.map((mode) => new layers.RandomFlip(mode, { name: `flip_${mode}` }));
    const model = probed('flips', branches);
    const expected = await engineOutputs(model, IMAGES, COUNT);
    const images = writeImages('flips', [COUNT, H, W, C], IMAGES);
    const drawn = branches.map((layer) => {
      const decisions = expected.get(layer.name)!.map((out, n) => {
        const image = IMAGES.subarray(n * PIXELS, (n + 1) * PIXELS);
        const found = [[false, false], [true, false], [false, true], [true, true]].find(([h, v]) => maxDifference(flipped(image, h!, v!), out) === 0);
        assert.ok(found, `${layer.name} image ${n}: the engine's output is no flip of the image`);
        return found as [boolean, boolean];
      });
      if (layer.mode === 'horizontal') assert.ok(decisions.every(([, v]) => !v), 'horizontal: never flipped up-down');
      if (layer.mode === 'vertical') assert.ok(decisions.every(([h]) => !h), 'vertical: never flipped left-right');
      assert.ok(decisions.some(([h, v]) => h || v) && decisions.some(([h, v]) => !h && !v), `${layer.name}: some images flipped, some not: ${JSON.stringify(decisions)}`);
      return decisions;
    });
    const got = runTorch(model, branches.map((layer, k) => ({ module: layer.name, method: 'transform', images, params: [drawn[k]!.map(([h]) => h), drawn[k]!.map(([, v]) => v)] })));
    branches.forEach((layer, k) => expected.get(layer.name)!.forEach((want, n) => assert.deepEqual(imageOf(got[k]!, n), want, `${layer.name} image ${n}`)));
  });

  test('RandomContrast (clipped, and a factor as a pair), given the factors the engine drew', async (t) => {
    const branches = [
      new layers.RandomContrast(0.6, { valueRange: [0.2, 0.8], name: 'contrast_clipped' }),
      new layers.RandomContrast([0.2, 0.5], { valueRange: [-5, 5], name: 'contrast_pair' }),
    ];
    const model = probed('contrasts', branches);
    const expected = await engineOutputs(model, IMAGES, COUNT);
    const images = writeImages('contrasts', [COUNT, H, W, C], IMAGES);
    const factors = branches.map((layer) => {
      const drawn = expected.get(layer.name)!.map((out, n) => contrastFactor(IMAGES.subarray(n * PIXELS, (n + 1) * PIXELS), out, layer.valueRange));
      const [low, high] = layer.contrastRange;
      t.diagnostic(`${layer.name}: the engine drew ${drawn.map((f) => f.toFixed(4)).join(', ')} from [${low}, ${high}]`);
      assert.ok(drawn.every((f) => f >= low - 1e-4 && f <= high + 1e-4), `${layer.name}: ${drawn}`);
      return drawn;
    });
    const clipped = expected.get('contrast_clipped')!.flatMap((out) => Array.from(out)).filter((v) => v === Math.fround(0.2) || v === Math.fround(0.8)).length;
    assert.ok(clipped > 10, `the clipped case clips some values: ${clipped}`);
    const got = runTorch(model, branches.map((layer, k) => ({ module: layer.name, method: 'transform', images, params: [factors[k]] })));
    branches.forEach((layer, k) => {
      const difference = Math.max(...expected.get(layer.name)!.map((want, n) => maxDifference(imageOf(got[k]!, n), want)));
      t.diagnostic(`${layer.name}: max |torch - engine| = ${difference.toExponential(2)}`);
      assert.ok(difference <= 1e-5, `${layer.name}: ${difference}`);
    });
  });
});

describe("the PyTorch export's augmentation layers draw with torch's generators", () => {
  const DRAWS = 4000;
  const turn = 2 * Math.PI;
  /** Each layer and the ranges of the rows its draw() returns. */
  const cases: { layer: Layer; ranges: [number, number][] }[] = [
    { layer: new layers.RandomRotation([0.05, 0.1], { seed: 4, name: 'rotation' }), ranges: [[0.05 * turn, 0.1 * turn]] },
    { layer: new layers.RandomRotation(0.1, { name: 'rotation_symmetric' }), ranges: [[-0.1 * turn, 0.1 * turn]] },
    { layer: new layers.RandomTranslation(0.2, [-0.1, 0.3], { name: 'translation' }), ranges: [[-0.2, 0.2], [-0.1, 0.3]] },
    { layer: new layers.RandomZoom([-0.2, 0.3], { name: 'zoom' }), ranges: [[0.8, 1.3], [0.8, 1.3]] },
    { layer: new layers.RandomZoom(0.1, { widthFactor: [0.2, 0.4], name: 'zoom_width' }), ranges: [[0.9, 1.1], [1.2, 1.4]] },
    { layer: new layers.RandomContrast([0.1, 0.3], { name: 'contrast' }), ranges: [[0.9, 1.3]] },
    { layer: new layers.RandomContrast(0.2, { name: 'contrast_symmetric' }), ranges: [[0.8, 1.2]] },
    { layer: new layers.RandomFlip('horizontal', { seed: 9, name: 'flip_horizontal' }), ranges: [[0, 1], [0, 0]] },
    { layer: new layers.RandomFlip('vertical', { name: 'flip_vertical' }), ranges: [[0, 0], [0, 1]] },
  ];
  const image = Input({ shape: [H, W, C], name: 'image' });
  const model = new Model({ inputs: image, outputs: cases.map(({ layer }) => layer.apply(image)), name: 'draws' });
  const images = writeImages('draws', [DRAWS, H, W, C], new Float32Array(DRAWS * PIXELS));
  const draw = (module: string, options: Partial<Call> = {}): Call => ({ module, method: 'draw', images, ...options });
  let results: NdArray[] = [];
  before(() => {
    results = runTorch(model, [
      ...cases.map(({ layer }, k) => draw(layer.name, k === 0 ? { torch_seed: 0 } : {})),
      draw('rotation', { fresh: true, torch_seed: 1 }),
      draw('rotation', { fresh: true, torch_seed: 2 }),
      draw('rotation_symmetric', { fresh: true, torch_seed: 1 }),
      draw('rotation_symmetric', { fresh: true, torch_seed: 1 }),
      draw('rotation_symmetric', { fresh: true, torch_seed: 2 }),
      draw('rotation', { copy: true }),
      draw('rotation'),
      draw('rotation'),
    ]);
  });

  test("each parameter is drawn uniformly over Keras's range (a factor f: [-f, f]; a pair: itself); flips with probability 1/2", () => {
    cases.forEach(({ layer, ranges }, k) => {
      const rows = results[k]!;
      assert.deepEqual(rows.shape, [ranges.length, DRAWS], layer.name);
      ranges.forEach(([low, high], row) => {
        const values = Array.from((rows.data as Float32Array).subarray(row * DRAWS, (row + 1) * DRAWS));
        const [least, most] = [Math.min(...values), Math.max(...values)];
        const mean = values.reduce((a, b) => a + b, 0) / DRAWS;
        const slack = (high - low) * 0.02;
        assert.ok(least >= low - 1e-6 && most <= high + 1e-6, `${layer.name} row ${row}: ${least} .. ${most} outside [${low}, ${high}]`);
        assert.ok(least <= low + slack && most >= high - slack, `${layer.name} row ${row}: ${least} .. ${most} does not cover [${low}, ${high}]`);
        assert.ok(Math.abs(mean - (low + high) / 2) <= (high - low) * 0.03, `${layer.name} row ${row}: mean ${mean}`);
      });
    });
    const zoom = results[cases.findIndex(({ layer }) => layer.name === 'zoom')]!.data as Float32Array;
    assert.deepEqual(zoom.subarray(DRAWS), zoom.subarray(0, DRAWS), 'without widthFactor the width zooms as the height');
  });

  test("a layer's seed gives the same draws in every fresh model, whatever torch's global seed; without one, torch's global seed does", () => {
    const [seeded1, seeded2, global1, global1again, global2, copied, afterCopy, next] = results.slice(cases.length).map((r) => r.data as Float32Array);
    assert.deepEqual(seeded2, seeded1);
    assert.deepEqual(global1again, global1);
    assert.notDeepEqual(global2, global1);
    assert.notDeepEqual(next, afterCopy, 'the generator moves on');
    assert.deepEqual(afterCopy, copied, 'a deep copy carries its generator\'s state');
  });
});
