// strata bench's rows, measured with one step each (the numbers are not checked: speed
// belongs to the benchmark run, not to tests; the shape of the report is).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { benchModels, runBenchmarks } from '../../app/bench/run.ts';
import { TorchWorker } from '../../app/bench/torch_worker.ts';
import { countParams } from '../../app/model/index.ts';
import { median, pairedRates } from '../../app/bench/measure.ts';

test('median of repetitions', () => {
  assert.equal(median([3, 1, 2]), 2);
  assert.equal(median([4, 1, 3, 2]), 2.5);
});

test('paired rates alternate a b, b a, ... and take the median of the per-pair ratios', async () => {
  const calls: string[] = [];
  // a's rate doubles every call; b's is 10: the machine "speeds up" under a alone
  let aRate = 10;
  const a = async () => (calls.push('a'), (aRate *= 2));
  const b = async () => (calls.push('b'), 10);
  const p = await pairedRates(a, b, 5);
  assert.deepEqual(calls, ['a', 'b', 'b', 'a', 'a', 'b', 'b', 'a', 'a', 'b']);
  assert.deepEqual([p.a, p.b, p.ratio, p.ratioMin, p.ratioMax], [80, 10, 8, 2, 32]);
});

test('every row names the model, mode, batch, both rates and their ratio (or why the reference has none)', async () => {
  const rows = await runBenchmarks({ threads: 1, timing: { warmup: 0, steps: 1, repeats: 2 } });
  const keys = rows.map((r) => `${r.model} ${r.mode} ${r.batch} ${r.reference.split(' ')[0]}`);
  assert.deepEqual(keys, [
    'seed_cnn_64x64x3 train 32 pytorch', 'seed_cnn_64x64x3 train 128 pytorch', 'seed_cnn_64x64x3 infer 128 onnxruntime-node', 'seed_cnn_64x64x3 infer 128 pytorch',
    'seed_cnn_28x28x1 train 32 pytorch', 'seed_cnn_28x28x1 train 128 pytorch', 'seed_cnn_28x28x1 infer 128 onnxruntime-node', 'seed_cnn_28x28x1 infer 128 pytorch',
    'mobilenet_style_32x32x3 train 32 pytorch', 'mobilenet_style_32x32x3 train 128 pytorch', 'mobilenet_style_32x32x3 infer 128 onnxruntime-node', 'mobilenet_style_32x32x3 infer 128 pytorch',
    'lstm_sequence_classifier train 32 pytorch', 'lstm_sequence_classifier train 128 pytorch',
  ]);
  for (const row of rows) {
    assert.ok(row.strata_sps > 0);
    if (row.reference_sps === null) assert.match(row.note ?? '', /not installed|failed/);
    else assert.ok(row.ratio! > 0 && row.ratio_min! <= row.ratio! && row.ratio! <= row.ratio_max!);
  }
});

test('PyTorch\'s twin of each benchmarked model has the Keras model\'s trainable parameter count', async (t) => {
  const torch = await TorchWorker.start(1);
  if (typeof torch === 'string') return t.skip(torch);
  try {
    for (const { name, model, torchModel } of await benchModels()) {
      const input = model.inputs[0]!.shape.slice(1) as number[];
      assert.equal(await torch.parameterCount(torchModel, input), countParams(model).trainable, name);
    }
  } finally {
    torch.close();
  }
});
