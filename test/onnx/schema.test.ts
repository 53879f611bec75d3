// The ONNX schema layer: protobufjs with ONNX's own onnx.proto (1.12, from Debian). Files
// written by Python's onnx survive decode → encode → decode; 64-bit values stay exact; the
// constant tables here agree with the enums of that onnx.proto and name the newer types too;
// fields of newer ONNX releases are skipped.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';
import { ndarray } from '../../app/data/ndarray.ts';
import { makeAttribute, makeGraph, makeModel, makeNode, makeTensor, makeTensorValueInfo } from '../../app/onnx/helper.ts';
import { describeModel, parseOnnxModel } from '../../app/onnx/inspect.ts';
import { AttributeType, DataType, decodeModel, encodeModel } from '../../app/onnx/schema.ts';
import { ELEMENT_TYPES, arrayToTensor, tensorToArray } from '../../app/onnx/tensor.ts';

const FIXTURES = fileURLToPath(new URL('../fixtures/onnx/', import.meta.url));
const PROTO = fileURLToPath(new URL('../../app/onnx/onnx.proto', import.meta.url));

describe('schema: protobufjs with onnx.proto', () => {
  test('files written by Python onnx survive decode → encode → decode', () => {
    for (const name of ['matmul_add.onnx', 'conv_net.onnx', 'custom_ops.onnx', 'external_data.onnx', 'symbolic_dims.onnx']) {
      const first = decodeModel(readFileSync(path.join(FIXTURES, name)));
      const again = decodeModel(encodeModel(first));
      assert.deepEqual(again, first, name);
    }
  });

  test('64-bit integers stay exact, from bigint or number', () => {
    const big = 2n ** 62n + 3n;
    const graph = makeGraph(
      [makeNode('Slice', ['x', 's', 'e'], ['y'], { attributes: { extremes: [0, 1] } })],
      'g',
      [makeTensorValueInfo('x', DataType.FLOAT, ['n', 3])],
      [makeTensorValueInfo('y', DataType.FLOAT, null)],
    );
    graph.node![0]!.attribute!.push({ name: 'limits', type: AttributeType.INTS, ints: [-(2n ** 63n), 2n ** 63n - 1n, 5] });
    graph.initializer = [{ name: 'e', dataType: DataType.INT64, dims: [2], int64Data: [9223372036854775807n, -1] }];
    const model = decodeModel(encodeModel({ ...makeModel(graph), irVersion: 8, modelVersion: big }));
    assert.equal(model.modelVersion, big);
    assert.equal(model.irVersion, 8n);
    assert.deepEqual(model.graph!.node![0]!.attribute![1]!.ints, [-(2n ** 63n), 2n ** 63n - 1n, 5n]);
    assert.deepEqual([...tensorToArray(model.graph!.initializer![0]!).data], [9223372036854775807n, -1n]);
    const d = describeModel(model);
    assert.equal(d.modelVersion, '4611686018427387907');
    assert.deepEqual(d.graph.nodes[0]!.attributes[1]!.value, ['-9223372036854775808', '9223372036854775807', 5]);
  });

  test('onnx.helper-style builders: every attribute kind reads back', () => {
    const tensor = makeTensor('t', ndarray('int32', [2], new Int32Array([4, -5])));
    const sub = makeGraph([makeNode('Identity', ['a'], ['b'])], 'body', [], [makeTensorValueInfo('b', DataType.FLOAT, [1])]);
    const attributes = {
      i: 3,
      f: 0.25,
      whole: { float: 2 },
      s: 'same',
      ints: [1, -2],
      floats: [0.5, 1.5],
      wholeFloats: { floats: [1, 2] },
      strings: ['a', 'b'],
      t: tensor,
      g: sub,
    };
    const graph = makeGraph([makeNode('Custom', ['x'], ['y'], { domain: 'my.ops', name: 'n', attributes })], 'g', [makeTensorValueInfo('x', DataType.FLOAT, [2])], [makeTensorValueInfo('y', DataType.FLOAT, [2])]);
    const model = makeModel(graph, { opsetImports: [{ domain: '', version: 17 }, { domain: 'my.ops', version: 1 }], metadata: { keras: '{"class_name": "Sequential"}' } });
    const d = describeModel(parseOnnxModel(encodeModel(model)));
    const values = Object.fromEntries(d.graph.nodes[0]!.attributes.map((a) => [a.name, [a.type, a.type === 'GRAPH' ? (a.value as { name: string }).name : a.value]]));
    assert.deepEqual(values, {
      i: ['INT', 3],
      f: ['FLOAT', 0.25],
      whole: ['FLOAT', 2],
      s: ['STRING', 'same'],
      ints: ['INTS', [1, -2]],
      floats: ['FLOATS', [0.5, 1.5]],
      wholeFloats: ['FLOATS', [1, 2]],
      strings: ['STRINGS', ['a', 'b']],
      t: ['TENSOR', { name: 't', type: 'int32', shape: [2], elements: 2, bytes: 8, values: [4, -5] }],
      g: ['GRAPH', 'body'],
    });
    assert.deepEqual(d.metadata, [{ key: 'keras', value: '{"class_name": "Sequential"}' }]);
    assert.equal(d.producer.name, 'strata');
    assert.deepEqual(makeAttribute('x', []), { name: 'x', type: AttributeType.INTS, ints: [] });
  });

  test('tensors: raw_data and typed fields, every dtype Strata holds', () => {
    const samples = {
      float32: new Float32Array([1.5, -2]),
      float64: new Float64Array([1e300, -0.5]),
      int8: new Int8Array([-128, 127]),
      uint8: new Uint8Array([0, 255]),
      int16: new Int16Array([-3, 4]),
      uint16: new Uint16Array([65535, 1]),
      int32: new Int32Array([-7, 8]),
      uint32: new Uint32Array([4294967295, 2]),
      int64: new BigInt64Array([-(2n ** 63n), 9n]),
      uint64: new BigUint64Array([2n ** 64n - 1n, 0n]),
      bool: new Uint8Array([1, 0]),
    };
    for (const [dtype, data] of Object.entries(samples)) {
      const tensor = arrayToTensor('t', ndarray(dtype as keyof typeof samples, [2, 1], data));
      const back = tensorToArray(decodeModel(encodeModel({ irVersion: 8, graph: { initializer: [tensor] } })).graph!.initializer![0]!);
      assert.deepEqual([back.dtype, back.shape, [...back.data]], [dtype, [2, 1], [...data]], dtype);
    }
    assert.deepEqual([...tensorToArray({ dataType: DataType.FLOAT, dims: [3], floatData: [1, 2, 3] }).data], [1, 2, 3]);
    assert.deepEqual([...tensorToArray({ dataType: DataType.BOOL, dims: [2], int32Data: [1, 0] }).data], [1, 0]);
    assert.deepEqual([...tensorToArray({ dataType: DataType.UINT32, dims: [1], uint64Data: [7n] }).data], [7]);
    assert.throws(() => tensorToArray({ name: 'w', dataType: DataType.FLOAT, dims: [4], floatData: [1] }), /tensor 'w': 1 elements stored, dims \[4\] need 4/);
    assert.throws(() => tensorToArray({ name: 'h', dataType: DataType.FLOAT16, dims: [1] }), /tensor 'h': element type float16 cannot be read/);
  });

  test('the tables agree with onnx.proto and name the element types of newer releases', () => {
    const root = protobuf.loadSync(PROTO);
    const dataTypes: Record<string, number> = { ...root.lookupEnum('onnx.TensorProto.DataType').values };
    // onnx.proto 1.12 ends at BFLOAT16; DataType and ELEMENT_TYPES go on with later releases'.
    const older = Object.fromEntries(Object.entries(DataType).filter(([, v]) => v <= DataType.BFLOAT16));
    assert.deepEqual(dataTypes, older);
    const known = Object.keys(ELEMENT_TYPES).map(Number).sort((a, b) => a - b);
    assert.deepEqual(known, Object.values(DataType).filter((v) => v !== 0));
    assert.deepEqual({ ...root.lookupEnum('onnx.AttributeProto.AttributeType').values }, AttributeType);
  });

  test('fields and element types of newer ONNX releases: skipped or kept as numbers', () => {
    // A node with metadata_props (NodeProto field 9, ONNX 1.16) holding a float8 tensor
    // (DataType 17, ONNX 1.14), written field by field as a newer onnx would.
    const entry = protobuf.Writer.create().uint32((1 << 3) | 2).string('origin').uint32((2 << 3) | 2).string('torch').finish();
    const tensor = protobuf.Writer.create().uint32((1 << 3) | 0).int64(4).uint32((2 << 3) | 0).int32(DataType.FLOAT8E4M3FN).uint32((8 << 3) | 2).string('w8').uint32((9 << 3) | 2).bytes(new Uint8Array([1, 2, 3, 4])).finish();
    const node = protobuf.Writer.create().uint32((1 << 3) | 2).string('x').uint32((2 << 3) | 2).string('y').uint32((4 << 3) | 2).string('Identity').uint32((9 << 3) | 2).bytes(entry).finish();
    const graph = protobuf.Writer.create().uint32((1 << 3) | 2).bytes(node).uint32((2 << 3) | 2).string('g').uint32((5 << 3) | 2).bytes(tensor).finish();
    const bytes = protobuf.Writer.create().uint32((1 << 3) | 0).int64(10).uint32((7 << 3) | 2).bytes(graph).finish();
    const model = decodeModel(bytes);
    assert.deepEqual(model.graph!.node, [{ input: ['x'], output: ['y'], attribute: [], opType: 'Identity' }], 'metadata_props skipped');
    const d = describeModel(model);
    assert.equal(d.irVersion, 10);
    assert.deepEqual(d.graph.initializers, [{ name: 'w8', type: 'float8e4m3fn', shape: [4], elements: 4, bytes: 4 }]);
    assert.throws(() => tensorToArray(model.graph!.initializer![0]!), /tensor 'w8': element type float8e4m3fn cannot be read/);
  });
});
