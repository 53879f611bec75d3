// Shape inference (app/onnx/shape_inference.ts) against two oracles: ONNX's own
// onnx.shape_inference.infer_shapes(data_prop=True) on files Python wrote (small graphs with
// onnx.helper, torchvision's resnet18 through torch.onnx.export), and onnxruntime running
// the small graphs, whose actual output shapes must match every dim inference claims to know,
// including those onnx leaves unknown.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import * as ort from 'onnxruntime-node';
import type { Dim } from '../../app/onnx/description.ts';
import { makeModel, makeNode, makeTensor, makeTensorValueInfo, makeGraph } from '../../app/onnx/helper.ts';
import { decodeModel, encodeModel, DataType, type ModelProto } from '../../app/onnx/schema.ts';
import { inferShapes, type InferredValue } from '../../app/onnx/shape_inference.ts';
import { elementTypeName } from '../../app/onnx/tensor.ts';
import { ndarray } from '../../app/data/ndarray.ts';
import { SMALL_GRAPHS, makeSmallGraphs, readExpected, resnet18Folder, type ExpectedShapes } from './foreign_models.ts';

const scratch = mkdtempSync(path.join(tmpdir(), 'strata-shapes-'));
after(() => rmSync(scratch, { recursive: true, force: true }));
before(() => makeSmallGraphs(scratch));

const load = (file: string): ModelProto => decodeModel(readFileSync(file));

/** onnx names dims it cannot know 'unk__N': those, like null, claim nothing. */
const claims = (d: number | string | null): boolean => d !== null && !(typeof d === 'string' && d.startsWith('unk__'));

/** Every value onnx infers is inferred here with the same type, the same rank and every dim onnx knows. */
function assertAgreesWithOnnx(inferred: Record<string, InferredValue>, expected: ExpectedShapes, what: string): void {
  const problems: string[] = [];
  for (const [name, [elemType, dims]] of Object.entries(expected)) {
    const ours = inferred[name];
    if (!ours) {
      problems.push(`${name}: not inferred (onnx: ${elementTypeName(elemType)} ${JSON.stringify(dims)})`);
      continue;
    }
    if (ours.type !== elementTypeName(elemType)) problems.push(`${name}: type ${ours.type}, onnx ${elementTypeName(elemType)}`);
    if (dims === null) continue;
    const agree = ours.shape !== null && ours.shape.length === dims.length && dims.every((d, i) => !claims(d) || ours.shape![i] === d);
    if (!agree) problems.push(`${name}: shape ${JSON.stringify(ours.shape)}, onnx ${JSON.stringify(dims)}`);
  }
  assert.deepEqual(problems.slice(0, 10), [], `${what}: ${problems.length} disagreements`);
}

describe('shape inference agrees with onnx.shape_inference', () => {
  for (const name of SMALL_GRAPHS) {
    test(`${name} (onnx.helper, Python)`, () => {
      const inferred = inferShapes(load(path.join(scratch, `${name}.onnx`)));
      assertAgreesWithOnnx(inferred, readExpected(path.join(scratch, `${name}.expected.json`)), name);
    });
  }

  test('torchvision resnet18 exported by torch.onnx.export: every value of its graph', () => {
    const folder = resnet18Folder();
    const model = load(path.join(folder, 'resnet18.onnx'));
    const inferred = inferShapes(model);
    const expected = readExpected(path.join(folder, 'resnet18.expected.json'));
    assertAgreesWithOnnx(inferred, expected, 'resnet18');
    // The export declares no intermediate value, so each node output is inferred: the whole graph.
    const outputs = model.graph!.node!.flatMap((n) => n.output ?? []).filter((name) => name !== 'logits');
    assert.ok(outputs.length >= 60, `${outputs.length} values`);
    assert.deepEqual(outputs.filter((name) => !inferred[name]), []);
    const flatten = model.graph!.node!.find((n) => n.opType === 'Flatten')!;
    assert.deepEqual(inferred[flatten.output![0]!], { type: 'float32', shape: ['batch', 512] });
  });
});

/** A concrete size for each symbol, to run the graphs. */
const SYMBOL_SIZES: Record<string, number> = { batch: 2, n: 3 };

/** The model with every inferred value also a graph output, so onnxruntime returns it. */
function exposeInferred(model: ModelProto, inferred: Record<string, InferredValue>): ModelProto {
  const graph = model.graph!;
  const outputs = new Set((graph.output ?? []).map((o) => o.name));
  const extra = Object.keys(inferred).filter((name) => !outputs.has(name)).map((name) => ({ name }));
  return { ...model, graph: { ...graph, output: [...(graph.output ?? []), ...extra] } };
}

describe('shape inference agrees with onnxruntime running the graphs', () => {
  for (const name of SMALL_GRAPHS) {
    test(`${name}: every dim inference knows is the dim onnxruntime produces`, async () => {
      const model = load(path.join(scratch, `${name}.onnx`));
      const inferred = inferShapes(model);
      const session = await ort.InferenceSession.create(encodeModel(exposeInferred(model, inferred)));
      const feeds: Record<string, ort.Tensor> = {};
      for (const input of model.graph!.input!) {
        const dims = input.type!.tensorType!.shape!.dim!.map((d) => (d.dimParam ? SYMBOL_SIZES[d.dimParam]! : Number(d.dimValue)));
        feeds[input.name!] = new ort.Tensor('float32', new Float32Array(dims.reduce((a, b) => a * b, 1)).map((_, i) => Math.sin(i)), dims);
      }
      const results = await session.run(feeds);
      const problems: string[] = [];
      let checked = 0;
      for (const [value, { shape }] of Object.entries(inferred)) {
        const actual = results[value]!.dims;
        if (shape === null) continue;
        const resolved = shape.map((d: Dim) => (typeof d === 'string' ? (SYMBOL_SIZES[d] ?? null) : d));
        const agree = resolved.length === actual.length && resolved.every((d, i) => d === null || d === actual[i]);
        if (!agree) problems.push(`${value}: inferred ${JSON.stringify(shape)}, onnxruntime ${JSON.stringify(actual)}`);
        checked++;
      }
      assert.deepEqual(problems, []);
      assert.ok(checked >= 5, `${checked} values checked`);
    });
  }
});

describe('shape inference on hand-built graphs', () => {
  test('declared values are left out; a declaration with unknown dims is completed', () => {
    const graph = makeGraph(
      [makeNode('Relu', ['x'], ['r']), makeNode('Relu', ['r'], ['s']), makeNode('Relu', ['s'], ['y'])],
      'g',
      [makeTensorValueInfo('x', DataType.FLOAT, ['batch', 4])],
      [makeTensorValueInfo('y', DataType.FLOAT, [null, 4])],
    );
    graph.valueInfo = [makeTensorValueInfo('r', DataType.FLOAT, ['batch', 4])];
    assert.deepEqual(inferShapes(makeModel(graph)), {
      s: { type: 'float32', shape: ['batch', 4] },
      y: { type: 'float32', shape: ['batch', 4] },
    });
  });

  test('operators of other domains, unknown operators and contradictory inputs give nothing, and inference goes on', () => {
    const graph = makeGraph(
      [
        makeNode('Custom', ['x'], ['c'], { domain: 'com.example' }),
        makeNode('Relu', ['c'], ['after_custom']),
        makeNode('NotAnOperator', ['x'], ['u']),
        makeNode('Add', ['x', 'w'], ['clash']),
        makeNode('Sigmoid', ['x'], ['y']),
      ],
      'g',
      [makeTensorValueInfo('x', DataType.FLOAT, [2, 3])],
      [makeTensorValueInfo('y', DataType.FLOAT, null)],
      [makeTensor('w', ndarray('float32', [4], new Float32Array(4)))],
    );
    assert.deepEqual(inferShapes(makeModel(graph)), { y: { type: 'float32', shape: [2, 3] } });
  });

  test('Reshape with -1 cancels a symbol found on both sides, and folds a shape computed from Shape', () => {
    const int64 = (name: string, values: number[]) => makeTensor(name, ndarray('int64', [values.length], BigInt64Array.from(values.map(BigInt))));
    const graph = makeGraph(
      [
        makeNode('Reshape', ['x', 'batch_rest'], ['a']),
        makeNode('Shape', ['x'], ['s']),
        makeNode('Slice', ['s', 'zero', 'two', 'zero'], ['head']),
        makeNode('Concat', ['head', 'minus1'], ['target'], { attributes: { axis: 0 } }),
        makeNode('Reshape', ['x', 'target'], ['b']),
      ],
      'g',
      [makeTensorValueInfo('x', DataType.FLOAT, ['batch', 'seq', 4, 8])],
      [makeTensorValueInfo('b', DataType.FLOAT, null)],
      [int64('batch_rest', [0, -1]), int64('zero', [0]), int64('two', [2]), int64('minus1', [-1])],
    );
    const inferred = inferShapes(makeModel(graph));
    assert.deepEqual(inferred['a'], { type: 'float32', shape: ['batch', null] }, "seq is not on the output side: the -1 stays unknown");
    assert.deepEqual(inferred['b'], { type: 'float32', shape: ['batch', 'seq', 32] });
  });
});
