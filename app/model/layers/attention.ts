// Keras's Attention layer (Luong-style dot-product attention, or Bahdanau-style "concat"
// scores): [query, value] or [query, value, key] in, softmax(scores) @ value out, as
// tf.keras 2.11's keras/layers/attention/attention.py and base_dense_attention.py define it.
import { ShapeError, ValueError } from '../errors.ts';
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
