// What Dense and Conv2D share in Keras's config: an activation, use_bias, kernel and bias
// initializers, and regularizer/constraint keys that Strata writes as null and reads only
// when unset.
import { serializeInitializer, type Initializer, type InitializerIdentifier } from '../initializers.ts';
import type { ConfigReader } from '../keras_format/config_reader.ts';

export interface KernelLayerArgs {
  activation?: string | null;
  useBias?: boolean;
  kernelInitializer?: InitializerIdentifier;
  biasInitializer?: InitializerIdentifier;
}

/** KernelLayerArgs's keys, for the layers' option checks. */
export const KERNEL_OPTIONS: readonly string[] = ['activation', 'useBias', 'kernelInitializer', 'biasInitializer'];

const UNSUPPORTED_KEYS = ['kernel_regularizer', 'bias_regularizer', 'activity_regularizer', 'kernel_constraint', 'bias_constraint', 'lora_rank'];

/** The shared config fields, in tf.keras's order. */
export function kernelLayerConfig(layer: { activation: string; useBias: boolean; kernelInitializer: Initializer; biasInitializer: Initializer }): Record<string, unknown> {
  return {
    activation: layer.activation,
    use_bias: layer.useBias,
    kernel_initializer: serializeInitializer(layer.kernelInitializer),
    bias_initializer: serializeInitializer(layer.biasInitializer),
    kernel_regularizer: null,
    bias_regularizer: null,
    activity_regularizer: null,
    kernel_constraint: null,
    bias_constraint: null,
  };
}

/** Reads the shared fields into `args`. */
export function readKernelLayerArgs(c: ConfigReader, args: KernelLayerArgs): void {
  args.activation = c.optionalString('activation') ?? null;
  args.useBias = c.boolean('use_bias', true);
  const kernelInitializer = c.initializer('kernel_initializer');
  if (kernelInitializer) args.kernelInitializer = kernelInitializer;
  const biasInitializer = c.initializer('bias_initializer');
  if (biasInitializer) args.biasInitializer = biasInitializer;
  for (const key of UNSUPPORTED_KEYS) c.unsupported(key);
}
