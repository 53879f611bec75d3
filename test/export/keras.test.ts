// `strata export --format keras`: TensorFlow cannot be installed here, so the script is
// compiled (py_compile) and read with Python's ast (keras_script_check.py): its layer calls
// must have the Keras JSON's classes, configs and connections, layer by layer, and its
// compile() the model's optimizer and losses; weights.npz must hold every weight by name.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Input, Model, layers, losses, optimizers, readNpz, setRandomSeed } from '../../app/node.ts';
import { loadModel } from '../../app/cli/load_model.ts';
import { compileSettings } from '../../app/export/compile_settings.ts';
import { exportKeras } from '../../app/export/keras.ts';
import { attentionLayers, augmentationLayers, mergeLayers, graphLayers, imageLayers, moreImageLayers, recurrentLayers, sequenceLayers, timeLayers, transposedConvolutions } from './models.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
const PYTHON = '/usr/bin/python3';
const CHECKER = fileURLToPath(new URL('./keras_script_check.py', import.meta.url));
const scratch = mkdtempSync(path.join(tmpdir(), 'strata-export-keras-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

function run(args: string[]) {
  const result = spawnSync(PYTHON, args, { cwd: scratch, encoding: 'utf8' });
  return { status: result.status, stdout: result.stdout ?? '', stderr: result.stderr ?? '' };
}

/** Exports `model`, compiles the script and reads it with the ast checker; returns the checker's report. */
function exportAndCheck(model: Model, name: string): { dir: string; layers: string[]; failures: string[] } {
  const dir = mkdtempSync(path.join(scratch, `${name}-`));
  for (const [file, contents] of Object.entries(exportKeras(model, `${name}.ts`).files)) writeFileSync(path.join(dir, file), contents);
  const compiled = run(['-m', 'py_compile', path.join(dir, 'model.py'), path.join(dir, 'arrays.py')]);
  assert.equal(compiled.status, 0, compiled.stderr);
  writeFileSync(path.join(dir, 'model.json'), model.toJSON());
  writeFileSync(path.join(dir, 'settings.json'), JSON.stringify(compileSettings(model)));
  const checked = run([CHECKER, path.join(dir, 'model.py'), path.join(dir, 'model.json'), path.join(dir, 'settings.json')]);
  assert.equal(checked.status, 0, checked.stderr);
  return { dir, ...(JSON.parse(checked.stdout) as { layers: string[]; failures: string[] }) };
}

const EXAMPLES = readdirSync(path.join(root, 'examples')).filter((f) => f.endsWith('.ts')).sort();

describe('strata export --format keras', () => {
  test('each example and every layer class: the script compiles and defines the Keras JSON layer by layer', async () => {
    const models: { name: string; model: Model }[] = [];
    for (const file of EXAMPLES) models.push({ name: file.replace(/\.ts$/, ''), model: await loadModel(path.join(root, 'examples', file)) });
    setRandomSeed(5);
    models.push(
      { name: 'image_layers', model: imageLayers() },
      { name: 'sequence_layers', model: sequenceLayers() },
      { name: 'graph_layers', model: graphLayers({ nested: false }) },
      { name: 'recurrent_layers', model: recurrentLayers() },
      { name: 'more_image_layers', model: moreImageLayers() },
      { name: 'attention_layers', model: attentionLayers() },
      { name: 'transposed_convolutions', model: transposedConvolutions() },
      { name: 'augmentation_layers', model: augmentationLayers() },
      { name: 'merge_layers', model: mergeLayers() },
      { name: 'time_layers', model: timeLayers() },
    );
    for (const { name, model } of models) {
      const report = exportAndCheck(model, name);
      assert.deepEqual(report.failures, [], name);
      // The JSON's order; a Sequential script starts with its Input instead of an InputLayer entry.
      const json = JSON.parse(model.toJSON()) as { class_name: string; config: { layers: { class_name: string; config: { name: string } }[] } };
      const entries = json.config.layers.filter((entry) => json.class_name !== 'Sequential' || entry.class_name !== 'InputLayer');
      assert.deepEqual(report.layers, entries.map((entry) => entry.config.name), name);
      const weights = readNpz(path.join(report.dir, 'weights.npz'));
      const expected = model.layers.flatMap((layer) => layer.weights.map((w) => ({ key: `${layer.name}/${w.name}`, shape: w.shape, value: w.value })));
      assert.deepEqual(Object.keys(weights).sort(), expected.map((w) => w.key).sort(), name);
      for (const w of expected) {
        assert.deepEqual(weights[w.key]!.shape, w.shape, `${name} ${w.key}`);
        assert.deepEqual(weights[w.key]!.data, w.value, `${name} ${w.key}`);
      }
    }
  });

  test('compile() carries the optimizer with its schedule, the losses with from_logits, loss weights and metrics', () => {
    const x = Input({ shape: [6], name: 'x' });
    const h = new layers.Dense(8, { activation: 'relu', name: 'hidden' }).apply(x);
    const model = new Model({ inputs: x, outputs: [new layers.Dense(3, { name: 'logits' }).apply(h), new layers.Dense(1, { activation: 'sigmoid', name: 'flag' }).apply(h)], name: 'two_heads' });
    const learningRate = new optimizers.schedules.PiecewiseConstantDecay({ boundaries: [100], values: [0.01, 0.001] });
    model.compile({ optimizer: new optimizers.SGD({ learningRate, momentum: 0.9, nesterov: true }), loss: [new losses.SparseCategoricalCrossentropy({ fromLogits: true }), 'binary_crossentropy'], lossWeights: [1, 0.25], metrics: ['accuracy'] });
    const report = exportAndCheck(model, 'two_heads');
    assert.deepEqual(report.failures, []);
    const script = exportKeras(model, 'two_heads.ts').files['model.py'] as string;
    assert.match(script, /optimizer=keras\.optimizers\.SGD\(learning_rate=keras\.optimizers\.schedules\.PiecewiseConstantDecay\(boundaries=\(100,\), values=\(0\.01, 0\.001\)\), momentum=0\.9, nesterov=True\)/);
    assert.match(script, /loss=\[keras\.losses\.SparseCategoricalCrossentropy\(from_logits=True\), "binary_crossentropy"\]/);
    assert.match(script, /loss_weights=\[1, 0\.25\]/);
    assert.match(script, /metrics=\{"logits": \["accuracy"\], "flag": \["accuracy"\]\}/);
    assert.match(script, /tf\.distribute\.MirroredStrategy\(\)/);
    // the errors by their names, RootMeanSquaredError as Keras's class (it has no name string)
    model.compile({ loss: ['sparse_categorical_crossentropy', 'mse'], metrics: { logits: ['acc'], flag: ['mae', { className: 'RootMeanSquaredError' }] } });
    const measured = exportKeras(model, 'two_heads.ts').files['model.py'] as string;
    assert.match(measured, /metrics=\{"logits": \["acc"\], "flag": \["mae", keras\.metrics\.RootMeanSquaredError\(\)\]\}/);
  });

  test('the checker catches a script that differs from the JSON (a changed argument, a rewired input)', () => {
    const model = graphLayers({ nested: false });
    const { dir } = exportAndCheck(model, 'tampered');
    const file = path.join(dir, 'model.py');
    const script = exportKeras(model, 'tampered.ts').files['model.py'] as string;
    writeFileSync(file, script.replace('units=12, activation="relu6"', 'units=12, activation="relu"').replace('layers.Multiply(name="product")([shared, shared_1, relu6])', 'layers.Multiply(name="product")([shared, shared, relu6])'));
    const checked = run([CHECKER, file, path.join(dir, 'model.json'), path.join(dir, 'settings.json')]);
    const { failures } = JSON.parse(checked.stdout) as { failures: string[] };
    assert.deepEqual(failures, [
      "relu6: activation 'relu', the JSON has 'relu6'",
      "product call 0: takes [['shared', 0, 0], ['shared', 0, 0], ['relu6', 0, 0]], the JSON has [['shared', 0, 0], ['shared', 1, 0], ['relu6', 0, 0]]",
    ]);
  });

  test('the checker catches a dropped call argument, a swapped key and value, and outputs taken in the wrong order', () => {
    const model = attentionLayers();
    const { dir } = exportAndCheck(model, 'tampered_calls');
    const file = path.join(dir, 'model.py');
    const script = exportKeras(model, 'tampered_calls.ts').files['model.py'] as string;
    const tampered = script
      .replace('([query, value, value], use_causal_mask=True)', '([query, value, value])')
      .replace('(both, value=value, key=key, use_causal_mask=True)', '(both, value=key, key=value, use_causal_mask=True)')
      .replace('self_heads, self_heads_1 = ', 'self_heads_1, self_heads = ');
    assert.notEqual(tampered, script);
    writeFileSync(file, tampered);
    const checked = run([CHECKER, file, path.join(dir, 'model.json'), path.join(dir, 'settings.json')]);
    const { failures } = JSON.parse(checked.stdout) as { failures: string[] };
    assert.deepEqual(failures, [
      "concat call 0: call arguments {}, the JSON has {'use_causal_mask': True}",
      "heads call 0: call arguments {'value': ['key', 0, 0], 'key': ['value', 0, 0], 'use_causal_mask': True}, the JSON has {'value': ['value', 0, 0], 'key': ['key', 0, 0], 'use_causal_mask': True}",
      "keras.Model outputs: [['heads', 0, 0], ['dot', 0, 1], ['self_heads', 0, 1], ['self_heads', 0, 0]], the JSON has [['heads', 0, 0], ['dot', 0, 1], ['self_heads', 0, 0], ['self_heads', 0, 1]]",
    ]);
  });

  test('a model inside another is defined by a function of its own and called as a layer; its weights are named by its layers', () => {
    setRandomSeed(6);
    const model = graphLayers();
    const report = exportAndCheck(model, 'nested');
    assert.deepEqual(report.failures, []);
    const script = exportKeras(model, 'nested.ts').files['model.py'] as string;
    assert.match(script, /^def build_inner\(\):\n    return keras\.Sequential\(\[/m);
    assert.match(script, / = build_inner\(\)\(rows_flat\)$/m);
    const weights = readNpz(path.join(report.dir, 'weights.npz'));
    const inner = model.getLayer('inner') as Model;
    assert.deepEqual(weights['inner/inner_dense/kernel']!.data, inner.getLayer('inner_dense').weights[0]!.value);
    assert.match(script, /"inner": \["inner_dense\/kernel", "inner_dense\/bias"\]/);
  });

  test('the checker catches a nested model that differs from the JSON', () => {
    const model = graphLayers();
    const { dir } = exportAndCheck(model, 'tampered_nested');
    const file = path.join(dir, 'model.py');
    writeFileSync(file, (exportKeras(model, 'tampered_nested.ts').files['model.py'] as string).replace('units=8, activation="leaky_relu"', 'units=9, activation="leaky_relu"'));
    const checked = run([CHECKER, file, path.join(dir, 'model.json'), path.join(dir, 'settings.json')]);
    assert.deepEqual((JSON.parse(checked.stdout) as { failures: string[] }).failures, ['inner_dense: units 9, the JSON has 8']);
  });
});
