// Every edit the three editors make, as a pure function from one model JSON to the next (the
// undo history keeps the JSONs). List edits go through the model's stack (model_json.ts) and
// write the model back in its own form; graph edits work on the Functional form, converting a
// Sequential model first. An edit may leave the model invalid (a negative unit count, an
// unconnected layer): the analysis says where, and the model stays editable.
import { catalogEntry, newLayerConfig, ValueError, type Shape } from '../../../../app/model/index.ts';
import {
  findLayer,
  isSequential,
  layerName,
  layersOf,
  snakeCase,
  stackOf,
  toFunctional,
  uniqueName,
  withConfig,
  withStack,
  type FunctionalConfig,
  type LayerEntry,
  type ModelJson,
  type Stack,
  type TensorRef,
} from './model_json.ts';

/** A layer name Keras accepts: not empty, no "/" (it separates nested models' weights), no control characters. */
export function checkLayerName(json: ModelJson, name: string, current?: string): void {
  if (name.trim() === '' || name.includes('/') || /[\u0000-\u001f]/.test(name)) {
    throw new ValueError(`"${name}" is not a layer name: it must be non-empty, without "/" or control characters`, { field: 'name' });
  }
  if (name !== current && layersOf(json).some((entry) => layerName(entry) === name)) {
    throw new ValueError(`another layer is named "${name}"; layer names are unique in a model`, { field: 'name' });
  }
}

function stackOrThrow(json: ModelJson): Stack {
  const stack = stackOf(json);
  if ('reason' in stack) throw new ValueError(`this model is not a plain list of layers (${stack.reason}); edit it in the graph`);
  return stack;
}

// --- The list ---------------------------------------------------------------------------------

/** A new layer of `className` (at its catalog defaults) at `index` of the list (the end by default). */
export function addLayer(json: ModelJson, className: string, index?: number): { json: ModelJson; name: string } {
  const stack = stackOrThrow(json);
  const name = uniqueName(json, snakeCase(className));
  const layers = [...stack.layers];
  layers.splice(index ?? layers.length, 0, { class_name: className, config: newLayerConfig(className, name) });
  return { json: withStack(json, { ...stack, layers }), name };
}

export function removeLayerAt(json: ModelJson, index: number): ModelJson {
  const stack = stackOrThrow(json);
  return withStack(json, { ...stack, layers: stack.layers.filter((_, i) => i !== index) });
}

/** A copy of the layer at `index` right below it, with a new name. */
export function duplicateLayerAt(json: ModelJson, index: number): { json: ModelJson; name: string } {
  const stack = stackOrThrow(json);
  const original = stack.layers[index]!;
  const name = uniqueName(json, layerName(original).replace(/_\d+$/, ''));
  const layers = [...stack.layers];
  layers.splice(index + 1, 0, { class_name: original.class_name, config: { ...structuredClone(original.config), name } });
  return { json: withStack(json, { ...stack, layers }), name };
}

/** Moves the layer at `from` to `to` (both list positions). */
export function moveLayer(json: ModelJson, from: number, to: number): ModelJson {
  const stack = stackOrThrow(json);
  if (to < 0 || to >= stack.layers.length || from === to) return json;
  const layers = [...stack.layers];
  const [moved] = layers.splice(from, 1);
  layers.splice(to, 0, moved!);
  return withStack(json, { ...stack, layers });
}

/** The list's input shape (without the batch dimension); null unsets it. */
export function setInputShape(json: ModelJson, shape: Shape | null): ModelJson {
  return withStack(json, { ...stackOrThrow(json), shape });
}

// --- Any form ---------------------------------------------------------------------------------

function mapLayers(json: ModelJson, change: (entry: LayerEntry) => LayerEntry): ModelJson {
  return withConfig(json, (config) => ({ ...config, layers: layersOf(json).map(change) }));
}

/** Sets one Keras argument of a layer (`shape` of an InputLayer sets its batch_input_shape). */
export function setLayerArgument(json: ModelJson, layer: string, key: string, value: unknown): ModelJson {
  if (!findLayer(json, layer)) throw new ValueError(`no layer named "${layer}"`);
  return mapLayers(json, (entry) => {
    if (layerName(entry) !== layer) return entry;
    const config = { ...entry.config };
    if (key === 'shape') config.batch_input_shape = value === null ? null : [null, ...(value as Shape)];
    else if (value === undefined) delete config[key];
    else config[key] = value;
    return { ...entry, config };
  });
}

/** Renames a layer everywhere the model refers to it. */
export function renameLayer(json: ModelJson, from: string, to: string): ModelJson {
  if (from === to) return json;
  checkLayerName(json, to, from);
  const rename = (ref: TensorRef): TensorRef => (ref[0] === from ? [to, ...ref.slice(1)] : ref) as TensorRef;
  const renamed = mapLayers(json, (entry) => {
    const own = layerName(entry) === from;
    return {
      ...entry,
      config: own ? { ...entry.config, name: to } : entry.config,
      ...(entry.name !== undefined ? { name: own ? to : entry.name } : {}),
      ...(entry.inbound_nodes ? { inbound_nodes: entry.inbound_nodes.map((node) => node.map(rename)) } : {}),
    };
  });
  if (isSequential(renamed)) return renamed;
  return withConfig<FunctionalConfig>(renamed, (config) => ({
    ...config,
    input_layers: config.input_layers.map((ref) => (ref[0] === from ? [to, ref[1], ref[2]] : ref)),
    output_layers: config.output_layers.map((ref) => (ref[0] === from ? [to, ref[1], ref[2]] : ref)),
  }));
}

export function setModelName(json: ModelJson, name: string): ModelJson {
  if (name.trim() === '' || name.includes('/')) throw new ValueError(`"${name}" is not a model name: it must be non-empty, without "/"`, { field: 'model-name' });
  return withConfig(json, (config) => ({ ...config, name }));
}

// --- The graph --------------------------------------------------------------------------------

/** One call of a layer: the graph editor's node. */
export interface CallRef {
  layer: string;
  call: number;
}

/** The graph node id of a call: the layer's name for its first call, "name#2" for the second, ... */
export function callId(ref: CallRef): string {
  return ref.call === 0 ? ref.layer : `${ref.layer}#${ref.call + 1}`;
}

export function parseCallId(id: string): CallRef {
  const match = /^(.*)#(\d+)$/.exec(id);
  return match ? { layer: match[1]!, call: Number(match[2]) - 1 } : { layer: id, call: 0 };
}

/**
 * The model's inputs and outputs, from its graph: every InputLayer is an input, and every call
 * whose output no other call takes is an output (in layer order).
 */
function withEndpoints(json: ModelJson): ModelJson {
  const layers = layersOf(json);
  const consumed = new Set(layers.flatMap((entry) => (entry.inbound_nodes ?? []).flat().map((ref) => callId({ layer: ref[0], call: ref[1] }))));
  const inputs = layers.filter((entry) => entry.class_name === 'InputLayer').map((entry): [string, number, number] => [layerName(entry), 0, 0]);
  const outputs: [string, number, number][] = [];
  for (const entry of layers) {
    if (entry.class_name === 'InputLayer') continue;
    (entry.inbound_nodes ?? []).forEach((_, call) => {
      if (!consumed.has(callId({ layer: layerName(entry), call }))) outputs.push([layerName(entry), call, 0]);
    });
  }
  return withConfig<FunctionalConfig>(json, (config) => ({ ...config, input_layers: inputs, output_layers: outputs }));
}

function mapEntries(json: ModelJson, change: (entry: LayerEntry) => LayerEntry | null): ModelJson {
  const layers = layersOf(json)
    .map(change)
    .filter((entry): entry is LayerEntry => entry !== null);
  return withEndpoints(withConfig(json, (config) => ({ ...config, layers })));
}

/** A new, unconnected layer (or Input) in the graph. `entry` gives a whole layer to add (a model used as a layer). */
export function addNode(json: ModelJson, className: string, entry?: LayerEntry): { json: ModelJson; name: string } {
  const functional = toFunctional(json);
  const base = entry ? layerName(entry) || snakeCase(className) : className === 'InputLayer' ? 'input' : snakeCase(className);
  const name = uniqueName(functional, base);
  const config = entry ? { ...entry.config, name } : newLayerConfig(className, name);
  const added: LayerEntry = { class_name: className, config, name, inbound_nodes: [] };
  return { json: withEndpoints(withConfig(functional, (c) => ({ ...c, layers: [...layersOf(functional), added] }))), name };
}

/** The calls that `ref` depends on, itself included. */
function upstream(json: ModelJson, ref: CallRef): Set<string> {
  const seen = new Set<string>();
  const visit = (call: CallRef) => {
    const id = callId(call);
    if (seen.has(id)) return;
    seen.add(id);
    for (const input of findLayer(json, call.layer)?.inbound_nodes?.[call.call] ?? []) visit({ layer: input[0], call: input[1] });
  };
  visit(ref);
  return seen;
}

/** Why `from` cannot feed `to`, before shapes are looked at; null when it can. */
export function connectionProblem(json: ModelJson, from: CallRef, to: CallRef): string | null {
  const target = findLayer(json, to.layer);
  if (!target) return `no layer named "${to.layer}"`;
  if (target.class_name === 'InputLayer') return `${to.layer} is an Input: data enters the model there, nothing flows into it`;
  if (upstream(json, from).has(callId(to))) return `${callId(from)} already depends on ${callId(to)}: connecting them would make a cycle`;
  return null;
}

/**
 * Connects the output of call `from` to call `to`: a merge takes one more input; a layer that
 * takes one input has it replaced. `to.call` one past the last makes a new call (a shared layer).
 */
export function connect(json: ModelJson, from: CallRef, to: CallRef): ModelJson {
  const functional = toFunctional(json);
  const problem = connectionProblem(functional, from, to);
  if (problem) throw new ValueError(problem);
  const several = catalogEntry(findLayer(functional, to.layer)!.class_name)?.inputs === 'several';
  const ref: TensorRef = [from.layer, from.call, 0, {}];
  return mapEntries(functional, (entry) => {
    if (layerName(entry) !== to.layer) return entry;
    const nodes = [...(entry.inbound_nodes ?? [])];
    const current = nodes[to.call] ?? [];
    nodes[to.call] = several ? [...current, ref] : [ref];
    return { ...entry, inbound_nodes: nodes };
  });
}

/** Removes input `index` of call `to`. */
export function disconnect(json: ModelJson, to: CallRef, index: number): ModelJson {
  return mapEntries(json, (entry) => {
    if (layerName(entry) !== to.layer) return entry;
    const nodes = (entry.inbound_nodes ?? []).map((node, call) => (call === to.call ? node.filter((_, i) => i !== index) : node));
    return { ...entry, inbound_nodes: nodes };
  });
}

/** A second (third, ...) call of a layer, not connected yet: the same weights applied again. */
export function addCall(json: ModelJson, layer: string): { json: ModelJson; call: number } {
  const functional = toFunctional(json);
  const entry = findLayer(functional, layer);
  if (!entry) throw new ValueError(`no layer named "${layer}"`);
  if (entry.class_name === 'InputLayer') throw new ValueError(`${layer} is an Input; only layers can be applied again`);
  const calls = entry.inbound_nodes?.length ?? 0;
  if (calls === 0) throw new ValueError(`${layer} is not connected yet: connect its first call before applying it again`);
  return { json: mapEntries(functional, (e) => (e === entry ? { ...e, inbound_nodes: [...(e.inbound_nodes ?? []), []] } : e)), call: calls };
}

/**
 * Removes a graph node: one call of a shared layer (later calls move up one), or the whole
 * layer when it has one call. Inputs that came from what is removed are removed with it.
 */
export function removeNode(json: ModelJson, ref: CallRef): ModelJson {
  const functional = toFunctional(json);
  const entry = findLayer(functional, ref.layer);
  if (!entry) return json;
  const wholeLayer = (entry.inbound_nodes?.length ?? 0) <= 1;
  const renumber = (input: TensorRef): TensorRef | null => {
    if (input[0] !== ref.layer) return input;
    if (wholeLayer || input[1] === ref.call) return null;
    return input[1] > ref.call ? ([input[0], input[1] - 1, ...input.slice(2)] as TensorRef) : input;
  };
  return mapEntries(functional, (e) => {
    if (e === entry) return wholeLayer ? null : { ...e, inbound_nodes: (e.inbound_nodes ?? []).filter((_, call) => call !== ref.call) };
    if (!e.inbound_nodes) return e;
    return { ...e, inbound_nodes: e.inbound_nodes.map((node) => node.map(renumber).filter((input): input is TensorRef => input !== null)) };
  });
}

/** Removes a layer, wherever it is (a list row or every call of a graph node). */
export function removeLayer(json: ModelJson, name: string): ModelJson {
  const stack = stackOf(json);
  if (!('reason' in stack) && (isSequential(json) || findLayer(json, name)?.class_name !== 'InputLayer')) {
    const index = stack.layers.findIndex((entry) => layerName(entry) === name);
    if (index >= 0) return removeLayerAt(json, index);
  }
  let result = toFunctional(json);
  for (let calls = findLayer(result, name)?.inbound_nodes?.length ?? 0; calls > 1; calls--) result = removeNode(result, { layer: name, call: calls - 1 });
  return removeNode(result, { layer: name, call: 0 });
}
