// Layers that join branches: Concatenate along an axis, the elementwise Add, Subtract, Multiply,
// Average, Maximum and Minimum, and Dot (batch-wise dot products), with the functional shortcuts
// `concatenate([a, b])`, `add`, `subtract`, `multiply`, `average`, `maximum`, `minimum`, `dot`.
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

/** Subtract and Dot: Keras's "should be called on exactly 2 inputs". */
function expectTwo(layer: Layer, inputShapes: Shape[]): void {
  if (inputShapes.length !== 2) {
    throw new ShapeError(`${layer.name}: a ${layer.className} layer takes exactly 2 inputs, got ${inputShapes.length}`);
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

  /** The subclass's Keras config (the base fields only): `this` is the class it is called on, e.g. Add.fromConfig. */
  static fromConfig<T extends ElementwiseMerge>(this: (new (args: LayerArgs) => T) & { className: string }, config: Record<string, unknown>): T {
    const c = new ConfigReader(this.className, config);
    const args = c.layerArgs();
    c.finish();
    return new this(args);
  }
}

/** The sum of its inputs. */
export class Add extends ElementwiseMerge {
  static override className = 'Add';
}
registerLayer(Add);

/** The elementwise product of its inputs. */
export class Multiply extends ElementwiseMerge {
  static override className = 'Multiply';
}
registerLayer(Multiply);

/** The elementwise mean of its inputs. */
export class Average extends ElementwiseMerge {
  static override className = 'Average';
}
registerLayer(Average);

/** The first input minus the second (exactly two inputs). */
export class Subtract extends ElementwiseMerge {
  static override className = 'Subtract';
  override computeOutputShapes(inputShapes: Shape[]): Shape[] {
    expectTwo(this, inputShapes);
    return super.computeOutputShapes(inputShapes);
  }
}
registerLayer(Subtract);

/** The elementwise maximum of its inputs. */
export class Maximum extends ElementwiseMerge {
  static override className = 'Maximum';
}
registerLayer(Maximum);

/** The elementwise minimum of its inputs. */
export class Minimum extends ElementwiseMerge {
  static override className = 'Minimum';
}
registerLayer(Minimum);

export interface DotArgs extends LayerArgs {
  /** The axis of both inputs, or [axis of the first, axis of the second], summed over; negative counts from the end. */
  axes?: number | [number, number];
  /** L2-normalize each sample along the axes first: the result is the cosine proximity. */
  normalize?: boolean;
}

/**
 * Keras's Dot: the batch-wise dot product of two inputs along `axes` (keras/src/layers/merging/dot.py,
 * batch_dot). The output has the first input's dimensions but the summed one, then the second's
 * past the batch but the summed one: (None, n) . (None, n) -> (None, 1); (None, n, m) . (None, n, k)
 * with axes 1 -> (None, m, k).
 */
export class Dot extends Layer {
  static override className = 'Dot';
  readonly axes: number | [number, number];
  readonly normalize: boolean;

  /** `new Dot(1)`, `new Dot([1, 2], {normalize: true})` or `new Dot({axes, normalize, name})`, as Keras's Dot(axes, normalize=False). */
  constructor(axes: number | [number, number] | DotArgs, args: DotArgs = {}) {
    const given = typeof axes === 'object' && !Array.isArray(axes) ? { ...axes, ...args } : { ...args, axes: axes ?? args.axes };
    const merged = checkOptions('Dot', given, [...LAYER_ARG_NAMES, 'axes', 'normalize'], '{axes: 1, normalize: false}');
    super(merged);
    if (merged.axes === undefined) throw new ValueError(`${this.name}: axes is required (an integer, or a pair for the two inputs), as in Keras's Dot(axes)`);
    const pair = Array.isArray(merged.axes) && merged.axes.length === 2 && merged.axes.every(Number.isInteger);
    if (!Number.isInteger(merged.axes) && !pair) {
      throw new ValueError(`${this.name}: axes must be an integer or a pair of integers [axis of the first input, axis of the second], got ${JSON.stringify(merged.axes)}`);
    }
    this.axes = Array.isArray(merged.axes) ? [merged.axes[0], merged.axes[1]] : merged.axes;
    this.normalize = merged.normalize ?? false;
    if (typeof this.normalize !== 'boolean') throw new ValueError(`${this.name}: normalize must be true or false, got ${JSON.stringify(this.normalize)}`);
  }

  /** The summed axis of each input, counted from 0 (the batch): Keras's negative axes taken modulo the rank. */
  resolvedAxes(shapes: Shape[]): [number, number] {
    const [a, b] = Array.isArray(this.axes) ? this.axes : [this.axes, this.axes];
    return [a, b].map((axis, i) => {
      const rank = shapes[i]!.length;
      const resolved = axis < 0 ? axis + rank : axis;
      if (resolved <= 0 || resolved >= rank) {
        throw new ShapeError(`${this.name}: axis ${axis} is not a feature axis of input ${i} of shape ${formatShape(shapes[i]!)} (axes count from 1, or from the end when negative; the batch axis 0 cannot be summed)`);
      }
      return resolved;
    }) as [number, number];
  }

  computeOutputShapes(inputShapes: Shape[]): Shape[] {
    expectTwo(this, inputShapes);
    const [x, y] = inputShapes as [Shape, Shape];
    if (x.length < 2 || y.length < 2) throw new ShapeError(`${this.name}: Dot needs inputs of rank 2 or more (a batch and features), got ${formatShape(x)} and ${formatShape(y)}`);
    const [a, b] = this.resolvedAxes(inputShapes);
    if (x[a] !== null && y[b] !== null && x[a] !== y[b]) {
      throw new ShapeError(`${this.name}: the summed axes differ in size: ${formatShape(x)} axis ${a} has ${x[a]}, ${formatShape(y)} axis ${b} has ${y[b]}`);
    }
    if (x[0] !== null && y[0] !== null && x[0] !== y[0]) throw new ShapeError(`${this.name}: the inputs' batch sizes differ: ${formatShape(x)} and ${formatShape(y)}`);
    const out: Shape = [x[0] ?? y[0]!, ...x.filter((_, i) => i !== 0 && i !== a), ...y.filter((_, i) => i !== 0 && i !== b)];
    return [out.length === 1 ? [out[0]!, 1] : out];
  }

  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), axes: Array.isArray(this.axes) ? [...this.axes] : this.axes, normalize: this.normalize };
  }

  static fromConfig(config: Record<string, unknown>): Dot {
    const c = new ConfigReader(Dot.className, config);
    const args: DotArgs = c.layerArgs();
    const axes = c.raw('axes', undefined);
    args.axes = axes as DotArgs['axes'];
    args.normalize = c.boolean('normalize', false);
    c.finish();
    return new Dot(args);
  }
}
registerLayer(Dot);

/** Functional shortcut: `concatenate([a, b], {axis, name})`. */
export function concatenate(inputs: SymbolicTensor[], args: ConcatenateArgs = {}): SymbolicTensor {
  return new Concatenate(args).apply(inputs);
}

/** An elementwise merge's functional shortcut: `add([a, b], {name})` is `new Add({name}).apply([a, b])`. */
function shortcut(Merge: new (args: LayerArgs) => ElementwiseMerge): (inputs: SymbolicTensor[], args?: LayerArgs) => SymbolicTensor {
  return (inputs, args = {}) => new Merge(args).apply(inputs);
}

/** Functional shortcut: `add([a, b], {name})`. */
export const add = shortcut(Add);

/** Functional shortcut: `multiply([a, b], {name})`. */
export const multiply = shortcut(Multiply);

/** Functional shortcut: `average([a, b], {name})`. */
export const average = shortcut(Average);

/** Functional shortcut: `subtract([a, b], {name})`. */
export const subtract = shortcut(Subtract);

/** Functional shortcut: `maximum([a, b], {name})`. */
export const maximum = shortcut(Maximum);

/** Functional shortcut: `minimum([a, b], {name})`. */
export const minimum = shortcut(Minimum);

/** Functional shortcut: `dot([a, b], {axes, normalize, name})`; axes defaults to -1, as keras.layers.dot's. */
export function dot(inputs: SymbolicTensor[], args: DotArgs = {}): SymbolicTensor {
  return new Dot({ ...args, axes: args.axes ?? -1 }).apply(inputs);
}
