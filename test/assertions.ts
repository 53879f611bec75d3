// Assertions shared by test files.
import assert from 'node:assert/strict';

/** `run` throws a FormatError (a bad file) whose one-line message matches `pattern`. */
export function assertFormatError(run: () => unknown, pattern: RegExp): void {
  assert.throws(run, (error: Error) => {
    assert.equal(error.name, 'FormatError', `${error.name}: ${error.message}`);
    assert.match(error.message, pattern);
    assert.doesNotMatch(error.message, /\n/);
    return true;
  });
}
