// Keras's keyword arguments arrive as one options object in camelCase (README, "The model
// API"). Anything else (a number where Keras would take it positionally, a snake_case key, a
// typo) would be ignored by destructuring and leave defaults, or NaN, behind without a word;
// checkOptions refuses it with a message that names the class, the key and the fix.
import { ValueError } from './errors.ts';

/**
 * Returns `options` (undefined becomes {}) after checking that it is a plain object whose keys
 * are all in `known`. `example` shows the right form in the error, e.g. "{learningRate: 0.001}".
 */
export function checkOptions<T extends object>(owner: string, options: T | undefined, known: readonly string[], example: string): T {
  if (options === undefined) return {} as T;
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new ValueError(`${owner}: expected an options object such as ${example}, got ${describe(options)}`);
  }
  for (const key of Object.keys(options)) {
    if (known.includes(key)) continue;
    const camel = key.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
    const hint = camel !== key && known.includes(camel) ? ` (did you mean ${camel}?)` : '';
    const valid = known.length > 0 ? `; it takes ${known.join(', ')}` : '; it takes no options';
    throw new ValueError(`${owner}: unknown option "${key}"${hint}${valid}`);
  }
  return options;
}

/** A finite number (checked where a wrong value would give NaN weights or NaN losses). */
export function checkNumber(owner: string, key: string, value: unknown, valid: (n: number) => boolean = () => true, rule = 'a finite number'): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || !valid(value)) throw new ValueError(`${owner}: ${key} must be ${rule}, got ${describe(value)}`);
  return value;
}

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (Array.isArray(value)) return 'an array';
  return String(value);
}
