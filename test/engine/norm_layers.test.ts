// The layers of norm21 (issue 21's PReLU; the activations swish and gelu again) on the native
// engine: each one-layer model of test/translate/models.ts's normLayerCases() runs forward on
// the engine as the float64 reference computes it, and a network with PReLU layers trains,
// its slopes coming back to the model in Keras's layout. (Gradients are checked in C++:
// test_session's "PRelu graph" against finite differences and across backends.)
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { EngineBackend, Input, Model, layers, optimizers, setRandomSeed, type ArrayData } from '../../app/node.ts';
import { RandomGenerator } from '../../app/model/random.ts';
import { testForwardMatchesReference } from './forward_matches_reference.ts';
import { randomInputs, referencePredict } from '../reference/keras_forward.ts';
import { relativeError } from '../translate/compare.ts';
import { normLayerCases } from '../translate/models.ts';

const engine = new EngineBackend({ write: () => {} });

const float32 = (shape: number[], data: ArrayLike<number>): ArrayData => ({ dtype: 'float32', shape, data: Float32Array.from(data) });

describe('norm21 layers on the native engine', () => {
  testForwardMatchesReference(engine, normLayerCases(), { weights: 500, batch: 5, inputs: 91 });

  test('a network with PReLU layers trains: the loss falls, the slopes move, and come back in Keras\'s layout', async () => {
    // y = 1 where the mean of the image's first channel is positive
    const n = 192;
    const rng = new RandomGenerator(4);
    const x = Float32Array.from({ length: n * 6 * 6 * 2 }, () => rng.normal());
    const y = Int32Array.from({ length: n }, (_, i) => {
      let sum = 0;
      for (let p = 0; p < 36; p++) sum += x[i * 72 + p * 2]!;
      return sum > 0 ? 1 : 0;
    });
    setRandomSeed(8);
    const image = Input({ shape: [6, 6, 2], name: 'image' });
    let h = new layers.Conv2D(4, 3, { padding: 'same', name: 'conv' }).apply(image);
    h = new layers.PReLU({ sharedAxes: [1, 2], alphaInitializer: { class_name: 'Constant', config: { value: 0.25 } }, name: 'prelu_conv' }).apply(h);
    h = new layers.Dense(8, { name: 'dense' }).apply(new layers.GlobalAveragePooling2D({ name: 'gap' }).apply(h));
    h = new layers.PReLU({ name: 'prelu_dense' }).apply(h);
    const model = new Model({ inputs: image, outputs: new layers.Dense(2, { activation: 'softmax', name: 'probs' }).apply(h), name: 'prelu_net' });
    model.compile({ optimizer: new optimizers.Adam({ learningRate: 0.02 }), loss: 'sparse_categorical_crossentropy', metrics: ['accuracy'] });
    const slopes = () => model.getLayer('prelu_conv').weights[0]!.value.slice();
    const before = slopes();
    const history = await engine.fit(model, [float32([n, 6, 6, 2], x)], [{ dtype: 'int32', shape: [n], data: y }], { epochs: 6, batchSize: 32, seed: 2 });
    const losses = history.history.loss as number[];
    assert.ok(losses.at(-1)! < losses[0]! * 0.8, `loss ${losses.map((l) => l.toFixed(3)).join(' ')}`);
    assert.notDeepEqual(slopes(), before);
    // the trained model's (c, h, w)-stored slopes came back as Keras's (1, 1, c): the engine and the reference agree
    const probe = randomInputs(model, 3, 5);
    const [engineOut] = await engine.predict(model, probe.map((t) => float32(t.shape, t.data)), {});
    assert.ok(relativeError(engineOut!.data as Float32Array, referencePredict(model, probe)[0]!.data) <= 1e-5);
  });
});
