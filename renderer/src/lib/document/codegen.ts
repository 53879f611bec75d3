// The edited model as a TypeScript file in the Keras style of examples/*.ts: a Sequential model
// as `new Sequential([...layers], {name})`, anything else as Functional code (Input, layers
// applied to tensors, `new Model({inputs, outputs})`). Keras's positional arguments stay
// positional; every other argument is written only where it differs from the layer's default,
// then inputShape and name, as the examples write them. Defaults come from the layer classes
// themselves (a layer built from its config and written out again), so what is written is
// what the model API would make of it.
import { catalogEntry, getLayerClass, initializerName, newLayerConfig, type LayerCatalogEntry } from '../../../../app/model/index.ts';
import { callId } from './edits.ts';
import { batchShapeOf, isSequential, layerName, layersOf, modelName, stackOf, type FunctionalConfig, type LayerEntry, type ModelJson, type Stack } from './model_json.ts';

/** A value as TypeScript source: strings single-quoted, arrays and objects inline, None as null. */
export function literal(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'string') return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'").replace(/\n/g, '\\n')}'`;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) return `[${value.map(literal).join(', ')}]`;
  const entries = Object.entries(value as Record<string, unknown>).map(([key, v]) => `${/^[A-Za-z_$][\w$]*$/.test(key) ? key : literal(key)}: ${literal(v)}`);
  return entries.length ? `{ ${entries.join(', ')} }` : '{}';
}

/** The config as the layer class writes it (defaults filled in, tuples and initializers in one form); the config itself when it does not build. */
function canonicalConfig(className: string, config: Record<string, unknown>): Record<string, unknown> {
  try {
    return getLayerClass(className)!.fromConfig(config).getConfig();
  } catch {
    return config;
  }
}

const defaultsCache = new Map<string, Record<string, unknown>>();

function defaultConfig(entry: LayerCatalogEntry): Record<string, unknown> {
  let defaults = defaultsCache.get(entry.className);
  if (!defaults) {
    defaults = canonicalConfig(entry.className, newLayerConfig(entry.className, 'default'));
    defaultsCache.set(entry.className, defaults);
  }
  return defaults;
}

function initializerSource(value: unknown, imports: Set<string>): string {
  const name = initializerName(value);
  if (name) return literal(name);
  if (typeof value === 'object' && value !== null && 'class_name' in value) {
    imports.add('initializers');
    const { class_name, config } = value as { class_name: string; config?: Record<string, unknown> };
    return `new initializers.${class_name}(${literal(config ?? {})})`;
  }
  return literal(value);
}

function argumentSource(kind: string, value: unknown, imports: Set<string>): string {
  if (kind === 'recurrent-layer' || kind === 'layer') return layerSource(value as LayerEntry, imports);
  return kind === 'initializer' ? initializerSource(value, imports) : literal(value);
}

/** `new layers.Dense(64, { activation: 'relu', name: 'dense1' })`; `inputShape` for a Sequential model's first layer. */
export function layerSource(entry: LayerEntry, imports: Set<string>, inputShape?: (number | null)[] | null): string {
  const catalog = catalogEntry(entry.class_name);
  const name = layerName(entry);
  if (!catalog) return `/* ${name}: ${entry.class_name} has no code form */ null`;
  const config = canonicalConfig(entry.class_name, entry.config);
  const defaults = defaultConfig(catalog);
  const positional: string[] = [];
  const options: string[] = [];
  for (const arg of catalog.args) {
    const value = config[arg.key] ?? entry.config[arg.key];
    if (arg.positional) positional.push(argumentSource(arg.type.kind, value, imports));
    else if (value !== undefined && JSON.stringify(value) !== JSON.stringify(defaults[arg.key])) {
      if (arg.type.kind === 'initializer' && initializerName(value) === initializerName(defaults[arg.key])) continue;
      options.push(`${arg.option}: ${argumentSource(arg.type.kind, value, imports)}`);
    }
  }
  if (inputShape) options.push(`inputShape: ${literal(inputShape)}`);
  options.push(`name: ${literal(name)}`);
  imports.add('layers');
  return `new layers.${entry.class_name}(${[...positional, `{ ${options.join(', ')} }`].join(', ')})`;
}

/** The model's TypeScript file. */
export function generateCode(json: ModelJson): string {
  const imports = new Set<string>();
  const body = isSequential(json) ? sequentialBody(json, imports) : functionalBody(json, imports, 'model');
  const names = [...imports].sort((a, b) => Number(/^[a-z]/.test(a)) - Number(/^[a-z]/.test(b)) || a.localeCompare(b));
  return [`import { ${names.join(', ')} } from 'strata';`, '', ...body, '', 'export default model;', ''].join('\n');
}

function sequentialBody(json: ModelJson, imports: Set<string>, variable = 'model'): string[] {
  imports.add('Sequential');
  const stack = stackOf(json) as Stack;
  const items: string[] = [];
  if (stack.inputName !== null || stack.dtype !== 'float32' || (stack.layers.length === 0 && stack.shape)) {
    imports.add('layers');
    const dtype = stack.dtype !== 'float32' ? `, dtype: ${literal(stack.dtype)}` : '';
    items.push(`new layers.InputLayer({ shape: ${literal(stack.shape)}${dtype}, name: ${literal(stack.inputName ?? 'input_layer')} })`);
    stack.layers.forEach((entry) => items.push(layerSource(entry, imports)));
  } else {
    stack.layers.forEach((entry, i) => items.push(layerSource(entry, imports, i === 0 ? stack.shape : null)));
  }
  const list = items.length ? ['  [', ...items.map((item) => `    ${item},`), '  ],'] : ['  [],'];
  return [`const ${variable} = new Sequential(`, ...list, `  { name: ${literal(modelName(json))} },`, ');'];
}

/** A JavaScript identifier for a layer name, unique among `taken`. */
function identifier(name: string, taken: Set<string>): string {
  let id = name.replace(/[^\w$]+(.)?/g, (_, c: string | undefined) => (c ? c.toUpperCase() : '')).replace(/^(\d)/, '_$1') || 'x';
  if (RESERVED.has(id)) id = `${id}_`;
  let unique = id;
  for (let i = 2; taken.has(unique); i++) unique = `${id}${i}`;
  taken.add(unique);
  return unique;
}

const RESERVED = new Set(['model', 'layers', 'Input', 'Model', 'Sequential', 'initializers', 'default', 'new', 'class', 'const', 'let', 'var', 'function', 'return', 'import', 'export', 'this', 'delete', 'in', 'for', 'if']);

/** A Functional model's code; `variable` holds the model (nested models get one each). */
function functionalBody(json: ModelJson, imports: Set<string>, variable: string, taken = new Set<string>([variable])): string[] {
  const config = json.config as FunctionalConfig;
  const entries = layersOf(json);
  const byName = new Map(entries.map((entry) => [layerName(entry), entry]));
  const lines: string[] = [];
  const tensorOf = new Map<string, string>();
  const layerVariable = new Map<string, string>();

  const emitCall = (name: string, call: number, visiting: Set<string>): string | null => {
    const id = callId({ layer: name, call });
    if (tensorOf.has(id)) return tensorOf.get(id)!;
    const entry = byName.get(name);
    if (!entry || visiting.has(id)) return null;
    if (entry.class_name === 'InputLayer') {
      imports.add('Input');
      const v = identifier(name, taken);
      const shape = batchShapeOf(entry.config)?.slice(1) ?? null;
      const dtype = entry.config.dtype && entry.config.dtype !== 'float32' ? `, dtype: ${literal(entry.config.dtype)}` : '';
      lines.push(`const ${v} = Input({ shape: ${literal(shape)}${dtype}, name: ${literal(name)} });`);
      tensorOf.set(id, v);
      return v;
    }
    const node = entry.inbound_nodes?.[call];
    if (!node || node.length === 0) return null;
    visiting.add(id);
    const inputs = node.map((ref) => emitCall(ref[0], ref[1], visiting));
    visiting.delete(id);
    if (inputs.some((input) => input === null)) return null;
    const argument = inputs.length === 1 && catalogEntry(entry.class_name)?.inputs !== 'several' ? inputs[0]! : `[${inputs.join(', ')}]`;
    const v = identifier(call === 0 ? name : `${name}_${call + 1}`, taken);
    const shared = (entry.inbound_nodes?.length ?? 0) > 1 || isModelEntry(entry);
    if (shared) {
      let holder = layerVariable.get(name);
      if (!holder) {
        holder = identifier(isModelEntry(entry) ? name : `${name}_layer`, taken);
        layerVariable.set(name, holder);
        if (isModelEntry(entry)) lines.push(...nestedModel(entry, imports, holder, taken));
        else lines.push(`const ${holder} = ${layerSource(entry, imports)};`);
      }
      lines.push(`const ${v} = ${holder}.apply(${argument});`);
    } else {
      lines.push(`const ${v} = ${layerSource(entry, imports)}.apply(${argument});`);
    }
    tensorOf.set(id, v);
    return v;
  };

  const inputs = (config.input_layers ?? []).map((ref) => emitCall(ref[0], ref[1], new Set()));
  const outputs = (config.output_layers ?? []).map((ref) => emitCall(ref[0], ref[1], new Set()));
  for (const entry of entries) {
    if ((entry.inbound_nodes?.length ?? 0) === 0 && entry.class_name !== 'InputLayer') lines.push(`// ${layerName(entry)} (${entry.class_name}) is not connected.`);
  }
  imports.add('Model');
  const list = (values: (string | null)[]) => (values.length === 1 ? (values[0] ?? 'null') : `[${values.map((v) => v ?? 'null').join(', ')}]`);
  lines.push('', `const ${variable} = new Model({ inputs: ${list(inputs)}, outputs: ${list(outputs)}, name: ${literal(modelName(json))} });`);
  return lines;
}

function isModelEntry(entry: LayerEntry): boolean {
  return entry.class_name === 'Sequential' || entry.class_name === 'Functional' || entry.class_name === 'Model';
}

/** A model used as a layer: its own definition, before it is applied. */
function nestedModel(entry: LayerEntry, imports: Set<string>, variable: string, taken: Set<string>): string[] {
  const json: ModelJson = { class_name: entry.class_name === 'Sequential' ? 'Sequential' : 'Functional', config: entry.config };
  const body = isSequential(json) ? sequentialBody(json, imports, variable) : functionalBody(json, imports, variable, taken);
  return [`// ${layerName(entry)}, a model used as a layer`, ...body.filter((line) => line !== ''), ''];
}
