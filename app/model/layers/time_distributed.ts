// Keras's TimeDistributed wrapper (keras/src/layers/rnn/time_distributed.py): the wrapped layer
// applied to every time step of a (batch, time, ...) input, with the same weights at every step.
// The weights are the wrapped layer's own (a TimeDistributed(Dense) has "kernel" and "bias"), as
// Keras lists them; its config is Keras's {"layer": <the wrapped layer serialized>}.
import { ConfigError, ShapeError, ValueError } from '../errors.ts';
import { ConfigReader } from '../keras_format/config_reader.ts';
import { LAYER_ARG_NAMES, Layer, type LayerArgs, type LayerWeight, type WeightRules } from '../layer.ts';
import { checkOptions } from '../options.ts';
import { getLayerClass, registerLayer } from '../registry.ts';
import { formatShape, type Shape } from '../shape.ts';

/** Class names of layers that hold other layers' graphs: Keras wraps them, Strata does not. */
const MODEL_CLASSES = new Set(['Sequential', 'Functional', 'Model', 'InputLayer']);

export class TimeDistributed extends Layer {
  static override className = 'TimeDistributed';
  readonly layer: Layer;

  constructor(layer: Layer, args: LayerArgs = {}) {
    super(checkOptions('TimeDistributed', args, LAYER_ARG_NAMES, '{name: "frames"}'));
    if (!(layer instanceof Layer)) {
      throw new ValueError(`${this.name}: wraps a layer instance (e.g. new Conv2D(16, 3)), got ${(layer as object | null)?.constructor?.name ?? String(layer)}`, { layer: this.name, field: 'layer' });
    }
    if (MODEL_CLASSES.has(layer.className) || 'layers' in layer) {
      throw new ValueError(`${this.name}: wrapping the model ${layer.name} (${layer.className}) is not supported; wrap each of its layers in a TimeDistributed instead`, { layer: this.name, field: 'layer' });
    }
    if (layer.built || layer.inboundNodes.length > 0) {
      throw new ValueError(`${this.name}: the wrapped layer ${layer.name} is already used in a model; give TimeDistributed a new layer`, { layer: this.name, field: 'layer' });
    }
    this.layer = layer;
  }

  /** (batch, ...) of one time step, as the wrapped layer sees it; the input must be at least (batch, time, x). */
  stepShape(shape: Shape): Shape {
    if (shape.length < 3) {
      throw new ShapeError(`${this.name}: expects an input of at least 3 dimensions (batch, time, ...) whose time steps go to ${this.layer.name} (${this.layer.className}), got ${formatShape(shape)}`, { layer: this.name });
    }
    return [shape[0]!, ...shape.slice(2)];
  }

  override build(inputShapes: Shape[]): void {
    this.layer.build([this.stepShape(this.singleInput(inputShapes))]);
    this.layer.built = true;
  }

  computeOutputShapes(inputShapes: Shape[]): Shape[] {
    const shape = this.singleInput(inputShapes);
    const outputs = this.layer.computeOutputShapes([this.stepShape(shape)]);
    if (outputs.length !== 1) {
      throw new ValueError(`${this.name}: ${this.layer.name} (${this.layer.className}) has ${outputs.length} outputs; TimeDistributed wraps layers of one output`, { layer: this.name, field: 'layer' });
    }
    const [batch, ...rest] = outputs[0]!;
    return [[batch!, shape[1]!, ...rest]];
  }

  override get trainableWeights(): LayerWeight[] {
    return this.trainable ? this.layer.trainableWeights : [];
  }

  override get nonTrainableWeights(): LayerWeight[] {
    return this.trainable ? this.layer.nonTrainableWeights : this.layer.weights;
  }

  override setWeights(values: readonly Float32Array[]): void {
    this.layer.setWeights(values);
    this.weightsVersion++;
  }

  /**
   * The wrapped layer's weight regularizers and constraints. Not its activity_regularizer: Keras 3
   * runs the wrapped layer's call() at each step, which leaves its activity penalty out.
   */
  override get weightRules(): WeightRules | null {
    const rules = this.layer.weightRules;
    if (!rules) return null;
    return { regularizer: (weight) => rules.regularizer(weight), constraint: (weight) => rules.constraint(weight), activityRegularizer: null };
  }

  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), layer: { class_name: this.layer.kerasClassName, config: this.layer.getConfig() } };
  }

  static fromConfig(config: Record<string, unknown>): TimeDistributed {
    const c = new ConfigReader(TimeDistributed.className, config);
    const args = c.layerArgs();
    const spec = c.raw('layer', null) as { class_name?: unknown; config?: unknown } | null;
    c.finish();
    const className = typeof spec?.class_name === 'string' ? spec.class_name : undefined;
    if (className === undefined || typeof spec?.config !== 'object' || spec.config === null) {
      throw new ConfigError(`${c.where}: "layer" must be the wrapped layer, {"class_name": ..., "config": {...}}, got ${JSON.stringify(spec)}`);
    }
    if (MODEL_CLASSES.has(className)) throw new ConfigError(`${c.where}: wrapping a model (${className}) is not supported; wrap each of its layers in a TimeDistributed instead`);
    const Class = getLayerClass(className);
    if (!Class) throw new ConfigError(`${c.where}: the wrapped layer has unsupported class ${JSON.stringify(className)}`);
    return new TimeDistributed(Class.fromConfig(spec.config as Record<string, unknown>), args);
  }
}
registerLayer(TimeDistributed);
