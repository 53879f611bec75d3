// The CLI's top-level error handler. Errors that bad input causes (a StrataUserError, see
// app/model/errors.ts, or a Node error about a file the user named) print one line naming what
// is at fault, and exit 1; anything else is a bug in Strata and keeps its stack trace.
import { describeFileError } from '../io/read_file.ts';
import { StrataUserError, isUserError } from '../model/errors.ts';

/** A bad command line: a flag's value, a missing option, a --data that is neither file nor dataset. */
export class UserError extends StrataUserError {
  override name = 'UserError';
}

/** Node's codes for a file that cannot be opened; the error carries the path. */
const FILE_ERROR_CODES = new Set(['ENOENT', 'EACCES', 'EPERM', 'EISDIR', 'ENOTDIR', 'ELOOP', 'ENAMETOOLONG']);

/** The one line printed for an error the user can fix, or undefined for a bug in Strata. */
export function userErrorLine(error: unknown): string | undefined {
  if (isUserError(error)) return oneLine(error.message);
  const e = error as NodeJS.ErrnoException;
  if (e instanceof Error && e.code && FILE_ERROR_CODES.has(e.code) && typeof e.path === 'string') return `${e.path}: ${describeFileError(e)}`;
  return undefined;
}

export function reportErrorAndExit(error: unknown): never {
  const line = userErrorLine(error);
  if (line !== undefined) process.stderr.write(`strata: ${line}\n`);
  else process.stderr.write(`strata: internal error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').trim();
}
