// Keras's Attention layer (Luong-style dot-product attention, or Bahdanau-style "concat"
// scores): [query, value] or [query, value, key] in, softmax(scores) @ value out, as
// tf.keras 2.11's keras/layers/attention/attention.py and base_dense_attention.py define it;
// MultiHeadAttention as keras/layers/attention/multi_head_attention.py.
import { ShapeError, ValueError, assertPositiveInteger } from '../errors.ts';
import { getInitializer, serializeInitializer, type Initializer, type InitializerIdentifier } from '../initializers.ts';
import { ConfigReader } from '../keras_format/config_reader.ts';
import { LAYER_ARG_NAMES, Layer, type CallKwargs, type LayerArgs } from '../layer.ts';
import { checkNumber, checkOptions } from '../options.ts';
import { registerLayer } from '../registry.ts';
import { formatShape, type Shape } from '../shape.ts';

export interface AttentionArgs extends LayerArgs {
  /** Multiplies the scores by a trained scalar `scale` (default false). */
  useScale?: boolean;
  /** 'dot': query . key; 'concat': sum(tanh(query + key)) (default 'dot'). */
  scoreMode?: 'dot' | 'concat';
  /** The fraction of attention weights dropped while training (default 0). */
  dropout?: number;
  /** Keras 2.x's deprecated `causal`: every call masks the future, as use_causal_mask does. */
  causal?: boolean;
}

export const SCORE_MODES = ['dot', 'concat'] as const;

/**
 * scores = query @ key^T (times `scale`), or concat_score_weight * sum(tanh(query + key))
 * over the features (with `scale` inside the tanh); positions j > i masked with -1e9 when
 * the call asks for a causal mask; weights = softmax(scores) over the value steps;
 * output = weights @ value, and the weights as a second output when asked for.
 */
export class Attention extends Layer {
  static override className = 'Attention';
  static override callArguments = { useCausalMask: 'use_causal_mask', returnAttentionScores: 'return_attention_scores' };
  readonly useScale: boolean;
  readonly scoreMode: 'dot' | 'concat';
  readonly dropout: number;
  readonly causal: boolean;

  constructor(args: AttentionArgs = {}) {
    super(checkOptions('Attention', args, [...LAYER_ARG_NAMES, 'useScale', 'scoreMode', 'dropout', 'causal'], "{scoreMode: 'dot'}"));
    this.useScale = args.useScale ?? false;
    this.scoreMode = args.scoreMode ?? 'dot';
    if (!SCORE_MODES.includes(this.scoreMode)) throw new ValueError(`${this.name}: score_mode must be "dot" or "concat", got ${JSON.stringify(this.scoreMode)}`);
    this.dropout = checkNumber(this.name, 'dropout', args.dropout ?? 0, (n) => n >= 0 && n < 1, 'a number in [0, 1)');
    this.causal = args.causal ?? false;
  }

  /** Whether a call with these kwargs masks the future. */
  isCausal(kwargs: CallKwargs): boolean {
    return this.causal || kwargs.use_causal_mask === true;
  }

  override build(inputShapes: Shape[]): void {
    this.checkInputs(inputShapes);
    if (this.useScale) this.addWeight('scale', [], 'ones');
    if (this.scoreMode === 'concat') this.addWeight('concat_score_weight', [], 'ones');
  }

  /** [query, value, key?]: 3-D, one batch, value and key with the same steps, query and key with the same features. */
  private checkInputs(inputShapes: Shape[]): [Shape, Shape, Shape] {
    if (inputShapes.length < 2 || inputShapes.length > 3) {
      throw new ShapeError(`${this.name}: takes a list of 2 or 3 inputs, [query, value] or [query, value, key]; got ${inputShapes.length}: ${inputShapes.map(formatShape).join(', ')}`);
    }
    const [query, value, key = value] = inputShapes as [Shape, Shape, Shape?];
    const names = ['query', 'value', 'key'];
    inputShapes.forEach((shape, i) => {
      if (shape.length !== 3) throw new ShapeError(`${this.name}: ${names[i]} must be 3-D (batch, steps, features), got ${formatShape(shape)}`);
    });
    const differ = (a: number | null, b: number | null) => a !== null && b !== null && a !== b;
    if (differ(key[1]!, value[1]!)) throw new ShapeError(`${this.name}: key ${formatShape(key)} and value ${formatShape(value)} must have the same steps`);
    if (differ(query[2]!, key[2]!)) throw new ShapeError(`${this.name}: query ${formatShape(query)} and key ${formatShape(key)} must have the same features`);
    return [query, value, key];
  }

  computeOutputShapes(inputShapes: Shape[], kwargs: CallKwargs = {}): Shape[] {
    const [query, value] = this.checkInputs(inputShapes);
    const output: Shape = [query[0]!, query[1]!, value[2]!];
    return kwargs.return_attention_scores ? [output, [query[0]!, query[1]!, value[1]!]] : [output];
  }

  override getConfig(): Record<string, unknown> {
    const config: Record<string, unknown> = { ...super.getConfig(), dropout: this.dropout, use_scale: this.useScale, score_mode: this.scoreMode };
    if (this.causal) config.causal = true;
    return config;
  }

  static fromConfig(config: Record<string, unknown>): Attention {
    const c = new ConfigReader(Attention.className, config);
    const args: AttentionArgs = c.layerArgs();
    args.useScale = c.boolean('use_scale', false);
    args.scoreMode = c.string('score_mode', SCORE_MODES, 'dot');
    args.dropout = c.number('dropout', 0);
    args.causal = c.boolean('causal', false);
    c.finish();
    return new Attention(args);
  }
}
registerLayer(Attention);

export interface MultiHeadAttentionArgs extends LayerArgs {
  /** Each head's size for values (default keyDim). */
  valueDim?: number | null;
  /** The fraction of attention weights dropped while training (default 0). */
  dropout?: number;
  useBias?: boolean;
  /** The output's features (default: the query's). */
  outputShape?: number | [number] | null;
  /** Keras's attention_axes: only the default (the steps axis of a 3-D input, null) is supported. */
  attentionAxes?: null;
  kernelInitializer?: InitializerIdentifier;
  biasInitializer?: InitializerIdentifier;
}

const MULTI_HEAD_OPTIONS = [...LAYER_ARG_NAMES, 'valueDim', 'dropout', 'useBias', 'outputShape', 'attentionAxes', 'kernelInitializer', 'biasInitializer'];

/**
 * Keras's MultiHeadAttention over 3-D [query, value] or [query, value, key]: per head,
 * softmax((query Wq + bq) / sqrt(key_dim) . (key Wk + bk)) @ (value Wv + bv), the heads'
 * results projected by the output kernel. Weights as Keras's EinsumDense layers hold them:
 * query/kernel (query features, heads, key_dim) and query/bias (heads, key_dim), key/...,
 * value/... (heads, value_dim), attention_output/kernel (heads, value_dim, output features).
 */
export class MultiHeadAttention extends Layer {
  static override className = 'MultiHeadAttention';
  static override callArguments = { useCausalMask: 'use_causal_mask', returnAttentionScores: 'return_attention_scores' };
  /** tf.keras 2.x writes the value and key tensors as kwargs of the call on the query. */
  static override tensorCallArguments = ['value', 'key'];
  readonly numHeads: number;
  readonly keyDim: number;
  readonly valueDim: number;
  readonly dropout: number;
  readonly useBias: boolean;
  readonly outputShape: number | null;
  readonly kernelInitializer: Initializer;
  readonly biasInitializer: Initializer;
  /** The shapes it was built for: query, value, key (tf.keras 2.x writes them to the config). */
  private builtShapes: [Shape, Shape, Shape] | null = null;

  constructor(numHeads: number, keyDim: number, args: MultiHeadAttentionArgs = {}) {
    super(checkOptions('MultiHeadAttention', args, MULTI_HEAD_OPTIONS, '{valueDim: 16}'));
    assertPositiveInteger(numHeads, 'num_heads', this.name);
    assertPositiveInteger(keyDim, 'key_dim', this.name);
    this.numHeads = numHeads;
    this.keyDim = keyDim;
    this.valueDim = args.valueDim ?? keyDim;
    assertPositiveInteger(this.valueDim, 'value_dim', this.name);
    this.dropout = checkNumber(this.name, 'dropout', args.dropout ?? 0, (n) => n >= 0 && n < 1, 'a number in [0, 1)');
    this.useBias = args.useBias ?? true;
    const outputShape = Array.isArray(args.outputShape) && args.outputShape.length === 1 ? args.outputShape[0] : args.outputShape;
    if (outputShape !== undefined && outputShape !== null && !(Number.isInteger(outputShape) && (outputShape as number) > 0)) {
      throw new ValueError(`${this.name}: output_shape must be a positive integer (the output's features) or null, got ${JSON.stringify(args.outputShape)}`);
    }
    this.outputShape = (outputShape as number | undefined) ?? null;
    if (args.attentionAxes !== undefined && args.attentionAxes !== null) {
      throw new ValueError(`${this.name}: attention_axes ${JSON.stringify(args.attentionAxes)} is not supported; Strata attends over the steps axis of 3-D inputs (attention_axes=None)`);
    }
    this.kernelInitializer = getInitializer(args.kernelInitializer ?? 'glorot_uniform', `${this.name}.kernel_initializer`);
    this.biasInitializer = getInitializer(args.biasInitializer ?? 'zeros', `${this.name}.bias_initializer`);
  }

  /** [query, value, key?], 3-D with known features, value and key with the same steps. */
  private checkInputs(inputShapes: Shape[]): [Shape, Shape, Shape] {
    if (inputShapes.length < 2 || inputShapes.length > 3) {
      throw new ShapeError(`${this.name}: takes a list of 2 or 3 inputs, [query, value] or [query, value, key]; got ${inputShapes.length}: ${inputShapes.map(formatShape).join(', ')}`);
    }
    const [query, value, key = value] = inputShapes as [Shape, Shape, Shape?];
    ['query', 'value', 'key'].slice(0, inputShapes.length).forEach((name, i) => {
      const shape = inputShapes[i]!;
      if (shape.length !== 3 || shape[2] === null) throw new ShapeError(`${this.name}: ${name} must be 3-D (batch, steps, features) with known features, got ${formatShape(shape)}`);
    });
    if (key[1] !== null && value[1] !== null && key[1] !== value[1]) throw new ShapeError(`${this.name}: key ${formatShape(key)} and value ${formatShape(value)} must have the same steps`);
    if (this.builtShapes) {
      [query, value, key].forEach((shape, i) => {
        if (shape[2] !== this.builtShapes![i]![2]) throw new ShapeError(`${this.name}: built for ${['query', 'value', 'key'][i]} features ${this.builtShapes![i]![2]}, got ${formatShape(shape)}`);
      });
    }
    return [query, value, key];
  }

  /** The output's features: output_shape, or the query's. */
  get outputFeatures(): number {
    return this.outputShape ?? (this.builtShapes![0][2] as number);
  }

  override build(inputShapes: Shape[]): void {
    const [query, value, key] = this.checkInputs(inputShapes);
    this.builtShapes = [[...query], [...value], [...key]];
    const projection = (name: string, features: number, size: number) => {
      this.addWeight(`${name}/kernel`, [features, this.numHeads, size], this.kernelInitializer);
      if (this.useBias) this.addWeight(`${name}/bias`, [this.numHeads, size], this.biasInitializer);
    };
    projection('query', query[2] as number, this.keyDim);
    projection('key', key[2] as number, this.keyDim);
    projection('value', value[2] as number, this.valueDim);
    this.addWeight('attention_output/kernel', [this.numHeads, this.valueDim, this.outputFeatures], this.kernelInitializer);
    if (this.useBias) this.addWeight('attention_output/bias', [this.outputFeatures], this.biasInitializer);
  }

  computeOutputShapes(inputShapes: Shape[], kwargs: CallKwargs = {}): Shape[] {
    const [query, value] = this.checkInputs(inputShapes);
    const output: Shape = [query[0]!, query[1]!, this.outputShape ?? query[2]!];
    return kwargs.return_attention_scores ? [output, [query[0]!, this.numHeads, query[1]!, value[1]!]] : [output];
  }

  override getConfig(): Record<string, unknown> {
    const config: Record<string, unknown> = {
      ...super.getConfig(),
      num_heads: this.numHeads,
      key_dim: this.keyDim,
      value_dim: this.valueDim,
      dropout: this.dropout,
      use_bias: this.useBias,
      output_shape: this.outputShape,
      attention_axes: null,
      kernel_initializer: serializeInitializer(this.kernelInitializer),
      bias_initializer: serializeInitializer(this.biasInitializer),
      kernel_regularizer: null,
      bias_regularizer: null,
      activity_regularizer: null,
      kernel_constraint: null,
      bias_constraint: null,
    };
    if (this.builtShapes) [config.query_shape, config.value_shape, config.key_shape] = this.builtShapes.map((s) => [...s]);
    return config;
  }

  static fromConfig(config: Record<string, unknown>): MultiHeadAttention {
    const c = new ConfigReader(MultiHeadAttention.className, config);
    const args: MultiHeadAttentionArgs = c.layerArgs();
    const numHeads = c.number('num_heads');
    const keyDim = c.number('key_dim');
    args.valueDim = c.optionalNumber('value_dim') ?? null;
    args.dropout = c.number('dropout', 0);
    args.useBias = c.boolean('use_bias', true);
    args.outputShape = c.raw('output_shape', null) as MultiHeadAttentionArgs['outputShape'];
    args.attentionAxes = c.raw('attention_axes', null) as null;
    for (const key of ['kernel_initializer', 'bias_initializer'] as const) {
      const init = c.initializer(key);
      if (init) args[key === 'kernel_initializer' ? 'kernelInitializer' : 'biasInitializer'] = init;
    }
    for (const key of ['kernel_regularizer', 'bias_regularizer', 'activity_regularizer', 'kernel_constraint', 'bias_constraint']) c.unsupported(key);
    // tf.keras 2.x records the shapes it was built for; the connected inputs give them again.
    for (const key of ['query_shape', 'key_shape', 'value_shape']) c.shape(key);
    c.unsupported('seed');
    c.finish();
    return new MultiHeadAttention(numHeads, keyDim, args);
  }
}
registerLayer(MultiHeadAttention);
