// What saveModel may replace and delete, and how it swaps a model folder into place.
//
// Keras's save() replaces the one file it writes and never deletes anything else. A Strata
// model is a folder (model.json and the weight shards its manifest names), so the rule here
// is: a folder is replaced only when it holds nothing but such a model (one that Strata or
// TensorFlow.js saved), or nothing at all. A folder holding anything else, a file (or pipe,
// device, socket) where the folder would go, the current folder or one holding it, the home
// folder and / are refused with a message naming what is there, and nothing is touched.
//
// A save is written into a staging folder beside the target, ".NAME.<8 hex digits>", which
// holds a marker file (MARKER, the saving process's id) while it is ours; then the old
// folder is renamed aside (".NAME.<hex>.old", marked the same way), the staging folder
// renamed into place, and the old one emptied of our files and removed. A save killed
// half-way (SIGKILL, a power cut) leaves a staging folder; the next save or load of that
// target removes it, recognising it by its name AND its marker (from a process that is gone),
// and deleting only the files a save writes: a folder of the user's is never emptied.
import { type Dirent, type Stats, lstatSync, mkdirSync, readFileSync, readdirSync, readlinkSync, realpathSync, renameSync, rmSync, rmdirSync, statSync, statfsSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { homedir } from 'node:os';
import path from 'node:path';
import { readableMemorySize } from '../model/summary.ts';
import { SaveError, errorReason, isProcessRunning } from './atomic_write.ts';
import { isKerasModelFile } from './keras_extensions.ts';

export const MODEL_JSON = 'model.json';
/** The one weights shard saveModel writes. */
export const SHARD = 'group1-shard1of1.bin';
/** In a folder a save is writing: the id of the process writing it. */
const MARKER = '.strata-staging';
/** writeFileAtomic's temporary files: ".<name>.<pid>.tmp". */
const TEMPORARY = /^\.(.+)\.(\d+)\.tmp$/;
/** A model.json larger than this is no model.json we wrote (and is not read to find out). */
const MODEL_JSON_MAX_BYTES = 64 * 1024 * 1024;

/** Where a save goes: the real path (symbolic links followed) and the folder there now, if any. */
export interface SaveTarget {
  /** The path as the caller gave it, for messages. */
  given: string;
  path: string;
  /** The permission bits of the folder being replaced; undefined when there is none. */
  existingMode?: number;
}

/**
 * Checks that `dir` may be saved to and says where the save goes. Throws a SaveError naming
 * `dir` and what is there when it may not: the parent folder is missing, the path is a file,
 * a folder holding anything but a saved model, a dangling symbolic link, /, the home folder,
 * or the current folder (or one holding it).
 */
export function resolveSaveTarget(dir: string): SaveTarget {
  const refuse = (why: string): never => {
    throw new SaveError(`${dir}: cannot save here: ${why}; nothing was changed`);
  };
  // As Keras's model.save(), such a name asks for one file, not a folder named like one.
  if (isKerasModelFile(dir)) refuse(`a name ending in ${path.extname(dir)} is a Keras model file, and saveModel writes a model folder; write the file with saveKerasModel(model, file) or strata export -o ${path.basename(dir)}, or give a folder name`);
  const link = lstatOrNull(path.resolve(dir));
  if (!link) {
    const parent = path.dirname(path.resolve(dir));
    const parentStat = statOrNull(parent);
    if (!parentStat) throw new SaveError(`${dir}: cannot save (the folder ${parent} does not exist); nothing was changed`);
    if (!parentStat.isDirectory()) refuse(`${parent} is not a folder`);
    return { given: dir, path: path.join(realpathSync(parent), path.basename(path.resolve(dir))) };
  }
  if (link.isSymbolicLink() && !statOrNull(dir)) refuse(`it is a symbolic link to ${readlinkSync(dir)}, which does not exist`);
  const real = realpathSync(dir);
  const stat = statSync(real);
  if (!stat.isDirectory()) refuse(`${describeNonFolder(stat)} is there, not a folder; a model is saved as a folder, so give a folder name that does not exist yet`);
  const protectedWhy = protectedFolder(real);
  if (protectedWhy) refuse(`${protectedWhy}; save the model to a folder of its own inside it, such as ${path.join(dir, 'model')}`);
  const foreign = foreignEntries(real);
  if (foreign.length > 0) refuse(`it holds ${describeEntries(foreign)} that Strata did not write; save to a new folder, or to one that holds only a saved model`);
  return { given: dir, path: real, existingMode: stat.mode & 0o7777 };
}

/**
 * Before training: the save to `dir` will be allowed (resolveSaveTarget), its parent folder can
 * be written (a staging folder is created and removed), and its disk has `bytes` free.
 */
export function checkCanSave(dir: string, bytes: number): void {
  const target = resolveSaveTarget(dir);
  const parent = path.dirname(target.path);
  const staging = createStaging(target);
  removeOurFolder(staging);
  let free: number;
  try {
    const fs = statfsSync(parent);
    free = fs.bavail * fs.bsize;
  } catch {
    return; // no free-space figure on this platform: the save itself will say if the disk is full
  }
  if (free < bytes) {
    throw new SaveError(`${dir}: cannot save: the disk holding ${parent} has ${readableMemorySize(free)} free and the model needs about ${readableMemorySize(bytes)}; free some space first`);
  }
}

/** A new staging folder beside the target, marked as ours, with the replaced folder's permissions (or the umask's). */
export function createStaging(target: SaveTarget): string {
  const parent = path.dirname(target.path);
  const staging = path.join(parent, `.${path.basename(target.path)}.${randomBytes(4).toString('hex')}`);
  try {
    mkdirSync(staging, target.existingMode === undefined ? {} : { mode: target.existingMode });
  } catch (error) {
    throw new SaveError(`${target.given}: cannot save (${errorReason(error)} in ${parent}); nothing was changed`);
  }
  writeFileSync(path.join(staging, MARKER), `${process.pid}\n`);
  return staging;
}

/**
 * Puts the complete staging folder in the target's place: the old folder (marked, then renamed
 * aside) stays whole until the new one is there; then our files in it are deleted.
 */
export function commitStaging(staging: string, target: SaveTarget): void {
  const old = `${staging}.old`;
  if (target.existingMode !== undefined) {
    writeFileSync(path.join(target.path, MARKER), `${process.pid}\n`);
    renameSync(target.path, old);
  }
  try {
    renameSync(staging, target.path);
  } catch (error) {
    if (target.existingMode !== undefined) renameSync(old, target.path);
    throw error;
  }
  rmSync(path.join(target.path, MARKER), { force: true });
  if (target.existingMode !== undefined) removeOurFolder(old);
}

/**
 * Deletes the files a save writes (model.json, the shards its manifest names, the marker,
 * temporary files), then the folder if that left it empty: whatever else is in it stays.
 */
export function removeOurFolder(folder: string): void {
  const shards = new Set([MODEL_JSON, SHARD, ...manifestShards(folder)]);
  for (const entry of listEntries(folder)) {
    const ours = shards.has(entry.name) || TEMPORARY.test(entry.name);
    if (ours && entry.isFile()) rmSync(path.join(folder, entry.name), { force: true });
  }
  // The marker goes last: a removal killed half-way leaves a folder still marked as ours.
  rmSync(path.join(folder, MARKER), { force: true });
  try {
    rmdirSync(folder);
  } catch {
    // Something not ours is in it (or appeared since): it stays.
  }
}

/**
 * Staging folders of earlier saves to `targetPath` that were killed half-way: named
 * ".NAME.<hex>" or ".NAME.<hex>.old" beside it (".NAME.XXXXXX", mkdtemp's, from earlier
 * versions), holding a marker or a temporary file of a process that is gone. Emptied of our
 * files and removed; errors are ignored (a stale folder is untidy, not harmful).
 */
export function removeStaleStaging(targetPath: string): void {
  const parent = path.dirname(targetPath);
  const name = escapeRegExp(path.basename(targetPath));
  const pattern = new RegExp(`^\\.${name}\\.([0-9a-f]{8}(\\.old)?|[A-Za-z0-9]{6})$`);
  try {
    for (const entry of readdirSync(parent, { withFileTypes: true })) {
      if (!entry.isDirectory() || !pattern.test(entry.name)) continue;
      const folder = path.join(parent, entry.name);
      // Empty: a save killed between creating its staging folder and marking it (rmdir removes only an empty folder).
      if (isAbandonedSave(folder) || listEntries(folder).length === 0) removeOurFolder(folder);
    }
  } catch {
    // An unreadable parent: nothing to tidy that we could reach.
  }
}

/**
 * A save killed between its two renames (the old folder moved aside, the new one not yet in
 * its place) leaves no folder at the target, a complete staging folder ".NAME.<hex>" and the
 * old one, ".NAME.<hex>.old", both marked by a process that is gone: the save is finished
 * here (the new version put in place, the old one removed), so a load finds the saved model.
 */
export function finishInterruptedSave(dir: string): void {
  const given = path.resolve(dir);
  if (lstatOrNull(given)) return;
  const target = path.join(realpathOrSelf(path.dirname(given)), path.basename(given));
  const pattern = new RegExp(`^\\.${escapeRegExp(path.basename(target))}\\.[0-9a-f]{8}\\.old$`);
  for (const entry of listEntries(path.dirname(target))) {
    if (!entry.isDirectory() || !pattern.test(entry.name)) continue;
    const old = path.join(path.dirname(target), entry.name);
    const staging = old.slice(0, -'.old'.length);
    if (!statOrNull(staging)?.isDirectory() || !isAbandonedSave(staging) || !isAbandonedSave(old) || !isCompleteSave(staging)) continue;
    try {
      renameSync(staging, target);
    } catch {
      return; // another process got there first, or the folder cannot be written: the load says what it finds
    }
    rmSync(path.join(target, MARKER), { force: true });
    removeOurFolder(old);
    return;
  }
}

/** A folder holding a whole save: a layers model's model.json and every shard it names. */
function isCompleteSave(folder: string): boolean {
  const files = manifestShards(folder);
  return files.length > 0 && files.every((file) => lstatOrNull(path.join(folder, file))?.isFile());
}

/** A folder a save was writing, by a process that no longer runs: its marker or a temporary file says so. */
function isAbandonedSave(folder: string): boolean {
  const writers: number[] = [];
  for (const entry of listEntries(folder)) {
    if (entry.name === MARKER && entry.isFile()) writers.push(Number.parseInt(readFileSync(path.join(folder, MARKER), 'utf8'), 10));
    const temporary = TEMPORARY.exec(entry.name);
    if (temporary && entry.isFile()) writers.push(Number(temporary[2]));
  }
  return writers.length > 0 && writers.every((pid) => !isProcessRunning(pid));
}

/** The entries of a folder that a save did not write: all but model.json (a layers model's), its shards and the marker. */
export function foreignEntries(folder: string): Dirent[] {
  const shards = new Set(manifestShards(folder));
  const ours = (entry: Dirent) => entry.isFile() && (entry.name === MARKER || shards.has(entry.name));
  return listEntries(folder).filter((entry) => !ours(entry));
}

/**
 * The shard files named by the folder's model.json when it is a TensorFlow.js layers model
 * (a modelTopology and a weightsManifest); plain file names only. [] when it is not one.
 */
function manifestShards(folder: string): string[] {
  const file = path.join(folder, MODEL_JSON);
  const stat = lstatOrNull(file);
  if (!stat?.isFile() || stat.size > MODEL_JSON_MAX_BYTES) return [];
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    return [];
  }
  const { modelTopology, weightsManifest } = (json ?? {}) as { modelTopology?: unknown; weightsManifest?: unknown };
  if (typeof modelTopology !== 'object' || modelTopology === null || !Array.isArray(weightsManifest)) return [];
  const paths = weightsManifest.flatMap((group: { paths?: unknown }) => (Array.isArray(group?.paths) ? group.paths : []));
  return [MODEL_JSON, ...paths.filter((p): p is string => typeof p === 'string' && p !== '' && path.basename(p) === p && p !== '.' && p !== '..')];
}

/** Why a folder must never be replaced, or null. */
function protectedFolder(real: string): string | null {
  if (path.dirname(real) === real) return 'it is the root of the file system';
  if (real === realpathOrSelf(homedir())) return 'it is the home folder';
  const cwd = realpathOrSelf(process.cwd());
  if (cwd === real) return 'it is the current folder';
  if (cwd.startsWith(real + path.sep)) return 'it holds the current folder';
  return null;
}

/** "3 files and 1 folder, such as thesis.pdf, notes/, a.txt" */
function describeEntries(entries: Dirent[]): string {
  const folders = entries.filter((e) => e.isDirectory()).length;
  const others = entries.length - folders;
  const counts = [others ? `${others} ${others === 1 ? 'file' : 'files'}` : '', folders ? `${folders} ${folders === 1 ? 'folder' : 'folders'}` : ''].filter(Boolean).join(' and ');
  const examples = entries.slice(0, 3).map((e) => (e.isDirectory() ? `${e.name}/` : e.name));
  return `${counts} (${entries.length > 3 ? 'such as ' : ''}${examples.join(', ')})`;
}

function describeNonFolder(stat: Stats): string {
  if (stat.isFile()) return `a file (${readableMemorySize(stat.size)})`;
  if (stat.isFIFO()) return 'a named pipe';
  if (stat.isSocket()) return 'a socket';
  if (stat.isCharacterDevice() || stat.isBlockDevice()) return 'a device';
  return 'something other than a folder';
}

function listEntries(folder: string): Dirent[] {
  try {
    return readdirSync(folder, { withFileTypes: true });
  } catch {
    return [];
  }
}

function lstatOrNull(file: string): Stats | null {
  try {
    return lstatSync(file);
  } catch {
    return null;
  }
}

function statOrNull(file: string): Stats | null {
  try {
    return statSync(file);
  } catch {
    return null;
  }
}

function realpathOrSelf(file: string): string {
  try {
    return realpathSync(file);
  } catch {
    return path.resolve(file);
  }
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
