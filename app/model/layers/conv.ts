// Conv2D over channels-last images: input (batch, h, w, c), kernel (kh, kw, c, filters).
import { getActivation, type ActivationName } from '../activations.ts';
import { ShapeError, ValueError, assertPositiveInteger } from '../errors.ts';
import { getInitializer, type Initializer } from '../initializers.ts';
import { ConfigReader } from '../keras_format/config_reader.ts';
import { Layer, type LayerArgs } from '../layer.ts';
import { registerLayer } from '../registry.ts';
import { formatShape, normalizeTuple, type Dim, type Shape } from '../shape.ts';
import { kernelLayerConfig, readKernelLayerArgs, type KernelLayerArgs } from './kernel_layer.ts';

export type Padding = 'valid' | 'same';

/** Keras's conv_output_length: "same" keeps ceil(n / stride), "valid" drops the kernel's overhang. */
export function convOutputLength(input: Dim, kernel: number, padding: Padding, stride: number, dilation = 1): Dim {
  if (input === null) return null;
  const span = dilation * (kernel - 1) + 1;
  const length = padding === 'same' ? input : input - span + 1;
  return Math.floor((length + stride - 1) / stride);
}

export function checkPadding(padding: string, owner: string): Padding {
  if (padding !== 'valid' && padding !== 'same') throw new ValueError(`${owner}: padding must be "valid" or "same", got ${JSON.stringify(padding)}`);
  return padding;
}

export interface Conv2DArgs extends LayerArgs, KernelLayerArgs {
  strides?: number | [number, number];
  padding?: Padding;
  dilationRate?: number | [number, number];
  groups?: number;
  dataFormat?: 'channels_last';
}

export class Conv2D extends Layer {
  static override className = 'Conv2D';
  readonly filters: number;
  readonly kernelSize: [number, number];
  readonly strides: [number, number];
  readonly padding: Padding;
  readonly dilationRate: [number, number];
  readonly activation: ActivationName;
  readonly useBias: boolean;
  readonly kernelInitializer: Initializer;
  readonly biasInitializer: Initializer;
  private inputChannels: number | null = null;

  constructor(filters: number, kernelSize: number | [number, number], args: Conv2DArgs = {}) {
    super(args);
    assertPositiveInteger(filters, 'filters', this.name);
    this.filters = filters;
    this.kernelSize = normalizeTuple(kernelSize, 2, 'kernel_size', this.name) as [number, number];
    this.strides = normalizeTuple(args.strides ?? 1, 2, 'strides', this.name) as [number, number];
    this.dilationRate = normalizeTuple(args.dilationRate ?? 1, 2, 'dilation_rate', this.name) as [number, number];
    this.padding = checkPadding(args.padding ?? 'valid', this.name);
    if ((args.groups ?? 1) !== 1) throw new ValueError(`${this.name}: groups=${args.groups} is not supported; only groups=1`);
    if (args.dataFormat !== undefined && args.dataFormat !== 'channels_last') {
      throw new ValueError(`${this.name}: data_format ${JSON.stringify(args.dataFormat)} is not supported; Strata uses channels_last (NHWC) as Keras does by default`);
    }
    if (this.strides.some((s) => s > 1) && this.dilationRate.some((d) => d > 1)) {
      throw new ValueError(`${this.name}: strides > 1 cannot be combined with dilation_rate > 1 (as in Keras)`);
    }
    this.activation = getActivation(args.activation, this.name);
    this.useBias = args.useBias ?? true;
    this.kernelInitializer = getInitializer(args.kernelInitializer ?? 'glorot_uniform', `${this.name}.kernel_initializer`);
    this.biasInitializer = getInitializer(args.biasInitializer ?? 'zeros', `${this.name}.bias_initializer`);
  }

  private checkInput(inputShapes: Shape[]): Shape {
    const shape = this.singleInput(inputShapes);
    this.expectRank(shape, 4, '(batch, h, w, c)');
    const channels = shape[3];
    if (channels === null || channels === undefined) throw new ShapeError(`${this.name}: the channel dimension of the input must be known, got ${formatShape(shape)}`);
    if (this.inputChannels !== null && channels !== this.inputChannels) {
      throw new ShapeError(`${this.name}: built for ${this.inputChannels} input channels, got an input of shape ${formatShape(shape)}`);
    }
    return shape;
  }

  override build(inputShapes: Shape[]): void {
    const shape = this.checkInput(inputShapes);
    this.inputChannels = shape[3]!;
    this.addWeight('kernel', [...this.kernelSize, this.inputChannels, this.filters], this.kernelInitializer);
    if (this.useBias) this.addWeight('bias', [this.filters], this.biasInitializer);
  }

  computeOutputShapes(inputShapes: Shape[]): Shape[] {
    const shape = this.checkInput(inputShapes);
    const out: Shape = [shape[0]!];
    for (let i = 0; i < 2; i++) {
      out.push(convOutputLength(shape[i + 1]!, this.kernelSize[i]!, this.padding, this.strides[i]!, this.dilationRate[i]!));
    }
    out.push(this.filters);
    if (out.some((d) => d !== null && d <= 0)) {
      throw new ShapeError(`${this.name}: input ${formatShape(shape)} is smaller than the kernel ${formatShape(this.kernelSize)} with "${this.padding}" padding; the output would be ${formatShape(out)}`, {
        layer: this.name,
        field: 'kernel_size',
      });
    }
    return [out];
  }

  override getConfig(): Record<string, unknown> {
    return {
      ...super.getConfig(),
      filters: this.filters,
      kernel_size: [...this.kernelSize],
      strides: [...this.strides],
      padding: this.padding,
      data_format: 'channels_last',
      dilation_rate: [...this.dilationRate],
      groups: 1,
      ...kernelLayerConfig(this),
    };
  }

  static fromConfig(config: Record<string, unknown>): Conv2D {
    const c = new ConfigReader(Conv2D.className, config);
    const args: Conv2DArgs = c.layerArgs();
    const filters = c.number('filters');
    const kernelSize = c.intTuple('kernel_size');
    args.strides = c.intTuple('strides', [1, 1]) as [number, number];
    args.padding = c.string('padding', ['valid', 'same'] as const, 'valid');
    c.channelsLast();
    args.dilationRate = c.intTuple('dilation_rate', [1, 1]) as [number, number];
    args.groups = c.number('groups', 1);
    readKernelLayerArgs(c, args);
    c.finish();
    return new Conv2D(filters, (kernelSize.length === 1 ? kernelSize[0]! : kernelSize) as [number, number], args);
  }
}
registerLayer(Conv2D);
