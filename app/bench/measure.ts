// Throughput measurement for `strata bench`. A repetition is one untimed step (the caches
// are the other contender's after a switch) and then a fixed number of timed steps. Strata
// and its reference alternate repetitions (a b, b a, a b, ...), so that a drift in the
// machine's speed hits both alike; a row reports each one's median rate and the median of
// the per-pair ratios, as bench/torch_reference.py measures PyTorch's side.
export interface Timing {
  warmup: number;
  steps: number;
  repeats: number;
}

export const DEFAULT_TIMING: Timing = { warmup: 3, steps: 10, repeats: 7 };

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Samples per second of `step` (which processes `batch` samples) over one repetition. */
export async function repetitionRate(step: () => Promise<unknown>, batch: number, steps: number): Promise<number> {
  await step();
  const start = performance.now();
  for (let i = 0; i < steps; i++) await step();
  return (batch * steps * 1000) / (performance.now() - start);
}

export async function warmUp(step: () => Promise<unknown>, steps: number): Promise<void> {
  for (let i = 0; i < steps; i++) await step();
}

export interface PairedRates {
  a: number;
  b: number;
  /** median of a/b over the pairs, and its range */
  ratio: number;
  ratioMin: number;
  ratioMax: number;
}

/** Median rates of two alternating measurements, each call of `a` or `b` one repetition. */
export async function pairedRates(a: () => Promise<number>, b: () => Promise<number>, repeats: number): Promise<PairedRates> {
  const as: number[] = [];
  const bs: number[] = [];
  const ratios: number[] = [];
  // a pause before each repetition: the other side's OpenMP threads spin for a while after
  // their last parallel region, and on two cores a spinning thread halves this side's speed
  const pause = () => new Promise((resolve) => setTimeout(resolve, 20));
  for (let r = 0; r < repeats; r++) {
    let ra: number, rb: number;
    if (r % 2 === 0) (ra = (await pause(), await a())), (rb = (await pause(), await b()));
    else (rb = (await pause(), await b())), (ra = (await pause(), await a()));
    as.push(ra), bs.push(rb), ratios.push(ra / rb);
  }
  return { a: median(as), b: median(bs), ratio: median(ratios), ratioMin: Math.min(...ratios), ratioMax: Math.max(...ratios) };
}
