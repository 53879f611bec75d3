// The workbench's training methods: what the views send is checked and named as the mode names
// paths before the engine process sees it, and what comes back is named as the views know it.
// Projects and data files are paths the views give (under the root in browser mode, FileAccess
// checks them); runs' exports go through the desktop's save dialog or to the browser.
//
// A document's project is the folder holding strata-project.json at or above its file (a
// project the app saved); a model that belongs to none keeps its runs in the app's own folder
// for it (<state folder>/projects/<name>-<hash of its path>/), which the views may use as any
// project, and `strata train --project` can write to as well.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import path from 'node:path';
import type { ExportResult, StrataApi, StrataEvents } from '../contract/api.ts';
import type { DataSource, RunListing, RunRecord, TrainingEvent, TrainingSettings } from '../contract/training.ts';
import { UserError } from '../cli/errors.ts';
import type { FileAccess } from './files.ts';
import type { EngineSupervisor } from './supervisor.ts';

/** The file that marks a project folder (written by the app's projects). */
export const PROJECT_FILE = 'strata-project.json';

type TrainingMethods =
  | 'trainingProject' | 'trainingDefaults' | 'previewData' | 'startTraining' | 'stopTraining' | 'resumeRun' | 'trainingStatus' | 'listRuns' | 'deleteRun'
  | 'exportRunHistory' | 'exportRunModel' | 'evaluateRun' | 'heldOutSamples' | 'runSignature' | 'predictRun';

export interface TrainingBridgeOptions {
  engine: EngineSupervisor;
  files: FileAccess;
  /** The app's state folder: where models outside any project keep their runs. */
  stateDir: string;
  /**
   * The file a document was opened from (absolute; a project's folder once saved; for a project
   * not saved yet, the file it was opened from for editing), or null: a dropped file, a new project.
   */
  documentFile: (documentId: string) => string | null;
  /** The document's title, for the folder of a document without a file. */
  documentTitle: (documentId: string) => string;
  /** The desktop saves exports through its dialog; browser mode returns the bytes. */
  save: (result: ExportResult, format: 'onnx' | 'csv') => Promise<ExportResult>;
  /** The same error, naming files as the views know them. */
  renamePaths: (error: unknown) => unknown;
  emit: (event: 'training', payload: StrataEvents['training']) => void;
}

export function trainingBridge(options: TrainingBridgeOptions): Pick<StrataApi, TrainingMethods> {
  const { engine, files } = options;
  const project = (requested: string) => checkedFolder(files, requested, 'project');
  const shown = (folder: string) => files.contractPath(folder);
  const forView = (run: RunRecord): RunRecord => ({ ...run, settings: { ...run.settings, data: dataForView(run.settings.data, shown) } });
  /** An engine call whose errors name files as the views know them. */
  const call = async <T>(work: () => Promise<T>): Promise<T> => {
    try {
      return await work();
    } catch (error) {
      throw options.renamePaths(error);
    }
  };
  engine.onTraining((event) => options.emit('training', eventForView(event, shown, forView)));

  return {
    async trainingProject(documentId) {
      const file = options.documentFile(documentId);
      const found = file ? projectAbove(file, files.root) : null;
      if (found) return { path: shown(found), inAppFolder: false };
      const folder = appProjectFolder(options.stateDir, file ?? `dropped/${options.documentTitle(documentId)}`);
      files.allow(folder);
      return { path: shown(folder), inAppFolder: true };
    },
    async trainingDefaults(documentId, edited) {
      const settings = await engine.call('trainingDefaults', documentId, edited);
      return { ...settings, data: dataForView(settings.data, shown) };
    },
    previewData: (documentId, settings, edited) => call(() => engine.call('previewData', documentId, checkedSettings(files, settings), edited)),
    startTraining: (documentId, folder, settings, edited) => call(async () => forView(await engine.call('startTraining', documentId, project(folder), checkedSettings(files, settings), edited))),
    stopTraining: (runId) => engine.call('stopTraining', runId),
    resumeRun: (folder, runId) => call(async () => forView(await engine.call('resumeRun', project(folder), runId))),
    async trainingStatus() {
      const status = await engine.call('trainingStatus');
      return status && { project: shown(status.project), run: forView(status.run) };
    },
    listRuns: (folder) => call(async (): Promise<RunListing> => {
      const listing = await engine.call('listRuns', project(folder));
      return { runs: listing.runs.map(forView), problems: listing.problems };
    }),
    deleteRun: (folder, runId) => call(() => engine.call('deleteRun', project(folder), runId)),
    exportRunHistory: (folder, runId) => call(async () => options.save(await engine.call('exportRunHistory', project(folder), runId), 'csv')),
    exportRunModel: (folder, runId) => call(async () => options.save(await engine.call('exportRunModel', project(folder), runId), 'onnx')),
    evaluateRun: (folder, runId) => call(() => engine.call('evaluateRun', project(folder), runId)),
    heldOutSamples: (folder, runId, indices) => call(() => engine.call('heldOutSamples', project(folder), runId, indices)),
    runSignature: (folder, runId) => call(() => engine.call('runSignature', project(folder), runId)),
    predictRun: (folder, runId, predictFiles) => call(() => engine.call('predictRun', project(folder), runId, predictFiles)),
  };
}

/** The nearest folder at or above `file` that holds a project file, not above `top` (the root in browser mode). */
export function projectAbove(file: string, top: string | null): string | null {
  let folder = statSync(file, { throwIfNoEntry: false })?.isDirectory() ? file : path.dirname(file);
  for (;;) {
    if (existsSync(path.join(folder, PROJECT_FILE))) return folder;
    const parent = path.dirname(folder);
    if (parent === folder || folder === top) return null;
    folder = parent;
  }
}

/** The app's folder for the runs of a model outside any project: named after the model, one per file. */
export function appProjectFolder(stateDir: string, file: string): string {
  const stem = path.basename(file, path.extname(file)).replace(/[^A-Za-z0-9_-]+/g, '-').slice(0, 60) || 'model';
  const folder = path.join(stateDir, 'projects', `${stem}-${createHash('sha256').update(file).digest('hex').slice(0, 8)}`);
  mkdirSync(folder, { recursive: true });
  return folder;
}

function checkedFolder(files: FileAccess, requested: string, what: string): string {
  const folder = files.resolve(requested);
  if (!statSync(folder, { throwIfNoEntry: false })?.isDirectory()) throw new UserError(`${requested}: not a folder; a ${what} is a folder`);
  return folder;
}

/** The settings with their data files resolved where the engine finds them (and checked, in browser mode). */
function checkedSettings(files: FileAccess, settings: TrainingSettings): TrainingSettings {
  const data: DataSource = settings.data;
  if (data.kind === 'path') return { ...settings, data: { ...data, path: files.resolve(data.path) } };
  if (data.kind === 'arrays') return { ...settings, data: { ...data, x: files.resolve(data.x), y: files.resolve(data.y) } };
  if (data.kind === 'model-file') return { ...settings, data: { ...data, file: files.resolve(data.file) } };
  return settings;
}

function dataForView(data: DataSource, shown: (file: string) => string): DataSource {
  if (data.kind === 'path') return { ...data, path: shown(data.path) };
  if (data.kind === 'arrays') return { ...data, x: shown(data.x), y: shown(data.y) };
  if (data.kind === 'model-file') return { ...data, file: shown(data.file) };
  return data;
}

function eventForView(event: TrainingEvent, shown: (folder: string) => string, forView: (run: RunRecord) => RunRecord): TrainingEvent {
  if (event.kind === 'started' || event.kind === 'ended') return { ...event, project: shown(event.project), run: forView(event.run) };
  return event;
}
