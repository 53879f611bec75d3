// Reading a whole file where a failure is the user's to fix: the error, of the caller's
// class (so the CLI prints it as one line), names the file and the reason.
import { readFileSync } from 'node:fs';

export function readFileOrThrow(file: string, ErrorClass: new (message: string) => Error): Buffer {
  try {
    return readFileSync(file);
  } catch (error) {
    throw new ErrorClass(`${file}: cannot read: ${(error as Error).message}`);
  }
}
