// Maps the layer graph between a model's inputs and outputs, as Keras's map_graph does, so
// that layer order (and so summary() and the JSON layer list) matches Keras: layers sorted
// by depth from the outputs, deepest (the inputs) first, ties broken by discovery order.
import { ValueError } from './errors.ts';
import { InputLayer } from './layers/input.ts';
import type { Layer, Node, SymbolicTensor } from './layer.ts';

export interface Network {
  /** Layers in Keras's order, InputLayers included. */
  layers: Layer[];
  /** The nodes (layer calls) that belong to this network, in an order where inputs come first. */
  nodes: Node[];
  /** Depth of each node (outputs are depth 0). */
  nodeDepths: Map<Node, number>;
}

function nodeOf(tensor: SymbolicTensor): Node {
  return tensor.sourceLayer.inboundNodes[tensor.nodeIndex]!;
}

export function mapNetwork(inputs: SymbolicTensor[], outputs: SymbolicTensor[], owner: string): Network {
  for (const x of inputs) {
    if (!(x.sourceLayer instanceof InputLayer)) {
      throw new ValueError(`${owner}: model inputs must come from Input(...); ${x.sourceLayer.name} (${x.sourceLayer.className}) is not an InputLayer`);
    }
  }
  const inputSet = new Set(inputs);
  const finished = new Set<Node>();
  const inProgress = new Set<Node>();
  const nodesInDecreasingDepth: Node[] = [];
  const layerIndices = new Map<Layer, number>();

  const visit = (tensor: SymbolicTensor): void => {
    const node = nodeOf(tensor);
    if (finished.has(node)) return;
    if (inProgress.has(node)) throw new ValueError(`${owner}: the layer graph has a cycle at ${tensor.sourceLayer.name}`);
    if (!layerIndices.has(node.layer)) layerIndices.set(node.layer, layerIndices.size);
    inProgress.add(node);
    if (!node.isInput && !inputSet.has(tensor)) node.inputs.forEach(visit);
    finished.add(node);
    inProgress.delete(node);
    nodesInDecreasingDepth.push(node);
  };
  outputs.forEach(visit);

  // Depths: a node is one deeper than the deepest node that consumes it.
  const nodeDepths = new Map<Node, number>();
  const layerDepths = new Map<Layer, number>();
  for (const node of [...nodesInDecreasingDepth].reverse()) {
    const depth = Math.max(nodeDepths.get(node) ?? 0, layerDepths.get(node.layer) ?? 0);
    layerDepths.set(node.layer, depth);
    nodeDepths.set(node, depth);
    for (const parent of node.parentNodes) nodeDepths.set(parent, Math.max(depth + 1, nodeDepths.get(parent) ?? 0));
  }
  for (const x of inputs) {
    if (!layerDepths.has(x.sourceLayer)) {
      layerDepths.set(x.sourceLayer, 0);
      layerIndices.set(x.sourceLayer, -1);
      nodeDepths.set(nodeOf(x), 0);
    }
  }

  // Every path back from the outputs must end at one of the given inputs.
  for (const node of nodesInDecreasingDepth) {
    if (node.isInput && !inputSet.has(node.outputs[0]!)) {
      const given = inputs.map((x) => x.sourceLayer.name).join(', ') || 'none';
      throw new ValueError(
        `${owner}: graph disconnected: the outputs depend on input "${node.layer.name}", which is not among the model's inputs (${given})`,
      );
    }
  }

  const layers = [...layerDepths.keys()].sort((a, b) => layerDepths.get(b)! - layerDepths.get(a)! || layerIndices.get(a)! - layerIndices.get(b)!);
  const names = new Map<string, Layer>();
  for (const layer of layers) {
    if (names.has(layer.name)) throw new ValueError(`${owner}: all layer names should be unique; "${layer.name}" is used by two layers`);
    names.set(layer.name, layer);
  }
  const nodes = [...nodeDepths.keys()].sort((a, b) => nodeDepths.get(b)! - nodeDepths.get(a)!);
  return { layers, nodes, nodeDepths };
}
