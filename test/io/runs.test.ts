// Runs in a project folder (app/io/runs.ts): a run.json that is not one Strata wrote is
// reported by name and the other runs still list; a run id is a plain name; a run whose
// process is gone lists as stopped; history.csv has CSVLogger's layout; deleting a run removes
// only what Strata wrote and refuses, changing nothing, when anything else is there. Every
// folder and file here is made by the test.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import type { RunRecord } from '../../app/contract/training.ts';
import { runRecord } from './run_fixture.ts';
import { saveModel } from '../../app/io/model_store.ts';
import { HISTORY_FILE, RUN_FILE, createRun, deleteRun, historyCsv, listRuns, readRun, runFolder, writeRun } from '../../app/io/runs.ts';
import { Dense, Sequential } from '../../app/model/index.ts';

const scratch = mkdtempSync(path.join(tmpdir(), 'strata-runs-'));
after(() => rmSync(scratch, { recursive: true, force: true }));
let projects = 0;
const newProject = () => {
  const dir = path.join(scratch, `project-${projects++}`);
  mkdirSync(dir);
  return dir;
};

const record = runRecord;

const tinyModel = () => new Sequential([new Dense(3, { inputShape: [4], name: 'h' })], { name: 'tiny' });

test('a run written is read back as it was, and history.csv has CSVLogger\'s layout (epoch, then the metrics by name)', () => {
  const project = newProject();
  createRun(project, record('20250314-091502-a3f9'));
  assert.deepEqual(readRun(project, '20250314-091502-a3f9'), { ...record('20250314-091502-a3f9'), updated: readRun(project, '20250314-091502-a3f9').updated });
  assert.equal(readFileSync(path.join(runFolder(project, '20250314-091502-a3f9'), HISTORY_FILE), 'utf8'), 'epoch,accuracy,loss,val_loss\n0,0.6,0.9,0.8\n1,0.8,0.5,0.6\n');
  // A run that trained a saved model on numbers its epochs from where that model was.
  assert.equal(historyCsv({ history: { loss: [0.4] }, epochs: 4, initialEpoch: 3 }), 'epoch,loss\n3,0.4\n');
});

test('run ids are plain names: a path, ".." or a hidden name is refused before any file is touched', () => {
  const project = newProject();
  for (const id of ['../outside', 'a/b', '.hidden', '', 'x'.repeat(101), 'a\\b']) {
    assert.throws(() => runFolder(project, id), { name: 'ValueError', message: /not a run id/ }, id);
    assert.throws(() => deleteRun(project, id), { name: 'ValueError' }, id);
  }
  assert.deepEqual(readdirSync(project), []);
});

test('run.json files Strata did not write are named, one line each, and the project\'s other runs still list', () => {
  const project = newProject();
  createRun(project, record('20250314-091502-good'));
  const broken: [string, string, RegExp][] = [
    ['notjson', '{"format": "strata-run", ', /notjson\/run\.json: not JSON/],
    ['wrongformat', JSON.stringify({ ...record('wrongformat'), format: 'keras' }), /wrongformat\/run\.json: "format" is not "strata-run"/],
    ['otherid', JSON.stringify(record('someone-else')), /otherid\/run\.json: its id "someone-else" is not its folder's name "otherid"/],
    ['badepochs', JSON.stringify(record('badepochs', { epochs: -1 })), /badepochs\/run\.json: epochs -1 is not a count/],
    ['badhistory', JSON.stringify({ ...record('badhistory'), history: { loss: 'low' } }), /badhistory\/run\.json: "history" is not lists of numbers/],
    ['badstatus', JSON.stringify(record('badstatus', { status: 'paused' as RunRecord['status'] })), /badstatus\/run\.json: status "paused" is none of running, stopped, finished, failed/],
    ['nullrecord', 'null', /nullrecord\/run\.json: "format" is not "strata-run"/],
  ];
  for (const [id, text] of broken) {
    mkdirSync(runFolder(project, id));
    writeFileSync(path.join(runFolder(project, id), RUN_FILE), text);
  }
  mkdirSync(runFolder(project, 'empty'));
  const listing = listRuns(project);
  assert.deepEqual(listing.runs.map((r) => r.id), ['20250314-091502-good']);
  assert.equal(listing.problems.length, broken.length + 1);
  for (const [id, , pattern] of broken) {
    assert.ok(listing.problems.some((line) => pattern.test(line)), `${id}: ${listing.problems.join('\n')}`);
    assert.throws(() => readRun(project, id), { message: pattern });
  }
  assert.ok(listing.problems.some((line) => /empty\/run\.json: no such run/.test(line)));
  assert.ok(listing.problems.every((line) => !line.includes('\n')));
});

test('a project without runs lists none; runs list newest first', () => {
  const project = newProject();
  assert.deepEqual(listRuns(project), { runs: [], problems: [] });
  createRun(project, record('older', { created: '2025-01-01T00:00:00.000Z' }));
  createRun(project, record('newer', { created: '2025-06-01T00:00:00.000Z' }));
  assert.deepEqual(listRuns(project).runs.map((r) => r.id), ['newer', 'older']);
});

test('a run marked running whose process has ended lists as stopped, saying so; one whose process runs stays running', () => {
  const project = newProject();
  const ended = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  const deadPid = Number(ended.stdout);
  createRun(project, record('cut-off', { status: 'running', process: { pid: deadPid, host: hostname() } }));
  createRun(project, record('alive', { status: 'running', process: { pid: process.pid, host: hostname() } }));
  const runs = Object.fromEntries(listRuns(project).runs.map((r) => [r.id, r]));
  assert.equal(runs['cut-off']!.status, 'stopped');
  assert.match(runs['cut-off']!.message!, /the process training it ended/);
  assert.equal(runs['alive']!.status, 'running');
});

test('deleting a run removes its run.json, history.csv and saved models, and nothing else of the project', () => {
  const project = newProject();
  createRun(project, record('done'));
  createRun(project, record('kept'));
  const folder = runFolder(project, 'done');
  for (const saved of ['checkpoint', 'best', 'epoch-01']) saveModel(tinyModel(), path.join(folder, saved));
  writeFileSync(path.join(project, 'notes.txt'), 'mine');
  deleteRun(project, 'done');
  assert.equal(existsSync(folder), false);
  assert.deepEqual(readdirSync(path.join(project, 'runs')), ['kept']);
  assert.equal(readFileSync(path.join(project, 'notes.txt'), 'utf8'), 'mine');
});

test('a run folder holding anything Strata did not write is not deleted: the error names it and every file stays', () => {
  const project = newProject();
  const cases: [string, (folder: string) => void, RegExp][] = [
    ['with-notes', (folder) => writeFileSync(path.join(folder, 'analysis.ipynb'), '{}'), /holds analysis\.ipynb, which Strata did not write/],
    ['with-folder', (folder) => mkdirSync(path.join(folder, 'plots')), /holds plots\//],
    [
      'in-checkpoint',
      (folder) => {
        saveModel(tinyModel(), path.join(folder, 'checkpoint'));
        writeFileSync(path.join(folder, 'checkpoint', 'README.md'), 'mine');
      },
      /holds checkpoint\/README\.md/,
    ],
  ];
  for (const [id, addForeign, pattern] of cases) {
    createRun(project, record(id));
    const folder = runFolder(project, id);
    addForeign(folder);
    const before = listTree(folder);
    assert.throws(() => deleteRun(project, id), { name: 'FileError', message: pattern }, id);
    assert.deepEqual(listTree(folder), before, `${id}: nothing changed`);
  }
  assert.throws(() => deleteRun(project, 'never-was'), { name: 'FileError', message: /never-was: no such run/ });
});

test('writeRun replaces run.json whole: the record read back is the last one written', () => {
  const project = newProject();
  const run = record('growing');
  createRun(project, run);
  for (let epoch = 3; epoch <= 5; epoch++) {
    run.epochs = epoch;
    run.history.loss!.push(1 / epoch);
    run.settings.fit.epochs = 5;
    writeRun(project, run);
  }
  assert.deepEqual(readRun(project, 'growing').history.loss, [0.9, 0.5, 1 / 3, 1 / 4, 1 / 5]);
  assert.deepEqual(readdirSync(runFolder(project, 'growing')).sort(), [HISTORY_FILE, RUN_FILE]);
});

function listTree(folder: string): string[] {
  return readdirSync(folder, { recursive: true, encoding: 'utf8' }).sort();
}
