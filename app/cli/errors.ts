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

/**
 * What a bug report needs of an error that is a bug in Strata: its stack, and where in the
 * native engine it was raised when it came from there (engineSource, kept out of the message).
 */
export function internalErrorDetail(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const source = (error as { engineSource?: unknown }).engineSource;
  return (error.stack ?? error.message) + (typeof source === 'string' && source ? `\n    raised in the engine at ${source}` : '');
}

export function reportErrorAndExit(error: unknown): never {
  const line = userErrorLine(error);
  if (line !== undefined) process.stderr.write(`strata: ${line}\n`);
  else process.stderr.write(`strata: internal error: ${internalErrorDetail(error)}\n`);
  process.exit(1);
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').trim();
}
