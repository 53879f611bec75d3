// Saves survive SIGKILL at any point: a process saving one target over and over (save_loop.ts)
// is killed at a random moment, hundreds of times, and after each kill the target holds the
// previous version or the new one, whole (a model's model.json and shard from the same save, a
// .npy file of one version), never a mix, a truncated file or nothing; what a killed save left
// (a staging folder, a temporary file) is gone after the next load or save. The child is
// bundled once with esbuild so that each of the hundreds of processes starts in milliseconds.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { sourceImportMetaUrl } from '../../app/electron/bundle.ts';
import { ndarray } from '../../app/data/ndarray.ts';
import { readNpy, writeNpy } from '../../app/data/npy.ts';
import { loadModelFolder, saveModel } from '../../app/io/model_store.ts';
import { isProjectFolder, loadProject } from '../../app/io/project.ts';
import { openCheckpoint } from '../../app/io/run_recorder.ts';
import { HISTORY_FILE, listRuns, runFolder, writeRun } from '../../app/io/runs.ts';
import type { Model } from '../../app/model/index.ts';
import { RandomGenerator } from '../../app/model/random.ts';
import { RUN_ID, VALUES, versionedModel } from './save_loop.ts';

const scratch = mkdtempSync(path.join(tmpdir(), 'strata-kill-saves-'));
after(() => rmSync(scratch, { recursive: true, force: true }));
const child = path.join(scratch, 'save_loop.mjs');

before(async () => {
  const entry = fileURLToPath(new URL('./save_loop.ts', import.meta.url));
  await build({ entryPoints: [entry], outfile: child, bundle: true, platform: 'node', format: 'esm', target: 'node20', logLevel: 'error', plugins: [sourceImportMetaUrl] });
});

/** Kills per target; each child lives a random 0 to MAX_LIFE_MS after it starts saving: a few of its saves' time. */
const KILLS = { model: 120, npy: 80, project: 100, run: 100 };
const MAX_LIFE_MS = { model: 150, npy: 40, project: 150, run: 200 };
type Kind = keyof typeof KILLS;

/**
 * Starts save_loop for `target` from version `first`, kills it with SIGKILL `lifeMs` after it
 * says it started; resolves with the last version it reported saved (first - 1 if none).
 */
function saveUntilKilled(kind: Kind, target: string, first: number, lifeMs: number): Promise<number> {
  const process_ = spawn(process.execPath, [child, kind, target, String(first)], { stdio: ['ignore', 'pipe', 'inherit'] });
  let saved = first - 1;
  let output = '';
  process_.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    output += chunk;
    if (chunk.includes('started')) setTimeout(() => process_.kill('SIGKILL'), lifeMs);
    for (const match of output.matchAll(/saved (\d+)\n/g)) saved = Math.max(saved, Number(match[1]));
  });
  return new Promise((resolve, reject) => {
    process_.on('close', (code, signal) => (signal === 'SIGKILL' ? resolve(saved) : reject(new Error(`save_loop ended with ${signal ?? code}, not SIGKILL`))));
  });
}

/** The version a saved model folder holds, after checking it is one save's: every weight and the epochs agree. */
function modelVersion(dir: string): number {
  const { model, epochs } = loadModelFolder(dir);
  for (const weight of model.getWeights()) assert.ok(weight.every((v) => v === epochs), `${dir}: weights of another version than its epochs ${epochs}`);
  return epochs;
}

function npyVersion(file: string): number {
  const array = readNpy(file);
  const data = array.data as Float32Array;
  assert.equal(data.length, VALUES);
  assert.ok(data.every((v) => v === data[0]), `${file}: values of two versions`);
  return data[0]!;
}

/** The one value every weight of `model` holds: a model mixing two saves' weights fails. */
function weightsVersion(model: Model, what: string): number {
  const weights = model.getWeights();
  const version = weights[0]![0]!;
  for (const weight of weights) assert.ok(weight.every((v) => v === version), `${what}: weights of two versions`);
  return version;
}

/**
 * The project's version after checking it: strata-project.json whole and of one save, the
 * model folder whole and of that save or the next one (the model is saved first).
 */
function projectVersion(dir: string): number {
  const { file, model } = loadProject(dir);
  assert.equal(file.editor.version, file.modelVersion, 'the project file is one save\'s');
  const modelVersion = weightsVersion(model, `${dir}/model`);
  assert.ok(modelVersion === file.modelVersion || modelVersion === file.modelVersion + 1, `model version ${modelVersion} beside project file version ${file.modelVersion}`);
  return file.modelVersion;
}

const losses = (n: number) => [...Array(n).keys()].map((i) => i + 1);

/**
 * The run's version (the epochs its checkpoint holds), after checking that the project lists
 * it as stopped, that run.json, history.csv and the checkpoint are each whole and of one save
 * (each saved after the one before: checkpoint, run.json, history.csv), and that the
 * checkpoint opens for a resume (what `strata train --resume` and the app's Resume call).
 */
function runVersion(project: string): number {
  const listing = listRuns(project);
  assert.deepEqual(listing.problems, []);
  assert.equal(listing.runs.length, 1);
  const run = listing.runs[0]!;
  assert.equal(run.status, 'stopped', 'a killed run is listed as stopped');
  assert.deepEqual(run.history.loss, losses(run.epochs), 'run.json is one save\'s');
  const csv = readFileSync(path.join(runFolder(project, RUN_ID), HISTORY_FILE), 'utf8').trim().split('\n');
  assert.equal(csv[0], 'epoch,loss');
  const rows = csv.slice(1);
  assert.ok(rows.length === run.epochs || rows.length === run.epochs - 1, `history.csv has ${rows.length} epochs beside run.json's ${run.epochs}`);
  rows.forEach((row, epoch) => assert.equal(row, `${epoch},${epoch + 1}`));
  const { model, resume } = openCheckpoint(project, run);
  const version = weightsVersion(model, 'checkpoint');
  assert.equal(resume?.epochs, version, 'the checkpoint\'s state is its weights\' save');
  assert.ok(run.epochs === version || run.epochs === version - 1, `run.json's ${run.epochs} epochs beside the checkpoint's ${version}`);
  assert.deepEqual(run.history.loss, losses(version), 'the resumed run takes the checkpoint\'s history');
  return version;
}

describe('SIGKILL at random points of a project\'s and a run\'s saves', () => {
  for (const kind of ['project', 'run'] as const) {
    const what = kind === 'project' ? 'saveProject (model folder, then strata-project.json)' : 'a run\'s epoch ends (checkpoint, run.json, history.csv)';
    test(`${KILLS[kind]} kills of ${what}: each file the previous or the new version, whole; the run lists and resumes`, async (t) => {
      const folder = path.join(scratch, kind);
      const target = path.join(folder, 'project');
      mkdirSync(folder);
      const read = kind === 'project' ? projectVersion : runVersion;
      const random = new RandomGenerator(23);
      let onDisk = 0;
      const outcomes = { unchanged: 0, newer: 0, leftovers: 0 };
      for (let kill = 0; kill < KILLS[kind]; kill++) {
        const reported = await saveUntilKilled(kind, target, onDisk + 1, Math.floor(random.uniform() * MAX_LIFE_MS[kind]));
        if (onDisk === 0 && !firstSaveDone(kind, target)) continue; // killed before its first save finished: nothing to keep yet
        const leftovers = kind === 'run' ? readdirSync(runFolder(target, RUN_ID)).filter((name) => !['run.json', 'history.csv', 'checkpoint'].includes(name)) : readdirSync(target).filter((name) => name.startsWith('.'));
        if (leftovers.length > 0) outcomes.leftovers++;
        const found = read(target);
        assert.ok(found === reported || found === reported + 1, `kill ${kill}: version ${found} on disk, the child had saved ${reported}`);
        outcomes[found === onDisk ? 'unchanged' : 'newer']++;
        onDisk = found;
      }
      if (kind === 'run') {
        // The next save of run.json and history.csv (a resumed run's first) removes what the kills left.
        const run = listRuns(target).runs[0]!;
        openCheckpoint(target, run);
        writeRun(target, run);
        assert.deepEqual(readdirSync(runFolder(target, RUN_ID)).sort(), ['checkpoint', 'history.csv', 'run.json']);
      }
      t.diagnostic(`${KILLS[kind]} kills: ${outcomes.unchanged} left the version before them, ${outcomes.newer} a newer one, each file whole; ${outcomes.leftovers} left a half-written save beside it`);
      assert.ok(outcomes.leftovers > 0, 'no kill landed inside a save: the test proves nothing');
    });
  }
});

/**
 * Whether the first child got as far as a project file, or a run with a checkpoint. A run
 * killed between its run.json and its first checkpoint is listed, and says so when resumed.
 */
function firstSaveDone(kind: 'project' | 'run', target: string): boolean {
  if (kind === 'project') return isProjectFolder(target);
  const run = listRuns(target).runs[0];
  if (!run) return false;
  if (existsSync(path.join(runFolder(target, RUN_ID), 'checkpoint'))) return true;
  assert.throws(() => openCheckpoint(target, run), /has no checkpoint to resume from; start a new run/);
  return false;
}

describe('SIGKILL at random points of a save', () => {
  for (const kind of ['model', 'npy'] as const) {
    test(`${KILLS[kind]} ${kind === 'model' ? 'saveModel' : 'writeNpy (writeFileAtomic)'} saves killed: the previous or the new version, whole, every time`, async (t) => {
      const folder = path.join(scratch, kind);
      mkdirSync(folder);
      const target = path.join(folder, kind === 'model' ? 'model' : 'x.npy');
      const { model, setVersion } = versionedModel();
      setVersion(0);
      if (kind === 'model') saveModel(model, target, { epochs: 0 });
      else writeNpy(target, ndarray('float32', [VALUES], new Float32Array(VALUES)));
      const read = kind === 'model' ? modelVersion : npyVersion;
      const random = new RandomGenerator(22);
      let onDisk = 0;
      const outcomes = { unchanged: 0, newer: 0, halfWritten: 0 };
      for (let kill = 0; kill < KILLS[kind]; kill++) {
        const reported = await saveUntilKilled(kind, target, onDisk + 1, Math.floor(random.uniform() * MAX_LIFE_MS[kind]));
        // A kill between a save's last step and its "saved" line leaves the next version.
        if (readdirSync(folder).length > 1) outcomes.halfWritten++;
        const found = read(target);
        assert.ok(found === reported || found === reported + 1, `kill ${kill}: version ${found} on disk, the child had saved ${reported}`);
        outcomes[found === onDisk ? 'unchanged' : 'newer']++;
        onDisk = found;
      }
      // What the killed saves left is removed by a load (a model folder) or the next save.
      if (kind === 'npy') writeNpy(target, ndarray('float32', [VALUES], new Float32Array(VALUES)));
      else loadModelFolder(target);
      assert.deepEqual(readdirSync(folder), [path.basename(target)]);
      t.diagnostic(`${KILLS[kind]} kills: ${outcomes.unchanged} left the version before them, ${outcomes.newer} a newer one, whole; ${outcomes.halfWritten} left a half-written save beside it`);
      assert.ok(outcomes.halfWritten > 0, 'no kill landed inside a save: the test proves nothing');
    });
  }
});
