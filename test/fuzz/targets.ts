// What the readers are fuzzed with, and the promise each must keep (README "What Strata
// promises on bad input"): every input is either read or refused with a StrataUserError
// whose message is one line naming the file; never another exception (a TypeError, a
// RangeError: "internal error"), and what is read never takes more memory than the input
// can hold. Inputs are real files (test/fixtures, test/fuzz/corpus) mutated byte by byte or,
// for JSON formats, edit by edit in their tree; ONNX models are also generated whole.
import fc from 'fast-check';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { formatReport } from '../../app/cli/commands/inspect.ts';
import { loadCsv, loadCsvFeatures, type CsvLabels } from '../../app/data/csv.ts';
import { parseIdx } from '../../app/data/idx.ts';
import type { NdArray } from '../../app/data/ndarray.ts';
import { parseNpy } from '../../app/data/npy.ts';
import { parseNpz } from '../../app/data/npz.ts';
import { loadModelFolder, saveModel } from '../../app/io/model_store.ts';
import { formatKerasArchive, formatKerasH5, parseKerasModelSync } from '../../app/io/keras_file.ts';
import { loadHdf5 } from '../../app/io/hdf5.ts';
import { BatchNormalization, Dense, Input, Model, Sequential, type SymbolicTensor, isUserError, modelFromJSON } from '../../app/model/index.ts';
import { LIMITS } from '../../app/model/limits.ts';
import { registeredClassNames } from '../../app/model/registry.ts';
import { describeModel, parseOnnxModel } from '../../app/onnx/inspect.ts';
import { encodeModel } from '../../app/onnx/schema.ts';
import { inferShapes } from '../../app/onnx/shape_inference.ts';
import { onnxModel } from './onnx_models.ts';
import { mutatedBytes, mutatedJson } from './mutate.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const FIXTURES = path.join(here, '..', 'fixtures');
const CORPUS = path.join(here, 'corpus');

/** The files of `dir` whose names end with one of `extensions`, as bytes, in name order. */
function seedFiles(dir: string, extensions: string[]): Uint8Array[] {
  return readdirSync(dir)
    .filter((name) => extensions.some((ext) => name.endsWith(ext)))
    .sort()
    .map((name) => new Uint8Array(readFileSync(path.join(dir, name))));
}

export interface FuzzTarget<T = unknown> {
  name: string;
  /** What the inputs are, for the report. */
  inputs: string;
  arbitrary: fc.Arbitrary<T>;
  /** Runs the reader on one input; throws (an assertion) when it breaks a promise. */
  check: (input: T, scratch: string) => void;
  /** Runs in `npm test`; the long run multiplies it. */
  runs: number;
}

/** Thrown when a reader breaks a promise, with what it did. */
export class BrokenPromise extends Error {
  override name = 'BrokenPromise';
}

/**
 * Runs `read`; a StrataUserError must be one line that names `source`; any other error is a
 * broken promise (the CLI would print "internal error"). Returns what was read, or undefined.
 */
export function readOrRefuse<T>(source: string, read: () => T): T | undefined {
  try {
    return read();
  } catch (error) {
    if (!isUserError(error)) throw new BrokenPromise(`not a user error: ${(error as Error)?.stack ?? String(error)}`);
    const { message } = error;
    if (message.includes('\n')) throw new BrokenPromise(`a message of several lines: ${JSON.stringify(message)}`);
    if (!message.includes(source)) throw new BrokenPromise(`a message that does not name ${source}: ${message}`);
    return undefined;
  }
}

/** Memory follows the input: an array read from `inputBytes` bytes holds no more than `factor` times as many. */
function checkArraySize(arrays: NdArray[], inputBytes: number, factor: number): void {
  const total = arrays.reduce((n, a) => n + a.data.byteLength, 0);
  if (total > inputBytes * factor) throw new BrokenPromise(`${total} bytes of arrays read from ${inputBytes} bytes of input`);
}

// --- ONNX ------------------------------------------------------------------------------

/** What the app and `strata inspect` do with an ONNX file: parse, describe, infer shapes, print; all must be JSON. */
function checkOnnx(bytes: Uint8Array, scratch: string): void {
  const file = path.join(scratch, 'model.onnx');
  readOrRefuse(file, () => {
    const model = parseOnnxModel(bytes, file);
    const description = describeModel(model, { file, fileBytes: bytes.length });
    const inferred = inferShapes(model);
    formatReport(description);
    // The description and inferred shapes go to the window and to --json as they are.
    JSON.stringify({ description, inferred });
  });
}

const onnxSeeds = seedFiles(path.join(FIXTURES, 'onnx'), ['.onnx']);

const onnxBytes: FuzzTarget<Uint8Array> = {
  name: 'onnx-bytes',
  inputs: `${onnxSeeds.length} ONNX files of test/fixtures/onnx, bytes mutated`,
  arbitrary: mutatedBytes(onnxSeeds),
  check: checkOnnx,
  runs: 300,
};

const onnxGenerated: FuzzTarget<Uint8Array> = {
  name: 'onnx-generated',
  inputs: 'ModelProtos generated whole (standard operators, hostile attributes, dims and tensors)',
  arbitrary: onnxModel().map((model) => encodeModel(model)),
  check: checkOnnx,
  runs: 300,
};

// --- Keras JSON and TensorFlow.js folders ----------------------------------------------

const kerasSeeds = readdirSync(path.join(FIXTURES, 'keras'))
  .filter((name) => name.endsWith('.json'))
  .sort()
  .map((name) => readFileSync(path.join(FIXTURES, 'keras', name), 'utf8'));
/** Values a Keras config gives meaning to, so that edits reach deep into the layers. */
const KERAS_VALUES = [...registeredClassNames(), 'Lambda', 'TFOpLambda', 'Sequential', 'Functional', 'Model', 'float16', 'int32', 'valid', 'same', 'causal', 'channels_first', 'relu', 'linear', 'softmax'];

const kerasJson: FuzzTarget<string> = {
  name: 'keras-json',
  inputs: `${kerasSeeds.length} Keras 2 and 3 model JSON files of test/fixtures/keras, tree edits`,
  arbitrary: mutatedJson(kerasSeeds, KERAS_VALUES),
  check: (text) => {
    readOrRefuse('model.json', () => modelFromJSON(text, 'model.json'));
  },
  runs: 150,
};

/** Each Keras fixture saved by saveModel: a TensorFlow.js layers folder's model.json and shard. */
function tfjsSeeds(): { json: string[]; shards: Uint8Array[] } {
  const dir = mkdtempSync(path.join(tmpdir(), 'strata-fuzz-seeds-'));
  try {
    const json: string[] = [];
    const shards: Uint8Array[] = [];
    kerasSeeds.forEach((text, i) => {
      const folder = path.join(dir, `m${i}`);
      saveModel(modelFromJSON(text), folder);
      json.push(readFileSync(path.join(folder, 'model.json'), 'utf8'));
      shards.push(new Uint8Array(readFileSync(path.join(folder, 'group1-shard1of1.bin'))));
    });
    return { json, shards };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

interface TfjsFolder {
  json: string;
  shard: Uint8Array;
}

function tfjsFolders(): fc.Arbitrary<TfjsFolder> {
  const seeds = tfjsSeeds();
  const pairs = fc.integer({ min: 0, max: seeds.json.length - 1 });
  const manifestValues = ['float32', 'int32', 'bool', 'string', 'uint8', 'uint16', 'float16', 'optimizer', 'group1-shard1of1.bin', '../model.json', 'model.json', '.'];
  return fc.oneof(
    fc.record({ json: mutatedJson(seeds.json, [...KERAS_VALUES, ...manifestValues]), shard: pairs.map((i) => seeds.shards[i]!) }),
    fc.record({ json: pairs.map((i) => seeds.json[i]!), shard: mutatedBytes(seeds.shards) }),
  );
}

const tfjsFolder: FuzzTarget<TfjsFolder> = {
  name: 'tfjs-folder',
  inputs: 'model.json + shard folders saved from the Keras fixtures, the JSON tree-edited or the shard mutated',
  arbitrary: tfjsFolders(),
  check: ({ json, shard }, scratch) => {
    const dir = path.join(scratch, 'model');
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir);
    writeFileSync(path.join(dir, 'model.json'), json);
    writeFileSync(path.join(dir, 'group1-shard1of1.bin'), shard);
    readOrRefuse(dir, () => loadModelFolder(dir));
  },
  runs: 60,
};

// --- Arrays: .npy, .npz, IDX -----------------------------------------------------------

const npySeeds = [...seedFiles(path.join(FIXTURES, 'onnx'), ['.npy']), ...seedFiles(path.join(CORPUS, 'npy'), ['.npy'])];
const npzSeeds = [...seedFiles(path.join(FIXTURES, 'onnx'), ['.npz']), ...seedFiles(path.join(CORPUS, 'npy'), ['.npz'])];
const idxSeeds = seedFiles(path.join(CORPUS, 'idx'), ['ubyte', 'idx1', 'idx2', '.gz']);

const npy: FuzzTarget<Uint8Array> = {
  name: 'npy',
  inputs: `${npySeeds.length} .npy files written by NumPy, bytes mutated`,
  arbitrary: mutatedBytes(npySeeds),
  check: (bytes) => {
    const array = readOrRefuse('x.npy', () => parseNpy(bytes, 'x.npy'));
    if (array) checkArraySize([array], bytes.length, 1);
  },
  runs: 400,
};

const npz: FuzzTarget<Uint8Array> = {
  name: 'npz',
  inputs: `${npzSeeds.length} .npz archives written by NumPy (stored and deflated), bytes mutated`,
  arbitrary: mutatedBytes(npzSeeds),
  check: (bytes) => {
    const arrays = readOrRefuse('x.npz', () => parseNpz(bytes, 'x.npz'));
    if (arrays) checkArraySize(Object.values(arrays), bytes.length, LIMITS.inflateRatio);
  },
  runs: 400,
};

const idx: FuzzTarget<Uint8Array> = {
  name: 'idx',
  inputs: `${idxSeeds.length} IDX files (Fashion-MNIST's, and other type codes; raw and gzipped), bytes mutated`,
  arbitrary: mutatedBytes(idxSeeds),
  check: (bytes) => {
    const array = readOrRefuse('x.idx', () => parseIdx(bytes, 'x.idx'));
    const gzipped = bytes[0] === 0x1f && bytes[1] === 0x8b;
    if (array) checkArraySize([array], bytes.length, gzipped ? LIMITS.inflateRatio : 1);
  },
  runs: 300,
};

// --- CSV -------------------------------------------------------------------------------

interface CsvCase {
  bytes: Uint8Array;
  header: boolean | undefined;
  delimiter: string;
  labelColumn: string | number;
  labels: CsvLabels;
  features: boolean;
}

const csvSeeds = seedFiles(path.join(CORPUS, 'csv'), ['.csv']);

const csvCases: fc.Arbitrary<CsvCase> = fc.record({
  bytes: mutatedBytes(csvSeeds),
  header: fc.constantFrom(true, false, undefined),
  delimiter: fc.constantFrom(',', ';', '\t', '|'),
  labelColumn: fc.oneof(fc.integer({ min: -6, max: 6 }), fc.constantFrom('species', 'label', 'target', 'x 2', ''), fc.constantFrom(0.5, Number.NaN)),
  labels: fc.constantFrom<CsvLabels>('auto', 'classIds', 'categories', 'regression'),
  features: fc.boolean(),
});

const csv: FuzzTarget<CsvCase> = {
  name: 'csv',
  inputs: `${csvSeeds.length} CSV files (header or not, BOM, CRLF, quoting), bytes mutated, with every option`,
  arbitrary: csvCases,
  check: ({ bytes, header, delimiter, labelColumn, labels, features }, scratch) => {
    const file = path.join(scratch, 'data.csv');
    writeFileSync(file, bytes);
    const read = () =>
      features
        ? loadCsvFeatures(file, { ...(header === undefined ? {} : { header }), delimiter, skipColumn: labelColumn }).x
        : loadCsv(file, { ...(header === undefined ? {} : { header }), delimiter, labelColumn, labels }).x[0]!;
    const x = readOrRefuse(file, read);
    // One float32 per cell, and a cell takes at least one byte and a delimiter.
    if (x) checkArraySize([x], bytes.length, 4);
  },
  runs: 300,
};

// --- Keras model files: .h5 and .keras ---------------------------------------------------

await loadHdf5();
/** A Functional model with a nested Sequential and BatchNormalization: small, but every part of both layouts. */
function kerasSeedModel(): Model {
  const input = Input({ shape: [3], name: 'x' });
  const inner = new Sequential([new Dense(2, { inputShape: [3], name: 'inner_dense' }), new BatchNormalization({ name: 'bn' })], { name: 'inner' });
  const output = new Dense(1, { name: 'out' }).apply(inner.apply(input) as SymbolicTensor) as SymbolicTensor;
  const model = new Model({ inputs: input, outputs: output, name: 'seed' });
  model.compile({ optimizer: 'adam', loss: 'mse' });
  return model;
}
const kerasH5Seeds = [...seedFiles(path.join(FIXTURES, 'keras'), ['.h5']), await formatKerasH5(kerasSeedModel())];
const kerasArchiveSeeds = [await formatKerasArchive(kerasSeedModel())];

const kerasFile: FuzzTarget<{ bytes: Uint8Array; ext: '.h5' | '.keras' }> = {
  name: 'keras-file',
  inputs: `${kerasH5Seeds.length} Keras .h5 files (h5py-written in Keras's layout, Strata-written) and ${kerasArchiveSeeds.length} .keras archive, bytes mutated`,
  arbitrary: fc.oneof(mutatedBytes(kerasH5Seeds).map((bytes) => ({ bytes, ext: '.h5' as const })), mutatedBytes(kerasArchiveSeeds).map((bytes) => ({ bytes, ext: '.keras' as const }))),
  check: ({ bytes, ext }) => {
    const model = readOrRefuse(`x${ext}`, () => parseKerasModelSync(bytes, `x${ext}`));
    // Every weight read came from a dataset of its shape in the file (stored, or deflated at most 1032-fold).
    if (model && model.countParams() * 4 > bytes.length * LIMITS.inflateRatio) throw new BrokenPromise(`${model.countParams()} parameters read from ${bytes.length} bytes`);
  },
  runs: 200,
};

export const TARGETS: FuzzTarget[] = [onnxBytes, onnxGenerated, kerasJson, tfjsFolder, kerasFile, npy, npz, idx, csv] as FuzzTarget[];

/** A scratch folder for one target's run. */
export function scratchFolder(name: string): string {
  return mkdtempSync(path.join(tmpdir(), `strata-fuzz-${name}-`));
}

export interface FuzzOptions {
  runs: number;
  seed: number;
}

/** Runs `target` on `runs` inputs; throws fast-check's report (seed, path, shrunk input, the broken promise) on a finding. */
export function fuzz(target: FuzzTarget, { runs, seed }: FuzzOptions): void {
  const scratch = scratchFolder(target.name);
  try {
    fc.assert(
      fc.property(target.arbitrary, (input) => target.check(input, scratch)),
      { numRuns: runs, seed, includeErrorInReport: true },
    );
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}
