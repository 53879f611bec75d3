// Permute and RepeatVector: layers that only move or copy values (no weights).
import { ShapeError, ValueError, assertPositiveInteger } from '../errors.ts';
import { ConfigReader } from '../keras_format/config_reader.ts';
import { LAYER_ARG_NAMES, Layer, type LayerArgs } from '../layer.ts';
import { checkOptions } from '../options.ts';
import { registerLayer } from '../registry.ts';
import { formatShape, type Shape } from '../shape.ts';

/**
 * Keras's Permute: reorders the axes after the batch; `dims` holds 1-based axis indices, a
 * permutation of 1..n, e.g. [2, 1] swaps a sequence's steps and features.
 */
export class Permute extends Layer {
  static override className = 'Permute';
  readonly dims: number[];

  constructor(dims: number[], args: LayerArgs = {}) {
    super(checkOptions('Permute', args, LAYER_ARG_NAMES, "{name: 'permute'}"));
    const sorted = Array.isArray(dims) ? [...dims].sort((a, b) => a - b) : [];
    if (sorted.length === 0 || !sorted.every((d, i) => d === i + 1)) {
      throw new ValueError(`${this.name}: dims must be a permutation of [1, ..., n] (1-based axes after the batch), got ${JSON.stringify(dims) ?? String(dims)}`, { layer: this.name, field: 'dims' });
    }
    this.dims = [...dims];
  }

  computeOutputShapes(inputShapes: Shape[]): Shape[] {
    const shape = this.singleInput(inputShapes);
    if (shape.length !== this.dims.length + 1) {
      throw new ShapeError(`${this.name}: dims ${JSON.stringify(this.dims)} permute ${this.dims.length} axes, but the input ${formatShape(shape)} has ${shape.length - 1} after the batch`);
    }
    return [[shape[0]!, ...this.dims.map((d) => shape[d]!)]];
  }

  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), dims: [...this.dims] };
  }

  static fromConfig(config: Record<string, unknown>): Permute {
    const c = new ConfigReader(Permute.className, config);
    const args = c.layerArgs();
    const dims = c.intTuple('dims');
    c.finish();
    return new Permute(dims, args);
  }
}
registerLayer(Permute);

/** Keras's RepeatVector: (batch, features) -> (batch, n, features), n copies of each row. */
export class RepeatVector extends Layer {
  static override className = 'RepeatVector';
  readonly n: number;

  constructor(n: number, args: LayerArgs = {}) {
    super(checkOptions('RepeatVector', args, LAYER_ARG_NAMES, "{name: 'repeat'}"));
    assertPositiveInteger(n, 'n', this.name);
    this.n = n;
  }

  computeOutputShapes(inputShapes: Shape[]): Shape[] {
    const shape = this.singleInput(inputShapes);
    this.expectRank(shape, 2, '(batch, features)');
    return [[shape[0]!, this.n, shape[1]!]];
  }

  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), n: this.n };
  }

  static fromConfig(config: Record<string, unknown>): RepeatVector {
    const c = new ConfigReader(RepeatVector.className, config);
    const args = c.layerArgs();
    const n = c.number('n');
    c.finish();
    return new RepeatVector(n, args);
  }
}
registerLayer(RepeatVector);
