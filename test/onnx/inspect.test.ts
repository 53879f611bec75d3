// ONNX reading: files written by the ONNX project's own Python helpers (see
// test/fixtures/onnx/make_fixtures.py) are described field by field; corrupt bytes of every
// kind are a one-line FormatError naming the file, never a crash or another error.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';
import { encodeModel, DataType } from '../../app/onnx/schema.ts';
import { makeGraph, makeModel, makeNode, makeTensorValueInfo } from '../../app/onnx/helper.ts';
import { type ModelDescription, describeModel, float32ToJSON, inspectOnnxFile, parseOnnxModel } from '../../app/onnx/inspect.ts';
import { tensorToArray } from '../../app/onnx/tensor.ts';
import { assertFormatError } from '../assertions.ts';

const FIXTURES = fileURLToPath(new URL('../fixtures/onnx/', import.meta.url));
const fixture = (name: string) => path.join(FIXTURES, name);
const scratch = mkdtempSync(path.join(tmpdir(), 'strata-onnx-'));
after(() => rmSync(scratch, { recursive: true, force: true }));


describe('inspect: files written by onnx.helper', () => {
  test('matmul_add: header, opsets, symbolic inputs, initializers, metadata', () => {
    const d = inspectOnnxFile(fixture('matmul_add.onnx'));
    assert.equal(d.irVersion, 8);
    assert.deepEqual(d.producer, { name: 'onnx-helper', version: '1.12.0' });
    assert.deepEqual(d.opsetImports, [{ domain: '', version: 17 }]);
    assert.equal(d.graph.name, 'matmul_add');
    assert.deepEqual(d.graph.inputs, [{ name: 'x', type: 'float32', shape: ['batch', 4] }]);
    assert.deepEqual(d.graph.outputs, [{ name: 'y', type: 'float32', shape: ['batch', 3] }]);
    assert.deepEqual(
      d.graph.nodes.map((n) => [n.name, n.opType, n.domain, n.inputs, n.outputs]),
      [
        ['dense/matmul', 'MatMul', '', ['x', 'W'], ['xw']],
        ['dense/add', 'Add', '', ['xw', 'b'], ['y']],
      ],
    );
    assert.deepEqual(d.graph.initializers, [
      { name: 'W', type: 'float32', shape: [4, 3], elements: 12, bytes: 48 },
      { name: 'b', type: 'float32', shape: [3], elements: 3, bytes: 12 },
    ]);
    assert.deepEqual(d.metadata, [
      { key: 'author', value: 'strata tests' },
      { key: 'formula', value: 'y = x @ W + b' },
    ]);
    assert.equal(d.fileBytes, readFileSync(fixture('matmul_add.onnx')).length);
    assert.deepEqual(d.externalData, []);
  });

  test('conv_net: attributes as plain values, value_info, operator counts', () => {
    const d = inspectOnnxFile(fixture('conv_net.onnx'));
    const conv = d.graph.nodes[0]!;
    assert.deepEqual(
      Object.fromEntries(conv.attributes.map((a) => [a.name, [a.type, a.value]])),
      { dilations: ['INTS', [1, 1]], kernel_shape: ['INTS', [3, 3]], pads: ['INTS', [1, 1, 1, 1]], strides: ['INTS', [1, 1]] },
    );
    const gemm = d.graph.nodes.find((n) => n.opType === 'Gemm')!;
    assert.deepEqual(gemm.attributes.map((a) => [a.name, a.type, a.value]), [['alpha', 'FLOAT', 1], ['beta', 'FLOAT', 1], ['transB', 'INT', 1]]);
    assert.deepEqual(d.graph.valueInfo, [{ name: 'c1', type: 'float32', shape: ['N', 4, 8, 8] }]);
    assert.deepEqual(d.graph.initializers.map((t) => [t.name, t.shape, t.elements]), [
      ['conv1.weight', [4, 3, 3, 3], 108],
      ['conv1.bias', [4], 4],
      ['fc.weight', [10, 64], 640],
      ['fc.bias', [10], 10],
    ]);
    assert.deepEqual(d.operators.map((o) => `${o.opType}:${o.count}:${o.standard}`).sort(), ['Conv:1:true', 'Flatten:1:true', 'Gemm:1:true', 'MaxPool:1:true', 'Relu:1:true', 'Softmax:1:true']);
  });

  test('custom_ops: unknown ops are listed, every attribute type decodes, subgraphs and functions', () => {
    const d = inspectOnnxFile(fixture('custom_ops.onnx'));
    assert.deepEqual(d.opsetImports.map((o) => o.domain), ['', 'com.example', 'com.example.functions']);
    const fancy = d.graph.nodes[0]!;
    assert.deepEqual([fancy.opType, fancy.domain, fancy.inputs], ['FancyOp', 'com.example', ['x', '', 'table']]);
    const attributes = Object.fromEntries(fancy.attributes.map((a) => [a.name, { type: a.type, value: a.value }]));
    assert.deepEqual(attributes, {
      alpha: { type: 'FLOAT', value: 0.1 },
      axes: { type: 'INTS', value: [0, -1, '9223372036854775807'] }, // beyond 2^53: exact, as a string
      bias: { type: 'TENSOR', value: { name: 'bias', type: 'float32', shape: [3], elements: 3, bytes: 12, values: [1.5, -2, 3] } },
      count: { type: 'INT', value: 3 },
      labels: { type: 'STRINGS', value: ['cat', 'dog'] },
      mode: { type: 'STRING', value: 'reflect' },
      weights: { type: 'FLOATS', value: [0.5, 0.25] },
    });
    const choose = d.graph.nodes[1]!;
    const branches = Object.fromEntries(choose.attributes.map((a) => [a.name, a.value as unknown as ModelDescription['graph']]));
    assert.deepEqual(branches['then_branch']!.nodes.map((n) => n.opType), ['Identity']);
    assert.deepEqual(branches['else_branch']!.outputs, [{ name: 'else_out', type: 'float32', shape: [2] }]);
    assert.deepEqual(d.graph.outputs[0], { name: 'fancy', type: 'float32', shape: [null, 'width'] });
    assert.deepEqual(d.graph.inputs[1], { name: 'cond', type: 'bool', shape: [] });
    assert.deepEqual(d.functions.map((f) => [f.domain, f.name, f.inputs, f.outputs, f.nodes.map((n) => n.opType)]), [
      ['com.example.functions', 'ScaleBy', ['X'], ['Y'], ['Constant', 'Mul']],
    ]);
    const uses = Object.fromEntries(d.operators.map((o) => [`${o.domain}.${o.opType}`, o]));
    assert.deepEqual(uses['com.example.FancyOp'], { domain: 'com.example', opType: 'FancyOp', count: 1, standard: false, localFunction: false });
    assert.equal(uses['com.example.functions.ScaleBy']!.localFunction, true);
    assert.equal(uses['.Neg']!.count, 1, 'ops inside subgraphs are counted');
    assert.equal(uses['.Mul']!.count, 1, 'ops inside functions are counted');
    const table = d.graph.initializers[0]!;
    assert.deepEqual([table.type, table.shape, table.bytes], ['int64', [2, 3], 48]);
  });

  test('symbolic and unknown dims', () => {
    const d = inspectOnnxFile(fixture('symbolic_dims.onnx'));
    assert.deepEqual(d.graph.inputs.map((v) => v.shape), [['batch', 'seq', 4], ['batch', 4]]);
    assert.deepEqual(d.graph.outputs[0]!.shape, ['batch', null]);
  });

  test('external data: references reported, existing or missing', () => {
    const present = inspectOnnxFile(fixture('external_data.onnx'));
    assert.deepEqual(present.externalData.map((r) => [r.tensor, r.location, r.length, r.exists]), [
      ['W', 'external_data.bin', 48, true],
      ['b', 'external_data.bin', 12, true],
    ]);
    assert.deepEqual(present.graph.initializers[0]!.external, present.externalData[0]);
    const missing = inspectOnnxFile(fixture('external_missing.onnx'));
    assert.deepEqual(missing.externalData.map((r) => [r.location, r.exists]), [['missing.bin', false], ['missing.bin', false]]);
  });

  test('descriptions are plain JSON', () => {
    for (const name of ['matmul_add.onnx', 'conv_net.onnx', 'custom_ops.onnx', 'symbolic_dims.onnx', 'external_data.onnx', 'embedding_lookup.onnx', 'two_outputs.onnx']) {
      const d = inspectOnnxFile(fixture(name));
      assert.deepEqual(JSON.parse(JSON.stringify(d)), d, name);
    }
  });

  test('initializer data written by numpy_helper reads back', () => {
    const model = parseOnnxModel(readFileSync(fixture('matmul_add.onnx')));
    const w = tensorToArray(model.graph!.initializer![0]!);
    assert.deepEqual(w.shape, [4, 3]);
    assert.deepEqual([...w.data], Array.from({ length: 12 }, (_, k) => Math.fround((Math.floor(k / 3) - (k % 3)) / 4 + 0.5)));
    const table = tensorToArray(parseOnnxModel(readFileSync(fixture('custom_ops.onnx'))).graph!.initializer![0]!);
    assert.deepEqual([table.dtype, [...table.data]], ['int64', [0n, 1n, 2n, 3n, 4n, 5n]]);
  });

  test('float32 attributes print as their shortest decimal', () => {
    assert.equal(float32ToJSON(Math.fround(0.1)), 0.1);
    assert.equal(float32ToJSON(Math.fround(1e-5)), 0.00001);
    assert.equal(float32ToJSON(Math.fround(3.14159265)), 3.1415927);
    assert.equal(float32ToJSON(Number.POSITIVE_INFINITY), 'Infinity');
  });
});

describe('inspect: not a model', () => {
  const write = (name: string, bytes: Uint8Array | string) => {
    const file = path.join(scratch, name);
    writeFileSync(file, bytes);
    return file;
  };

  test('empty file, missing file', () => {
    assertFormatError(() => inspectOnnxFile(write('empty.onnx', '')), /empty\.onnx: the file is empty/);
    assertFormatError(() => inspectOnnxFile(path.join(scratch, 'nowhere.onnx')), /nowhere\.onnx: cannot read/);
  });

  test('other formats are named', () => {
    assertFormatError(() => inspectOnnxFile(fixture('x_5x4.npy')), /x_5x4\.npy: not an ONNX model: this is a NumPy \.npy array/);
    assertFormatError(() => inspectOnnxFile(write('model.json', '  {"modelTopology": {}}')), /model\.json: .*JSON file/);
    assertFormatError(() => inspectOnnxFile(write('w.h5', Buffer.from('\x89HDF\r\n\x1a\n\0\0\0', 'latin1'))), /w\.h5: .*HDF5/);
    assertFormatError(() => inspectOnnxFile(write('a.zip', 'PK\x03\x04rest')), /a\.zip: .*zip archive/);
    assertFormatError(() => inspectOnnxFile(write('m.ort', Buffer.from('\x14\0\0\0ORTM\0\0\0\0', 'latin1'))), /m\.ort: .*ONNX Runtime \.ort model/);
    assertFormatError(() => inspectOnnxFile(write('m.tflite', Buffer.from('\x1c\0\0\0TFL3\0\0', 'latin1'))), /m\.tflite: .*TensorFlow Lite/);
    assertFormatError(() => inspectOnnxFile(write('text.onnx', 'hello, this is not a model at all')), /text\.onnx: not an ONNX model/);
  });

  test('every truncation of a model is an error or a model without its last fields', () => {
    const bytes = readFileSync(fixture('conv_net.onnx'));
    let decoded = 0;
    for (let length = 1; length < bytes.length; length++) {
      try {
        const model = parseOnnxModel(bytes.subarray(0, length), 'cut.onnx');
        decoded++;
        // Protobuf cannot tell a cut that falls between two top-level fields: those are
        // models missing fields that come after the graph and opset_import.
        assert.ok(model.graph && model.opsetImport!.length > 0);
      } catch (error) {
        assert.equal((error as Error).name, 'FormatError', String(error));
        assert.match((error as Error).message, /^cut\.onnx: /);
      }
    }
    assert.ok(decoded <= 2, `${decoded} truncations decoded`);
    assertFormatError(() => parseOnnxModel(bytes.subarray(0, bytes.length / 2), 'half.onnx'), /half\.onnx: .*truncated/);
  });

  test('random bytes', () => {
    let seed = 12345;
    const next = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
    for (let i = 0; i < 300; i++) {
      const bytes = Uint8Array.from({ length: 1 + Math.floor(next() * 2000) }, () => Math.floor(next() * 256));
      assertFormatError(() => parseOnnxModel(bytes, `random${i}.onnx`), new RegExp(`^random${i}\\.onnx: `));
    }
  });

  test('protobuf that is not a model', () => {
    const graph = makeGraph([makeNode('Relu', ['x'], ['y'])], 'g', [makeTensorValueInfo('x', DataType.FLOAT, [1])], [makeTensorValueInfo('y', DataType.FLOAT, [1])]);
    assertFormatError(() => parseOnnxModel(encodeModel({ graph }), 'a.onnx'), /a\.onnx: .*no ir_version/);
    assertFormatError(() => parseOnnxModel(encodeModel({ irVersion: 8, opsetImport: [{ domain: '', version: 17 }] }), 'b.onnx'), /b\.onnx: .*no graph/);
    assertFormatError(() => parseOnnxModel(encodeModel({ irVersion: 8, graph }), 'c.onnx'), /c\.onnx: .*requires opset_import/);
    assertFormatError(() => parseOnnxModel(encodeModel({ irVersion: 8, opsetImport: [{ version: 17 }], graph: { node: [{ input: ['x'] }] } }), 'd.onnx'), /d\.onnx: .*node #0 has no op_type/);
  });

  test('nested subgraphs: described in full, refused beyond protobuf\'s depth limit', () => {
    const nest = (levels: number) => {
      const leaf = () => makeGraph([makeNode('Relu', ['x'], ['y'])], 'leaf', [], [makeTensorValueInfo('y', DataType.FLOAT, [1])]);
      let graph = leaf();
      for (let depth = 0; depth < levels; depth++) {
        graph = makeGraph([makeNode('If', ['c'], ['y'], { attributes: { then_branch: graph, else_branch: leaf() } })], `level${depth}`, [], [makeTensorValueInfo('y', DataType.FLOAT, [1])]);
      }
      return makeModel(graph);
    };
    const d = describeModel(parseOnnxModel(encodeModel(nest(20)), 'nested.onnx'));
    assert.equal(d.operators.find((o) => o.opType === 'If')!.count, 20);
    assert.equal(d.operators.find((o) => o.opType === 'Relu')!.count, 21);
    // protobufjs refuses to encode it too; lift its limit to write the file.
    const limit = protobuf.util.recursionLimit;
    protobuf.util.recursionLimit = 10_000;
    let deep: Uint8Array;
    try {
      deep = encodeModel(nest(60));
    } finally {
      protobuf.util.recursionLimit = limit;
    }
    assertFormatError(() => parseOnnxModel(deep, 'deep.onnx'), /deep\.onnx: .*max depth exceeded/);
  });
});
