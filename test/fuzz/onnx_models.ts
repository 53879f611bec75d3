// ONNX models generated whole for fuzzing inspection and shape inference: graphs of standard
// operators wired between a few value names, with attributes, dims and tensors chosen from
// the values that break readers (negative and huge dims, ranks that disagree with axes, tensors
// whose data does not match their dims, every data type number and some that do not exist).
import fc from 'fast-check';
import { AttributeType, type AttributeProto, type ModelProto, type NodeProto, type TensorProto, type ValueInfoProto } from '../../app/onnx/schema.ts';

const NAMES = ['x', 'y', 'z', 'w', 'shape', 'axes', ''];
const OPERATORS = [
  'Add', 'Relu', 'Equal', 'ReduceSum', 'ReduceMean', 'ArgMax', 'Conv', 'ConvTranspose', 'MaxPool', 'GlobalAveragePool', 'BatchNormalization',
  'LayerNormalization', 'Dropout', 'Gemm', 'MatMul', 'Flatten', 'Concat', 'Reshape', 'Transpose', 'Squeeze', 'Unsqueeze', 'Shape', 'Size',
  'Gather', 'GatherElements', 'Constant', 'ConstantOfShape', 'Slice', 'Split', 'Pad', 'Cast', 'CastLike', 'Where', 'Expand', 'Tile', 'TopK',
  'Resize', 'NonZero', 'Range', 'Einsum', 'Loop', 'NoSuchOp',
];
const ATTRIBUTE_NAMES = ['axis', 'axes', 'perm', 'shape', 'kernel_shape', 'pads', 'strides', 'dilations', 'group', 'k', 'value', 'to', 'keepdims', 'split', 'allowzero', 'auto_pad', 'transA', 'transB', 'output_padding', 'output_shape', 'ceil_mode', 'mode', 'value_ints', 'value_int'];

const smallInt = fc.oneof(fc.integer({ min: -4, max: 8 }), fc.constantFrom(2 ** 31 - 1, -(2 ** 31), 2 ** 40, Number.MAX_SAFE_INTEGER));
const ints = fc.array(smallInt, { maxLength: 6 });
const floats = fc.array(fc.oneof(fc.float({ noDefaultInfinity: false }), fc.constantFrom(0, 1, -1)), { maxLength: 4 });

function tensor(): fc.Arbitrary<TensorProto> {
  return fc.record(
    {
      name: fc.constantFrom(...NAMES),
      dataType: fc.integer({ min: 0, max: 26 }),
      dims: fc.array(smallInt, { maxLength: 4 }),
      int64Data: ints,
      int32Data: ints.map((list) => list.map((v) => v | 0)),
      floatData: floats,
      rawData: fc.uint8Array({ maxLength: 64 }),
      dataLocation: fc.constantFrom(0, 1, 7),
      externalData: fc.array(
        fc.record({ key: fc.constantFrom('location', 'offset', 'length', 'checksum'), value: fc.constantFrom('w.bin', '../w.bin', '/etc/passwd', '-1', '1e30', 'x', '') }),
        { maxLength: 3 },
      ),
    },
    { requiredKeys: ['name', 'dataType', 'dims'] },
  );
}

const attribute: fc.Arbitrary<AttributeProto> = fc.record(
  {
    name: fc.constantFrom(...ATTRIBUTE_NAMES),
    type: fc.constantFrom(0, AttributeType.INT, AttributeType.INTS, AttributeType.FLOAT, AttributeType.STRING, AttributeType.TENSOR, 99),
    i: smallInt,
    ints,
    f: fc.float(),
    floats,
    s: fc.constantFrom('NOTSET', 'SAME_UPPER', 'VALID', 'nearest', '', '\u00ff').map((s) => new TextEncoder().encode(s)),
    t: tensor(),
  },
  { requiredKeys: ['name'] },
);

const node: fc.Arbitrary<NodeProto> = fc.record(
  {
    opType: fc.constantFrom(...OPERATORS),
    domain: fc.constantFrom('', '', '', 'ai.onnx', 'com.example'),
    input: fc.array(fc.constantFrom(...NAMES), { maxLength: 5 }),
    output: fc.array(fc.constantFrom(...NAMES), { minLength: 1, maxLength: 3 }),
    attribute: fc.array(attribute, { maxLength: 4 }),
  },
  { requiredKeys: ['opType', 'input', 'output'] },
);

const dim = fc.oneof(fc.record({ dimValue: smallInt }), fc.record({ dimParam: fc.constantFrom('batch', 'N', '') }), fc.constant({}));
const valueInfo: fc.Arbitrary<ValueInfoProto> = fc.record({
  name: fc.constantFrom(...NAMES),
  type: fc.oneof(
    fc.record({ tensorType: fc.record({ elemType: fc.integer({ min: 0, max: 26 }), shape: fc.record({ dim: fc.array(dim, { maxLength: 5 }) }) }, { requiredKeys: ['elemType'] }) }),
    fc.constant({ sequenceType: { elemType: { tensorType: { elemType: 1 } } } }),
    fc.constant({}),
  ),
});

/** A whole ModelProto: IR version, opsets, one graph of up to 8 nodes, its values and initializers. */
export function onnxModel(): fc.Arbitrary<ModelProto> {
  return fc.record({
    irVersion: fc.constantFrom(3, 7, 8, 10),
    opsetImport: fc.array(fc.record({ domain: fc.constantFrom('', 'ai.onnx', 'com.example'), version: fc.constantFrom(1, 7, 11, 13, 18, 21, 0, -1, 10000) }), { minLength: 1, maxLength: 2 }),
    graph: fc.record({
      name: fc.constantFrom('g', ''),
      node: fc.array(node, { maxLength: 8 }),
      input: fc.array(valueInfo, { maxLength: 3 }),
      output: fc.array(valueInfo, { maxLength: 2 }),
      valueInfo: fc.array(valueInfo, { maxLength: 2 }),
      initializer: fc.array(tensor(), { maxLength: 3 }),
    }),
  });
}
