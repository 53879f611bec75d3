// The error hierarchy and the CLI's top-level handler: every error bad input causes is a
// StrataUserError (printed as one line), Node's errors about a user's file are one line too,
// and anything else is an internal error.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ModelFileError } from '../../app/cli/load_model.ts';
import { UserError, internalErrorDetail, userErrorLine } from '../../app/cli/errors.ts';
import { DataFormatError, DataValueError } from '../../app/data/errors.ts';
import { NpyFormatError } from '../../app/data/npy.ts';
import { SaveError } from '../../app/io/atomic_write.ts';
import { ConfigError, FileError, FormatError, LimitError, ShapeError, StrataUserError, ValueError } from '../../app/model/errors.ts';
import { OnnxFormatError } from '../../app/onnx/errors.ts';
import { RuntimeSetupError } from '../../app/runtime/session.ts';
import { InputError } from '../../app/runtime/validate.ts';

describe('user errors', () => {
  test('every kind is a StrataUserError and keeps the name tests and callers key on', () => {
    const kinds: [new (message: string) => Error, string][] = [
      [ValueError, 'ValueError'],
      [ShapeError, 'ShapeError'],
      [ConfigError, 'ConfigError'],
      [FormatError, 'FormatError'],
      [FileError, 'FileError'],
      [LimitError, 'LimitError'],
      [DataFormatError, 'FormatError'],
      [DataValueError, 'ValueError'],
      [NpyFormatError, 'FormatError'],
      [OnnxFormatError, 'FormatError'],
      [InputError, 'ShapeError'],
      [SaveError, 'SaveError'],
      [RuntimeSetupError, 'UserError'],
      [UserError, 'UserError'],
      [ModelFileError, 'ModelFileError'],
    ];
    for (const [Kind, name] of kinds) {
      const error = new Kind('x.npy: bad');
      assert.ok(error instanceof StrataUserError, Kind.name);
      assert.equal(error.name, name, Kind.name);
      assert.equal(userErrorLine(error), 'x.npy: bad', Kind.name);
    }
    assert.ok(new DataFormatError('') instanceof FormatError);
    assert.ok(new InputError('') instanceof ShapeError);
  });

  test('the place at fault travels with the error', () => {
    assert.deepEqual(new LimitError('d: too big', { layer: 'd', field: 'kernel' }).context, { layer: 'd', field: 'kernel' });
  });

  test('a message is printed on one line', () => {
    assert.equal(userErrorLine(new FormatError('a.csv: line 3:\n  bad cell')), 'a.csv: line 3: bad cell');
  });

  test("Node's errors about a file name the file; errors from another copy of Strata's modules are known by name", () => {
    const missing = Object.assign(new Error("ENOENT: no such file or directory, open 'x.onnx'"), { code: 'ENOENT', path: 'x.onnx' });
    assert.equal(userErrorLine(missing), 'x.onnx: no such file');
    const denied = Object.assign(new Error('EACCES'), { code: 'EACCES', path: '/root/m.json' });
    assert.equal(userErrorLine(denied), '/root/m.json: permission denied');
    const foreign = Object.assign(new Error('dense: units must be a positive integer, got 0'), { name: 'ValueError' });
    assert.equal(userErrorLine(foreign), 'dense: units must be a positive integer, got 0');
  });

  test('anything else is a bug in Strata: no one-line form', () => {
    assert.equal(userErrorLine(new TypeError("Cannot read properties of undefined (reading 'shape')")), undefined);
    assert.equal(userErrorLine(new RangeError('Invalid typed array length: 100000000000')), undefined);
    assert.equal(userErrorLine(Object.assign(new Error('spawn failed'), { code: 'ENOENT' })), undefined, 'no path: not a file the user named');
    assert.equal(userErrorLine('a string'), undefined);
  });

  test("a bug's report has its stack, and where the engine raised it when it came from there", () => {
    const engine = Object.assign(new Error('Conv node \'c\': weight [3] does not fit input [1,2]'), { engineSource: 'kernels_nn.cpp:133' });
    const detail = internalErrorDetail(engine);
    assert.ok(detail.startsWith(engine.stack!), detail);
    assert.match(detail, /\n {4}raised in the engine at kernels_nn\.cpp:133$/);
    const plain = new TypeError('x is undefined');
    assert.equal(internalErrorDetail(plain), plain.stack);
    assert.equal(internalErrorDetail('a string'), 'a string');
  });
});
