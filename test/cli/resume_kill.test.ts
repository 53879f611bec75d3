// A run killed anywhere and resumed ends bit for bit as the run that was never interrupted:
// `strata train --project` on one thread is killed with SIGKILL (or stopped with Ctrl+C) at a
// random moment in an epoch, `--resume` trains it on, and its final checkpoint (weights and
// optimizer state) and its history (every float) equal the uninterrupted run's. The model has
// Dropout (the engine's masks follow the seed and the step count) and the run shuffles (the
// order follows the seed and the epoch) and reduces its learning rate on plateaus (the
// callback's wait and best must come back from the checkpoint).
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { RunRecord, TrainingSettings } from '../../app/contract/training.ts';
import { ndarray } from '../../app/data/ndarray.ts';
import { writeNpz } from '../../app/data/npz.ts';
import { listRuns, readRun } from '../../app/io/runs.ts';
import { RandomGenerator } from '../../app/model/random.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
const MODEL = 'test/fixtures/models/dropout-classifier.ts';
const EPOCHS = 4;
const SAMPLES = 1500;

/** 4 features, 3 classes, a quarter of the labels random: the validation loss plateaus, so the learning rate drops. */
function noisyData(file: string): void {
  const rng = new RandomGenerator(11);
  const x = new Float32Array(SAMPLES * 4);
  const y = new Int32Array(SAMPLES);
  for (let i = 0; i < SAMPLES; i++) {
    y[i] = rng.uniform() < 0.25 ? Math.floor(rng.uniform() * 3) : i % 3;
    for (let j = 0; j < 4; j++) x[i * 4 + j] = rng.normal() + (j === i % 3 ? 1 : 0);
  }
  writeNpz(file, { x: ndarray('float32', [SAMPLES, 4], x), y: ndarray('int32', [SAMPLES], y) });
}

function settingsFile(file: string, data: string, seed: number): void {
  const settings: Omit<TrainingSettings, 'compile'> = {
    data: { kind: 'path', path: data },
    fit: {
      epochs: EPOCHS,
      batchSize: 8,
      shuffle: true,
      validation: { kind: 'split', fraction: 0.2 },
      seed,
      callbacks: { earlyStopping: null, modelCheckpoint: null, reduceLrOnPlateau: { monitor: 'val_loss', factor: 0.5, patience: 1, minLr: 0 } },
    },
    device: 'cpu',
    threads: 1,
  };
  writeFileSync(file, JSON.stringify({ ...settings, compile: { optimizer: { class_name: 'Adam', config: { learning_rate: 0.05 } }, loss: 'sparse_categorical_crossentropy', fromLogits: false, metrics: ['accuracy'] } }));
}

const strataArgs = (...args: string[]) => ['app/cli/strata.js', 'train', ...args, '--json'];

/** Runs `strata train` to its end; the run's id. */
function trainToEnd(...args: string[]): string {
  const result = spawnSync(process.execPath, strataArgs(...args), { cwd: root, encoding: 'utf8' });
  assert.equal(result.status, 0, result.stderr);
  return (JSON.parse(result.stdout.trim().split('\n').at(-1)!) as { run: string }).run;
}

/**
 * Starts `strata train` and, `delayMs` after it reports epoch `afterEpoch`, sends `signal`;
 * resolves with what it printed and how it ended.
 */
function trainUntil(signal: 'SIGKILL' | 'SIGINT', afterEpoch: number, delayMs: number, ...args: string[]): Promise<{ stdout: string; stderr: string; signal: string | null; code: number | null }> {
  const child = spawn(process.execPath, strataArgs(...args), { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  let armed = false;
  const arm = () => {
    if (armed) return;
    armed = true;
    setTimeout(() => child.kill(signal), delayMs);
  };
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
    if (stdout.split('\n').filter((line) => line.startsWith('{"epoch"')).length >= afterEpoch) arm();
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => void (stderr += chunk));
  return new Promise((resolve) => child.on('close', (code, endSignal) => resolve({ stdout, stderr, signal: endSignal, code })));
}

function checkpointBytes(project: string, id: string): Buffer {
  return readFileSync(path.join(project, 'runs', id, 'checkpoint', 'group1-shard1of1.bin'));
}

/** Every float of the history, the learning rate included (ReduceLROnPlateau logs it). */
function history(project: string, id: string): RunRecord['history'] {
  return readRun(project, id).history;
}

describe('a run killed or stopped mid-epoch resumes bit for bit (one thread)', () => {
  let dir = '';
  let data = '';
  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'strata-resume-kill-'));
    data = path.join(dir, 'data.npz');
    noisyData(data);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const cases: { seed: number; signal: 'SIGKILL' | 'SIGINT' }[] = [
    { seed: 1, signal: 'SIGKILL' },
    { seed: 2, signal: 'SIGKILL' },
    { seed: 3, signal: 'SIGINT' },
  ];
  for (const { seed, signal } of cases) {
    test(`seed ${seed}: ${signal} at a random point, --resume, and the result equals the uninterrupted run's`, async (t) => {
      const settings = path.join(dir, `settings-${seed}.json`);
      settingsFile(settings, data, seed);
      const common = [MODEL, '--settings', settings];
      const reference = path.join(dir, `reference-${seed}`);
      const referenceId = trainToEnd(...common, '--project', reference);

      const random = new RandomGenerator(100 + seed);
      // An epoch of 150 steps takes about 100-400 ms here: the signal lands in the next epoch, or
      // its checkpoint's save. On a loaded machine this process may read the epoch lines late, and
      // the signal then comes after the last epoch: that try shows nothing, so it is made again,
      // earlier (right after the first epoch), on a fresh project.
      let afterEpoch = 1 + Math.floor(random.uniform() * (EPOCHS - 1));
      let delayMs = Math.floor(random.uniform() * 300);
      let project = '';
      let run: RunRecord | undefined;
      for (let attempt = 1; ; attempt++) {
        project = path.join(dir, `interrupted-${seed}-${attempt}`);
        const stopped = await trainUntil(signal, afterEpoch, delayMs, ...common, '--project', project);
        run = listRuns(project).runs[0];
        assert.ok(run, 'the run is listed after the interruption');
        if (run.epochs < EPOCHS) {
          assert.equal(stopped.signal ?? `exit ${stopped.code}`, signal === 'SIGKILL' ? 'SIGKILL' : 'exit 130', stopped.stderr);
          break;
        }
        t.diagnostic(`try ${attempt}: the ${signal} (${delayMs} ms after epoch ${afterEpoch} was read) came after the last epoch`);
        assert.ok(attempt < 3, `three tries in a row interrupted the run only after its last epoch (${stopped.signal ?? `exit ${stopped.code}`})`);
        [afterEpoch, delayMs] = [1, 0];
      }
      assert.equal(run.status, 'stopped', `listed as stopped (${run.message ?? ''})`);
      const where = run.stoppedAt ? `epoch ${run.stoppedAt.epoch + 1} step ${run.stoppedAt.step}/${run.stoppedAt.steps}` : `after epoch ${run.epochs}`;
      const resumed = spawnSync(process.execPath, strataArgs('--project', project, '--resume', run.id), { cwd: root, encoding: 'utf8' });
      assert.equal(resumed.status, 0, resumed.stderr);
      t.diagnostic(`${signal} ${delayMs} ms after epoch ${afterEpoch}: run.json said ${run.epochs} epochs${run.stoppedAt ? `, stopped at ${where}` : ''}; resumed`);
      assert.equal(readRun(project, run.id).status, 'finished');
      assert.deepEqual(history(project, run.id), history(reference, referenceId));
      assert.ok(checkpointBytes(project, run.id).equals(checkpointBytes(reference, referenceId)), 'the final weights and optimizer state are the same bytes');
      assert.ok('learning_rate' in history(reference, referenceId), 'ReduceLROnPlateau logged its learning rate');
    });
  }
});

describe('--checkpoint-every', () => {
  let dir = '';
  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'strata-checkpoint-every-'));
    noisyData(path.join(dir, 'data.npz'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('0 or a word is refused in one line; none keeps no checkpoint until the run ends, so a killed run says it cannot resume', async () => {
    const zero = spawnSync(process.execPath, strataArgs(MODEL, '--data', path.join(dir, 'data.npz'), '--checkpoint-every', '0'), { cwd: root, encoding: 'utf8' });
    assert.equal(zero.status, 1);
    assert.match(zero.stderr, /^strata: --checkpoint-every must be a whole number of epochs >= 1 or none, got '0'\n$/);
    const project = path.join(dir, 'none');
    const killed = await trainUntil('SIGKILL', 1, 0, MODEL, '--data', path.join(dir, 'data.npz'), '--epochs', String(EPOCHS), '--batch-size', '8', '--threads', '1', '--project', project, '--checkpoint-every', 'none');
    assert.equal(killed.signal, 'SIGKILL');
    const [run] = listRuns(project).runs;
    assert.equal(run!.settings.fit.checkpointEvery, 'none');
    assert.equal(existsSync(path.join(project, 'runs', run!.id, 'checkpoint')), false, 'no checkpoint before the run ends');
    const resumed = spawnSync(process.execPath, strataArgs('--project', project, '--resume', run!.id), { cwd: root, encoding: 'utf8' });
    assert.equal(resumed.status, 1);
    assert.match(resumed.stderr, /run .* has no checkpoint to resume from \(its settings save none: checkpointEvery "none"\); start a new run/);
  });
});
