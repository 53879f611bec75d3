// The editor's document model (renderer/src/lib/document/), in Node: the edits the list, graph
// and code editors make, the tolerant shape inference, the code generator and undo. The seed
// models are built edit by edit as a user builds them, and compared with the examples.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { Input, Model, clearSession, layers, modelFromJSON, renderSummary } from '../../app/model/index.ts';
import productImageClassifier from '../../examples/product-image-classifier.ts';
import purchasePredictor from '../../examples/purchase-predictor.ts';
import { analyze, issuesAt, tryConnect } from '../../renderer/src/lib/document/analysis.ts';
import { generateCode } from '../../renderer/src/lib/document/codegen.ts';
import { formatArgument, parseArgument } from '../../renderer/src/lib/document/fields.ts';
import { addCall, addNode, connect, duplicateLayerAt, moveLayer, removeLayer, removeNode, renameLayer, setInputShape, setLayerArgument } from '../../renderer/src/lib/document/edits.ts';
import { History } from '../../renderer/src/lib/document/history.ts';
import { EMPTY_MODEL, isSequential, stackOf, toFunctional, withConfig, type ModelJson } from '../../renderer/src/lib/document/model_json.ts';
import { ROOT } from '../e2e/browser.ts';
import { buildPurchasePredictor, buildSeedCnn, modelCode, normalizeSource } from './model_builds.ts';

test('the seed CNN built layer by layer in the list: Keras\'s shapes, 822,922 parameters, and the example\'s code', () => {
  const json = buildSeedCnn();
  const analysis = analyze(json);
  assert.deepEqual(analysis.issues, []);
  assert.equal(analysis.params.total, 822922);
  assert.equal(renderSummary(analysis.summary!), productImageClassifier.summary());
  const example = readFileSync(path.join(ROOT, 'examples/product-image-classifier.ts'), 'utf8');
  assert.equal(normalizeSource(generateCode(json)), normalizeSource(modelCode(example)));
});

test('the purchase predictor built node by node in the graph: 799,233 parameters and the example\'s Keras JSON', () => {
  const json = buildPurchasePredictor();
  const analysis = analyze(json);
  assert.deepEqual(analysis.issues, []);
  assert.equal(analysis.params.total, 799233);
  assert.equal(modelFromJSON(json).toJSON(), purchasePredictor.toJSON());
  // The code generated for it builds the same model.
  assert.match(generateCode(json), /new Model\(\{ inputs: \[image_features_input, text_features_input\], outputs: output_sigmoid, name: 'multi_input_purchase_predictor' \}\)/);
});

test('a shared layer and a residual join built in the graph give the summary of the same model in code', () => {
  let json: ModelJson = withConfig(EMPTY_MODEL, (config) => ({ ...config, name: 'siamese' }));
  for (const [className, name] of [['InputLayer', 'left'], ['InputLayer', 'right'], ['Dense', 'shared'], ['Add', 'residual'], ['Dense', 'head']] as const) {
    const added = addNode(json, className);
    json = renameLayer(added.json, added.name, name);
  }
  json = setLayerArgument(json, 'left', 'shape', [8]);
  json = setLayerArgument(json, 'right', 'shape', [8]);
  json = setLayerArgument(json, 'shared', 'units', 8);
  json = setLayerArgument(json, 'head', 'units', 2);
  json = connect(json, { layer: 'left', call: 0 }, { layer: 'shared', call: 0 });
  json = addCall(json, 'shared').json;
  json = connect(json, { layer: 'right', call: 0 }, { layer: 'shared', call: 1 });
  json = connect(json, { layer: 'shared', call: 0 }, { layer: 'residual', call: 0 });
  json = connect(json, { layer: 'shared', call: 1 }, { layer: 'residual', call: 0 });
  json = connect(json, { layer: 'left', call: 0 }, { layer: 'residual', call: 0 });
  json = connect(json, { layer: 'residual', call: 0 }, { layer: 'head', call: 0 });
  const analysis = analyze(json);
  assert.deepEqual(analysis.issues, []);

  clearSession();
  const left = Input({ shape: [8], name: 'left' });
  const right = Input({ shape: [8], name: 'right' });
  const shared = new layers.Dense(8, { name: 'shared' });
  const joined = layers.add([shared.apply(left), shared.apply(right), left], { name: 'residual' });
  const inCode = new Model({ inputs: [left, right], outputs: new layers.Dense(2, { name: 'head' }).apply(joined), name: 'siamese' });
  assert.equal(renderSummary(analysis.summary!), inCode.summary());
  assert.equal(analysis.params.total, 8 * 8 + 8 + 8 * 2 + 2, 'the shared layer counted once');
  assert.match(generateCode(json), /const shared_layer = new layers\.Dense\(8, \{ name: 'shared' \}\);\nconst shared = shared_layer\.apply\(left\);/);

  // Removing the second call: the join loses that input, the rest stays.
  const one = removeNode(json, { layer: 'shared', call: 1 });
  assert.equal(analyze(one).layers.find((l) => l.name === 'shared')!.calls, 1);
});

test('connections that cannot work are refused with the reason: a cycle, into an Input; a shape mismatch is an issue at the join', () => {
  let json = buildPurchasePredictor();
  assert.throws(() => connect(json, { layer: 'output_sigmoid', call: 0 }, { layer: 'dense_image_1', call: 0 }), /output_sigmoid already depends on dense_image_1: connecting them would make a cycle/);
  assert.throws(() => connect(json, { layer: 'dense_text_1', call: 0 }, { layer: 'text_features_input', call: 0 }), /text_features_input is an Input/);
  const added = addNode(json, 'Add');
  json = connect(connect(added.json, { layer: 'dense_image_1', call: 0 }, { layer: added.name, call: 0 }), { layer: 'dense_text_2', call: 0 }, { layer: added.name, call: 0 });
  const issues = issuesAt(analyze(json), added.name);
  assert.equal(issues.length, 1);
  assert.match(issues[0]!.message, /add: inputs must have the same shape, got \(None, 64\), \(None, 32\)/);

  // As the graph editor connects: a merge's first input is unfinished, not wrong; a mismatched second is refused with the layer's reason.
  const merge = addNode(buildPurchasePredictor(), 'Add');
  const first = tryConnect(merge.json, { layer: 'dense_image_1', call: 0 }, { layer: merge.name, call: 0 });
  assert.ok('json' in first, `one input into Add is allowed: ${'reason' in first ? first.reason : ''}`);
  const mismatched = tryConnect(first.json, { layer: 'dense_text_2', call: 0 }, { layer: merge.name, call: 0 });
  assert.ok('reason' in mismatched);
  assert.match(mismatched.reason, /inputs must have the same shape, got \(None, 64\), \(None, 32\)/);
  const matching = tryConnect(first.json, { layer: 'dense_text_1', call: 0 }, { layer: merge.name, call: 0 });
  assert.ok('json' in matching && analyze(matching.json).calls.get(merge.name)!.outputShapes !== null);
  const cycle = tryConnect(first.json, { layer: 'output_sigmoid', call: 0 }, { layer: 'dense_image_1', call: 0 });
  assert.ok('reason' in cycle && /would make a cycle/.test(cycle.reason));
  // A layer that cannot take the tensor at all is refused on its first input: a 2-D tensor into Conv2D.
  const conv = addNode(first.json, 'Conv2D');
  const wrongRank = tryConnect(conv.json, { layer: 'dense_text_1', call: 0 }, { layer: conv.name, call: 0 });
  assert.ok('reason' in wrongRank, 'a (None, 64) tensor into Conv2D is refused');
});

test('an invalid argument is an issue at its layer and field; the rest keeps its shapes; undo restores the valid model', () => {
  const valid = buildSeedCnn();
  const history = new History(valid);
  const broken = setLayerArgument(valid, 'dense1', 'units', -3);
  history.push(broken, 'Set units of dense1', 'dense1.units');
  const analysis = analyze(broken);
  assert.deepEqual(analysis.issues.map((i) => [i.layer, i.field, i.message]), [['dense1', 'units', 'dense1: units must be a positive integer, got -3']]);
  assert.deepEqual(analysis.calls.get('flatten')!.outputShapes, [[null, 12544]]);
  assert.equal(analysis.model, null);
  for (const [layer, key, value, field] of [
    ['conv1', 'kernel_size', [0, 3], 'kernel_size'],
    ['dropout1', 'rate', 1.5, 'rate'],
    ['conv1', 'padding', 'sideways', 'padding'],
  ] as const) {
    const [issue] = analyze(setLayerArgument(valid, layer, key, value)).issues;
    assert.deepEqual([issue?.layer, issue?.field], [layer, field], `${layer}.${key} = ${JSON.stringify(value)}: ${issue?.message}`);
  }
  // An input too small for conv1's kernel: the error is at conv1 (its kernel_size), from the input's shape.
  const small = analyze(setInputShape(valid, [2, 2, 3]));
  assert.deepEqual(small.issues.map((i) => [i.layer, i.field]), [['conv1', 'kernel_size']]);
  assert.match(small.issues[0]!.message, /conv1: input \(None, 2, 2, 3\) is smaller than the kernel \(3, 3\)/);
  assert.equal(history.undo(), valid);
  assert.equal(analyze(history.current).params.total, 822922);
  assert.equal(history.redo(), broken);
});

test('typing into one field is one undo step; list edits: duplicate, move, remove; the list and the graph forms of a chain', () => {
  const json = buildSeedCnn();
  const history = new History(json);
  history.push(setLayerArgument(json, 'dense1', 'units', 1), 'units', 'dense1.units', 1000);
  history.push(setLayerArgument(json, 'dense1', 'units', 12), 'units', 'dense1.units', 1500);
  history.push(setLayerArgument(json, 'dense1', 'units', 128), 'units', 'dense1.units', 2000);
  assert.equal(history.undo(), json);
  assert.equal(history.canUndo, false);

  const duplicated = duplicateLayerAt(json, 5);
  assert.equal(duplicated.name, 'dense1_1');
  assert.equal(analyze(duplicated.json).params.total, 822922 + 64 * 64 + 64);
  const moved = stackOf(moveLayer(json, 1, 0));
  assert.ok(!('reason' in moved));
  assert.deepEqual(moved.layers.slice(0, 2).map((l) => l.config.name), ['pool1', 'conv1']);
  assert.deepEqual(moved.shape, [64, 64, 3], 'the input shape stays with the list, not the layer');
  assert.equal(analyze(removeLayer(json, 'dropout1')).params.total, 822922);

  const graph = toFunctional(json);
  assert.equal(isSequential(graph), false);
  assert.equal(analyze(graph).params.total, 822922);
  const stack = stackOf(graph);
  assert.ok(!('reason' in stack));
  assert.equal(stack.inputName, 'conv1_input');
  assert.match((stackOf(buildPurchasePredictor()) as { reason: string }).reason, /2 inputs/);
});

test('TimeDistributed in the editors: its wrapped layer is a field written Conv2D(8, (3, 3)), and the code wraps a new layer', () => {
  const type = { kind: 'layer' } as const;
  assert.equal(formatArgument(type, { class_name: 'Conv2D', config: { name: 'conv', filters: 8, kernel_size: [3, 3], padding: 'same' } }), 'Conv2D(8, (3, 3))');
  assert.equal(formatArgument(type, { class_name: 'Flatten', config: { name: 'flat' } }), 'Flatten()');
  assert.deepEqual(parseArgument(type, ' Conv2D(8, (3, 2)) '), { value: { class_name: 'Conv2D', config: { filters: 8, kernel_size: [3, 2] } } });
  // a positional argument not written takes the catalog's initial value
  assert.deepEqual(parseArgument(type, 'Dense()'), { value: { class_name: 'Dense', config: { units: 32 } } });
  assert.deepEqual(parseArgument(type, 'Flatten()'), { value: { class_name: 'Flatten', config: {} } });
  assert.deepEqual(parseArgument(type, 'Dense(4, 5)'), { error: 'Dense takes 1 positional argument: units' });
  assert.deepEqual(parseArgument(type, 'Dense(x)'), { error: "Dense's units: a whole number, e.g. 32" });
  assert.deepEqual(parseArgument(type, 'Concatenate()'), { error: 'a layer with its positional arguments, e.g. Dense(32) or Conv2D(16, 3)' });
  assert.deepEqual(parseArgument(type, 'NoSuchLayer(3)'), { error: 'a layer with its positional arguments, e.g. Dense(32) or Conv2D(16, 3)' });
  clearSession();
  const clip = Input({ shape: [4, 8, 8, 3], name: 'clip' });
  const frames = new layers.TimeDistributed(new layers.Conv2D(8, 3, { name: 'conv' }), { name: 'frames' }).apply(clip);
  const flat = new layers.TimeDistributed(new layers.Flatten({ name: 'flat' }), { name: 'flat_frames' }).apply(frames);
  const json = JSON.parse(new Model({ inputs: clip, outputs: new layers.LSTM(4, { name: 'lstm' }).apply(flat), name: 'video' }).toJSON()) as ModelJson;
  assert.deepEqual(analyze(json).issues, []);
  assert.equal(analyze(json).params.total, 3 * 3 * 3 * 8 + 8 + 4 * (4 * (288 + 4) + 4));
  assert.match(generateCode(json), /new layers\.TimeDistributed\(new layers\.Conv2D\(8, \[3, 3\], \{ name: 'conv' \}\), \{ name: 'frames' \}\)/);
});

test('Bidirectional in the editors: its wrapped layer is a field written LSTM(16), and the code wraps a new layer', () => {
  const type = { kind: 'recurrent-layer' } as const;
  assert.equal(formatArgument(type, { class_name: 'GRU', config: { name: 'gru', units: 8, reset_after: false } }), 'GRU(8)');
  assert.deepEqual(parseArgument(type, ' SimpleRNN( 4 ) '), { value: { class_name: 'SimpleRNN', config: { units: 4 } } });
  assert.deepEqual(parseArgument(type, 'Dense(3)'), { error: 'LSTM, GRU or SimpleRNN with its units, e.g. LSTM(32)' });
  clearSession();
  const ids = Input({ shape: [10], name: 'ids', dtype: 'int32' });
  const embedded = new layers.Embedding(100, 8, { name: 'embed' }).apply(ids);
  const both = new layers.Bidirectional(new layers.LSTM(16, { returnSequences: true, name: 'lstm' }), { mergeMode: 'sum', name: 'bi' }).apply(embedded);
  const json = JSON.parse(new Model({ inputs: ids, outputs: new layers.GRU(4, { resetAfter: false, name: 'gru' }).apply(both), name: 'text' }).toJSON()) as ModelJson;
  assert.deepEqual(analyze(json).issues, []);
  assert.equal(analyze(json).params.total, 100 * 8 + 2 * 4 * (16 * (8 + 16) + 16) + 3 * (4 * (16 + 4) + 4));
  assert.match(generateCode(json), /new layers\.Bidirectional\(new layers\.LSTM\(16, \{ returnSequences: true, name: 'forward_lstm' \}\), \{ mergeMode: 'sum', name: 'bi' \}\)/);
});

test('Subtract and Dot in the graph editor: a Siamese pair\'s difference and cosine, Dot\'s axes a field, the code Keras\'s; a third input into Subtract is an issue at it', () => {
  let json: ModelJson = withConfig(EMPTY_MODEL, (config) => ({ ...config, name: 'siamese' }));
  for (const [className, name] of [['InputLayer', 'left'], ['InputLayer', 'right'], ['Dense', 'embed'], ['Subtract', 'diff'], ['Dot', 'cosine']] as const) {
    const added = addNode(json, className);
    json = renameLayer(added.json, added.name, name);
  }
  json = setLayerArgument(json, 'left', 'shape', [8]);
  json = setLayerArgument(json, 'right', 'shape', [8]);
  json = setLayerArgument(json, 'embed', 'units', 4);
  assert.deepEqual(parseArgument({ kind: 'int-tuple', length: 2 }, '1'), { value: [1, 1] }, 'the axes field reads 1 as both inputs\' axis');
  json = setLayerArgument(json, 'cosine', 'axes', [1, 1]);
  json = setLayerArgument(json, 'cosine', 'normalize', true);
  json = connect(json, { layer: 'left', call: 0 }, { layer: 'embed', call: 0 });
  json = addCall(json, 'embed').json;
  json = connect(json, { layer: 'right', call: 0 }, { layer: 'embed', call: 1 });
  for (const join of ['diff', 'cosine']) {
    json = connect(json, { layer: 'embed', call: 0 }, { layer: join, call: 0 });
    json = connect(json, { layer: 'embed', call: 1 }, { layer: join, call: 0 });
  }
  const analysis = analyze(json);
  assert.deepEqual(analysis.issues, []);
  clearSession();
  const left = Input({ shape: [8], name: 'left' });
  const right = Input({ shape: [8], name: 'right' });
  const embed = new layers.Dense(4, { name: 'embed' });
  const [l, r] = [embed.apply(left), embed.apply(right)];
  const inCode = new Model({ inputs: [left, right], outputs: [layers.subtract([l, r], { name: 'diff' }), new layers.Dot([1, 1], { normalize: true, name: 'cosine' }).apply([l, r])], name: 'siamese' });
  assert.equal(renderSummary(analysis.summary!), inCode.summary());
  const code = generateCode(json);
  assert.match(code, /new layers\.Subtract\(\{ name: 'diff' \}\)\.apply\(\[embed, embed_2\]\)/);
  assert.match(code, /new layers\.Dot\(\[1, 1\], \{ normalize: true, name: 'cosine' \}\)\.apply\(\[embed, embed_2\]\)/);
  const three = connect(json, { layer: 'left', call: 0 }, { layer: 'diff', call: 0 });
  assert.match(issuesAt(analyze(three), 'diff').map((issue) => issue.message).join('\n'), /a Subtract layer takes exactly 2 inputs, got 3/);
});
