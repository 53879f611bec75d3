// Throughput measurement for `strata bench`: warm-up steps first, then several timed
// repetitions of a fixed number of steps; the median rate is reported, as the PyTorch
// reference (bench/torch_reference.py) measures itself.
export interface Timing {
  warmup: number;
  steps: number;
  repeats: number;
}

export const DEFAULT_TIMING: Timing = { warmup: 3, steps: 10, repeats: 5 };

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Samples per second of `step` (which processes `batch` samples), median over repeats. */
export async function samplesPerSecond(step: () => Promise<unknown>, batch: number, timing: Timing = DEFAULT_TIMING): Promise<number> {
  for (let i = 0; i < timing.warmup; i++) await step();
  const rates: number[] = [];
  for (let r = 0; r < timing.repeats; r++) {
    const start = performance.now();
    for (let i = 0; i < timing.steps; i++) await step();
    rates.push((batch * timing.steps * 1000) / (performance.now() - start));
  }
  return median(rates);
}
