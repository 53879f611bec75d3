// Conv2D, DepthwiseConv2D and SeparableConv2D over channels-last images: input (batch, h, w,
// c); kernels (kh, kw, c, filters), depthwise kernels (kh, kw, c, depth_multiplier).
import { getActivation, type ActivationName } from '../activations.ts';
import { ShapeError, ValueError, assertPositiveInteger } from '../errors.ts';
import { getInitializer, serializeInitializer, type Initializer, type InitializerIdentifier } from '../initializers.ts';
import { ConfigReader } from '../keras_format/config_reader.ts';
import { LAYER_ARG_NAMES, Layer, type LayerArgs } from '../layer.ts';
import { checkOptions } from '../options.ts';
import { registerLayer } from '../registry.ts';
import { formatShape, normalizeTuple, type Dim, type Shape } from '../shape.ts';
import { KERNEL_OPTIONS, KernelRules, kernelLayerConfig, readKernelLayerArgs, type KernelLayerArgs } from './kernel_layer.ts';

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

export interface Conv2DArgs extends LayerArgs, KernelLayerArgs, ConvWindowArgs {
  /** Keras's groups: input channels and filters split into this many independent convolutions. */
  groups?: number;
}

export class Conv2D extends Layer {
  static override className = 'Conv2D';
  readonly filters: number;
  readonly kernelSize: [number, number];
  readonly strides: [number, number];
  readonly padding: Padding;
  readonly dilationRate: [number, number];
  readonly groups: number;
  readonly activation: ActivationName;
  readonly useBias: boolean;
  readonly kernelInitializer: Initializer;
  readonly biasInitializer: Initializer;
  /** The kernel's and bias's regularizers and constraints, and the output's activity regularizer. */
  readonly rules: KernelRules;
  private readonly window: ConvWindow;
  inputChannelCount: number | null = null;

  constructor(filters: number, kernelSize: number | [number, number], args: Conv2DArgs = {}) {
    super(checkOptions('Conv2D', args, [...LAYER_ARG_NAMES, ...WINDOW_OPTIONS, 'groups', ...KERNEL_OPTIONS], "{padding: 'same', activation: 'relu'}"));
    assertPositiveInteger(filters, 'filters', this.name);
    this.filters = filters;
    this.window = new ConvWindow(kernelSize, args, this.name);
    ({ kernelSize: this.kernelSize, strides: this.strides, padding: this.padding, dilationRate: this.dilationRate } = this.window);
    this.groups = args.groups ?? 1;
    assertPositiveInteger(this.groups, 'groups', this.name);
    if (filters % this.groups !== 0) throw new ValueError(`${this.name}: filters (${filters}) must be a multiple of groups (${this.groups}), as in Keras`, { layer: this.name, field: 'groups' });
    this.activation = getActivation(args.activation, this.name);
    this.useBias = args.useBias ?? true;
    this.kernelInitializer = getInitializer(args.kernelInitializer ?? 'glorot_uniform', `${this.name}.kernel_initializer`);
    this.biasInitializer = getInitializer(args.biasInitializer ?? 'zeros', `${this.name}.bias_initializer`);
    this.rules = new KernelRules(args, this.name);
  }

  override build(inputShapes: Shape[]): void {
    this.inputChannelCount = checkImageInput(this, this.singleInput(inputShapes));
    this.checkGroups(this.inputChannelCount);
    this.addWeight('kernel', [...this.kernelSize, this.inputChannelCount / this.groups, this.filters], this.kernelInitializer);
    if (this.useBias) this.addWeight('bias', [this.filters], this.biasInitializer);
  }

  computeOutputShapes(inputShapes: Shape[]): Shape[] {
    const shape = this.singleInput(inputShapes);
    this.checkGroups(checkImageInput(this, shape));
    return [this.window.outputShape(shape, this.filters)];
  }

  private checkGroups(channels: number): void {
    if (channels % this.groups !== 0) {
      throw new ShapeError(`${this.name}: the input's ${channels} channels must be a multiple of groups (${this.groups}), as in Keras`);
    }
  }

  override get weightRules(): KernelRules {
    return this.rules;
  }

  override getConfig(): Record<string, unknown> {
    return {
      ...super.getConfig(),
      filters: this.filters,
      ...this.window.config(),
      groups: this.groups,
      ...kernelLayerConfig(this),
    };
  }

  static fromConfig(config: Record<string, unknown>): Conv2D {
    const c = new ConfigReader(Conv2D.className, config);
    const args: Conv2DArgs = c.layerArgs();
    const filters = c.number('filters');
    const kernelSize = ConvWindow.readArgs(c, args);
    args.groups = c.number('groups', 1);
    readKernelLayerArgs(c, args);
    c.finish();
    return new Conv2D(filters, kernelSize, args);
  }
}
registerLayer(Conv2D);

/** The window arguments Keras's depthwise and separable convolutions share with Conv2D. */
export interface ConvWindowArgs {
  strides?: number | [number, number];
  padding?: Padding;
  dilationRate?: number | [number, number];
  dataFormat?: 'channels_last';
}

const WINDOW_OPTIONS = ['strides', 'padding', 'dilationRate', 'dataFormat'] as const;

/** A 2-D window: kernel, strides, dilation and padding, checked as Keras checks them. */
class ConvWindow {
  readonly kernelSize: [number, number];
  readonly strides: [number, number];
  readonly dilationRate: [number, number];
  readonly padding: Padding;

  constructor(kernelSize: number | [number, number], args: ConvWindowArgs, private readonly owner: string) {
    this.kernelSize = normalizeTuple(kernelSize, 2, 'kernel_size', owner) as [number, number];
    this.strides = normalizeTuple(args.strides ?? 1, 2, 'strides', owner) as [number, number];
    this.dilationRate = normalizeTuple(args.dilationRate ?? 1, 2, 'dilation_rate', owner) as [number, number];
    this.padding = checkPadding(args.padding ?? 'valid', owner);
    if (args.dataFormat !== undefined && args.dataFormat !== 'channels_last') {
      throw new ValueError(`${owner}: data_format ${JSON.stringify(args.dataFormat)} is not supported; Strata uses channels_last (NHWC) as Keras does by default`);
    }
    if (this.strides.some((s) => s > 1) && this.dilationRate.some((d) => d > 1)) {
      throw new ValueError(`${owner}: strides > 1 cannot be combined with dilation_rate > 1 (as in Keras)`);
    }
  }

  /** (batch, h, w, c) -> (batch, oh, ow, channels), or a ShapeError when the kernel does not fit. */
  outputShape(shape: Shape, channels: number): Shape {
    const out: Shape = [shape[0]!];
    for (let i = 0; i < 2; i++) out.push(convOutputLength(shape[i + 1]!, this.kernelSize[i]!, this.padding, this.strides[i]!, this.dilationRate[i]!));
    out.push(channels);
    if (out.some((d) => d !== null && d <= 0)) {
      throw new ShapeError(`${this.owner}: input ${formatShape(shape)} is smaller than the kernel ${formatShape(this.kernelSize)} with "${this.padding}" padding; the output would be ${formatShape(out)}`, {
        layer: this.owner,
        field: 'kernel_size',
      });
    }
    return out;
  }

  /** tf.keras's order: kernel_size, strides, padding, data_format, dilation_rate. */
  config(): Record<string, unknown> {
    return { kernel_size: [...this.kernelSize], strides: [...this.strides], padding: this.padding, data_format: 'channels_last', dilation_rate: [...this.dilationRate] };
  }

  static readArgs(c: ConfigReader, args: ConvWindowArgs): number | [number, number] {
    const kernelSize = c.intTuple('kernel_size');
    args.strides = c.intTuple('strides', [1, 1]) as [number, number];
    args.padding = c.string('padding', ['valid', 'same'] as const, 'valid');
    c.channelsLast();
    args.dilationRate = c.intTuple('dilation_rate', [1, 1]) as [number, number];
    return (kernelSize.length === 1 ? kernelSize[0]! : kernelSize) as [number, number];
  }
}

/** The input of a depthwise step: (batch, h, w, c) with c known and, once built, fixed. */
function checkImageInput(layer: Layer & { inputChannelCount: number | null }, shape: Shape): number {
  const channels = shape[3];
  if (shape.length !== 4) throw new ShapeError(`${layer.name}: expected a 4-D input (batch, h, w, c), got ${formatShape(shape)}`);
  if (channels === null || channels === undefined) throw new ShapeError(`${layer.name}: the channel dimension of the input must be known, got ${formatShape(shape)}`);
  if (layer.inputChannelCount !== null && channels !== layer.inputChannelCount) {
    throw new ShapeError(`${layer.name}: built for ${layer.inputChannelCount} input channels, got an input of shape ${formatShape(shape)}`);
  }
  return channels;
}

export interface DepthwiseConv2DArgs extends LayerArgs, ConvWindowArgs {
  /** Output channels per input channel (Keras's depth_multiplier, default 1). */
  depthMultiplier?: number;
  activation?: string | null;
  useBias?: boolean;
  depthwiseInitializer?: InitializerIdentifier;
  biasInitializer?: InitializerIdentifier;
}

const DEPTHWISE_OPTIONS = [...LAYER_ARG_NAMES, ...WINDOW_OPTIONS, 'depthMultiplier', 'activation', 'useBias', 'depthwiseInitializer', 'biasInitializer'];

/**
 * Keras's DepthwiseConv2D: each input channel convolved with its own depth_multiplier
 * kernels, output channel c * depth_multiplier + m. Weights depthwise_kernel (kh, kw, c,
 * depth_multiplier) and bias (c * depth_multiplier).
 */
export class DepthwiseConv2D extends Layer {
  static override className = 'DepthwiseConv2D';
  readonly window: ConvWindow;
  readonly depthMultiplier: number;
  readonly activation: ActivationName;
  readonly useBias: boolean;
  readonly depthwiseInitializer: Initializer;
  readonly biasInitializer: Initializer;
  inputChannelCount: number | null = null;

  constructor(kernelSize: number | [number, number], args: DepthwiseConv2DArgs = {}) {
    super(checkOptions('DepthwiseConv2D', args, DEPTHWISE_OPTIONS, "{strides: 2, padding: 'same'}"));
    this.window = new ConvWindow(kernelSize, args, this.name);
    this.depthMultiplier = args.depthMultiplier ?? 1;
    assertPositiveInteger(this.depthMultiplier, 'depth_multiplier', this.name);
    this.activation = getActivation(args.activation, this.name);
    this.useBias = args.useBias ?? true;
    this.depthwiseInitializer = getInitializer(args.depthwiseInitializer ?? 'glorot_uniform', `${this.name}.depthwise_initializer`);
    this.biasInitializer = getInitializer(args.biasInitializer ?? 'zeros', `${this.name}.bias_initializer`);
  }

  get kernelSize(): [number, number] {
    return this.window.kernelSize;
  }

  override build(inputShapes: Shape[]): void {
    this.inputChannelCount = checkImageInput(this, this.singleInput(inputShapes));
    this.addWeight('depthwise_kernel', [...this.window.kernelSize, this.inputChannelCount, this.depthMultiplier], this.depthwiseInitializer);
    if (this.useBias) this.addWeight('bias', [this.inputChannelCount * this.depthMultiplier], this.biasInitializer);
  }

  computeOutputShapes(inputShapes: Shape[]): Shape[] {
    const shape = this.singleInput(inputShapes);
    return [this.window.outputShape(shape, checkImageInput(this, shape) * this.depthMultiplier)];
  }

  /** tf.keras 2.x's order: Conv2D's keys without filters and the kernel_* ones, then the depthwise ones. */
  override getConfig(): Record<string, unknown> {
    return {
      ...super.getConfig(),
      ...this.window.config(),
      groups: 1,
      activation: this.activation,
      use_bias: this.useBias,
      bias_initializer: serializeInitializer(this.biasInitializer),
      bias_regularizer: null,
      activity_regularizer: null,
      bias_constraint: null,
      depth_multiplier: this.depthMultiplier,
      depthwise_initializer: serializeInitializer(this.depthwiseInitializer),
      depthwise_regularizer: null,
      depthwise_constraint: null,
    };
  }

  static fromConfig(config: Record<string, unknown>): DepthwiseConv2D {
    const c = new ConfigReader(DepthwiseConv2D.className, config);
    const args: DepthwiseConv2DArgs = c.layerArgs();
    const kernelSize = ConvWindow.readArgs(c, args);
    readSeparableArgs(c, args, ['depthwise']);
    c.finish();
    return new DepthwiseConv2D(kernelSize, args);
  }
}
registerLayer(DepthwiseConv2D);

export interface SeparableConv2DArgs extends DepthwiseConv2DArgs {
  pointwiseInitializer?: InitializerIdentifier;
}

const SEPARABLE_OPTIONS = [...DEPTHWISE_OPTIONS, 'pointwiseInitializer'];

/**
 * Keras's SeparableConv2D: a depthwise convolution (no bias) then a 1x1 convolution to
 * `filters` channels, with the bias and activation after it. Weights depthwise_kernel (kh, kw,
 * c, depth_multiplier), pointwise_kernel (1, 1, c * depth_multiplier, filters), bias (filters).
 */
export class SeparableConv2D extends Layer {
  static override className = 'SeparableConv2D';
  readonly filters: number;
  readonly window: ConvWindow;
  readonly depthMultiplier: number;
  readonly activation: ActivationName;
  readonly useBias: boolean;
  readonly depthwiseInitializer: Initializer;
  readonly pointwiseInitializer: Initializer;
  readonly biasInitializer: Initializer;
  inputChannelCount: number | null = null;

  constructor(filters: number, kernelSize: number | [number, number], args: SeparableConv2DArgs = {}) {
    super(checkOptions('SeparableConv2D', args, SEPARABLE_OPTIONS, "{padding: 'same', activation: 'relu'}"));
    assertPositiveInteger(filters, 'filters', this.name);
    this.filters = filters;
    this.window = new ConvWindow(kernelSize, args, this.name);
    this.depthMultiplier = args.depthMultiplier ?? 1;
    assertPositiveInteger(this.depthMultiplier, 'depth_multiplier', this.name);
    this.activation = getActivation(args.activation, this.name);
    this.useBias = args.useBias ?? true;
    this.depthwiseInitializer = getInitializer(args.depthwiseInitializer ?? 'glorot_uniform', `${this.name}.depthwise_initializer`);
    this.pointwiseInitializer = getInitializer(args.pointwiseInitializer ?? 'glorot_uniform', `${this.name}.pointwise_initializer`);
    this.biasInitializer = getInitializer(args.biasInitializer ?? 'zeros', `${this.name}.bias_initializer`);
  }

  get kernelSize(): [number, number] {
    return this.window.kernelSize;
  }

  override build(inputShapes: Shape[]): void {
    this.inputChannelCount = checkImageInput(this, this.singleInput(inputShapes));
    const depth = this.inputChannelCount * this.depthMultiplier;
    this.addWeight('depthwise_kernel', [...this.window.kernelSize, this.inputChannelCount, this.depthMultiplier], this.depthwiseInitializer);
    this.addWeight('pointwise_kernel', [1, 1, depth, this.filters], this.pointwiseInitializer);
    if (this.useBias) this.addWeight('bias', [this.filters], this.biasInitializer);
  }

  computeOutputShapes(inputShapes: Shape[]): Shape[] {
    const shape = this.singleInput(inputShapes);
    checkImageInput(this, shape);
    return [this.window.outputShape(shape, this.filters)];
  }

  /** tf.keras 2.x's keys (SeparableConv.get_config), in its order. */
  override getConfig(): Record<string, unknown> {
    return {
      ...super.getConfig(),
      filters: this.filters,
      ...this.window.config(),
      depth_multiplier: this.depthMultiplier,
      activation: this.activation,
      use_bias: this.useBias,
      depthwise_initializer: serializeInitializer(this.depthwiseInitializer),
      pointwise_initializer: serializeInitializer(this.pointwiseInitializer),
      bias_initializer: serializeInitializer(this.biasInitializer),
      depthwise_regularizer: null,
      pointwise_regularizer: null,
      bias_regularizer: null,
      activity_regularizer: null,
      depthwise_constraint: null,
      pointwise_constraint: null,
      bias_constraint: null,
    };
  }

  static fromConfig(config: Record<string, unknown>): SeparableConv2D {
    const c = new ConfigReader(SeparableConv2D.className, config);
    const args: SeparableConv2DArgs = c.layerArgs();
    const filters = c.number('filters');
    const kernelSize = ConvWindow.readArgs(c, args);
    readSeparableArgs(c, args, ['depthwise', 'pointwise']);
    c.finish();
    return new SeparableConv2D(filters, kernelSize, args);
  }
}
registerLayer(SeparableConv2D);

/**
 * The fields DepthwiseConv2D and SeparableConv2D read beside the window. tf.keras 2.x writes
 * them on top of Conv2D's config, so Conv2D's groups and kernel_* keys may come along unset.
 */
function readSeparableArgs(c: ConfigReader, args: SeparableConv2DArgs, kernels: ('depthwise' | 'pointwise')[]): void {
  args.depthMultiplier = c.number('depth_multiplier', 1);
  args.activation = c.optionalString('activation') ?? null;
  args.useBias = c.boolean('use_bias', true);
  for (const kernel of kernels) {
    const init = c.initializer(`${kernel}_initializer`);
    if (init) args[`${kernel}Initializer`] = init;
    c.unsupported(`${kernel}_regularizer`);
    c.unsupported(`${kernel}_constraint`);
  }
  const bias = c.initializer('bias_initializer');
  if (bias) args.biasInitializer = bias;
  for (const key of ['bias_regularizer', 'activity_regularizer', 'bias_constraint', 'kernel_regularizer', 'kernel_constraint']) c.unsupported(key);
  c.unsupported('groups', [1, null]);
  c.initializer('kernel_initializer'); // Conv2D's, unused by these layers (tf.keras writes it for SeparableConv2D)
}
