// What Dense and Conv2D share in Keras's config: an activation, use_bias, kernel and bias
// initializers, the kernel's and bias's regularizers and constraints and the output's activity
// regularizer (regularizers.ts; the engine applies them in training).
import { serializeInitializer, type Initializer, type InitializerIdentifier } from '../initializers.ts';
import type { ConfigReader } from '../keras_format/config_reader.ts';
import type { WeightRules } from '../layer.ts';
import { getConstraint, serializeConstraint, type Constraint, type ConstraintIdentifier } from '../constraints.ts';
import { getRegularizer, serializeRegularizer, type Regularizer, type RegularizerIdentifier, type SerializedObject } from '../regularizers.ts';

export interface KernelLayerArgs {
  activation?: string | null;
  useBias?: boolean;
  kernelInitializer?: InitializerIdentifier;
  biasInitializer?: InitializerIdentifier;
  /** l1 * sum(|kernel|) + l2 * sum(kernel^2) joins the loss: 'l1', 'l2', regularizers.l2(0.01), ... */
  kernelRegularizer?: RegularizerIdentifier | null;
  biasRegularizer?: RegularizerIdentifier | null;
  /** The penalty on the layer's output (over the batch) joins the loss. */
  activityRegularizer?: RegularizerIdentifier | null;
  /** Applied to the kernel after each optimizer step: 'max_norm', 'non_neg', 'unit_norm', constraints.maxNorm({maxValue: 3}), ... */
  kernelConstraint?: ConstraintIdentifier | null;
  biasConstraint?: ConstraintIdentifier | null;
}

/** KernelLayerArgs's keys, for the layers' option checks. */
export const KERNEL_OPTIONS: readonly string[] = [
  'activation', 'useBias', 'kernelInitializer', 'biasInitializer', 'kernelRegularizer', 'biasRegularizer', 'activityRegularizer', 'kernelConstraint', 'biasConstraint',
];

/** A kernel layer's regularizers and constraints, checked. */
export class KernelRules implements WeightRules {
  readonly kernelRegularizer: Regularizer | null;
  readonly biasRegularizer: Regularizer | null;
  readonly activityRegularizer: Regularizer | null;
  readonly kernelConstraint: Constraint | null;
  readonly biasConstraint: Constraint | null;

  constructor(args: KernelLayerArgs, owner: string) {
    this.kernelRegularizer = getRegularizer(args.kernelRegularizer, `${owner}.kernel_regularizer`);
    this.biasRegularizer = getRegularizer(args.biasRegularizer, `${owner}.bias_regularizer`);
    this.activityRegularizer = getRegularizer(args.activityRegularizer, `${owner}.activity_regularizer`);
    this.kernelConstraint = getConstraint(args.kernelConstraint, `${owner}.kernel_constraint`);
    this.biasConstraint = getConstraint(args.biasConstraint, `${owner}.bias_constraint`);
  }

  regularizer(weight: string): Regularizer | null {
    return weight === 'kernel' ? this.kernelRegularizer : weight === 'bias' ? this.biasRegularizer : null;
  }

  constraint(weight: string): Constraint | null {
    return weight === 'kernel' ? this.kernelConstraint : weight === 'bias' ? this.biasConstraint : null;
  }
}

const UNSUPPORTED_KEYS = ['lora_rank'];

/** The shared config fields, in tf.keras's order. */
export function kernelLayerConfig(layer: { activation: string; useBias: boolean; kernelInitializer: Initializer; biasInitializer: Initializer; rules: KernelRules }): Record<string, unknown> {
  const { rules } = layer;
  return {
    activation: layer.activation,
    use_bias: layer.useBias,
    kernel_initializer: serializeInitializer(layer.kernelInitializer),
    bias_initializer: serializeInitializer(layer.biasInitializer),
    kernel_regularizer: serializeRegularizer(rules.kernelRegularizer),
    bias_regularizer: serializeRegularizer(rules.biasRegularizer),
    activity_regularizer: serializeRegularizer(rules.activityRegularizer),
    kernel_constraint: serializeConstraint(rules.kernelConstraint),
    bias_constraint: serializeConstraint(rules.biasConstraint),
  };
}

/** A regularizer or constraint as a config holds it: null, a name, or {"class_name", "config"}. */
function serializedObject(c: ConfigReader, key: string): string | SerializedObject | null {
  const value = c.raw(key, null);
  if (value === null || typeof value === 'string') return value;
  if (typeof value === 'object' && !Array.isArray(value) && typeof (value as SerializedObject).class_name === 'string') {
    // Keras 3 adds "module" and "registered_name" beside class_name and config.
    const { class_name, config } = value as SerializedObject;
    return { class_name, config: config ?? {} };
  }
  return c.fail(key, 'null, a name or {"class_name", "config"}', value);
}

/** Reads the shared fields into `args`. */
export function readKernelLayerArgs(c: ConfigReader, args: KernelLayerArgs): void {
  args.activation = c.optionalString('activation') ?? null;
  args.useBias = c.boolean('use_bias', true);
  const kernelInitializer = c.initializer('kernel_initializer');
  if (kernelInitializer) args.kernelInitializer = kernelInitializer;
  const biasInitializer = c.initializer('bias_initializer');
  if (biasInitializer) args.biasInitializer = biasInitializer;
  args.kernelRegularizer = serializedObject(c, 'kernel_regularizer');
  args.biasRegularizer = serializedObject(c, 'bias_regularizer');
  args.activityRegularizer = serializedObject(c, 'activity_regularizer');
  args.kernelConstraint = serializedObject(c, 'kernel_constraint');
  args.biasConstraint = serializedObject(c, 'bias_constraint');
  for (const key of UNSUPPORTED_KEYS) c.unsupported(key);
}
