// The edited model as the editors hold it: Keras JSON (tf.keras 2.x's to_json() form), with
// the helpers every edit shares: reading its layers, unique names as Keras makes them, and
// moving between the two forms (a Sequential list and a Functional graph). Pure TypeScript:
// the renderer, its workers and the tests in Node all use it.
import type { KerasModelJson } from '../../../../app/contract/api.ts';
import type { Shape } from '../../../../app/model/index.ts';

/** [layer name, call (node index), output (tensor index)] and the call's keyword arguments. */
export type TensorRef = [string, number, number, Record<string, unknown>?];

/** One call's inputs. */
export type InboundNode = TensorRef[];

export interface LayerEntry {
  class_name: string;
  config: Record<string, unknown>;
  /** Functional models only. */
  name?: string;
  inbound_nodes?: InboundNode[];
}

export interface SequentialConfig {
  name: string;
  layers: LayerEntry[];
  [key: string]: unknown;
}

export interface FunctionalConfig {
  name: string;
  layers: LayerEntry[];
  input_layers: [string, number, number][];
  output_layers: [string, number, number][];
  [key: string]: unknown;
}

export type ModelJson = KerasModelJson;

export const EMPTY_MODEL: ModelJson = { class_name: 'Sequential', config: { name: 'model', layers: [] } };

export function isSequential(json: ModelJson): boolean {
  return json.class_name === 'Sequential';
}

export function layersOf(json: ModelJson): LayerEntry[] {
  return ((json.config as { layers?: LayerEntry[] }).layers ?? []) as LayerEntry[];
}

export function layerName(entry: LayerEntry): string {
  return String(entry.config.name ?? entry.name ?? '');
}

export function findLayer(json: ModelJson, name: string): LayerEntry | undefined {
  return layersOf(json).find((entry) => layerName(entry) === name);
}

export function modelName(json: ModelJson): string {
  return String((json.config as { name?: unknown }).name ?? 'model');
}

/** A copy whose config is replaced by `change(config)`'s result; everything else (training_config) is kept. */
export function withConfig<C extends Record<string, unknown>>(json: ModelJson, change: (config: C) => C): ModelJson {
  return { ...json, config: change(json.config as C) };
}

/** Keras's to_snake_case, for default layer names: "MaxPooling2D" -> "max_pooling2d". */
export function snakeCase(className: string): string {
  return className
    .replace(/(.)([A-Z][a-z]+)/g, '$1_$2')
    .replace(/([a-z])([A-Z])/g, '$1_$2')
    .toLowerCase();
}

/** Every layer name in the model, nested models' included (names must be unique within a model). */
function allNames(json: ModelJson): Set<string> {
  return new Set(layersOf(json).map(layerName));
}

/** Keras's automatic names: "dense", then "dense_1", "dense_2", ... the first one free. */
export function uniqueName(json: ModelJson, prefix: string, taken: Set<string> = allNames(json)): string {
  if (!taken.has(prefix)) return prefix;
  for (let i = 1; ; i++) if (!taken.has(`${prefix}_${i}`)) return `${prefix}_${i}`;
}

/** The default name of an InputLayer made for a Sequential model's first layer, as tf.keras names it. */
export function implicitInputName(firstLayer: string): string {
  return `${firstLayer}_input`;
}

export function batchShapeOf(config: Record<string, unknown>): Shape | null {
  const shape = config.batch_input_shape ?? config.batch_shape;
  return Array.isArray(shape) ? (shape as Shape) : null;
}

// --- The list form ------------------------------------------------------------------------

/** A model as the list editor shows it: an input, then a plain stack of layers. */
export interface Stack {
  /** The input shape without the batch dimension; null while not set. */
  shape: Shape | null;
  /** The InputLayer's name when the file names it (null: tf.keras's "<first layer>_input"). */
  inputName: string | null;
  dtype: string;
  /** The layers, without batch_input_shape (the input carries it). */
  layers: LayerEntry[];
}

/** The model as a plain stack, or why it is not one (branches, joins, shared layers, several inputs). */
export function stackOf(json: ModelJson): Stack | { reason: string } {
  return isSequential(json) ? sequentialStack(json) : functionalStack(json);
}

function withoutInputShape(entry: LayerEntry): LayerEntry {
  const { batch_input_shape: _a, batch_shape: _b, batch_size: _c, ...config } = entry.config;
  return { class_name: entry.class_name, config };
}

function sequentialStack(json: ModelJson): Stack {
  const layers = layersOf(json);
  const first = layers[0];
  if (first?.class_name === 'InputLayer') {
    const batch = batchShapeOf(first.config);
    const rest = layers.slice(1).map(withoutInputShape);
    const name = String(first.config.name ?? '');
    // tf.keras names the input it makes "<first layer>_input"; Keras 3 and an empty list's "input_layer".
    const implicit = (rest.length > 0 && name === implicitInputName(layerName(rest[0]!))) || /^input_layer(_\d+)?$/.test(name);
    return { shape: batch ? batch.slice(1) : null, inputName: implicit ? null : name, dtype: String(first.config.dtype ?? 'float32'), layers: rest };
  }
  const batch = first ? batchShapeOf(first.config) : null;
  return { shape: batch ? batch.slice(1) : null, inputName: null, dtype: 'float32', layers: layers.map(withoutInputShape) };
}

function functionalStack(json: ModelJson): Stack | { reason: string } {
  const config = json.config as FunctionalConfig;
  const layers = layersOf(json);
  const inputs = layers.filter((entry) => entry.class_name === 'InputLayer');
  if (inputs.length !== 1 || (config.input_layers ?? []).length !== 1) return { reason: `it has ${inputs.length} inputs; a list has one` };
  if ((config.output_layers ?? []).length !== 1) return { reason: `it has ${(config.output_layers ?? []).length} outputs; a list has one` };
  const input = inputs[0]!;
  const chain: LayerEntry[] = [];
  let previous = layerName(input);
  const consumers = (name: string) => layers.filter((entry) => (entry.inbound_nodes ?? []).some((node) => node.some((ref) => ref[0] === name)));
  for (;;) {
    const next = consumers(previous);
    if (next.length === 0) break;
    if (next.length > 1) return { reason: `${previous} feeds ${next.length} layers (a branch)` };
    const entry = next[0]!;
    const nodes = entry.inbound_nodes ?? [];
    if (nodes.length !== 1) return { reason: `${layerName(entry)} is called ${nodes.length} times (a shared layer)` };
    if (nodes[0]!.length !== 1) return { reason: `${layerName(entry)} joins ${nodes[0]!.length} inputs` };
    chain.push(entry);
    previous = layerName(entry);
  }
  if (chain.length + 1 !== layers.length) return { reason: `${layers.length - chain.length - 1} of its layers are not on the path from the input to the output` };
  if (config.output_layers[0]![0] !== previous) return { reason: `its output is ${config.output_layers[0]![0]}, not the end of the chain` };
  const batch = batchShapeOf(input.config);
  return { shape: batch ? batch.slice(1) : null, inputName: layerName(input), dtype: String(input.config.dtype ?? 'float32'), layers: chain.map((entry) => ({ class_name: entry.class_name, config: entry.config })) };
}

function inputLayerEntry(name: string, shape: Shape | null, dtype: string): LayerEntry {
  return { class_name: 'InputLayer', config: { batch_input_shape: shape ? [null, ...shape] : null, dtype, name } };
}

/** The model with its stack replaced, written in the model's own form (a list stays Sequential, a chain Functional). */
export function withStack(json: ModelJson, stack: Stack): ModelJson {
  if (!isSequential(json)) return chainModel(json, stack);
  const layers = stack.layers.map((entry) => ({ class_name: entry.class_name, config: { ...entry.config } }));
  if (stack.inputName !== null || stack.dtype !== 'float32' || (layers.length === 0 && stack.shape)) {
    layers.unshift(inputLayerEntry(stack.inputName ?? uniqueName(json, 'input_layer'), stack.shape, stack.dtype));
  } else if (stack.shape && layers[0]) {
    // tf.keras's form for `inputShape` on the first layer (what the examples write).
    const { name, ...rest } = layers[0].config;
    layers[0] = { ...layers[0], config: { name, ...rest, batch_input_shape: [null, ...stack.shape] } };
  }
  return withConfig(json, (config) => ({ ...config, layers }));
}

function chainModel(json: ModelJson, stack: Stack): ModelJson {
  const inputName = stack.inputName ?? 'input_layer';
  const layers: LayerEntry[] = [{ ...inputLayerEntry(inputName, stack.shape, stack.dtype), name: inputName, inbound_nodes: [] }];
  let previous = inputName;
  for (const entry of stack.layers) {
    const name = layerName(entry);
    layers.push({ class_name: entry.class_name, config: entry.config, name, inbound_nodes: [[[previous, 0, 0, {}]]] });
    previous = name;
  }
  return withConfig<FunctionalConfig>(json, (config) => ({ ...config, layers, input_layers: [[inputName, 0, 0]], output_layers: [[previous, 0, 0]] }));
}

/** A Sequential model written as the Functional graph it is (the graph editor's form). */
export function toFunctional(json: ModelJson): ModelJson {
  if (!isSequential(json)) return json;
  const stack = sequentialStack(json);
  const functional: ModelJson = { ...json, class_name: 'Functional', config: { name: modelName(json), layers: [], input_layers: [], output_layers: [] } };
  if (!stack.shape && stack.layers.length === 0) return functional;
  const inputName = stack.inputName ?? (stack.layers[0] ? implicitInputName(layerName(stack.layers[0])) : uniqueName(json, 'input_layer'));
  return chainModel(functional, { ...stack, inputName });
}
