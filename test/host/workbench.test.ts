// The workbench as the views use it, with a real engine process: the examples, an ONNX file
// Strata did not write (torchvision's resnet18), Strata's own ONNX export opened back as a
// model, exports on the desktop (save dialog) and in browser mode (download), dropped files,
// recent files, appInfo, and errors crossing with the CLI's one-line message.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { describe, test } from 'node:test';
import { unzipSync } from 'fflate';
import type { ModelDocument, OpenedDocument, TensorStats } from '../../app/contract/api.ts';
import { loadNativeEngine } from '../../app/engine/binding.ts';
import { withCliErrors } from '../../app/host/engine_api.ts';
import { HISTOGRAM_BINS, tensorStats } from '../../app/host/tensor_stats.ts';
import { ValueError } from '../../app/model/index.ts';
import { parseOnnxModel } from '../../app/onnx/inspect.ts';
import { decodeModel } from '../../app/onnx/schema.ts';
import { tensorToArray } from '../../app/onnx/tensor.ts';
import { ROOT, resnet18Folder } from './foreign_models.ts';
import { EXAMPLES, cliStderr, rejection, scratchFolder, workbench } from './helpers.ts';

const EXAMPLE_PARAMS: Record<string, number> = {
  'fashion-mnist-classifier.ts': 121930,
  'lenet5.ts': 61706,
  'lstm-sequence-classifier.ts': 6498,
  'mlp.ts': 101770,
  'mobilenet-style.ts': 9450,
  'product-image-classifier.ts': 822922,
  'purchase-predictor.ts': 799233,
  'resnet-block.ts': 19914,
  'subclassed-cnn.ts': 54410,
};

function asModel(document: OpenedDocument): ModelDocument {
  assert.equal(document.kind, 'model', `${document.title} opened as ${document.kind}`);
  return document as ModelDocument;
}

/** What the side panel needs to hold together: counts, a histogram of every finite value, min <= mean <= max. */
function assertConsistent(stats: TensorStats): void {
  assert.equal(stats.count, stats.shape.reduce((a, b) => a * b, 1));
  assert.equal(stats.histogram.reduce((a, b) => a + b, 0), stats.count);
  assert.equal(stats.histogram.length, HISTOGRAM_BINS);
  assert.ok(stats.min! <= stats.mean! && stats.mean! <= stats.max!, JSON.stringify(stats));
}

describe('documents', () => {
  const saved = scratchFolder('saved');
  const dialogs: string[] = [];
  let nextSave: string | null = null;
  const wb = workbench({
    mode: 'desktop',
    saveDialog: async ({ defaultName }) => {
      dialogs.push(defaultName);
      return nextSave;
    },
  });

  test('every example opens as a model with its Keras summary and a graph node per layer with its output shapes', async () => {
    const examples = await wb.examples();
    assert.deepEqual(examples.map((e) => [e.name, e.kind]), Object.keys(EXAMPLE_PARAMS).map((name) => [name, 'model-module']));
    for (const entry of examples) {
      const document = asModel(await wb.open(entry.path));
      assert.equal(document.summary.params.total, EXAMPLE_PARAMS[entry.name], entry.name);
      assert.deepEqual([document.source, document.trainedWeights, document.title], ['module', false, entry.name]);
      const nodes = new Set(document.graph.nodes.map((n) => n.id));
      assert.deepEqual(document.summary.rows.filter((r) => !nodes.has(r.name)), [], 'every row of the summary is a node of the graph');
      assert.ok(document.graph.nodes.every((n) => n.outputShapes.length > 0 && n.outputShapes[0]!.length > 0), entry.name);
    }
  });

  test("conv2's weights: kernel (3, 3, 32, 64) and bias with statistics, the kernel within Glorot's bounds", async () => {
    const document = await wb.open(path.join(EXAMPLES, 'product-image-classifier.ts'));
    const [kernel, bias] = await wb.layerWeights(document.id, 'conv2');
    assert.deepEqual([kernel!.name, kernel!.dtype, kernel!.shape, kernel!.count], ['kernel', 'float32', [3, 3, 32, 64], 18432]);
    assertConsistent(kernel!);
    const limit = Math.sqrt(6 / (3 * 3 * 32 + 3 * 3 * 64));
    assert.ok(kernel!.min! >= -limit && kernel!.max! <= limit && kernel!.std! > limit / 3, JSON.stringify(kernel));
    assert.equal(kernel!.first.length, 16);
    assert.deepEqual([bias!.name, bias!.shape, bias!.min, bias!.max, bias!.std], ['bias', [64], 0, 0, 0]);
    const error = await rejection(wb.layerWeights(document.id, 'conv9'));
    assert.equal(error.name, 'ValueError');
    assert.match(error.message, /no layer named "conv9"; layers: .*conv2/);
  });

  test('an ONNX file Strata did not write (resnet18, torch.onnx.export) opens for inspection with inferred shapes and initializer statistics', async () => {
    const file = path.join(resnet18Folder(), 'resnet18.onnx');
    const document = await wb.open(file);
    assert.equal(document.kind, 'onnx');
    if (document.kind !== 'onnx') return;
    const { graph, producer } = document.description;
    assert.equal(producer.name, 'pytorch');
    assert.ok(graph.nodes.length >= 60 && graph.initializers.length >= 20, `${graph.nodes.length} nodes, ${graph.initializers.length} initializers`);
    const produced = graph.nodes.flatMap((n) => n.outputs).filter((name) => name !== 'logits');
    assert.deepEqual(produced.filter((name) => !document.inferred[name]), []);
    // Statistics of the first convolution's weights, against the values read here.
    const conv = graph.nodes.find((n) => n.opType === 'Conv')!;
    const stats = await wb.initializerStats(document.id, conv.inputs[1]!);
    const proto = decodeModel(readFileSync(file));
    const values = tensorToArray(proto.graph!.initializer!.find((t) => t.name === conv.inputs[1])!).data as Float32Array;
    const mean = values.reduce((a, b) => a + b, 0) / values.length;
    assert.deepEqual([stats.shape, stats.min, stats.max], [[64, 3, 7, 7], Math.min(...values), Math.max(...values)]);
    assert.ok(Math.abs(stats.mean! - mean) < 1e-9);
    assert.deepEqual(stats.first, Array.from(values.subarray(0, 16)));
    assertConsistent(stats);
    const missing = await rejection(wb.initializerStats(document.id, 'no.such.weight'));
    assert.equal(missing.message, 'resnet18.onnx: no initializer named "no.such.weight"');
    const noExport = await rejection(wb.exportDocument(document.id, 'onnx'));
    assert.match(noExport.message, /resnet18\.onnx is an ONNX file Strata did not write: it can be inspected, not exported or trained/);
  });

  test('desktop export: the save dialog, an atomic write, and the .onnx file opens back as the same trained model; cancel writes nothing', async () => {
    const original = await wb.open(path.join(EXAMPLES, 'product-image-classifier.ts'));
    nextSave = path.join(saved, 'exported.onnx');
    assert.deepEqual(await wb.exportDocument(original.id, 'onnx'), { saved: nextSave });
    const reopened = asModel(await wb.open(nextSave));
    assert.deepEqual([reopened.source, reopened.trainedWeights, reopened.summary.params.total], ['onnx', true, 822922]);
    const [before, after] = await Promise.all([wb.layerWeights(original.id, 'conv2'), wb.layerWeights(reopened.id, 'conv2')]);
    assert.deepEqual(after, before, 'the weights travel with the file');

    nextSave = path.join(saved, 'exported.json');
    assert.deepEqual(await wb.exportDocument(original.id, 'keras-json'), { saved: nextSave });
    const fromJson = asModel(await wb.open(nextSave));
    assert.deepEqual([fromJson.source, fromJson.trainedWeights, fromJson.summary], ['keras-json', false, asModel(original).summary]);

    nextSave = null;
    assert.deepEqual(await wb.exportDocument(original.id, 'onnx'), { cancelled: true });
    assert.deepEqual(dialogs, ['product-image-classifier.onnx', 'product-image-classifier.json', 'product-image-classifier.onnx']);
    assert.deepEqual(readdirSync(saved).sort(), ['exported.json', 'exported.onnx'], 'no temporary file left, nothing written on cancel');
  });

  test('closeDocument forgets the document', async () => {
    const document = await wb.open(path.join(EXAMPLES, 'subclassed-cnn.ts'));
    await wb.closeDocument(document.id);
    assert.match((await rejection(wb.layerWeights(document.id, 'conv2d'))).message, /no open document/);
  });
});

describe('browser mode', () => {
  const root = scratchFolder('browser-root');
  const wb = workbench({ mode: 'browser', root });

  test('exports are handed to the page as a download', async () => {
    const document = await wb.open(path.join(EXAMPLES, 'purchase-predictor.ts'));
    const result = await wb.exportDocument(document.id, 'onnx');
    assert.ok('download' in result);
    assert.deepEqual([result.download.fileName, result.download.mimeType], ['purchase-predictor.onnx', 'application/octet-stream']);
    assert.equal(parseOnnxModel(result.download.bytes).producerName, 'strata');
    assert.deepEqual(readdirSync(root), [], 'browser mode writes nothing on the server');
  });

  test('the PyTorch package and the Keras script are handed over as zipped folders', async () => {
    const document = await wb.open(path.join(EXAMPLES, 'resnet-block.ts'));
    const expected = {
      pytorch: ['__init__.py', 'arrays.py', 'keras_attention.py', 'keras_augment.py', 'keras_layers.py', 'keras_recurrent.py', 'keras_training.py', 'model.py', 'train.py', 'weights.py', 'weights.safetensors'],
      'keras-script': ['arrays.py', 'model.py', 'weights.npz'],
    } as const;
    for (const [format, files] of Object.entries(expected) as [keyof typeof expected, readonly string[]][]) {
      const result = await wb.exportDocument(document.id, format);
      assert.ok('download' in result);
      const folder = `resnet-block-${format === 'pytorch' ? 'pytorch' : 'keras'}`;
      assert.deepEqual([result.download.fileName, result.download.mimeType], [`${folder}.zip`, 'application/zip']);
      const members = unzipSync(result.download.bytes);
      assert.deepEqual(Object.keys(members).sort(), files.map((file) => `${folder}/${file}`));
      assert.match(new TextDecoder().decode(members[`${folder}/model.py`]), format === 'pytorch' ? /class SmallResnet\(nn\.Module\)/ : /return keras\.Model\(inputs=image, outputs=output, name="small_resnet"\)/);
    }
    assert.deepEqual(readdirSync(root), [], 'browser mode writes nothing on the server');
  });

  test("errors from loading a file cross with their name and the CLI's one-line message, and the app goes on", async () => {
    writeFileSync(path.join(root, 'truncated.onnx'), readFileSync(path.join(ROOT, 'test/fixtures/onnx/conv_net.onnx')).subarray(0, 200));
    writeFileSync(path.join(root, 'random.onnx'), Buffer.from(Array.from({ length: 300 }, (_, i) => (i * 7919) % 251)));
    const keras = JSON.parse(readFileSync(path.join(ROOT, 'test/fixtures/keras/purchase_predictor.tf2.json'), 'utf8'));
    keras.config.layers[2].class_name = 'FancyAttention';
    writeFileSync(path.join(root, 'unsupported.json'), JSON.stringify(keras));
    writeFileSync(path.join(root, 'model.npy'), '');
    // Each CLI run takes seconds: two files are compared with it, every file is checked for its kind of error.
    const expected: [string, string, boolean][] = [
      ['truncated.onnx', 'FormatError', true],
      ['unsupported.json', 'ConfigError', true],
      ['random.onnx', 'FormatError', false],
      ['model.npy', 'UserError', false],
    ];
    for (const [file, name, compareWithCli] of expected) {
      const error = await rejection(wb.open(file));
      assert.equal(error.name, name, file);
      assert.ok(error.message.startsWith(file) && !error.message.includes(root), `${file}: the message names the file as the page knows it: ${error.message}`);
      if (compareWithCli) assert.equal(`strata: ${error.message}\n`, cliStderr(root, 'summary', file), file);
    }
    assert.equal((await wb.examples()).length, Object.keys(EXAMPLE_PARAMS).length);
  });

  test('Keras model files (.h5, .keras) open with their weights, from the server\'s files and dropped', async () => {
    const h5 = path.join(root, 'mlp_bn.h5');
    writeFileSync(h5, readFileSync(path.join(ROOT, 'test/fixtures/keras/mlp_bn.tf2.h5')));
    const opened = asModel(await wb.open('mlp_bn.h5'));
    assert.deepEqual([opened.source, opened.trainedWeights, opened.summary.params.total], ['keras-file', true, 99]);
    const dropped = asModel(await wb.openDropped('flownet.keras', readFileSync(path.join(ROOT, 'test/fixtures/keras/real/flownet_final_model.keras'))));
    assert.deepEqual([dropped.source, dropped.trainedWeights, dropped.summary.params.total], ['keras-file', true, 10786]);
    const broken = await rejection(wb.openDropped('broken.keras', new TextEncoder().encode('not a zip')));
    assert.match(broken.message, /^broken\.keras: not a zip archive, so not a Keras \.keras model$/);
    rmSync(h5);
  });

  test('dropped files: ONNX and Keras JSON open by content; model code, weights manifests and other files are refused', async () => {
    const onnx = await wb.openDropped('convnet.onnx', readFileSync(path.join(ROOT, 'test/fixtures/onnx/torch_convnet.onnx')));
    assert.deepEqual([onnx.kind, onnx.path, onnx.title], ['onnx', 'convnet.onnx', 'convnet.onnx']);
    const keras = asModel(await wb.openDropped('pp.json', readFileSync(path.join(ROOT, 'test/fixtures/keras/purchase_predictor.tf2.json'))));
    assert.deepEqual([keras.source, keras.summary.params.total], ['keras-json', 799233]);
    const refusals: [string, string, RegExp][] = [
      ['model.ts', 'export default 1', /a model file in code runs where the app runs/],
      ['model.json', '{"modelTopology": {}, "weightsManifest": []}', /needs its weight files beside it/],
      ['weights.bin', 'xx', /cannot open a dropped "\.bin" file/],
    ];
    for (const [name, text, message] of refusals) {
      const error = await rejection(wb.openDropped(name, new TextEncoder().encode(text)));
      assert.equal(error.name, 'UserError');
      assert.match(error.message, message);
    }
    const corrupt = await rejection(wb.openDropped('bad.onnx', new Uint8Array([1, 2, 3])));
    assert.equal(corrupt.name, 'FormatError');
  });

  test("appInfo: the mode, the root, and the versions of Strata, Node, onnxruntime and the engine's backends", async () => {
    let backends: string[] = [];
    let cudaUnavailable: string | null = null;
    try {
      backends = loadNativeEngine().backends();
      const cuda = loadNativeEngine().cudaStatus();
      if (backends.includes('cuda') && !cuda.available) cudaUnavailable = cuda.reason;
    } catch {
      // not built: the engine process reports none either
    }
    const info = await wb.appInfo();
    const ortVersion = (createRequire(import.meta.url)('onnxruntime-node/package.json') as { version: string }).version;
    const strataVersion = (JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
    assert.deepEqual(info, {
      mode: 'browser',
      root: root,
      versions: { strata: strataVersion, node: process.versions.node, electron: null, chrome: null, onnxruntime: ortVersion, engineBackends: backends, cudaUnavailable },
    });
  });
});

describe('recent files', () => {
  test('newest first, kept in the state folder across workbenches, moved files left out, a corrupt list read as empty', async () => {
    const stateDir = scratchFolder('recent-state');
    const root = scratchFolder('recent-root');
    const first = workbench({ mode: 'browser', root, stateDir });
    writeFileSync(path.join(root, 'a.onnx'), readFileSync(path.join(ROOT, 'test/fixtures/onnx/matmul_add.onnx')));
    writeFileSync(path.join(root, 'b.onnx'), readFileSync(path.join(ROOT, 'test/fixtures/onnx/matmul_add.onnx')));
    for (const file of ['a.onnx', 'b.onnx', 'a.onnx']) await first.open(file);
    await rejection(first.open('missing.onnx'));
    first.dispose();
    assert.deepEqual(JSON.parse(readFileSync(path.join(stateDir, 'recent-files.json'), 'utf8')), { files: [path.join(root, 'a.onnx'), path.join(root, 'b.onnx')] });

    const second = workbench({ mode: 'browser', root, stateDir });
    assert.deepEqual((await second.recentFiles()).map((f) => [f.name, f.path, f.kind]), [['a.onnx', 'a.onnx', 'onnx'], ['b.onnx', 'b.onnx', 'onnx']]);
    rmSync(path.join(root, 'b.onnx'));
    assert.deepEqual((await second.recentFiles()).map((f) => f.name), ['a.onnx']);
    // Another root does not see files outside it.
    const elsewhere = workbench({ mode: 'browser', root: scratchFolder('other-root'), stateDir });
    assert.deepEqual(await elsewhere.recentFiles(), []);

    writeFileSync(path.join(stateDir, 'recent-files.json'), '{"files": [tru');
    assert.deepEqual(await second.recentFiles(), []);
    await second.open(path.join(EXAMPLES, 'subclassed-cnn.ts'));
    assert.deepEqual((await second.recentFiles()).map((f) => f.name), ['subclassed-cnn.ts']);
    assert.ok(!readdirSync(stateDir).some((name) => name.endsWith('.tmp')) && existsSync(path.join(stateDir, 'recent-files.json')));
  });
});

describe('errors as the CLI reports them', () => {
  test("a user's error keeps its name and one-line message; a bug becomes InternalError with its stack", async () => {
    const api = withCliErrors({
      open: async () => {
        throw new ValueError('layer "dense": units must be positive, got 0');
      },
      layerWeights: async () => {
        const missing: { weights?: unknown[] } = {};
        return missing.weights!.length;
      },
    });
    const user = await rejection(api.open());
    assert.deepEqual([user.name, user.message], ['ValueError', 'layer "dense": units must be positive, got 0']);
    const bug = await rejection(api.layerWeights());
    assert.equal(bug.name, 'InternalError');
    assert.match(bug.message, /^internal error: TypeError: Cannot read properties of undefined \(reading 'length'\)\n\s+at /);
  });
});

describe('tensor statistics', () => {
  test("NumPy's statistics, the histogram over [min, max], NaN and infinities counted apart", () => {
    const stats = tensorStats({ name: 'w', dtype: 'float32', shape: [2, 3] }, [1, 2, 3, 4, NaN, Infinity]);
    assert.deepEqual([stats.count, stats.min, stats.max, stats.mean, stats.std], [6, 1, 4, 2.5, Math.sqrt(1.25)]);
    assert.equal(stats.histogram[0], 1);
    assert.equal(stats.histogram[HISTOGRAM_BINS - 1], 1, 'the maximum is in the last bin');
    assert.equal(stats.histogram.reduce((a, b) => a + b, 0), 4);
    assert.equal(stats.note, '2 of 6 values are NaN or infinite and are left out of the statistics');
    assert.deepEqual(stats.first.slice(0, 4), [1, 2, 3, 4]);
    const int64 = tensorStats({ name: 'ids', dtype: 'int64', shape: [3] }, [5n, 5n, 5n]);
    assert.deepEqual([int64.min, int64.max, int64.std, int64.histogram[0]], [5, 5, 0, 3]);
    const empty = tensorStats({ name: 'e', dtype: 'float32', shape: [0] }, []);
    assert.deepEqual([empty.min, empty.histogram, empty.note], [null, [], 'the tensor is empty']);
  });
});
