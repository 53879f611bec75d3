// Embedding: integer token ids (batch, steps) -> vectors (batch, steps, output_dim).
import { ShapeError, assertPositiveInteger } from '../errors.ts';
import { getInitializer, serializeInitializer, type Initializer, type InitializerIdentifier } from '../initializers.ts';
import { ConfigReader } from '../keras_format/config_reader.ts';
import { LAYER_ARG_NAMES, Layer, type LayerArgs } from '../layer.ts';
import { checkOptions } from '../options.ts';
import { registerLayer } from '../registry.ts';
import { formatShape, type Shape } from '../shape.ts';

export interface EmbeddingArgs extends LayerArgs {
  embeddingsInitializer?: InitializerIdentifier;
  /** tf.keras 2.x: fixes the sequence length of the input. */
  inputLength?: number | null;
}

export class Embedding extends Layer {
  static override className = 'Embedding';
  readonly inputDim: number;
  readonly outputDim: number;
  readonly inputLength: number | null;
  readonly embeddingsInitializer: Initializer;

  constructor(inputDim: number, outputDim: number, args: EmbeddingArgs = {}) {
    super(checkOptions('Embedding', args, [...LAYER_ARG_NAMES, 'embeddingsInitializer', 'inputLength'], '{inputLength: 100}'));
    assertPositiveInteger(inputDim, 'input_dim', this.name);
    assertPositiveInteger(outputDim, 'output_dim', this.name);
    if (args.inputLength !== undefined && args.inputLength !== null) assertPositiveInteger(args.inputLength, 'input_length', this.name);
    this.inputDim = inputDim;
    this.outputDim = outputDim;
    this.inputLength = args.inputLength ?? null;
    this.embeddingsInitializer = getInitializer(args.embeddingsInitializer ?? 'uniform', `${this.name}.embeddings_initializer`);
  }

  override build(): void {
    this.addWeight('embeddings', [this.inputDim, this.outputDim], this.embeddingsInitializer);
  }

  computeOutputShapes(inputShapes: Shape[]): Shape[] {
    const shape = this.singleInput(inputShapes);
    if (shape.length < 1) throw new ShapeError(`${this.name}: expected an input (batch, steps) of token ids, got ${formatShape(shape)}`);
    const out = [...shape, this.outputDim];
    if (this.inputLength !== null && shape.length === 2) {
      if (shape[1] !== null && shape[1] !== this.inputLength) {
        throw new ShapeError(`${this.name}: input_length is ${this.inputLength}, got an input of shape ${formatShape(shape)}`);
      }
      out[1] = this.inputLength;
    }
    return [out];
  }

  override getConfig(): Record<string, unknown> {
    const config: Record<string, unknown> = {
      ...super.getConfig(),
      input_dim: this.inputDim,
      output_dim: this.outputDim,
      embeddings_initializer: serializeInitializer(this.embeddingsInitializer),
      embeddings_regularizer: null,
      activity_regularizer: null,
      embeddings_constraint: null,
      mask_zero: false,
    };
    if (this.inputLength !== null) config.input_length = this.inputLength;
    return config;
  }

  static fromConfig(config: Record<string, unknown>): Embedding {
    const c = new ConfigReader(Embedding.className, config);
    const args: EmbeddingArgs = c.layerArgs();
    const inputDim = c.number('input_dim');
    const outputDim = c.number('output_dim');
    const initializer = c.initializer('embeddings_initializer');
    if (initializer) args.embeddingsInitializer = initializer;
    args.inputLength = c.optionalNumber('input_length') ?? null;
    for (const key of ['embeddings_regularizer', 'activity_regularizer', 'embeddings_constraint', 'lora_rank']) c.unsupported(key);
    c.unsupported('mask_zero', [false, null]);
    c.unsupported('sparse', [false, null]);
    c.finish();
    return new Embedding(inputDim, outputDim, args);
  }
}
registerLayer(Embedding);
