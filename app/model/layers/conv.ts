// Conv1D over channels-last sequences (batch, steps, c), kernels (k, c / groups, filters); Conv2D,
// DepthwiseConv2D and SeparableConv2D over channels-last images (batch, h, w, c), kernels (kh, kw,
// c / groups, filters), depthwise kernels (kh, kw, c, depth_multiplier).
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
/** Conv1D's paddings: Keras's "causal" pads the start only, so step t sees steps <= t. */
export type ConvPadding = Padding | 'causal';

const PADDINGS_2D: readonly Padding[] = ['valid', 'same'];
const PADDINGS_1D: readonly ConvPadding[] = ['valid', 'same', 'causal'];

/** Keras's conv_output_length: "same" and "causal" keep ceil(n / stride), "valid" drops the kernel's overhang. */
export function convOutputLength(input: Dim, kernel: number, padding: ConvPadding, stride: number, dilation = 1): Dim {
  if (input === null) return null;
  const span = dilation * (kernel - 1) + 1;
  const length = padding === 'valid' ? input - span + 1 : input;
  return Math.floor((length + stride - 1) / stride);
}

export function checkPadding(padding: string, owner: string): Padding {
  return checkPaddingIn(PADDINGS_2D, padding, owner);
}

/** `padding` when it is one of `allowed`, else a ValueError listing them. */
function checkPaddingIn<P extends string>(allowed: readonly P[], padding: string, owner: string): P {
  if (allowed.includes(padding as P)) return padding as P;
  const names = allowed.map((p) => JSON.stringify(p));
  throw new ValueError(`${owner}: padding must be ${names.slice(0, -1).join(', ')} or ${names.at(-1)}, got ${JSON.stringify(padding)}`);
}

export interface ConvArgs<T extends number[], P extends ConvPadding> extends LayerArgs, KernelLayerArgs {
  strides?: number | T;
  padding?: P;
  dilationRate?: number | T;
  dataFormat?: 'channels_last';
  /** Keras's groups: input channels and filters split into this many independent convolutions. */
  groups?: number;
}

export type Conv2DArgs = ConvArgs<[number, number], Padding>;
export type Conv1DArgs = ConvArgs<[number], ConvPadding>;

const CONV_OPTIONS = [...LAYER_ARG_NAMES, 'strides', 'padding', 'dilationRate', 'dataFormat', 'groups', ...KERNEL_OPTIONS];

/**
 * Keras's Conv1D and Conv2D: `filters` kernels (window..., c / groups, filters) slid over the
 * input's `rank` spatial axes, then the bias and the activation.
 */
abstract class BaseConv<T extends number[], P extends ConvPadding> extends Layer {
  readonly filters: number;
  readonly kernelSize: T;
  readonly strides: T;
  readonly padding: P;
  readonly dilationRate: T;
  readonly groups: number;
  readonly activation: ActivationName;
  readonly useBias: boolean;
  readonly kernelInitializer: Initializer;
  readonly biasInitializer: Initializer;
  /** The kernel's and bias's regularizers and constraints, and the output's activity regularizer. */
  readonly rules: KernelRules;
  private readonly window: ConvWindow<T, P>;
  inputChannelCount: number | null = null;

  constructor(rank: number, paddings: readonly P[], filters: number, kernelSize: number | T, args: ConvArgs<T, P>, options: readonly string[] = CONV_OPTIONS) {
    const className = (new.target as unknown as { className: string }).className;
    super(checkOptions(className, args, options, "{padding: 'same', activation: 'relu'}"));
    assertPositiveInteger(filters, 'filters', this.name);
    this.filters = filters;
    this.window = new ConvWindow<T, P>(kernelSize, args, this.name, rank, paddings);
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
    this.inputChannelCount = checkChannelsInput(this, this.singleInput(inputShapes), this.kernelSize.length + 2);
    this.checkGroups(this.inputChannelCount);
    this.addWeight('kernel', [...this.kernelSize, this.inputChannelCount / this.groups, this.filters], this.kernelInitializer);
    if (this.useBias) this.addWeight('bias', [this.filters], this.biasInitializer);
  }

  computeOutputShapes(inputShapes: Shape[]): Shape[] {
    const shape = this.singleInput(inputShapes);
    this.checkGroups(checkChannelsInput(this, shape, this.kernelSize.length + 2));
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

  /** What Conv1D's and Conv2D's fromConfig read: filters, the window, groups and the kernel fields. */
  protected static readConvConfig<T extends number[], P extends ConvPadding>(c: ConfigReader, rank: number, paddings: readonly P[], grouped = true) {
    const args: ConvArgs<T, P> = c.layerArgs();
    const filters = c.number('filters');
    const kernelSize = ConvWindow.readArgs<T, P>(c, args, rank, paddings);
    if (grouped) args.groups = c.number('groups', 1);
    else c.unsupported('groups', [1, null]);
    readKernelLayerArgs(c, args);
    return { filters, kernelSize, args };
  }
}

export class Conv2D extends BaseConv<[number, number], Padding> {
  static override className = 'Conv2D';

  constructor(filters: number, kernelSize: number | [number, number], args: Conv2DArgs = {}) {
    super(2, PADDINGS_2D, filters, kernelSize, args);
  }

  static fromConfig(config: Record<string, unknown>): Conv2D {
    const c = new ConfigReader(Conv2D.className, config);
    const { filters, kernelSize, args } = BaseConv.readConvConfig<[number, number], Padding>(c, 2, PADDINGS_2D);
    c.finish();
    return new Conv2D(filters, kernelSize, args);
  }
}
registerLayer(Conv2D);

/** Keras's Conv1D over sequences (batch, steps, c): kernel (k, c / groups, filters), padding "causal" too. */
export class Conv1D extends BaseConv<[number], ConvPadding> {
  static override className = 'Conv1D';

  constructor(filters: number, kernelSize: number | [number], args: Conv1DArgs = {}) {
    super(1, PADDINGS_1D, filters, kernelSize, args);
  }

  static fromConfig(config: Record<string, unknown>): Conv1D {
    const c = new ConfigReader(Conv1D.className, config);
    const { filters, kernelSize, args } = BaseConv.readConvConfig<[number], ConvPadding>(c, 1, PADDINGS_1D);
    c.finish();
    return new Conv1D(filters, kernelSize, args);
  }
}
registerLayer(Conv1D);

export interface Conv2DTransposeArgs extends Omit<Conv2DArgs, 'groups'> {
  /** Extra rows and columns at the end of the output, each below its stride; null: Keras's default lengths. */
  outputPadding?: number | [number, number] | null;
}

const TRANSPOSE_OPTIONS = [...CONV_OPTIONS.filter((o) => o !== 'groups'), 'outputPadding'];

/**
 * Keras's deconv_output_length: the output length of a transposed convolution, the input
 * length a convolution with these settings would map back from.
 */
export function transposedOutputLength(input: Dim, kernel: number, padding: Padding, outputPadding: number | null, stride: number, dilation: number): Dim {
  if (input === null) return null;
  const span = dilation * (kernel - 1) + 1;
  if (outputPadding === null) return padding === 'valid' ? input * stride + Math.max(span - stride, 0) : input * stride;
  const pad = padding === 'same' ? Math.floor(span / 2) : 0;
  return (input - 1) * stride + span - 2 * pad + outputPadding;
}

/**
 * Keras's Conv2DTranspose (a "deconvolution"): each input pixel adds its kernel-weighted copy
 * to the output, strides apart. Kernel (kh, kw, filters, c): Keras stores it as the
 * convolution it transposes would, filters and channels swapped.
 */
export class Conv2DTranspose extends BaseConv<[number, number], Padding> {
  static override className = 'Conv2DTranspose';
  readonly outputPadding: [number, number] | null;

  constructor(filters: number, kernelSize: number | [number, number], args: Conv2DTransposeArgs = {}) {
    super(2, PADDINGS_2D, filters, kernelSize, args, TRANSPOSE_OPTIONS);
    this.outputPadding = args.outputPadding === undefined || args.outputPadding === null ? null : this.checkOutputPadding(args.outputPadding);
  }

  private checkOutputPadding(value: number | [number, number]): [number, number] {
    const tuple = typeof value === 'number' ? [value, value] : Array.isArray(value) ? [...value] : [];
    const ok = tuple.length === 2 && tuple.every((p, i) => Number.isSafeInteger(p) && p >= 0 && p < this.strides[i]!);
    if (!ok) {
      throw new ValueError(`${this.name}: output_padding must be an integer or 2 integers, each >= 0 and below its stride ${formatShape(this.strides)} (as in Keras), got ${JSON.stringify(value)}`, {
        layer: this.name,
        field: 'output_padding',
      });
    }
    return tuple as [number, number];
  }

  override build(inputShapes: Shape[]): void {
    this.inputChannelCount = checkChannelsInput(this, this.singleInput(inputShapes));
    this.addWeight('kernel', [...this.kernelSize, this.filters, this.inputChannelCount], this.kernelInitializer);
    if (this.useBias) this.addWeight('bias', [this.filters], this.biasInitializer);
  }

  override computeOutputShapes(inputShapes: Shape[]): Shape[] {
    const shape = this.singleInput(inputShapes);
    checkChannelsInput(this, shape);
    const spatial = [0, 1].map((i) => transposedOutputLength(shape[i + 1]!, this.kernelSize[i]!, this.padding, this.outputPadding?.[i] ?? null, this.strides[i]!, this.dilationRate[i]!));
    return [[shape[0]!, ...spatial, this.filters]];
  }

  /** tf.keras 2.x's keys: Conv2D's (groups 1), then output_padding. */
  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), output_padding: this.outputPadding ? [...this.outputPadding] : null };
  }

  static fromConfig(config: Record<string, unknown>): Conv2DTranspose {
    const c = new ConfigReader(Conv2DTranspose.className, config);
    const { filters, kernelSize, args } = BaseConv.readConvConfig<[number, number], Padding>(c, 2, PADDINGS_2D, false);
    const outputPadding = c.optionalIntTuple('output_padding');
    c.finish();
    return new Conv2DTranspose(filters, kernelSize, { ...args, outputPadding: outputPadding ? (outputPadding.length === 1 ? outputPadding[0]! : (outputPadding as [number, number])) : null });
  }
}
registerLayer(Conv2DTranspose);

/** The window arguments Keras's depthwise and separable convolutions share with Conv2D. */
export interface ConvWindowArgs {
  strides?: number | [number, number];
  padding?: Padding;
  dilationRate?: number | [number, number];
  dataFormat?: 'channels_last';
}

const WINDOW_OPTIONS = ['strides', 'padding', 'dilationRate', 'dataFormat'] as const;

/** A window over `rank` spatial axes: kernel, strides, dilation and padding, checked as Keras checks them. */
class ConvWindow<T extends number[] = [number, number], P extends ConvPadding = Padding> {
  readonly kernelSize: T;
  readonly strides: T;
  readonly dilationRate: T;
  readonly padding: P;

  constructor(
    kernelSize: number | T,
    args: { strides?: number | T; padding?: P; dilationRate?: number | T; dataFormat?: string },
    private readonly owner: string,
    rank = 2,
    paddings: readonly P[] = PADDINGS_2D as readonly P[],
  ) {
    this.kernelSize = normalizeTuple(kernelSize, rank, 'kernel_size', owner) as T;
    this.strides = normalizeTuple(args.strides ?? 1, rank, 'strides', owner) as T;
    this.dilationRate = normalizeTuple(args.dilationRate ?? 1, rank, 'dilation_rate', owner) as T;
    this.padding = checkPaddingIn(paddings, args.padding ?? 'valid', owner);
    if (args.dataFormat !== undefined && args.dataFormat !== 'channels_last') {
      throw new ValueError(`${owner}: data_format ${JSON.stringify(args.dataFormat)} is not supported; Strata uses channels_last (NHWC) as Keras does by default`);
    }
    if (this.strides.some((s) => s > 1) && this.dilationRate.some((d) => d > 1)) {
      throw new ValueError(`${owner}: strides > 1 cannot be combined with dilation_rate > 1 (as in Keras)`);
    }
  }

  /** (batch, spatial..., c) -> (batch, out..., channels), or a ShapeError when the kernel does not fit. */
  outputShape(shape: Shape, channels: number): Shape {
    const out: Shape = [shape[0]!];
    this.kernelSize.forEach((k, i) => out.push(convOutputLength(shape[i + 1]!, k, this.padding, this.strides[i]!, this.dilationRate[i]!)));
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

  static readArgs<T extends number[] = [number, number], P extends ConvPadding = Padding>(
    c: ConfigReader,
    args: { strides?: number | T; padding?: P; dilationRate?: number | T },
    rank = 2,
    paddings: readonly P[] = PADDINGS_2D as readonly P[],
  ): number | T {
    const ones = Array<number>(rank).fill(1);
    const kernelSize = c.intTuple('kernel_size');
    args.strides = c.intTuple('strides', ones) as T;
    args.padding = c.string('padding', paddings, paddings[0]!);
    c.channelsLast();
    args.dilationRate = c.intTuple('dilation_rate', ones) as T;
    return (kernelSize.length === 1 ? kernelSize[0]! : kernelSize) as T;
  }
}

const LAYOUTS: Record<number, string> = { 3: '(batch, steps, c)', 4: '(batch, h, w, c)' };

/** The input of a convolution: (batch, spatial..., c) of `rank` with c known and, once built, fixed. */
function checkChannelsInput(layer: Layer & { inputChannelCount: number | null }, shape: Shape, rank = 4): number {
  const channels = shape[rank - 1];
  if (shape.length !== rank) throw new ShapeError(`${layer.name}: expected a ${rank}-D input ${LAYOUTS[rank]}, got ${formatShape(shape)}`);
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
    this.inputChannelCount = checkChannelsInput(this, this.singleInput(inputShapes));
    this.addWeight('depthwise_kernel', [...this.window.kernelSize, this.inputChannelCount, this.depthMultiplier], this.depthwiseInitializer);
    if (this.useBias) this.addWeight('bias', [this.inputChannelCount * this.depthMultiplier], this.biasInitializer);
  }

  computeOutputShapes(inputShapes: Shape[]): Shape[] {
    const shape = this.singleInput(inputShapes);
    return [this.window.outputShape(shape, checkChannelsInput(this, shape) * this.depthMultiplier)];
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
    this.inputChannelCount = checkChannelsInput(this, this.singleInput(inputShapes));
    const depth = this.inputChannelCount * this.depthMultiplier;
    this.addWeight('depthwise_kernel', [...this.window.kernelSize, this.inputChannelCount, this.depthMultiplier], this.depthwiseInitializer);
    this.addWeight('pointwise_kernel', [1, 1, depth, this.filters], this.pointwiseInitializer);
    if (this.useBias) this.addWeight('bias', [this.filters], this.biasInitializer);
  }

  computeOutputShapes(inputShapes: Shape[]): Shape[] {
    const shape = this.singleInput(inputShapes);
    checkChannelsInput(this, shape);
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
