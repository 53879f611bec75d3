// Every file Strata reads on a user's behalf (model files, weight shards, data files) is read
// here. Only regular files are read: a FIFO, a device such as /dev/zero or a folder is refused
// before a byte is read, so nothing waits for a writer or reads without end. A file larger than
// the caller's limit (LIMITS.fileBytes by default) is refused before it is read. A failure is
// one error naming the file and the reason, of the caller's class, so that its kind stays.
import { closeSync, constants, fstatSync, openSync, readSync, realpathSync, type Stats } from 'node:fs';
import path from 'node:path';
import { FileError, LimitError } from '../model/errors.ts';
import { LIMITS } from '../model/limits.ts';
import { readableMemorySize } from '../model/summary.ts';

type ErrorClass = new (message: string) => Error;

export interface ReadOptions {
  /** The most bytes the file may have (default LIMITS.fileBytes). */
  limit?: number;
}

/** The whole file, or an error of class `ErrorClass` (default FileError) naming it and the reason. */
export function readFileOrThrow(file: string, ErrorClass: ErrorClass = FileError, options: ReadOptions = {}): Buffer {
  const fd = openRegularFile(file, ErrorClass);
  try {
    const size = fstatSync(fd).size;
    const limit = options.limit ?? LIMITS.fileBytes;
    if (size > limit) throw new LimitError(`${file}: ${readableMemorySize(size)}, more than the ${readableMemorySize(limit)} Strata reads from one such file`, { file });
    return readAll(fd, size, file, ErrorClass);
  } finally {
    closeSync(fd);
  }
}

/** Throws as readFileOrThrow would when `file` cannot be read (for files that another reader opens, such as modules). */
export function assertReadableFile(file: string, ErrorClass: ErrorClass = FileError): void {
  closeSync(openRegularFile(file, ErrorClass));
}

/** What went wrong with a file, in words, from a Node error ("no such file", "permission denied", ...). */
export function describeFileError(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  const reasons: Record<string, string> = {
    ENOENT: 'no such file',
    EACCES: 'permission denied',
    EPERM: 'permission denied',
    EISDIR: 'it is a folder, not a file',
    ENOTDIR: 'a part of its path is not a folder',
    ELOOP: 'too many symbolic links',
    ENAMETOOLONG: 'the name is too long',
    EMFILE: 'too many open files',
    EIO: 'an input/output error (a failing disk?)',
  };
  return (code && reasons[code]) ?? (error as Error).message;
}

function openRegularFile(file: string, ErrorClass: ErrorClass): number {
  let fd: number;
  try {
    // O_NONBLOCK: opening a FIFO must not wait for a writer; it is refused right after.
    fd = openSync(file, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  } catch (error) {
    throw new ErrorClass(`${file}: cannot read: ${describeFileError(error)}`);
  }
  const stats = fstatSync(fd);
  if (!stats.isFile()) {
    closeSync(fd);
    throw new ErrorClass(`${file}: cannot read: it is ${fileKind(stats)}, not a regular file`);
  }
  return fd;
}

function fileKind(stats: Stats): string {
  if (stats.isDirectory()) return 'a folder';
  if (stats.isFIFO()) return 'a FIFO (named pipe)';
  if (stats.isCharacterDevice()) return 'a character device';
  if (stats.isBlockDevice()) return 'a block device';
  if (stats.isSocket()) return 'a socket';
  return 'a special file';
}

/** `size` bytes from the start of the file (fewer if it shrank while being read). */
function readAll(fd: number, size: number, file: string, ErrorClass: ErrorClass): Buffer {
  const buffer = Buffer.allocUnsafe(size);
  let offset = 0;
  try {
    while (offset < size) {
      const read = readSync(fd, buffer, offset, size - offset, offset);
      if (read === 0) break;
      offset += read;
    }
  } catch (error) {
    throw new ErrorClass(`${file}: cannot read: ${describeFileError(error)}`);
  }
  return offset === size ? buffer : buffer.subarray(0, offset);
}

/** Where a path that a model file names relative to its folder leads. */
export type FolderPlace = { file: string } | { outside: string } | { error: unknown };

/**
 * Where `name`, a path relative to the folder `dir` (a weight shard, an ONNX external data
 * file), leads: its real path when that lies inside `dir`; `outside` (why) when it is absolute
 * or leads out by ".." or through a symbolic link; or the error that resolving it gave (a
 * missing file). A model file can so never make Strata read a file outside its folder.
 */
export function locateInFolder(dir: string, name: string): FolderPlace {
  if (path.isAbsolute(name) || path.win32.isAbsolute(name)) return { outside: 'an absolute path' };
  if (name.split(/[\\/]/).includes('..')) return { outside: 'a path through ".."' };
  let real: string;
  let realDir: string;
  try {
    realDir = realpathSync(dir);
    real = realpathSync(path.join(dir, name));
  } catch (error) {
    return { error };
  }
  const relative = path.relative(realDir, real);
  return relative.split(path.sep)[0] === '..' || path.isAbsolute(relative) ? { outside: `a symbolic link to ${real}` } : { file: real };
}
