// Keras's keyword arguments as one options object: initializers, losses, optimizers, schedules
// and callbacks take Keras's keyword forms, and refuse any other form with a message that names
// the class and the option, instead of ignoring it (which gave defaults or NaN weights).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  Activation, AveragePooling2D, BatchNormalization, Concatenate, Conv2D, CustomCallback, Dense, Dropout, EarlyStopping, Embedding, GlobalAveragePooling2D,
  MaxPooling2D, ReduceLROnPlateau, Rescaling, Reshape, initializers, losses, optimizers,
} from '../../app/model/index.ts';

const refuses = (make: () => unknown, message: RegExp) => assert.throws(make, (e: Error) => e.name === 'ValueError' && message.test(e.message));

describe("Keras's keyword forms", () => {
  it('initializers take {value}, {minval, maxval, seed}, {mean, stddev, seed}, {scale, mode, distribution, seed} and {seed}', () => {
    assert.deepEqual([...new initializers.Constant({ value: 0.5 }).generate([3])], [0.5, 0.5, 0.5]);
    const uniform = new initializers.RandomUniform({ minval: 2, maxval: 3, seed: 1 }).generate([1000]);
    assert.ok(uniform.every((v) => v >= 2 && v <= 3));
    assert.deepEqual(uniform, new initializers.RandomUniform({ minval: 2, maxval: 3, seed: 1 }).generate([1000]));
    const normal = new initializers.RandomNormal({ mean: 5, stddev: 0.01, seed: 1 }).generate([1000]);
    assert.ok(Math.abs(normal.reduce((a, b) => a + b) / 1000 - 5) < 0.01);
    assert.ok(new initializers.TruncatedNormal({ mean: -1, stddev: 0.1 }).generate([1000]).every((v) => v >= -1.2 && v <= -0.8));
    const scaling = new initializers.VarianceScaling({ scale: 2, mode: 'fan_out', distribution: 'uniform' });
    assert.deepEqual(scaling.getConfig(), { scale: 2, mode: 'fan_out', distribution: 'uniform', seed: null });
    const he = new initializers.HeNormal({ seed: 7 });
    assert.equal(he.className, 'HeNormal');
    assert.deepEqual(he.generate([4, 4]), initializers.getInitializer({ class_name: 'HeNormal', config: { seed: 7 } }).generate([4, 4]));
    assert.equal(new initializers.GlorotUniform().scale, 1);
  });

  it('initializers refuse a bare value, unknown or snake_case keys, and values that would give NaN', () => {
    refuses(() => new initializers.Constant(0.5 as never), /Constant: expected an options object such as \{value: 0.5\}, got 0.5/);
    refuses(() => new initializers.RandomUniform({ min_val: 1 } as never), /RandomUniform: unknown option "min_val"; it takes minval, maxval, seed/);
    refuses(() => new initializers.Constant({ value: '0.5' } as never), /Constant: value must be a finite number, got "0.5"/);
    refuses(() => new initializers.Constant({ value: NaN }), /value must be a finite number, got NaN/);
    refuses(() => new initializers.RandomUniform({ minval: 1, maxval: 0 }), /maxval must be a number >= minval/);
    refuses(() => new initializers.RandomNormal({ stddev: -1 }), /stddev must be a number >= 0/);
    refuses(() => new initializers.HeNormal({ scale: 3 } as never), /HeNormal: unknown option "scale"; it takes seed/);
    refuses(() => new initializers.VarianceScaling({ mode: 'fan_sideways' as never }), /mode must be one of fan_in, fan_out, fan_avg/);
    refuses(() => new initializers.RandomNormal({ seed: 1.5 }), /seed must be an integer or null/);
  });

  it('Keras JSON initializer configs with bad keys or values are ConfigErrors naming the key', () => {
    assert.throws(() => initializers.getInitializer({ class_name: 'Constant', config: { value: 'x' } }, 'dense/kernel_initializer'), (e: Error) => e.name === 'ConfigError' && /dense\/kernel_initializer: Constant: value must be a finite number/.test(e.message));
    assert.throws(() => initializers.getInitializer({ class_name: 'GlorotUniform', config: { gain: 2 } }), (e: Error) => e.name === 'ConfigError' && /unsupported config key "gain"/.test(e.message));
    assert.throws(() => initializers.getInitializer({ class_name: 'Identity', config: {} }), (e: Error) => e.name === 'ConfigError' && /unsupported initializer "Identity"/.test(e.message));
  });

  it('loss classes beside the names, refusing options they do not have', () => {
    const loss = new losses.SparseCategoricalCrossentropy({ fromLogits: true });
    assert.deepEqual(losses.getLoss(loss), { kind: 'sparse_categorical_crossentropy', fromLogits: true });
    assert.deepEqual(losses.getLoss(new losses.MeanSquaredError()), { kind: 'mean_squared_error', fromLogits: false });
    assert.deepEqual(losses.getLoss('CategoricalCrossentropy'), { kind: 'categorical_crossentropy', fromLogits: false });
    refuses(() => new losses.BinaryCrossentropy({ from_logits: true } as never), /unknown option "from_logits" \(did you mean fromLogits\?\)/);
    refuses(() => new losses.BinaryCrossentropy({ labelSmoothing: 0.1 } as never), /BinaryCrossentropy: unknown option "labelSmoothing"; it takes fromLogits/);
    refuses(() => new losses.MeanSquaredError({ fromLogits: true } as never), /MeanSquaredError: unknown option "fromLogits"; it takes no options/);
    refuses(() => losses.getLoss(42 as never), /expected a loss name/);
  });

  it('optimizers, schedules and callbacks refuse a positional learning rate and unknown keys', () => {
    assert.equal(new optimizers.Adam({ learningRate: 0.01 }).learningRate, 0.01);
    refuses(() => new optimizers.Adam(0.001 as never), /Adam: expected an options object such as \{learningRate: 0.001\}, got 0.001/);
    refuses(() => new optimizers.SGD({ lr: 0.1 } as never), /SGD: unknown option "lr"/);
    refuses(() => new optimizers.AdamW({ weight_decay: 0.1 } as never), /AdamW: unknown option "weight_decay" \(did you mean weightDecay\?\)/);
    refuses(() => new optimizers.AdamW({ beta1: 1 }), /AdamW: beta1 must be in \[0, 1\)/);
    refuses(() => new optimizers.RMSprop({ epsilon: 0 }), /RMSprop: epsilon must be positive/);
    refuses(() => new optimizers.schedules.ExponentialDecay({ initialLearningRate: 0.1, decaySteps: 10, decayRate: 0.9, decay_steps: 3 } as never), /ExponentialDecay: unknown option "decay_steps"/);
    refuses(() => new EarlyStopping({ patiance: 2 } as never), /EarlyStopping: unknown option "patiance"/);
    refuses(() => new ReduceLROnPlateau(0.5 as never), /ReduceLROnPlateau: expected an options object/);
    refuses(() => new CustomCallback({ on_epoch_end: () => {} } as never), /did you mean onEpochEnd\?/);
  });

  it("every layer refuses an option it does not know, naming the class, the key and Keras's camelCase spelling", () => {
    refuses(() => new Dense(4, { kernel_initializer: 'ones' } as never), /^Dense: unknown option "kernel_initializer" \(did you mean kernelInitializer\?\); it takes name, .*biasInitializer, kernelRegularizer, .*biasConstraint$/);
    refuses(() => new Conv2D(4, 3, { use_bias: false } as never), /^Conv2D: unknown option "use_bias" \(did you mean useBias\?\)/);
    refuses(() => new MaxPooling2D({ pool_size: 2 } as never), /^MaxPooling2D: unknown option "pool_size" \(did you mean poolSize\?\)/);
    refuses(() => new AveragePooling2D(2, { stride: 2 } as never), /^AveragePooling2D: unknown option "stride"; it takes .*strides/);
    refuses(() => new GlobalAveragePooling2D({ keep_dims: true } as never), /^GlobalAveragePooling2D: unknown option "keep_dims"/);
    refuses(() => new Concatenate({ axes: 1 } as never), /^Concatenate: unknown option "axes"; it takes .*axis$/);
    refuses(() => new BatchNormalization({ momentun: 0.9 } as never), /^BatchNormalization: unknown option "momentun"/);
    refuses(() => new Dropout(0.5, { noise_shape: [1] } as never), /^Dropout: unknown option "noise_shape" \(did you mean noiseShape\?\)/);
    refuses(() => new Embedding(10, 4, { input_length: 5 } as never), /^Embedding: unknown option "input_length" \(did you mean inputLength\?\)/);
    refuses(() => new Rescaling(1 / 255, { offst: 0 } as never), /^Rescaling: unknown option "offst"/);
    refuses(() => new Activation('relu', { activation: 'tanh' } as never), /^Activation: unknown option "activation"/);
    refuses(() => new Reshape([4], { target_shape: [4] } as never), /^Reshape: unknown option "target_shape"/);
    // The forms Keras users write still work.
    new MaxPooling2D(2, { strides: 2, padding: 'same', name: 'p' });
    new Concatenate(-1, { name: 'c' });
    new Dense(3, { activation: 'relu', inputShape: [4], name: 'd' });
  });
});
