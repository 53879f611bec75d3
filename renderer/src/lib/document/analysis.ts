// Shape inference on the edited model, through the model API itself, tolerant of errors: every
// layer is built from its config and applied where its inputs are known, and whatever fails is
// an issue at that layer (and the argument at fault, where one is), while the rest of the
// model still gets its shapes and parameter counts. When nothing fails, the result holds the
// Model and Keras's summary. Runs on every edit (milliseconds for the seed models).
import {
  InputLayer,
  Model,
  Sequential,
  catalogEntry,
  getLayerClass,
  modelFromJSON,
  summaryData,
  type Layer,
  type Shape,
  type SummaryData,
  type SymbolicTensor,
} from '../../../../app/model/index.ts';
import { callId, connect, type CallRef } from './edits.ts';
import { implicitInputName, isSequential, layerName, layersOf, stackOf, type FunctionalConfig, type LayerEntry, type ModelJson } from './model_json.ts';

export interface Issue {
  /** The layer at fault (a list's input row is named as its InputLayer is). */
  layer: string;
  /** The call, for a shared layer's. */
  call?: number;
  /** The Keras argument at fault, where the error names one. */
  field?: string;
  message: string;
}

export interface CallInfo extends CallRef {
  id: string;
  className: string;
  /** Each input: the call it comes from and its shape (null while unknown). */
  inputs: { from: string; shape: Shape | null }[];
  /** Null when the call could not be computed (an error here or upstream, an input missing). */
  outputShapes: Shape[] | null;
}

export interface LayerInfo {
  name: string;
  className: string;
  /** Null until the layer is built (its input shape known). */
  params: number | null;
  trainableParams: number | null;
  calls: number;
}

export interface Analysis {
  layers: LayerInfo[];
  calls: Map<string, CallInfo>;
  issues: Issue[];
  /** Set when the whole model builds. */
  model: Model | null;
  summary: SummaryData | null;
  params: { total: number; trainable: number };
  /** The list form's input row, for Sequential models and chains. */
  inputName: string | null;
  ms: number;
}

/** The argument an error is about: the one it names in its context, else the first catalog key its message names. */
export function fieldOf(error: unknown, className: string): string | undefined {
  const context = (error as { context?: { field?: string } }).context;
  if (context?.field) return context.field === 'inputShape' ? 'shape' : context.field;
  const message = error instanceof Error ? error.message : String(error);
  const keys = catalogEntry(className)?.args.map((arg) => arg.key) ?? [];
  return keys.find((key) => new RegExp(`(^|[^a-z_])"?${key}"?([^a-z_]|$)`).test(message.replace(/^[^:]*:/, '')));
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Builds one layer (or a nested model) from its entry. */
function buildLayer(entry: LayerEntry): Layer {
  if (entry.class_name === 'Sequential' || entry.class_name === 'Functional' || entry.class_name === 'Model') {
    return modelFromJSON({ class_name: entry.class_name, config: entry.config }, layerName(entry));
  }
  const cls = getLayerClass(entry.class_name);
  if (!cls) throw new Error(`${layerName(entry)}: Strata has no layer class ${entry.class_name}`);
  return cls.fromConfig(entry.config);
}

function layerInfo(name: string, className: string, layer: Layer | undefined, calls: number): LayerInfo {
  const built = layer?.built ?? false;
  const trainable = built ? layer!.trainableWeights.reduce((n, w) => n + w.shape.reduce((a, b) => a * b, 1), 0) : null;
  return { name, className, params: built ? layer!.countParams() : null, trainableParams: trainable, calls };
}

export function analyze(json: ModelJson): Analysis {
  const started = performance.now();
  const result = isSequential(json) ? analyzeSequential(json) : analyzeFunctional(json);
  const built = result.layers.filter((info) => info.params !== null);
  return {
    ...result,
    params: { total: built.reduce((n, info) => n + info.params!, 0), trainable: built.reduce((n, info) => n + info.trainableParams!, 0) },
    ms: performance.now() - started,
  };
}

type Partial = Omit<Analysis, 'params' | 'ms'>;

function analyzeSequential(json: ModelJson): Partial {
  const stack = stackOf(json);
  if ('reason' in stack) throw new Error('a Sequential model is always a stack');
  const issues: Issue[] = [];
  const calls = new Map<string, CallInfo>();
  const inputName = stack.inputName ?? (stack.layers[0] ? implicitInputName(layerName(stack.layers[0])) : 'input');
  const model = new Sequential([], { name: String(json.config.name ?? 'model') });
  let x: Shape | null = null;
  let previous = inputName;
  if (stack.shape) {
    try {
      const input = new InputLayer({ batchShape: [null, ...stack.shape], name: inputName, dtype: stack.dtype as 'float32' });
      model.add(input);
      x = input.output.shape;
    } catch (error) {
      issues.push({ layer: inputName, field: 'shape', message: messageOf(error) });
    }
  } else if (stack.layers.length > 0) {
    issues.push({ layer: inputName, field: 'shape', message: 'set the input shape: the shape of one sample, without the batch dimension (e.g. 28, 28, 1)' });
  }
  calls.set(inputName, { layer: inputName, call: 0, id: inputName, className: 'InputLayer', inputs: [], outputShapes: x ? [x] : null });
  const layers: LayerInfo[] = [];
  let failed = x === null;
  for (const entry of stack.layers) {
    const name = layerName(entry);
    let layer: Layer | undefined;
    try {
      layer = buildLayer(entry);
    } catch (error) {
      issues.push({ layer: name, field: fieldOf(error, entry.class_name), message: messageOf(error) });
    }
    let output: Shape | null = null;
    if (layer && !failed) {
      try {
        model.add(layer);
        output = model.outputs[0]!.shape;
      } catch (error) {
        issues.push({ layer: name, call: 0, field: fieldOf(error, entry.class_name), message: messageOf(error) });
      }
    }
    failed ||= output === null;
    calls.set(name, { layer: name, call: 0, id: name, className: entry.class_name, inputs: [{ from: previous, shape: x }], outputShapes: output ? [output] : null });
    layers.push(layerInfo(name, entry.class_name, layer, 1));
    x = output;
    previous = name;
  }
  const valid = issues.length === 0 && stack.layers.length > 0;
  return { layers, calls, issues, model: valid ? model : null, summary: valid ? summaryData(model) : null, inputName };
}

function analyzeFunctional(json: ModelJson): Partial {
  const config = json.config as FunctionalConfig;
  const entries = layersOf(json);
  const issues: Issue[] = [];
  const built = new Map<string, Layer>();
  const seen = new Set<string>();
  for (const entry of entries) {
    const name = layerName(entry);
    if (seen.has(name)) issues.push({ layer: name, field: 'name', message: `two layers are named "${name}"; layer names are unique in a model` });
    seen.add(name);
    try {
      built.set(name, buildLayer(entry));
    } catch (error) {
      issues.push({ layer: name, field: fieldOf(error, entry.class_name), message: messageOf(error) });
    }
  }

  // Calls are applied once all their inputs are known, as Keras's from_config does.
  const tensors = new Map<string, SymbolicTensor>();
  const calls = new Map<string, CallInfo>();
  const failedCalls = new Set<string>();
  for (const entry of entries) {
    const name = layerName(entry);
    if (entry.class_name === 'InputLayer') {
      const layer = built.get(name) as InputLayer | undefined;
      if (layer) tensors.set(name, layer.output);
      calls.set(name, { layer: name, call: 0, id: name, className: 'InputLayer', inputs: [], outputShapes: layer ? [layer.output.shape] : null });
      continue;
    }
    const nodes = entry.inbound_nodes ?? [];
    if (nodes.length === 0) {
      issues.push({ layer: name, message: `${name} is not connected: connect an input to it` });
      calls.set(name, { layer: name, call: 0, id: name, className: entry.class_name, inputs: [], outputShapes: null });
    }
    nodes.forEach((node, call) => {
      const id = callId({ layer: name, call });
      calls.set(id, { layer: name, call, id, className: entry.class_name, inputs: node.map((ref) => ({ from: callId({ layer: ref[0], call: ref[1] }), shape: null })), outputShapes: null });
      if (node.length === 0) issues.push({ layer: name, call, message: `call ${call + 1} of ${name} has no input yet: connect one to it` });
      for (const ref of node) if (!seen.has(ref[0])) issues.push({ layer: name, call, message: `${name} takes an input from "${ref[0]}", which is not in the model` });
    });
  }
  const pending = [...calls.values()].filter((info) => info.className !== 'InputLayer' && info.inputs.length > 0);
  for (let progressed = true; progressed; ) {
    progressed = false;
    for (const info of pending) {
      if (info.outputShapes || failedCalls.has(info.id)) continue;
      if (info.inputs.some((input) => failedCalls.has(input.from))) {
        failedCalls.add(info.id);
        progressed = true;
        continue;
      }
      const inputs = info.inputs.map((input) => tensors.get(input.from));
      if (inputs.some((t) => t === undefined)) continue;
      progressed = true;
      info.inputs.forEach((input, i) => (input.shape = inputs[i]!.shape));
      const layer = built.get(info.layer);
      if (!layer) {
        failedCalls.add(info.id);
        continue;
      }
      try {
        const outputs = layer.applyMultiOutput(inputs as SymbolicTensor[]);
        info.outputShapes = outputs.map((t) => t.shape);
        tensors.set(info.id, outputs[0]!);
      } catch (error) {
        failedCalls.add(info.id);
        issues.push({ layer: info.layer, call: info.call, field: fieldOf(error, info.className), message: messageOf(error) });
      }
    }
  }
  for (const entry of entries) {
    const name = layerName(entry);
    const used = entries.some((other) => (other.inbound_nodes ?? []).some((node) => node.some((ref) => ref[0] === name)));
    if (entry.class_name === 'InputLayer' && !used && entries.length > 1) issues.push({ layer: name, message: `${name} feeds no layer: connect it to one` });
  }
  if (entries.length > 0 && !entries.some((entry) => entry.class_name === 'InputLayer')) issues.push({ layer: layerName(entries[0]!), message: 'the model has no Input: add one and connect it' });

  let model: Model | null = null;
  if (issues.length === 0 && entries.length > 0) {
    try {
      const resolve = (refs: [string, number, number][]) => refs.map((ref) => tensors.get(callId({ layer: ref[0], call: ref[1] }))!);
      model = new Model({ inputs: resolve(config.input_layers), outputs: resolve(config.output_layers), name: String(config.name ?? 'model') });
    } catch (error) {
      issues.push({ layer: layerName(entries[0]!), message: messageOf(error) });
    }
  }
  const layers = entries.map((entry) => layerInfo(layerName(entry), entry.class_name, built.get(layerName(entry)), entry.inbound_nodes?.length ?? 0));
  return { layers, calls, issues, model, summary: model ? summaryData(model) : null, inputName: null };
}

/** The issues at one layer (every call), and at one of its arguments. */
export function issuesAt(analysis: Analysis, layer: string, field?: string): Issue[] {
  return analysis.issues.filter((issue) => issue.layer === layer && (field === undefined || issue.field === field));
}

/** The new errors at call `to` in `after` that `before` did not have. */
function newIssuesAt(before: Analysis, after: Analysis, to: CallRef): Issue[] {
  const at = (issue: Issue) => issue.layer === to.layer && (issue.call ?? 0) === to.call && issue.call !== undefined;
  const had = new Set(before.issues.filter(at).map((issue) => issue.message));
  return after.issues.filter((issue) => at(issue) && !had.has(issue.message));
}

/**
 * The graph editor's connection of `from` to `to`: the model with it, or why it cannot work.
 * connect() refuses a cycle and an Input as the target; beyond that, a connection after which
 * the target fails with an error it did not have (a shape mismatch into Add) is refused with
 * that error. A target that fails only for want of more inputs (a merge with one input so
 * far) is not wrong, only unfinished: connecting the same tensor once more makes it compute.
 */
export function tryConnect(json: ModelJson, from: CallRef, to: CallRef): { json: ModelJson } | { reason: string } {
  let next: ModelJson;
  try {
    next = connect(json, from, to);
  } catch (error) {
    return { reason: error instanceof Error ? error.message : String(error) };
  }
  const [caused] = newIssuesAt(analyze(json), analyze(next), to);
  if (!caused) return { json: next };
  const unfinished = newIssuesAt(analyze(json), analyze(connect(next, from, to)), to).length === 0;
  return unfinished ? { json: next } : { reason: caused.message };
}
