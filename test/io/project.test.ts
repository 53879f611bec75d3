// Projects on disk (app/io/project.ts): a save and a load give back the model, its weights and
// the editor's state; a save never touches a folder holding anything but a project, and keeps
// what Strata did not write inside one (runs/, a user's notes); project files that are not
// right are one-line errors naming the file and the field.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { FormatError, clearSession, modelFromJSON } from '../../app/model/index.ts';
import { SaveError } from '../../app/io/atomic_write.ts';
import { PROJECT_FILE, checkProjectTarget, isProjectFolder, loadProject, readProjectFile, saveProject } from '../../app/io/project.ts';
import productImageClassifier from '../../examples/product-image-classifier.ts';

const scratch = mkdtempSync(path.join(os.tmpdir(), 'strata-project-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

const EDITOR = { view: 'graph', positions: { conv1: { x: 10, y: 20 } }, selected: 'conv2', preview: null };

function content(modelVersion = 1) {
  return { name: 'Shoes', model: productImageClassifier, modelVersion, editor: EDITOR };
}

test('a project saved to a new folder loads back: the model, its weights, the name, the version and the editor state', () => {
  const dir = path.join(scratch, 'shoes');
  saveProject(dir, content(3));
  assert.ok(isProjectFolder(dir));
  assert.deepEqual(readdirSync(dir).sort(), ['model', PROJECT_FILE]);
  const file = JSON.parse(readFileSync(path.join(dir, PROJECT_FILE), 'utf8'));
  assert.deepEqual(file, { format: 'strata-project', version: 1, name: 'Shoes', model: 'model', modelVersion: 3, editor: EDITOR });
  const loaded = loadProject(dir);
  assert.equal(loaded.file.name, 'Shoes');
  assert.deepEqual(loaded.file.editor, EDITOR);
  assert.equal(loaded.model.countParams(), 822922);
  assert.deepEqual(loaded.model.getWeights(), productImageClassifier.getWeights());
});

test('saving over a project keeps what Strata did not write in it (runs, notes)', () => {
  const dir = path.join(scratch, 'kept');
  saveProject(dir, content());
  mkdirSync(path.join(dir, 'runs', 'run-1'), { recursive: true });
  writeFileSync(path.join(dir, 'runs', 'run-1', 'run.json'), '{}');
  writeFileSync(path.join(dir, 'notes.txt'), 'mine');
  clearSession();
  const smaller = modelFromJSON(productImageClassifier.toJSON());
  saveProject(dir, { ...content(2), name: 'Renamed', model: smaller });
  assert.deepEqual(readdirSync(dir).sort(), ['model', 'notes.txt', PROJECT_FILE, 'runs'].sort());
  assert.equal(readFileSync(path.join(dir, 'runs', 'run-1', 'run.json'), 'utf8'), '{}');
  assert.equal(readProjectFile(dir).name, 'Renamed');
});

test('a folder holding anything but a project is refused, and nothing in it changes', () => {
  const dir = path.join(scratch, 'thesis');
  mkdirSync(dir);
  writeFileSync(path.join(dir, 'thesis.tex'), 'words');
  assert.throws(() => saveProject(dir, content()), (error: Error) => error instanceof SaveError && /thesis: cannot save the project here: it holds 1 entry that Strata did not write \(thesis\.tex\)/.test(error.message));
  assert.deepEqual(readdirSync(dir), ['thesis.tex']);
  const file = path.join(scratch, 'a-file');
  writeFileSync(file, 'x');
  assert.throws(() => saveProject(file, content()), /a-file: cannot save the project here: a file is there/);
  assert.equal(readFileSync(file, 'utf8'), 'x');
  assert.throws(() => saveProject(path.join(scratch, 'missing', 'p'), content()), /the folder .*missing does not exist/);
  assert.equal(existsSync(path.join(scratch, 'missing')), false);
});

test('an empty folder becomes a project; a folder whose strata-project.json is not ours is refused', () => {
  const empty = path.join(scratch, 'empty');
  mkdirSync(empty);
  saveProject(empty, content());
  assert.ok(isProjectFolder(empty));
  const fake = path.join(scratch, 'fake');
  mkdirSync(fake);
  writeFileSync(path.join(fake, PROJECT_FILE), '{"format": "something-else"}');
  assert.throws(() => checkProjectTarget(fake), /fake: cannot save the project here: its strata-project\.json is not one Strata can read/);
  assert.equal(readFileSync(path.join(fake, PROJECT_FILE), 'utf8'), '{"format": "something-else"}');
});

test('project files that are not right: one line naming the file and the field', () => {
  const cases: [string, string, RegExp][] = [
    ['not json', '{', /strata-project\.json: cannot read the project file: not valid JSON/],
    ['a list', '[]', /"\(top level\)" must be an object/],
    ['another format', '{"format": "keras", "version": 1, "name": "x"}', /"format" must be "strata-project", got "keras"/],
    ['a newer version', '{"format": "strata-project", "version": 7, "name": "x"}', /written by a newer Strata \(project format version 7\); this Strata reads version 1/],
    ['no name', '{"format": "strata-project", "version": 1}', /"name" must be a string, got undefined/],
    ['a model folder outside', '{"format": "strata-project", "version": 1, "name": "x", "model": "../elsewhere"}', /"model" must be the name of a folder inside the project, got "\.\.\/elsewhere"/],
    ['a negative version', '{"format": "strata-project", "version": 1, "name": "x", "modelVersion": -1}', /"modelVersion" must be a whole number, got -1/],
    ['an editor that is a string', '{"format": "strata-project", "version": 1, "name": "x", "editor": "graph"}', /"editor" must be an object, got "graph"/],
  ];
  for (const [what, text, message] of cases) {
    const dir = mkdtempSync(path.join(scratch, 'bad-'));
    writeFileSync(path.join(dir, PROJECT_FILE), text);
    assert.throws(() => readProjectFile(dir), (error: Error) => error instanceof FormatError && message.test(error.message) && !error.message.includes('\n'), what);
  }
  const noModel = mkdtempSync(path.join(scratch, 'bad-'));
  writeFileSync(path.join(noModel, PROJECT_FILE), '{"format": "strata-project", "version": 1, "name": "x"}');
  assert.throws(() => loadProject(noModel), /the project's model folder "model" is missing/);
});
