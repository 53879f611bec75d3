// A layer argument as text in a form field and back, by its catalog type: "3, 3" or "(3, 3)"
// for a kernel size, "64, 64, 3" or "(None, 100)"-style dims for a shape, "None" for an unset
// optional value. Text that is not of the type is refused here with a message for the field;
// a value of the right type that the layer rejects (a kernel size of 0) is the analysis's to report.
import { catalogEntry, type ArgumentType, type LayerArgument } from '../../../../app/model/index.ts';

export type Parsed = { value: unknown } | { error: string };

const INTEGER = /^[+-]?\d+$/;

function dims(text: string): string[] {
  const inner = text.trim().replace(/^[([]\s*/, '').replace(/\s*[)\]]$/, '').trim();
  return inner === '' ? [] : inner.split(/\s*,\s*|\s+/).filter((part) => part !== '');
}

export function parseArgument(type: ArgumentType, text: string): Parsed {
  const trimmed = text.trim();
  switch (type.kind) {
    case 'int':
      return INTEGER.test(trimmed) ? { value: Number(trimmed) } : { error: 'a whole number, e.g. 32' };
    case 'optional-int':
      if (trimmed === '' || /^none$/i.test(trimmed)) return { value: null };
      return INTEGER.test(trimmed) ? { value: Number(trimmed) } : { error: 'a whole number, or None' };
    case 'optional-float':
      if (trimmed === '' || /^none$/i.test(trimmed)) return { value: null };
      return Number.isFinite(Number(trimmed)) ? { value: Number(trimmed) } : { error: 'a number, or None' };
    case 'float': {
      const value = Number(trimmed);
      if (trimmed === '' || !Number.isFinite(value)) {
        const fraction = /^([+-]?[\d.]+)\s*\/\s*([\d.]+)$/.exec(trimmed);
        if (fraction && Number(fraction[2]) !== 0) return { value: Number(fraction[1]) / Number(fraction[2]) };
        return { error: 'a number, e.g. 0.5 or 1/255' };
      }
      return { value };
    }
    case 'int-tuple': {
      const parts = dims(trimmed);
      if (parts.length === 1 && INTEGER.test(parts[0]!)) return { value: Array<number>(type.length).fill(Number(parts[0])) };
      if (parts.length === type.length && parts.every((part) => INTEGER.test(part))) return { value: parts.map(Number) };
      return { error: `a whole number or ${type.length} of them, e.g. ${Array(type.length).fill(3).join(', ')}` };
    }
    case 'shape': {
      const parts = dims(trimmed);
      if (parts.length === 0) return { error: 'the shape of one sample, e.g. 28, 28, 1' };
      if (!parts.every((part) => INTEGER.test(part) || /^none$/i.test(part))) return { error: 'whole numbers or None, e.g. 28, 28, 1' };
      return { value: parts.map((part) => (/^none$/i.test(part) ? null : Number(part))) };
    }
    case 'target-shape': {
      const parts = dims(trimmed);
      if (parts.length === 0 || !parts.every((part) => INTEGER.test(part))) return { error: 'whole numbers, one of them may be -1, e.g. 7, 7, 64' };
      return { value: parts.map(Number) };
    }
    case 'bool':
      return { value: trimmed === 'true' };
    case 'choice':
    case 'initializer':
      return { value: trimmed };
    case 'recurrent-layer': {
      const match = /^(LSTM|GRU|SimpleRNN)\s*\(\s*(\d+)\s*\)$/.exec(trimmed);
      return match ? { value: { class_name: match[1], config: { units: Number(match[2]) } } } : { error: 'LSTM, GRU or SimpleRNN with its units, e.g. LSTM(32)' };
    }
    case 'layer':
      return parseLayer(trimmed);
  }
}

const LAYER_EXAMPLE = 'a layer with its positional arguments, e.g. Dense(32) or Conv2D(16, 3)';

/** A wrapped layer's catalog row and its positional arguments; undefined for a class that takes no single input. */
function wrappable(className: string): { positional: LayerArgument[] } | undefined {
  const entry = catalogEntry(className);
  return entry && entry.inputs === 'one' ? { positional: entry.args.filter((arg) => arg.positional) } : undefined;
}

/** "Conv2D(16, (3, 3))" split at its top-level commas: ["16", "(3, 3)"]. */
function topLevelParts(text: string): string[] {
  const parts: string[] = [];
  let depth = 0, start = 0;
  for (let i = 0; i < text.length; i++) {
    if ('(['.includes(text[i]!)) depth++;
    else if (')]'.includes(text[i]!)) depth--;
    else if (text[i] === ',' && depth === 0) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  return text.trim() === '' ? [] : [...parts, text.slice(start)];
}

/** A layer written as its class and positional arguments, as {"class_name", "config"}; those not written take the catalog's initial values. */
function parseLayer(text: string): Parsed {
  const match = /^([A-Za-z]\w*)\s*\((.*)\)$/s.exec(text);
  const layer = match ? wrappable(match[1]!) : undefined;
  if (!match || !layer) return { error: LAYER_EXAMPLE };
  const parts = topLevelParts(match[2]!);
  if (parts.length > layer.positional.length) return { error: `${match[1]} takes ${layer.positional.length} positional argument${layer.positional.length === 1 ? '' : 's'}: ${layer.positional.map((arg) => arg.key).join(', ') || 'none'}` };
  const config: Record<string, unknown> = {};
  for (const [i, arg] of layer.positional.entries()) {
    const parsed = i < parts.length ? parseArgument(arg.type, parts[i]!) : { value: arg.initial ?? arg.default };
    if ('error' in parsed) return { error: `${match[1]}'s ${arg.key}: ${parsed.error}` };
    config[arg.key] = parsed.value;
  }
  return { value: { class_name: match[1], config } };
}

/** A value as the field shows it. */
export function formatArgument(type: ArgumentType, value: unknown): string {
  if (value === null || value === undefined) return type.kind === 'shape' || type.kind === 'int-tuple' ? '' : 'None';
  if (type.kind === 'recurrent-layer') {
    const { class_name, config } = value as { class_name: string; config: { units?: unknown } };
    return `${class_name}(${String(config.units)})`;
  }
  if (type.kind === 'layer') {
    const { class_name, config } = value as { class_name: string; config: Record<string, unknown> };
    const positional = wrappable(class_name)?.positional ?? [];
    // a tuple in parentheses, so that its commas are not taken for the arguments'
    const parts = positional.map((arg) => formatArgument(arg.type, config[arg.key])).map((part) => (part.includes(',') ? `(${part})` : part));
    return `${class_name}(${parts.join(', ')})`;
  }
  // ZeroPadding2D writes its padding as pairs: an even pair shows as one number, an uneven one as (a, b).
  const item = (v: unknown) => (v === null ? 'None' : Array.isArray(v) ? (v[0] === v[1] ? String(v[0]) : `(${v.join(', ')})`) : String(v));
  if (Array.isArray(value)) return value.map(item).join(', ');
  return String(value);
}
