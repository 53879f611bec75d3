// A Strata project: a folder holding a model being edited, what the editor shows of it, and
// the runs trained from it.
//
//   <project>/strata-project.json  {"format": "strata-project", "version": 1, "name", "model": "model",
//                                   "modelVersion", "editor": {view, node positions, ...},
//                                   "modelFile"?: the model file it was made from, whose data it trains on}
//   <project>/model/               the model as saveModel writes it (Keras topology + weights)
//   <project>/runs/<run-id>/       one per fit (app/io/runs.ts)
//
// Saves are atomic file by file: the model folder is swapped in whole (model_folder.ts), then
// strata-project.json is replaced (write, fsync, rename). A project is saved only to a new
// folder, an empty one, or one that already holds a project; a folder holding anything else is
// refused with a message naming what is there, and nothing in it is touched. Strata deletes
// nothing it did not write: runs/ and any other file in a project folder stay.
import { mkdirSync, readdirSync, readFileSync, rmdirSync, type Stats, statSync } from 'node:fs';
import path from 'node:path';
import { FormatError, type Model } from '../model/index.ts';
import { SaveError, errorReason, isProcessRunning, writeFileAtomic } from './atomic_write.ts';
import { finishInterruptedSave, foreignEntries, removeStaleStaging } from './model_folder.ts';
import { loadModelFolder, saveModel } from './model_store.ts';

export const PROJECT_FILE = 'strata-project.json';
export const PROJECT_FORMAT = 'strata-project';
export const PROJECT_VERSION = 1;
/** The model's folder inside a project, as new projects name it. */
export const PROJECT_MODEL_DIR = 'model';
/** The runs' folder inside a project (app/io/runs.ts). */
export const PROJECT_RUNS_DIR = 'runs';
/** A strata-project.json larger than this is not one Strata wrote. */
const PROJECT_FILE_MAX_BYTES = 16 * 1024 * 1024;

/** strata-project.json's content. */
export interface ProjectFile {
  format: typeof PROJECT_FORMAT;
  version: typeof PROJECT_VERSION;
  name: string;
  /** The model's folder, relative to the project: a plain folder name. */
  model: string;
  /** Counts the saves that changed the model; a run records the version it trained. */
  modelVersion: number;
  /** The editor's state (the contract's ProjectEditorState); kept as the app wrote it. */
  editor: Record<string, unknown>;
  /**
   * The model file in code the project was made from, whose data export its training
   * defaults to: relative to the project folder when it lies inside it, else absolute.
   */
  modelFile?: string;
}

export interface LoadedProject {
  file: ProjectFile;
  model: Model;
  /** Epochs the saved weights were trained for (0: as initialised). */
  epochs: number;
  /** The file's modelFile as an absolute path (it may no longer exist). */
  modelFile?: string;
}

/** Whether `dir` is a folder holding strata-project.json. */
export function isProjectFolder(dir: string): boolean {
  return statOrNull(path.join(dir, PROJECT_FILE))?.isFile() === true && statOrNull(dir)?.isDirectory() === true;
}

/** Reads and checks `dir`/strata-project.json; a FormatError names the file and the field at fault. */
export function readProjectFile(dir: string): ProjectFile {
  const file = path.join(dir, PROJECT_FILE);
  const stats = statOrNull(file);
  if (!stats?.isFile()) throw new FormatError(`${dir}: not a Strata project (no ${PROJECT_FILE} in it)`, { file: dir });
  if (stats.size > PROJECT_FILE_MAX_BYTES) throw new FormatError(`${file}: ${stats.size} bytes is too large for a project file`, { file });
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    const reason = error instanceof SyntaxError ? `not valid JSON (${error.message})` : errorReason(error);
    throw new FormatError(`${file}: cannot read the project file: ${reason}`, { file });
  }
  return checkProjectFile(parsed, file);
}

function checkProjectFile(parsed: unknown, file: string): ProjectFile {
  const fail = (field: string, expected: string, value: unknown): never => {
    throw new FormatError(`${file}: "${field}" must be ${expected}, got ${JSON.stringify(value) ?? String(value)}`, { file, field });
  };
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return fail('(top level)', 'an object', parsed);
  const json = parsed as Record<string, unknown>;
  if (json.format !== PROJECT_FORMAT) fail('format', `"${PROJECT_FORMAT}"`, json.format);
  if (typeof json.version !== 'number' || !Number.isInteger(json.version) || json.version < 1) fail('version', 'a positive integer', json.version);
  if ((json.version as number) > PROJECT_VERSION) {
    throw new FormatError(`${file}: written by a newer Strata (project format version ${json.version}); this Strata reads version ${PROJECT_VERSION}`, { file, field: 'version' });
  }
  if (typeof json.name !== 'string') fail('name', 'a string', json.name);
  const model = json.model ?? PROJECT_MODEL_DIR;
  if (typeof model !== 'string' || !isPlainName(model)) fail('model', 'the name of a folder inside the project', json.model);
  const modelVersion = json.modelVersion ?? 0;
  if (typeof modelVersion !== 'number' || !Number.isSafeInteger(modelVersion) || modelVersion < 0) fail('modelVersion', 'a whole number', json.modelVersion);
  const editor = json.editor ?? {};
  if (typeof editor !== 'object' || editor === null || Array.isArray(editor)) fail('editor', 'an object', json.editor);
  const { modelFile } = json;
  if (modelFile !== undefined && (typeof modelFile !== 'string' || modelFile === '' || modelFile.includes('\0'))) fail('modelFile', 'the path of a model file', modelFile);
  const checked: ProjectFile = { format: PROJECT_FORMAT, version: PROJECT_VERSION, name: json.name as string, model: model as string, modelVersion: modelVersion as number, editor: editor as Record<string, unknown> };
  return modelFile === undefined ? checked : { ...checked, modelFile: modelFile as string };
}

/** Opens a project: its file, and its model with the saved weights. */
export function loadProject(dir: string): LoadedProject {
  const file = readProjectFile(dir);
  const modelDir = path.join(dir, file.model);
  finishInterruptedSave(modelDir);  // a save killed between its two renames left the folder under another name
  if (!statOrNull(modelDir)?.isDirectory()) throw new FormatError(`${dir}: the project's model folder "${file.model}" is missing`, { file: modelDir });
  const { model, epochs } = loadModelFolder(modelDir);
  return { file, model, epochs, ...(file.modelFile === undefined ? {} : { modelFile: path.resolve(dir, file.modelFile) }) };
}

export interface ProjectContent {
  name: string;
  /** Saved with its weights (and its optimizer's state, when compiled) into the model folder. */
  model: Model;
  modelVersion: number;
  editor: Record<string, unknown>;
  /** The model file the project was made from (absolute); saved relative to the project when inside it. */
  modelFile?: string;
}

/**
 * Saves a project to `dir`: creates the folder when missing (its parent must exist), or saves
 * over the project there. Refuses, changing nothing, a folder holding anything but a project,
 * or a path that is a file. Throws a SaveError naming `dir` and the reason.
 */
export function saveProject(dir: string, content: ProjectContent): void {
  const existing = checkProjectTarget(dir);
  const modelFolder = existing?.model ?? PROJECT_MODEL_DIR;
  if (!existing) {
    try {
      mkdirSync(dir, { recursive: false });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw new SaveError(`${dir}: cannot save the project (${errorReason(error)}); nothing was changed`, errorReason(error));
    }
  }
  try {
    saveModel(content.model, path.join(dir, modelFolder));
  } catch (error) {
    // The folder this save created, if nothing else came into it since.
    if (!existing) rmdirQuietly(dir);
    throw error;
  }
  const file: ProjectFile = { format: PROJECT_FORMAT, version: PROJECT_VERSION, name: content.name, model: modelFolder, modelVersion: content.modelVersion, editor: content.editor };
  if (content.modelFile !== undefined) file.modelFile = linkFrom(dir, content.modelFile);
  writeFileAtomic(path.join(dir, PROJECT_FILE), `${JSON.stringify(file, null, 2)}\n`);
}

/**
 * What is at `dir` before a save: null for a new or empty folder, the project file for a
 * project. A SaveError (nothing changed) for anything else.
 */
export function checkProjectTarget(dir: string): ProjectFile | null {
  const refuse = (why: string): never => {
    throw new SaveError(`${dir}: cannot save the project here: ${why}; nothing was changed`, why);
  };
  const stats = statOrNull(dir);
  if (!stats) {
    const parent = path.dirname(path.resolve(dir));
    if (!statOrNull(parent)?.isDirectory()) throw new SaveError(`${dir}: cannot save the project (the folder ${parent} does not exist); nothing was changed`, 'the folder does not exist');
    return null;
  }
  if (!stats.isDirectory()) return refuse(`${describeNonFolder(stats)} is there; a project is a folder, so give a folder name that does not exist yet`);
  if (isProjectFolder(dir)) {
    try {
      return readProjectFile(dir);
    } catch (error) {
      return refuse(`its ${PROJECT_FILE} is not one Strata can read (${(error as Error).message})`);
    }
  }
  // Staging folders of a model save killed half-way are removed first (only ours, of a process that is gone).
  removeStaleStaging(path.join(dir, PROJECT_MODEL_DIR));
  const entries = readdirSync(dir);
  if (entries.length > 0 && !isCutOffFirstSave(dir, entries)) {
    const shown = entries.slice(0, 3).join(', ');
    return refuse(`it holds ${entries.length} ${entries.length === 1 ? 'entry' : 'entries'} that Strata did not write (${entries.length > 3 ? 'such as ' : ''}${shown}); save the project to a new folder or an empty one`);
  }
  return null;
}

/**
 * Whether `entries` are what a project's first save leaves when it is killed before its
 * project file is in place: the model folder (a whole save) and the project file's temporary
 * file of a process that is gone. Such a folder is saved over as a new project; anything
 * else in it makes it someone else's.
 */
function isCutOffFirstSave(dir: string, entries: string[]): boolean {
  const ours = (name: string) => {
    const full = path.join(dir, name);
    if (name === PROJECT_MODEL_DIR) return statOrNull(full)?.isDirectory() === true && foreignEntries(full).length === 0;
    const temporary = /^\.strata-project\.json\.(\d+)\.tmp$/.exec(name);
    return temporary !== null && !isProcessRunning(Number(temporary[1]));
  };
  return entries.every(ours);
}

/** `file` as a project in `dir` keeps it: relative when it lies inside the project (the two move together), else absolute. */
function linkFrom(dir: string, file: string): string {
  const relative = path.relative(path.resolve(dir), path.resolve(file));
  const inside = relative !== '' && relative !== '..' && !relative.startsWith(`..${path.sep}`) && !path.isAbsolute(relative);
  return inside ? relative : path.resolve(file);
}

function isPlainName(name: string): boolean {
  return name !== '' && name !== '.' && name !== '..' && !/[/\\\0]/.test(name);
}

function describeNonFolder(stats: Stats): string {
  if (stats.isFile()) return 'a file';
  if (stats.isFIFO()) return 'a named pipe';
  if (stats.isSocket()) return 'a socket';
  return 'something other than a folder';
}

function rmdirQuietly(dir: string): void {
  try {
    rmdirSync(dir);
  } catch {
    // Not empty, or gone: either way nothing of the user's is removed.
  }
}

function statOrNull(file: string): Stats | null {
  try {
    return statSync(file);
  } catch {
    return null;
  }
}
