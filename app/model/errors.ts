// Errors the model API raises for bad input. Each message names the layer, field or shape at
// fault and, where there is one, the fix (as TensorFlow.js's "use the functional API").
// The `name` field is what the CLI keys on to print a one-line message instead of a stack.

/** A bad argument or a wrong model structure. */
export class ValueError extends Error {
  override name = 'ValueError';
}

/** A tensor shape that a layer cannot accept. */
export class ShapeError extends Error {
  override name = 'ShapeError';
}

/** A Keras JSON config that Strata cannot read (unknown class, unknown or unsupported key). */
export class ConfigError extends Error {
  override name = 'ConfigError';
}
