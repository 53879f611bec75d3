// Keras's own model files (.h5 and .keras), read and written. The fixtures are written by
// test/fixtures/keras/make_keras_files.py with h5py in Keras's layout (legacy_h5_format.py's
// save_model_to_hdf5, saving_lib.py's _save_model_to_fileobj), with predictions computed in
// NumPy; Strata's own files are checked with h5py against the same layout.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { zipSync, unzipSync } from 'fflate';
import { loadModel } from '../../app/cli/load_model.ts';
import { ndarray } from '../../app/data/ndarray.ts';
import { formatNpy, readNpy } from '../../app/data/npy.ts';
import { ensureGroup, loadHdf5, writeHdf5, writeTextAttribute, writeTextListAttribute } from '../../app/io/hdf5.ts';
import { formatKerasArchive, formatKerasH5, loadKerasModel, saveKerasModel } from '../../app/io/keras_file.ts';
import { KERAS_WEIGHTS, isCompositeLayer, kerasContainerNames, kerasOrderedWeights, legacyWeights } from '../../app/io/keras_weights.ts';
import { BatchNormalization, Dense, Input, Model, Sequential, layers, modelFromJSON, StrataUserError, renderSummary, summaryData } from '../../app/model/index.ts';
import { deflateBomb, zipOf } from '../hostile_files.ts';
import { randomInputs, referencePredict } from '../reference/keras_forward.ts';
import { uNet, videoClassifier } from '../translate/models.ts';
import { mergeLayers } from '../export/models.ts';

const FIXTURES = path.join(import.meta.dirname, '..', 'fixtures', 'keras');
const EXAMPLES = path.join(import.meta.dirname, '..', '..', 'examples');
const scratch = mkdtempSync(path.join(tmpdir(), 'strata-keras-file-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

const expected = (name: string) => JSON.parse(readFileSync(path.join(FIXTURES, 'expected', name), 'utf8')) as { params: number; x: number[][]; y: number[][]; weights?: Record<string, number[]> };

function assertClose(actual: Float64Array, wanted: number[], tolerance: number): void {
  assert.equal(actual.length, wanted.length);
  actual.forEach((v, i) => assert.ok(Math.abs(v - wanted[i]!) <= tolerance, `value ${i}: ${v} vs ${wanted[i]}`));
}

describe('Keras files written in Keras\'s layout load with their weights', () => {
  test('a tf.keras 2.x .h5 (Sequential, BatchNormalization, Adam state): parameters, weights in _legacy_weights order, NumPy\'s predictions', async () => {
    const want = expected('mlp_bn.tf2.json');
    const model = await loadKerasModel(path.join(FIXTURES, 'mlp_bn.tf2.h5'));
    assert.equal(model.countParams(), want.params);
    for (const [name, values] of Object.entries(want.weights!)) {
      const [layer, weight] = name.replace(/:0$/, '').split('/') as [string, string];
      assert.deepEqual([...model.getLayer(layer).weights.find((w) => w.name === weight)!.value], values.map(Math.fround), name);
    }
    const x = { shape: [want.x.length, want.x[0]!.length], data: Float64Array.from(want.x.flat()) };
    assertClose(referencePredict(model, [x])[0]!.data, want.y.flat(), 1e-6);
    // load_model_from_hdf5 compiles from training_config.
    assert.ok(model.trainingConfig);
    model.compileFromTrainingConfig(model.trainingConfig);
    assert.equal(model.compiled?.optimizer.className, 'Adam');
  });

  test('a Keras 3 .keras (Functional, two Dense layers stored as layers/dense and layers/dense_1): parameters and NumPy\'s predictions', async () => {
    const want = expected('review_classifier.json');
    const model = await loadKerasModel(path.join(FIXTURES, 'review_classifier.keras'));
    assert.equal(model.countParams(), want.params);
    const x = { shape: [want.x.length, want.x[0]!.length], data: Float64Array.from(want.x.flat()) };
    assertClose(referencePredict(model, [x])[0]!.data, want.y.flat(), 1e-6);
  });

  test('every command\'s loader opens them (strata summary, predict, train, export read through loadModel)', async () => {
    for (const file of ['mlp_bn.tf2.h5', 'review_classifier.keras']) {
      const model = await loadModel(path.join(FIXTURES, file));
      assert.equal(model.countParams(), expected(file.startsWith('mlp') ? 'mlp_bn.tf2.json' : 'review_classifier.json').params);
    }
  });

  test('an .h5 of weights only (model.save_weights) is refused with a sentence saying what it is', async () => {
    await assert.rejects(loadKerasModel(path.join(FIXTURES, 'mlp_bn.weights_only.h5')), (error: Error) => {
      assert.ok(error instanceof StrataUserError);
      assert.match(error.message, /mlp_bn\.weights_only\.h5: holds only a model's weights, as model\.save_weights\(\) writes them/);
      assert.doesNotMatch(error.message, /\n/);
      return true;
    });
  });
});

/** The models the round trip covers: every example (Sequential, Functional, subclassed) and the fixtures. */
/** The layers added after the seed models, with weights: sequences (Conv1D, the recurrent layers, Attention, LayerNormalization, PReLU) and an image decoder (Conv2DTranspose). */
function laterLayersModel(): Model {
  const seq = Input({ shape: [6, 3], name: 'seq' });
  let x = new layers.Conv1D(4, 2, { padding: 'causal', name: 'conv1d' }).apply(seq);
  x = new layers.PReLU({ name: 'prelu' }).apply(x);
  x = new layers.LSTM(5, { returnSequences: true, name: 'lstm' }).apply(x);
  x = new layers.Attention({ useScale: true, name: 'attention' }).apply([x, x]);
  x = new layers.LayerNormalization({ name: 'norm' }).apply(x);
  x = new layers.GRU(4, { returnSequences: true, name: 'gru' }).apply(x);
  const pooled = new layers.SimpleRNN(3, { name: 'rnn' }).apply(x);
  const image = Input({ shape: [3, 3, 2], name: 'image' });
  const decoded = new layers.Flatten({ name: 'flat' }).apply(new layers.Conv2DTranspose(2, 2, { strides: 2, name: 'up' }).apply(image));
  const joined = layers.concatenate([pooled, decoded], { name: 'join' });
  return new Model({ inputs: [seq, image], outputs: new layers.Dense(2, { name: 'out' }).apply(joined), name: 'later_layers' });
}

/** The layers whose weights Keras keeps in inner layers: Bidirectional (LSTM, and GRU merged by sum) and MultiHeadAttention (with and without biases). */
function compositeLayersModel(): Model {
  const seq = Input({ shape: [5, 3], name: 'seq' });
  let x = new layers.Bidirectional(new layers.LSTM(4, { returnSequences: true, name: 'lstm' }), { name: 'bidirectional' }).apply(seq);
  x = new layers.MultiHeadAttention(2, 3, { name: 'mha' }).apply([x, x]);
  x = new layers.Bidirectional(new layers.GRU(3, { returnSequences: true, name: 'gru' }), { mergeMode: 'sum', name: 'bidirectional_1' }).apply(x);
  x = new layers.MultiHeadAttention(1, 2, { useBias: false, valueDim: 4, name: 'mha_no_bias' }).apply([x, x]);
  return new Model({ inputs: seq, outputs: new layers.Dense(2, { name: 'out' }).apply(new layers.GlobalAveragePooling1D({ name: 'pool' }).apply(x)), name: 'composite_layers' });
}

/** TimeDistributed over a Dense, over a frozen BatchNormalization (moving statistics), and over an LSTM (its variables in the cell). */
function timeDistributedModel(): Model {
  const clip = Input({ shape: [3, 4, 5], name: 'clip' });
  let x = new layers.TimeDistributed(new layers.Dense(6, { name: 'per_step' }), { name: 'time_distributed' }).apply(clip);
  x = new layers.TimeDistributed(new layers.BatchNormalization({ name: 'bn' }), { name: 'norm', trainable: false }).apply(x);
  x = new layers.TimeDistributed(new layers.LSTM(2, { name: 'lstm' }), { name: 'time_distributed_1' }).apply(x);
  return new Model({ inputs: clip, outputs: x, name: 'time_distributed_recurrent' });
}

async function roundTripModels(): Promise<[string, Model][]> {
  const examples = ['mlp.ts', 'mobilenet-style.ts', 'lenet5.ts', 'resnet-block.ts', 'product-image-classifier.ts', 'purchase-predictor.ts', 'fashion-mnist-classifier.ts', 'subclassed-cnn.ts'];
  const models: [string, Model][] = [];
  for (const file of examples) models.push([file, await loadModel(path.join(EXAMPLES, file))]);
  models.push(['later_layers', laterLayersModel()]);
  models.push(['composite_layers', compositeLayersModel()]);
  models.push(['mlp_bn.tf2.h5', await loadKerasModel(path.join(FIXTURES, 'mlp_bn.tf2.h5'))]);
  models.push(['review_classifier.keras', await loadKerasModel(path.join(FIXTURES, 'review_classifier.keras'))]);
  models.push(['unet (UpSampling2D)', uNet()]);
  models.push(['merge_layers (Subtract, Maximum, Minimum, Dot)', mergeLayers()]);
  models.push(['video_classifier (TimeDistributed)', videoClassifier()]);
  models.push(['time_distributed_recurrent', timeDistributedModel()]);
  return models;
}

describe('round trip: a Strata model saved to .keras and .h5 reads back the same', () => {
  test('same summary, same weights and the same predictions, bit for bit', async () => {
    for (const [name, model] of await roundTripModels()) {
      // Weights that differ from any initializer's, so that a mix-up shows.
      model.weights.forEach((w, i) => (w.value = w.value.map((_, j) => Math.fround(Math.sin(i * 7919 + j)))));
      const inputs = randomInputs(model, 2, 5);
      const before = referencePredict(model, inputs);
      for (const ext of ['.keras', '.h5']) {
        const file = path.join(scratch, `${name}${ext}`);
        await saveKerasModel(model, file);
        const back = await loadKerasModel(file);
        // A subclassed model is saved as the Functional graph its call() traces to (as Keras JSON
        // is): its summary gains that graph's InputLayer row.
        const summary = renderSummary(summaryData(model.isSubclassed ? modelFromJSON(model.toJSON()) : model));
        assert.equal(renderSummary(summaryData(back)), summary, `${name}${ext}: summary`);
        assert.deepEqual(back.getWeights(), model.getWeights(), `${name}${ext}: weights`);
        assert.deepEqual(referencePredict(back, inputs), before, `${name}${ext}: predictions`);
      }
    }
  });

  test('a compiled model keeps its training config through both formats', async () => {
    const model = new Sequential([new Dense(3, { inputShape: [2], name: 'd' })], { name: 'compiled' });
    model.compile({ optimizer: 'adam', loss: 'mse' });
    for (const ext of ['.keras', '.h5']) {
      const file = path.join(scratch, `compiled${ext}`);
      await saveKerasModel(model, file);
      const back = await loadKerasModel(file);
      back.compileFromTrainingConfig(back.trainingConfig!);
      assert.equal(back.compiled?.optimizer.className, 'Adam', ext);
      assert.deepEqual(JSON.stringify(back.compiled?.losses), JSON.stringify(model.compiled?.losses), ext);
    }
  });

  test('a file name without .keras or .h5 is refused, as Keras\'s save refuses it', async () => {
    await assert.rejects(saveKerasModel(new Sequential([new Dense(1, { inputShape: [1] })]), path.join(scratch, 'model.pt')), /a Keras model file ends in \.keras or \.h5, not "\.pt"/);
  });
});

describe('the weight order table', () => {
  test('every Strata layer class with weights has a row whose names are its weights', async () => {
    for (const [, model] of await roundTripModels()) {
      const visit = (layers: readonly import('../../app/model/index.ts').Layer[]): void => {
        for (const layer of layers) {
          if (layer instanceof Model) visit(layer.layers);
          else if (isCompositeLayer(layer.className)) assert.deepEqual(new Set(kerasOrderedWeights(layer)), new Set(layer.weights), layer.className);
          else if (layer.weights.length > 0) assert.deepEqual(layer.weights.map((w) => w.name).filter((n) => !KERAS_WEIGHTS[layer.className]!.variables.includes(n)), [], layer.className);
        }
      };
      visit(model.layers);
    }
  });

  test('.keras container names follow saving_lib._save_container_state: snake_case class name, then _1, _2 for repeats', () => {
    const a = new Dense(2, { inputShape: [2], name: 'first' });
    const model = new Sequential([a, new BatchNormalization({ name: 'x' }), new Dense(2, { name: 'second' }), new Dense(2, { name: 'third' })]);
    assert.deepEqual(kerasContainerNames(model.layers).map(([name]) => name), ['dense', 'batch_normalization', 'dense_1', 'dense_2']);
  });

  test('.h5 weights of a frozen BatchNormalization keep Keras\'s order; a nested model lists trainable weights first (_legacy_weights)', () => {
    const inner = new Sequential([new Dense(2, { inputShape: [2], name: 'd' }), new BatchNormalization({ name: 'bn' })], { name: 'inner' });
    assert.deepEqual(legacyWeights(inner).map((w) => w.name), ['kernel', 'bias', 'gamma', 'beta', 'moving_mean', 'moving_variance']);
    const nested = new Sequential([inner, new Dense(1, { name: 'out' })], { name: 'outer' });
    nested.build([null, 2]);
    assert.deepEqual(legacyWeights(nested).map((w) => w.name), ['kernel', 'bias', 'gamma', 'beta', 'kernel', 'bias', 'moving_mean', 'moving_variance']);
    // A frozen layer's weights are all non-trainable: they follow every trainable one.
    inner.getLayer('bn').trainable = false;
    assert.deepEqual(legacyWeights(inner).map((w) => w.name), ['kernel', 'bias', 'gamma', 'beta', 'moving_mean', 'moving_variance']);
    inner.getLayer('d').trainable = false;
    assert.deepEqual(legacyWeights(nested).map((w) => `${w.name}`), ['kernel', 'bias', 'kernel', 'bias', 'gamma', 'beta', 'moving_mean', 'moving_variance']);
  });
});

/** Runs a Python check (h5py) on `file`; the script asserts and prints "ok". */
function python(script: string, file: string): void {
  const run = spawnSync('/usr/bin/python3', ['-c', script, file], { encoding: 'utf8' });
  assert.equal(run.status, 0, run.stderr);
  assert.equal(run.stdout.trim(), 'ok');
}

describe('files written by Strata have the layout Keras reads (checked with h5py)', () => {
  const model = () => {
    const m = new Sequential([new Dense(3, { inputShape: [4], name: 'hidden' }), new BatchNormalization({ name: 'bn' }), new Dense(2, { name: 'out' })], { name: 'layout' });
    m.compile({ optimizer: 'adam', loss: 'mse' });
    return m;
  };

  test('.h5: root attributes as json.dumps(...).encode("utf8"), model_weights with layer_names and weight_names as byte strings, float32 datasets at the named paths', async () => {
    const file = path.join(scratch, 'layout.h5');
    writeFileSync(file, await formatKerasH5(model()));
    python(
      `
import sys, json, h5py, numpy as np
f = h5py.File(sys.argv[1], 'r')
# load_model_from_hdf5: model_config and training_config decode("utf-8") to JSON.
for key in ('model_config', 'training_config', 'keras_version', 'backend'):
    assert isinstance(f.attrs[key], bytes), (key, type(f.attrs[key]))
config = json.loads(f.attrs['model_config'].decode('utf-8'))
assert config['class_name'] == 'Sequential' and set(config) == {'class_name', 'config'}, config.keys()
assert 'optimizer_config' in json.loads(f.attrs['training_config'])
w = f['model_weights']
# load_attributes_from_hdf5_group: a list of bytes.
assert [n.decode('utf8') for n in w.attrs['layer_names']] == ['hidden', 'bn', 'out']
assert w.attrs['layer_names'].dtype.kind == 'S'
names = [n.decode('utf8') for n in w['bn'].attrs['weight_names']]
assert names == ['bn/gamma:0', 'bn/beta:0', 'bn/moving_mean:0', 'bn/moving_variance:0'], names
for layer, shapes in (('hidden', [(4, 3), (3,)]), ('bn', [(3,)] * 4), ('out', [(3, 2), (2,)])):
    g = w[layer]
    values = [np.asarray(g[n]) for n in (n.decode('utf8') for n in g.attrs['weight_names'])]
    assert [v.shape for v in values] == shapes, (layer, [v.shape for v in values])
    assert all(v.dtype == np.float32 for v in values)
print('ok')
`,
      file,
    );
  });

  test('.keras: a zip of metadata.json, config.json, model.weights.h5 (stored), vars groups at layers/<snake_case class>[_k]/vars/<i>', async () => {
    const file = path.join(scratch, 'layout.keras');
    writeFileSync(file, await formatKerasArchive(model()));
    python(
      `
import sys, io, json, zipfile, h5py, numpy as np
z = zipfile.ZipFile(sys.argv[1])
assert z.namelist() == ['metadata.json', 'config.json', 'model.weights.h5'], z.namelist()
assert all(i.compress_type == zipfile.ZIP_STORED for i in z.infolist())
meta = json.loads(z.read('metadata.json'))
assert set(meta) == {'keras_version', 'date_saved'}, meta
config = json.loads(z.read('config.json'))
assert config['class_name'] == 'Sequential' and config['compile_config']['optimizer']['class_name'] == 'Adam'
h5 = h5py.File(io.BytesIO(z.read('model.weights.h5')), 'r')
assert 'vars' in h5 and len(h5['vars']) == 0
shapes = {p: [h5[f'{p}/vars/{i}'].shape for i in range(len(h5[f'{p}/vars']))] for p in ('layers/dense', 'layers/batch_normalization', 'layers/dense_1')}
assert shapes == {'layers/dense': [(4, 3), (3,)], 'layers/batch_normalization': [(3,)] * 4, 'layers/dense_1': [(3, 2), (2,)]}, shapes
assert h5['layers/dense/vars/0'].dtype == np.float32
print('ok')
`,
      file,
    );
  });
});

describe('Bidirectional and MultiHeadAttention in Keras\'s layout (checked with h5py)', () => {
  const weighted = () => {
    const model = compositeLayersModel();
    model.weights.forEach((w, i) => (w.value = w.value.map((_, j) => Math.fround(Math.cos(i * 104729 + j)))));
    return model;
  };
  /** The model with its weights saved as `name`.keras in the scratch folder. */
  const savedArchive = async (name: string) => {
    const model = weighted();
    const file = path.join(scratch, `${name}.keras`);
    writeFileSync(file, await formatKerasArchive(model));
    return { model, file };
  };

  test('.keras: forward_layer/cell and backward_layer/cell (bidirectional.py), query_dense ... output_dense with kernel then bias (multi_head_attention.py), every inner layer a named vars group', async () => {
    const { model, file } = await savedArchive('composite');
    python(
      `
import sys, io, zipfile, h5py
z = zipfile.ZipFile(sys.argv[1])
h5 = h5py.File(io.BytesIO(z.read('model.weights.h5')), 'r')
found = {}
h5.visititems(lambda n, o: found.__setitem__(n, o.attrs.get('name', getattr(o, 'shape', None))) if n.endswith('/vars') or '/vars/' in n else None)
b, m = 'layers/bidirectional', 'layers/multi_head_attention'
want = {
  b + '/vars': 'bidirectional',
  b + '/forward_layer/vars': 'forward_lstm', b + '/forward_layer/cell/vars': 'lstm_cell',
  b + '/forward_layer/cell/vars/0': (3, 16), b + '/forward_layer/cell/vars/1': (4, 16), b + '/forward_layer/cell/vars/2': (16,),
  b + '/backward_layer/vars': 'backward_lstm', b + '/backward_layer/cell/vars': 'lstm_cell',
  b + '/backward_layer/cell/vars/0': (3, 16), b + '/backward_layer/cell/vars/1': (4, 16), b + '/backward_layer/cell/vars/2': (16,),
  m + '/vars': 'mha',
  m + '/query_dense/vars': 'query', m + '/query_dense/vars/0': (8, 2, 3), m + '/query_dense/vars/1': (2, 3),
  m + '/key_dense/vars': 'key', m + '/key_dense/vars/0': (8, 2, 3), m + '/key_dense/vars/1': (2, 3),
  m + '/value_dense/vars': 'value', m + '/value_dense/vars/0': (8, 2, 3), m + '/value_dense/vars/1': (2, 3),
  m + '/output_dense/vars': 'attention_output', m + '/output_dense/vars/0': (2, 3, 8), m + '/output_dense/vars/1': (8,),
  m + '/_softmax/vars': 'softmax', m + '/_dropout_layer/vars': 'dropout',
}
got = {k: v for k, v in found.items() if k.startswith((b + '/', m + '/'))}
assert got == want, sorted(set(got.items()) ^ set(want.items()))
# the GRU and the bias-free attention: GRU's cell, and kernels only
assert h5['layers/bidirectional_1/backward_layer/cell/vars/1'].shape == (3, 9)
assert [h5[f'layers/multi_head_attention_1/{p}/vars'].keys().__len__() for p in ('query_dense', 'key_dense', 'value_dense', 'output_dense')] == [1, 1, 1, 1]
assert h5['layers/multi_head_attention_1/value_dense/vars/0'].shape == (3, 1, 4)  # after the GRU's sum: 3 features
assert h5['vars'].attrs['name'] == 'composite_layers' and h5['layers/global_average_pooling1d/vars'].attrs['name'] == 'pool'
print('ok')
`,
      file,
    );
    const back = await loadKerasModel(file);
    assert.deepEqual(back.getWeights(), model.getWeights());
  });

  test('.h5: the forward layer\'s weights, then the backward layer\'s; query, key, value, attention_output, kernel before bias (tf.keras 2.x\'s names)', async () => {
    const file = path.join(scratch, 'composite.h5');
    writeFileSync(file, await formatKerasH5(weighted()));
    python(
      `
import sys, h5py
w = h5py.File(sys.argv[1], 'r')['model_weights']
names = lambda layer: [n.decode('utf8') for n in w[layer].attrs['weight_names']]
cell = ['kernel:0', 'recurrent_kernel:0', 'bias:0']
assert names('bidirectional') == [f'bidirectional/forward_lstm/{n}' for n in cell] + [f'bidirectional/backward_lstm/{n}' for n in cell], names('bidirectional')
assert names('mha') == [f'mha/{p}/{v}:0' for p in ('query', 'key', 'value', 'attention_output') for v in ('kernel', 'bias')], names('mha')
assert names('mha_no_bias') == [f'mha_no_bias/{p}/kernel:0' for p in ('query', 'key', 'value', 'attention_output')]
assert w['bidirectional/bidirectional/backward_lstm/recurrent_kernel:0'].shape == (4, 16)
assert w['mha/mha/attention_output/kernel:0'].shape == (2, 3, 8)
print('ok')
`,
      file,
    );
  });

  test('TimeDistributed: .keras keeps the wrapped layer under "layer" (wrapper.py), an LSTM\'s variables in layer/cell; .h5 names them "<wrapper>/kernel:0"', async () => {
    const model = timeDistributedModel();
    model.weights.forEach((w, i) => (w.value = w.value.map((_, j) => Math.fround(Math.cos(i * 104729 + j)))));
    const archive = path.join(scratch, 'time_distributed.keras');
    writeFileSync(archive, await formatKerasArchive(model));
    python(
      `
import sys, io, zipfile, h5py
z = zipfile.ZipFile(sys.argv[1])
h5 = h5py.File(io.BytesIO(z.read('model.weights.h5')), 'r')
found = {}
h5.visititems(lambda n, o: found.__setitem__(n, o.attrs.get('name', getattr(o, 'shape', None))) if n.endswith('/vars') or '/vars/' in n else None)
t, t1, t2 = 'layers/time_distributed', 'layers/time_distributed_1', 'layers/time_distributed_2'
want = {
  t + '/vars': 'time_distributed', t + '/layer/vars': 'per_step', t + '/layer/vars/0': (5, 6), t + '/layer/vars/1': (6,),
  t1 + '/vars': 'norm', t1 + '/layer/vars': 'bn', t1 + '/layer/vars/0': (6,), t1 + '/layer/vars/1': (6,), t1 + '/layer/vars/2': (6,), t1 + '/layer/vars/3': (6,),
  t2 + '/vars': 'time_distributed_1', t2 + '/layer/vars': 'lstm', t2 + '/layer/cell/vars': 'lstm_cell',
  t2 + '/layer/cell/vars/0': (6, 8), t2 + '/layer/cell/vars/1': (2, 8), t2 + '/layer/cell/vars/2': (8,),
}
got = {k: v for k, v in found.items() if k.startswith('layers/time_distributed')}
assert got == want, sorted(set(got.items()) ^ set(want.items()))
print('ok')
`,
      archive,
    );
    assert.deepEqual((await loadKerasModel(archive)).getWeights(), model.getWeights());
    const h5 = path.join(scratch, 'time_distributed.h5');
    writeFileSync(h5, await formatKerasH5(model));
    python(
      `
import sys, h5py
w = h5py.File(sys.argv[1], 'r')['model_weights']
names = lambda layer: [n.decode('utf8') for n in w[layer].attrs['weight_names']]
assert names('time_distributed') == ['time_distributed/kernel:0', 'time_distributed/bias:0'], names('time_distributed')
assert names('norm') == [f'norm/{n}:0' for n in ('gamma', 'beta', 'moving_mean', 'moving_variance')], names('norm')
assert names('time_distributed_1') == [f'time_distributed_1/{n}:0' for n in ('kernel', 'recurrent_kernel', 'bias')], names('time_distributed_1')
print('ok')
`,
      h5,
    );
    assert.deepEqual((await loadKerasModel(h5)).getWeights(), model.getWeights());
  });

  test('.keras from a Keras 3 release before the query_dense properties (_query_dense ... groups) loads the same weights', async () => {
    const { model, file } = await savedArchive('composite_underscored');
    python(
      `
import sys, io, zipfile, h5py
z = zipfile.ZipFile(sys.argv[1])
members = {n: z.read(n) for n in z.namelist()}
buffer = io.BytesIO(members['model.weights.h5'])
with h5py.File(buffer, 'r+') as h5:
    for layer in ('multi_head_attention', 'multi_head_attention_1'):
        for p in ('query_dense', 'key_dense', 'value_dense', 'output_dense'):
            h5.move(f'layers/{layer}/{p}', f'layers/{layer}/_{p}')
members['model.weights.h5'] = buffer.getvalue()
with zipfile.ZipFile(sys.argv[1], 'w') as out:
    for n, data in members.items():
        out.writestr(n, data)
print('ok')
`,
      file,
    );
    const back = await loadKerasModel(file);
    assert.deepEqual(back.getWeights(), model.getWeights());
  });
});

describe('optimizer state in Keras files', () => {
  /** Every group and dataset of an HDF5 file (under `root`), with shapes, dtypes and attribute names, except under the given prefixes. */
  const tree = (file: string, member: string, skip: string[]) => {
    const run = spawnSync('/usr/bin/python3', ['-c', `
import sys, io, json, zipfile, h5py
path, member, skip = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
f = h5py.File(io.BytesIO(zipfile.ZipFile(path).read(member)) if member else path, 'r')
out = {'/': sorted(f.attrs)}
def visit(name, obj):
    if any(name == s or name.startswith(s + '/') for s in skip): return
    out[name] = [sorted(obj.attrs), list(obj.shape) if hasattr(obj, 'shape') else None, str(obj.dtype) if hasattr(obj, 'dtype') else None]
f.visititems(visit)
print(json.dumps(out))
`, file, member, JSON.stringify(skip)], { encoding: 'utf8' });
    assert.equal(run.status, 0, run.stderr);
    return JSON.parse(run.stdout) as Record<string, unknown>;
  };

  test('a real Keras 3.9.2 .keras with Adam\'s state loads (the state is not read); Strata writes the same model.weights.h5 without optimizer/', async () => {
    const real = path.join(FIXTURES, 'real', 'flownet_final_model.keras');
    const model = await loadKerasModel(real);
    const file = path.join(scratch, 'flownet_again.keras');
    await saveKerasModel(model, file);
    assert.ok(Object.keys(tree(real, 'model.weights.h5', [])).some((p) => p.startsWith('optimizer/vars/')), 'the real file has optimizer state');
    assert.deepEqual(tree(file, 'model.weights.h5', []), tree(real, 'model.weights.h5', ['optimizer']));
  });

  test('a tf.keras 2.x .h5 with optimizer_weights loads (the state is not read); Strata writes the same groups, datasets and attributes without optimizer_weights', async () => {
    const fixture = path.join(FIXTURES, 'mlp_bn.tf2.h5');
    const file = path.join(scratch, 'mlp_bn_again.h5');
    await saveKerasModel(await loadKerasModel(fixture), file);
    assert.ok('optimizer_weights' in tree(fixture, '', []));
    assert.deepEqual(tree(file, '', []), tree(fixture, '', ['optimizer_weights']));
  });
});

describe('hostile and broken Keras files: one line naming the file and what is wrong, memory bounded by the model', () => {
  let counter = 0;
  const place = (ext: string) => path.join(scratch, `hostile${counter++}${ext}`);
  const tiny = (units = 3) => new Sequential([new Dense(units, { inputShape: [2], name: 'd' })], { name: 'tiny' });
  const configOf = (model: Model) => {
    const json = JSON.parse(model.toJSON());
    return JSON.stringify({ class_name: json.class_name, config: json.config });
  };
  /** An .h5 laid out as save_model_to_hdf5 lays it out, with the parts each case wants. */
  const h5 = async (build: (f: import('../../app/io/hdf5.ts').H5File) => void) => {
    await loadHdf5();
    const file = place('.h5');
    writeFileSync(file, writeHdf5(build));
    return file;
  };
  const legacyModel = (config: string, weights: Record<string, [string, Float32Array | Int32Array, number[]][]>, layerNames = Object.keys(weights)) =>
    h5((f) => {
      writeTextAttribute(f, 'model_config', config);
      const group = f.create_group('model_weights');
      writeTextListAttribute(group, 'layer_names', layerNames);
      for (const [layer, list] of Object.entries(weights)) {
        const g = group.create_group(layer);
        writeTextListAttribute(g, 'weight_names', list.map(([name]) => name));
        for (const [name, data, shape] of list) ensureGroup(g, path.posix.dirname(name)).create_dataset({ name: path.posix.basename(name), data, shape });
      }
    });
  const denseWeights = (units: number, kernelShape = [2, units]) => ({
    d: [
      ['d/kernel:0', new Float32Array(kernelShape.reduce((a, b) => a * b, 1)), kernelShape],
      ['d/bias:0', new Float32Array(units), [units]],
    ] as [string, Float32Array, number[]][],
  });

  async function refused(file: string, pattern: RegExp): Promise<void> {
    await assert.rejects(loadKerasModel(file), (error: Error) => {
      assert.ok(error instanceof StrataUserError, `${error.name}: ${error.message}`);
      assert.ok(error.message.startsWith(file), error.message);
      assert.match(error.message, pattern);
      assert.doesNotMatch(error.message, /\n/);
      return true;
    });
  }

  test('not a Keras file at all: empty, random bytes, a zip named .h5, an HDF5 file named .keras, half a file', async () => {
    for (const ext of ['.h5', '.keras']) {
      const empty = place(ext);
      writeFileSync(empty, '');
      await refused(empty, /the file is empty/);
    }
    const noise = place('.h5');
    writeFileSync(noise, Buffer.from('this is not hdf5 at all, just text'.repeat(20)));
    await refused(noise, /not an HDF5 file/);
    const zipNamedH5 = place('.h5');
    writeFileSync(zipNamedH5, await formatKerasArchive(tiny()));
    await refused(zipNamedH5, /zip archive, as a Keras 3 \.keras file is: rename it to \.keras/);
    const h5NamedKeras = place('.keras');
    writeFileSync(h5NamedKeras, await formatKerasH5(tiny()));
    await refused(h5NamedKeras, /HDF5 file, as a Keras \.h5 model is: rename it to \.h5/);
    const whole = await formatKerasH5(tiny());
    for (const cut of [100, 1000, Math.floor(whole.length / 2), whole.length - 10]) {
      const half = place('.h5');
      writeFileSync(half, whole.subarray(0, cut));
      await refused(half, /./);
    }
  });

  test('an HDF5 file that is not a Keras model, or whose model_config is not a model', async () => {
    await refused(await h5((f) => f.create_group('data')), /not a Keras model file: it has no "model_config" attribute/);
    await refused(await h5((f) => writeTextAttribute(f, 'model_config', '{"class_name": "Sequ')), /attribute "model_config" is not valid JSON/);
    await refused(await h5((f) => writeTextAttribute(f, 'model_config', '[1, 2]')), /attribute "model_config" must hold a JSON object/);
    await refused(await h5((f) => writeTextAttribute(f, 'model_config', configOf(tiny()))), /has a model_config but no "model_weights" group/);
    // Keras 3's model.save_weights("x.weights.h5"): layers/<name>/vars, no model_config.
    await refused(await h5((f) => ensureGroup(f, 'layers/dense/vars')), /holds only a model's weights, as Keras 3's model\.save_weights/);
  });

  test('layers Strata cannot build are refused by name, as for Keras JSON; code is never run', async () => {
    const config = JSON.parse(configOf(tiny()));
    config.config.layers.push({ class_name: 'FancyAttention', config: { name: 'fancy' } });
    await refused(await legacyModel(JSON.stringify(config), denseWeights(3)), /layer "fancy" has unsupported class "FancyAttention"/);
    config.config.layers[config.config.layers.length - 1] = { class_name: 'Lambda', config: { name: 'code', function: 'x' } };
    await refused(await legacyModel(JSON.stringify(config), denseWeights(3)), /layer "code" is a Lambda layer/);
  });

  test('weights that do not fit: a shape that differs names the layer, the weight and both shapes; counts, missing datasets, dtypes', async () => {
    await refused(await legacyModel(configOf(tiny(4)), denseWeights(3)), /layer "d" \(model_weights\/d\): weight "d\/kernel:0": shape \[2, 3\] in the file, the layer's kernel has shape \[2, 4\]/);
    await refused(await legacyModel(configOf(tiny()), { ...denseWeights(3), e: denseWeights(3).d }), /the model has 1 layers with weights \(d\), the file's model_weights 2 \(d, e\)/);
    await refused(await legacyModel(configOf(tiny()), denseWeights(3), ['d', 'ghost']), /lists layer "ghost" but has no group of that name/);
    await refused(await legacyModel(configOf(tiny()), { d: denseWeights(3).d.slice(0, 1) }), /the layer has 2 weights \(kernel, bias\), the file 1/);
    await refused(await legacyModel(configOf(tiny()), { d: [['d/kernel:0', new Int32Array(6), [2, 3]], denseWeights(3).d[1]!] }), /dtype <i; model weights must be float32 or float64/);
    const missing = await h5((f) => {
      writeTextAttribute(f, 'model_config', configOf(tiny()));
      const g = f.create_group('model_weights');
      writeTextListAttribute(g, 'layer_names', ['d']);
      writeTextListAttribute(g.create_group('d'), 'weight_names', ['d/kernel:0', 'd/bias:0']);
    });
    await refused(missing, /weight_names lists "d\/kernel:0", which is not a dataset in the group/);
  });

  test('a dataset that declares 4 TB in a tiny file is refused by its shape before a value is read', async () => {
    const file = await h5((f) => {
      writeTextAttribute(f, 'model_config', configOf(tiny()));
      const g = f.create_group('model_weights');
      writeTextListAttribute(g, 'layer_names', ['d']);
      const layer = g.create_group('d');
      writeTextListAttribute(layer, 'weight_names', ['kernel', 'bias']);
      layer.create_dataset({ name: 'kernel', data: new Float32Array(1), shape: [1, 1], maxshape: [null, null], chunks: [1, 1], compression: 'gzip' }).resize([1_000_000, 1_000_000]);
      layer.create_dataset({ name: 'bias', data: new Float32Array(3), shape: [3] });
    });
    await refused(file, /shape \[1000000, 1000000\] in the file, the layer's kernel has shape \[2, 3\]/);
  });

  test('.keras archives: no config.json, npz weights, a corrupt member, a config.json that inflates without end, missing or extra variables', async () => {
    const archive = async (members: Record<string, Uint8Array>) => {
      const file = place('.keras');
      writeFileSync(file, zipSync(members, { level: 0 }));
      return file;
    };
    const text = (s: string) => new TextEncoder().encode(s);
    const weightsOf = async (model: Model) => unzipSync(await formatKerasArchive(model))['model.weights.h5']!;
    await refused(await archive({ 'metadata.json': text('{}') }), /the archive has no config\.json/);
    await refused(await archive({ 'config.json': text(configOf(tiny())), 'model.weights.npz': new Uint8Array(4) }), /no model\.weights\.h5 \(it has model\.weights\.npz/);
    await refused(await archive({ 'config.json': text(configOf(tiny(4))), 'model.weights.h5': await weightsOf(tiny()) }), /layer "d" \(layers\/dense\/vars\): variable 0 \(kernel\): shape \[2, 3\] in the file, the layer's kernel has shape \[2, 4\]/);
    const noBias = JSON.parse(configOf(tiny()));
    noBias.config.layers.at(-1).config.use_bias = false;
    await refused(await archive({ 'config.json': text(JSON.stringify(noBias)), 'model.weights.h5': await weightsOf(tiny()) }), /the layer expects 1 variables \(kernel\), the file has 2/);
    const renamed = JSON.parse(configOf(tiny()));
    renamed.config.layers.at(-1).class_name = 'BatchNormalization';
    renamed.config.layers.at(-1).config = { name: 'd' };
    await refused(await archive({ 'config.json': text(JSON.stringify(renamed)), 'model.weights.h5': await weightsOf(tiny()) }), /layers\/batch_normalization\/vars\): no such group/);
    const corrupt = zipSync({ 'config.json': text(configOf(tiny())), 'model.weights.h5': await weightsOf(tiny()) }, { level: 0 });
    corrupt[corrupt.length - 200] ^= 0xff; // inside model.weights.h5's bytes
    const corruptFile = place('.keras');
    writeFileSync(corruptFile, corrupt);
    await refused(corruptFile, /CRC-32 does not match/);
    const bomb = place('.keras');
    writeFileSync(bomb, zipOf('config.json', deflateBomb(text('{"class_name": "'), 8), 2 ** 31));
    await refused(bomb, /config\.json\]: 2\.00 GB, more than the 64\.00 MB Strata reads from a model JSON/);
  });
});

describe('the CLI on Keras files: summary, inspect, predict, export', () => {
  const root = path.join(import.meta.dirname, '..', '..');
  const strata = (...args: string[]) => spawnSync(process.execPath, ['app/cli/strata.js', ...args], { cwd: root, encoding: 'utf8' });
  const h5 = path.join(FIXTURES, 'mlp_bn.tf2.h5');

  test('summary prints Keras\'s parameter counts; inspect lists the format, the model and every weight dataset', () => {
    const summary = strata('summary', h5);
    assert.equal(summary.status, 0, summary.stderr);
    assert.match(summary.stdout, /Model: "mlp_bn"/);
    assert.match(summary.stdout, /Total params: 99 \(396\.00 B\)/);
    const inspect = strata('inspect', h5);
    assert.equal(inspect.status, 0, inspect.stderr);
    assert.match(inspect.stdout, /Format: Keras HDF5/);
    assert.match(inspect.stdout, /Written by: Keras 2\.15\.0, backend tensorflow/);
    assert.match(inspect.stdout, /Optimizer state: 7 datasets/);
    assert.match(inspect.stdout, /model_weights\/hidden\/hidden\/kernel:0\s+float32\s+\[4, 8\]/);
    const json = JSON.parse(strata('inspect', '--json', path.join(FIXTURES, 'review_classifier.keras')).stdout);
    assert.equal(json.format, 'keras');
    assert.equal(json.kerasVersion, '3.3.3');
    assert.deepEqual(json.weights.map((w: { path: string }) => w.path), ['layers/dense/vars/0', 'layers/dense/vars/1', 'layers/dense_1/vars/0', 'layers/dense_1/vars/1', 'layers/embedding/vars/0']);
  });

  test('predict runs a .h5 with NumPy\'s predictions; export writes .keras and .h5 by extension, which load back', () => {
    const want = expected('mlp_bn.tf2.json');
    const input = path.join(scratch, 'x.npy');
    writeFileSync(input, formatNpy(ndarray('float32', [want.x.length, 4], Float32Array.from(want.x.flat()))));
    const out = path.join(scratch, 'y.npy');
    const predict = strata('predict', h5, '-i', input, '-o', out);
    assert.equal(predict.status, 0, predict.stderr);
    assertClose(Float64Array.from(readNpy(out).data as Float32Array), want.y.flat(), 1e-6);
    for (const ext of ['.keras', '.h5']) {
      const file = path.join(scratch, `exported${ext}`);
      const exported = strata('export', h5, '-o', file);
      assert.equal(exported.status, 0, exported.stderr);
      assert.match(strata('summary', file).stdout, /Total params: 99 /);
    }
    const wrong = strata('export', h5, '-o', path.join(scratch, 'model.pb'));
    assert.notEqual(wrong.status, 0);
    assert.match(wrong.stderr, /model\.pb: unknown output format "\.pb"; give a \.onnx, \.keras or \.h5 file name/);
  });
});

describe('real Keras files from public repositories (test/fixtures/keras/real/SOURCE.md)', () => {
  const REAL = path.join(FIXTURES, 'real');

  test('a Keras 3.9.2 .keras (Sequential: Dense, Dropout, LeakyReLU; compiled, Adam state) loads with its parameter count, and predicts as NumPy does with the file\'s own weights', async () => {
    const file = path.join(REAL, 'flownet_final_model.keras');
    const model = await loadModel(file);
    // Keras's summary: 2*128+128 + 128*64+64 + 64*32+32 + 32*2+2 (the datasets under layers/).
    assert.equal(model.countParams(), 10_786);
    model.compileFromTrainingConfig(model.trainingConfig!);
    assert.equal(model.compiled?.optimizer.className, 'Adam');
    const x = [[0.5, -1.25], [3, 0.125], [-2, 2]];
    const numpy = spawnSync(
      '/usr/bin/python3',
      [
        '-c',
        `
import sys, io, json, zipfile, h5py, numpy as np
z = zipfile.ZipFile(sys.argv[1])
config = json.loads(z.read('config.json'))
h5 = h5py.File(io.BytesIO(z.read('model.weights.h5')), 'r')
x = np.array(json.loads(sys.argv[2]), dtype=np.float64)
dense = 0
for layer in config['config']['layers']:
    kind, c = layer['class_name'], layer['config']
    if kind == 'Dense':
        group = h5['layers/dense' + ('' if dense == 0 else f'_{dense}') + '/vars']
        dense += 1
        x = x @ np.asarray(group['0'], dtype=np.float64) + np.asarray(group['1'], dtype=np.float64)
        if c['activation'] == 'relu': x = np.maximum(x, 0)
        else: assert c['activation'] == 'linear'
    elif kind == 'LeakyReLU':
        x = np.where(x >= 0, x, x * c['negative_slope'])
    else:
        assert kind in ('InputLayer', 'Dropout'), kind
print(json.dumps(x.tolist()))
`,
        file,
        JSON.stringify(x),
      ],
      { encoding: 'utf8' },
    );
    assert.equal(numpy.status, 0, numpy.stderr);
    const y = referencePredict(model, [{ shape: [3, 2], data: Float64Array.from(x.flat()) }])[0]!;
    assertClose(y.data, (JSON.parse(numpy.stdout) as number[][]).flat(), 1e-5);
  });

  test('a Keras 1.2.0 save_weights() file is refused with a sentence saying what it is', async () => {
    const file = path.join(REAL, 'pelops_small.weights.hdf5');
    await assert.rejects(loadModel(file), /pelops_small\.weights\.hdf5: holds only a model's weights, as model\.save_weights\(\) writes them/);
  });
});

describe('saveModel and Keras file names', () => {
  test('saveModel (a model folder) refuses a name ending in .keras or .h5 instead of making a folder of that name, and points to saveKerasModel', async () => {
    const { saveModel } = await import('../../app/io/model_store.ts');
    for (const name of ['model.keras', 'model.h5']) {
      const target = path.join(scratch, name);
      assert.throws(() => saveModel(new Sequential([new Dense(1, { inputShape: [1] })]), target), /is a Keras model file, and saveModel writes a model folder; write the file with saveKerasModel\(model, file\)/);
      assert.throws(() => readFileSync(target), /ENOENT/);
    }
  });
});
