// A layer argument as text in a form field and back, by its catalog type: "3, 3" or "(3, 3)"
// for a kernel size, "64, 64, 3" or "(None, 100)"-style dims for a shape, "None" for an unset
// optional value. Text that is not of the type is refused here with a message for the field;
// a value of the right type that the layer rejects (a kernel size of 0) is the analysis's to report.
import type { ArgumentType } from '../../../../app/model/index.ts';

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
  }
}

/** A value as the field shows it. */
export function formatArgument(type: ArgumentType, value: unknown): string {
  if (value === null || value === undefined) return type.kind === 'shape' || type.kind === 'int-tuple' ? '' : 'None';
  if (type.kind === 'recurrent-layer') {
    const { class_name, config } = value as { class_name: string; config: { units?: unknown } };
    return `${class_name}(${String(config.units)})`;
  }
  // ZeroPadding2D writes its padding as pairs: an even pair shows as one number, an uneven one as (a, b).
  const item = (v: unknown) => (v === null ? 'None' : Array.isArray(v) ? (v[0] === v[1] ? String(v[0]) : `(${v.join(', ')})`) : String(v));
  if (Array.isArray(value)) return value.map(item).join(', ');
  return String(value);
}
