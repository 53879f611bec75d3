// The CLI against hostile but honest input: generated bad model files, data files and flags
// for summary, export, inspect, predict and train. Every case must exit 1 with ONE line on
// stderr that names the file (or flag) at fault, print nothing on stdout, and never say
// "internal error". Files are generated here, in a temporary folder; the table is data.
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { formatNpy } from '../../app/data/npy.ts';
import { ndarray } from '../../app/data/ndarray.ts';
import { writeNpz } from '../../app/data/npz.ts';
import { Dense, Sequential } from '../../app/model/index.ts';
import { exportOnnx } from '../../app/translate/to_onnx.ts';
import { decodeModel, encodeModel } from '../../app/onnx/schema.ts';
import { deflateBomb, gzipBomb, idxHeader, npyHeader, zipOf, ZEROS } from '../hostile_files.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const STRATA = path.join(ROOT, 'app', 'cli', 'strata.js');
const dir = mkdtempSync(path.join(tmpdir(), 'strata-hostile-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const at = (name: string) => path.join(dir, name);

/** A file in the scratch folder; returns its path. */
function write(name: string, content: string | Uint8Array): string {
  mkdirSync(path.dirname(at(name)), { recursive: true });
  writeFileSync(at(name), content);
  return at(name);
}

function fifo(name: string): string {
  assert.equal(spawnSync('mkfifo', [at(name)]).status, 0, 'mkfifo');
  return at(name);
}

const tiny = () => new Sequential([new Dense(2, { inputShape: [3], name: 'd' })], { name: 'tiny' });
const TOPOLOGY = JSON.parse(tiny().toJSON());
const SPECS = [
  { name: 'd/kernel', shape: [3, 2], dtype: 'float32' },
  { name: 'd/bias', shape: [2], dtype: 'float32' },
];

/** A tfjs model folder `name` whose model.json has `manifest`, with a 32-byte shard. */
function tfjs(name: string, manifest: unknown): string {
  write(`${name}/shard.bin`, new Uint8Array(32));
  return write(`${name}/model.json`, JSON.stringify({ modelTopology: TOPOLOGY, weightsManifest: manifest }));
}

/** A Sequential Keras JSON with one layer after an input of `inputShape`. */
function keras(name: string, className: string, config: Record<string, unknown>, inputShape: (number | null)[] = [null, 8, 8, 1]): string {
  const layers = [
    { class_name: 'InputLayer', config: { batch_input_shape: inputShape, name: 'in' } },
    { class_name: className, config: { name: 'bad', ...config } },
  ];
  return write(name, JSON.stringify({ class_name: 'Sequential', config: { name: 's', layers } }));
}

function nested(levels: number): string {
  let json = '{"class_name":"Sequential","config":{"name":"m0","layers":[{"class_name":"Dense","config":{"units":2,"batch_input_shape":[null,2],"name":"d"}}]}}';
  for (let i = 1; i < levels; i++) json = `{"class_name":"Sequential","config":{"name":"m${i}","layers":[${json}]}}`;
  return write('nested.json', json);
}

function damagedExport(): string {
  const proto = decodeModel(exportOnnx(tiny()));
  proto.metadataProps = proto.metadataProps!.map((p) => (p.key === 'strata.weights' ? { key: p.key, value: '[{"layer": "d"' } : p));
  return write('damaged-metadata.onnx', encodeModel(proto));
}

const npy = (name: string, shape: number[], values: number[]) => write(name, formatNpy(ndarray('float32', shape, Float32Array.from(values))));

/** One hostile input: the command line, and what the one line must name. */
interface Case {
  args: string[];
  names: string;
}

function cases(): Case[] {
  const good = write('good.json', tiny().toJSON());
  const goodOnnx = write('good.onnx', exportOnnx(tiny()));
  const x = npy('x.npy', [2, 3], [1, 2, 3, 4, 5, 6]);
  const secret = write('secret.bin', new Uint8Array(64));
  write('linked/shard.bin', new Uint8Array(32));
  symlinkSync(secret, at('linked/link.bin'));
  const linked = write('linked/model.json', JSON.stringify({ modelTopology: TOPOLOGY, weightsManifest: [{ paths: ['link.bin'], weights: SPECS }] }));
  write('cjs/package.json', '{"type": "commonjs"}');
  mkdirSync(at('empty-folder'));

  const badModels: string[] = [
    write('empty.json', ''),
    write('blank.json', ' \n\t\n'),
    write('truncated.json', '{"class_name": '),
    write('list.json', '[1, 2]'),
    write('binary.json', new Uint8Array([0, 159, 146, 150, 0, 1])),
    write('no-class.json', '{}'),
    keras('lstm.json', 'LSTM', { units: 4 }),
    keras('kernel0.json', 'Conv2D', { filters: 2, kernel_size: [0, 0] }),
    keras('strides0.json', 'Conv2D', { filters: 2, kernel_size: [3, 3], strides: [0, 0] }),
    keras('pool0.json', 'MaxPooling2D', { pool_size: [2, 0] }),
    keras('units-text.json', 'Dense', { units: 'many' }, [null, 4]),
    keras('units-negative.json', 'Dense', { units: -3 }, [null, 4]),
    keras('dense-huge.json', 'Dense', { units: 1_000_000 }, [null, 100_000]),
    keras('input-negative.json', 'Dense', { units: 2 }, [null, -4]),
    keras('dropout-rate.json', 'Dropout', { rate: 7 }, [null, 4]),
    nested(10_000),
    tfjs('traversal', [{ paths: ['../../../../../etc/passwd'], weights: SPECS }]),
    tfjs('absolute', [{ paths: [secret], weights: SPECS }]),
    linked,
    tfjs('paths-string', [{ paths: 'shard.bin', weights: SPECS }]),
    tfjs('weights-null', [{ paths: ['shard.bin'], weights: null }]),
    tfjs('manifest-object', { paths: ['shard.bin'] }),
    tfjs('negative-shape', [{ paths: ['shard.bin'], weights: [{ ...SPECS[0], shape: [-3, -2] }, SPECS[1]] }]),
    tfjs('huge-shape', [{ paths: ['shard.bin'], weights: [{ ...SPECS[0], shape: [3, 2e9] }, SPECS[1]] }]),
    tfjs('missing-shard', [{ paths: ['nope.bin'], weights: SPECS }]),
    tfjs('short-shard', [{ paths: ['shard.bin'], weights: [...SPECS, { name: 'extra', shape: [100], dtype: 'float32' }] }]),
    write('empty.onnx', ''),
    write('random.onnx', Uint8Array.from({ length: 4096 }, (_, i) => (i * 7919) % 251)),
    write('text.onnx', 'this is not a model\n'),
    write('array.onnx', formatNpy(ndarray('float32', [2], new Float32Array(2)))),
    write('truncated.onnx', exportOnnx(tiny()).subarray(0, 300)),
    damagedExport(),
    write('syntax.ts', 'export default = ;\n'),
    write('throws.ts', "throw new Error('cannot build');\n"),
    write('bad-import.mts', "import { m } from './missing.ts';\nexport default m;\n"),
    write('cjs/model.ts', 'export default 1;\n'),
    write('model.h5', 'HDF'),
    // Keras model files (.h5, .keras): not what they say, weights only, a bomb, half a file.
    write('garbage.keras', 'PK\u0003\u0004 not really a zip'),
    write('empty.keras', ''),
    write('bomb.keras', zipOf('config.json', deflateBomb(new TextEncoder().encode('{"class_name": "'), 8), 2 ** 31)),
    write('weights-only.h5', readFileSync(path.join(ROOT, 'test/fixtures/keras/real/pelops_small.weights.hdf5'))),
    write('half.h5', readFileSync(path.join(ROOT, 'test/fixtures/keras/mlp_bn.tf2.h5')).subarray(0, 4000)),
    write('zip-named.h5', readFileSync(path.join(ROOT, 'test/fixtures/keras/review_classifier.keras')).subarray(0, 2000)),
    fifo('pipe.keras'),
    fifo('pipe.json'),
    fifo('pipe.ts'),
    at('empty-folder'),
    at('nowhere.json'),
  ];

  const badArrays: string[] = [
    write('empty.npy', ''),
    write('pickle.npy', new Uint8Array([0x80, 4, 0x95, 0, 0])),
    write('truncated.npy', formatNpy(ndarray('float32', [2, 3], new Float32Array(6))).subarray(0, 140)),
    write('huge-shape.npy', npyHeader([1_000_000, 1_000_000])),
    write('declares-more.npz', zipOf('x.npy', deflateBomb(npyHeader([1_000_000_000]), 4), npyHeader([1_000_000_000]).length + 4 * ZEROS.length)),
    write('inflates-more.npz', zipOf('x.npy', deflateBomb(npyHeader([2, 3]), 4), npyHeader([2, 3]).length + 24)),
    write('garbage.npz', 'PK\u0003\u0004 not really a zip'),
    fifo('pipe.npy'),
    '/dev/zero',
  ];

  const badData: string[] = [
    write('idx-bomb/train-images-idx3-ubyte.gz', gzipBomb(idxHeader([10, 28, 28]), 8)),
    write('bad.csv', 'a,b,label\n1,2,0\n3,x,1\n'),
    write('ragged.csv', 'a,b,label\n1,2,0\n3\n'),
    write('header-only.csv', 'a,b,label\n'),
    write('lie.npz', zipOf('x.npy', deflateBomb(npyHeader([5]), 4), npyHeader([5]).length + 20)),
    '/dev/zero',
  ];
  write('idx-bomb/train-labels-idx1-ubyte.gz', gzipSync(idxHeader([10])));
  writeNpz(at('labels-only.npz'), { y: ndarray('int32', [2], new Int32Array([0, 1])) });

  // Every command opens model files with the same loader: summary takes them all, the others a sample of each kind.
  const sample = (...names: string[]) => names.map(at);
  return [
    ...badModels.map((model) => ({ args: ['summary', model], names: model })),
    ...sample('traversal/model.json', 'linked/model.json', 'kernel0.json', 'damaged-metadata.onnx', 'syntax.ts', 'pipe.json', 'empty.onnx', 'nested.json').map((model) => ({
      args: ['export', model, '-o', at('out.onnx')],
      names: model,
    })),
    ...sample('empty.json', 'absolute/model.json', 'dense-huge.json', 'text.onnx').map((model) => ({ args: ['predict', model, '--input', x], names: model })),
    ...sample('traversal/model.json', 'negative-shape/model.json', 'throws.ts', 'truncated.onnx').map((model) => ({ args: ['train', model, '--data', at('labels-only.npz')], names: model })),
    ...[at('empty.onnx'), at('random.onnx'), at('text.onnx'), at('array.onnx'), at('truncated.onnx'), fifo('pipe.onnx'), '/dev/zero', at('empty-folder'), at('nowhere.onnx'), at('half.h5'), at('bomb.keras')].map((file) => ({ args: ['inspect', file], names: file })),
    ...badArrays.map((file) => ({ args: ['predict', goodOnnx, '--input', file], names: file })),
    ...badData.map((data) => ({ args: ['train', good, '--data', data, '--epochs', '1'], names: data.endsWith('.gz') ? path.dirname(data) : data })),
    ...['0', '-5', 'abc', '100000000', '39', '1e3'].map((value) => ({ args: ['summary', good, `--line-length=${value}`], names: '--line-length' })),
    ...['0', '40000', 'abc', 'auto'].map((value) => ({ args: ['bench', `--threads=${value}`], names: '--threads' })),
    ...['gpu', 'auto', ''].map((value) => ({ args: ['bench', `--device=${value}`], names: '--device' })),
    ...['gpu', 'CUDA'].map((value) => ({ args: ['train', good, '--data', at('labels-only.npz'), `--device=${value}`], names: '--device' })),
  ];
}

const run = promisify(execFile);

/** Runs `strata args` and returns its exit status and output. */
async function strata(args: string[]): Promise<{ status: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [STRATA, ...args], { cwd: dir, timeout: 60_000, maxBuffer: 1 << 20 });
    return { status: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string; killed?: boolean };
    return { status: e.killed ? -1 : (e.code ?? -1), stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

/** Runs every case, three at a time. */
async function runAll(all: Case[]): Promise<{ case: Case; result: Awaited<ReturnType<typeof strata>> }[]> {
  const results: { case: Case; result: Awaited<ReturnType<typeof strata>> }[] = [];
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < all.length; i = next++) results[i] = { case: all[i]!, result: await strata(all[i]!.args) };
  };
  await Promise.all([worker(), worker(), worker()]);
  return results;
}

describe('hostile inputs to the CLI', () => {
  test('each is refused with one line naming the file or flag, exit 1, no internal error', async () => {
    const all = cases();
    assert.ok(all.length > 80, `${all.length} cases`);
    const failures: string[] = [];
    for (const { case: c, result } of await runAll(all)) {
      const line = result.stderr.trimEnd();
      const problems = [
        result.status !== 1 && `exit ${result.status}`,
        result.stdout !== '' && `stdout ${JSON.stringify(result.stdout.slice(0, 80))}`,
        !/^strata: [^\n]+\n$/.test(result.stderr) && 'not one line',
        line.includes('internal error') && 'internal error',
        !line.includes(c.names) && `does not name ${c.names}`,
      ].filter(Boolean);
      if (problems.length > 0) failures.push(`strata ${c.args.map((a) => path.relative(dir, a) || a).join(' ')}: ${problems.join(', ')}: ${result.stderr.slice(0, 300)}`);
    }
    assert.deepEqual(failures, []);
  });
});
