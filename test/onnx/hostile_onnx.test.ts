// ONNX files whose declarations cannot be true: tensors with negative dims or without their
// data are flagged by inspect (text and --json), external data outside the model's folder is
// listed but never looked at or loaded, and an exported file with damaged Strata metadata is
// one error naming the entry.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { formatReport } from '../../app/cli/commands/inspect.ts';
import { Dense, Sequential, StrataUserError } from '../../app/model/index.ts';
import { makeGraph, makeModel, makeTensorValueInfo } from '../../app/onnx/helper.ts';
import { inspectOnnxFile } from '../../app/onnx/inspect.ts';
import { DataLocation, DataType, decodeModel, encodeModel, type TensorProto } from '../../app/onnx/schema.ts';
import { tensorProblem } from '../../app/onnx/tensor.ts';
import { OnnxSession } from '../../app/runtime/session.ts';
import { modelFromOnnx } from '../../app/translate/from_onnx.ts';
import { exportOnnx } from '../../app/translate/to_onnx.ts';

const scratch = mkdtempSync(path.join(tmpdir(), 'strata-hostile-onnx-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

function external(name: string, location: string, extra: Record<string, string> = {}): TensorProto {
  const entries = Object.entries({ location, ...extra }).map(([key, value]) => ({ key, value }));
  return { name, dataType: DataType.FLOAT, dims: [3], dataLocation: DataLocation.EXTERNAL, externalData: entries };
}

/** y = x + w, with `initializer` as w, written to `<scratch>/<dir>/model.onnx`. */
function addModel(initializer: TensorProto, dir: string): string {
  const graph = makeGraph(
    [{ opType: 'Add', input: ['x', 'w'], output: ['y'] }],
    'g',
    [makeTensorValueInfo('x', DataType.FLOAT, [3])],
    [makeTensorValueInfo('y', DataType.FLOAT, [3])],
    [initializer],
  );
  mkdirSync(path.join(scratch, dir), { recursive: true });
  const file = path.join(scratch, dir, 'model.onnx');
  writeFileSync(file, encodeModel(makeModel(graph)));
  return file;
}

describe('tensors whose dims and data disagree', () => {
  const cases: [TensorProto, RegExp][] = [
    [{ name: 'neg', dataType: DataType.FLOAT, dims: [-3], rawData: new Uint8Array(12) }, /dims \[-3\] has a negative size/],
    [{ name: 'empty', dataType: DataType.FLOAT, dims: [1000] }, /holds no data; dims \[1000\] of float32 need 4000 bytes/],
    [{ name: 'short', dataType: DataType.INT64, dims: [4], rawData: new Uint8Array(8) }, /raw_data has 8 bytes, dims \[4\] of int64 need 32/],
    [{ name: 'few', dataType: DataType.INT32, dims: [2, 2], int32Data: [1, 2, 3] }, /3 elements stored, dims \[2, 2\] need 4/],
    [{ name: 'strings', dataType: DataType.STRING, dims: [2], stringData: [new Uint8Array([97])] }, /1 elements stored, dims \[2\] need 2/],
    [external('ext', 'w.bin', { length: '8' }), /dims \[3\] of float32 need 12 bytes, its external data is 8 bytes long/],
  ];

  test('tensorProblem says what cannot be right', () => {
    for (const [tensor, pattern] of cases) assert.match(tensorProblem(tensor) ?? 'accepted', pattern, tensor.name);
    assert.equal(tensorProblem({ name: 'ok', dataType: DataType.FLOAT, dims: [0] }), undefined);
    assert.equal(tensorProblem({ name: 'ok', dataType: DataType.FLOAT, dims: [2], floatData: [1, 2] }), undefined);
  });

  test('inspect flags them in text and --json, and leaves them out of the totals', () => {
    const description = inspectOnnxFile(addModel({ name: 'w', dataType: DataType.FLOAT, dims: [-3], rawData: new Uint8Array(12) }, 'negative'));
    assert.equal(description.graph.initializers[0]!.invalid, 'dims [-3] has a negative size');
    const report = formatReport(description);
    assert.match(report, /Initializers \(1\): 0 elements, 0 B; 1 INVALID \(not counted\)/);
    assert.match(report, /  w  float32  \(-3,\)  INVALID: dims \[-3\] has a negative size/);
    assert.doesNotMatch(report, /-3 elements|-12 B/);
    const empty = formatReport(inspectOnnxFile(addModel({ name: 'w', dataType: DataType.FLOAT, dims: [1000] }, 'empty')));
    assert.match(empty, /INVALID: holds no data; dims \[1000\] of float32 need 4000 bytes/);
    assert.doesNotMatch(empty, /3\.91 KB/);
  });
});

describe('external data outside the model\'s folder', () => {
  for (const [label, location] of [
    ['"..": ', '../../../../etc/hostname'],
    ['an absolute path: ', '/etc/hostname'],
  ] as const) {
    test(`${label}listed as outside, not looked at, and refused by predict before onnxruntime`, async () => {
      const file = addModel(external('w', location), `outside-${label.length}`);
      const description = inspectOnnxFile(file);
      assert.deepEqual(description.externalData, [{ tensor: 'w', location, offset: null, length: null, exists: null, outside: true }]);
      assert.match(formatReport(description), new RegExp(`w → ${location.replace(/[./]/g, '\\$&')}  OUTSIDE THE MODEL'S FOLDER \\(not read\\)`));
      await assert.rejects(OnnxSession.create(file), (error: Error) => error instanceof StrataUserError && /tensor 'w' keeps its data in '.*hostname', outside the model's folder/.test(error.message));
    });
  }
});

test('external data that is a FIFO inside the folder is refused before onnxruntime would wait on it', async () => {
  const file = addModel(external('w', 'w.bin'), 'fifo');
  assert.equal(spawnSync('mkfifo', [path.join(path.dirname(file), 'w.bin')]).status, 0);
  assert.equal(inspectOnnxFile(file).externalData[0]!.exists, true);
  await assert.rejects(OnnxSession.create(file), (error: Error) => error instanceof StrataUserError && /w\.bin: cannot read: it is a FIFO \(named pipe\), not a regular file/.test(error.message));
});

describe("an exported file whose Strata metadata was damaged", () => {
  const exported = decodeModel(exportOnnx(new Sequential([new Dense(2, { inputShape: [3], name: 'd' })], { name: 'tiny' })));
  const withWeights = (value: string) => {
    const copy = structuredClone(exported);
    copy.metadataProps = copy.metadataProps!.map((p) => (p.key === 'strata.weights' ? { key: p.key, value } : p));
    return encodeModel(copy);
  };

  test('each is one error naming the file and the entry', () => {
    const cases: [string, RegExp][] = [
      ['{not json', /^m\.onnx: metadata "strata\.weights" is not valid JSON/],
      ['{"a": 1}', /^m\.onnx: metadata "strata\.weights" is not a list/],
      ['[{"layer": 1}]', /^m\.onnx: metadata "strata\.weights" entry 0 is \{"layer":1\}, not/],
      ['[{"layer": "nope", "weight": "kernel", "initializer": "d/kernel", "layout": "keras"}]', /^m\.onnx: strata\.weights\[0\]: tiny: no layer named "nope"/],
    ];
    for (const [value, pattern] of cases) {
      assert.throws(() => modelFromOnnx(withWeights(value), 'm.onnx'), (error: Error) => error instanceof StrataUserError && pattern.test(error.message));
    }
  });
});
