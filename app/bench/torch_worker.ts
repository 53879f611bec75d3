// The PyTorch reference as one long-lived process (`bench/torch_reference.py serve`), so that
// `strata bench` can alternate a repetition of Strata with a repetition of PyTorch: on a
// shared machine whose speed drifts, both then run under the same conditions.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createInterface, type Interface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const TORCH_SCRIPT = fileURLToPath(new URL('../../bench/torch_reference.py', import.meta.url));
const OPENBLAS = '/usr/lib/x86_64-linux-gnu/openblas-openmp';

export interface TorchRequest {
  /** PyTorch's twin of the model in bench/torch_reference.py (MODELS; default seed_cnn, unused with `lstm`) */
  model?: 'seed_cnn' | 'mobilenet_style';
  input: number[];
  batch: number;
  mode: 'train' | 'infer';
  steps: number;
  warmup: number;
  /** a Rescaling (scale, offset) before the first convolution, as the model has */
  rescale?: number[];
  /** instead of the seed CNN: Embedding -> LSTM (its last output) -> Linear over `input` = [steps] tokens */
  lstm?: { vocab: number; embed: number; units: number; classes: number };
}

/**
 * PyTorch set up at its best: glibc keeps freed memory (first-touch page faults are
 * expensive), OpenBLAS instead of Debian's reference BLAS, the same thread count.
 */
function torchEnvironment(threads: number): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    MALLOC_MMAP_THRESHOLD_: '33554432',
    MALLOC_TRIM_THRESHOLD_: '17179869184',
    MALLOC_TOP_PAD_: '268435456',
    OMP_NUM_THREADS: String(threads),
  };
  if (existsSync(OPENBLAS)) env.LD_LIBRARY_PATH = [OPENBLAS, process.env.LD_LIBRARY_PATH].filter(Boolean).join(':');
  return env;
}

/** Why PyTorch could not start, as a row's note. */
function failureNote(stderr: string): string {
  const missing = /No module named '(\w+)'/.exec(stderr)?.[1];
  if (missing) return `python3-${missing} is not installed (sudo apt-get install python3-torch python3-numpy)`;
  return `PyTorch failed: ${stderr.trim().split('\n').pop() ?? 'no output'}`;
}

export class TorchWorker {
  private constructor(
    private readonly child: ChildProcessWithoutNullStreams,
    private readonly lines: AsyncIterator<string>,
    private readonly reader: Interface,
    private readonly stderr: { text: string },
    /** e.g. "pytorch 1.13.1 cpu", "pytorch 2.5.1 cuda (NVIDIA H100 80GB HBM3)" */
    readonly reference: string,
  ) {}

  /** Starts the worker; a string says why it could not (PyTorch missing, say). */
  static async start(threads: number, device: 'cpu' | 'cuda' = 'cpu'): Promise<TorchWorker | string> {
    const child = spawn('/usr/bin/python3', [TORCH_SCRIPT, 'serve', '--threads', String(threads), '--device', device], { env: torchEnvironment(threads) });
    const stderr = { text: '' };
    child.stderr.on('data', (chunk: Buffer) => (stderr.text += chunk.toString()));
    const failed = new Promise<null>((resolve) => {
      child.on('error', (error) => ((stderr.text += error.message), resolve(null)));
      child.on('exit', () => resolve(null));
    });
    const reader = createInterface({ input: child.stdout });
    const lines = reader[Symbol.asyncIterator]();
    const hello = await Promise.race([lines.next(), failed]);
    if (!hello || hello.done) {
      child.kill();
      return failureNote(stderr.text);
    }
    const { reference } = JSON.parse(hello.value) as { reference: string };
    return new TorchWorker(child, lines, reader, stderr, reference);
  }

  /** The trainable parameter count of a model of bench/torch_reference.py (compared with Keras's in the tests). */
  async parameterCount(model: NonNullable<TorchRequest['model']>, input: number[]): Promise<number> {
    return (await this.ask({ count: model, input }) as { parameters: number }).parameters;
  }

  /** Samples per second over one repetition of `steps` steps (a new configuration is built and warmed up first). */
  async rate(request: TorchRequest): Promise<number> {
    return (await this.ask(request) as { samples_per_second: number }).samples_per_second;
  }

  private async ask(request: object): Promise<unknown> {
    this.child.stdin.write(`${JSON.stringify(request)}\n`);
    const answer = await this.lines.next();
    if (answer.done) throw new Error(failureNote(this.stderr.text));
    return JSON.parse(answer.value);
  }

  close(): void {
    this.reader.close();
    this.child.stdin.end();
    this.child.kill();
  }
}
