// A plain, serializable description of a model's layer graph: the data the renderer's graph
// view and plot_model-style exports draw from. One node per layer (a shared layer is one
// node with several incoming call sites), one edge per tensor passed between layers.
import type { Model } from './model.ts';
import type { Shape } from './shape.ts';
import { countParams, type ParamCounts } from './summary.ts';

export interface GraphNodeDescription {
  /** The layer name, unique within the model. */
  id: string;
  className: string;
  /** Input shapes of each call of the layer in this model. */
  inputShapes: Shape[][];
  /** Output shapes of each call. */
  outputShapes: Shape[][];
  params: number;
  trainableParams: number;
  /** The layer's Keras config (snake_case), for property panels. */
  config: Record<string, unknown>;
}

export interface GraphEdgeDescription {
  from: string;
  to: string;
  /** Shape of the tensor carried. */
  shape: Shape;
  /** Which call of the target layer, and which of its inputs, the tensor feeds. */
  toCall: number;
  toInput: number;
}

export interface GraphDescription {
  name: string;
  className: string;
  inputs: { layer: string; shape: Shape }[];
  outputs: { layer: string; shape: Shape }[];
  nodes: GraphNodeDescription[];
  edges: GraphEdgeDescription[];
  params: ParamCounts;
}

export function describeGraph(model: Model): GraphDescription {
  const { layers } = model.graph;
  const nodes: GraphNodeDescription[] = [];
  const edges: GraphEdgeDescription[] = [];
  for (const layer of layers) {
    const calls = model.nodesOf(layer);
    nodes.push({
      id: layer.name,
      className: layer.className,
      inputShapes: calls.map((call) => call.inputs.map((t) => t.shape)),
      outputShapes: calls.map((call) => call.outputs.map((t) => t.shape)),
      params: layer.countParams(),
      trainableParams: layer.trainableWeights.reduce((n, w) => n + w.shape.reduce((a, b) => a * b, 1), 0),
      config: layer.getConfig(),
    });
    calls.forEach((call, toCall) =>
      call.inputs.forEach((t, toInput) => edges.push({ from: t.sourceLayer.name, to: layer.name, shape: t.shape, toCall, toInput })),
    );
  }
  return {
    name: model.name,
    className: model.className,
    inputs: model.inputs.map((t) => ({ layer: t.sourceLayer.name, shape: t.shape })),
    outputs: model.outputs.map((t) => ({ layer: t.sourceLayer.name, shape: t.shape })),
    nodes,
    edges,
    params: countParams(model),
  };
}
