// The activations a layer can name, with Keras's identifiers. The math lives with each
// backend (ONNX translation, native engine); here they are names to check and serialize.
import { ValueError } from './errors.ts';

export const ACTIVATIONS = ['linear', 'relu', 'sigmoid', 'tanh', 'softmax', 'elu', 'selu', 'gelu', 'leaky_relu', 'swish', 'softplus', 'hard_sigmoid', 'relu6'] as const;
export type ActivationName = (typeof ACTIVATIONS)[number];

/** Other spellings Keras accepts for the same function. */
const ALIASES: Record<string, ActivationName> = { silu: 'swish', None: 'linear' };

/** Checks an activation identifier; `null`/undefined is Keras's "no activation" (linear). */
export function getActivation(identifier: string | null | undefined, owner: string): ActivationName {
  if (identifier === null || identifier === undefined) return 'linear';
  const name = ALIASES[identifier] ?? identifier;
  if (!(ACTIVATIONS as readonly string[]).includes(name)) {
    throw new ValueError(`${owner}: unknown activation ${JSON.stringify(identifier)}; supported: ${ACTIVATIONS.join(', ')}`);
  }
  return name as ActivationName;
}
