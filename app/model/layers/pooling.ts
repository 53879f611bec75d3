// MaxPooling2D, AveragePooling2D, GlobalAveragePooling2D and GlobalAveragePooling1D, all
// channels-last: images (batch, h, w, c), sequences (batch, steps, features).
import { ValueError, ShapeError } from '../errors.ts';
import { ConfigReader } from '../keras_format/config_reader.ts';
import { LAYER_ARG_NAMES, Layer, type LayerArgs } from '../layer.ts';
import { checkOptions } from '../options.ts';
import { registerLayer } from '../registry.ts';
import { formatShape, normalizeTuple, type Dim, type Shape } from '../shape.ts';
import { checkPadding, type Padding } from './conv.ts';

export interface Pooling2DArgs extends LayerArgs {
  poolSize?: number | [number, number];
  /** Defaults to the pool size, as in Keras. */
  strides?: number | [number, number] | null;
  padding?: Padding;
  dataFormat?: 'channels_last';
}

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
function splitPoolArgs(poolSize: number | [number, number] | Pooling2DArgs | undefined, args: Pooling2DArgs): Pooling2DArgs {
  if (poolSize === undefined) return args;
  if (typeof poolSize === 'number' || Array.isArray(poolSize)) return { ...args, poolSize };
  return { ...poolSize, ...args };
}

abstract class Pooling2D extends Layer {
  readonly poolSize: [number, number];
  readonly strides: [number, number];
  readonly padding: Padding;

  constructor(poolSize?: number | [number, number] | Pooling2DArgs, moreArgs: Pooling2DArgs = {}) {
    const args = checkOptions((new.target as { className: string }).className, splitPoolArgs(poolSize, moreArgs), [...LAYER_ARG_NAMES, 'poolSize', 'strides', 'padding', 'dataFormat'], "{strides: 2, padding: 'same'}");
    super(args);
    this.poolSize = normalizeTuple(args.poolSize ?? 2, 2, 'pool_size', this.name) as [number, number];
    this.strides = args.strides !== undefined && args.strides !== null ? (normalizeTuple(args.strides, 2, 'strides', this.name) as [number, number]) : [...this.poolSize];
    this.padding = checkPadding(args.padding ?? 'valid', this.name);
    checkChannelsLast(args.dataFormat, this.name);
  }

  computeOutputShapes(inputShapes: Shape[]): Shape[] {
    const shape = this.singleInput(inputShapes);
    this.expectRank(shape, 4, '(batch, h, w, c)');
    const out: Shape = [shape[0]!, ...[0, 1].map((i) => poolOutputLength(shape[i + 1]!, this.poolSize[i]!, this.padding, this.strides[i]!)), shape[3]!];
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

  protected static readArgs(className: string, config: Record<string, unknown>): Pooling2DArgs {
    const c = new ConfigReader(className, config);
    const args: Pooling2DArgs = c.layerArgs();
    args.poolSize = c.intTuple('pool_size', [2, 2]) as [number, number];
    const strides = c.optionalIntTuple('strides');
    if (strides) args.strides = strides as [number, number];
    args.padding = c.string('padding', ['valid', 'same'] as const, 'valid');
    c.channelsLast();
    c.finish();
    return args;
  }
}

export class MaxPooling2D extends Pooling2D {
  static override className = 'MaxPooling2D';
  static fromConfig(config: Record<string, unknown>): MaxPooling2D {
    return new MaxPooling2D(Pooling2D.readArgs(MaxPooling2D.className, config));
  }
}
registerLayer(MaxPooling2D);

export class AveragePooling2D extends Pooling2D {
  static override className = 'AveragePooling2D';
  static fromConfig(config: Record<string, unknown>): AveragePooling2D {
    return new AveragePooling2D(Pooling2D.readArgs(AveragePooling2D.className, config));
  }
}
registerLayer(AveragePooling2D);

export interface GlobalPoolingArgs extends LayerArgs {
  keepdims?: boolean;
  dataFormat?: 'channels_last';
}

/** Averages over every axis but the batch and the last (channels/features) one. */
abstract class GlobalAveragePooling extends Layer {
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

export class GlobalAveragePooling2D extends GlobalAveragePooling {
  static override className = 'GlobalAveragePooling2D';
  protected readonly rank = 4;
  protected readonly layout = '(batch, h, w, c)';
  static fromConfig(config: Record<string, unknown>): GlobalAveragePooling2D {
    return new GlobalAveragePooling2D(GlobalAveragePooling.readArgs(GlobalAveragePooling2D.className, config));
  }
}
registerLayer(GlobalAveragePooling2D);

export class GlobalAveragePooling1D extends GlobalAveragePooling {
  static override className = 'GlobalAveragePooling1D';
  protected readonly rank = 3;
  protected readonly layout = '(batch, steps, features)';
  static fromConfig(config: Record<string, unknown>): GlobalAveragePooling1D {
    return new GlobalAveragePooling1D(GlobalAveragePooling.readArgs(GlobalAveragePooling1D.className, config));
  }
}
registerLayer(GlobalAveragePooling1D);
