// `strata bench`: training and inference throughput of the seed CNN (64x64x3 and 28x28x1)
// on the native engine, side by side in the same run with PyTorch on the CPU (training and
// inference) and onnxruntime-node (inference), with the ratios.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadNativeEngine } from '../engine/binding.ts';
import type { Model } from '../model/index.ts';
import { RandomGenerator } from '../model/random.ts';
import { OnnxSession } from '../runtime/session.ts';
import { exportOnnx } from '../translate/to_onnx.ts';
import { DEFAULT_TIMING, samplesPerSecond, type Timing } from './measure.ts';

export interface BenchRow {
  model: string;
  mode: 'train' | 'infer';
  batch: number;
  strata_sps: number;
  reference: string;
  reference_sps: number | null;
  ratio: number | null;
  /** Why the reference has no number (PyTorch missing, say). */
  note?: string;
}

export interface BenchOptions {
  threads: number;
  timing?: Timing;
  /** Print each row as it is measured. */
  onRow?: (row: BenchRow) => void;
}

const TORCH_SCRIPT = fileURLToPath(new URL('../../bench/torch_reference.py', import.meta.url));
const OPENBLAS = '/usr/lib/x86_64-linux-gnu/openblas-openmp';

/**
 * PyTorch set up at its best: glibc keeps freed memory (first-touch page faults are
 * expensive), OpenBLAS instead of Debian's reference BLAS, the same thread count.
 */
function torchThroughput(input: number[], batch: number, mode: 'train' | 'infer', threads: number, timing: Timing): { sps: number | null; reference: string; note?: string } {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    MALLOC_MMAP_THRESHOLD_: '33554432',
    MALLOC_TRIM_THRESHOLD_: '17179869184',
    MALLOC_TOP_PAD_: '268435456',
    OMP_NUM_THREADS: String(threads),
  };
  if (existsSync(OPENBLAS)) env.LD_LIBRARY_PATH = [OPENBLAS, process.env.LD_LIBRARY_PATH].filter(Boolean).join(':');
  const args = [TORCH_SCRIPT, 'throughput', '--input', ...input.map(String), '--batch', String(batch), '--mode', mode, '--threads', String(threads),
    '--steps', String(timing.steps), '--warmup', String(timing.warmup), '--repeats', String(timing.repeats)];
  const result = spawnSync('/usr/bin/python3', args, { env, encoding: 'utf8' });
  if (result.status !== 0) {
    const reason = /No module named '(\w+)'/.exec(result.stderr)?.[1];
    return { sps: null, reference: 'pytorch cpu', note: reason ? `python3-${reason} is not installed (sudo apt-get install python3-torch python3-numpy)` : `PyTorch failed: ${result.stderr.trim().split('\n').pop()}` };
  }
  const row = JSON.parse(result.stdout.trim().split('\n').pop()!) as { samples_per_second: number; reference: string };
  return { sps: row.samples_per_second, reference: row.reference };
}

function randomBatch(shape: number[], rng: RandomGenerator): Float32Array {
  const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
  for (let i = 0; i < data.length; i++) data[i] = rng.uniform();
  return data;
}

export async function runBenchmarks(options: BenchOptions): Promise<BenchRow[]> {
  const timing = options.timing ?? DEFAULT_TIMING;
  const engine = loadNativeEngine();
  const rows: BenchRow[] = [];
  const emit = (row: BenchRow) => {
    rows.push(row);
    options.onRow?.(row);
  };
  const ratio = (a: number, b: number | null) => (b ? a / b : null);
  // The seed models as users define them: the Keras documentation's classifier and its 28x28x1 twin.
  const seeds: Model[] = [(await import('../../examples/product-image-classifier.ts')).default, (await import('../../examples/fashion-mnist-classifier.ts')).default];
  for (const model of seeds) {
    const [h, w, c] = model.inputs[0]!.shape.slice(1) as [number, number, number];
    const onnx = exportOnnx(model);
    const name = `seed_cnn_${h}x${w}x${c}`;
    const rng = new RandomGenerator(7);
    for (const batch of [32, 128]) {
      const session = new engine.TrainingSession(onnx, {
        losses: [{ output: 'output_softmax', kind: 'sparse_categorical_crossentropy' }],
        optimizer: { kind: 'adam' },
        seed: 1,
        numThreads: options.threads,
      });
      const x = { shape: [batch, h, w, c], data: randomBatch([batch, h, w, c], rng) };
      const y = { shape: [batch], data: Int32Array.from({ length: batch }, (_, i) => i % 10) };
      const sps = await samplesPerSecond(() => session.trainStep([x], [y]), batch, timing);
      session.dispose();
      const torch = torchThroughput([h, w, c], batch, 'train', options.threads, timing);
      emit({ model: name, mode: 'train', batch, strata_sps: sps, reference: torch.reference, reference_sps: torch.sps, ratio: ratio(sps, torch.sps), ...(torch.note ? { note: torch.note } : {}) });
    }
    const batch = 128;
    const x = { shape: [batch, h, w, c], data: randomBatch([batch, h, w, c], rng) };
    const session = new engine.TrainingSession(onnx, { losses: [{ output: 'output_softmax', kind: 'sparse_categorical_crossentropy' }], optimizer: { kind: 'adam' }, numThreads: options.threads });
    const sps = await samplesPerSecond(() => session.forward([x]), batch, timing);
    session.dispose();
    const ort = await OnnxSession.create(onnx, { name });
    const ortSps = await samplesPerSecond(() => ort.run({ dtype: 'float32', shape: x.shape, data: x.data }, { batchSize: batch }), batch, timing);
    await ort.release();
    emit({ model: name, mode: 'infer', batch, strata_sps: sps, reference: 'onnxruntime-node cpu', reference_sps: ortSps, ratio: ratio(sps, ortSps) });
    const torch = torchThroughput([h, w, c], batch, 'infer', options.threads, timing);
    emit({ model: name, mode: 'infer', batch, strata_sps: sps, reference: torch.reference, reference_sps: torch.sps, ratio: ratio(sps, torch.sps), ...(torch.note ? { note: torch.note } : {}) });
  }
  return rows;
}
