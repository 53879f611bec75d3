// Saves that never leave a half-written file: the data goes to a temporary file in the same
// folder, is flushed to disk, and is renamed over the target in one step. A full disk or a
// killed process leaves the old file (or none) in place, never a truncated one; the temporary
// file it leaves is removed by the next save of that file.
import { closeSync, fsyncSync, openSync, readdirSync, renameSync, rmSync, writeSync } from 'node:fs';
import path from 'node:path';
import { StrataUserError } from '../model/errors.ts';

/** A save that failed; the message names the file and the reason, and says nothing changed. */
export class SaveError extends StrataUserError {
  override name = 'SaveError';
  /** The reason alone ("the disk is full"), for a caller that names the file its own way. */
  readonly reason: string;
  constructor(message: string, reason = message) {
    super(message);
    this.reason = reason;
  }
}

/** A file system error in words a user acts on. */
export function errorReason(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOSPC' || code === 'EDQUOT') return 'the disk is full';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  if (code === 'EROFS') return 'the file system is read-only';
  if (code === 'ENOENT') return 'the folder does not exist';
  return code ?? (error as Error).message;
}

export function writeFileAtomic(file: string, data: Uint8Array | string): void {
  const bytes = typeof data === 'string' ? new TextEncoder().encode(data) : data;
  const temporary = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.tmp`);
  removeStaleTemporaries(file);
  let fd: number | undefined;
  try {
    fd = openSync(temporary, 'w', 0o644);
    for (let offset = 0; offset < bytes.length; ) offset += writeSync(fd, bytes, offset, bytes.length - offset);
    fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
    renameSync(temporary, file);
  } catch (error) {
    if (fd !== undefined) closeSync(fd);
    rmSync(temporary, { force: true });
    const reason = errorReason(error);
    throw new SaveError(`${file}: cannot save (${reason}); nothing was changed`, reason);
  }
  // Make the rename itself durable where the platform allows it.
  try {
    const dir = openSync(path.dirname(file), 'r');
    fsyncSync(dir);
    closeSync(dir);
  } catch {
    // Some filesystems (and Windows) cannot fsync a folder; the rename is still atomic.
  }
}

/**
 * Temporary files of earlier saves of `file` (".NAME.<pid>.tmp") whose process is gone: a save
 * killed half-way. Errors are ignored (a stale temporary file is untidy, not harmful).
 */
function removeStaleTemporaries(file: string): void {
  const folder = path.dirname(file);
  const prefix = `.${path.basename(file)}.`;
  let names: string[];
  try {
    names = readdirSync(folder);
  } catch {
    return; // the save itself will say why the folder cannot be used
  }
  for (const name of names) {
    const pid = name.startsWith(prefix) ? /^(\d+)\.tmp$/.exec(name.slice(prefix.length))?.[1] : undefined;
    if (pid !== undefined && !isProcessRunning(Number(pid))) rmSync(path.join(folder, name), { force: true });
  }
}

/** Whether a process with this id runs (ours included); a saving process's files are left alone while it does. */
export function isProcessRunning(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'; // alive, another user's
  }
}
