// What fuzzing the readers found (test/fuzz/targets.ts), each as the smallest input that shows
// it, and the promise that model files never run code: Lambda layers, Python lambdas and
// custom classes in Keras JSON, and object arrays (pickles) in .npy/.npz files, are refused
// in Keras's and NumPy's words.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parseNpy, readNpy } from '../../app/data/npy.ts';
import { parseNpz, readNpz } from '../../app/data/npz.ts';
import { ConfigError, FormatError, modelFromJSON } from '../../app/model/index.ts';
import { makeGraph, makeModel, makeNode, makeTensor, makeTensorValueInfo } from '../../app/onnx/helper.ts';
import { DataType } from '../../app/onnx/schema.ts';
import { inferShapes } from '../../app/onnx/shape_inference.ts';
import { ndarray } from '../../app/data/ndarray.ts';
import { zipOf } from '../hostile_files.ts';
import { readOrRefuse } from './targets.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const corpus = (name: string) => path.join(here, 'corpus', name);
const keras = (name: string) => JSON.parse(readFileSync(path.join(here, '..', 'fixtures', 'keras', name), 'utf8'));

describe('shape inference never fails an inspection (findings of onnx-generated)', () => {
  const x = makeTensorValueInfo('x', DataType.FLOAT, [2, 3, 8, 8]);

  test('a Concat of no inputs infers nothing (it was a TypeError)', () => {
    const model = makeModel(makeGraph([makeNode('Concat', [], ['y'], { attributes: { axis: 0 } })], 'g', [], []));
    assert.deepEqual(inferShapes(model), {});
  });

  test('a Reshape whose shape input declares 2^31 - 1 dims infers nothing, allocating nothing (it built an array of 2^31 nulls)', () => {
    const shape = makeTensorValueInfo('shape', DataType.INT64, [2 ** 31 - 1]);
    for (const op of ['Reshape', 'ConstantOfShape']) {
      const inputs = op === 'Reshape' ? ['x', 'shape'] : ['shape'];
      const model = makeModel(makeGraph([makeNode(op, inputs, ['y'])], 'g', [x, shape], []));
      assert.equal(inferShapes(model).y, undefined, op);
    }
    // A rank a tensor can have still gives that many unknown dims.
    const three = makeModel(makeGraph([makeNode('Reshape', ['x', 'shape'], ['y'])], 'g', [x, makeTensorValueInfo('shape', DataType.INT64, [3])], []));
    assert.deepEqual(inferShapes(three).y, { type: 'float32', shape: [null, null, null] });
  });

  test('attributes shorter than the input\'s rank give no shape, not NaN or holes', () => {
    const w = makeTensor('w', ndarray('float32', [4, 3, 3, 3], new Float32Array(108)));
    const conv = makeNode('Conv', ['x', 'w'], ['y'], { attributes: { strides: [1] } });
    const inferred = inferShapes(makeModel(makeGraph([conv], 'g', [x], [], [w])));
    assert.equal(inferred.y, undefined);
    const pads = makeNode('MaxPool', ['x'], ['y'], { attributes: { kernel_shape: [2, 2], pads: [0] } });
    assert.equal(inferShapes(makeModel(makeGraph([pads], 'g', [x], []))).y, undefined);
  });
});

describe('refusals are one line whatever bytes the file quotes (findings of npy and npz)', () => {
  test('a .npy header whose dtype holds a newline', () => {
    const bytes = new Uint8Array(readFileSync(corpus('npy/b1_3d.npy')));
    const text = new TextDecoder('latin1').decode(bytes).replace("'|b1'", "'\n|b1'");
    const hostile = Uint8Array.from(text, (c) => c.charCodeAt(0));
    assert.throws(() => parseNpy(hostile, 'x.npy'), (error: Error) => error instanceof FormatError && error.message.includes("unsupported dtype ' |b1'") && !error.message.includes('\n'));
  });

  test('a zip member whose name holds control characters', () => {
    const archive = zipOf('a\nb\u0000.npy', new Uint8Array(0), 0);
    assert.throws(() => parseNpz(archive, 'x.npz'), (error: Error) => error instanceof FormatError && error.message.startsWith('x.npz[a b\\u0000.npy]: ') && !/[\n\u0000]/.test(error.message));
  });

  test('readOrRefuse, the fuzzers\' check, tells a refusal from a crash', () => {
    assert.equal(readOrRefuse('x.npy', () => parseNpy(new Uint8Array(0), 'x.npy')), undefined);
    assert.throws(() => readOrRefuse('x.npy', () => JSON.parse('null').x), /not a user error: TypeError/);
    assert.throws(() => readOrRefuse('y.npy', () => parseNpy(new Uint8Array(0), 'x.npy')), /does not name y\.npy/);
  });
});

describe('model files never run code', () => {
  /** The image classifier with its layer 6 (dense1) replaced by `layer`. */
  const withLayer = (layer: Record<string, unknown>) => {
    const json = keras('product_image_classifier.tf2.json');
    json.config.layers[6] = layer;
    return json;
  };
  const refusedAsCode = (json: unknown, pattern: RegExp) =>
    assert.throws(
      () => modelFromJSON(json as string, 'model.json'),
      (error: Error) => {
        assert.ok(error instanceof ConfigError, error.message);
        assert.match(error.message, pattern);
        assert.match(error.message, /arbitrary code execution and thus it is disallowed by default \(Keras: safe_mode=True\); Strata never runs code from a model file/);
        return true;
      },
    );

  test('a Keras 2 Lambda layer (its config holds marshalled Python bytecode)', () => {
    const lambda = { class_name: 'Lambda', config: { name: 'double', function: ['4wEAAAAA', null, null], function_type: 'lambda', module: '__main__', output_shape: null, arguments: {} } };
    refusedAsCode(withLayer(lambda), /^model\.json > product_image_classifier_sequential: layer "double" is a Lambda layer: requested the deserialization of a Lambda layer with Python code inside it\./);
  });

  test("tf.keras's TFOpLambda (a TensorFlow function called by name)", () => {
    refusedAsCode(withLayer({ class_name: 'TFOpLambda', config: { name: 'tf.math.add', function: 'math.add' } }), /layer "tf\.math\.add" is a TFOpLambda layer/);
  });

  test('a Keras 3 Python lambda as an activation', () => {
    const json = keras('review_classifier.keras3.json');
    json.config.layers[3].config.activation = { module: 'builtins', class_name: '__lambda__', config: { value: ['4wEAAAAA', null, null] }, registered_name: null };
    refusedAsCode(json, /layer "hidden" has a Python lambda in its config: requested the deserialization of a Python lambda\./);
  });

  test('a Keras 3 custom class, registered or from a module of its own', () => {
    const json = keras('review_classifier.keras3.json');
    json.config.layers[3] = { ...json.config.layers[3], class_name: 'Attention2', module: 'my_layers', registered_name: 'Custom>Attention2' };
    refusedAsCode(json, /layer "hidden" is a custom class "Attention2" \(registered as "Custom>Attention2"\): its code is not in the file/);
    json.config.layers[3].registered_name = null;
    refusedAsCode(json, /is a custom class "Attention2" \(from module "my_layers"\)/);
  });

  test('a Keras layer Strata does not implement is unsupported, not code', () => {
    const json = withLayer({ class_name: 'ConvLSTM2D', config: { name: 'lstm', units: 4 } });
    assert.throws(() => modelFromJSON(json, 'model.json'), (error: Error) => error instanceof ConfigError && /layer "lstm" has unsupported class "ConvLSTM2D"; supported: /.test(error.message) && !/code/.test(error.message));
  });

  test('a .npy object array (np.save(..., allow_pickle=True) writes pickles) is refused in NumPy\'s words', () => {
    const file = corpus('npy/object_pickle.npy');
    assert.throws(() => readNpy(file), (error: Error) => error instanceof FormatError && error.message.startsWith(`${file}: an object array (dtype '|O'): its elements are Python pickles, and unpickling runs code.`) && /"Object arrays cannot be loaded when allow_pickle=False"/.test(error.message));
    const archive = corpus('npy/with_object.npz');
    assert.throws(() => readNpz(archive), (error: Error) => error instanceof FormatError && error.message.startsWith(`${archive}[bad.npy]: an object array`));
  });
});
