// Writing Python source from TypeScript: literals from JSON-like values, identifiers from
// Keras names, and the model's layer calls in order with nested models inlined. Shared by
// the PyTorch and the Keras exports.
import { readFileSync } from 'node:fs';
import { InputLayer, Model, ValueError, type CallKwargs, type Layer, type SymbolicTensor } from '../model/index.ts';

/** The text of one of the Python files the exports copy (app/export/python/). */
export function pythonSource(name: string): string {
  return readFileSync(new URL(`./python/${name}`, import.meta.url), 'utf8');
}

const PYTHON_KEYWORDS = new Set(
  'False None True and as assert async await break class continue def del elif else except finally for from global if import in is lambda nonlocal not or pass raise return try while with yield'.split(' '),
);

/** A Python literal for a JSON-like value: null -> None, booleans -> True/False, arrays -> lists (tuples with `tuples`). */
export function pyLiteral(value: unknown, tuples = false): string {
  if (value === null || value === undefined) return 'None';
  if (typeof value === 'boolean') return value ? 'True' : 'False';
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) return value > 0 ? "float('inf')" : value < 0 ? "float('-inf')" : "float('nan')";
    return String(value); // the shortest decimal that reads back as the same double, in Python too
  }
  if (typeof value === 'string') return JSON.stringify(value); // JSON's escapes are Python's
  if (Array.isArray(value)) {
    const items = value.map((v) => pyLiteral(v, tuples));
    return tuples ? `(${items.join(', ')}${items.length === 1 ? ',' : ''})` : `[${items.join(', ')}]`;
  }
  if (typeof value === 'object') {
    return `{${Object.entries(value as Record<string, unknown>).map(([k, v]) => `${JSON.stringify(k)}: ${pyLiteral(v, tuples)}`).join(', ')}}`;
  }
  throw new ValueError(`cannot write ${typeof value} as a Python literal`);
}

/** Python keyword arguments `a=1, b='x'` from [name, value] pairs, leaving out those equal to their default. */
export function pyKeywords(pairs: [string, unknown, unknown?][]): string[] {
  return pairs.filter(([, value, fallback]) => fallback === undefined || pyLiteral(value, true) !== pyLiteral(fallback, true)).map(([key, value]) => `${key}=${pyLiteral(value, true)}`);
}

/** Hands out Python identifiers for names, each distinct, none a keyword or one of `reserved`. */
export class IdentifierPool {
  private readonly taken: Set<string>;

  constructor(reserved: Iterable<string> = []) {
    this.taken = new Set(reserved);
  }

  take(name: string): string {
    let base = name.replace(/[^A-Za-z0-9_]/g, '_');
    if (!/^[A-Za-z_]/.test(base)) base = `_${base}`;
    if (PYTHON_KEYWORDS.has(base)) base = `${base}_`;
    let candidate = base;
    for (let i = 1; this.taken.has(candidate); i++) candidate = `${base}_${i}`;
    this.taken.add(candidate);
    return candidate;
  }
}

/** A Python class name for a model name: "small_resnet" -> "SmallResnet". */
export function pyClassName(name: string): string {
  const words = name.split(/[^A-Za-z0-9]+/).filter(Boolean);
  const joined = words.map((w) => w[0]!.toUpperCase() + w.slice(1)).join('');
  return /^[A-Za-z]/.test(joined) ? joined : `Model${joined}`;
}

/** One call of a (non-model) layer: `path` names it inside nested models ("encoder/dense"). */
export interface LayerCall {
  layer: Layer;
  path: string;
  inputs: SymbolicTensor[];
  outputs: SymbolicTensor[];
  /** The call's arguments beyond its inputs, under Keras's names ({use_causal_mask: true}). */
  kwargs: CallKwargs;
}

/**
 * The model's layer calls in an order where every input is computed first, nested models
 * inlined (their tensors mapped to the outer ones they were called on). `resolve` gives the
 * outer tensor that stands for each tensor the calls read.
 */
export function flattenCalls(model: Model): { calls: LayerCall[]; resolve: (t: SymbolicTensor) => SymbolicTensor } {
  const calls: LayerCall[] = [];
  const alias = new Map<SymbolicTensor, SymbolicTensor>();
  const resolve = (t: SymbolicTensor): SymbolicTensor => {
    let current = t;
    for (let next = alias.get(current); next; next = alias.get(current)) current = next;
    return current;
  };
  const walk = (inner: Model, scope: string): void => {
    for (const node of inner.graph.nodes) {
      const layer = node.layer;
      if (layer instanceof InputLayer) continue;
      if (layer instanceof Model) {
        if (inner.nodesOf(layer).length > 1) throw new ValueError(`${scope}${layer.name}: a model called more than once inside another model cannot be exported yet; call its layers instead`);
        layer.inputs.forEach((t, i) => alias.set(t, node.inputs[i]!));
        walk(layer, `${scope}${layer.name}/`);
        node.outputs.forEach((t, i) => alias.set(t, layer.outputs[i]!));
        continue;
      }
      calls.push({ layer, path: `${scope}${layer.name}`, inputs: node.inputs.map(resolve), outputs: node.outputs, kwargs: node.kwargs });
    }
  };
  walk(model, '');
  return { calls, resolve };
}
