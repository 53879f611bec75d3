// Image folders: class ids from sorted subfolder names, samples class by class in sorted file
// order, decoding and resizing by sharp (PNG, JPEG, grayscale, alpha), float32 in [0, 1]
// channels-last; undecodable images and empty folders are FormatErrors naming the path. The
// fixture images are written here with sharp.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { crc32, deflateSync } from 'node:zlib';
import sharp from 'sharp';
import { loadImageFolder } from '../../app/data/images.ts';

const scratch = mkdtempSync(path.join(tmpdir(), 'strata-images-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

/** A solid-color image file of `channels` channels (1 gray, 3 RGB, 4 RGBA). */
async function solid(file: string, width: number, height: number, pixel: number[], format: 'png' | 'jpeg' = 'png'): Promise<void> {
  mkdirSync(path.dirname(file), { recursive: true });
  const raw = Buffer.alloc(width * height * pixel.length);
  for (let i = 0; i < raw.length; i++) raw[i] = pixel[i % pixel.length]!;
  let image = sharp(raw, { raw: { width, height, channels: pixel.length as 1 | 3 | 4 } });
  if (pixel.length === 1) image = image.toColourspace('b-w');
  await (format === 'png' ? image.png() : image.jpeg({ quality: 95 })).toFile(file);
}

function assertFormatError(error: unknown, pattern: RegExp): true {
  assert.ok(error instanceof Error);
  assert.equal(error.name, 'FormatError');
  assert.match(error.message, pattern);
  assert.doesNotMatch(error.message, /\n/);
  return true;
}

/** Per-sample channel means of x (n, h, w, c). */
function means(x: { shape: number[]; data: ArrayLike<number> }): number[][] {
  const [n, h, w, c] = x.shape as [number, number, number, number];
  return Array.from({ length: n }, (_, s) =>
    Array.from({ length: c }, (_, ch) => {
      let sum = 0;
      for (let p = 0; p < h * w; p++) sum += x.data[(s * h * w + p) * c + ch]!;
      return sum / (h * w);
    }),
  );
}

describe('image folder', () => {
  const root = path.join(scratch, 'pets');
  before(async () => {
    await solid(path.join(root, 'dog', 'b.png'), 8, 6, [255, 0, 0]);
    await solid(path.join(root, 'dog', 'a.png'), 5, 5, [0, 255, 0, 128]); // RGBA: alpha is dropped
    await solid(path.join(root, 'cat', 'one.jpg'), 10, 10, [0, 0, 255], 'jpeg');
    await solid(path.join(root, 'cat', 'nested', 'two.png'), 3, 7, [51]); // grayscale
    await solid(path.join(root, 'bird', 'x.PNG'), 4, 4, [102, 153, 204]);
    writeFileSync(path.join(root, 'cat', 'notes.txt'), 'not an image');
    writeFileSync(path.join(root, 'bird', '.hidden.png'), 'skipped');
    await solid(path.join(root, 'top-level.png'), 2, 2, [0, 0, 0]); // not in a class folder: ignored
  });

  test('RGB: sorted class folders, files in sorted order, resized, float32 in [0, 1]', async () => {
    const data = await loadImageFolder(root, { size: [4, 3] });
    assert.deepEqual(data.classNames, ['bird', 'cat', 'dog']);
    assert.deepEqual(
      data.files.map((file) => path.relative(root, file)),
      ['bird/x.PNG', 'cat/nested/two.png', 'cat/one.jpg', 'dog/a.png', 'dog/b.png'],
    );
    assert.equal(data.size, 5);
    assert.equal(data.x[0]!.dtype, 'float32');
    assert.deepEqual(data.x[0]!.shape, [5, 4, 3, 3]);
    assert.deepEqual([...data.y[0]!.data], [0, 1, 1, 2, 2]);
    const m = means(data.x[0]!);
    assert.deepEqual(m[0], [102, 153, 204].map((v) => Math.fround(v / 255)));
    assert.deepEqual(m[1], [51, 51, 51].map((v) => Math.fround(v / 255)), 'grayscale repeated to 3 channels');
    m[2]!.forEach((v, i) => assert.ok(Math.abs(v - [0, 0, 1][i]!) < 0.03, `JPEG blue ${m[2]}`));
    assert.deepEqual(m[3], [0, 1, 0], 'alpha dropped');
    assert.deepEqual(m[4], [1, 0, 0]);
  });

  test('grayscale: one channel', async () => {
    const data = await loadImageFolder(root, { size: [2, 2], channels: 1 });
    assert.deepEqual(data.x[0]!.shape, [5, 2, 2, 1]);
    const m = means(data.x[0]!).map(([v]) => v!);
    assert.equal(m[1], Math.fround(51 / 255));
    // Luma as Pillow's convert('L'): 0.299 R + 0.587 G + 0.114 B, rounded.
    assert.equal(m[4], Math.fround(76 / 255), 'red');
    assert.equal(m[3], Math.fround(150 / 255), 'green');
    assert.equal(m[0], Math.fround(Math.round(0.299 * 102 + 0.587 * 153 + 0.114 * 204) / 255));
  });

  test('resizing keeps the layout: rows and columns, channels last', async () => {
    // 4x2: the left half black, the right half white; the top row red-tinted.
    const dir = path.join(scratch, 'layout', 'only');
    mkdirSync(dir, { recursive: true });
    const raw = Buffer.from([0, 0, 0, 0, 0, 0, 255, 255, 255, 255, 255, 255, 0, 0, 0, 0, 0, 0, 255, 255, 255, 255, 255, 255]);
    for (let i = 0; i < 2; i++) raw[i * 3] = 200; // top-left two pixels red-ish
    await sharp(raw, { raw: { width: 4, height: 2, channels: 3 } }).png().toFile(path.join(dir, 'img.png'));
    const data = await loadImageFolder(path.join(scratch, 'layout'), { size: [2, 2], interpolation: 'nearest' });
    const pixels = [...data.x[0]!.data].map((v) => Math.round(v * 255));
    assert.deepEqual(pixels, [200, 0, 0, 255, 255, 255, 0, 0, 0, 255, 255, 255]);
  });

  test('an image that cannot be decoded names the file', async () => {
    const dir = path.join(scratch, 'broken');
    await solid(path.join(dir, 'good', 'ok.png'), 2, 2, [1, 2, 3]);
    const bad = path.join(dir, 'good', 'truncated.png');
    writeFileSync(bad, (await sharp(path.join(dir, 'good', 'ok.png')).png().toBuffer()).subarray(0, 30));
    await assert.rejects(loadImageFolder(dir, { size: [2, 2] }), (error) => assertFormatError(error, new RegExp(`^${bad}: cannot decode the image: `)));
  });

  test('an image whose header declares more pixels than the limit, and a dataset array beyond the limit, are LimitErrors', async () => {
    const dir = path.join(scratch, 'huge');
    mkdirSync(path.join(dir, 'big'), { recursive: true });
    // A PNG header declaring 10000 x 10000 pixels (under sharp's own limit, over Strata's), a few bytes on disk.
    const chunk = (type: string, data: Buffer) => {
      const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
      const out = Buffer.alloc(12 + data.length);
      out.writeUInt32BE(data.length, 0);
      body.copy(out, 4);
      out.writeUInt32BE(crc32(body) >>> 0, 8 + data.length);
      return out;
    };
    const ihdr = Buffer.alloc(13);
    ihdr.writeUInt32BE(10_000, 0);
    ihdr.writeUInt32BE(10_000, 4);
    ihdr.set([8, 2, 0, 0, 0], 8);
    const png = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(Buffer.alloc(64))), chunk('IEND', Buffer.alloc(0))]);
    const bomb = path.join(dir, 'big', 'bomb.png');
    writeFileSync(bomb, png);
    await assert.rejects(loadImageFolder(dir, { size: [2, 2] }), (error: Error) => error.name === 'LimitError' && error.message === `${bomb}: the image is larger than the 67,108,864 pixels Strata decodes; scale it down first`);
    await assert.rejects(loadImageFolder(root, { size: [30_000, 30_000] }), (error: Error) => error.name === 'LimitError' && /images of 30000x30000x3 take .* as float32, more than the 2\.00 GB of one dataset array/.test(error.message));
  });

  test('folders without class subfolders or without images, and a missing folder', async () => {
    const flat = path.join(scratch, 'flat');
    await solid(path.join(flat, 'a.png'), 2, 2, [0, 0, 0]);
    await assert.rejects(loadImageFolder(flat, { size: [2, 2] }), (error) => assertFormatError(error, /flat: no class subfolders/));
    const empty = path.join(scratch, 'empty');
    mkdirSync(path.join(empty, 'a'), { recursive: true });
    writeFileSync(path.join(empty, 'a', 'readme.md'), '');
    await assert.rejects(loadImageFolder(empty, { size: [2, 2] }), (error) => assertFormatError(error, /empty: no images in its subfolders a/));
    await assert.rejects(loadImageFolder(path.join(scratch, 'absent'), { size: [2, 2] }), (error) => assertFormatError(error, /absent: cannot read the folder: no such file/));
  });

  test('bad options are ValueErrors', async () => {
    await assert.rejects(loadImageFolder(root, { size: [0, 4] }), { name: 'ValueError', message: /size must be \[height, width\]/ });
    await assert.rejects(loadImageFolder(root, { size: [4, 4], channels: 2 as 1 }), { name: 'ValueError', message: /channels must be 1 or 3/ });
  });
});
