// strata export <model-file> -o model.onnx | model.keras | model.h5: the model as an ONNX graph,
// or as a Keras model file with its weights (the format chosen by the extension, as Keras's
// model.save() chooses it), written atomically; --format pytorch|keras --out DIR: a Python
// package (PyTorch) or script (Keras) with the model's weights and compile() settings, each
// file written atomically.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { exportOnnx } from '../../translate/to_onnx.ts';
import { exportPytorch } from '../../export/pytorch.ts';
import { exportKeras } from '../../export/keras.ts';
import type { ExportedFiles } from '../../export/pytorch.ts';
import { writeFileAtomic } from '../../io/atomic_write.ts';
import { formatKerasArchive, formatKerasH5, isKerasModelFile } from '../../io/keras_file.ts';
import type { Model } from '../../model/index.ts';
import { number } from '../flags.ts';
import { loadModel } from '../load_model.ts';
import { MODEL_ARGUMENT_HELP } from '../model_argument.ts';
import { UserError } from '../errors.ts';

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
    .description('write a model as an ONNX file (opset 17, Keras input and output layout), a Keras model file with its weights (.keras, .h5), a PyTorch package or a Keras script')
    .argument('<model-file>', MODEL_ARGUMENT_HELP)
    .option('--format <format>', `${FORMATS.join(', ')}`, format, 'onnx')
    .option('-o, --output <file>', 'with --format onnx: the file to write, a .onnx, .keras or .h5 file (the extension picks the format, as model.save() does)')
    .option('--out <dir>', 'with --format pytorch or keras: the folder to write (created if missing)')
    .option('--batch-size <n>', "the training script's batch size (default 32)", number('--batch-size', true, 1))
    .option('--epochs <n>', "the training script's epochs (default 1)", number('--epochs', true, 1))
    .action(async (file: string, options: ExportOptions) => {
      checkDestination(options);
      const model = await loadModel(file);
      if (options.format === 'onnx') {
        const bytes = await modelFileBytes(model, options.output!);
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

/** A single-file export: ONNX, or a Keras model file, as the file name's extension says. */
async function modelFileBytes(model: Model, output: string): Promise<Uint8Array> {
  const ext = path.extname(output).toLowerCase();
  if (ext === '.onnx') return exportOnnx(model);
  return ext === '.keras' ? formatKerasArchive(model) : formatKerasH5(model);
}

function checkDestination(options: ExportOptions): void {
  if (options.format === 'onnx') {
    if (!options.output) throw new UserError('--format onnx needs -o FILE (.onnx, .keras or .h5; --out DIR is for --format pytorch or keras)');
    if (options.out) throw new UserError('--out DIR is for --format pytorch or keras; give the file with -o FILE.onnx (or .keras, .h5)');
    const ext = path.extname(options.output).toLowerCase();
    if (ext !== '.onnx' && !isKerasModelFile(options.output)) throw new UserError(`${options.output}: unknown output format "${ext}"; give a .onnx, .keras or .h5 file name`);
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
