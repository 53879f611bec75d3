// The app's training with a model file's own data (its `export function data()`), driven as
// the contract drives it: the defaults choose it for a file that exports some (Fashion-MNIST
// for one that does not), the preview describes it with its classes and finds it fits, a run
// trains on it and evaluates on its test split; through the workbench (browser mode) the
// file is named as the view knows it, relative to the root.
import assert from 'node:assert/strict';
import { mkdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import type { TrainingEvent } from '../../app/contract/training.ts';
import { DocumentStore } from '../../app/host/documents.ts';
import { TrainingService } from '../../app/host/training.ts';
import { PROJECT_FILE, readProjectFile } from '../../app/io/project.ts';
import { isUserError } from '../../app/model/index.ts';
import { ROOT } from './foreign_models.ts';
import { scratchFolder, workbench } from './helpers.ts';

const LSTM = path.join(ROOT, 'examples/lstm-sequence-classifier.ts');

async function service(file: string) {
  const store = new DocumentStore();
  const document = await store.open(file);
  const ended = new Map<string, (event: TrainingEvent) => void>();
  const training = new TrainingService(store, (event) => {
    if (event.kind === 'ended') ended.get(event.run.id)?.(event);
  });
  const end = (runId: string) => new Promise<TrainingEvent>((resolve) => ended.set(runId, resolve));
  return { training, documentId: document.id, end };
}

test('a model file with data: the defaults choose it, the preview describes it, a run trains on it and evaluates on its test split', async () => {
  const { training, documentId, end } = await service(LSTM);
  const settings = await training.defaults(documentId);
  assert.deepEqual(settings.data, { kind: 'model-file', file: LSTM });
  const preview = await training.preview(documentId, settings);
  assert.equal(preview.mismatch, null);
  assert.match(preview.description, /token sequences .* labelled by whether 1, 2, 3 occurs in order \(lstm-sequence-classifier\.ts's data\)/);
  assert.deepEqual(preview.classNames, ['no motif', 'motif']);
  assert.deepEqual(preview.splits.map((s) => [s.name, s.size, s.x[0]!.shape, s.x[0]!.dtype]), [['train', 2000, [2000, 20], 'int32'], ['test', 500, [500, 20], 'int32']]);
  settings.threads = 1;
  settings.fit.seed = 3;
  const project = scratchFolder('model-data-project');
  const started = await training.start(documentId, project, settings);
  const ended = await end(started.id);
  assert.equal((ended as Extract<TrainingEvent, { kind: 'ended' }>).run.status, 'finished', JSON.stringify(ended));
  const { split, outputs: [evaluation] } = await training.evaluate(project, started.id);
  assert.equal(split, 'test');
  assert.equal(evaluation?.truth.length, 500);
  assert.ok(evaluation?.kind === 'classifier');
  assert.deepEqual(evaluation.classNames, ['no motif', 'motif']);
});

test('a model file without data defaults to Fashion-MNIST; data from a file without a data export is refused naming the file', async () => {
  const plain = await service(path.join(ROOT, 'examples/mlp.ts'));
  assert.deepEqual((await plain.training.defaults(plain.documentId)).data, { kind: 'fashion-mnist' });
  const lstm = await service(LSTM);
  const settings = await lstm.training.defaults(lstm.documentId);
  settings.data = { kind: 'model-file', file: path.join(ROOT, 'examples/mlp.ts') };
  await assert.rejects(lstm.training.preview(lstm.documentId, settings), /examples\/mlp\.ts: no "data" export; add "export function data\(\): ModelData"/);
});

test('through the workbench (browser mode): the defaults name the file relative to the root, and the preview reads it', async () => {
  const wb = workbench({ mode: 'browser', root: path.join(ROOT, 'examples') });
  const opened = await wb.open('lstm-sequence-classifier.ts');
  const settings = await wb.trainingDefaults(opened.id);
  assert.deepEqual(settings.data, { kind: 'model-file', file: 'lstm-sequence-classifier.ts' });
  const preview = await wb.previewData(opened.id, settings);
  assert.equal(preview.mismatch, null);
  assert.deepEqual(preview.classNames, ['no motif', 'motif']);
});

test('a project made from a model file keeps its data: a template\'s example, and a model file opened for editing', async () => {
  const store = new DocumentStore();
  const training = new TrainingService(store, () => {});
  const fromTemplate = await store.projects.create('seed-cnn');
  assert.deepEqual((await training.defaults(fromTemplate.id)).data, { kind: 'model-file', file: path.join(ROOT, 'examples/product-image-classifier.ts') });
  const opened = await store.open(LSTM);
  const edited = store.edit(opened.id);
  const settings = await training.defaults(edited.id, edited.model);
  assert.deepEqual(settings.data, { kind: 'model-file', file: LSTM });
  const preview = await training.preview(edited.id, settings, edited.model);
  assert.equal(preview.mismatch, null);
});

test('an empty project (New, then the empty model) gets its training defaults; its preview says the model is not built yet', async () => {
  const store = new DocumentStore();
  const training = new TrainingService(store, () => {});
  const empty = await store.projects.create(null);
  const settings = await training.defaults(empty.id);
  assert.deepEqual(settings.data, { kind: 'fashion-mnist' });
  await assert.rejects(training.preview(empty.id, settings), /this model has not yet been built/);
});

test("the editor's preview samples the model file's data: the sample's tokens and label; a sample past the end, a file without data and a project without a file are refused by name", async () => {
  const store = new DocumentStore();
  const opened = await store.open(LSTM);
  const edited = store.edit(opened.id);
  const preview = (id: string, model: typeof edited.model, index: number) => store.projects.preview(id, model, { kind: 'model-data', index });
  const { loadModelFileData } = await import('../../app/cli/model_file_data.ts');
  const test3 = (await loadModelFileData(LSTM)).test!;
  const result = await preview(edited.id, edited.model, 3);
  const label = ['no motif', 'motif'][test3.y[0]!.data[3]!];
  assert.equal(result.description, `lstm-sequence-classifier.ts's test sample 3: ${label}`);
  assert.deepEqual(result.classNames, ['no motif', 'motif']);
  const tokens = new Float32Array(result.inputs[0]!.tensor.data.buffer.slice(result.inputs[0]!.tensor.data.byteOffset, result.inputs[0]!.tensor.data.byteOffset + result.inputs[0]!.tensor.data.byteLength));
  assert.deepEqual([...tokens], [...test3.x[0]!.data.slice(3 * 20, 4 * 20)]);
  await assert.rejects(preview(edited.id, edited.model, test3.size), new RegExp(`lstm-sequence-classifier\\.ts's test data has samples 0 to ${test3.size - 1}, got ${test3.size}`));

  const mlp = store.edit((await store.open(path.join(ROOT, 'examples/mlp.ts'))).id);
  await assert.rejects(preview(mlp.id, mlp.model, 0), /examples\/mlp\.ts: no "data" export/);
  const json = path.join(scratchFolder('preview-json'), 'mlp.json');
  writeFileSync(json, ((await import('../../examples/mlp.ts')).default as { toJSON(): string }).toJSON());
  const fromJson = store.edit((await store.open(json)).id);
  await assert.rejects(preview(fromJson.id, fromJson.model, 0), /not made from a model file that exports its data/);
});

/** A model file at `file` (4 features, 3 classes) exporting 6 samples of its own data. */
function writeModelWithData(file: string): string {
  mkdirSync(path.dirname(file), { recursive: true });
  const api = pathToFileURL(path.join(ROOT, 'app/model/index.ts')).href;
  writeFileSync(file, `import { Sequential, layers } from '${api}';
export default new Sequential([new layers.Dense(3, { activation: 'softmax', inputShape: [4] })]);
export function data() {
  return {
    description: 'six samples of nothing',
    train: { x: { dtype: 'float32', shape: [6, 4], data: new Float32Array(24) }, y: { dtype: 'int32', shape: [6], data: new Int32Array(6) } },
    classNames: ['a', 'b', 'c'],
  };
}
`);
  return file;
}

/** Saves a new project of `file` (opened for editing) to `target`. */
async function saveProjectOf(file: string, target: string): Promise<void> {
  const store = new DocumentStore();
  const edited = store.edit((await store.open(file)).id);
  store.projects.save(edited.id, { path: target, name: edited.name, model: edited.model, editor: edited.editor });
}

/** The project in `dir` opened by a new store (as after a restart), and its training defaults. */
async function reopen(dir: string) {
  const store = new DocumentStore();
  const document = await store.open(dir);
  const training = new TrainingService(store, () => {});
  return { training, id: document.id, settings: await training.defaults(document.id) };
}

test('a saved project keeps its model file\'s data: relative to the project when the file lies inside it, else absolute', async () => {
  const scratch = scratchFolder('project-model-file');
  const outside = writeModelWithData(path.join(scratch, 'models', 'outside.mts'));
  await saveProjectOf(outside, path.join(scratch, 'project-a'));
  assert.equal(readProjectFile(path.join(scratch, 'project-a')).modelFile, outside);
  assert.deepEqual((await reopen(path.join(scratch, 'project-a'))).settings.data, { kind: 'model-file', file: outside });
  // A project folder may hold the user's own files: a model file saved there, then a project of it saved over it.
  const project = path.join(scratch, 'project-b');
  await saveProjectOf(outside, project);
  const inside = writeModelWithData(path.join(project, 'code', 'inside.mts'));
  await saveProjectOf(inside, project);
  assert.equal(readProjectFile(project).modelFile, path.join('code', 'inside.mts'));
  const reopened = await reopen(project);
  assert.deepEqual(reopened.settings.data, { kind: 'model-file', file: inside });
  assert.deepEqual((await reopened.training.preview(reopened.id, reopened.settings)).classNames, ['a', 'b', 'c']);
});

test('a project whose model file is gone still opens and its Data section names the file; an old project file without the link defaults to Fashion-MNIST; a wrong link is named', async () => {
  const scratch = scratchFolder('project-model-file-gone');
  const file = writeModelWithData(path.join(scratch, 'gone.mts'));
  const project = path.join(scratch, 'project');
  await saveProjectOf(file, project);
  rmSync(file);
  const gone = await reopen(project);
  assert.deepEqual(gone.settings.data, { kind: 'model-file', file });
  await assert.rejects(gone.training.preview(gone.id, gone.settings), (error: Error) => isUserError(error) && /gone\.mts: cannot read: no such file/.test(error.message));
  const old = readProjectFile(project);
  delete old.modelFile;
  writeFileSync(path.join(project, PROJECT_FILE), JSON.stringify(old));
  assert.deepEqual((await reopen(project)).settings.data, { kind: 'fashion-mnist' });
  writeFileSync(path.join(project, PROJECT_FILE), JSON.stringify({ ...old, modelFile: 3 }));
  await assert.rejects(new DocumentStore().open(project), /strata-project\.json: "modelFile" must be the path of a model file, got 3/);
});

test("the editor's preview and training share one load of a model file's data, built again once the file changes", async () => {
  const file = path.join(scratchFolder('shared-data'), 'counted.mts');
  const api = pathToFileURL(path.join(ROOT, 'app/model/index.ts')).href;
  const writeCounted = (classes: string[]) =>
    writeFileSync(file, `import { Sequential, layers } from '${api}';
export default new Sequential([new layers.Dense(3, { activation: 'softmax', inputShape: [4] })]);
export function data() {
  (globalThis as { dataBuilds?: number }).dataBuilds = ((globalThis as { dataBuilds?: number }).dataBuilds ?? 0) + 1;
  return { description: 'six samples, counted', train: { x: { dtype: 'float32', shape: [6, 4], data: new Float32Array(24) }, y: { dtype: 'int32', shape: [6], data: new Int32Array(6) } }, classNames: ${JSON.stringify(classes)} };
}
`);
  const builds = () => (globalThis as { dataBuilds?: number }).dataBuilds ?? 0;
  writeCounted(['a', 'b', 'c']);
  const store = new DocumentStore();
  const training = new TrainingService(store, () => {});
  const edited = store.edit((await store.open(file)).id);
  const before = builds();
  assert.deepEqual((await store.projects.preview(edited.id, edited.model, { kind: 'model-data', index: 0 })).classNames, ['a', 'b', 'c']);
  const settings = await training.defaults(edited.id, edited.model);
  assert.deepEqual((await training.preview(edited.id, settings, edited.model)).classNames, ['a', 'b', 'c']);
  assert.equal(builds() - before, 1, 'one data() call for the preview and training');
  writeCounted(['x', 'y', 'z']);
  utimesSync(file, new Date(), new Date(Date.now() + 5000));
  assert.deepEqual((await training.preview(edited.id, settings, edited.model)).classNames, ['x', 'y', 'z']);
  assert.deepEqual((await store.projects.preview(edited.id, edited.model, { kind: 'model-data', index: 0 })).classNames, ['x', 'y', 'z']);
  assert.equal(builds() - before, 2, 'built again once for the changed file');
});
