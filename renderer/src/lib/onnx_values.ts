// Every value of an ONNX graph with its type and shape: as the file declares it (graph inputs
// and outputs, value_info, initializers) or, where the file says nothing, as shape inference
// found it (marked inferred, so the views can say so).
import type { Dim, GraphDescription, TensorSummary } from '../../../app/onnx/description.ts';
import type { OnnxDocument } from '../../../app/contract/api.ts';

export interface ValueType {
  type: string;
  shape: Dim[] | null;
  inferred: boolean;
}

export function valueTypes(document: Pick<OnnxDocument, 'description' | 'inferred'>): Map<string, ValueType> {
  const graph = document.description.graph;
  const types = new Map<string, ValueType>();
  for (const [name, value] of Object.entries(document.inferred)) types.set(name, { ...value, inferred: true });
  for (const value of [...graph.valueInfo, ...graph.outputs, ...graph.inputs]) {
    // A declared type without a shape says less than an inferred one with a shape.
    if (value.shape === null && types.get(value.name)?.shape) continue;
    types.set(value.name, { type: value.type, shape: value.shape, inferred: false });
  }
  for (const tensor of graph.initializers) types.set(tensor.name, { type: tensor.type, shape: tensor.shape, inferred: false });
  return types;
}

export function initializersByName(graph: GraphDescription): Map<string, TensorSummary> {
  return new Map([...graph.initializers, ...graph.sparseInitializers].map((tensor) => [tensor.name, tensor]));
}
