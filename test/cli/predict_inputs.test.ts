// `strata predict` on the inputs a user has after training: a saved model folder fed an image
// file, a folder of images, or CSV rows. Each is checked against the same model fed a .npy of
// what the training loaders would have made of that input (pixels / 255, channels last; the
// CSV's numbers), written independently of the code under test.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { ndarray } from '../../app/data/ndarray.ts';
import { readNpy, writeNpy } from '../../app/data/npy.ts';
import { saveModel } from '../../app/io/model_store.ts';
import { Conv2D, Dense, Flatten, Sequential, setRandomSeed } from '../../app/model/index.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
const scratch = mkdtempSync(path.join(tmpdir(), 'strata-predict-inputs-'));
after(() => rmSync(scratch, { recursive: true, force: true }));
const at = (name: string) => path.join(scratch, name);

function strata(...args: string[]) {
  const result = spawnSync(process.execPath, [path.join(root, 'app/cli/strata.js'), ...args], { cwd: scratch, encoding: 'utf8' });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** The model's output for the input, through `predict --output`. */
function predict(model: string, ...inputArgs: string[]): Float32Array {
  const out = at(`y-${Math.random().toString(36).slice(2)}.npy`);
  const result = strata('predict', model, ...inputArgs, '--output', out);
  assert.equal(result.code, 0, result.stderr);
  return readNpy(out).data as Float32Array;
}

// 2 x 3 RGB pixels, and the same as the float32 array training on an image folder gives.
const PIXELS = [255, 0, 0, 0, 128, 255, 10, 20, 30, 200, 100, 50, 0, 0, 0, 255, 255, 255];
const SCALED = ndarray('float32', [1, 2, 3, 3], Float32Array.from(PIXELS, (v) => v / 255));

before(async () => {
  setRandomSeed(5);
  const images = new Sequential([new Conv2D(2, [1, 1], { inputShape: [2, 3, 3], name: 'c' }), new Flatten(), new Dense(4, { activation: 'softmax', name: 'p' })], { name: 'images' });
  saveModel(images, at('image-model'), { classNames: ['cat', 'dog', 'bird', 'fish'] });
  const rows = new Sequential([new Dense(2, { inputShape: [3], name: 'd' })], { name: 'rows' });
  saveModel(rows, at('row-model'));
  mkdirSync(at('photos/sub'), { recursive: true });
  await sharp(Buffer.from(PIXELS), { raw: { width: 3, height: 2, channels: 3 } }).png().toFile(at('photos/b.png'));
  await sharp(Buffer.from(PIXELS.map((v) => 255 - v)), { raw: { width: 3, height: 2, channels: 3 } }).png().toFile(at('photos/sub/a.png'));
  writeNpy(at('scaled.npy'), SCALED);
  writeNpy(at('inverted.npy'), ndarray('float32', [1, 2, 3, 3], Float32Array.from(PIXELS, (v) => (255 - v) / 255)));
});

describe('strata predict with images and CSV rows', () => {
  test('an image file is scaled to [0, 1], channels last, as the image-folder loader does', () => {
    assert.deepEqual(predict('image-model', '--input', 'photos/b.png'), predict('image-model', '--input', 'scaled.npy'));
  });

  test('a folder of images is one batch, in sorted path order, and the printout names each file and its class', () => {
    const both = predict('image-model', '--input', 'photos');
    assert.deepEqual(both.subarray(0, 4), predict('image-model', '--input', 'photos/b.png'));
    assert.deepEqual(both.subarray(4), predict('image-model', '--input', 'inverted.npy'));
    const printed = strata('predict', 'image-model', '--input', 'photos');
    assert.equal(printed.code, 0, printed.stderr);
    // The saved folder records the class names; each line names the most likely one.
    assert.match(printed.stdout, /^photos\/b\.png: (cat|dog|bird|fish) \(0\.\d+\)\nphotos\/sub\/a\.png: (cat|dog|bird|fish) \(0\.\d+\)$/m);
  });

  test('an image for an input that is not (batch, h, w, 1 or 3) is a one-line error naming both', () => {
    const result = strata('predict', 'row-model', '--input', 'photos/b.png');
    assert.equal(result.code, 1);
    assert.match(result.stderr, /^strata: photos\/b\.png: an image feeds an input of shape \(batch, height, width, 1 or 3\); input 'd_input' has shape \(batch, 3\)\n$/);
  });

  test('CSV rows with or without a header; --label-column leaves the label out', () => {
    writeNpy(at('rows.npy'), ndarray('float32', [2, 3], Float32Array.from([1, 2.5, -3, 0, 4, 1e-3])));
    const expected = predict('row-model', '--input', 'rows.npy');
    writeFileSync(at('plain.csv'), '1,2.5,-3\n0,4,0.001\n');
    writeFileSync(at('header.csv'), 'a,b,c\n1,2.5,-3\n0,4,0.001\n');
    writeFileSync(at('labelled.csv'), 'a,label,b,c\n1,cat,2.5,-3\n0,dog,4,0.001\n');
    assert.deepEqual(predict('row-model', '--input', 'plain.csv'), expected);
    assert.deepEqual(predict('row-model', '--input', 'header.csv'), expected);
    assert.deepEqual(predict('row-model', '--input', 'labelled.csv', '--label-column', 'label'), expected);
    assert.deepEqual(predict('row-model', '--input', 'labelled.csv', '--label-column', '1'), expected);
  });

  test('a CSV with one column too many says to leave the label out', () => {
    writeFileSync(at('extra.csv'), 'a,b,c,label\n1,2,3,0\n');
    const result = strata('predict', 'row-model', '--input', 'extra.csv');
    assert.equal(result.code, 1);
    assert.match(result.stderr, /^strata: extra\.csv: 4 feature columns, input 'd_input' takes 3; if one of them is the label, leave it out with --label-column\n$/);
  });

  test('a model file says its weights are freshly initialised, not trained', () => {
    writeNpy(at('four.npy'), ndarray('float32', [1, 4], Float32Array.from([1, 2, 3, 4])));
    const result = strata('predict', path.join(root, 'test/fixtures/models/tiny-classifier.ts'), '--input', 'four.npy');
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /tiny-classifier\.ts is a model file: its weights are freshly initialised, not trained/);
  });
});
