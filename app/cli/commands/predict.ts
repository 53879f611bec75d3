// `strata predict <file.onnx> --input x.npy ... [--output y.npy ...]`: runs a model with
// onnxruntime-node on arrays from .npy (or .npz) files and writes (or prints) its outputs.
import type { Command } from 'commander';
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { type NdArray, formatShape } from '../../data/ndarray.ts';
import { readInputFile } from '../../data/input_files.ts';
import { writeNpy } from '../../data/npy.ts';
import { readNpz, writeNpz } from '../../data/npz.ts';
import type { Device, OnnxSession } from '../../runtime/session.ts';
import { UserError } from '../errors.ts';
import { MODEL_ARGUMENT_HELP } from '../model_argument.ts';

const HELP = `
Models: an .onnx file (any, not only Strata's), a folder saved by 'strata train --out' or
saveModel() (its trained weights), a Keras JSON or TensorFlow.js model.json (with its weights
when it has a manifest), or a .ts/.js model file (freshly initialised weights: train it first).
Inputs, each a batch for one model input:
  x.npy          an array (np.save); the dtype the model declares (float32 for most models)
  photo.png      an image (png, jpg, gif, webp, tiff, avif) for an input (batch, h, w, 1 or 3):
                 resized to h x w and scaled to [0, 1] as training on an image folder does
  photos/        every image in a folder (recursively, sorted), one row each
  rows.csv       numeric feature rows (a header line is detected); --label-column leaves
                 the training file's label column out
  inputs.npz     the arrays of an np.savez archive, by input name (arr_0, arr_1, ... in order)
'--input x.npy' feeds the model's inputs in order; '--input name=x.npy' feeds the input of
that name.
Outputs: for a model with one output, '--output y.npy' writes it. For a model with several,
name them: '--output probabilities=p.npy --output logits=l.npy'; a bare '--output y.npy'
then writes every output, each to y.<output name>.npy; '--output y.npz' writes them all into
one archive (np.load('y.npz')['logits']). Without --output, outputs are printed.
Rows beyond --batch-size go through the model in batches; outputs are joined along axis 0.
`;

export interface PredictOptions {
  input: string[];
  labelColumn?: string;
  output?: string[];
  batchSize?: number;
  device?: Device;
}

export function registerPredict(program: Command): void {
  program
    .command('predict')
    .description('run a model with onnxruntime on arrays, images or CSV rows, printing or writing .npy outputs')
    .argument('<model>', `any .onnx file, or ${MODEL_ARGUMENT_HELP}`)
    .requiredOption('-i, --input <[name=]file>', 'an input: .npy, an image or a folder of images, .csv, or an .npz of arrays (repeatable)', collect, [])
    .option('--label-column <column>', 'CSV inputs: the label column to leave out, by name or 0-based index')
    .option('-o, --output <[name=]file.npy>', 'where to write outputs: .npy or .npz (repeatable; see below)', collect, undefined)
    .option('-b, --batch-size <n>', 'rows per onnxruntime call (default 32)', parsePositiveInteger)
    .option('--device <device>', 'auto (CUDA when installed), cpu or cuda', 'auto')
    .addHelpText('after', HELP)
    .action(async (model: string, options: PredictOptions) => {
      const written = await predictCommand(model, options, (text) => process.stdout.write(text));
      for (const file of written) process.stderr.write(`wrote ${file}\n`);
    });
}

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

function parsePositiveInteger(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new UserError(`--batch-size must be a positive integer, got '${value}'`);
  return n;
}

/** Runs the command; prints through `print` when no output file is given. Returns files written. */
export async function predictCommand(modelFile: string, options: PredictOptions, print: (text: string) => void): Promise<string[]> {
  const device = options.device ?? 'auto';
  if (!['auto', 'cpu', 'cuda'].includes(device)) throw new UserError(`--device must be auto, cpu or cuda, got '${device}'`);
  const { OnnxSession } = await import('../../runtime/session.ts'); // loads onnxruntime only when predicting
  const { onnx, classNames } = modelFile.toLowerCase().endsWith('.onnx') ? { onnx: modelFile, classNames: undefined } : await translateModelFile(modelFile);
  const session = await OnnxSession.create(onnx, { device });
  try {
    if (session.deviceNote) process.stderr.write(`strata: ${session.deviceNote}\n`);
    const { feeds, rowNames } = await bindInputs(session, options.input, options.labelColumn);
    const outputs = await session.run(feeds, options.batchSize === undefined ? {} : { batchSize: options.batchSize });
    if (!options.output || options.output.length === 0) {
      for (const [name, array] of Object.entries(outputs)) {
        print(`${name}: ${array.dtype} ${formatShape(array.shape)}\n${rowNames ? formatClassRows(array, rowNames, classNames) : formatArray(array)}\n`);
      }
      return [];
    }
    const written: string[] = [];
    for (const [file, names] of outputTargets(session, options.output)) {
      if (file.endsWith('.npz')) writeNpz(file, Object.fromEntries(names.map((name) => [name, outputs[name]!])));
      else writeNpy(file, outputs[names[0]!]!);
      written.push(file);
    }
    return written;
  } finally {
    await session.release();
  }
}

/**
 * Any other model file, translated to ONNX in memory with its weights, and the class names a
 * saved folder records. The model API and the translator are loaded here, only for such
 * files, not on every run of `strata`.
 */
async function translateModelFile(modelFile: string): Promise<{ onnx: Uint8Array; classNames?: string[] }> {
  const [{ loadModel, isModuleFile }, { loadModelFolder }, { exportOnnx }] = await Promise.all([import('../load_model.ts'), import('../../io/model_store.ts'), import('../../translate/to_onnx.ts')]);
  if (statSync(modelFile, { throwIfNoEntry: false })?.isDirectory()) {
    const { model, classNames } = loadModelFolder(modelFile);
    return { onnx: exportOnnx(model), ...(classNames ? { classNames } : {}) };
  }
  // Easy to miss: a model file is an architecture; its trained weights are in the folder training saved.
  if (isModuleFile(modelFile)) process.stderr.write(`strata: ${modelFile} is a model file: its weights are freshly initialised, not trained (predict on the folder \`strata train --out\` saved)\n`);
  return { onnx: exportOnnx(await loadModel(modelFile)) };
}

function splitNamed(spec: string): { name: string | null; file: string } {
  // 'name=file.npy'; a path holding '=' stays whole when the part before it is no name.
  const match = /^([^=/\\]+)=(.+)$/.exec(spec);
  return match ? { name: match[1]!, file: match[2]! } : { name: null, file: spec };
}

async function bindInputs(session: OnnxSession, specs: string[], labelColumn?: string): Promise<{ feeds: Record<string, NdArray>; rowNames?: string[] }> {
  const names = session.inputs.map((i) => i.name);
  const feeds: Record<string, NdArray> = {};
  let rowNames: string[] | undefined;
  const feed = (name: string, array: NdArray, from: string) => {
    if (feeds[name]) throw new UserError(`${from}: input '${name}' is given twice`);
    feeds[name] = array;
  };
  const csv = labelColumn === undefined ? {} : { labelColumn: /^-?\d+$/.test(labelColumn) ? Number(labelColumn) : labelColumn };
  const read = async (file: string, name: string) => {
    const result = await readInputFile(file, session.inputs.find((i) => i.name === name)!, csv);
    rowNames ??= result.rowNames;
    return result.array;
  };
  const positional: { file: string; array?: NdArray }[] = [];
  for (const spec of specs) {
    const { name, file } = splitNamed(spec);
    if (name !== null && names.includes(name)) {
      feed(name, await read(file, name), `--input ${spec}`);
    } else if (name !== null && !existsSync(spec)) {
      throw new UserError(`--input ${spec}: the model has no input '${name}'; its inputs are: ${names.join(', ')}`);
    } else if (spec.endsWith('.npz')) {
      for (const [key, array] of Object.entries(readNpz(spec))) {
        if (names.includes(key)) feed(key, array, spec);
        else if (/^arr_\d+$/.test(key)) positional.push({ file: `${spec}[${key}]`, array });
        else throw new UserError(`${spec}: array '${key}' names no input of the model; its inputs are: ${names.join(', ')}`);
      }
    } else {
      positional.push({ file: spec });
    }
  }
  const free = names.filter((n) => !feeds[n]);
  if (positional.length > free.length) {
    throw new UserError(`${positional.length} unnamed inputs for ${free.length} remaining model input(s) (${free.join(', ') || 'none'})`);
  }
  for (const [i, { file, array }] of positional.entries()) feeds[free[i]!] = array ?? (await read(file, free[i]!));
  return rowNames ? { feeds, rowNames } : { feeds };
}

/**
 * One line per input file: the class with the highest score (its name where the saved model
 * records class names) and that score, for outputs of shape (rows, classes); other outputs as arrays.
 */
export function formatClassRows(array: NdArray, rowNames: string[], classNames?: string[]): string {
  const [rows, classes] = array.shape;
  if (array.shape.length !== 2 || rows !== rowNames.length || array.dtype !== 'float32') return formatArray(array);
  const data = array.data as Float32Array;
  return rowNames
    .map((file, r) => {
      const row = data.subarray(r * classes!, (r + 1) * classes!);
      if (classes === 1) return `${file}: ${Number(row[0]!.toPrecision(6))}`;
      const best = row.indexOf(Math.max(...row));
      const label = classNames?.length === classes ? classNames[best]! : `class ${best}`;
      return `${file}: ${label} (${Number(row[best]!.toPrecision(4))})`;
    })
    .join('\n');
}

/** Output file → the outputs it receives (one for .npy, any number for .npz). */
function outputTargets(session: OnnxSession, specs: string[]): Map<string, string[]> {
  const names = session.outputs.map((o) => o.name);
  const targets = new Map<string, string[]>();
  for (const spec of specs) {
    const { name, file } = splitNamed(spec);
    if (name !== null && names.includes(name)) {
      targets.set(file, [name]);
    } else if (name !== null) {
      throw new UserError(`--output ${spec}: the model has no output '${name}'; its outputs are: ${names.join(', ')}`);
    } else if (spec.endsWith('.npz')) {
      targets.set(spec, names);
    } else if (names.length === 1) {
      targets.set(spec, names);
    } else {
      // One file per output, beside the given name: y.npy → y.logits.npy, y.probabilities.npy.
      const stem = spec.replace(/\.npy$/, '');
      for (const output of names) targets.set(`${stem}.${output.replace(/[^\w.-]+/g, '_')}.npy`, [output]);
    }
  }
  for (const file of targets.keys()) {
    if (!['.npy', '.npz'].includes(path.extname(file))) {
      throw new UserError(`--output ${file}: outputs are written as .npy (or .npz) files; name it ${file}.npy`);
    }
  }
  return targets;
}

/** NumPy-style nested lists, the first elements only for large arrays. */
export function formatArray(array: NdArray, maxElements = 200): string {
  const values = Array.from(array.data.subarray(0, maxElements) as ArrayLike<number | bigint>, (v) =>
    typeof v === 'bigint' ? v.toString() : array.dtype === 'bool' ? (v ? 'True' : 'False') : Number.isInteger(v) ? String(v) : Number(v.toPrecision(6)).toString(),
  );
  const truncated = array.data.length > maxElements;
  if (array.shape.length === 0) return values[0] ?? '';
  let index = 0;
  const nest = (axis: number): string => {
    if (index >= values.length) return '…';
    const size = array.shape[axis]!;
    const items: string[] = [];
    for (let i = 0; i < size && index < values.length; i++) items.push(axis === array.shape.length - 1 ? values[index++]! : nest(axis + 1));
    if (items.length < size) items.push('…');
    return `[${items.join(axis === array.shape.length - 1 ? ', ' : `,\n${' '.repeat(axis + 1)}`)}]`;
  };
  return nest(0) + (truncated ? `\n(${array.data.length.toLocaleString('en-US')} elements; first ${maxElements} shown, use --output to save all)` : '');
}
