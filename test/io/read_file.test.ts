// The one helper every reader uses: regular files only (a FIFO, a device or a folder is refused
// before anything is read), a size limit, one-line errors; and locateInFolder, which keeps the
// paths a model file names inside the model's folder.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { locateInFolder, readFileOrThrow } from '../../app/io/read_file.ts';
import { FileError, FormatError, LimitError, StrataUserError } from '../../app/model/errors.ts';

const scratch = mkdtempSync(path.join(tmpdir(), 'strata-read-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

function refused(file: string, pattern: RegExp, ErrorClass: new (message: string) => Error = FileError): void {
  assert.throws(
    () => readFileOrThrow(file, ErrorClass),
    (error: Error) => error instanceof StrataUserError && pattern.test(error.message) && !error.message.includes('\n'),
  );
}

describe('readFileOrThrow', () => {
  test('reads a regular file whole', () => {
    const file = path.join(scratch, 'data.bin');
    writeFileSync(file, Buffer.from([1, 2, 3]));
    assert.deepEqual([...readFileOrThrow(file)], [1, 2, 3]);
  });

  test('refuses a FIFO without waiting for a writer, a character device and a folder', () => {
    const fifo = path.join(scratch, 'pipe.npy');
    assert.equal(spawnSync('mkfifo', [fifo]).status, 0, 'mkfifo');
    refused(fifo, /pipe\.npy: cannot read: it is a FIFO \(named pipe\), not a regular file$/);
    refused('/dev/zero', /^\/dev\/zero: cannot read: it is a character device, not a regular file$/);
    refused(scratch, /cannot read: it is a folder, not a regular file$/);
  });

  test('a missing file, in the caller\'s error class', () => {
    refused(path.join(scratch, 'absent.csv'), /absent\.csv: cannot read: no such file$/, FormatError);
    assert.throws(() => readFileOrThrow(path.join(scratch, 'absent.csv'), FormatError), FormatError);
  });

  test('a file over the limit is a LimitError before it is read', () => {
    const file = path.join(scratch, 'big.json');
    writeFileSync(file, Buffer.alloc(2048));
    assert.throws(() => readFileOrThrow(file, FileError, { limit: 1024 }), (error: Error) => error instanceof LimitError && /big\.json: 2\.00 KB, more than the 1\.00 KB/.test(error.message));
    assert.equal(readFileOrThrow(file, FileError, { limit: 2048 }).length, 2048);
  });
});

describe('locateInFolder', () => {
  const model = path.join(scratch, 'model');
  mkdirSync(path.join(model, 'shards'), { recursive: true });
  writeFileSync(path.join(model, 'shards', 'a.bin'), 'a');
  writeFileSync(path.join(scratch, 'secret.txt'), 'secret');
  symlinkSync(path.join(scratch, 'secret.txt'), path.join(model, 'out.bin'));
  symlinkSync(path.join(model, 'shards', 'a.bin'), path.join(model, 'in.bin'));

  test('a file inside the folder, directly or through a link that stays inside', () => {
    assert.ok('file' in locateInFolder(model, 'shards/a.bin'));
    assert.ok('file' in locateInFolder(model, 'in.bin'));
  });

  test('absolute paths, ".." and links that lead out are outside', () => {
    assert.deepEqual(locateInFolder(model, '/etc/passwd'), { outside: 'an absolute path' });
    assert.deepEqual(locateInFolder(model, '../secret.txt'), { outside: 'a path through ".."' });
    assert.deepEqual(locateInFolder(model, 'shards/../../secret.txt'), { outside: 'a path through ".."' });
    assert.deepEqual(locateInFolder(model, 'shards\\..\\..\\secret.txt'), { outside: 'a path through ".."' });
    assert.match((locateInFolder(model, 'out.bin') as { outside: string }).outside, /^a symbolic link to .*secret\.txt$/);
  });

  test('a missing file is the error resolving it', () => {
    const place = locateInFolder(model, 'nope.bin');
    assert.equal(((place as { error: NodeJS.ErrnoException }).error).code, 'ENOENT');
  });
});
