// Errors a user can fix (a bad model file, a wrong shape) are printed as one line naming
// what is at fault; anything else is a bug in Strata and keeps its stack trace.
export class UserError extends Error {
  override name = 'UserError';
}

/** Errors thrown by Strata's own modules for bad input carry one of these names. */
const USER_ERROR_NAMES = new Set(['UserError', 'ValueError', 'ShapeError', 'ConfigError', 'FormatError', 'SaveError', 'TrainingError', 'EngineSetupError', 'DataValueError']);

export function reportErrorAndExit(error: unknown): never {
  if (error instanceof Error && USER_ERROR_NAMES.has(error.name)) {
    process.stderr.write(`strata: ${error.message}\n`);
  } else {
    process.stderr.write(`strata: internal error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  }
  process.exit(1);
}
