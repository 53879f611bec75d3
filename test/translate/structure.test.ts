// What the exported graph looks like: Keras layout at the boundary, few Transposes, names
// from layers, metadata that reopens the file as a trainable model, and `strata export`.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { decodeModel, encodeModel } from '../../app/onnx/schema.ts';
import { tensorToArray } from '../../app/onnx/tensor.ts';
import { modelFromOnnx } from '../../app/translate/from_onnx.ts';
import { exportOnnx, modelToOnnx, METADATA_KERAS_JSON, OPSET } from '../../app/translate/to_onnx.ts';
import productImageClassifier from '../../examples/product-image-classifier.ts';
import purchasePredictor from '../../examples/purchase-predictor.ts';
import { mergeLayerCases, randomizeWeights, recurrentCases, resizeLayerCases, timeLayerCases, translationCases } from './models.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));

describe('exported graph', () => {
  test('recurrent layers: one LSTM/GRU/RNN node per direction and no node whose result nobody reads', () => {
    for (const model of recurrentCases()) {
      const graph = modelToOnnx(model).graph!;
      const read = new Set([...graph.node!.flatMap((n) => n.input ?? []), ...graph.output!.map((o) => o.name)]);
      const unread = graph.node!.filter((n) => n.opType !== 'LSTM' && n.opType !== 'GRU' && n.opType !== 'RNN' && !n.output!.some((o) => read.has(o)));
      assert.deepEqual(unread.map((n) => n.name), [], model.name);
      const recurrentNodes = graph.node!.filter((n) => ['LSTM', 'GRU', 'RNN'].includes(n.opType!)).length;
      assert.equal(recurrentNodes, model.layers.filter((l) => /LSTM|GRU|RNN/.test(l.className)).length + 2 * model.layers.filter((l) => l.className === 'Bidirectional').length, model.name);
    }
  });

  test('the seed CNN: NHWC input and output, two Transposes (into NCHW, and back before Flatten)', () => {
    const proto = modelToOnnx(productImageClassifier);
    const graph = proto.graph!;
    const dims = (v: NonNullable<typeof graph.input>[number]) => v.type!.tensorType!.shape!.dim!.map((d) => d.dimParam ?? Number(d.dimValue));
    assert.deepEqual(graph.input!.map((v) => [v.name, dims(v)]), [['conv1_input', ['batch', 64, 64, 3]]]);
    assert.deepEqual(graph.output!.map((v) => [v.name, dims(v)]), [['output_softmax', ['batch', 10]]]);
    const ops = graph.node!.map((n) => n.opType);
    assert.deepEqual(ops, ['Transpose', 'Conv', 'Relu', 'MaxPool', 'Conv', 'Relu', 'MaxPool', 'Transpose', 'Flatten', 'Gemm', 'Relu', 'Dropout', 'Gemm', 'Softmax']);
    assert.deepEqual(graph.initializer!.filter((t) => t.name!.endsWith('kernel')).map((t) => [t.name, t.dims!.map(Number)]), [
      ['conv1/kernel', [32, 3, 3, 3]],
      ['conv2/kernel', [64, 32, 3, 3]],
      ['dense1/kernel', [12544, 64]],
      ['output_softmax/kernel', [64, 10]],
    ]);
    assert.equal(proto.producerName, 'strata');
    assert.deepEqual(proto.opsetImport, [{ domain: '', version: OPSET }]);
    assert.equal(graph.name, 'product_image_classifier_sequential');
  });

  test('"same" padding is explicit SAME_UPPER pads (the odd pixel at the end, as TensorFlow)', () => {
    const model = translationCases().find((m) => m.name === 'conv_same_stride2')!;
    const conv = modelToOnnx(model).graph!.node!.find((n) => n.opType === 'Conv')!;
    const pads = conv.attribute!.find((a) => a.name === 'pads')!.ints!.map(Number);
    // input 9x8, kernel 3x2, stride 2: total padding 2 (rows) and 0 (columns)
    assert.deepEqual(pads, [1, 0, 1, 0]);
  });

  test('CenterCrop is one Slice of the window on the value\'s own layout, starting int((in - out) / 2) in', () => {
    const cases: [string, { starts: number[]; ends: number[]; axes: number[] }][] = [
      ['center_crop', { starts: [1, 1], ends: [5, 6], axes: [1, 2] }], // (7, 8) -> (4, 5), NHWC: odd margins leave the extra row and column at the end
      ['center_crop_after_conv', { starts: [2, 1], ends: [6, 5], axes: [2, 3] }], // (8, 7) -> (4, 4) after a Conv, NCHW
    ];
    for (const [name, window] of cases) {
      const graph = modelToOnnx(resizeLayerCases().find((m) => m.name === name)!).graph!;
      const slices = graph.node!.filter((n) => n.opType === 'Slice');
      assert.deepEqual(graph.node!.filter((n) => n.opType === 'Pad'), [], name);
      assert.equal(slices.length, 1, name);
      const constant = (input: string) => Array.from(tensorToArray(graph.initializer!.find((t) => t.name === input)!).data, Number);
      const [starts, ends, axes] = slices[0]!.input!.slice(1).map(constant);
      assert.deepEqual({ starts, ends, axes }, window, name);
    }
  });
});

describe('merge layers', () => {
  test('Subtract, Maximum and Minimum are one Sub, Max or Min node; Dot one batched MatMul, its normalization an exact ReduceSumSquare per input', () => {
    const ops = (name: string) => modelToOnnx(mergeLayerCases().find((m) => m.name === name)!).graph!.node!.map((n) => n.opType);
    assert.deepEqual(ops('subtract_broadcast'), ['Sub']);
    assert.deepEqual(ops('maximum_three'), ['Max']);
    assert.deepEqual(ops('minimum_two'), ['Min']);
    // (N, 4, 3) . (N, 4, 5) over axis 1: the first operand's summed axis moved last, the second's already at 1
    assert.deepEqual(ops('dot_axes_1'), ['Transpose', 'MatMul']);
    // (N, 6) . (N, 6): (N, 1, 6) and (N, 6, 1), then (N, 1, 1) reshaped to Keras's (N, 1)
    assert.deepEqual(ops('dot_vectors'), ['Reshape', 'Reshape', 'MatMul', 'Reshape']);
    const normalized = ops('dot_normalize');
    assert.deepEqual(normalized.filter((op) => op === 'ReduceSumSquare').length, 2);
    assert.ok(!normalized.includes('ReduceMean'), normalized.join(' '));
  });
});

describe('import', () => {
  // the recurrent cases: their kernels are stored transposed, LSTM's gates reordered (kernel_layout.ts);
  // the merge cases: Dot's axes (an int or a pair) and normalize come back from the metadata
  for (const model of [productImageClassifier, purchasePredictor, ...recurrentCases(), ...mergeLayerCases(), ...timeLayerCases()]) {
    test(`${model.name}: the exported file reopens with the same layers and weights`, () => {
      randomizeWeights(model, 7);
      const bytes = exportOnnx(model);
      const reopened = modelFromOnnx(bytes, 'exported.onnx');
      assert.equal(reopened.summary(), model.summary());
      assert.deepEqual(reopened.getWeights(), model.getWeights());
      assert.deepEqual(exportOnnx(reopened), bytes);
    });
  }

  test('a file Strata did not write says what can be done with it', () => {
    const proto = modelToOnnx(purchasePredictor);
    proto.metadataProps = proto.metadataProps!.filter((p) => p.key !== METADATA_KERAS_JSON);
    assert.throws(() => modelFromOnnx(encodeModel(proto), 'other.onnx'), /other\.onnx: not written by Strata .*'strata inspect' and 'strata predict' work on any ONNX file/);
  });
});

describe('strata export', () => {
  test('writes the file, which summary and predict then open', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'strata-export-'));
    try {
      const file = path.join(dir, 'model.onnx');
      const result = spawnSync(process.execPath, ['app/cli/strata.js', 'export', 'examples/purchase-predictor.ts', '-o', file], { cwd: root, encoding: 'utf8' });
      assert.equal(result.status, 0, result.stderr);
      assert.match(result.stderr, /wrote .*model\.onnx \(3,2\d\d,\d\d\d bytes, 799,233 parameters\)/);
      const summary = spawnSync(process.execPath, ['app/cli/strata.js', 'summary', file, '--json'], { cwd: root, encoding: 'utf8' });
      assert.equal(JSON.parse(summary.stdout).total_params, 799233);
      assert.ok(readFileSync(file).length > 3_000_000);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a folder that does not exist is a one-line error and leaves nothing behind', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'strata-export-'));
    try {
      const target = path.join(dir, 'missing', 'model.onnx');
      const result = spawnSync(process.execPath, ['app/cli/strata.js', 'export', 'examples/purchase-predictor.ts', '-o', target], { cwd: root, encoding: 'utf8' });
      assert.equal(result.status, 1);
      assert.match(result.stderr, /^strata: .*missing\/model\.onnx: cannot save \(the folder does not exist\); nothing was changed\n$/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('an existing file is replaced whole', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'strata-export-'));
    try {
      const file = path.join(dir, 'model.onnx');
      writeFileSync(file, 'old contents');
      const result = spawnSync(process.execPath, ['app/cli/strata.js', 'export', 'examples/product-image-classifier.ts', '-o', file], { cwd: root, encoding: 'utf8' });
      assert.equal(result.status, 0, result.stderr);
      assert.equal(decodeModel(readFileSync(file)).graph!.name, 'product_image_classifier_sequential');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
