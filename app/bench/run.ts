// `strata bench`: training and inference throughput of the seed CNN (64x64x3 and 28x28x1) and
// the MobileNet-style example (32x32x3), and training throughput of the LSTM example, on the
// native engine, side by side in the same run with PyTorch on the same device (training and
// inference) and, on the CPU, onnxruntime-node (inference), with the ratios.
// Each row alternates repetitions of Strata and its reference (measure.ts).
import { loadNativeEngine } from '../engine/binding.ts';
import { Dense, Embedding, LSTM, Rescaling, type Model } from '../model/index.ts';
import { RandomGenerator } from '../model/random.ts';
import { OnnxSession } from '../runtime/session.ts';
import { exportOnnx } from '../translate/to_onnx.ts';
import { DEFAULT_TIMING, median, pairedRates, repetitionRate, warmUp, type Timing } from './measure.ts';
import { TorchWorker } from './torch_worker.ts';
import { ValueError } from '../model/errors.ts';

export interface BenchRow {
  model: string;
  mode: 'train' | 'infer';
  batch: number;
  /** median samples per second over the repetitions */
  strata_sps: number;
  reference: string;
  reference_sps: number | null;
  /** median of strata/reference over the alternating pairs of repetitions */
  ratio: number | null;
  ratio_min?: number;
  ratio_max?: number;
  /** Why the reference has no number (PyTorch missing, say). */
  note?: string;
}

export interface BenchOptions {
  threads: number;
  /** The engine's backend and PyTorch's device. */
  device?: 'cpu' | 'cuda';
  timing?: Timing;
  /** Only the models whose name starts with this (seed_cnn, seed_cnn_28x28x1, mobilenet_style, ...). */
  model?: string;
  /** Print each row as it is measured. */
  onRow?: (row: BenchRow) => void;
}

function randomBatch(shape: number[], rng: RandomGenerator): Float32Array {
  const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
  for (let i = 0; i < data.length; i++) data[i] = rng.uniform();
  return data;
}

type Step = () => Promise<unknown>;
interface Reference {
  name: string;
  /** one repetition's rate; null when the reference cannot run */
  rate: (() => Promise<number>) | null;
  warmUp: () => Promise<void>;
  note?: string;
}

/** One row: Strata's step against a reference, alternating repetitions. */
async function measureRow(step: Step, batch: number, reference: Reference, timing: Timing) {
  const strata = () => repetitionRate(step, batch, timing.steps);
  await warmUp(step, timing.warmup);
  if (!reference.rate) {
    const rates: number[] = [];
    for (let r = 0; r < timing.repeats; r++) rates.push(await strata());
    return { strata_sps: median(rates), reference: reference.name, reference_sps: null, ratio: null, ...(reference.note ? { note: reference.note } : {}) };
  }
  await reference.warmUp();
  const p = await pairedRates(strata, reference.rate, timing.repeats);
  return { strata_sps: p.a, reference: reference.name, reference_sps: p.b, ratio: p.ratio, ratio_min: p.ratioMin, ratio_max: p.ratioMax };
}

/** Strata's inference against onnxruntime-node's on the CPU, on the same batch. */
async function measureOnnxRuntime(onnx: Uint8Array, name: string, step: Step, x: { shape: number[]; data: Float32Array }, timing: Timing) {
  const batch = x.shape[0]!;
  const ort = await OnnxSession.create(onnx, { name });
  try {
    const ortStep = () => ort.run({ dtype: 'float32', shape: x.shape, data: x.data }, { batchSize: batch });
    const onnxruntime: Reference = { name: 'onnxruntime-node cpu', rate: () => repetitionRate(ortStep, batch, timing.steps), warmUp: () => warmUp(ortStep, timing.warmup) };
    return await measureRow(step, batch, onnxruntime, timing);
  } finally {
    await ort.release();
  }
}

/** A benchmarked model: PyTorch's twin of it in bench/torch_reference.py is named `torchModel`. */
interface BenchModel {
  name: string;
  model: Model;
  torchModel: 'seed_cnn' | 'mobilenet_style';
}

/** The seed models as users define them (the Keras documentation's classifier and its 28x28x1 twin) and the MobileNet-style example. */
export async function benchModels(prefix = ''): Promise<BenchModel[]> {
  const seeds: Model[] = [(await import('../../examples/product-image-classifier.ts')).default, (await import('../../examples/fashion-mnist-classifier.ts')).default];
  const mobilenet = (await import('../../examples/mobilenet-style.ts')).default;
  const size = (model: Model) => (model.inputs[0]!.shape.slice(1) as number[]).join('x');
  const all: BenchModel[] = [
    ...seeds.map((model) => ({ name: `seed_cnn_${size(model)}`, model, torchModel: 'seed_cnn' as const })),
    { name: `mobilenet_style_${size(mobilenet)}`, model: mobilenet, torchModel: 'mobilenet_style' },
  ];
  const chosen = all.filter((m) => m.name.startsWith(prefix));
  if (chosen.length === 0 && !LSTM_ROWS.startsWith(prefix)) {
    throw new ValueError(`--model ${prefix}: no benchmarked model's name starts with it (${[...all.map((m) => m.name), LSTM_ROWS].join(', ')})`);
  }
  return chosen;
}

/** The LSTM example's rows: training only, on token ids (lstmRows). */
const LSTM_ROWS = 'lstm_sequence_classifier';

/**
 * examples/lstm-sequence-classifier.ts (Embedding, LSTM, Dense) trained on random tokens beside
 * PyTorch's Embedding, nn.LSTM and Linear (bench/torch_reference.py LstmClassifier).
 */
async function lstmRows(options: BenchOptions, timing: Timing, torch: TorchWorker | string, device: 'cpu' | 'cuda', emit: (row: BenchRow) => void): Promise<void> {
  const model: Model = (await import('../../examples/lstm-sequence-classifier.ts')).default;
  const steps = model.inputs[0]!.shape[1] as number;
  const embedding = model.layers.find((l) => l instanceof Embedding) as Embedding;
  const lstm = model.layers.find((l) => l instanceof LSTM) as LSTM;
  const output = model.outputs[0]!.sourceLayer as Dense;
  const shape = { vocab: embedding.inputDim, embed: embedding.outputDim, units: lstm.units, classes: output.units };
  const onnx = exportOnnx(model);
  const rng = new RandomGenerator(7);
  const engine = loadNativeEngine();
  for (const batch of [32, 128]) {
    const session = new engine.TrainingSession(onnx, {
      losses: [{ output: output.name, kind: 'sparse_categorical_crossentropy' }],
      optimizer: { kind: 'adam' },
      seed: 1,
      numThreads: options.threads,
      backend: device,
    });
    const x = { shape: [batch, steps], data: Float32Array.from({ length: batch * steps }, () => Math.floor(rng.uniform() * shape.vocab)) };
    const y = { shape: [batch], data: Int32Array.from({ length: batch }, (_, i) => i % shape.classes) };
    const reference: Reference =
      typeof torch === 'string'
        ? { name: `pytorch ${device}`, rate: null, warmUp: async () => {}, note: torch }
        : (() => {
            const request = { input: [steps], batch, mode: 'train' as const, steps: timing.steps, warmup: timing.warmup, lstm: shape };
            return { name: torch.reference, rate: () => torch.rate(request), warmUp: async () => void (await torch.rate({ ...request, steps: 1 })) };
          })();
    const row = await measureRow(() => session.trainStep([x], [y]), batch, reference, timing);
    session.dispose();
    emit({ model: LSTM_ROWS, mode: 'train', batch, ...row });
  }
}

export async function runBenchmarks(options: BenchOptions): Promise<BenchRow[]> {
  const timing = options.timing ?? DEFAULT_TIMING;
  const engine = loadNativeEngine();
  const rows: BenchRow[] = [];
  const emit = (row: BenchRow) => {
    rows.push(row);
    options.onRow?.(row);
  };
  const device = options.device ?? 'cpu';
  const torch = await TorchWorker.start(options.threads, device);
  const pytorch = ({ model, torchModel }: BenchModel, batch: number, mode: 'train' | 'infer'): Reference => {
    if (typeof torch === 'string') return { name: `pytorch ${device}`, rate: null, warmUp: async () => {}, note: torch };
    const input = model.inputs[0]!.shape.slice(1) as number[];
    // the Fashion-MNIST example standardizes its input in a first Rescaling layer: PyTorch's model gets the same
    const first = model.layers[0];
    const rescale = first instanceof Rescaling ? [first.scale, first.offset] : undefined;
    const request = { model: torchModel, input, batch, mode, steps: timing.steps, warmup: timing.warmup, rescale };
    // the worker builds and warms up a configuration on its first request
    return { name: torch.reference, rate: () => torch.rate(request), warmUp: async () => void (await torch.rate({ ...request, steps: 1 })) };
  };
  try {
    for (const bench of await benchModels(options.model)) {
      const { model, name } = bench;
      const inputShape = model.inputs[0]!.shape.slice(1) as number[];
      const onnx = exportOnnx(model);
      const rng = new RandomGenerator(7);
      const newSession = () =>
        new engine.TrainingSession(onnx, {
          losses: [{ output: model.outputs[0]!.sourceLayer.name, kind: 'sparse_categorical_crossentropy' }],
          optimizer: { kind: 'adam' },
          seed: 1,
          numThreads: options.threads,
          backend: device,
        });
      // a GPU needs larger batches to fill it
      for (const batch of device === 'cuda' ? [32, 128, 512] : [32, 128]) {
        const session = newSession();
        const x = { shape: [batch, ...inputShape], data: randomBatch([batch, ...inputShape], rng) };
        const y = { shape: [batch], data: Int32Array.from({ length: batch }, (_, i) => i % 10) };
        const row = await measureRow(() => session.trainStep([x], [y]), batch, pytorch(bench, batch, 'train'), timing);
        session.dispose();
        emit({ model: name, mode: 'train', batch, ...row });
      }
      const batch = 128;
      const x = { shape: [batch, ...inputShape], data: randomBatch([batch, ...inputShape], rng) };
      const session = newSession();
      // onnxruntime-node's CUDA provider is a separate download this install declines
      if (device === 'cpu') emit({ model: name, mode: 'infer', batch, ...(await measureOnnxRuntime(onnx, name, () => session.forward([x]), x, timing)) });
      emit({ model: name, mode: 'infer', batch, ...(await measureRow(() => session.forward([x]), batch, pytorch(bench, batch, 'infer'), timing)) });
      session.dispose();
    }
    if (LSTM_ROWS.startsWith(options.model ?? '')) await lstmRows(options, timing, torch, device, emit);
  } finally {
    if (typeof torch !== 'string') torch.close();
  }
  return rows;
}
