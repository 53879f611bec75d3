// An ONNX attribute's value as the side panel shows it: numbers exactly as the file has them,
// lists in brackets, tensors by type, shape and first values, subgraphs by their size; very
// long lists are cut, with a count of the rest.
import type { AttributeDescription, GraphDescription, JSONValue, TensorSummary } from '../../../app/onnx/description.ts';
import { formatTensorType } from './format.ts';

const MAX_ITEMS = 32;

function formatList(values: JSONValue[], item: (value: JSONValue) => string): string {
  const shown = values.slice(0, MAX_ITEMS).map(item).join(', ');
  return `[${shown}${values.length > MAX_ITEMS ? `, … ${values.length - MAX_ITEMS} more` : ''}]`;
}

function formatPlain(value: JSONValue): string {
  if (Array.isArray(value)) return formatList(value, formatPlain);
  if (value !== null && typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

function formatTensor(value: JSONValue): string {
  const tensor = value as unknown as TensorSummary;
  const type = formatTensorType(tensor.type, tensor.shape);
  return tensor.values ? `${type} ${formatList(tensor.values, formatPlain)}` : type;
}

function formatGraph(value: JSONValue): string {
  const graph = value as unknown as GraphDescription;
  return `subgraph ${graph.name ? `"${graph.name}" ` : ''}(${graph.nodes.length} nodes)`;
}

export function formatAttribute(attribute: AttributeDescription): string {
  if (attribute.refAttrName) return `the caller's attribute "${attribute.refAttrName}"`;
  const { type, value } = attribute;
  if (type === 'TENSOR' || type === 'SPARSE_TENSOR') return formatTensor(value);
  if (type === 'TENSORS' || type === 'SPARSE_TENSORS') return formatList(value as JSONValue[], formatTensor);
  if (type === 'GRAPH') return formatGraph(value);
  if (type === 'GRAPHS') return formatList(value as JSONValue[], formatGraph);
  return formatPlain(value);
}
