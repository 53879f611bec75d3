// Layers that join branches: Concatenate along an axis, and the elementwise Add, Multiply and
// Average, with the functional shortcuts `concatenate([a, b])`, `add`, `multiply`, `average`.
import { ShapeError, ValueError } from '../errors.ts';
import { ConfigReader } from '../keras_format/config_reader.ts';
import { LAYER_ARG_NAMES, Layer, type LayerArgs, type SymbolicTensor } from '../layer.ts';
import { checkOptions } from '../options.ts';
import { registerLayer } from '../registry.ts';
import { formatShape, type Dim, type Shape } from '../shape.ts';

function expectSeveral(layer: Layer, inputShapes: Shape[]): void {
  if (inputShapes.length < 2) {
    throw new ShapeError(`${layer.name}: expects a list of at least 2 inputs, got ${inputShapes.length}`);
  }
}

export interface ConcatenateArgs extends LayerArgs {
  axis?: number;
}

export class Concatenate extends Layer {
  static override className = 'Concatenate';
  readonly axis: number;

  /** `new Concatenate()`, `new Concatenate(-1, {name})` or `new Concatenate({axis, name})`, as Keras's Concatenate(axis=-1). */
  constructor(axis?: number | ConcatenateArgs, args: ConcatenateArgs = {}) {
    const merged = checkOptions('Concatenate', typeof axis === 'object' ? { ...axis, ...args } : { ...args, axis: axis ?? args.axis }, [...LAYER_ARG_NAMES, 'axis'], '{axis: -1}');
    super(merged);
    this.axis = merged.axis ?? -1;
    if (!Number.isInteger(this.axis)) throw new ValueError(`${this.name}: axis must be an integer, got ${this.axis}`);
  }

  computeOutputShapes(inputShapes: Shape[]): Shape[] {
    expectSeveral(this, inputShapes);
    const rank = inputShapes[0]!.length;
    const axis = this.axis < 0 ? rank + this.axis : this.axis;
    const listed = inputShapes.map(formatShape).join(', ');
    if (axis <= 0 || axis >= rank) throw new ShapeError(`${this.name}: axis ${this.axis} is not a feature axis of inputs of rank ${rank}: ${listed}`);
    const out: Shape = [...inputShapes[0]!];
    for (const shape of inputShapes.slice(1)) {
      const compatible = shape.length === rank && shape.every((d, i) => i === axis || d === null || out[i] === null || d === out[i]);
      if (!compatible) {
        throw new ShapeError(`${this.name}: inputs must match in every dimension but the concatenation axis (${this.axis}), got ${listed}`);
      }
      out[axis] = out[axis] === null || shape[axis] === null ? null : out[axis]! + shape[axis]!;
    }
    return [out];
  }

  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), axis: this.axis };
  }

  static fromConfig(config: Record<string, unknown>): Concatenate {
    const c = new ConfigReader(Concatenate.className, config);
    const args: ConcatenateArgs = c.layerArgs();
    args.axis = c.number('axis', -1);
    c.finish();
    return new Concatenate(args);
  }
}
registerLayer(Concatenate);

/** Keras's broadcasting rule for elementwise merges: equal sizes, or one of them 1. */
function broadcastDim(a: Dim, b: Dim): Dim | undefined {
  if (a === 1) return b;
  if (b === 1) return a;
  if (a === null || b === null) return a ?? b;
  return a === b ? a : undefined;
}

/**
 * Merges that combine their inputs elementwise (Add, Multiply, Average): inputs of one rank
 * whose sizes match or are 1, as Keras's Merge._compute_elementwise_op_output_shape.
 */
export abstract class ElementwiseMerge extends Layer {
  computeOutputShapes(inputShapes: Shape[]): Shape[] {
    expectSeveral(this, inputShapes);
    let out: Shape = [...inputShapes[0]!];
    for (const shape of inputShapes.slice(1)) {
      const mismatch = () => new ShapeError(`${this.name}: inputs must have the same shape, got ${inputShapes.map(formatShape).join(', ')}`);
      if (shape.length !== out.length) throw mismatch();
      out = out.map((d, i) => {
        const dim = i === 0 ? (d ?? shape[0]!) : broadcastDim(d, shape[i]!);
        if (dim === undefined) throw mismatch();
        return dim;
      });
    }
    return [out];
  }

  protected static readArgs(className: string, config: Record<string, unknown>): LayerArgs {
    const c = new ConfigReader(className, config);
    const args = c.layerArgs();
    c.finish();
    return args;
  }
}

/** The sum of its inputs. */
export class Add extends ElementwiseMerge {
  static override className = 'Add';
  static fromConfig(config: Record<string, unknown>): Add {
    return new Add(ElementwiseMerge.readArgs(Add.className, config));
  }
}
registerLayer(Add);

/** The elementwise product of its inputs. */
export class Multiply extends ElementwiseMerge {
  static override className = 'Multiply';
  static fromConfig(config: Record<string, unknown>): Multiply {
    return new Multiply(ElementwiseMerge.readArgs(Multiply.className, config));
  }
}
registerLayer(Multiply);

/** The elementwise mean of its inputs. */
export class Average extends ElementwiseMerge {
  static override className = 'Average';
  static fromConfig(config: Record<string, unknown>): Average {
    return new Average(ElementwiseMerge.readArgs(Average.className, config));
  }
}
registerLayer(Average);

/** Functional shortcut: `concatenate([a, b], {axis, name})`. */
export function concatenate(inputs: SymbolicTensor[], args: ConcatenateArgs = {}): SymbolicTensor {
  return new Concatenate(args).apply(inputs);
}

/** Functional shortcut: `add([a, b], {name})`. */
export function add(inputs: SymbolicTensor[], args: LayerArgs = {}): SymbolicTensor {
  return new Add(args).apply(inputs);
}

/** Functional shortcut: `multiply([a, b], {name})`. */
export function multiply(inputs: SymbolicTensor[], args: LayerArgs = {}): SymbolicTensor {
  return new Multiply(args).apply(inputs);
}

/** Functional shortcut: `average([a, b], {name})`. */
export function average(inputs: SymbolicTensor[], args: LayerArgs = {}): SymbolicTensor {
  return new Average(args).apply(inputs);
}
