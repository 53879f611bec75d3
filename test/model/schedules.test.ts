// Keras's learning-rate schedules: each formula at known steps, Keras's config round trip
// through an optimizer's training_config, and the rule that a schedule's rate cannot be set.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { optimizers } from '../../app/model/index.ts';
import { optimizerFromConfig } from '../../app/model/optimizers.ts';

const { CosineDecay, ExponentialDecay, InverseTimeDecay, PiecewiseConstantDecay } = optimizers.schedules;

function close(actual: number, expected: number, what: string) {
  assert.ok(Math.abs(actual - expected) <= 1e-12 * Math.max(1, Math.abs(expected)), `${what}: ${actual}, expected ${expected}`);
}

describe('learning-rate schedules (keras.optimizers.schedules)', () => {
  test('PiecewiseConstantDecay keeps values[k] up to and including boundaries[k], as Keras\'s step <= boundary', () => {
    const s = new PiecewiseConstantDecay({ boundaries: [100, 110], values: [1, 0.5, 0.1] });
    assert.deepEqual([0, 100, 101, 110, 111, 10_000].map((step) => s.at(step)), [1, 1, 0.5, 0.5, 0.1, 0.1]);
    assert.throws(() => new PiecewiseConstantDecay({ boundaries: [10], values: [1] }), /values needs one more entry than boundaries; got 1 values for 1 boundaries/);
    assert.throws(() => new PiecewiseConstantDecay({ boundaries: [10, 5], values: [1, 2, 3] }), /boundaries must increase, got \[10,5\]/);
  });

  test('ExponentialDecay and InverseTimeDecay, smooth and staircase', () => {
    const e = new ExponentialDecay({ initialLearningRate: 0.1, decaySteps: 100, decayRate: 0.96 });
    close(e.at(0), 0.1, 'exponential at 0');
    close(e.at(150), 0.1 * 0.96 ** 1.5, 'exponential at 150');
    close(new ExponentialDecay({ initialLearningRate: 0.1, decaySteps: 100, decayRate: 0.96, staircase: true }).at(150), 0.096, 'staircase at 150');
    const i = new InverseTimeDecay({ initialLearningRate: 0.1, decaySteps: 1, decayRate: 0.5 });
    close(i.at(3), 0.1 / 2.5, 'inverse time at 3');
    close(new InverseTimeDecay({ initialLearningRate: 0.1, decaySteps: 2, decayRate: 0.5, staircase: true }).at(3), 0.1 / 1.5, 'staircase at 3');
    assert.throws(() => new ExponentialDecay({ initialLearningRate: 0.1, decaySteps: 0, decayRate: 0.9 }), /ExponentialDecay: decaySteps must be a positive number, got 0/);
  });

  test('CosineDecay: half-way, the floor alpha after decaySteps, and the linear warm-up first', () => {
    const c = new CosineDecay({ initialLearningRate: 1e-3, decaySteps: 1000, alpha: 0.1 });
    close(c.at(0), 1e-3, 'at 0');
    close(c.at(500), 1e-3 * (0.9 * 0.5 + 0.1), 'half-way');
    close(c.at(5000), 1e-4, 'after decaySteps');
    const w = new CosineDecay({ initialLearningRate: 0, decaySteps: 100, warmupTarget: 0.01, warmupSteps: 10 });
    close(w.at(5), 0.005, 'warm-up half-way');
    close(w.at(10), 0.01, 'warm-up done');
    close(w.at(60), 0.005, 'decay half-way from the warm-up target');
    close(w.at(1000), 0, 'the end, alpha 0');
  });

  test('an optimizer serializes its schedule as Keras does and reads it back; its rate follows the step count and cannot be set', () => {
    const adam = new optimizers.Adam({ learningRate: new PiecewiseConstantDecay({ boundaries: [3], values: [1e-3, 1e-4] }) });
    const config = adam.getConfig();
    assert.deepEqual(config.learning_rate, {
      module: 'keras.optimizers.schedules',
      class_name: 'PiecewiseConstantDecay',
      config: { boundaries: [3], values: [1e-3, 1e-4], name: 'PiecewiseConstantDecay' },
      registered_name: null,
    });
    const back = optimizerFromConfig('Adam', JSON.parse(JSON.stringify(config)));
    assert.equal(back.schedule?.className, 'PiecewiseConstantDecay');
    assert.deepEqual(back.getConfig(), config);
    assert.equal(back.learningRate, 1e-3);
    back.variables = { iterations: 4, slots: {} };
    assert.equal(back.learningRate, 1e-4, 'the rate of the step after 4 steps');
    assert.throws(() => (back.learningRate = 0.5), /Adam: its learning rate is a PiecewiseConstantDecay schedule, so it cannot be set/);
    assert.throws(() => optimizerFromConfig('Adam', { learning_rate: { class_name: 'OneCycle', config: {} } }), /unsupported learning-rate schedule "OneCycle"; supported: /);
    assert.throws(() => optimizerFromConfig('Adam', { learning_rate: { class_name: 'CosineDecay', config: { decay_steps: 10 } } }), /CosineDecay: config.initial_learning_rate must be a number, got undefined/);
  });
});
