// strata export <model-file> -o model.onnx: the model's ONNX graph, written atomically;
// --format pytorch|keras --out DIR: a Python package (PyTorch) or script (Keras) with the
// model's weights and compile() settings, each file written atomically.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { exportOnnx } from '../../translate/to_onnx.ts';
import { exportPytorch } from '../../export/pytorch.ts';
import { exportKeras } from '../../export/keras.ts';
import type { ExportedFiles } from '../../export/pytorch.ts';
import { writeFileAtomic } from '../../io/atomic_write.ts';
import type { Model } from '../../model/index.ts';
import { UserError } from '../errors.ts';
import { number } from '../flags.ts';
import { loadModel } from '../load_model.ts';
import { MODEL_ARGUMENT_HELP } from '../model_argument.ts';

const FORMATS = ['onnx', 'pytorch', 'keras'] as const;
type Format = (typeof FORMATS)[number];

interface ExportOptions {
  format: Format;
  output?: string;
  out?: string;
  batchSize?: number;
  epochs?: number;
}

export function registerExport(program: Command): void {
  program
    .command('export')
    .description('translate a model into an ONNX file (opset 17, Keras input and output layout), a PyTorch package or a Keras script')
    .argument('<model-file>', MODEL_ARGUMENT_HELP)
    .option('--format <format>', `${FORMATS.join(', ')}`, format, 'onnx')
    .option('-o, --output <file.onnx>', 'with --format onnx: where to write the ONNX model')
    .option('--out <dir>', 'with --format pytorch or keras: the folder to write (created if missing)')
    .option('--batch-size <n>', "the training script's batch size (default 32)", number('--batch-size', true, 1))
    .option('--epochs <n>', "the training script's epochs (default 1)", number('--epochs', true, 1))
    .action(async (file: string, options: ExportOptions) => {
      checkDestination(options);
      const model = await loadModel(file);
      if (options.format === 'onnx') {
        const bytes = exportOnnx(model);
        writeFileAtomic(options.output!, bytes);
        process.stderr.write(`wrote ${options.output} (${bytes.length.toLocaleString('en-US')} bytes, ${model.countParams().toLocaleString('en-US')} parameters)\n`);
        return;
      }
      writeFolder(options.out!, exportFiles(model, file, options));
      process.stderr.write(`wrote ${options.out} (${options.format === 'pytorch' ? 'a PyTorch package: model.py, train.py, weights.safetensors' : 'a Keras script: model.py with its weights in weights.npz'}, ${model.countParams().toLocaleString('en-US')} parameters)\n`);
    });
}

function format(value: string): Format {
  if (!(FORMATS as readonly string[]).includes(value)) throw new UserError(`--format must be one of ${FORMATS.join(', ')}, got '${value}'`);
  return value as Format;
}

function checkDestination(options: ExportOptions): void {
  if (options.format === 'onnx') {
    if (!options.output) throw new UserError('--format onnx needs -o FILE.onnx (--out DIR is for --format pytorch or keras)');
    if (options.out) throw new UserError('--out DIR is for --format pytorch or keras; give the ONNX file with -o FILE.onnx');
  } else {
    if (!options.out) throw new UserError(`--format ${options.format} writes a folder: give it with --out DIR`);
    if (options.output) throw new UserError(`-o is for --format onnx; --format ${options.format} writes a folder, given with --out DIR`);
  }
}

function exportFiles(model: Model, file: string, options: ExportOptions): ExportedFiles {
  const fit = { ...(options.batchSize !== undefined ? { batchSize: options.batchSize } : {}), ...(options.epochs !== undefined ? { epochs: options.epochs } : {}) };
  const source = path.basename(file);
  return options.format === 'pytorch' ? exportPytorch(model, source, fit).files : exportKeras(model, source, fit).files;
}

/** Each file written atomically into `dir`: a reader sees a file whole or not at all. */
function writeFolder(dir: string, files: ExportedFiles): void {
  mkdirSync(dir, { recursive: true });
  for (const [name, contents] of Object.entries(files)) writeFileAtomic(path.join(dir, name), contents);
}
