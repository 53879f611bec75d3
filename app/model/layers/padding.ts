// ZeroPadding2D and Cropping2D: rows and columns of zeros added around, or cut from the edges
// of, channels-last images (batch, h, w, c); ZeroPadding1D and Cropping1D: steps of zeros added
// at, or cut from, the start and end of sequences (batch, steps, features), as Keras 3's
// keras/src/layers/reshaping/zero_padding1d.py and cropping1d.py.
import { ShapeError, ValueError } from '../errors.ts';
import { ConfigReader } from '../keras_format/config_reader.ts';
import { LAYER_ARG_NAMES, Layer, type LayerArgs } from '../layer.ts';
import { checkOptions } from '../options.ts';
import { registerLayer } from '../registry.ts';
import { formatShape, type Shape } from '../shape.ts';

/** Keras's padding argument: n, [rows, cols], or [[top, bottom], [left, right]]. */
export type Padding2D = number | [number, number] | [[number, number], [number, number]];

export interface ZeroPadding2DArgs extends LayerArgs {
  dataFormat?: 'channels_last';
}

export type Cropping2DArgs = ZeroPadding2DArgs;

/** ZeroPadding1D takes data_format as ZeroPadding2D does (channels_last only). */
export type ZeroPadding1DArgs = ZeroPadding2DArgs;

function checkChannelsLast(dataFormat: string | undefined, owner: string): void {
  if (dataFormat !== undefined && dataFormat !== 'channels_last') {
    throw new ValueError(`${owner}: data_format ${JSON.stringify(dataFormat)} is not supported; Strata uses channels_last (NHWC) as Keras does by default`);
  }
}

/** [[top, bottom], [left, right]] from Keras's three forms, or a ValueError naming the layer and `field`. */
function normalizePadding(padding: unknown, owner: string, field = 'padding'): [[number, number], [number, number]] {
  const ok = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;
  if (ok(padding)) return [[padding, padding], [padding, padding]];
  if (Array.isArray(padding) && padding.length === 2) {
    if (padding.every(ok)) return [[padding[0], padding[0]], [padding[1], padding[1]]];
    if (padding.every((p) => Array.isArray(p) && p.length === 2 && p.every(ok))) return padding.map((p) => [...p]) as [[number, number], [number, number]];
  }
  throw new ValueError(`${owner}: ${field} must be an integer >= 0, [rows, cols] or [[top, bottom], [left, right]] of integers >= 0, got ${JSON.stringify(padding) ?? String(padding)}`, { layer: owner, field });
}

/** Keras's ZeroPadding2D: (batch, h, w, c) -> (batch, top + h + bottom, left + w + right, c). */
export class ZeroPadding2D extends Layer {
  static override className = 'ZeroPadding2D';
  readonly padding: [[number, number], [number, number]];

  constructor(padding: Padding2D = 1, args: ZeroPadding2DArgs = {}) {
    super(checkOptions('ZeroPadding2D', args, [...LAYER_ARG_NAMES, 'dataFormat'], '{name: "pad"}'));
    this.padding = normalizePadding(padding, this.name);
    checkChannelsLast(args.dataFormat, this.name);
  }

  computeOutputShapes(inputShapes: Shape[]): Shape[] {
    const shape = this.singleInput(inputShapes);
    this.expectRank(shape, 4, '(batch, h, w, c)');
    const grow = (d: number | null, [a, b]: [number, number]) => (d === null ? null : d + a + b);
    return [[shape[0]!, grow(shape[1]!, this.padding[0]), grow(shape[2]!, this.padding[1]), shape[3]!]];
  }

  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), padding: this.padding.map((p) => [...p]), data_format: 'channels_last' };
  }

  static fromConfig(config: Record<string, unknown>): ZeroPadding2D {
    const c = new ConfigReader(ZeroPadding2D.className, config);
    const args: ZeroPadding2DArgs = c.layerArgs();
    const padding = c.raw('padding', 1);
    c.channelsLast();
    c.finish();
    return new ZeroPadding2D(padding as Padding2D, args);
  }
}
registerLayer(ZeroPadding2D);

/** Keras's Cropping2D: (batch, h, w, c) -> (batch, h - top - bottom, w - left - right, c). */
export class Cropping2D extends Layer {
  static override className = 'Cropping2D';
  readonly cropping: [[number, number], [number, number]];

  constructor(cropping: Padding2D = 0, args: Cropping2DArgs = {}) {
    super(checkOptions('Cropping2D', args, [...LAYER_ARG_NAMES, 'dataFormat'], '{name: "crop"}'));
    this.cropping = normalizePadding(cropping, this.name, 'cropping');
    checkChannelsLast(args.dataFormat, this.name);
  }

  computeOutputShapes(inputShapes: Shape[]): Shape[] {
    const shape = this.singleInput(inputShapes);
    this.expectRank(shape, 4, '(batch, h, w, c)');
    const shrink = (d: number | null, [a, b]: [number, number]) => (d === null ? null : d - a - b);
    const out: Shape = [shape[0]!, shrink(shape[1]!, this.cropping[0]), shrink(shape[2]!, this.cropping[1]), shape[3]!];
    if (out.some((d) => d !== null && d <= 0)) {
      throw new ShapeError(`${this.name}: cropping ${JSON.stringify(this.cropping)} leaves nothing of input ${formatShape(shape)}; the output would be ${formatShape(out)}`, {
        layer: this.name,
        field: 'cropping',
      });
    }
    return [out];
  }

  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), cropping: this.cropping.map((p) => [...p]), data_format: 'channels_last' };
  }

  static fromConfig(config: Record<string, unknown>): Cropping2D {
    const c = new ConfigReader(Cropping2D.className, config);
    const args: Cropping2DArgs = c.layerArgs();
    const cropping = c.raw('cropping', 0);
    c.channelsLast();
    c.finish();
    return new Cropping2D(cropping as Padding2D, args);
  }
}
registerLayer(Cropping2D);

/** Keras's 1-D padding and cropping argument: n (both ends), or [start, end]. */
export type Padding1D = number | [number, number];

/** [start, end] from Keras's two forms (standardize_tuple(value, 2, allow_zero=True)), or a ValueError naming the layer and `field`. */
function normalizePadding1D(value: unknown, owner: string, field: 'padding' | 'cropping'): [number, number] {
  const ok = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;
  if (ok(value)) return [value, value];
  if (Array.isArray(value) && value.length === 2 && value.every(ok)) return [value[0], value[1]];
  throw new ValueError(`${owner}: ${field} must be an integer >= 0 or [start, end] of integers >= 0, got ${JSON.stringify(value) ?? String(value)}`, { layer: owner, field });
}

/** Keras's ZeroPadding1D: (batch, steps, features) -> (batch, start + steps + end, features). */
export class ZeroPadding1D extends Layer {
  static override className = 'ZeroPadding1D';
  readonly padding: [number, number];

  constructor(padding: Padding1D = 1, args: ZeroPadding1DArgs = {}) {
    super(checkOptions('ZeroPadding1D', args, [...LAYER_ARG_NAMES, 'dataFormat'], '{name: "pad"}'));
    this.padding = normalizePadding1D(padding, this.name, 'padding');
    checkChannelsLast(args.dataFormat, this.name);
  }

  computeOutputShapes(inputShapes: Shape[]): Shape[] {
    const shape = this.singleInput(inputShapes);
    this.expectRank(shape, 3, '(batch, steps, features)');
    const steps = shape[1] === null ? null : shape[1]! + this.padding[0] + this.padding[1];
    return [[shape[0]!, steps, shape[2]!]];
  }

  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), padding: [...this.padding], data_format: 'channels_last' };
  }

  static fromConfig(config: Record<string, unknown>): ZeroPadding1D {
    const c = new ConfigReader(ZeroPadding1D.className, config);
    const args: ZeroPadding1DArgs = c.layerArgs();
    const padding = c.raw('padding', 1);
    c.channelsLast();
    c.finish();
    return new ZeroPadding1D(padding as Padding1D, args);
  }
}
registerLayer(ZeroPadding1D);

/** Keras's Cropping1D: (batch, steps, features) -> (batch, steps - start - end, features). */
export class Cropping1D extends Layer {
  static override className = 'Cropping1D';
  readonly cropping: [number, number];

  constructor(cropping: Padding1D = [1, 1], args: LayerArgs = {}) {
    super(checkOptions('Cropping1D', args, LAYER_ARG_NAMES, '{name: "crop"}'));
    this.cropping = normalizePadding1D(cropping, this.name, 'cropping');
  }

  computeOutputShapes(inputShapes: Shape[]): Shape[] {
    const shape = this.singleInput(inputShapes);
    this.expectRank(shape, 3, '(batch, steps, features)');
    const steps = shape[1] === null ? null : shape[1]! - this.cropping[0] - this.cropping[1];
    if (steps !== null && steps <= 0) {
      throw new ShapeError(`${this.name}: cropping ${JSON.stringify(this.cropping)} must leave at least one of the input's ${shape[1]} steps (input ${formatShape(shape)})`, {
        layer: this.name,
        field: 'cropping',
      });
    }
    return [[shape[0]!, steps, shape[2]!]];
  }

  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), cropping: [...this.cropping] };
  }

  static fromConfig(config: Record<string, unknown>): Cropping1D {
    const c = new ConfigReader(Cropping1D.className, config);
    const args = c.layerArgs();
    const cropping = c.raw('cropping', [1, 1]);
    c.finish();
    return new Cropping1D(cropping as Padding1D, args);
  }
}
registerLayer(Cropping1D);
