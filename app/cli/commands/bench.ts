// strata bench [--json] [--threads N] [--device cpu|cuda]: training and inference throughput
// of the seed CNN, the MobileNet-style example and (training) the LSTM example on the native
// engine, beside PyTorch on the same device and (on the CPU) onnxruntime-node, measured in the
// same run.
import type { Command } from 'commander';
import os from 'node:os';
import type { BenchRow } from '../../bench/run.ts';
import { chooseDevice } from '../../engine/device.ts';
import { loadNativeEngine } from '../../engine/binding.ts';
import { UserError } from '../errors.ts';
import { fixedThreadCount } from '../flags.ts';

function formatRow(row: BenchRow): string {
  const rate = (v: number | null) => (v === null ? '-' : v.toFixed(0).padStart(8));
  const ratio = row.ratio === null ? `  (${row.note ?? 'no reference'})` : `  ${row.ratio.toFixed(2)}x`;
  return `${row.model.padEnd(20)} ${row.mode.padEnd(6)} ${String(row.batch).padStart(5)} ${rate(row.strata_sps)} ${rate(row.reference_sps)}  ${row.reference.padEnd(24)}${ratio}`;
}

export function registerBench(program: Command): void {
  program
    .command('bench')
    .description('training and inference throughput (samples/s) of the seed CNN, the MobileNet-style example and (training) the LSTM example, beside PyTorch and onnxruntime-node')
    .option('--json', 'one JSON object per row')
    .option('--threads <n>', 'threads for every contender (default: all cores)', fixedThreadCount)
    .option('--device <device>', 'cpu or cuda (PyTorch with cuDNN on the same GPU as the reference)', 'cpu')
    .option('--model <prefix>', 'only the models whose name starts with it: seed_cnn, seed_cnn_64x64x3, seed_cnn_28x28x1, mobilenet_style, lstm')
    .action(async (options: { json?: boolean; threads?: number; device: string; model?: string }) => {
      const threads = options.threads ?? os.availableParallelism();
      if (options.device !== 'cpu' && options.device !== 'cuda') throw new UserError(`--device must be cpu or cuda, got '${options.device}'`);
      const device = chooseDevice(options.device, loadNativeEngine).backend;
      const { benchModels, runBenchmarks } = await import('../../bench/run.ts'); // loads onnxruntime only for this command
      await benchModels(options.model); // a --model that names none is refused before the table starts
      if (!options.json) {
        const where = device === 'cuda' ? 'on the GPU' : `${threads} thread(s)`;
        process.stdout.write(`Throughput, ${where}; run on an idle machine.\n`);
        process.stdout.write(`${'model'.padEnd(20)} ${'mode'.padEnd(6)} ${'batch'.padStart(5)} ${'strata'.padStart(8)} ${'ref'.padStart(8)}  ${'reference'.padEnd(24)}  strata/ref\n`);
      }
      await runBenchmarks({
        threads,
        device,
        ...(options.model !== undefined ? { model: options.model } : {}),
        onRow: (row) => process.stdout.write(options.json ? `${JSON.stringify(row)}\n` : `${formatRow(row)}\n`),
      });
    });
}
