// A model file's own data (`export function data()`): every example that Fashion-MNIST does not
// fit exports data the model can learn, and learns it on the engine (held-out accuracy far
// above chance); a data export that is wrong (not a function, throws, arrays that are not
// arrays or do not fit the model) is one line naming the file and the field; `strata train`
// without --data trains on the file's data, and --data still overrides it.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { impliedLoss } from '../../app/cli/commands/train.ts';
import { loadModel } from '../../app/cli/load_model.ts';
import { hasModelFileData, loadModelFileData } from '../../app/cli/model_file_data.ts';
import { splitsOf } from '../../app/cli/training_data.ts';
import { validateDataset } from '../../app/data/validate.ts';
import { EngineBackend } from '../../app/engine/trainer.ts';
import { isUserError, setRandomSeed } from '../../app/model/index.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
const STRATA_API = pathToFileURL(path.join(root, 'app/model/index.ts')).href;
const scratch = mkdtempSync(path.join(tmpdir(), 'strata-model-data-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

function strata(...args: string[]) {
  const result = spawnSync(process.execPath, ['app/cli/strata.js', ...args], { cwd: root, encoding: 'utf8', timeout: 120_000 });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/**
 * The examples with data, the epochs each trains here and the held-out accuracy it must pass.
 * Measured with these settings (setRandomSeed 1, fit seed 1): lstm 0.986, purchase 0.890,
 * mobilenet-style 1.000, resnet-block 0.665, product-image 0.995. The two models with batch
 * normalization test on its moving statistics, which lag the training for the first few
 * hundred steps: their data has the samples for enough steps.
 */
const EXAMPLES = [
  { file: 'examples/lstm-sequence-classifier.ts', epochs: 10, chance: 0.5, passes: 0.8 },
  { file: 'examples/purchase-predictor.ts', epochs: 6, chance: 0.5, passes: 0.75 },
  { file: 'examples/mobilenet-style.ts', epochs: 5, chance: 0.1, passes: 0.5 },
  { file: 'examples/resnet-block.ts', epochs: 4, chance: 0.1, passes: 0.4 },
  { file: 'examples/product-image-classifier.ts', epochs: 4, chance: 0.1, passes: 0.5 },
];

describe('the examples\' own data', () => {
  for (const { file, epochs, chance, passes } of EXAMPLES) {
    test(`${file} learns its data: held-out accuracy above ${passes} (chance ${chance}) after ${epochs} epochs`, async () => {
      setRandomSeed(1);
      const model = await loadModel(path.join(root, file));
      // As strata train compiles a model file without compile(): Adam, the loss its output implies.
      if (!model.compiled) model.compile({ optimizer: 'adam', loss: impliedLoss(model), metrics: ['accuracy'] });
      const data = await loadModelFileData(path.join(root, file));
      assert.ok(data.test, 'a test split');
      validateDataset(model, splitsOf(data));
      const engine = new EngineBackend({ write: () => {}, interactive: false });
      const history = await engine.fit(model, data.train.x, data.train.y, { epochs, batchSize: 32, seed: 1, verbose: 0 });
      const { accuracy } = await engine.evaluate(model, data.test.x, data.test.y, { batchSize: 100 });
      const loss = history.history.loss!;
      assert.ok(loss.at(-1)! < loss[0]!, `the loss falls: ${loss.join(' ')}`);
      assert.ok(accuracy! > passes, `held-out accuracy ${accuracy} (chance ${chance}), loss ${loss.join(' ')}`);
    });
  }

  test('the same data on every call (a fixed seed), with class names where it has classes', async () => {
    const file = path.join(root, 'examples/lstm-sequence-classifier.ts');
    const [first, second] = [await loadModelFileData(file), await loadModelFileData(file)];
    assert.deepEqual(first.train.x[0]!.data, second.train.x[0]!.data);
    assert.deepEqual(first.train.classNames, ['no motif', 'motif']);
    assert.match(first.description, /lstm-sequence-classifier\.ts's data/);
  });

  test('the examples Fashion-MNIST fits keep it: they export no data', async () => {
    for (const name of ['fashion-mnist-classifier', 'lenet5', 'mlp', 'subclassed-cnn']) assert.equal(await hasModelFileData(path.join(root, `examples/${name}.ts`)), false, name);
  });
});

/** A model file in scratch with a 4-feature, 3-class model and `dataExport` as its data export. */
function modelFile(name: string, dataExport: string): string {
  const file = path.join(scratch, `${name}.mts`);
  const model = `import { Sequential, layers } from '${STRATA_API}';
const model = new Sequential([new layers.Dense(3, { activation: 'softmax', inputShape: [4] })]);
model.compile({ optimizer: 'adam', loss: 'sparse_categorical_crossentropy', metrics: ['accuracy'] });
export default model;
const rows = (n: number, width: number) => ({ dtype: 'float32', shape: [n, width], data: new Float32Array(n * width) });
const labels = (n: number) => ({ dtype: 'int32', shape: [n], data: new Int32Array(n) });
`;
  writeFileSync(file, model + dataExport + '\n');
  return file;
}

/** The one-line error loading (and checking) the file's data gives. */
async function dataError(file: string): Promise<string> {
  try {
    const data = await loadModelFileData(file);
    const model = await loadModel(file);
    validateDataset(model, splitsOf(data));
  } catch (error) {
    assert.ok(isUserError(error), `a user error, not ${(error as Error).stack}`);
    const message = (error as Error).message;
    assert.doesNotMatch(message, /\n/);
    return message;
  }
  assert.fail(`${file}: its data loaded`);
}

describe('a model file whose data export is wrong', () => {
  const cases: [string, string, RegExp][] = [
    ['not-a-function', 'export const data = 3;', /not-a-function\.mts: the "data" export is number 3; it must be a function returning \{description, train/],
    ['throws', "export function data() {\n  throw new Error('no samples today');\n}", /throws\.mts:8: Error: no samples today/],
    ['returns-nothing', 'export function data() {}', /returns-nothing\.mts: data\(\) returned undefined; expected \{description, train/],
    ['no-description', 'export function data() { return { train: { x: rows(4, 4), y: labels(4) } }; }', /no-description\.mts: data\(\)\.description is undefined/],
    ['no-train', "export function data() { return { description: 'd' }; }", /no-train\.mts: data\(\)\.train is undefined; expected \{x, y\}/],
    ['plain-list', "export function data() { return { description: 'd', train: { x: [[1, 2, 3, 4]], y: labels(1) } }; }", /plain-list\.mts: data\(\)\.train\.x\[0\] is a list of 4; expected an array \{dtype/],
    ['wrong-typed-array', "export function data() { return { description: 'd', train: { x: { dtype: 'float32', shape: [1, 4], data: new Float64Array(4) }, y: labels(1) } }; }", /wrong-typed-array\.mts: data\(\)\.train\.x\.data is a Float64Array; a float32 array's data is a Float32Array/],
    ['short-data', "export function data() { return { description: 'd', train: { x: { dtype: 'float32', shape: [2, 4], data: new Float32Array(7) }, y: labels(2) } }; }", /short-data\.mts: data\(\)\.train\.x: shape \(2, 4\) holds 8 elements, its data has 7/],
    ['sample-counts', "export function data() { return { description: 'd', train: { x: rows(5, 4), y: labels(4) } }; }", /sample-counts\.mts: data\(\)\.train: y\[0\] has 4 samples, x\[0\] has 5/],
    ['class-out-of-names', "export function data() { const y = labels(2); y.data[1] = 7; return { description: 'd', train: { x: rows(2, 4), y }, classNames: ['a', 'b', 'c'] }; }", /class-out-of-names\.mts: data\(\)\.train: y\[0\]\[1\] is 7, outside the 3 classes/],
    ['wrong-width', "export function data() { return { description: 'd', train: { x: rows(4, 5), y: labels(4) } }; }", /train split of .*wrong-width\.mts: x\[0\] has shape \(4, 5\); .*takes \(None, 4\)/],
    ['test-wrong-labels', "export function data() { const y = labels(2); y.data[0] = 3; return { description: 'd', train: { x: rows(2, 4), y: labels(2) }, test: { x: rows(2, 4), y } }; }", /test-wrong-labels\.mts data\(\)\.test sample 0: label 3 is not one of the 3 classes/],
  ];
  for (const [name, dataExport, pattern] of cases) {
    test(`${name}: one line naming the file and the field`, async () => {
      assert.match(await dataError(modelFile(name, dataExport)), pattern);
    });
  }

  test('a file without a data export: loading its data says what to add', async () => {
    assert.match(await dataError(modelFile('no-export', '')), /no-export\.mts: no "data" export; add "export function data\(\): ModelData"/);
  });
});

describe('strata train and a model file\'s data', () => {
  test('without --data it trains on the file\'s data; --data overrides it', () => {
    const trained = strata('train', 'examples/lstm-sequence-classifier.ts', '--epochs', '1', '--json', '--threads', '1', '--seed', '1');
    assert.equal(trained.code, 0, trained.stderr);
    const done = JSON.parse(trained.stdout.trim().split('\n').at(-1)!);
    assert.equal(done.done, true);
    assert.equal(typeof done.test_accuracy, 'number', 'evaluated on the file\'s test split');
    const overridden = strata('train', 'examples/lstm-sequence-classifier.ts', '--data', 'fashion-mnist', '--epochs', '1');
    assert.equal(overridden.code, 1);
    assert.match(overridden.stderr, /^strata: .*x\[0\] has shape \(60000, 28, 28, 1\); lstm_sequence_classifier's input "tokens" takes \(None, 20\)\n$/);
  });

  test('a model file without data and no --data: the error says both ways', () => {
    const file = modelFile('cli-no-data', '');
    const result = strata('train', file, '--epochs', '1');
    assert.equal(result.code, 1);
    assert.match(result.stderr, /^strata: required option '--data <source>' not specified \(or export the data from the model file: export function data\(\)\)\n$/);
  });

  test('a wrong data export fails the same way from the CLI', () => {
    const file = modelFile('cli-bad-data', 'export const data = { train: 1 };');
    const result = strata('train', file, '--epochs', '1');
    assert.equal(result.code, 1);
    assert.match(result.stderr, /^strata: .*cli-bad-data\.mts: the "data" export is an object \(Object\); it must be a function/);
  });
});
