// Flag values shared by several commands, checked when commander parses them.
import { availableParallelism } from 'node:os';
import { UserError } from './errors.ts';

/**
 * A thread count from 1 to the cores this process may use, or null. More threads than cores
 * only slow the engine down, and thousands are more than the system will start, so a larger
 * count is refused with the valid range rather than silently lowered.
 */
function coreCount(value: string): number | null {
  const n = Number(value);
  return Number.isInteger(n) && n >= 1 && n <= availableParallelism() ? n : null;
}

/** --threads for training: auto, or a pinned count. */
export function threadCount(value: string): number | 'auto' {
  if (value === 'auto') return 'auto';
  const n = coreCount(value);
  if (n === null) throw new UserError(`--threads must be auto or a whole number from 1 to ${availableParallelism()} (the cores this machine gives Strata), got '${value}'`);
  return n;
}

/** --threads for commands that take a fixed count (bench). */
export function fixedThreadCount(value: string): number {
  const n = coreCount(value);
  if (n === null) throw new UserError(`--threads must be a whole number from 1 to ${availableParallelism()} (the cores this machine gives Strata), got '${value}'`);
  return n;
}

/** A numeric flag's parser: a finite number (an integer with `integer`) of at least `min`. */
export function number(name: string, integer: boolean, min: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isFinite(n) || (integer && !Number.isInteger(n)) || n < min) throw new UserError(`${name} must be ${integer ? 'an integer' : 'a number'} >= ${min}, got '${value}'`);
    return n;
  };
}
