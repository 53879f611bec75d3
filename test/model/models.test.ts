// The three ways of defining a model, the seed examples' summaries, shared layers, nested
// models, and the errors users see for wrong shapes and wrong graphs.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  Conv2D, Dense, Dropout, Flatten, Input, MaxPooling2D, Model, Sequential, ShapeError, ValueError, add, clearSession, concatenate,
  layers, setRandomSeed, type CallOptions, type SymbolicTensor,
} from '../../app/model/index.ts';
import productImageClassifier from '../../examples/product-image-classifier.ts';
import purchasePredictor from '../../examples/purchase-predictor.ts';

describe('seed examples', () => {
  test('product image classifier: Keras summary with 822,922 params', () => {
    const text = productImageClassifier.summary();
    const rows = productImageClassifier.layers.map((l) => [l.name, l.countParams()]);
    assert.deepEqual(rows, [['conv1', 896], ['pool1', 0], ['conv2', 18496], ['pool2', 0], ['flatten', 0], ['dense1', 802880], ['dropout1', 0], ['output_softmax', 650]]);
    assert.match(text, /^Model: "product_image_classifier_sequential"\n/);
    assert.match(text, /│ conv1 \(Conv2D\) +│ \(None, 62, 62, 32\) +│ +896 │/);
    assert.match(text, /│ flatten \(Flatten\) +│ \(None, 12544\) +│ +0 │/);
    assert.match(text, /│ output_softmax \(Dense\) +│ \(None, 10\) +│ +650 │/);
    assert.ok(!text.includes('InputLayer'), 'Sequential summaries have no InputLayer row');
    assert.ok(!text.includes('Connected to'));
    assert.ok(text.endsWith(' Total params: 822,922 (3.14 MB)\n Trainable params: 822,922 (3.14 MB)\n Non-trainable params: 0 (0.00 B)'));
  });

  test('purchase predictor: Keras order, Connected to, 799,233 params', () => {
    const text = purchasePredictor.summary({ lineLength: 170 });
    const order = purchasePredictor.layers.map((l) => l.name);
    // Keras orders by depth from the outputs, ties by discovery from the outputs.
    assert.deepEqual(order, [
      'image_features_input', 'flatten_image', 'text_features_input', 'dense_image_1', 'dense_text_1', 'dropout_image',
      'dropout_text', 'dense_image_2', 'dense_text_2', 'concatenate_branches', 'dense_combined', 'output_sigmoid',
    ]);
    assert.match(text, /┃ Layer \(type\) +┃ Output Shape +┃ +Param # ┃ Connected to +┃/);
    assert.match(text, /│ image_features_input \(InputLayer\) +│ \(None, 64, 64, 3\) +│ +0 │ - +│/);
    assert.match(text, /│ concatenate_branches \(Concatenate\) +│ \(None, 64\) +│ +0 │ dense_image_2\[0\]\[0\], dense_text_2\[0\]\[0\] +│/);
    assert.match(text, /│ dense_image_1 \(Dense\) +│ \(None, 64\) +│ +786,496 │ flatten_image\[0\]\[0\] +│/);
    assert.ok(text.endsWith(' Total params: 799,233 (3.05 MB)\n Trainable params: 799,233 (3.05 MB)\n Non-trainable params: 0 (0.00 B)'));
  });

  test('summary passes the text to printFn, as Keras print_fn', () => {
    let printed = '';
    const returned = productImageClassifier.summary({ printFn: (t) => (printed = t) });
    assert.equal(printed, returned);
  });
});

describe('Sequential', () => {
  test('add() and pop() rebuild the chain; Input() as the first entry', () => {
    const model = new Sequential([], { name: 'grow' });
    model.add(Input({ shape: [16] }));
    model.add(new Dense(8, { name: 'a' }));
    model.add(new Dense(4, { name: 'b' }));
    assert.deepEqual(model.outputs[0]!.shape, [null, 4]);
    assert.equal(model.countParams(), 16 * 8 + 8 + 8 * 4 + 4);
    const removed = model.pop();
    assert.equal(removed.name, 'b');
    assert.deepEqual(model.outputs[0]!.shape, [null, 8]);
    assert.equal(model.countParams(), 136);
    assert.deepEqual(model.layers.map((l) => l.name), ['a']);
  });

  test('without an input shape it is unbuilt until build(), as in Keras', () => {
    const model = new Sequential([new Dense(8, { name: 'h' }), new Dense(2, { name: 'o' })], { name: 'lazy' });
    assert.equal(model.built, false);
    assert.match(model.summary(), /│ h \(Dense\) +│ \? +│ +0 \(unbuilt\) │/);
    model.build([null, 5]);
    assert.equal(model.countParams(), 5 * 8 + 8 + 8 * 2 + 2);
    assert.deepEqual(model.outputs[0]!.shape, [null, 2]);
  });

  test('a model as the first layer gives the Sequential model its input shape, as in tf.keras', () => {
    const x = Input({ shape: [6] });
    const block = new Model({ inputs: x, outputs: new Dense(4, { name: 'inner' }).apply(x), name: 'block' });
    const model = new Sequential([block, new Dense(2, { name: 'after' })], { name: 'outer' });
    assert.equal(model.built, true);
    assert.deepEqual(model.outputs[0]!.shape, [null, 2]);
    assert.equal(model.countParams(), 6 * 4 + 4 + 4 * 2 + 2);
  });

  test('a joining layer in a Sequential model says to use the functional API', () => {
    const model = new Sequential([new Dense(4, { inputShape: [3] })]);
    assert.throws(() => model.add(new layers.Concatenate()), /use the functional API/);
  });

  test('the shape error names the layer and both shapes', () => {
    const model = new Sequential([new Dense(100, { inputShape: [10], name: 'dense1' })]);
    assert.throws(
      () => model.add(new Conv2D(64, [3, 3], { name: 'conv2' })),
      (e: Error) => e instanceof ShapeError && e.message === 'conv2: expected a 4-D input (batch, h, w, c), got (None, 100)',
    );
  });
});

describe('Functional', () => {
  test('several inputs and outputs', () => {
    const a = Input({ shape: [8], name: 'a' });
    const b = Input({ shape: [4], name: 'b' });
    const joined = concatenate([new Dense(6, { name: 'da' }).apply(a), b], { name: 'join' });
    const out1 = new Dense(1, { name: 'score' }).apply(joined);
    const out2 = new Dense(3, { activation: 'softmax', name: 'kind' }).apply(joined);
    const model = new Model({ inputs: [a, b], outputs: [out1, out2], name: 'two_heads' });
    assert.deepEqual(model.outputs.map((t) => t.shape), [[null, 1], [null, 3]]);
    assert.equal(model.countParams(), 8 * 6 + 6 + 10 * 1 + 1 + 10 * 3 + 3);
  });

  test('a shared layer is counted once and listed with both calls', () => {
    const left = Input({ shape: [10], name: 'left' });
    const right = Input({ shape: [10], name: 'right' });
    const shared = new Dense(5, { name: 'shared_dense' });
    const merged = add([shared.apply(left), shared.apply(right)], { name: 'merge' });
    const model = new Model({ inputs: [left, right], outputs: merged, name: 'siamese' });
    assert.equal(model.countParams(), 55);
    assert.equal(model.weights.length, 2);
    assert.equal(shared.inboundNodes.length, 2);
    assert.match(model.summary({ lineLength: 120 }), /│ shared_dense \(Dense\) +│ \(None, 5\) +│ +55 │ left\[0\]\[0\], right\[0\]\[0\] +│/);
    assert.deepEqual(model.describeGraph().edges.filter((e) => e.to === 'shared_dense').map((e) => e.from), ['left', 'right']);
  });

  test('a residual join', () => {
    const x = Input({ shape: [32] });
    const h = new Dense(32, { activation: 'relu' }).apply(x);
    const y = add([x, h]);
    const model = new Model({ inputs: x, outputs: y });
    assert.equal(model.countParams(), 32 * 32 + 32);
    assert.match(model.summary(), /Connected to/);
  });

  test('a model used as a layer inside another model', () => {
    const inner = Input({ shape: [16] });
    const encoder = new Model({ inputs: inner, outputs: new Dense(4, { name: 'code' }).apply(inner), name: 'encoder' });
    const x = Input({ shape: [16], name: 'x' });
    const y = new Dense(1, { name: 'head' }).apply(encoder.apply(x));
    const model = new Model({ inputs: x, outputs: y, name: 'with_encoder' });
    assert.equal(model.countParams(), 16 * 4 + 4 + 4 + 1);
    assert.match(model.summary(), /│ encoder \(Functional\) +│ \(None, 4\) +│ +68 │/);
    assert.throws(() => encoder.apply(Input({ shape: [15] })), /encoder: input 0 expected shape \(None, 16\), got \(None, 15\)/);
  });

  test('inputs not given to the model are a "graph disconnected" error', () => {
    const a = Input({ shape: [2], name: 'given' });
    const b = Input({ shape: [2], name: 'missing' });
    const y = add([a, b]);
    assert.throws(() => new Model({ inputs: a, outputs: y }), /graph disconnected.*"missing"/);
  });

  test('duplicate layer names are rejected', () => {
    const x = Input({ shape: [2] });
    const y = new Dense(2, { name: 'same' }).apply(new Dense(2, { name: 'same' }).apply(x));
    assert.throws(() => new Model({ inputs: x, outputs: y }), /all layer names should be unique; "same"/);
  });

  test('concatenate with mismatched shapes names both shapes', () => {
    const a = Input({ shape: [4, 3] });
    const b = Input({ shape: [5, 3] });
    assert.throws(() => concatenate([a, b], { name: 'cat' }), /cat: inputs must match in every dimension but the concatenation axis \(-1\), got \(None, 4, 3\), \(None, 5, 3\)/);
  });

  test('a shared Dense applied to a different width says what it was built for', () => {
    const dense = new Dense(3, { name: 'd' });
    dense.apply(Input({ shape: [4] }));
    assert.throws(() => dense.apply(Input({ shape: [5] })), /d: built for 4 input features, got an input of shape \(None, 5\)/);
  });

  test('a kernel larger than the image is an error, not a negative shape', () => {
    assert.throws(() => new Conv2D(4, 5, { name: 'big' }).apply(Input({ shape: [3, 3, 1] })), /big: input \(None, 3, 3, 1\) is smaller than the kernel \(5, 5\)/);
    assert.throws(() => new MaxPooling2D(4, { name: 'p' }).apply(Input({ shape: [3, 3, 1] })), /p: input \(None, 3, 3, 1\) is smaller than the pool/);
  });

  test('bad arguments are ValueErrors naming the layer', () => {
    assert.throws(() => new Dense(0, { name: 'd0' }), (e: Error) => e instanceof ValueError && /d0: units must be a positive integer/.test(e.message));
    assert.throws(() => new Dense(3, { activation: 'relu7', name: 'd1' }), /d1: unknown activation "relu7"/);
    assert.throws(() => new Dropout(1.5, { name: 'dr' }), /dr: rate must be in \[0, 1\)/);
    assert.throws(() => new Conv2D(3, 3, { padding: 'full' as 'same', name: 'c' }), /c: padding must be "valid" or "same"/);
    assert.throws(() => new Dense(2, { name: 'encoder/dense' }), /layer name "encoder\/dense" must be non-empty, without "\/"/);
  });
});

class ProductImageClassifier extends Model {
  conv1 = new Conv2D(32, [3, 3], { activation: 'relu', name: 'conv1' });
  pool1 = new MaxPooling2D([2, 2], { name: 'pool1' });
  conv2 = new Conv2D(64, [3, 3], { activation: 'relu', name: 'conv2' });
  pool2 = new MaxPooling2D([2, 2], { name: 'pool2' });
  flatten = new Flatten({ name: 'flatten' });
  dense1 = new Dense(64, { activation: 'relu', name: 'dense1' });
  dropout1 = new Dropout(0.5, { name: 'dropout1' });
  output = new Dense(10, { activation: 'softmax', name: 'output_softmax' });

  override call(inputs: SymbolicTensor, _options: CallOptions): SymbolicTensor {
    let x = this.pool1.apply(this.conv1.apply(inputs));
    x = this.pool2.apply(this.conv2.apply(x));
    return this.output.apply(this.dropout1.apply(this.dense1.apply(this.flatten.apply(x))));
  }
}

function seedSequential(): Sequential {
  return new Sequential(
    [
      new Conv2D(32, [3, 3], { activation: 'relu', inputShape: [64, 64, 3], name: 'conv1' }),
      new MaxPooling2D([2, 2], { name: 'pool1' }),
      new Conv2D(64, [3, 3], { activation: 'relu', name: 'conv2' }),
      new MaxPooling2D([2, 2], { name: 'pool2' }),
      new Flatten({ name: 'flatten' }),
      new Dense(64, { activation: 'relu', name: 'dense1' }),
      new Dropout(0.5, { name: 'dropout1' }),
      new Dense(10, { activation: 'softmax', name: 'output_softmax' }),
    ],
    { name: 'seed' },
  );
}

function seedFunctional(): Model {
  const x = Input({ batchShape: [null, 64, 64, 3] });
  let y = new Conv2D(32, [3, 3], { activation: 'relu', name: 'conv1' }).apply(x);
  y = new MaxPooling2D([2, 2], { name: 'pool1' }).apply(y);
  y = new Conv2D(64, [3, 3], { activation: 'relu', name: 'conv2' }).apply(y);
  y = new MaxPooling2D([2, 2], { name: 'pool2' }).apply(y);
  y = new Flatten({ name: 'flatten' }).apply(y);
  y = new Dense(64, { activation: 'relu', name: 'dense1' }).apply(y);
  y = new Dropout(0.5, { name: 'dropout1' }).apply(y);
  y = new Dense(10, { activation: 'softmax', name: 'output_softmax' }).apply(y);
  return new Model({ inputs: x, outputs: y, name: 'seed' });
}

/** The graph without the input layer's auto-generated name. */
function comparableGraph(model: Model) {
  const graph = model.describeGraph();
  const inputName = graph.inputs[0]!.layer;
  const rename = (n: string) => (n === inputName ? '<input>' : n);
  return {
    nodes: graph.nodes.map((n) => ({ ...n, id: rename(n.id), config: n.className === 'InputLayer' ? null : n.config })),
    edges: graph.edges.map((e) => ({ ...e, from: rename(e.from), to: rename(e.to) })),
    params: graph.params,
    outputs: graph.outputs,
  };
}

describe('subclassing', () => {
  test('call() is traced into the same graph as Sequential and Functional definitions', () => {
    clearSession();
    const subclassed = new ProductImageClassifier({ name: 'seed' });
    subclassed.build([null, 64, 64, 3]);
    const sequential = seedSequential();
    const functional = seedFunctional();
    assert.equal(subclassed.countParams(), 822922);
    assert.deepEqual(comparableGraph(subclassed), comparableGraph(functional));
    const withoutInputShape = (g: ReturnType<typeof comparableGraph>) => ({
      ...g,
      nodes: g.nodes.map((n) => ({ ...n, config: n.config ? { ...n.config, batch_input_shape: undefined } : null })),
    });
    assert.deepEqual(withoutInputShape(comparableGraph(sequential)), withoutInputShape(comparableGraph(functional)));
  });

  test('summary lists the layers in field order with the class name of the model', () => {
    const model = new ProductImageClassifier({ name: 'by_subclass' });
    model.build([null, 64, 64, 3]);
    assert.equal(model.className, 'ProductImageClassifier');
    assert.deepEqual(model.layers.map((l) => l.name), ['conv1', 'pool1', 'conv2', 'pool2', 'flatten', 'dense1', 'dropout1', 'output_softmax']);
    const text = model.summary();
    assert.ok(!text.includes('Connected to') && !text.includes('InputLayer'));
    assert.match(text, /Total params: 822,922 \(3\.14 MB\)/);
  });

  test('an unbuilt subclassed model says how to build it', () => {
    const model = new ProductImageClassifier();
    assert.equal(model.name, 'product_image_classifier');
    assert.throws(() => model.describeGraph(), /has not yet been built.*build\(inputShape\)/);
  });
});

describe('weights', () => {
  test('getWeights()/setWeights() in Keras order; wrong sizes are rejected', () => {
    const model = new Sequential([new Dense(3, { inputShape: [2], name: 'a' }), new Dense(1, { name: 'b' })]);
    const weights = model.getWeights();
    assert.deepEqual(weights.map((w) => w.length), [6, 3, 3, 1]);
    const replaced = weights.map((w) => w.map((_, i) => i + 1));
    model.setWeights(replaced);
    assert.deepEqual([...model.getWeights()[0]!], [1, 2, 3, 4, 5, 6]);
    assert.throws(() => model.setWeights(replaced.slice(1)), /expected 4 arrays/);
    assert.throws(() => model.setWeights([new Float32Array(5), ...replaced.slice(1)]), /weight "kernel" has shape \(2, 3\) \(6 values\), got 5 values/);
  });

  test('the same seed gives the same weights; glorot_uniform stays within its limit', () => {
    const build = () => {
      setRandomSeed(42);
      return new Sequential([new Dense(300, { inputShape: [200] })]).getWeights()[0]!;
    };
    const a = build();
    const b = build();
    assert.deepEqual(a, b);
    const limit = Math.sqrt(6 / (200 + 300));
    assert.ok(a.every((v) => Math.abs(v) <= limit));
    const mean = a.reduce((s, v) => s + v, 0) / a.length;
    const variance = a.reduce((s, v) => s + (v - mean) ** 2, 0) / a.length;
    assert.ok(Math.abs(mean) < 0.005, `mean ${mean}`);
    assert.ok(Math.abs(variance - limit ** 2 / 3) / (limit ** 2 / 3) < 0.05, `variance ${variance}`);
  });

  test('trainable and non-trainable weights are counted apart', () => {
    const model = new Sequential([new Dense(4, { inputShape: [3] }), new layers.BatchNormalization()]);
    const text = model.summary();
    assert.match(text, / Total params: 32 \(128\.00 B\)/);
    assert.match(text, / Trainable params: 24 \(96\.00 B\)/);
    assert.match(text, / Non-trainable params: 8 \(32\.00 B\)/);
  });
});
