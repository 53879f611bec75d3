// `strata summary` as users run it: a separate process, exit codes, stdout and stderr.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));

function strata(...args: string[]) {
  const result = spawnSync(process.execPath, ['app/cli/strata.js', ...args], { cwd: root, encoding: 'utf8' });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('strata summary', () => {
  test('the Sequential seed example prints Keras\'s table with 822,922 params', () => {
    const { code, stdout } = strata('summary', 'examples/product-image-classifier.ts');
    assert.equal(code, 0);
    assert.match(stdout, /^Model: "product_image_classifier_sequential"/);
    assert.match(stdout, /│ dense1 \(Dense\) +│ \(None, 64\) +│ +802,880 │/);
    assert.match(stdout, / Total params: 822,922 \(3\.14 MB\)\n Trainable params: 822,922 \(3\.14 MB\)\n Non-trainable params: 0 \(0\.00 B\)\n$/);
  });

  test('the Functional seed example prints Connected to and 799,233 params', () => {
    const { code, stdout } = strata('summary', 'examples/purchase-predictor.ts');
    assert.equal(code, 0);
    assert.match(stdout, /Connected to/);
    assert.match(stdout, / Total params: 799,233 \(3\.05 MB\)/);
  });

  test('--json gives the same numbers', () => {
    const { code, stdout } = strata('summary', 'examples/purchase-predictor.ts', '--json');
    assert.equal(code, 0);
    const json = JSON.parse(stdout);
    assert.equal(json.total_params, 799233);
    assert.equal(json.trainable_params, 799233);
    assert.equal(json.non_trainable_params, 0);
    const concat = json.layers.find((l: { name: string }) => l.name === 'concatenate_branches');
    assert.deepEqual(concat, {
      name: 'concatenate_branches',
      class_name: 'Concatenate',
      output_shape: [null, 64],
      params: 0,
      inbound_layers: ['dense_image_2', 'dense_text_2'],
      connected_to: ['dense_image_2[0][0]', 'dense_text_2[0][0]'],
    });
    const seq = JSON.parse(strata('summary', 'examples/product-image-classifier.ts', '--json').stdout);
    assert.equal(seq.total_params, 822922);
    assert.deepEqual(seq.layers.map((l: { params: number }) => l.params), [896, 0, 18496, 0, 0, 802880, 0, 650]);
  });

  test('the subclassed example lists its fields\' layers, as Keras lists a subclassed model', () => {
    const { code, stdout } = strata('summary', 'examples/subclassed-cnn.ts', '--json');
    assert.equal(code, 0);
    const json = JSON.parse(stdout);
    assert.equal(json.class_name, 'SmallCnn');
    assert.deepEqual(json.layers.map((l: { class_name: string }) => l.class_name), ['Conv2D', 'MaxPooling2D', 'Flatten', 'Dense']);
    assert.equal(json.total_params, 320 + 13 * 13 * 32 * 10 + 10);
  });

  test('Keras JSON files and JavaScript factories are model files too', () => {
    const fromJson = strata('summary', 'test/fixtures/keras/purchase_predictor.tf2.json', '--json');
    assert.equal(fromJson.code, 0);
    assert.equal(JSON.parse(fromJson.stdout).total_params, 799233);
    const fromFactory = strata('summary', 'test/fixtures/models/factory.js');
    assert.equal(fromFactory.code, 0);
    assert.match(fromFactory.stdout, /Model: "from_factory"[\s\S]*Total params: 21 /);
  });

  test('bad model files give one line on stderr and exit 1', () => {
    const cases: [string[], RegExp][] = [
      [['summary', 'test/fixtures/models/shape-error.ts'], /^strata: test\/fixtures\/models\/shape-error\.ts:4: conv2: expected a 4-D input \(batch, h, w, c\), got \(None, 100\)\n$/],
      [['summary', 'test/fixtures/models/no-default-export.ts'], /^strata: test\/fixtures\/models\/no-default-export\.ts: the default export must be a model .*got nothing/],
      [['summary', 'no/such/model.ts'], /^strata: no\/such\/model\.ts: cannot read: no such file\n$/],
      [['summary', 'package.json'], /^strata: package\.json: no "class_name" at the top level/],
      [['summary', 'README.md'], /^strata: README\.md: unknown model file type "\.md"/],
    ];
    for (const [args, expected] of cases) {
      const { code, stdout, stderr } = strata(...args);
      assert.equal(code, 1, args.join(' '));
      assert.equal(stdout, '');
      assert.match(stderr, expected);
      assert.equal(stderr.trim().split('\n').length, 1, `one line: ${stderr}`);
    }
  });
});
