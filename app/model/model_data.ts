// Data a model file builds in code and exports beside its model (`export function data()`),
// as Keras's code examples generate toy data with NumPy when no dataset fits: the app's Data
// section offers it as "The model file's data", and `strata train model.ts` trains on it when
// no --data is given. The host checks it as any dataset (app/cli/model_file_data.ts).
import type { ArrayData } from './backend.ts';
import { RandomGenerator } from './random.ts';

/** One split: one batch-first array per model input (x) and per output (y). */
export interface ModelDataSplit {
  x: ArrayData | ArrayData[];
  y: ArrayData | ArrayData[];
}

/** What a model file's `data()` returns. */
export interface ModelData {
  /** One line for the Data section and the CLI: what the samples are and what decides their label. */
  description: string;
  train: ModelDataSplit;
  test?: ModelDataSplit;
  /** Class names by class id, where the labels are classes. */
  classNames?: string[];
}

/** The patterns syntheticImages draws, one per class (in this order, repeated in a second palette past five). */
const PATTERNS = ['horizontal stripes', 'vertical stripes', 'diagonal stripes', 'anti-diagonal stripes', 'checkerboard'] as const;

export interface SyntheticImageOptions {
  /** Images per split. */
  train: number;
  test: number;
  /** Height and width. */
  size: [number, number];
  channels: 1 | 3;
  /** 2 to 10 classes: the five patterns, then the same five in a second palette (warm, then cool colours). */
  classes: number;
  seed: number;
}

/**
 * Small images whose class is a pattern (stripes of one of four orientations, or a
 * checkerboard) and, past five classes, a palette: each image has a random stripe width,
 * phase and brightness plus pixel noise, so that a model must learn the pattern's
 * orientation (convolutions) and its colours, not one fixed picture. Pixels lie in [0, 1].
 */
export function syntheticImages(options: SyntheticImageOptions): ModelData {
  const { classes } = options;
  if (!(Number.isInteger(classes) && classes >= 2 && classes <= 2 * PATTERNS.length)) {
    throw new RangeError(`syntheticImages: classes must be 2 to ${2 * PATTERNS.length}, got ${classes}`);
  }
  const random = new RandomGenerator(options.seed);
  const classNames = [...Array(classes).keys()].map((c) => `${PATTERNS[c % PATTERNS.length]}${classes > PATTERNS.length ? (c < PATTERNS.length ? ', warm' : ', cool') : ''}`);
  const [height, width] = options.size;
  return {
    description: `${options.train} + ${options.test} synthetic ${height}x${width} images of ${classes} patterns (stripes by orientation, checkerboards${classes > PATTERNS.length ? ', in warm or cool colours' : ''})`,
    train: imageSplit(options.train, options, random),
    test: imageSplit(options.test, options, random),
    classNames,
  };
}

function imageSplit(count: number, options: SyntheticImageOptions, random: RandomGenerator): ModelDataSplit {
  const [height, width] = options.size;
  const { channels, classes } = options;
  const pixels = new Float32Array(count * height * width * channels);
  const labels = new Int32Array(count);
  for (let n = 0; n < count; n++) {
    const label = Math.floor(random.uniform() * classes);
    labels[n] = label;
    const period = 3 + Math.floor(random.uniform() * 4);
    const phase = Math.floor(random.uniform() * period);
    const contrast = 0.5 + 0.4 * random.uniform();
    const colour = paletteOf(label, channels, random);
    let at = n * height * width * channels;
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const on = patternAt(label % PATTERNS.length, y, x, period, phase);
        for (let c = 0; c < channels; c++) {
          const value = 0.5 + (on ? contrast / 2 : -contrast / 2) * colour[c]! + 0.1 * random.normal();
          pixels[at++] = Math.min(1, Math.max(0, value));
        }
      }
    }
  }
  return { x: { dtype: 'float32', shape: [count, height, width, channels], data: pixels }, y: { dtype: 'int32', shape: [count], data: labels } };
}

function patternAt(pattern: number, y: number, x: number, period: number, phase: number): boolean {
  const stripe = (t: number) => Math.floor((t + phase) / period) % 2 === 0;
  switch (pattern) {
    case 0: return stripe(y);
    case 1: return stripe(x);
    case 2: return stripe(x + y);
    case 3: return stripe(x - y + 1000 * period);
    default: return stripe(y) !== stripe(x);
  }
}

/** Per-channel weights of the pattern: grey for one channel; warm (red) or cool (blue) colours past five classes. */
function paletteOf(label: number, channels: number, random: RandomGenerator): number[] {
  if (channels === 1) return [1];
  const jitter = () => 0.8 + 0.2 * random.uniform();
  if (label < PATTERNS.length) return [jitter(), 0.5 * jitter(), -0.2 * jitter()];
  return [-0.2 * jitter(), 0.5 * jitter(), jitter()];
}
