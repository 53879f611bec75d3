// Which files the app may open, and how it names them. On the desktop every path is the
// user's own, absolute. In browser mode (`strata serve --root DIR`) the page may come from
// anyone who holds the token, so it reaches only files under the root: a path is relative to
// it (or absolute, naming a place under it), `..` is refused, other absolute paths are refused,
// and a path whose real location (symbolic links resolved) is outside the root is refused; each
// error names the path. A few files
// outside the root are allowed by name, exactly: Strata's examples and the file given on the
// command line, which the person who started the server chose.
import { readdirSync, realpathSync, statSync, type Stats } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { FileEntry, FileKind, FolderListing } from '../contract/api.ts';
import { UserError } from '../cli/errors.ts';
import { isModuleFile } from '../cli/load_model.ts';
import { isImageFile } from '../data/image_files.ts';
import { isKerasModelFile } from '../io/keras_file.ts';
import { PROJECT_FILE } from '../io/project.ts';

/** The name browser mode gives the root itself. */
export const ROOT_PATH = '.';

export class FileAccess {
  readonly mode: 'desktop' | 'browser';
  /** Browser mode: the root, symbolic links resolved. */
  readonly root: string | null;
  readonly #allowed = new Set<string>();

  constructor(mode: 'desktop' | 'browser', root: string | null) {
    this.mode = mode;
    if (mode === 'browser' && !root) throw new UserError('browser mode needs a root folder (strata serve --root DIR)');
    this.root = mode === 'browser' ? realFolder(root!) : null;
  }

  /** Lets browser mode open this one file outside the root too (an example, the command line's file). */
  allow(file: string): void {
    this.#allowed.add(realpathSync(file));
  }

  /** The real, absolute location of a path the views gave; refused (UserError naming it) where browser mode may not go. */
  resolve(requested: string): string {
    if (typeof requested !== 'string' || requested.includes('\0')) throw new UserError(`${JSON.stringify(requested)}: not a file path`);
    if (this.mode === 'desktop') return path.resolve(requested);
    if (requested.split(/[\\/]/).includes('..')) throw new UserError(`${requested}: ".." is not allowed; paths are relative to the root folder ${this.root}`);
    const relative = this.#underRoot(requested);
    if (relative === null) {
      const real = realOrMissing(requested);
      if (real && this.#allowed.has(real)) return real;
      throw new UserError(`${requested}: absolute paths outside the root folder ${this.root} are not served; give a path under it`);
    }
    const real = realOrMissing(path.join(this.root!, relative));
    if (!real) throw new UserError(`${requested}: no such file or folder under the root folder ${this.root}`);
    if (!this.#inRoot(real) && !this.#allowed.has(real)) throw new UserError(`${requested}: a symbolic link that leads outside the root folder ${this.root}; only files under it can be opened`);
    return real;
  }

  /**
   * Where a save named by the views goes (a folder that may not exist yet): its parent must
   * resolve as resolve() allows, and its last part be a plain name.
   */
  resolveNew(requested: string): string {
    if (typeof requested !== 'string' || requested.includes('\0')) throw new UserError(`${JSON.stringify(requested)}: not a file path`);
    if (this.mode === 'desktop') return path.resolve(requested);
    const name = path.basename(requested);
    if (name === '' || name === '.' || name === '..' || requested.split(/[\\/]/).includes('..')) {
      throw new UserError(`${requested}: ".." is not allowed; paths are relative to the root folder ${this.root}`);
    }
    const parent = path.dirname(requested);
    const real = this.resolve(parent === '' ? ROOT_PATH : parent);
    const target = path.join(real, name);
    const existing = realOrMissing(target);
    if (existing && !this.#inRoot(existing)) throw new UserError(`${requested}: a symbolic link that leads outside the root folder ${this.root}; only files under it can be written`);
    return existing ?? target;
  }

  /**
   * A path the views gave, relative to the root; null for an absolute path outside it. An
   * absolute path (pasted from a terminal) is judged on its text alone, so the answer tells
   * nothing of what exists outside the root; resolve() then checks where its links lead.
   */
  #underRoot(requested: string): string | null {
    if (!path.isAbsolute(requested)) return requested;
    const relative = path.relative(this.root!, requested);
    return relative.split(path.sep)[0] === '..' || path.isAbsolute(relative) ? null : relative;
  }

  /** How the views name a real, absolute path: itself on the desktop, relative to the root in browser mode. */
  contractPath(file: string): string {
    if (this.mode === 'desktop' || !this.#inRoot(file)) return file;
    return path.relative(this.root!, file).split(path.sep).join('/') || ROOT_PATH;
  }

  /** A folder's entries; null: the root in browser mode, the home folder on the desktop. */
  list(requested: string | null): FolderListing {
    const folder = requested === null ? (this.root ?? os.homedir()) : this.resolve(requested);
    if (!statOrUndefined(folder)?.isDirectory()) throw new UserError(`${requested}: not a folder`);
    const entries: FileEntry[] = [];
    for (const name of readdirSync(folder)) {
      // Hidden files stay hidden, as in the system's file dialogs.
      if (name.startsWith('.')) continue;
      const entry = this.#entry(path.join(folder, name));
      if (entry) entries.push(entry);
    }
    const isFolder = (entry: FileEntry) => entry.kind === 'folder' || entry.kind === 'saved-model' || entry.kind === 'project';
    entries.sort((a, b) => Number(isFolder(b)) - Number(isFolder(a)) || a.name.localeCompare(b.name));
    return { path: this.contractPath(folder), parent: this.#parentOf(folder), entries };
  }

  /** The entry for a file, or undefined where it cannot be opened (a link out of the root, a broken link, a pipe). */
  entryFor(file: string): FileEntry | undefined {
    return this.#entry(file);
  }

  #entry(file: string): FileEntry | undefined {
    const real = realOrMissing(file);
    if (!real || (this.mode === 'browser' && !this.#inRoot(real) && !this.#allowed.has(real))) return undefined;
    const stats = statOrUndefined(real);
    // Pipes, sockets and devices are not model files; reading one could block or never end.
    if (!stats || (!stats.isFile() && !stats.isDirectory())) return undefined;
    const kind = fileKind(real, stats);
    const entry: FileEntry = { name: path.basename(file), path: this.contractPath(this.mode === 'browser' ? real : file), kind };
    if (stats.isFile()) entry.size = stats.size;
    return entry;
  }

  #parentOf(folder: string): string | null {
    if (this.mode === 'browser') return folder === this.root || !this.#inRoot(folder) ? null : this.contractPath(path.dirname(folder));
    const parent = path.dirname(folder);
    return parent === folder ? null : parent;
  }

  #inRoot(real: string): boolean {
    return real === this.root || real.startsWith(this.root + path.sep);
  }
}

/** What a file is to Strata, from its name and, for folders, whether they hold a saved model. */
export function fileKind(file: string, stats: Stats): FileKind {
  if (stats.isDirectory()) {
    if (statOrUndefined(path.join(file, PROJECT_FILE))?.isFile()) return 'project';
    return statOrUndefined(path.join(file, 'model.json'))?.isFile() ? 'saved-model' : 'folder';
  }
  const ext = path.extname(file).toLowerCase();
  if (ext === '.onnx') return 'onnx';
  if (ext === '.json') return 'keras-json';
  if (isKerasModelFile(file)) return 'keras-model';
  if (isImageFile(file)) return 'image';
  return isModuleFile(file) ? 'model-module' : 'other';
}

function realFolder(folder: string): string {
  const real = realOrMissing(folder);
  if (!real || !statOrUndefined(real)?.isDirectory()) throw new UserError(`${folder}: the root is not a folder`);
  return real;
}

function realOrMissing(file: string): string | undefined {
  try {
    return realpathSync(file);
  } catch {
    return undefined;
  }
}

function statOrUndefined(file: string): Stats | undefined {
  try {
    return statSync(file);
  } catch {
    return undefined;
  }
}
