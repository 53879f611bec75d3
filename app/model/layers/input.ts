// InputLayer and Input(): the start of a graph. Input({shape: [64, 64, 3]}) gives a
// SymbolicTensor of shape (None, 64, 64, 3) to apply layers to.
import { ValueError } from '../errors.ts';
import { LIMITS } from '../limits.ts';
import { ConfigReader } from '../keras_format/config_reader.ts';
import { Layer, Node, SymbolicTensor } from '../layer.ts';
import { registerLayer } from '../registry.ts';
import type { Shape } from '../shape.ts';

export interface InputArgs {
  /** Shape of one sample, without the batch dimension. */
  shape?: Shape;
  /** Shape with the batch dimension (Keras's batch_shape / batch_input_shape). */
  batchShape?: Shape;
  batchSize?: number | null;
  name?: string;
  dtype?: 'float32' | 'int32';
}

export class InputLayer extends Layer {
  static override className = 'InputLayer';
  readonly batchShape: Shape;
  /** int32 for token ids fed to an Embedding; float32 otherwise. */
  readonly dtype: 'float32' | 'int32';

  constructor(args: InputArgs) {
    super({ ...(args.name !== undefined ? { name: args.name } : {}) });
    const shape = args.batchShape ?? (args.shape ? [args.batchSize ?? null, ...args.shape] : undefined);
    if (!shape) throw new ValueError(`${this.name}: an Input needs a shape, e.g. Input({shape: [64, 64, 3]})`);
    if (!Array.isArray(shape) || !shape.every((d) => d === null || (Number.isSafeInteger(d) && d > 0 && d <= LIMITS.dimension))) {
      throw new ValueError(`${this.name}: shape dimensions must be integers from 1 to ${LIMITS.dimension} or null, got ${JSON.stringify(shape) ?? String(shape)}`, { layer: this.name, field: 'shape' });
    }
    this.batchShape = [...shape];
    this.dtype = args.dtype ?? 'float32';
    if (this.dtype !== 'float32' && this.dtype !== 'int32') throw new ValueError(`${this.name}: dtype ${JSON.stringify(args.dtype)} is not supported; use float32 or int32`);
    this.built = true;
    this.inboundNodes.push(new Node(this, [], [new SymbolicTensor([...this.batchShape], this, 0, 0)]));
  }

  /** The tensor this layer feeds into the graph. */
  get output(): SymbolicTensor {
    return this.inboundNodes[0]!.outputs[0]!;
  }

  computeOutputShapes(): Shape[] {
    throw new ValueError(`${this.name}: an InputLayer cannot be applied to tensors; use its output`);
  }

  override getConfig(): Record<string, unknown> {
    return { batch_input_shape: [...this.batchShape], dtype: this.dtype, sparse: false, ragged: false, name: this.name };
  }

  static fromConfig(config: Record<string, unknown>): InputLayer {
    const c = new ConfigReader(InputLayer.className, config);
    const batchShape = c.shape('batch_input_shape') ?? c.shape('batch_shape');
    const name = c.optionalString('name');
    const dtype = c.string('dtype', ['float32', 'int32'], 'float32');
    c.unsupported('sparse', [false, null]);
    c.unsupported('ragged', [false, null]);
    c.unsupported('optional', [false, null]);
    c.finish();
    if (!batchShape) throw new ValueError(`${c.where}: config has no "batch_input_shape" (or "batch_shape")`);
    return new InputLayer({ batchShape, dtype, ...(name !== undefined ? { name } : {}) });
  }
}
registerLayer(InputLayer);

/** Keras's Input(): creates an InputLayer and returns its tensor. */
export function Input(args: InputArgs): SymbolicTensor {
  return new InputLayer(args).output;
}
