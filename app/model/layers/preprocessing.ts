// Keras's Normalization preprocessing layer: (x - mean) / max(sqrt(variance), 1e-7) with a
// mean and variance per index of the kept axes, given or learned by adapt() from data.
// Adapted, the statistics are the non-trainable weights mean, variance and count (Keras's
// build()); given to the constructor, they are config and the layer has no weights.
import { ShapeError, ValueError } from '../errors.ts';
import { ConfigReader } from '../keras_format/config_reader.ts';
import { LAYER_ARG_NAMES, Layer, type LayerArgs, type LayerWeight } from '../layer.ts';
import { checkOptions } from '../options.ts';
import { registerLayer } from '../registry.ts';
import { assertBuiltAxes, formatShape, product, type Shape } from '../shape.ts';

/** Keras's backend.epsilon(): the smallest standard deviation Normalization divides by. */
const KERAS_EPSILON = 1e-7;

/** A number, or nested lists of numbers (numpy's tolist()), as Keras's mean and variance. */
export type NestedNumbers = number | NestedNumbers[];

export interface NormalizationArgs extends LayerArgs {
  /** The axis or axes with their own mean and variance (default -1); null: one scalar for all. */
  axis?: number | number[] | null;
  /** The mean, broadcast to the kept axes (aligned from the right); given with variance. */
  mean?: NestedNumbers | null;
  /** The variance, of mean's shape. */
  variance?: NestedNumbers | null;
  /** Undo the normalization instead: mean + x * sqrt(variance) (default false). */
  invert?: boolean;
}

/** An array of samples, batch first: app/data's NdArray, a Batch's x[0], or any {shape, data}. */
export interface AdaptArray {
  readonly shape: readonly number[];
  /** Any numeric array (int64 ones too, as app/data reads them). */
  readonly data: ArrayLike<number | bigint>;
}

/** What adapt() reads: one array, a Dataset or Batch (its first input, x[0]), or an iterable of those, streamed. */
export type AdaptData = AdaptArray | { readonly x: readonly AdaptArray[] } | Iterable<AdaptArray | { readonly x: readonly AdaptArray[] }>;

const NORMALIZATION_OPTIONS = [...LAYER_ARG_NAMES, 'axis', 'mean', 'variance', 'invert'];

/** A nested list's values in row-major order and its shape, or null when it is not a rectangular list of finite numbers. */
function flattenNested(value: NestedNumbers): { shape: number[]; values: number[] } | null {
  if (typeof value === 'number') return Number.isFinite(value) ? { shape: [], values: [value] } : null;
  if (!Array.isArray(value) || value.length === 0) return null;
  const parts = value.map(flattenNested);
  if (parts.some((p) => p === null)) return null;
  const inner = parts[0]!.shape;
  if (parts.some((p) => p!.shape.join() !== inner.join())) return null;
  return { shape: [value.length, ...inner], values: parts.flatMap((p) => p!.values) };
}

export class Normalization extends Layer {
  static override className = 'Normalization';
  /** The kept axes as given (Keras's tuple): [] for axis=null. */
  readonly axis: number[];
  readonly invert: boolean;
  /** The constructor's mean and variance, flattened with their shape; null when adapted instead. */
  readonly inputMean: { shape: number[]; values: number[] } | null;
  readonly inputVariance: { shape: number[]; values: number[] } | null;
  private readonly givenMean: NestedNumbers | null;
  private readonly givenVariance: NestedNumbers | null;
  /** The input shape it was built for, and the kept axes resolved against it. */
  private builtFor: Shape | null = null;
  private keepAxes: number[] = [];
  /** Set by adapt(): statistics of data that happened to be mean 0, variance 1 are still adapted. */
  private adaptedHere = false;

  constructor(args: NormalizationArgs = {}) {
    super(checkOptions('Normalization', args, NORMALIZATION_OPTIONS, '{axis: -1}'));
    const axis = args.axis === undefined ? -1 : args.axis;
    this.axis = axis === null ? [] : Array.isArray(axis) ? [...axis] : [axis];
    if (!this.axis.every((a) => Number.isInteger(a))) throw new ValueError(`${this.name}: axis must be an integer, a list of integers or null, got ${JSON.stringify(axis)}`);
    this.invert = args.invert ?? false;
    if (typeof this.invert !== 'boolean') throw new ValueError(`${this.name}: invert must be true or false, got ${JSON.stringify(args.invert)}`);
    this.givenMean = args.mean ?? null;
    this.givenVariance = args.variance ?? null;
    if ((this.givenMean === null) !== (this.givenVariance === null)) {
      throw new ValueError(`${this.name}: mean and variance must be given together, got mean=${JSON.stringify(this.givenMean)} and variance=${JSON.stringify(this.givenVariance)}`);
    }
    this.inputMean = this.givenMean === null ? null : this.readStatistic('mean', this.givenMean);
    this.inputVariance = this.givenVariance === null ? null : this.readStatistic('variance', this.givenVariance);
    if (this.inputMean && this.inputMean.shape.join() !== this.inputVariance!.shape.join()) {
      throw new ValueError(`${this.name}: mean ${formatShape(this.inputMean.shape)} and variance ${formatShape(this.inputVariance!.shape)} must have the same shape`);
    }
    if (this.inputVariance?.values.some((v) => v < 0)) throw new ValueError(`${this.name}: variance must be >= 0, got ${JSON.stringify(this.givenVariance)}`);
  }

  private readStatistic(key: string, value: NestedNumbers): { shape: number[]; values: number[] } {
    const flat = flattenNested(value);
    if (!flat) throw new ValueError(`${this.name}: ${key} must be a finite number or a (nested) list of them, got ${JSON.stringify(value)}`);
    if (flat.shape.length > this.axis.length) {
      throw new ValueError(`${this.name}: ${key} of shape ${formatShape(flat.shape)} has more dimensions than the ${this.axis.length} kept axes (axis=${JSON.stringify(this.axis)})`);
    }
    return flat;
  }

  /** The kept axes of `shape`, positive and sorted, each of known size; errors name the layer, the axis and the shape. */
  private resolveAxes(shape: Shape): number[] {
    const rank = shape.length;
    const axes = this.axis.map((a) => {
      if (a < -rank || a >= rank) throw new ShapeError(`${this.name}: axis ${a} is out of range for an input of shape ${formatShape(shape)}`);
      const positive = a < 0 ? a + rank : a;
      if (shape[positive] === null) throw new ShapeError(`${this.name}: axis ${a} of the input ${formatShape(shape)} must have a known size`);
      return positive;
    });
    return [...new Set(axes)].sort((a, b) => a - b);
  }

  /** The statistics' shape: the sizes of the kept axes (Keras's mean_and_var_shape). */
  get statisticShape(): number[] {
    return this.keepAxes.map((a) => this.builtFor![a] as number);
  }

  /** The statistics broadcast against the input: the kept axes' sizes, 1 elsewhere (batch included). */
  get broadcastShape(): number[] {
    return this.builtFor!.map((d, i) => (this.keepAxes.includes(i) ? (d as number) : 1));
  }

  override build(inputShapes: Shape[]): void {
    const shape = this.singleInput(inputShapes);
    this.keepAxes = this.resolveAxes(shape);
    this.builtFor = [...shape];
    if (this.inputMean) {
      this.broadcastGiven(this.inputMean); // refuses a mean that does not broadcast, at build as Keras does
      return;
    }
    this.addWeight('mean', this.statisticShape, 'zeros', false);
    this.addWeight('variance', this.statisticShape, 'ones', false);
    // Keras keeps count "for backwards compatibility with older saved models" (an int64 scalar there)
    this.addWeight('count', [], 'zeros', false);
  }

  computeOutputShapes(inputShapes: Shape[]): Shape[] {
    const shape = this.singleInput(inputShapes);
    assertBuiltAxes(this.name, this.builtFor, shape, this.resolveAxes(shape));
    return [[...shape]];
  }

  /** A given mean or variance broadcast to the statistics' shape (its dimensions aligned to the kept axes from the right). */
  private broadcastGiven(stat: { shape: number[]; values: number[] }): Float64Array {
    const target = this.statisticShape;
    const offset = target.length - stat.shape.length;
    stat.shape.forEach((d, i) => {
      if (d !== 1 && d !== target[offset + i]) {
        throw new ShapeError(`${this.name}: mean and variance of shape ${formatShape(stat.shape)} do not broadcast to the kept axes' shape ${formatShape(target)}`);
      }
    });
    const out = new Float64Array(product(target));
    for (let flat = 0; flat < out.length; flat++) {
      let rest = flat, source = 0, stride = 1;
      for (let k = target.length - 1; k >= 0; k--) {
        const index = rest % target[k]!;
        rest = Math.floor(rest / target[k]!);
        const j = k - offset;
        if (j >= 0) {
          source += (stat.shape[j] === 1 ? 0 : index) * stride;
          stride *= stat.shape[j]!;
        }
      }
      out[flat] = stat.values[source]!;
    }
    return out;
  }

  /** The mean and variance the layer applies, per element of the statistics' shape. */
  statistics(): { mean: Float64Array; variance: Float64Array } {
    if (!this.builtFor) throw new ValueError(`${this.name}: the layer is not built yet; apply it to an input first`);
    if (this.inputMean) return { mean: this.broadcastGiven(this.inputMean), variance: this.broadcastGiven(this.inputVariance!) };
    return { mean: Float64Array.from(this.weightNamed('mean').value), variance: Float64Array.from(this.weightNamed('variance').value) };
  }

  /** The divisor (or, inverted, the factor): max(sqrt(variance), 1e-7), as Keras's call(). */
  standardDeviations(): Float64Array {
    return this.statistics().variance.map((v) => Math.max(Math.sqrt(v), KERAS_EPSILON));
  }

  private weightNamed(name: string): LayerWeight {
    return this.weightList.find((w) => w.name === name)!;
  }

  /**
   * True when the layer has neither a given mean and variance nor adapted ones: not adapted
   * here, and its weights (set, or loaded from a file) still Keras's initial mean 0, variance 1
   * and count 0, which pass the data through unchanged.
   */
  get needsAdapt(): boolean {
    if (this.inputMean || this.adaptedHere || !this.builtFor) return false;
    const initial = (name: string, value: number) => this.weightNamed(name).value.every((v) => v === value);
    return initial('mean', 0) && initial('variance', 1) && initial('count', 0);
  }

  /**
   * Keras's adapt(): the mean and (biased) variance of `data` per index of the kept axes,
   * stored as the weights mean and variance (count: the samples' elements per index). An
   * iterable is read one batch at a time, combined as Keras combines batches, so batches from
   * a generator need not be in memory together.
   */
  adapt(data: AdaptData): void {
    if (this.inputMean) throw new ValueError(`${this.name}: was given mean and variance; adapt() learns them only when they are not given`);
    let total: { mean: Float64Array; variance: Float64Array; count: number } | null = null;
    for (const batch of adaptBatches(data, this.name)) {
      if (!this.built) {
        this.build([[null, ...batch.shape.slice(1)]]);
        this.built = true;
      }
      const part = this.batchStatistics(batch);
      total = total ? combineStatistics(total, part) : part;
    }
    if (!total) throw new ValueError(`${this.name}: adapt() got no batches; pass an array, a Dataset or an iterable of batches with at least one sample`);
    this.weightNamed('mean').value = Float32Array.from(total.mean);
    this.weightNamed('variance').value = Float32Array.from(total.variance);
    this.weightNamed('count').value = Float32Array.of(total.count);
    this.adaptedHere = true;
    this.weightsVersion++;
  }

  /** One batch's mean and biased variance per index of the kept axes, in float64. */
  private batchStatistics(batch: AdaptArray): { mean: Float64Array; variance: Float64Array; count: number } {
    const shape = batch.shape;
    const built = this.builtFor!;
    const fits = shape.length === built.length && shape[0]! > 0 && this.keepAxes.every((a) => shape[a] === built[a]);
    if (!fits || batch.data.length !== product([...shape])) {
      throw new ShapeError(`${this.name}: adapt() got a batch of shape ${formatShape([...shape])}, the layer takes inputs of shape ${formatShape(built)}`);
    }
    const statSize = product(this.statisticShape);
    const sum = new Float64Array(statSize), squares = new Float64Array(statSize);
    const index = statisticIndexer(shape, this.keepAxes);
    const values = Float64Array.from(batch.data as ArrayLike<number>, Number);
    for (let i = 0; i < values.length; i++) {
      const v = values[i]!;
      if (!Number.isFinite(v)) throw new ValueError(`${this.name}: adapt() got ${v} at element ${i} of a batch of shape ${formatShape([...shape])}`);
      sum[index(i)] += v;
    }
    const count = values.length / statSize;
    const mean = sum.map((s) => s / count);
    for (let i = 0; i < values.length; i++) {
      const k = index(i);
      squares[k] += (values[i]! - mean[k]!) ** 2;
    }
    return { mean, variance: squares.map((s) => s / count), count };
  }

  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), axis: [...this.axis], invert: this.invert, mean: this.givenMean, variance: this.givenVariance };
  }

  static fromConfig(config: Record<string, unknown>): Normalization {
    const c = new ConfigReader(Normalization.className, config);
    const args: NormalizationArgs = c.layerArgs();
    const axis = c.raw('axis', null);
    args.axis = axis === null && !('axis' in config) ? -1 : (axis as NormalizationArgs['axis']);
    args.invert = c.boolean('invert', false);
    args.mean = c.raw('mean', null) as NestedNumbers | null;
    args.variance = c.raw('variance', null) as NestedNumbers | null;
    c.finish();
    return new Normalization(args);
  }
}
registerLayer(Normalization);

/** The batches of adapt()'s data, each an array batch-first. */
function* adaptBatches(data: AdaptData, layer: string): Generator<AdaptArray> {
  const asArray = (item: unknown): AdaptArray => {
    const candidate = item as Partial<AdaptArray> & { x?: readonly AdaptArray[] };
    if (candidate && Array.isArray(candidate.x) && candidate.x.length > 0) return asArray(candidate.x[0]);
    if (candidate && Array.isArray(candidate.shape) && candidate.data && typeof candidate.data.length === 'number') {
      if (candidate.shape.length < 1) throw new ValueError(`${layer}: adapt() needs arrays with a sample axis first, got a scalar`);
      return candidate as AdaptArray;
    }
    throw new ValueError(`${layer}: adapt() takes an array {shape, data}, a Dataset or Batch ({x: [array]}) or an iterable of those, got ${describeItem(item)}`);
  };
  const single = data as Partial<AdaptArray> & { x?: unknown };
  if (single && (Array.isArray(single.shape) || Array.isArray(single.x))) {
    yield asArray(data);
    return;
  }
  if (data && typeof (data as Iterable<unknown>)[Symbol.iterator] === 'function') {
    for (const item of data as Iterable<unknown>) yield asArray(item);
    return;
  }
  asArray(data);
}

function describeItem(item: unknown): string {
  if (item === null || item === undefined) return String(item);
  if (Array.isArray(item)) return 'a plain array (wrap it as {shape, data})';
  return typeof item === 'object' ? `an object with keys ${Object.keys(item).join(', ') || '(none)'}` : typeof item;
}

/** Flat element index of a batch -> flat index into the statistics (the kept axes' coordinates). */
function statisticIndexer(shape: readonly number[], keepAxes: number[]): (flat: number) => number {
  if (keepAxes.length === 0) return () => 0;
  const strides = shape.map((_, i) => product(shape.slice(i + 1)));
  const keptStrides = keepAxes.map((_, k) => product(keepAxes.slice(k + 1).map((a) => shape[a]!)));
  return (flat) => {
    let index = 0;
    keepAxes.forEach((a, k) => {
      index += (Math.floor(flat / strides[a]!) % shape[a]!) * keptStrides[k]!;
    });
    return index;
  };
}

/** Keras's adapt() step: the statistics so far and a batch's, combined (the lack-of-fit sum of squares). */
function combineStatistics(
  total: { mean: Float64Array; variance: Float64Array; count: number },
  batch: { mean: Float64Array; variance: Float64Array; count: number },
): { mean: Float64Array; variance: Float64Array; count: number } {
  const count = total.count + batch.count;
  const batchWeight = batch.count / count, existingWeight = 1 - batchWeight;
  const mean = total.mean.map((m, i) => m * existingWeight + batch.mean[i]! * batchWeight);
  const variance = total.variance.map(
    (v, i) => (v + (total.mean[i]! - mean[i]!) ** 2) * existingWeight + (batch.variance[i]! + (batch.mean[i]! - mean[i]!) ** 2) * batchWeight,
  );
  return { mean, variance, count };
}
