// Projects through the workbench, as the editor uses them, with a real engine process in
// browser mode: New from a template, Save As under the root and never outside it, reopening
// (model, editor state, weights), a later edit that keeps the weights of unchanged layers,
// the live preview on random data, a Fashion-MNIST test image and an image file, and exports
// of the edited model.
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import type { KerasModelJson, OpenedDocument, PreviewTensor, ProjectDocument, ProjectEditorState } from '../../app/contract/api.ts';
import { FASHION_MNIST_DIR, readIdx } from '../../app/data/idx.ts';
import { loadProject } from '../../app/io/project.ts';
import { modelFromJSON } from '../../app/model/index.ts';
import { EXAMPLES, rejection, scratchFolder, workbench } from './helpers.ts';

function asProject(document: OpenedDocument): ProjectDocument {
  assert.equal(document.kind, 'project', `${document.title} opened as ${document.kind}`);
  return document as ProjectDocument;
}

const EDITOR: ProjectEditorState = { view: 'graph', positions: { conv1: { x: 12, y: 34 } }, selected: 'conv2', preview: { kind: 'random', seed: 3 } };

/** The seed CNN's JSON with dense1's units changed. */
function withDenseUnits(model: KerasModelJson, units: number): KerasModelJson {
  const copy = structuredClone(model);
  const layers = (copy.config as { layers: { config: Record<string, unknown> }[] }).layers;
  layers.find((layer) => layer.config.name === 'dense1')!.config.units = units;
  return copy;
}

const values = (tensor: PreviewTensor) => new Float32Array(tensor.data.buffer.slice(tensor.data.byteOffset, tensor.data.byteOffset + tensor.data.byteLength));

describe('projects', () => {
  const root = scratchFolder('projects-root');
  const wb = workbench({ mode: 'browser', root });

  test('the templates: the seed models and three small networks, each with its summary', async () => {
    const templates = await wb.templates();
    assert.deepEqual(
      templates.map((t) => [t.id, t.params]),
      [['seed-cnn', 822922], ['purchase-predictor', 799233], ['lenet5', 61706], ['resnet-block', 19914], ['mlp', 101770]],
    );
    assert.match(templates[0]!.summary, /Total params: 822,922 \(3\.14 MB\)/);
  });

  test('New from a template, Save As, reopen: the model, its weights and the editor state are back', async () => {
    const created = await wb.newProject('seed-cnn');
    assert.deepEqual([created.path, created.title, created.name, created.editor.view, created.modelVersion], [null, 'Seed CNN', 'product_image_classifier_sequential', 'list', 0]);
    const unsaved = await rejection(wb.saveProject(created.id, { name: 'Shoes', model: created.model, editor: EDITOR }));
    assert.match(unsaved.message, /Seed CNN has not been saved yet: choose a folder for it \(Save As\)/);

    const saved = await wb.saveProject(created.id, { path: 'shoes', name: 'Shoes', model: created.model, editor: EDITOR });
    assert.deepEqual([saved.path, saved.title, saved.modelVersion], ['shoes', 'shoes', 1]);
    assert.deepEqual((await wb.listFolder(null)).entries.map((e) => [e.name, e.kind]), [['shoes', 'project']]);
    const first = loadProject(path.join(root, 'shoes'));

    // An edit to dense1 saved in place: every other layer keeps its weights.
    const edited = withDenseUnits(created.model, 48);
    const resaved = await wb.saveProject(created.id, { name: 'Shoes', model: edited, editor: EDITOR });
    assert.equal(resaved.modelVersion, 2);
    const second = loadProject(path.join(root, 'shoes'));
    for (const name of ['conv1', 'conv2', 'output_softmax']) {
      const [before, after] = [first.model.getLayer(name).getWeights(), second.model.getLayer(name).getWeights()];
      if (name === 'output_softmax') assert.notDeepEqual(before[0]!.length, after[0]!.length, 'its kernel follows dense1 (48 inputs)');
      else assert.deepEqual(after, before, `${name} kept its weights`);
    }
    assert.equal(second.model.getLayer('dense1').countParams(), 12544 * 48 + 48);

    const reopened = asProject(await wb.open('shoes'));
    assert.deepEqual([reopened.path, reopened.name, reopened.modelVersion], ['shoes', 'Shoes', 2]);
    assert.deepEqual(reopened.editor, EDITOR);
    assert.equal(modelFromJSON(reopened.model).toJSON(), modelFromJSON(edited).toJSON());
    assert.deepEqual((await wb.recentFiles()).map((e) => [e.path, e.kind]), [['shoes', 'project']]);

    // Saved again unchanged: the model version stays.
    assert.equal((await wb.saveProject(reopened.id, { name: 'Shoes', model: reopened.model, editor: EDITOR })).modelVersion, 2);
  });

  test('Save As never goes outside the root, nor into a folder of other files; nothing is written there', async () => {
    const created = await wb.newProject('mlp');
    const request = { name: 'x', model: created.model, editor: EDITOR };
    for (const [where, message] of [
      ['../escape', /"\.\." is not allowed/],
      ['/tmp/absolute', /absolute paths outside the root folder .* are not served/],
      ['no-such-folder/p', /no-such-folder: no such file or folder under the root folder/],
    ] as const) {
      assert.match((await rejection(wb.saveProject(created.id, { ...request, path: where }))).message, message, where);
    }
    mkdirSync(path.join(root, 'papers'));
    writeFileSync(path.join(root, 'papers', 'draft.txt'), 'mine');
    const refused = await rejection(wb.saveProject(created.id, { ...request, path: 'papers' }));
    assert.match(refused.message, /^papers: cannot save the project here: it holds 1 entry that Strata did not write \(draft\.txt\)/);
    assert.deepEqual(readdirSync(path.join(root, 'papers')), ['draft.txt']);
    assert.equal(existsSync(path.join(path.dirname(root), 'escape')), false);
  });

  test('an invalid model is not saved: the error names the layer and the field', async () => {
    const created = await wb.newProject('seed-cnn');
    const error = await rejection(wb.saveProject(created.id, { path: 'broken', name: 'b', model: withDenseUnits(created.model, -3), editor: EDITOR }));
    assert.match(error.message, /^cannot save Seed CNN: .*dense1: units must be a positive integer, got -3$/);
    assert.equal(existsSync(path.join(root, 'broken')), false);
  });

  test('the preview: every layer\'s output on random data, a Fashion-MNIST image and an image file', async () => {
    const created = await wb.newProject('seed-cnn');
    const random = await wb.previewModel(created.id, created.model, { kind: 'random', seed: 1 });
    assert.deepEqual(random.layers.map((l) => [l.layer, l.tensor.shape]), [
      ['conv1', [62, 62, 32]],
      ['pool1', [31, 31, 32]],
      ['conv2', [29, 29, 32]],
      ['pool2', [14, 14, 32]],
      ['flatten', [12544]],
      ['dense1', [64]],
      ['dropout1', [64]],
      ['output_softmax', [10]],
    ]);
    assert.deepEqual([random.layers[2]!.tensor.channels, random.inputs[0]!.tensor.shape, random.classNames], [64, [64, 64, 3], null]);
    const probabilities = values(random.layers[7]!.tensor);
    assert.ok(Math.abs(probabilities.reduce((a, b) => a + b, 0) - 1) < 1e-5, 'softmax sums to 1');
    const relu = values(random.layers[0]!.tensor);
    assert.ok(relu.every((v) => v >= 0) && random.layers[0]!.tensor.min >= 0);

    const sample = await wb.previewModel(created.id, created.model, { kind: 'dataset', dataset: 'fashion-mnist', index: 0 });
    assert.equal(sample.description, 'Fashion-MNIST test image 0: Ankle boot');
    assert.equal(sample.classNames!.length, 10);
    assert.notDeepEqual(values(sample.layers[0]!.tensor), relu);
    const input = values(sample.inputs[0]!.tensor);
    assert.ok(input.every((v, i) => i % 3 === 0 || v === input[i - (i % 3)]), 'a grayscale image fed to 3 channels repeats its value');
    // The 28x28 image resized to 64x64 is the same picture: each quadrant as bright as the original's.
    const original = readIdx(path.join(FASHION_MNIST_DIR, 't10k-images-idx3-ubyte.gz')).data as Uint8Array;
    const quadrantMean = (at: (x: number, y: number) => number, size: number, qx: number, qy: number) => {
      let sum = 0;
      const half = size / 2;
      for (let y = qy * half; y < (qy + 1) * half; y++) for (let x = qx * half; x < (qx + 1) * half; x++) sum += at(x, y);
      return sum / (half * half);
    };
    for (const [qx, qy] of [[0, 0], [1, 0], [0, 1], [1, 1]] as const) {
      const expected = quadrantMean((x, y) => original[y * 28 + x]! / 255, 28, qx, qy);
      const actual = quadrantMean((x, y) => input[(y * 64 + x) * 3]!, 64, qx, qy);
      assert.ok(Math.abs(actual - expected) < 0.03, `quadrant ${qx},${qy}: ${actual.toFixed(3)} in the preview, ${expected.toFixed(3)} in the image`);
    }

    copyFileSync(path.join(EXAMPLES, 'images', 'sneaker.png'), path.join(root, 'sneaker.png'));
    assert.equal((await wb.listFolder(null)).entries.find((e) => e.name === 'sneaker.png')?.kind, 'image');
    const image = await wb.previewModel(created.id, created.model, { kind: 'image', path: 'sneaker.png' });
    assert.equal(image.description, 'sneaker.png');
    const outside = await rejection(wb.previewModel(created.id, created.model, { kind: 'image', path: '../sneaker.png' }));
    assert.match(outside.message, /"\.\." is not allowed/);
  });

  test('exports of the edited model, and a model opened from a file edited as a project', async () => {
    const created = await wb.newProject('purchase-predictor');
    const result = await wb.exportModel(created.id, created.model, 'keras-json');
    assert.ok('download' in result);
    const json = JSON.parse(new TextDecoder().decode(result.download.bytes));
    assert.equal(result.download.fileName, 'multi_input_purchase_predictor.json');
    assert.equal(modelFromJSON(json).countParams(), 799233);
    // Renamed in the editor and not saved: the export takes the name it has now.
    const renamed = { ...created.model, config: { ...created.model.config, name: 'buyers' } };
    const exported = await wb.exportModel(created.id, renamed, 'keras-json');
    assert.ok('download' in exported);
    assert.equal(exported.download.fileName, 'buyers.json');

    const document = await wb.open(path.join(EXAMPLES, 'subclassed-cnn.ts'));
    const editing = await wb.editDocument(document.id);
    assert.deepEqual([editing.kind, editing.path, editing.title, editing.trainedWeights, editing.editor.view], ['project', null, 'subclassed-cnn.ts', false, 'graph']);
    assert.equal(modelFromJSON(editing.model).countParams(), 54410);
  });
});
