// The files opened last, newest first, kept in the app's state folder as recent-files.json
// (absolute paths) and written atomically, so a crash mid-write leaves the old list. A list
// that cannot be read (missing, corrupt) is an empty one; a list that cannot be written costs
// the list, never the open that added to it.
import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { writeFileAtomic } from '../io/atomic_write.ts';

export const MAX_RECENT_FILES = 10;
const FILE_NAME = 'recent-files.json';

export class RecentFiles {
  readonly #file: string;

  constructor(stateDir: string) {
    this.#file = path.join(stateDir, FILE_NAME);
  }

  /** Absolute paths, newest first. */
  list(): string[] {
    try {
      const saved = JSON.parse(readFileSync(this.#file, 'utf8')) as { files?: unknown };
      return Array.isArray(saved.files) ? saved.files.filter((f): f is string => typeof f === 'string' && path.isAbsolute(f)).slice(0, MAX_RECENT_FILES) : [];
    } catch {
      return [];
    }
  }

  /** Puts `file` first. Returns why the list could not be saved, if it could not. */
  add(file: string): string | undefined {
    const files = [file, ...this.list().filter((f) => f !== file)].slice(0, MAX_RECENT_FILES);
    try {
      mkdirSync(path.dirname(this.#file), { recursive: true });
      writeFileAtomic(this.#file, `${JSON.stringify({ files }, null, 2)}\n`);
      return undefined;
    } catch (error) {
      return (error as Error).message;
    }
  }
}
