// The layer catalog (app/model/layer_catalog.ts) against the layer classes it describes: every
// class Strata reads has a row, every argument is a key the class's config writes, and the
// defaults the table states are the class's own (a layer built with them written out equals
// one built without them).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { INITIALIZER_NAMES, LAYER_CATALOG, LAYER_GROUPS, catalogEntry, getLayerClass, initializerName, newLayerConfig, registeredClassNames } from '../../app/model/index.ts';

test('every registered layer class has one catalog row, in one of Keras\'s groups', () => {
  assert.deepEqual([...registeredClassNames()].sort(), LAYER_CATALOG.map((entry) => entry.className).sort());
  for (const entry of LAYER_CATALOG) assert.ok(LAYER_GROUPS.includes(entry.group), `${entry.className}: group ${entry.group}`);
});

test('a new layer from the catalog builds, and writes every catalog argument into its config', () => {
  for (const entry of LAYER_CATALOG) {
    const layer = getLayerClass(entry.className)!.fromConfig(newLayerConfig(entry.className, 'probe'));
    const config = layer.getConfig();
    for (const arg of entry.args) {
      const key = arg.key === 'shape' ? 'batch_input_shape' : arg.key;
      // An unset optional argument (None) may be left out, as Embedding's input_length is.
      assert.ok(key in config || arg.default === null, `${entry.className}: config has no "${key}"`);
    }
  }
});

test('the defaults in the catalog are the layer classes\' own', () => {
  for (const entry of LAYER_CATALOG) {
    const cls = getLayerClass(entry.className)!;
    const full = newLayerConfig(entry.className, 'probe');
    // Only the required arguments (and the name): every other one left to the class.
    const required = Object.fromEntries(Object.entries(full).filter(([key]) => !entry.args.some((arg) => arg.key === key && arg.default !== undefined)));
    assert.deepEqual(cls.fromConfig(full).getConfig(), cls.fromConfig(required).getConfig(), `${entry.className}: the catalog's defaults differ from the class's`);
  }
});

test('a changed default would be caught: a catalog default that is not the class\'s gives another config', () => {
  const dense = catalogEntry('Dense')!;
  const cls = getLayerClass('Dense')!;
  const wrong = { ...newLayerConfig('Dense', 'probe'), use_bias: false };
  assert.notDeepEqual(cls.fromConfig(wrong).getConfig(), cls.fromConfig({ name: 'probe', units: 32 }).getConfig());
  assert.equal(dense.args.find((arg) => arg.key === 'use_bias')!.default, true);
});

test('initializerName: names and default configs are named, seeded ones are not', () => {
  for (const name of INITIALIZER_NAMES) assert.equal(initializerName(name), name);
  assert.equal(initializerName({ class_name: 'GlorotUniform', config: { seed: null } }), 'glorot_uniform');
  assert.equal(initializerName('uniform'), 'random_uniform');
  assert.equal(initializerName({ class_name: 'GlorotUniform', config: { seed: 42 } }), null);
  assert.equal(initializerName({ class_name: 'Constant', config: { value: 0.5 } }), null);
  assert.equal(initializerName('no_such_initializer'), null);
});
