// The errors Strata raises for bad input, one class per kind of fault. Every message names the
// file, field, layer or shape at fault and, where there is one, what would be valid (as
// TensorFlow.js's "use the functional API"). The CLI prints a StrataUserError as one line;
// any other error is a bug in Strata and keeps its stack. This module imports nothing, so the
// model API, the loaders, the runtime and the CLI all share it.

/** Where the fault is, for callers that point at it (a window highlighting a layer or a file). */
export interface ErrorContext {
  /** The file (or folder) at fault. */
  file?: string;
  /** The layer at fault. */
  layer?: string;
  /** The argument, config key or manifest entry at fault, e.g. "kernel_size" or "weightsManifest[0].paths[1]". */
  field?: string;
}

/** Base of every error that bad input causes: the input is at fault, not Strata. */
export class StrataUserError extends Error {
  override name = 'StrataUserError';
  readonly context: ErrorContext;

  constructor(message: string, context: ErrorContext = {}) {
    super(oneLine(message));
    this.context = context;
  }
}

/**
 * The message on one line: line breaks (and the spaces around them) become one space, as the
 * CLI prints them, and other control characters are written as JSON escapes ("\\u001b").
 * Messages quote names and values read from files (a zip member's name, a .npy header), and a
 * file's bytes must not break the one line an error is, or drive the terminal.
 */
function oneLine(message: string): string {
  return message.replace(/\s*[\n\r]\s*/g, ' ').replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, (c) => JSON.stringify(c).slice(1, -1));
}

/** A bad argument or a wrong model structure. */
export class ValueError extends StrataUserError {
  override name = 'ValueError';
}

/** A tensor shape that a layer cannot accept. */
export class ShapeError extends StrataUserError {
  override name = 'ShapeError';
}

/** A Keras JSON config that Strata cannot read (unknown class, unknown or unsupported key). */
export class ConfigError extends StrataUserError {
  override name = 'ConfigError';
}

/** A file whose content is not what its format says: wrong magic, truncated, sizes that disagree. */
export class FormatError extends StrataUserError {
  override name = 'FormatError';
}

/** A file that cannot be read: missing, a folder or a device, not permitted, or outside the folder it must be in. */
export class FileError extends StrataUserError {
  override name = 'FileError';
}

/** Input beyond one of Strata's resource limits (limits.ts): a file, an array or a weight too large, models nested too deep. */
export class LimitError extends StrataUserError {
  override name = 'LimitError';
}

/** Names of the classes above and of the CLI's own, for errors from another copy of these modules (a model file importing an installed 'strata'). */
export const USER_ERROR_NAMES: ReadonlySet<string> = new Set([
  'StrataUserError',
  'ValueError',
  'ShapeError',
  'ConfigError',
  'FormatError',
  'FileError',
  'LimitError',
  'UserError',
  'SaveError',
  'TrainingError',
  'EngineSetupError',
  'DataValueError',
]);

/** True for errors that bad input causes (see StrataUserError). */
export function isUserError(error: unknown): error is Error {
  return error instanceof StrataUserError || (error instanceof Error && USER_ERROR_NAMES.has(error.name));
}

/**
 * The same error with `prefix` (a file, a file and line) in front of its message, for errors
 * raised deep inside a reader that does not know the file. Other errors pass unchanged.
 */
export function prefixUserError(error: unknown, prefix: string, context: ErrorContext = {}): unknown {
  if (!(error instanceof StrataUserError) || error.message.startsWith(prefix)) return error;
  const Kind = error.constructor as new (message: string, context?: ErrorContext) => StrataUserError;
  return new Kind(`${prefix}: ${error.message}`, { ...context, ...error.context });
}

/** Throws a ValueError unless `value` is a positive integer (TensorFlow.js's assertPositiveInteger). */
export function assertPositiveInteger(value: unknown, field: string, layer: string): asserts value is number {
  if (!Number.isSafeInteger(value) || (value as number) <= 0) {
    throw new ValueError(`${layer}: ${field} must be a positive integer, got ${JSON.stringify(value) ?? String(value)}`, { layer, field });
  }
}
