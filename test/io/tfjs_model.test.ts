// TensorFlow.js model.json files written to attack or confuse the loader: shard paths that
// lead out of the model's folder, manifests of the wrong shape, impossible weight shapes.
// Each is one error naming the model.json and the manifest entry; nothing outside is read.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { readTfjsModel } from '../../app/io/tfjs_model.ts';
import { Dense, Sequential, StrataUserError } from '../../app/model/index.ts';

const scratch = mkdtempSync(path.join(tmpdir(), 'strata-tfjs-manifest-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

const topology = JSON.parse(new Sequential([new Dense(2, { inputShape: [2], name: 'd' })], { name: 'tiny' }).toJSON());
const SPECS = [
  { name: 'd/kernel', shape: [2, 2], dtype: 'float32' },
  { name: 'd/bias', shape: [2], dtype: 'float32' },
];
const WEIGHTS = new Float32Array([1, 2, 3, 4, 5, 6]);
// A file outside every model folder, with enough bytes to pass for the weights.
const SECRET = path.join(scratch, 'secret.bin');
writeFileSync(SECRET, Buffer.alloc(64, 7));

let counter = 0;
/** A model folder with a shard and a model.json whose manifest is `manifest`; returns the model.json. */
function modelDir(manifest: unknown, setup: (dir: string) => void = () => {}): string {
  const dir = path.join(scratch, `m${counter++}`, 'model');
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'shard.bin'), new Uint8Array(WEIGHTS.buffer));
  setup(dir);
  const file = path.join(dir, 'model.json');
  writeFileSync(file, JSON.stringify({ modelTopology: topology, weightsManifest: manifest }));
  return file;
}

function load(file: string) {
  return readTfjsModel(file, readFileSync(file, 'utf8'));
}

function refused(file: string, pattern: RegExp): void {
  assert.throws(
    () => load(file),
    (error: Error) => {
      assert.ok(error instanceof StrataUserError, `${error.name}: ${error.message}`);
      assert.ok(error.message.startsWith(`${file}: `), error.message);
      assert.match(error.message, pattern);
      assert.doesNotMatch(error.message, /\n/);
      return true;
    },
  );
}

describe('TensorFlow.js weights manifest', () => {
  test('a well-formed model folder loads with its weights', () => {
    const { model } = load(modelDir([{ paths: ['shard.bin'], weights: SPECS }]));
    assert.deepEqual([...model.getWeights()[0]!, ...model.getWeights()[1]!], [...WEIGHTS]);
  });

  test('shard paths that lead out of the folder are refused, naming the entry', () => {
    refused(modelDir([{ paths: ['../../secret.bin'], weights: SPECS }]), /weightsManifest\[0\]\.paths\[0\] "\.\.\/\.\.\/secret\.bin": a path through "\.\.", outside the model's folder/);
    refused(modelDir([{ paths: ['shard.bin', SECRET], weights: SPECS }]), /weightsManifest\[0\]\.paths\[1\] ".*secret\.bin": an absolute path, outside/);
    refused(modelDir([{ paths: ['link.bin'], weights: SPECS }], (dir) => symlinkSync(SECRET, path.join(dir, 'link.bin'))), /paths\[0\] "link\.bin": a symbolic link to .*secret\.bin, outside/);
    refused(modelDir([{ paths: ['sub/../../../secret.bin'], weights: SPECS }]), /a path through "\.\."/);
  });

  test('a link that stays inside the folder is followed', () => {
    const file = modelDir([{ paths: ['link.bin'], weights: SPECS }], (dir) => symlinkSync(path.join(dir, 'shard.bin'), path.join(dir, 'link.bin')));
    assert.equal(load(file).model.countParams(), 6);
  });

  test('shards that are not regular files, or missing', () => {
    refused(modelDir([{ paths: ['pipe.bin'], weights: SPECS }], (dir) => spawnSync('mkfifo', [path.join(dir, 'pipe.bin')])), /paths\[0\] "pipe\.bin": cannot read: it is a FIFO/);
    refused(modelDir([{ paths: ['.'], weights: SPECS }]), /paths\[0\] "\.": cannot read: it is a folder/);
    refused(modelDir([{ paths: ['nope.bin'], weights: SPECS }]), /paths\[0\] "nope\.bin": cannot read: no such file/);
  });

  test('manifests of the wrong shape name the field', () => {
    const cases: [unknown, RegExp][] = [
      [{ paths: ['shard.bin'] }, /weightsManifest must be a list of weight groups/],
      [[{ paths: 'shard.bin', weights: SPECS }], /weightsManifest\[0\]\.paths must be a list of shard file names, got "shard\.bin"/],
      [[{ paths: ['shard.bin'], weights: null }], /weightsManifest\[0\]\.weights must be a list of weight specs, got null/],
      [[null], /weightsManifest\[0\] must be an object/],
      [[{ paths: ['shard.bin'], weights: [SPECS[0], 'bias'] }], /weightsManifest\[0\]\.weights\[1\] must be an object/],
      [[{ paths: ['shard.bin'], weights: [{ ...SPECS[0], name: 7 }, SPECS[1]] }], /weights\[0\]\.name must be a weight name, got 7/],
      [[{ paths: ['shard.bin'], weights: [{ ...SPECS[0], shape: [-2, -2] }, SPECS[1]] }], /weights\[0\]\.shape must be a list of sizes \(integers >= 0\), got \[-2,-2\]/],
      [[{ paths: ['shard.bin'], weights: [{ ...SPECS[0], shape: [2.5, 2] }, SPECS[1]] }], /weights\[0\]\.shape must be a list of sizes/],
      [[{ paths: ['shard.bin'], weights: [{ ...SPECS[0], dtype: 'string' }, SPECS[1]] }], /weights\[0\]\.dtype must be one of float32, int32, bool, got "string"/],
      [[{ paths: ['shard.bin'], weights: [{ ...SPECS[0], quantization: { dtype: 'int4' } }, SPECS[1]] }], /weights\[0\]\.quantization\.dtype must be one of uint8, uint16, float16/],
      [[{ paths: ['shard.bin'], weights: [{ ...SPECS[0], quantization: { dtype: 'uint8', scale: 'big' } }, SPECS[1]] }], /quantization\.scale must be a finite number/],
    ];
    for (const [manifest, pattern] of cases) refused(modelDir(manifest), pattern);
  });

  test("a weight's shape must be the model's, not only its element count", () => {
    refused(modelDir([{ paths: ['shard.bin'], weights: [{ ...SPECS[0], shape: [4, 1] }, SPECS[1]] }]), /weight "d\/kernel" has shape \[4, 1\], the model's has \[2, 2\]/);
  });

  test('a declared size beyond the shards is refused before anything is allocated', () => {
    refused(modelDir([{ paths: ['shard.bin'], weights: [{ ...SPECS[0], shape: [100000, 100000] }, SPECS[1]] }]), /weight "d\/kernel" needs bytes 0\.\.40000000000, but the shards shard\.bin hold 24/);
  });
});
