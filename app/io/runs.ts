// Runs in a project folder: every fit, from the app or from `strata train --project`, is a
// folder <project>/runs/<run-id>/ holding
//   run.json     the RunRecord (app/contract/training.ts): settings, status, history, every
//                step's values, final and test metrics, the model version it trained
//   history.csv  Keras's History, one row per epoch (CSVLogger's layout)
//   checkpoint/  a saved model (saveModel): the weights and the optimizer's state of the last
//                finished step, from which Resume goes on
//   best/, epoch-NN/  ModelCheckpoint's saves, where the run's settings ask for them
// Every file is written atomically. Deleting a run deletes only these, and refuses (changing
// nothing) when the folder holds anything else.
import { createHash, randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { type Dirent, mkdirSync, readFileSync, readdirSync, rmSync, rmdirSync, statSync } from 'node:fs';
import path from 'node:path';
import type { RunListing, RunRecord, RunStatus } from '../contract/training.ts';
import { FileError, FormatError, ValueError, countParams, type Model } from '../model/index.ts';
import { writeFileAtomic } from './atomic_write.ts';
import { foreignEntries, removeOurFolder, removeStaleStaging } from './model_folder.ts';
import { namedWeights } from './tfjs_model.ts';

export const RUNS_FOLDER = 'runs';
export const RUN_FILE = 'run.json';
export const HISTORY_FILE = 'history.csv';
export const CHECKPOINT_FOLDER = 'checkpoint';
/** ModelCheckpoint's folders inside a run: "best", "epoch-01", ... */
const SAVED_MODEL_FOLDER = /^(checkpoint|best|epoch-\d+)$/;
/** writeFileAtomic's temporary files. */
const TEMPORARY = /^\.(run\.json|history\.csv)\.\d+\.tmp$/;
/** Run ids are file names: no separators, no dot first. */
const RUN_ID = /^[A-Za-z0-9][A-Za-z0-9_-]{0,99}$/;
/** A run.json larger than this is not one Strata wrote (every step of a long run is well under it). */
const RUN_FILE_MAX_BYTES = 256 * 1024 * 1024;

/** "20250314-091502-a3f9": sortable by when it started, unique with its random tail. */
export function newRunId(now = new Date()): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  const stamp = `${now.getFullYear()}${pad(now.getMonth() + 1)}${pad(now.getDate())}-${pad(now.getHours())}${pad(now.getMinutes())}${pad(now.getSeconds())}`;
  return `${stamp}-${randomBytes(2).toString('hex')}`;
}

/** The folder of run `id` in `project`; the id must be a plain name (it comes from the views). */
export function runFolder(project: string, id: string): string {
  if (typeof id !== 'string' || !RUN_ID.test(id)) throw new ValueError(`${JSON.stringify(id)}: not a run id; run ids are names such as 20250314-091502-a3f9`);
  return path.join(project, RUNS_FOLDER, id);
}

export function checkpointFolder(project: string, id: string): string {
  return path.join(runFolder(project, id), CHECKPOINT_FOLDER);
}

/** The model version a run trained: its Keras JSON and its weights as training began. */
export function modelVersion(model: Model): string {
  const hash = createHash('sha256').update(model.toJSON());
  for (const [name, weight] of namedWeights(model)) hash.update(name).update(new Uint8Array(weight.value.buffer, weight.value.byteOffset, weight.value.byteLength));
  return hash.digest('hex').slice(0, 12);
}

/** The model part of a RunRecord. */
export function describeRunModel(model: Model, source: string): RunRecord['model'] {
  return { name: model.name, source, version: modelVersion(model), params: countParams(model).total };
}

/** Creates the run's folder (and the project's runs/ folder) and writes its run.json. */
export function createRun(project: string, record: RunRecord): void {
  const folder = runFolder(project, record.id);
  try {
    mkdirSync(path.join(project, RUNS_FOLDER), { recursive: true });
    mkdirSync(folder);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new FileError(`${folder}: cannot create the run's folder (${code === 'EEXIST' ? 'it exists already' : (code ?? (error as Error).message)})`);
  }
  writeRun(project, record);
}

/** Writes run.json and history.csv, each atomically. */
export function writeRun(project: string, record: RunRecord): void {
  const folder = runFolder(project, record.id);
  writeFileAtomic(path.join(folder, RUN_FILE), JSON.stringify(record));
  writeFileAtomic(path.join(folder, HISTORY_FILE), historyCsv(record));
}

/** Keras's History as CSVLogger writes it: "epoch,accuracy,loss,val_accuracy,val_loss", epochs from 0. */
export function historyCsv(record: Pick<RunRecord, 'history' | 'epochs' | 'initialEpoch'>): string {
  const keys = Object.keys(record.history).sort();
  const rows = [['epoch', ...keys].join(',')];
  for (let epoch = record.initialEpoch; epoch < record.epochs; epoch++) rows.push([epoch, ...keys.map((key) => record.history[key]![epoch - record.initialEpoch] ?? '')].join(','));
  return `${rows.join('\n')}\n`;
}

/** Reads one run; FormatError naming the file when it is not a run.json Strata wrote. */
export function readRun(project: string, id: string): RunRecord {
  const file = path.join(runFolder(project, id), RUN_FILE);
  let text: string;
  try {
    if (statSync(file).size > RUN_FILE_MAX_BYTES) throw new FormatError(`${file}: larger than any run.json Strata writes`);
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if (error instanceof FormatError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    throw new FileError(`${file}: ${code === 'ENOENT' ? `no such run in ${project}` : `cannot read (${code ?? (error as Error).message})`}`);
  }
  return checkedRecord(text, file, id);
}

/** Whether the process training a run (on this machine) still runs. */
export function isTraining(run: RunRecord): boolean {
  if (run.status !== 'running' || !run.process) return false;
  if (run.process.host !== hostname()) return true; // another machine's: it says so itself
  try {
    process.kill(run.process.pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * The project's runs, newest first. A run marked running whose process is gone (killed, a
 * crash) is reported as stopped: its checkpoint holds its last finished epoch.
 */
export function listRuns(project: string, isAlive: (run: RunRecord) => boolean = isTraining): RunListing {
  const listing: RunListing = { runs: [], problems: [] };
  let entries: Dirent[];
  try {
    entries = readdirSync(path.join(project, RUNS_FOLDER), { withFileTypes: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return listing;
    throw new FileError(`${path.join(project, RUNS_FOLDER)}: cannot list the runs (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  for (const entry of entries) {
    if (!entry.isDirectory() || !RUN_ID.test(entry.name)) continue;
    try {
      const run = readRun(project, entry.name);
      listing.runs.push(run.status === 'running' && !isAlive(run) ? { ...run, status: 'stopped', message: 'the process training it ended; resume goes on from its last finished epoch' } : run);
    } catch (error) {
      listing.problems.push((error as Error).message);
    }
  }
  listing.runs.sort((a, b) => b.created.localeCompare(a.created) || b.id.localeCompare(a.id));
  return listing;
}

/**
 * Deletes run `id`: its run.json, history.csv and saved models. Refuses, deleting nothing,
 * when the run's folder holds anything Strata did not write there.
 */
export function deleteRun(project: string, id: string): void {
  const folder = runFolder(project, id);
  const entries = listEntries(folder);
  if (entries === null) throw new FileError(`${folder}: no such run in ${project}`);
  const foreign = entries.flatMap((entry) => {
    if (entry.isFile() && (entry.name === RUN_FILE || entry.name === HISTORY_FILE || TEMPORARY.test(entry.name))) return [];
    if (entry.isDirectory() && SAVED_MODEL_FOLDER.test(entry.name)) return foreignEntries(path.join(folder, entry.name)).map((inner) => `${entry.name}/${inner.name}`);
    // A save killed half-way left a staging folder (".checkpoint.1a2b3c4d"): removeStaleStaging's to judge.
    if (entry.isDirectory() && /^\.(checkpoint|best|epoch-\d+)\./.test(entry.name)) return [];
    return [entry.isDirectory() ? `${entry.name}/` : entry.name];
  });
  if (foreign.length > 0) {
    throw new FileError(`${folder}: not deleted: it holds ${foreign.slice(0, 3).join(', ')}${foreign.length > 3 ? ` and ${foreign.length - 3} more` : ''}, which Strata did not write; move them out first`);
  }
  for (const entry of entries) {
    const full = path.join(folder, entry.name);
    if (entry.isDirectory() && SAVED_MODEL_FOLDER.test(entry.name)) {
      removeStaleStaging(full);
      removeOurFolder(full);
    } else if (entry.isFile()) rmSync(full, { force: true });
  }
  try {
    rmdirSync(folder);
  } catch (error) {
    throw new FileError(`${folder}: its files were deleted but the folder stays (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
}

function listEntries(folder: string): Dirent[] | null {
  try {
    return readdirSync(folder, { withFileTypes: true });
  } catch {
    return null;
  }
}

const STATUSES: readonly RunStatus[] = ['running', 'stopped', 'finished', 'failed'];

/** The record in `text`, checked for what the views and Resume rely on; FormatError naming the file otherwise. */
function checkedRecord(text: string, file: string, id: string): RunRecord {
  let record: RunRecord;
  try {
    record = JSON.parse(text) as RunRecord;
  } catch (error) {
    throw new FormatError(`${file}: not JSON (${(error as Error).message}); a run.json is written by Strata`);
  }
  const bad = (what: string): never => {
    throw new FormatError(`${file}: ${what}; not a run Strata can read`);
  };
  if (record === null || typeof record !== 'object' || record.format !== 'strata-run') bad('"format" is not "strata-run"');
  if (record.version !== 1) bad(`version ${JSON.stringify(record.version)} (this Strata reads version 1)`);
  if (record.id !== id) bad(`its id ${JSON.stringify(record.id)} is not its folder's name "${id}"`);
  if (!STATUSES.includes(record.status)) bad(`status ${JSON.stringify(record.status)} is none of ${STATUSES.join(', ')}`);
  if (!Number.isInteger(record.epochs) || record.epochs < 0) bad(`epochs ${JSON.stringify(record.epochs)} is not a count`);
  if (!Number.isInteger(record.initialEpoch) || record.initialEpoch < 0 || record.initialEpoch > record.epochs) bad(`initialEpoch ${JSON.stringify(record.initialEpoch)} is not a count up to epochs`);
  if (typeof record.history !== 'object' || record.history === null || !Object.values(record.history).every(isNumberList)) bad('"history" is not lists of numbers by metric');
  const batches = record.batches;
  if (typeof batches !== 'object' || batches === null || !isNumberList(batches.x) || !Object.values(batches.values ?? {}).every(isNumberList)) bad('"batches" is not lists of numbers');
  if (!isNumberList(record.epochSeconds)) bad('"epochSeconds" is not a list of numbers');
  if (typeof record.settings !== 'object' || record.settings === null || typeof record.settings.fit !== 'object' || typeof record.settings.compile !== 'object') bad('"settings" is missing');
  return record;
}

function isNumberList(value: unknown): value is number[] {
  // JSON has no NaN: a diverged loss is written as null.
  return Array.isArray(value) && value.every((v) => typeof v === 'number' || v === null);
}
