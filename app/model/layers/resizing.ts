// UpSampling2D, Resizing and CenterCrop: channels-last images (batch, h, w, c) brought to another
// height and width. Keras 3 computes them as keras/src/layers/reshaping/up_sampling2d.py (nearest:
// each row and column repeated; bilinear: ops.image.resize, TensorFlow's half-pixel centres),
// keras/src/layers/preprocessing/image_preprocessing/resizing.py (ops.image.resize) and
// center_crop.py (the middle window, starting at int((in - out) / 2)); UpSampling1D repeats each
// step of a sequence (batch, steps, features), as up_sampling1d.py's ops.repeat.
import { ShapeError, ValueError } from '../errors.ts';
import { ConfigReader } from '../keras_format/config_reader.ts';
import { LAYER_ARG_NAMES, Layer, type LayerArgs } from '../layer.ts';
import { checkOptions } from '../options.ts';
import { registerLayer } from '../registry.ts';
import { formatShape, type Shape } from '../shape.ts';

export type ResizeInterpolation = 'nearest' | 'bilinear';
const INTERPOLATIONS: readonly ResizeInterpolation[] = ['nearest', 'bilinear'];

export interface UpSampling2DArgs extends LayerArgs {
  dataFormat?: 'channels_last';
  interpolation?: ResizeInterpolation;
}

export interface ResizingArgs extends LayerArgs {
  interpolation?: ResizeInterpolation;
  cropToAspectRatio?: boolean;
  padToAspectRatio?: boolean;
  dataFormat?: 'channels_last';
}

export interface CenterCropArgs extends LayerArgs {
  dataFormat?: 'channels_last';
}

function checkChannelsLast(dataFormat: string | undefined, owner: string): void {
  if (dataFormat !== undefined && dataFormat !== 'channels_last') {
    throw new ValueError(`${owner}: data_format ${JSON.stringify(dataFormat)} is not supported; Strata uses channels_last (NHWC) as Keras does by default`, { layer: owner, field: 'data_format' });
  }
}

function checkInterpolation(interpolation: unknown, owner: string): ResizeInterpolation {
  if (INTERPOLATIONS.includes(interpolation as ResizeInterpolation)) return interpolation as ResizeInterpolation;
  throw new ValueError(`${owner}: interpolation ${JSON.stringify(interpolation)} is not supported; Strata has "nearest" and "bilinear" (Keras's bicubic and lanczos are not)`, { layer: owner, field: 'interpolation' });
}

function positiveInteger(value: unknown, owner: string, field: string): number {
  if (Number.isSafeInteger(value) && (value as number) > 0) return value as number;
  throw new ValueError(`${owner}: ${field} must be an integer > 0, got ${JSON.stringify(value) ?? String(value)}`, { layer: owner, field });
}

/** Keras's UpSampling2D: (batch, h, w, c) -> (batch, h * size[0], w * size[1], c). */
export class UpSampling2D extends Layer {
  static override className = 'UpSampling2D';
  readonly size: [number, number];
  readonly interpolation: ResizeInterpolation;

  constructor(size: number | [number, number] = 2, args: UpSampling2DArgs = {}) {
    super(checkOptions('UpSampling2D', args, [...LAYER_ARG_NAMES, 'dataFormat', 'interpolation'], "{interpolation: 'bilinear'}"));
    const pair = typeof size === 'number' ? [size, size] : size;
    if (!Array.isArray(pair) || pair.length !== 2) throw new ValueError(`${this.name}: size must be an integer > 0 or [rows, cols], got ${JSON.stringify(size) ?? String(size)}`, { layer: this.name, field: 'size' });
    this.size = [positiveInteger(pair[0], this.name, 'size'), positiveInteger(pair[1], this.name, 'size')];
    this.interpolation = checkInterpolation(args.interpolation ?? 'nearest', this.name);
    checkChannelsLast(args.dataFormat, this.name);
  }

  computeOutputShapes(inputShapes: Shape[]): Shape[] {
    const shape = this.singleInput(inputShapes);
    this.expectRank(shape, 4, '(batch, h, w, c)');
    const grow = (d: number | null, f: number) => (d === null ? null : d * f);
    return [[shape[0]!, grow(shape[1]!, this.size[0]), grow(shape[2]!, this.size[1]), shape[3]!]];
  }

  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), size: [...this.size], data_format: 'channels_last', interpolation: this.interpolation };
  }

  static fromConfig(config: Record<string, unknown>): UpSampling2D {
    const c = new ConfigReader(UpSampling2D.className, config);
    const args: UpSampling2DArgs = c.layerArgs();
    const size = c.raw('size', [2, 2]);
    args.interpolation = c.raw('interpolation', 'nearest') as ResizeInterpolation;
    c.channelsLast();
    c.finish();
    return new UpSampling2D(size as [number, number], args);
  }
}
registerLayer(UpSampling2D);

/** Keras's Resizing: (batch, h, w, c) -> (batch, height, width, c), interpolated. */
export class Resizing extends Layer {
  static override className = 'Resizing';
  readonly height: number;
  readonly width: number;
  readonly interpolation: ResizeInterpolation;

  constructor(height: number, width: number, args: ResizingArgs = {}) {
    super(checkOptions('Resizing', args, [...LAYER_ARG_NAMES, 'interpolation', 'cropToAspectRatio', 'padToAspectRatio', 'dataFormat'], "{interpolation: 'nearest'}"));
    this.height = positiveInteger(height, this.name, 'height');
    this.width = positiveInteger(width, this.name, 'width');
    this.interpolation = checkInterpolation(args.interpolation ?? 'bilinear', this.name);
    for (const [field, value] of [['crop_to_aspect_ratio', args.cropToAspectRatio], ['pad_to_aspect_ratio', args.padToAspectRatio]] as const) {
      if (value !== undefined && value !== false) {
        throw new ValueError(`${this.name}: ${field}=${JSON.stringify(value)} is not supported; Strata resizes the whole image (false), so crop or pad it first (CenterCrop, Cropping2D, ZeroPadding2D)`, { layer: this.name, field });
      }
    }
    checkChannelsLast(args.dataFormat, this.name);
  }

  computeOutputShapes(inputShapes: Shape[]): Shape[] {
    const shape = this.singleInput(inputShapes);
    this.expectRank(shape, 4, '(batch, h, w, c)');
    return [[shape[0]!, this.height, this.width, shape[3]!]];
  }

  override getConfig(): Record<string, unknown> {
    return {
      ...super.getConfig(), height: this.height, width: this.width, interpolation: this.interpolation,
      crop_to_aspect_ratio: false, pad_to_aspect_ratio: false, fill_mode: 'constant', fill_value: 0, data_format: 'channels_last',
    };
  }

  static fromConfig(config: Record<string, unknown>): Resizing {
    const c = new ConfigReader(Resizing.className, config);
    const args: ResizingArgs = c.layerArgs();
    const height = c.raw('height', undefined);
    const width = c.raw('width', undefined);
    args.interpolation = c.raw('interpolation', 'bilinear') as ResizeInterpolation;
    args.cropToAspectRatio = c.boolean('crop_to_aspect_ratio', false);
    args.padToAspectRatio = c.boolean('pad_to_aspect_ratio', false);
    // Keras 3 writes these for pad_to_aspect_ratio, which Strata refuses; they change nothing else.
    c.string('fill_mode', ['constant'], 'constant');
    c.number('fill_value', 0);
    c.unsupported('antialias', [null, false]);
    c.unsupported('bounding_box_format');
    c.channelsLast();
    c.finish();
    return new Resizing(height as number, width as number, args);
  }
}
registerLayer(Resizing);

/** Keras's CenterCrop: the middle (height, width) window of each image. */
export class CenterCrop extends Layer {
  static override className = 'CenterCrop';
  readonly height: number;
  readonly width: number;

  constructor(height: number, width: number, args: CenterCropArgs = {}) {
    super(checkOptions('CenterCrop', args, [...LAYER_ARG_NAMES, 'dataFormat'], '{name: "crop"}'));
    this.height = positiveInteger(height, this.name, 'height');
    this.width = positiveInteger(width, this.name, 'width');
    checkChannelsLast(args.dataFormat, this.name);
  }

  computeOutputShapes(inputShapes: Shape[]): Shape[] {
    const shape = this.singleInput(inputShapes);
    this.expectRank(shape, 4, '(batch, h, w, c)');
    const [h, w] = [shape[1]!, shape[2]!];
    if (h === null || w === null) {
      throw new ShapeError(`${this.name}: CenterCrop needs a known height and width, got input ${formatShape(shape)} (Keras 3 refuses it too)`, { layer: this.name });
    }
    if (h < this.height || w < this.width) {
      // Keras 3 then crops to the target's aspect ratio and resizes (image_utils.smart_resize).
      throw new ShapeError(`${this.name}: input ${formatShape(shape)} is smaller than the crop ${this.height}x${this.width}; Strata does not resize small images as Keras 3 does: use Resizing before it, or a smaller crop`, { layer: this.name, field: 'height' });
    }
    return [[shape[0]!, this.height, this.width, shape[3]!]];
  }

  /** [[top, bottom], [left, right]]: what the crop removes from an input of (h, w), as Keras 3's int((h - height) / 2). */
  cropping(h: number, w: number): [[number, number], [number, number]] {
    const top = Math.floor((h - this.height) / 2);
    const left = Math.floor((w - this.width) / 2);
    return [[top, h - this.height - top], [left, w - this.width - left]];
  }

  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), height: this.height, width: this.width, data_format: 'channels_last' };
  }

  static fromConfig(config: Record<string, unknown>): CenterCrop {
    const c = new ConfigReader(CenterCrop.className, config);
    const args: CenterCropArgs = c.layerArgs();
    const height = c.raw('height', undefined);
    const width = c.raw('width', undefined);
    c.unsupported('bounding_box_format');
    c.channelsLast();
    c.finish();
    return new CenterCrop(height as number, width as number, args);
  }
}
registerLayer(CenterCrop);

/** Keras's UpSampling1D: (batch, steps, features) -> (batch, steps * size, features), each step repeated size times. */
export class UpSampling1D extends Layer {
  static override className = 'UpSampling1D';
  readonly size: number;

  constructor(size = 2, args: LayerArgs = {}) {
    super(checkOptions('UpSampling1D', args, LAYER_ARG_NAMES, '{name: "upsample"}'));
    this.size = positiveInteger(size, this.name, 'size');
  }

  computeOutputShapes(inputShapes: Shape[]): Shape[] {
    const shape = this.singleInput(inputShapes);
    this.expectRank(shape, 3, '(batch, steps, features)');
    return [[shape[0]!, shape[1] === null ? null : shape[1]! * this.size, shape[2]!]];
  }

  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), size: this.size };
  }

  static fromConfig(config: Record<string, unknown>): UpSampling1D {
    const c = new ConfigReader(UpSampling1D.className, config);
    const args = c.layerArgs();
    const size = c.raw('size', 2);
    c.finish();
    return new UpSampling1D(size as number, args);
  }
}
registerLayer(UpSampling1D);
