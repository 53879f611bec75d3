// The process that test/io/kill_saves.test.ts kills with SIGKILL: it saves version FIRST,
// FIRST + 1, ... of one target until it is killed, printing "saved N" as each save returns.
//   save_loop model|npy TARGET FIRST
// model: saveModel of a Dense model (64 Ki weights, 256 KB) whose weights all equal N, with
//        epochs N; npy: writeNpy (writeFileAtomic) of 64 Ki float32 values equal to N.
//   save_loop project|run TARGET FIRST
// project: saveProject of that model with modelVersion N; run: a RunRecorder of the run
//        RUN_ID in the project folder TARGET ending epoch N (its checkpoint with weights N,
//        run.json and history.csv with a loss of N for epoch N), as training writes them.
import { existsSync } from 'node:fs';
import { ndarray } from '../../app/data/ndarray.ts';
import { writeNpy } from '../../app/data/npy.ts';
import { saveModel } from '../../app/io/model_store.ts';
import { saveProject } from '../../app/io/project.ts';
import { RunRecorder } from '../../app/io/run_recorder.ts';
import { createRun, runFolder } from '../../app/io/runs.ts';
import { Dense, Sequential } from '../../app/model/index.ts';
import { runRecord } from './run_fixture.ts';

export const RUN_ID = '20250314-091502-kill';
/** Epochs the killed run is set to train: more than any child reaches. */
export const RUN_EPOCHS = 1_000_000;

export const VALUES = 256 * 256;

/** A model whose every weight is `version`, saved with `epochs: version`: a save mixing two versions shows. */
export function versionedModel(): { model: Sequential; setVersion: (version: number) => void } {
  const model = new Sequential([new Dense(256, { inputShape: [255], name: 'd' })], { name: 'versioned' });
  return { model, setVersion: (version) => model.setWeights(model.getWeights().map((w) => new Float32Array(w.length).fill(version))) };
}

/** The run as a child starting at epoch `first` finds it: epochs 1..first-1 trained, each with a loss equal to its number. */
function runUpTo(first: number) {
  const trained = first - 1;
  const losses = [...Array(trained).keys()].map((i) => i + 1);
  return runRecord(RUN_ID, {
    status: 'running',
    epochs: trained,
    history: { loss: [...losses] },
    batches: { x: [...losses], values: { loss: [...losses] } },
    epochSeconds: losses.map(() => 0.001),
    seconds: trained * 0.001,
    data: { description: 'arrays', train: 8, validation: 0, test: 0, classNames: null },
    settings: { ...runRecord(RUN_ID).settings, fit: { ...runRecord(RUN_ID).settings.fit, epochs: RUN_EPOCHS, batchSize: 8, validation: { kind: 'none' } } },
  });
}

/** Epoch after epoch of a run, each ending as fit() ends one: the recorder saves the checkpoint, then run.json and history.csv. */
function recordRun(project: string, first: number, model: Sequential, setVersion: (version: number) => void): void {
  const record = runUpTo(first);
  // A child killed before the run's first checkpoint leaves its folder: the next one goes on in it.
  if (!existsSync(runFolder(project, RUN_ID))) createRun(project, record);
  const recorder = new RunRecorder(project, record, { now: () => 0 });
  recorder.setModel(model);
  setVersion(first - 1);
  recorder.onTrainBegin();
  for (let version = first; ; version++) {
    setVersion(version);
    recorder.onEpochBegin(version - 1);
    recorder.onBatchBegin(0, { size: 8 });
    recorder.onBatchEnd(0, { loss: version });
    recorder.onEpochEnd(version - 1, { loss: version });
    process.stdout.write(`saved ${version}\n`);
  }
}

function saveForever(kind: string, target: string, first: number): void {
  const { model, setVersion } = versionedModel();
  process.stdout.write('started\n');
  if (kind === 'run') return recordRun(target, first, model, setVersion);
  for (let version = first; ; version++) {
    if (kind === 'model') {
      setVersion(version);
      saveModel(model, target, { epochs: version });
    } else if (kind === 'project') {
      setVersion(version);
      saveProject(target, { name: 'killed', model, modelVersion: version, editor: { version } });
    } else {
      writeNpy(target, ndarray('float32', [VALUES], new Float32Array(VALUES).fill(version)));
    }
    process.stdout.write(`saved ${version}\n`);
  }
}

const [kind, target, first] = process.argv.slice(2);
if (kind && target && first) saveForever(kind, target, Number(first));
