// Predict with a model of two inputs in the app end to end: `strata serve` in Debian's
// Chromium, the purchase predictor example (image features and text features) trained one
// epoch on its own data, then one .npy file chosen per input; files whose sample counts
// differ are refused by name with the choices kept. The section's screenshots at 1024x700 and
// 720x480, and of the refusal, go to build/e2e-artifacts/training-predict-inputs-*.png.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { Page } from 'playwright-core';
import { ndarray } from '../../app/data/ndarray.ts';
import { writeNpy } from '../../app/data/npy.ts';
import { RandomGenerator } from '../../app/model/random.ts';
import { ARTIFACTS } from './browser.ts';
import { openAppInScratch, type ScratchApp } from './serve.ts';

let files: string;
let app: ScratchApp;
let page: Page;

/** `rows` samples of `shape` around 0.5, as the example's own data has them. */
function npy(name: string, rows: number, shape: number[]): string {
  const random = new RandomGenerator(rows);
  const size = rows * shape.reduce((a, b) => a * b, 1);
  const file = path.join(files, name);
  writeNpy(file, ndarray('float32', [rows, ...shape], Float32Array.from({ length: size }, () => 0.5 + 0.2 * random.normal())));
  return file;
}

before(async () => {
  app = await openAppInScratch('predict-inputs', [], { viewport: { width: 1024, height: 700 } });
  page = app.page;
  files = path.join(app.scratch, 'picked');
  mkdirSync(files);
});

after(async () => {
  await app?.close();
  assert.deepEqual(app?.pageErrors ?? [], [], 'no uncaught error in the page');
});

const section = (name: string) => page.getByRole('tablist', { name: 'Sections' }).getByRole('tab', { name });

test('the purchase predictor trained one epoch predicts from one file per input; files of different sample counts are refused naming both inputs', async () => {
  await page.getByRole('list', { name: 'Examples' }).getByRole('button', { name: 'Open purchase-predictor.ts' }).click();
  await section('Train').click();
  await page.getByRole('button', { name: 'Start training' }).click();
  await page.getByRole('region', { name: 'Progress' }).getByText('finished', { exact: true }).waitFor({ timeout: 300_000 });

  await section('Predict').click();
  const inputs = page.getByRole('list', { name: 'Model inputs' });
  await inputs.waitFor({ timeout: 60_000 });
  assert.match(await inputs.getByRole('listitem', { name: 'Input image_features_input' }).innerText(), /^image_features_input\s+\(None, 64, 64, 3\)/);
  assert.match(await inputs.getByRole('listitem', { name: 'Input text_features_input' }).innerText(), /^text_features_input\s+\(None, 100\)/);
  await page.getByLabel('File for image_features_input', { exact: true }).setInputFiles(npy('images.npy', 3, [64, 64, 3]));
  await page.getByLabel('File for text_features_input', { exact: true }).setInputFiles(npy('texts-of-two.npy', 2, [100]));
  await page.getByRole('button', { name: 'Predict', exact: true }).click();
  const refused = page.getByRole('alert').filter({ hasText: 'Could not predict' });
  await refused.waitFor({ timeout: 60_000 });
  assert.match(await refused.innerText(), /input 'image_features_input' \(images\.npy\) has 3 samples, input 'text_features_input' \(texts-of-two\.npy\) has 2 samples/);
  assert.match(await inputs.innerText(), /images\.npy[\s\S]*texts-of-two\.npy/, 'the choices stay');
  await page.screenshot({ path: path.join(ARTIFACTS, 'training-predict-inputs-refused.png') });

  await page.getByLabel('File for text_features_input', { exact: true }).setInputFiles(npy('texts.npy', 3, [100]));
  await page.getByRole('button', { name: 'Predict', exact: true }).click();
  const predictions = page.getByRole('list', { name: 'Predictions' }).getByRole('listitem', { name: /^Prediction for / });
  await predictions.first().waitFor({ timeout: 60_000 });
  assert.deepEqual(
    await predictions.evaluateAll((items) => items.map((item) => item.getAttribute('aria-label'))),
    [0, 1, 2].map((row) => `Prediction for images.npy + texts.npy [${row}]`),
  );
  // One sigmoid unit trained with binary cross-entropy: a classifier of two classes.
  assert.match(await predictions.first().innerText(), /^images\.npy \+ texts\.npy \[0\]\s+[01]\s+\d+\.\d%\s+[01]\s+\d+\.\d%$/);
  assert.equal(await refused.count(), 0, 'the refusal is gone');

  await page.screenshot({ path: path.join(ARTIFACTS, 'training-predict-inputs-1024.png') });
  await page.setViewportSize({ width: 720, height: 480 });
  await page.screenshot({ path: path.join(ARTIFACTS, 'training-predict-inputs-720.png') });
});
