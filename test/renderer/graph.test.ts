// The graph views' data, in Node: the layer graph and the ONNX graph as drawn, the layout
// (ELK, as the worker runs it), the SVG markup with hostile names, and find.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import ELK from 'elkjs/lib/elk.bundled.js';
import type { ELK as ElkApi } from 'elkjs/lib/elk-api.js';
import { describeGraph, Input, Model, layers } from '../../app/model/index.ts';
import { makeGraph, makeModel, makeNode, makeTensor, makeTensorValueInfo } from '../../app/onnx/helper.ts';
import { describeModel } from '../../app/onnx/inspect.ts';
import { DataType } from '../../app/onnx/schema.ts';
import { inferShapes } from '../../app/onnx/shape_inference.ts';
import productImageClassifier from '../../examples/product-image-classifier.ts';
import purchasePredictor from '../../examples/purchase-predictor.ts';
import { drawingItems, GraphDrawing, intersects, visibleBounds, type DrawnElement, type LayerElement } from '../../renderer/src/lib/graph/drawing.ts';
import { approximateMeasure } from '../../renderer/src/lib/graph/geometry.ts';
import { layoutGraph } from '../../renderer/src/lib/graph/layout.ts';
import { escapeXml, graphLayers, graphMarkup, roundedPath, standaloneSvg } from '../../renderer/src/lib/graph/markup.ts';
import { modelGraph } from '../../renderer/src/lib/graph/model_graph.ts';
import { constantValues, graphInputId, graphOutputId, onnxGraph, onnxNodeId, shorten } from '../../renderer/src/lib/graph/onnx_graph.ts';
import { searchGraph } from '../../renderer/src/lib/graph/search.ts';
import { LayoutScheduler } from '../../renderer/src/lib/graph/warm_up.ts';
import type { GraphLayout, ViewGraph } from '../../renderer/src/lib/graph/types.ts';
import { valueTypes } from '../../renderer/src/lib/onnx_values.ts';

const elk = new (ELK as unknown as new () => ElkApi)();
const F = DataType.FLOAT;

/** x[batch,3,8,8] -> Conv(W,B) -> Relu -> GlobalAveragePool -> Flatten -> Gemm -> y; no value_info, so the inner shapes are inferred. */
function smallCnn() {
  const weights = (name: string, shape: number[]) => makeTensor(name, { dtype: 'float32', shape, data: new Float32Array(shape.reduce((a, b) => a * b, 1)).fill(0.5) });
  const proto = makeModel(
    makeGraph(
      [
        makeNode('Conv', ['x', 'conv.W', 'conv.B'], ['c'], { name: 'conv', attributes: { kernel_shape: [3, 3], pads: [1, 1, 1, 1] } }),
        makeNode('Relu', ['c'], ['r'], { name: 'relu' }),
        makeNode('GlobalAveragePool', ['r'], ['p']),
        makeNode('Flatten', ['p'], ['f']),
        makeNode('Gemm', ['f', 'fc.W', 'fc.B'], ['y'], { name: 'fc', attributes: { transB: 1 } }),
      ],
      'small_cnn',
      [makeTensorValueInfo('x', F, ['batch', 3, 8, 8])],
      [makeTensorValueInfo('y', F, ['batch', 10])],
      [weights('conv.W', [4, 3, 3, 3]), weights('conv.B', [4]), weights('fc.W', [10, 4]), weights('fc.B', [10])],
    ),
  );
  const document = { description: describeModel(proto), inferred: inferShapes(proto) };
  return { document, types: valueTypes(document) };
}

function assertNoOverlaps(layout: GraphLayout) {
  const boxes = layout.nodes.map((n) => ({ id: n.node.id, x: n.x, y: n.y, w: n.geometry.width, h: n.geometry.height }));
  for (let i = 0; i < boxes.length; i++) {
    for (let j = i + 1; j < boxes.length; j++) {
      const a = boxes[i]!;
      const b = boxes[j]!;
      const apart = a.x + a.w <= b.x || b.x + b.w <= a.x || a.y + a.h <= b.y || b.y + b.h <= a.y;
      assert.ok(apart, `${a.id} and ${b.id} overlap`);
    }
  }
}

test('a model graph has a box per layer with its class, name and Keras shapes, and an edge per tensor', () => {
  const graph = modelGraph(describeGraph(productImageClassifier));
  const conv2 = graph.nodes.find((node) => node.id === 'conv2')!;
  assert.equal(conv2.title, 'Conv2D');
  assert.equal(conv2.name, 'conv2');
  assert.equal(conv2.category, 'layer');
  assert.deepEqual(conv2.rows, [
    { label: 'input', value: '(None, 31, 31, 32)' },
    { label: 'output', value: '(None, 29, 29, 64)' },
    { label: 'params', value: '18,496' },
  ]);
  assert.equal(graph.nodes.length, productImageClassifier.layers.length + 1, 'every layer and the input');
  const functional = modelGraph(describeGraph(purchasePredictor));
  const concat = functional.nodes.find((node) => node.id === 'concatenate_branches')!;
  assert.deepEqual(concat.rows[0], { label: 'input', value: '[(None, 32), (None, 32)]' });
  assert.deepEqual(
    functional.edges.filter((edge) => edge.to === 'concatenate_branches').map((edge) => edge.from),
    ['dense_image_2', 'dense_text_2'],
  );
});

test('a shared layer shows the shapes of each of its calls', () => {
  const shared = new layers.Dense(4, { name: 'shared' });
  const a = Input({ shape: [3], name: 'a' });
  const b = Input({ shape: [3], name: 'b' });
  const model = new Model({ inputs: [a, b], outputs: layers.add([shared.apply(a), shared.apply(b)]) });
  const node = modelGraph(describeGraph(model)).nodes.find((n) => n.id === 'shared')!;
  assert.deepEqual(
    node.rows.map((row) => row.label),
    ['input 1', 'output 1', 'input 2', 'output 2', 'params'],
  );
});

test('an ONNX graph: inputs, nodes with their weights as rows, outputs, and edges labelled with declared or inferred shapes', () => {
  const { document, types } = smallCnn();
  const graph = onnxGraph(document.description.graph, types);
  assert.deepEqual(
    graph.nodes.map((node) => node.title),
    ['Input', 'Conv', 'Relu', 'GlobalAveragePool', 'Flatten', 'Gemm', 'Output'],
  );
  const conv = graph.nodes.find((node) => node.id === onnxNodeId(0))!;
  assert.deepEqual(conv.rows, [
    { label: 'W', value: '⟨4×3×3×3⟩' },
    { label: 'B', value: '⟨4⟩' },
  ]);
  assert.ok(conv.keywords?.includes('conv.W'), 'find reaches a node by its weights');
  const label = (from: string, to: string) => graph.edges.find((edge) => edge.from === from && edge.to === to)?.label;
  assert.equal(label(graphInputId('x'), onnxNodeId(0)), 'batch×3×8×8');
  assert.equal(label(onnxNodeId(0), onnxNodeId(1)), 'batch×4×8×8', 'inferred: the file has no value_info');
  assert.equal(types.get('c')?.inferred, true);
  assert.equal(label(onnxNodeId(4), graphOutputId('y')), 'batch×10');
  assert.equal(graph.edges.length, 6, 'weights are rows, not edges');
});

test('constants are rows of the node using them: a Constant node, an Identity of an initializer (PyTorch\'s shared weights)', () => {
  const proto = makeModel(
    makeGraph(
      [
        makeNode('Identity', ['w'], ['w_shared'], { name: 'Identity_0' }),
        makeNode('MatMul', ['x', 'w_shared'], ['m'], { name: 'matmul' }),
        makeNode('Constant', [], ['target'], { attributes: { value: makeTensor('target', { dtype: 'int64', shape: [2], data: new BigInt64Array([-1n, 2n]) }) } }),
        makeNode('Reshape', ['m', 'target'], ['y'], { name: 'reshape' }),
      ],
      'constants',
      [makeTensorValueInfo('x', F, [3, 4])],
      [makeTensorValueInfo('y', F, null)],
      [makeTensor('w', { dtype: 'float32', shape: [4, 2], data: new Float32Array(8) })],
    ),
  );
  const document = { description: describeModel(proto), inferred: inferShapes(proto) };
  const graph = onnxGraph(document.description.graph, valueTypes(document));
  assert.deepEqual(
    graph.nodes.map((node) => [node.title, node.rows]),
    [
      ['Input', [{ label: 'float32', value: '3×4' }]],
      ['MatMul', [{ label: 'B', value: '⟨4×2⟩' }]],
      ['Reshape', [{ label: 'shape', value: '⟨2⟩' }]],
      ['Output', [{ label: 'float32', value: '3×2' }]],
    ],
  );
  assert.deepEqual(
    graph.edges.map((edge) => [edge.from, edge.to]),
    [
      [graphInputId('x'), onnxNodeId(1)],
      [onnxNodeId(1), onnxNodeId(3)],
      [onnxNodeId(3), graphOutputId('y')],
    ],
  );
  const { values, folded } = constantValues(document.description.graph);
  assert.deepEqual([...folded], [0, 2]);
  assert.deepEqual(values.get('w_shared'), { shape: [4, 2], initializer: 'w' }, 'statistics come from the initializer behind the Identity');
  assert.equal(values.get('target')?.initializer, null);
});

test('long names are shortened in the middle, keeping both ends', () => {
  const name = '/features/features.12/block/block.2/fc1/Conv_output_0';
  const short = shorten(name, 24);
  assert.equal(short.length, 24);
  assert.equal(short, '/features/fe…nv_output_0');
  assert.equal(shorten('conv', 24), 'conv');
});

test('the layout places every node without overlaps and routes every edge between its nodes', async () => {
  for (const graph of [modelGraph(describeGraph(purchasePredictor)), onnxGraph(smallCnn().document.description.graph, smallCnn().types)]) {
    const layout = await layoutGraph(graph, approximateMeasure, elk);
    assert.equal(layout.nodes.length, graph.nodes.length);
    assertNoOverlaps(layout);
    const byId = new Map(layout.nodes.map((n) => [n.node.id, n]));
    for (const { edge, points } of layout.edges) {
      const from = byId.get(edge.from)!;
      const to = byId.get(edge.to)!;
      const start = points[0]!;
      const end = points[points.length - 1]!;
      assert.ok(Math.abs(start.y - (from.y + from.geometry.height)) < 1, `${edge.id} leaves ${edge.from} at its bottom`);
      assert.ok(Math.abs(end.y - to.y) < 1, `${edge.id} enters ${edge.to} at its top`);
      assert.ok(start.x >= from.x && start.x <= from.x + from.geometry.width);
    }
    for (const node of layout.nodes) {
      assert.ok(node.x + node.geometry.width <= layout.width && node.y + node.geometry.height <= layout.height, `${node.node.id} inside the drawing`);
    }
  }
});

test('a value used by several nodes is labelled once; a node wide enough for its texts', async () => {
  const graph: ViewGraph = {
    nodes: ['a', 'b', 'c'].map((id) => ({ id, title: 'Relu', name: id === 'a' ? 'a_very_long_node_name_for_width' : id, showName: true, category: 'activation', rows: [] })),
    edges: [
      { id: 'e0', from: 'a', to: 'b', label: '1×8' },
      { id: 'e1', from: 'a', to: 'c', label: '1×8' },
    ],
  };
  const layout = await layoutGraph(graph, approximateMeasure, elk);
  assert.equal(layout.edges.filter((edge) => edge.label).length, 1);
  const a = layout.nodes.find((n) => n.node.id === 'a')!;
  assert.ok(a.geometry.width >= approximateMeasure('Relu', 'title') + approximateMeasure(a.node.name, 'name') + 20);
});

test('the SVG markup escapes every text from the file, and the standalone file is complete', async () => {
  const hostile = `<script>alert("x")</script>&'`;
  const graph: ViewGraph = {
    nodes: [
      { id: hostile, title: hostile, name: hostile, showName: true, category: 'other', rows: [{ label: hostile, value: hostile }] },
      { id: 'b', title: 'Relu', name: 'b', showName: true, category: 'activation', rows: [] },
    ],
    edges: [{ id: 'e', from: hostile, to: 'b', label: hostile }],
  };
  const layout = await layoutGraph(graph, approximateMeasure, elk);
  const markup = graphMarkup(layout, { interactive: true });
  assert.ok(!markup.includes('<script'), 'no element from a name');
  assert.ok(!markup.includes(`"x"`), 'no attribute broken by a quote');
  // data-id, the aria-label (name and title), title, name, row label and value, edge label, edge's data-from.
  assert.equal(markup.split(escapeXml(hostile)).length - 1, 9);
  assert.match(markup, /class="node" data-id="[^"]+" role="button" tabindex="0" aria-label="/);
  const svg = standaloneSvg(layout, 'model <1>');
  assert.match(svg, /^<\?xml version="1.0" encoding="UTF-8"\?>\n<svg xmlns="http:\/\/www.w3.org\/2000\/svg" width="\d+" height="\d+" viewBox="0 0 \d+ \d+">/);
  assert.match(svg, /<title>model &lt;1&gt;<\/title><defs><marker id="strata-arrow"/);
  assert.ok(!svg.includes('class="node"'), 'no view classes in the file');
  assert.ok(svg.trimEnd().endsWith('</svg>'));
});

test('edges bend with rounded corners; straight edges stay straight', () => {
  assert.equal(roundedPath([{ x: 0, y: 0 }, { x: 0, y: 10 }]), 'M0,0L0,10');
  assert.equal(roundedPath([{ x: 0, y: 0 }, { x: 0, y: 20 }, { x: 20, y: 20 }]), 'M0,0L0,14Q0,20 6,20L20,20');
  // A short segment gets a smaller radius: half its length.
  assert.equal(roundedPath([{ x: 0, y: 0 }, { x: 0, y: 4 }, { x: 20, y: 4 }]), 'M0,0L0,2Q0,4 2,4L20,4');
});

test('find ranks the exact name first, then names starting with the query, then the rest; values last', () => {
  const { document, types } = smallCnn();
  const graph = onnxGraph(document.description.graph, types);
  assert.deepEqual(
    searchGraph(graph, 'conv').map((hit) => [hit.node.id, hit.matched]),
    [[onnxNodeId(0), 'conv']],
  );
  assert.deepEqual(
    searchGraph(graph, 'fc.w').map((hit) => [hit.node.title, hit.matched]),
    [['Gemm', 'fc.W']],
  );
  const model = modelGraph(describeGraph(purchasePredictor));
  assert.deepEqual(
    searchGraph(model, 'DENSE_TEXT').map((hit) => hit.node.id),
    ['dense_text_1', 'dense_text_2'],
  );
  assert.deepEqual(searchGraph(model, '  '), []);
  assert.equal(searchGraph(model, 'dropout')[0]!.node.id, 'dropout_image');
});

test('the page holds what is near the window: items and their bounds, the window in graph units', async () => {
  const { document, types } = smallCnn();
  const layout = await layoutGraph(onnxGraph(document.description.graph, types), approximateMeasure, elk);
  const items = drawingItems(layout, graphLayers(layout, { interactive: true }));
  // Edges first (painted under), then nodes, then the labels there are.
  assert.deepEqual(
    [...new Set(items.map((item) => item.layer))],
    ['edges', 'nodes', 'labels'],
  );
  assert.equal(items.filter((item) => item.layer === 'nodes').length, layout.nodes.length);
  assert.equal(items.filter((item) => item.layer === 'labels').length, layout.edges.filter((edge) => edge.label).length);
  for (const item of items) assert.ok(item.markup.length > 0 && item.bounds.left < item.bounds.right && item.bounds.top < item.bounds.bottom);
  const conv = items.find((item) => item.layer === 'nodes' && item.ids[0] === onnxNodeId(0))!;
  const placed = layout.nodes.find((node) => node.node.id === onnxNodeId(0))!;
  assert.deepEqual(conv.bounds, { left: placed.x, top: placed.y, right: placed.x + placed.geometry.width, bottom: placed.y + placed.geometry.height });

  // At scale 2, shifted by (-100, -50): the window of 400x300 shows graph units 50..250 x 25..175, widened by half on each side.
  assert.deepEqual(visibleBounds({ x: -100, y: -50, k: 2 }, 400, 300), { left: -50, top: -50, right: 350, bottom: 250 });
  assert.deepEqual(visibleBounds({ x: -10, y: -20, k: 1 }, 400, 300, 0), { left: 10, top: 20, right: 410, bottom: 320 });
  const window = visibleBounds({ x: 0, y: -placed.y, k: 1 }, layout.width, 10, 0);
  assert.ok(intersects(conv.bounds, window));
  assert.ok(!intersects(conv.bounds, { left: 0, right: layout.width, top: placed.y + placed.geometry.height + 1, bottom: placed.y + 1000 }));
});

/** A layer for GraphDrawing without a DOM: one child per top-level element of the markup written into it. */
class FakeLayer implements LayerElement {
  children: FakeElement[] = [];
  insertAdjacentHTML(_position: 'beforeend', markup: string) {
    for (const match of markup.matchAll(/<path[^>]*\/>|<text[^>]*>.*?<\/text>|<g [^>]*>.*?<\/g>/g)) this.children.push(new FakeElement(this, match[0]));
  }
  get lastElementChild() {
    return this.children[this.children.length - 1] ?? null;
  }
  replaceChildren() {
    this.children = [];
  }
}

class FakeElement implements DrawnElement {
  classes = new Set<string>();
  constructor(
    private readonly layer: FakeLayer,
    readonly markup: string,
  ) {}
  remove() {
    this.layer.children.splice(this.layer.children.indexOf(this), 1);
  }
  get classList() {
    return { toggle: (name: string, force: boolean) => (force ? this.classes.add(name) : this.classes.delete(name)) };
  }
  get previousElementSibling() {
    return this.layer.children[this.layer.children.indexOf(this) - 1] ?? null;
  }
}

test('the drawing puts in the page what meets the window, a budget at a time, takes out what leaves it, and marks the selection', async () => {
  const model = modelGraph(describeGraph(productImageClassifier));
  const layout = await layoutGraph(model, approximateMeasure, elk);
  const layers = { edges: new FakeLayer(), nodes: new FakeLayer(), labels: new FakeLayer() };
  const drawing = new GraphDrawing(layers, layout, graphLayers(layout, { interactive: true }));
  const everything = { left: -Infinity, top: -Infinity, right: Infinity, bottom: Infinity };
  drawing.select('conv2');
  assert.equal(drawing.update(everything, 5), true, 'more than the budget is missing');
  assert.equal(layers.edges.children.length + layers.nodes.children.length, 5);
  assert.equal(drawing.update(everything), false);
  assert.equal(layers.nodes.children.length, layout.nodes.length);
  assert.equal(layers.edges.children.length, layout.edges.length);
  // Each element is its own node's: the markup written for it.
  for (const child of layers.nodes.children) assert.match(child.markup, /^<g class="node" data-id="([^"]+)"/);
  assert.deepEqual(
    layers.nodes.children.map((child) => /data-id="([^"]+)"/.exec(child.markup)![1]),
    layout.nodes.map((node) => node.node.id),
  );
  assert.deepEqual([...(drawing.element('conv2') as FakeElement).classes], ['selected']);
  assert.equal(layers.edges.children.filter((child) => child.classes.has('selected')).length, 2, 'the edges into and out of conv2');
  // Only the top of the graph: the first boxes stay, the rest leave.
  const conv1 = layout.nodes.find((node) => node.node.id === 'conv1')!;
  drawing.update({ left: -Infinity, right: Infinity, top: 0, bottom: conv1.y + 1 });
  assert.deepEqual(
    layers.nodes.children.map((child) => /data-id="([^"]+)"/.exec(child.markup)![1]),
    ['conv1_input', 'conv1'],
  );
  assert.equal(drawing.element('conv2'), null);
  drawing.match(['conv1']);
  assert.ok((drawing.element('conv1') as FakeElement).classes.has('match'));
});

test('the layout worker\'s warm-up gives way to a request: no round starts while one waits', async () => {
  // Layouts that answer through a timer, as ELK does.
  const events: string[] = [];
  const layout = (name: string) => async () => {
    events.push(`${name} starts`);
    await new Promise((resolve) => setTimeout(resolve, 0));
    events.push(`${name} ends`);
  };
  const scheduler = new LayoutScheduler();
  const warmUp = scheduler.warmUp(3, layout('round'));
  const request = scheduler.request(layout('request'));
  await Promise.all([warmUp, request]);
  assert.deepEqual(events, ['round starts', 'request starts', 'round ends', 'request ends', 'round starts', 'round ends', 'round starts', 'round ends']);
});
