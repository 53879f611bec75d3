// Layer arguments and configs a user could get wrong, through the API and through Keras JSON:
// each is a ValueError (or a LimitError for sizes beyond LIMITS) naming the layer and the
// argument, never a RangeError or a stack overflow from deep inside.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  Conv2D, Dense, Embedding, Input, LimitError, LIMITS, MaxPooling2D, Model, Rescaling, Sequential, StrataUserError, ValueError, modelFromJSON, summaryData, renderSummary,
} from '../../app/model/index.ts';

function refused(run: () => unknown, Kind: typeof StrataUserError, pattern: RegExp): void {
  assert.throws(run, (error: Error) => {
    assert.ok(error instanceof Kind, `${error.name}: ${error.message}`);
    assert.match(error.message, pattern);
    return true;
  });
}

/** A Sequential Keras JSON with one layer of `className` and `config` after an input of `inputShape`. */
function oneLayerJson(className: string, config: Record<string, unknown>, inputShape: (number | null)[]): string {
  const layers = [
    { class_name: 'InputLayer', config: { batch_input_shape: inputShape, name: 'in' } },
    { class_name: className, config: { name: 'bad', ...config } },
  ];
  return JSON.stringify({ class_name: 'Sequential', config: { name: 's', layers } });
}

describe('layer arguments', () => {
  test('Conv2D kernel_size and strides must be positive integers, from code and from JSON', () => {
    for (const kernelSize of [0, [0, 0], [3, -1], [1.5, 1], Number.NaN, [3]] as const) {
      refused(() => new Conv2D(4, kernelSize as [number, number], { name: 'c' }), ValueError, /^c: kernel_size must be a positive integer or a tuple of 2 positive integers/);
    }
    refused(() => new Conv2D(4, 3, { strides: 0, name: 'c' }), ValueError, /^c: strides must be/);
    refused(() => new Conv2D(4, 3, { dilationRate: [1, 0], name: 'c' }), ValueError, /^c: dilation_rate must be/);
    refused(() => new Conv2D(0, 3, { name: 'c' }), ValueError, /^c: filters must be a positive integer, got 0/);
    refused(() => modelFromJSON(oneLayerJson('Conv2D', { filters: 2, kernel_size: [0, 0] }, [null, 8, 8, 1])), ValueError, /bad: kernel_size must be/);
    refused(() => modelFromJSON(oneLayerJson('Conv2D', { filters: 2, kernel_size: [3, 3], strides: [0, 0] }, [null, 8, 8, 1])), ValueError, /bad: strides must be/);
    refused(() => modelFromJSON(oneLayerJson('MaxPooling2D', { pool_size: [0, 2] }, [null, 8, 8, 1])), ValueError, /bad: pool_size must be/);
    for (const strides of [0, [1, 0]] as const) refused(() => new MaxPooling2D([2, 2], { strides: strides as number, name: 'p' }), ValueError, /^p: strides must be/);
  });

  test('sizes must be positive integers', () => {
    for (const units of [0, -1, 1.5, Number.NaN, '3' as unknown as number]) refused(() => new Dense(units, { name: 'd' }), ValueError, /^d: units must be a positive integer/);
    refused(() => new Embedding(0, 4, { name: 'e' }), ValueError, /^e: input_dim must be a positive integer, got 0/);
    refused(() => new Embedding(10, 4, { name: 'e', inputLength: -2 }), ValueError, /^e: input_length must be a positive integer/);
    refused(() => Input({ shape: [-3], name: 'i' }), ValueError, /^i: shape dimensions must be integers from 1 to/);
    refused(() => Input({ shape: [1e300], name: 'i' }), ValueError, /^i: shape dimensions/);
    refused(() => new Dense(2, { inputShape: 4 as unknown as number[], name: 'd' }), ValueError, /^d: inputShape must be a list of dimensions, got 4/);
    refused(() => new Rescaling(1, { offset: Number.NaN, name: 'r' }), ValueError, /^r: offset must be a finite number/);
  });

  test('a weight beyond the limit names the layer, the weight and its shape, before allocating', () => {
    refused(() => new Sequential([new Dense(1_000_000, { inputShape: [100_000], name: 'wide' })]), LimitError, /^wide: weight "kernel" of shape \(100000, 1000000\) would hold 100,000,000,000 values, more than the 268,435,456/);
    refused(() => modelFromJSON(oneLayerJson('Embedding', { input_dim: 1e9, output_dim: 64 }, [null, 4])), LimitError, /bad: weight "embeddings" of shape \(1000000000, 64\)/);
  });
});

describe('models nested in models', () => {
  const nest = (levels: number): Model => {
    let model: Model = new Sequential([new Dense(2, { inputShape: [2] })]);
    for (let i = 1; i < levels; i++) model = new Sequential([model]);
    return model;
  };

  test(`${LIMITS.nestingDepth} levels work; one more is a LimitError, not a stack overflow`, () => {
    assert.equal(nest(LIMITS.nestingDepth).nestingDepth, LIMITS.nestingDepth);
    refused(() => nest(LIMITS.nestingDepth + 1), LimitError, new RegExp(`models nested ${LIMITS.nestingDepth + 1} deep; Strata takes at most ${LIMITS.nestingDepth} levels`));
  });

  test('10,000 nested models in Keras JSON are refused at the limit', () => {
    let json = '{"class_name":"Sequential","config":{"name":"m0","layers":[{"class_name":"Dense","config":{"units":2,"batch_input_shape":[null,2],"name":"d"}}]}}';
    for (let i = 1; i < 10_000; i++) json = `{"class_name":"Sequential","config":{"name":"m${i}","layers":[${json}]}}`;
    refused(() => modelFromJSON(json, 'deep.json'), LimitError, /^deep\.json: model "m9899" is nested 101 models deep; Strata reads at most 100 levels/);
  });
});

describe('summary()', () => {
  test('lineLength must be within the range the table can be drawn in', () => {
    const data = summaryData(new Sequential([new Dense(2, { inputShape: [2] })]));
    for (const lineLength of [0, -5, 39, 1001, 100_000_000, 1.5, Number.NaN]) refused(() => renderSummary(data, { lineLength }), ValueError, /lineLength must be an integer from 40 to 1000/);
    assert.match(renderSummary(data, { lineLength: 40 }), /Total params: 6/);
  });
});
