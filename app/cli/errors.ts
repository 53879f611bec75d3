// Errors a user can fix (a bad model file, a wrong shape) are printed as one line naming
// what is at fault; anything else is a bug in Strata and keeps its stack trace.
export class UserError extends Error {
  override name = 'UserError';
}

/** Errors thrown by Strata's own modules for bad input carry one of these names. */
const USER_ERROR_NAMES = new Set(['UserError', 'ValueError', 'ShapeError', 'ConfigError', 'FormatError', 'SaveError', 'TrainingError', 'EngineSetupError', 'DataValueError']);

/** The one line printed for an error the user can fix, or undefined for a bug in Strata. */
export function userErrorLine(error: unknown): string | undefined {
  return error instanceof Error && USER_ERROR_NAMES.has(error.name) ? error.message : undefined;
}

export function reportErrorAndExit(error: unknown): never {
  const line = userErrorLine(error);
  if (line !== undefined) {
    process.stderr.write(`strata: ${line}\n`);
  } else {
    process.stderr.write(`strata: internal error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  }
  process.exit(1);
}
