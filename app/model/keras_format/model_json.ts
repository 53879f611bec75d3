// Reads Keras model JSON into a Model: tf.keras 2.x's model.to_json(), the modelTopology of
// a TensorFlow.js model.json (with or without its "model_config" wrapper), and Keras 3's
// config.json. Layers are rebuilt from the registry and reconnected node by node, as
// Keras's Functional.from_config does; anything Strata cannot represent is an error that
// names the layer and the key, never silently dropped.
import { ConfigError, FormatError, LimitError, prefixUserError } from '../errors.ts';
import { InputLayer } from '../layers/input.ts';
import type { CallKwargs, Layer, SymbolicTensor } from '../layer.ts';
import { LIMITS } from '../limits.ts';
import { Model } from '../model.ts';
import { getLayerClass, registeredClassNames } from '../registry.ts';
import { Sequential } from '../sequential.ts';

type Json = Record<string, unknown>;

/** Keys that describe the file or the writer rather than the model. */
const INFORMATIONAL_KEYS = new Set(['module', 'registered_name', 'build_config', 'keras_version', 'backend', 'shared_object_id']);

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function checkKeys(where: string, object: Json, allowed: string[]): void {
  for (const key of Object.keys(object)) {
    if (!allowed.includes(key) && !INFORMATIONAL_KEYS.has(key)) throw new ConfigError(`${where}: unsupported key "${key}"`);
  }
}

/** Parses the text of a JSON model file, which must hold one object; errors name `source`. */
export function parseJsonObject(text: string, source: string): Json {
  if (text.trim() === '') throw new FormatError(`${source}: the file is empty; expected a Keras or TensorFlow.js model JSON object`, { file: source });
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new FormatError(`${source}: not valid JSON (${(error as Error).message})`, { file: source });
  }
  if (!isObject(parsed)) throw new ConfigError(`${source}: expected a JSON object with "class_name" and "config"`, { file: source });
  return parsed;
}

/** Parses Keras model JSON (a string or an already-parsed object) into a Model. */
export function modelFromJSON(json: string | Json, source = 'model JSON'): Model {
  const parsed = typeof json === 'string' ? parseJsonObject(json, source) : json;
  if (!isObject(parsed)) throw new ConfigError(`${source}: expected a JSON object with "class_name" and "config"`);
  let topology: Json = parsed;
  // TensorFlow.js model.json: {"modelTopology": ..., "weightsManifest": ...}.
  if (isObject(parsed.modelTopology)) topology = parsed.modelTopology;
  let trainingConfig = isObject(topology.training_config) ? topology.training_config : isObject(topology.compile_config) ? topology.compile_config : null;
  // tfjs-converter output wraps the model: {"keras_version", "backend", "model_config", "training_config"}.
  if (isObject(topology.model_config)) {
    checkKeys(source, topology, ['model_config', 'training_config']);
    topology = topology.model_config;
    trainingConfig = isObject(topology.training_config) ? topology.training_config : trainingConfig;
  }
  if (typeof topology.class_name !== 'string') throw new ConfigError(`${source}: no "class_name" at the top level; is this a Keras model JSON file?`);
  checkKeys(source, topology, ['class_name', 'config', 'training_config', 'compile_config']);
  let model: Layer;
  try {
    model = layerFromEntry(topology, source, 0);
  } catch (error) {
    // A layer's own checks name the layer; the file is named here.
    throw prefixUserError(error, source, { file: source });
  }
  if (!(model instanceof Model)) throw new ConfigError(`${source}: the top level is a ${topology.class_name} layer, not a model`);
  model.trainingConfig = trainingConfig;
  return model;
}

/**
 * Whether objects and arrays nest more than `limit` levels in `value`, walked with a stack of its
 * own: a layer's fromConfig (TimeDistributed's of the layer it wraps) and carriesCode's
 * JSON.stringify recurse, and would overflow the call stack.
 */
function nestedDeeperThan(value: unknown, limit: number): boolean {
  const pending: [unknown, number][] = [[value, 1]];
  while (pending.length > 0) {
    const [current, depth] = pending.pop()!;
    if (typeof current !== 'object' || current === null) continue;
    if (depth > limit) return true;
    for (const child of Object.values(current)) pending.push([child, depth + 1]);
  }
  return false;
}

/** Builds one layer (or nested model) from {"class_name", "config", ...}; `depth` counts the models around it. */
function layerFromEntry(entry: Json, where: string, depth: number): Layer {
  const className = entry.class_name;
  const config = entry.config;
  const name = isObject(config) && typeof config.name === 'string' ? config.name : String(entry.name ?? '?');
  const isModel = className === 'Sequential' || className === 'Functional' || className === 'Model';
  if (isModel && depth >= LIMITS.nestingDepth) {
    const source = where.split(' > ')[0];
    throw new LimitError(`${source}: model "${name}" is nested ${depth + 1} models deep; Strata reads at most ${LIMITS.nestingDepth} levels of models inside models`, { layer: name });
  }
  if (className === 'Sequential') return sequentialFromConfig(config, `${where} > ${name}`, depth + 1);
  if (className === 'Functional' || className === 'Model') return functionalFromConfig(config, `${where} > ${name}`, depth + 1);
  if (nestedDeeperThan(config, LIMITS.jsonDepth)) {
    throw new LimitError(`${where}: layer "${name}" has a config nested more than ${LIMITS.jsonDepth} levels deep (TimeDistributed inside TimeDistributed, or a value); Strata reads at most ${LIMITS.jsonDepth}`, { layer: name });
  }
  const codeRefusal = carriesCode(entry);
  if (codeRefusal) throw new ConfigError(`${where}: layer "${name}" ${codeRefusal}`, { layer: name });
  const cls = typeof className === 'string' ? getLayerClass(className) : undefined;
  if (!cls) {
    throw new ConfigError(
      `${where}: layer "${name}" has unsupported class ${JSON.stringify(className)}; supported: ${[...registeredClassNames(), 'Sequential', 'Functional'].join(', ')}`,
    );
  }
  if (!isObject(config)) throw new ConfigError(`${where}: layer "${name}" has no "config" object`);
  return cls.fromConfig(config);
}

/** Keras's classes whose config holds Python code (a lambda's bytecode) or names a TensorFlow function to call. */
const CODE_LAYERS = new Set(['Lambda', 'TFOpLambda', 'SlicingOpLambda']);
/** What Keras (safe_mode=True, its default) says of them; Strata never runs code from a model file, whatever the mode. */
const SAFE_MODE = 'This carries a potential risk of arbitrary code execution and thus it is disallowed by default (Keras: safe_mode=True); Strata never runs code from a model file';

/**
 * Why a layer entry cannot be loaded without running code, or undefined: a Lambda layer, a
 * Python lambda anywhere in its config (Keras 3 writes {"class_name": "__lambda__"}), or a
 * custom class (Keras 3 records it under a registered_name or a module outside Keras), whose
 * code the file does not hold.
 */
function carriesCode(entry: Json): string | undefined {
  const className = String(entry.class_name);
  if (CODE_LAYERS.has(className)) {
    return `is a ${className} layer: requested the deserialization of a ${className} layer with Python code inside it. ${SAFE_MODE}; rebuild it from built-in layers, or define the model in a TypeScript model file`;
  }
  if (JSON.stringify(entry.config ?? null).includes('"__lambda__"')) {
    return `has a Python lambda in its config: requested the deserialization of a Python lambda. ${SAFE_MODE}; use a built-in activation, initializer or regularizer instead`;
  }
  const registered = typeof entry.registered_name === 'string' ? entry.registered_name : undefined;
  const module = typeof entry.module === 'string' ? entry.module : undefined;
  if ((registered !== undefined && registered !== className) || (module !== undefined && !/^(keras|tf_keras|tensorflow)(\.|$)/.test(module))) {
    return `is a custom class ${JSON.stringify(className)} (${registered !== undefined ? `registered as ${JSON.stringify(registered)}` : `from module ${JSON.stringify(module)}`}): its code is not in the file, and loading it means running code. ${SAFE_MODE}; rebuild it from built-in layers, or define the model in a TypeScript model file`;
  }
  return undefined;
}

function sequentialFromConfig(config: unknown, where: string, depth: number): Sequential {
  // Keras 2.0 and old TensorFlow.js wrote the layer list itself as the config.
  const layersConfig = Array.isArray(config) ? config : isObject(config) ? config.layers : undefined;
  if (!Array.isArray(layersConfig)) throw new ConfigError(`${where}: a Sequential config needs a "layers" list`);
  if (isObject(config)) checkKeys(where, config, ['name', 'layers', 'trainable', 'dtype', 'build_input_shape']);
  const name = isObject(config) && typeof config.name === 'string' ? config.name : undefined;
  const model = new Sequential([], name !== undefined ? { name } : {});
  layersConfig.forEach((entry, i) => {
    if (!isObject(entry)) throw new ConfigError(`${where}: layers[${i}] is not an object`);
    checkKeys(`${where}: layers[${i}]`, entry, ['class_name', 'config', 'name', 'inbound_nodes']);
    const layer = layerFromEntry(entry, where, depth);
    model.add(layer instanceof InputLayer ? layer.output : layer);
  });
  if (isObject(config) && config.trainable === false) model.trainable = false;
  const buildShape = isObject(config) ? config.build_input_shape : undefined;
  if (!model.built && Array.isArray(buildShape)) model.build(buildShape as (number | null)[]);
  return model;
}

/** [layer_name, node_index, tensor_index] as written in inbound_nodes, input_layers, output_layers. */
interface TensorRef {
  layer: string;
  node: number;
  tensor: number;
}

function parseRef(value: unknown, where: string): TensorRef {
  // Keras 3 writes {"class_name": "__keras_tensor__", "config": {"keras_history": [...]}}.
  if (isObject(value) && value.class_name === '__keras_tensor__' && isObject(value.config)) value = value.config.keras_history;
  if (!Array.isArray(value) || typeof value[0] !== 'string' || !Number.isInteger(value[1]) || !Number.isInteger(value[2])) {
    throw new ConfigError(`${where}: expected a tensor reference [layer_name, node_index, tensor_index], got ${JSON.stringify(value)}`);
  }
  return { layer: value[0], node: value[1] as number, tensor: value[2] as number };
}

/** One call of a layer as a file records it: its input references and its call arguments. */
interface NodeEntry {
  refs: TensorRef[];
  kwargs: CallKwargs;
}

/**
 * Call arguments recorded with a node: `training` is a run-time switch in Strata and an unset
 * mask is nothing; the layer's own call arguments (Attention's use_causal_mask) are kept;
 * anything else would be dropped, so it is an error.
 */
function callKwargs(kwargs: Json, layer: Layer, where: string): CallKwargs {
  const own = Object.values((layer.constructor as typeof Layer).callArguments);
  const kept: Record<string, boolean> = {};
  for (const [key, value] of Object.entries(kwargs)) {
    if (key === 'training' || (key === 'mask' && value === null)) continue;
    if (!own.includes(key) || typeof value !== 'boolean') throw new ConfigError(`${where}: unsupported call argument ${key}=${JSON.stringify(value)}`);
    kept[key] = value;
  }
  return kept;
}

/**
 * One node in tf.keras 2.x's list form (the kwargs beside each reference) or Keras 3's
 * {"args", "kwargs"} form. Inputs a layer takes as kwargs (MultiHeadAttention's value and
 * key) follow the positional ones.
 */
function parseNode(node: unknown, layer: Layer, where: string): NodeEntry {
  const tensorKeys = (layer.constructor as typeof Layer).tensorCallArguments;
  const split = (kwargs: Json): NodeEntry => {
    const given = tensorKeys.filter((key) => kwargs[key] !== undefined && kwargs[key] !== null);
    const rest = Object.fromEntries(Object.entries(kwargs).filter(([key]) => !given.includes(key)));
    return { refs: given.map((key) => parseRef(kwargs[key], `${where}: ${key}`)), kwargs: callKwargs(rest, layer, where) };
  };
  if (Array.isArray(node)) {
    // tf.keras 2.x copies the call's kwargs onto every input reference; the first's are the call's.
    const first = node[0];
    const extra = Array.isArray(first) && isObject(first[3]) ? split(first[3]) : { refs: [], kwargs: {} };
    node.slice(1).forEach((ref) => Array.isArray(ref) && isObject(ref[3]) && split(ref[3]));
    return { refs: [...node.map((ref) => parseRef(ref, where)), ...extra.refs], kwargs: extra.kwargs };
  }
  if (isObject(node) && Array.isArray(node.args)) {
    const extra = isObject(node.kwargs) ? split(node.kwargs) : { refs: [], kwargs: {} };
    const flat = node.args.flatMap((arg) => (Array.isArray(arg) && arg.every(isObject) ? arg : [arg]));
    return { refs: [...flat.map((ref) => parseRef(ref, where)), ...extra.refs], kwargs: extra.kwargs };
  }
  throw new ConfigError(`${where}: unreadable inbound node ${JSON.stringify(node)}`);
}

/** "input_layers": [["a", 0, 0], ...], or Keras 3's single ["a", 0, 0]. */
function parseRefList(value: unknown, key: string, where: string): TensorRef[] {
  if (!Array.isArray(value) || value.length === 0) throw new ConfigError(`${where}: "${key}" must be a non-empty list`);
  const list = typeof value[0] === 'string' ? [value] : value;
  return list.map((ref) => parseRef(ref, `${where}: ${key}`));
}

function functionalFromConfig(config: unknown, where: string, depth: number): Model {
  if (!isObject(config) || !Array.isArray(config.layers)) throw new ConfigError(`${where}: a Functional config needs a "layers" list`);
  checkKeys(where, config, ['name', 'trainable', 'layers', 'input_layers', 'output_layers']);
  const layers = new Map<string, Layer>();
  const pending = new Map<Layer, NodeEntry[]>();
  config.layers.forEach((entry, i) => {
    if (!isObject(entry)) throw new ConfigError(`${where}: layers[${i}] is not an object`);
    checkKeys(`${where}: layers[${i}]`, entry, ['class_name', 'config', 'name', 'inbound_nodes']);
    const layer = layerFromEntry(entry, where, depth);
    if (typeof entry.name === 'string' && entry.name !== layer.name) {
      throw new ConfigError(`${where}: layers[${i}] is named "${entry.name}" but its config says "${layer.name}"`);
    }
    if (layers.has(layer.name)) throw new ConfigError(`${where}: two layers are named "${layer.name}"`);
    layers.set(layer.name, layer);
    const nodes = Array.isArray(entry.inbound_nodes) ? entry.inbound_nodes : [];
    pending.set(layer, nodes.map((node) => parseNode(node, layer, `${where} > ${layer.name}`)));
  });

  const tensorFor = (ref: TensorRef, context: string): SymbolicTensor | undefined => {
    const layer = layers.get(ref.layer);
    if (!layer) throw new ConfigError(`${context}: refers to layer "${ref.layer}", which is not in the model`);
    return layer.inboundNodes[ref.node]?.outputs[ref.tensor];
  };

  // Apply each layer's calls as soon as their inputs exist; shared layers and nested models
  // can need several rounds, as in Keras's from_config.
  let remaining = [...pending.values()].reduce((n, nodes) => n + nodes.length, 0);
  while (remaining > 0) {
    let progressed = false;
    for (const [layer, nodes] of pending) {
      while (nodes.length > 0) {
        const inputs = nodes[0]!.refs.map((ref) => tensorFor(ref, `${where} > ${layer.name}`));
        if (inputs.some((x) => x === undefined)) break;
        layer.applyWithKwargs(inputs as SymbolicTensor[], nodes[0]!.kwargs);
        nodes.shift();
        remaining--;
        progressed = true;
      }
    }
    if (!progressed) {
      const stuck = [...pending].filter(([, nodes]) => nodes.length > 0).map(([layer, nodes]) => `${layer.name} <- ${nodes[0]!.refs.map((r) => `${r.layer}[${r.node}][${r.tensor}]`).join(', ')}`);
      throw new ConfigError(`${where}: cannot connect layers; these inputs never become available: ${stuck.join('; ')}`);
    }
  }

  const resolve = (key: string): SymbolicTensor[] =>
    parseRefList(config[key], key, where).map((ref) => {
      const tensor = tensorFor(ref, `${where}: ${key}`);
      if (!tensor) throw new ConfigError(`${where}: ${key} refers to ${ref.layer}[${ref.node}][${ref.tensor}], which does not exist`);
      return tensor;
    });
  const name = typeof config.name === 'string' ? config.name : undefined;
  const model = new Model({ inputs: resolve('input_layers'), outputs: resolve('output_layers'), ...(name !== undefined ? { name } : {}) });
  if (config.trainable === false) model.trainable = false;
  return model;
}
