// MaxPooling and AveragePooling 1D/2D, GlobalAveragePooling and GlobalMaxPooling 1D/2D, all
// channels-last: images (batch, h, w, c), sequences (batch, steps, features).
import { ValueError, ShapeError } from '../errors.ts';
import { ConfigReader } from '../keras_format/config_reader.ts';
import { LAYER_ARG_NAMES, Layer, type LayerArgs } from '../layer.ts';
import { checkOptions } from '../options.ts';
import { registerLayer } from '../registry.ts';
import { formatShape, normalizeTuple, type Dim, type Shape } from '../shape.ts';
import { checkPadding, type Padding } from './conv.ts';

export interface PoolingArgs<T extends number[]> extends LayerArgs {
  poolSize?: number | T;
  /** Defaults to the pool size, as in Keras. */
  strides?: number | T | null;
  padding?: Padding;
  dataFormat?: 'channels_last';
}

export type Pooling2DArgs = PoolingArgs<[number, number]>;
export type Pooling1DArgs = PoolingArgs<[number]>;

/** Keras's compute_pooling_output_shape. */
function poolOutputLength(input: Dim, pool: number, padding: Padding, stride: number): Dim {
  if (input === null) return null;
  return padding === 'same' ? Math.floor((input - 1) / stride) + 1 : Math.floor((input - pool) / stride) + 1;
}

function checkChannelsLast(dataFormat: string | undefined, owner: string): void {
  if (dataFormat !== undefined && dataFormat !== 'channels_last') {
    throw new ValueError(`${owner}: data_format ${JSON.stringify(dataFormat)} is not supported; Strata uses channels_last (NHWC) as Keras does by default`);
  }
}

/** pool_size is Keras's first positional argument: `new MaxPooling2D([2, 2], {name})` or `new MaxPooling2D({name})`. */
function splitPoolArgs<T extends number[]>(poolSize: number | T | PoolingArgs<T> | undefined, args: PoolingArgs<T>): PoolingArgs<T> {
  if (poolSize === undefined) return args;
  if (typeof poolSize === 'number' || Array.isArray(poolSize)) return { ...args, poolSize };
  return { ...poolSize, ...args };
}

const LAYOUTS: Record<number, string> = { 1: '(batch, steps, features)', 2: '(batch, h, w, c)' };

/** A window over `rank` spatial axes of a channels-last input: its max or its mean. */
abstract class Pooling<T extends number[]> extends Layer {
  readonly poolSize: T;
  readonly strides: T;
  readonly padding: Padding;

  constructor(rank: number, poolSize?: number | T | PoolingArgs<T>, moreArgs: PoolingArgs<T> = {}) {
    const className = (new.target as unknown as { className: string }).className;
    const args = checkOptions(className, splitPoolArgs(poolSize, moreArgs), [...LAYER_ARG_NAMES, 'poolSize', 'strides', 'padding', 'dataFormat'], "{strides: 2, padding: 'same'}");
    super(args);
    this.poolSize = normalizeTuple(args.poolSize ?? 2, rank, 'pool_size', this.name) as T;
    this.strides = args.strides !== undefined && args.strides !== null ? (normalizeTuple(args.strides, rank, 'strides', this.name) as T) : ([...this.poolSize] as T);
    this.padding = checkPadding(args.padding ?? 'valid', this.name);
    checkChannelsLast(args.dataFormat, this.name);
  }

  computeOutputShapes(inputShapes: Shape[]): Shape[] {
    const shape = this.singleInput(inputShapes);
    const rank = this.poolSize.length;
    this.expectRank(shape, rank + 2, LAYOUTS[rank]!);
    const out: Shape = [shape[0]!, ...this.poolSize.map((pool, i) => poolOutputLength(shape[i + 1]!, pool, this.padding, this.strides[i]!)), shape[rank + 1]!];
    if (out.some((d) => d !== null && d <= 0)) {
      throw new ShapeError(`${this.name}: input ${formatShape(shape)} is smaller than the pool ${formatShape(this.poolSize)}; the output would be ${formatShape(out)}`, {
        layer: this.name,
        field: 'pool_size',
      });
    }
    return [out];
  }

  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), pool_size: [...this.poolSize], padding: this.padding, strides: [...this.strides], data_format: 'channels_last' };
  }

  protected static readArgs<T extends number[]>(className: string, config: Record<string, unknown>, rank: number): PoolingArgs<T> {
    const c = new ConfigReader(className, config);
    const args: PoolingArgs<T> = c.layerArgs();
    args.poolSize = c.intTuple('pool_size', Array<number>(rank).fill(2)) as T;
    const strides = c.optionalIntTuple('strides');
    if (strides) args.strides = strides as T;
    args.padding = c.string('padding', ['valid', 'same'] as const, 'valid');
    c.channelsLast();
    c.finish();
    return args;
  }
}

abstract class Pooling2D extends Pooling<[number, number]> {
  constructor(poolSize?: number | [number, number] | Pooling2DArgs, moreArgs: Pooling2DArgs = {}) {
    super(2, poolSize, moreArgs);
  }
}

abstract class Pooling1D extends Pooling<[number]> {
  constructor(poolSize?: number | [number] | Pooling1DArgs, moreArgs: Pooling1DArgs = {}) {
    super(1, poolSize, moreArgs);
  }
}

export class MaxPooling2D extends Pooling2D {
  static override className = 'MaxPooling2D';
  static fromConfig(config: Record<string, unknown>): MaxPooling2D {
    return new MaxPooling2D(Pooling.readArgs<[number, number]>(MaxPooling2D.className, config, 2));
  }
}
registerLayer(MaxPooling2D);

export class AveragePooling2D extends Pooling2D {
  static override className = 'AveragePooling2D';
  static fromConfig(config: Record<string, unknown>): AveragePooling2D {
    return new AveragePooling2D(Pooling.readArgs<[number, number]>(AveragePooling2D.className, config, 2));
  }
}
registerLayer(AveragePooling2D);

export class MaxPooling1D extends Pooling1D {
  static override className = 'MaxPooling1D';
  static fromConfig(config: Record<string, unknown>): MaxPooling1D {
    return new MaxPooling1D(Pooling.readArgs<[number]>(MaxPooling1D.className, config, 1));
  }
}
registerLayer(MaxPooling1D);

export class AveragePooling1D extends Pooling1D {
  static override className = 'AveragePooling1D';
  static fromConfig(config: Record<string, unknown>): AveragePooling1D {
    return new AveragePooling1D(Pooling.readArgs<[number]>(AveragePooling1D.className, config, 1));
  }
}
registerLayer(AveragePooling1D);

export interface GlobalPoolingArgs extends LayerArgs {
  keepdims?: boolean;
  dataFormat?: 'channels_last';
}

/** The mean or the max over every axis but the batch and the last (channels/features) one. */
abstract class GlobalPooling extends Layer {
  readonly keepdims: boolean;
  protected abstract readonly rank: number;
  protected abstract readonly layout: string;

  constructor(args: GlobalPoolingArgs = {}) {
    super(checkOptions((new.target as { className: string }).className, args, [...LAYER_ARG_NAMES, 'keepdims', 'dataFormat'], '{keepdims: true}'));
    this.keepdims = args.keepdims ?? false;
    checkChannelsLast(args.dataFormat, this.name);
  }

  computeOutputShapes(inputShapes: Shape[]): Shape[] {
    const shape = this.singleInput(inputShapes);
    this.expectRank(shape, this.rank, this.layout);
    const channels = shape[shape.length - 1]!;
    return [this.keepdims ? [shape[0]!, ...Array<Dim>(this.rank - 2).fill(1), channels] : [shape[0]!, channels]];
  }

  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), data_format: 'channels_last', keepdims: this.keepdims };
  }

  protected static readArgs(className: string, config: Record<string, unknown>): GlobalPoolingArgs {
    const c = new ConfigReader(className, config);
    const args: GlobalPoolingArgs = c.layerArgs();
    c.channelsLast();
    args.keepdims = c.boolean('keepdims', false);
    c.finish();
    return args;
  }
}

export class GlobalAveragePooling2D extends GlobalPooling {
  static override className = 'GlobalAveragePooling2D';
  protected readonly rank = 4;
  protected readonly layout = '(batch, h, w, c)';
  static fromConfig(config: Record<string, unknown>): GlobalAveragePooling2D {
    return new GlobalAveragePooling2D(GlobalPooling.readArgs(GlobalAveragePooling2D.className, config));
  }
}
registerLayer(GlobalAveragePooling2D);

export class GlobalAveragePooling1D extends GlobalPooling {
  static override className = 'GlobalAveragePooling1D';
  protected readonly rank = 3;
  protected readonly layout = '(batch, steps, features)';
  static fromConfig(config: Record<string, unknown>): GlobalAveragePooling1D {
    return new GlobalAveragePooling1D(GlobalPooling.readArgs(GlobalAveragePooling1D.className, config));
  }
}
registerLayer(GlobalAveragePooling1D);

export class GlobalMaxPooling2D extends GlobalPooling {
  static override className = 'GlobalMaxPooling2D';
  protected readonly rank = 4;
  protected readonly layout = '(batch, h, w, c)';
  static fromConfig(config: Record<string, unknown>): GlobalMaxPooling2D {
    return new GlobalMaxPooling2D(GlobalPooling.readArgs(GlobalMaxPooling2D.className, config));
  }
}
registerLayer(GlobalMaxPooling2D);

export class GlobalMaxPooling1D extends GlobalPooling {
  static override className = 'GlobalMaxPooling1D';
  protected readonly rank = 3;
  protected readonly layout = '(batch, steps, features)';
  static fromConfig(config: Record<string, unknown>): GlobalMaxPooling1D {
    return new GlobalMaxPooling1D(GlobalPooling.readArgs(GlobalMaxPooling1D.className, config));
  }
}
registerLayer(GlobalMaxPooling1D);
