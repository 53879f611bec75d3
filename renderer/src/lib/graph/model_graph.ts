// A Keras-style model's layer graph as plot_model(show_shapes=True) draws it: one box per
// layer with its class and name in the header and its input and output shapes below.
import type { GraphDescription, GraphNodeDescription } from '../../../../app/model/graph.ts';
import type { Shape } from '../../../../app/model/shape.ts';
import { formatCount, formatShape } from '../format.ts';
import { kerasCategory } from './categories.ts';
import type { NodeRow, ViewGraph } from './types.ts';

/** One shape as Keras prints it, several as a list: "(None, 32)" or "[(None, 32), (None, 32)]". */
function formatShapes(shapes: Shape[]): string {
  return shapes.length === 1 ? formatShape(shapes[0]!) : `[${shapes.map(formatShape).join(', ')}]`;
}

function layerRows(node: GraphNodeDescription): NodeRow[] {
  const rows: NodeRow[] = [];
  // A shared layer has one entry per call; each call's shapes get their own rows.
  node.outputShapes.forEach((outputs, call) => {
    const suffix = node.outputShapes.length > 1 ? ` ${call + 1}` : '';
    const inputs = node.inputShapes[call] ?? [];
    if (inputs.length > 0) rows.push({ label: `input${suffix}`, value: formatShapes(inputs) });
    rows.push({ label: `output${suffix}`, value: outputs.length ? formatShapes(outputs) : '?' });
  });
  if (node.outputShapes.length === 0) rows.push({ label: 'output', value: '? (not built)' });
  if (node.params > 0) rows.push({ label: 'params', value: formatCount(node.params) });
  return rows;
}

export function modelGraph(graph: GraphDescription): ViewGraph {
  return {
    nodes: graph.nodes.map((node) => ({
      id: node.id,
      title: node.className,
      name: node.id,
      showName: true,
      category: kerasCategory(node.className),
      rows: layerRows(node),
    })),
    edges: graph.edges.map((edge, index) => ({ id: `e${index}`, from: edge.from, to: edge.to, label: '' })),
  };
}
