// Saves survive SIGKILL at any point: a process saving one target over and over (save_loop.ts)
// is killed at a random moment, hundreds of times, and after each kill the target holds the
// previous version or the new one, whole (a model's model.json and shard from the same save, a
// .npy file of one version), never a mix, a truncated file or nothing; what a killed save left
// (a staging folder, a temporary file) is gone after the next load or save. The child is
// bundled once with esbuild so that each of the hundreds of processes starts in milliseconds.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { sourceImportMetaUrl } from '../../app/electron/bundle.ts';
import { ndarray } from '../../app/data/ndarray.ts';
import { readNpy, writeNpy } from '../../app/data/npy.ts';
import { loadModelFolder, saveModel } from '../../app/io/model_store.ts';
import { RandomGenerator } from '../../app/model/random.ts';
import { VALUES, versionedModel } from './save_loop.ts';

const scratch = mkdtempSync(path.join(tmpdir(), 'strata-kill-saves-'));
after(() => rmSync(scratch, { recursive: true, force: true }));
const child = path.join(scratch, 'save_loop.mjs');

before(async () => {
  const entry = fileURLToPath(new URL('./save_loop.ts', import.meta.url));
  await build({ entryPoints: [entry], outfile: child, bundle: true, platform: 'node', format: 'esm', target: 'node20', logLevel: 'error', plugins: [sourceImportMetaUrl] });
});

/** Kills per target; each child lives a random 0 to MAX_LIFE_MS after it starts saving: a few of its saves' time. */
const KILLS = { model: 120, npy: 80 };
const MAX_LIFE_MS = { model: 150, npy: 40 };

/**
 * Starts save_loop for `target` from version `first`, kills it with SIGKILL `lifeMs` after it
 * says it started; resolves with the last version it reported saved (first - 1 if none).
 */
function saveUntilKilled(kind: 'model' | 'npy', target: string, first: number, lifeMs: number): Promise<number> {
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
