// A model file's own data in the app end to end, as a newcomer meets it: `strata serve` in
// Debian's Chromium, the LSTM example opened from the start page. The Data section offers
// "The model file's data", chosen by default, and previews it (its description, splits and
// classes); one epoch trains on it and is tested on its test split. The Data section's
// screenshot goes to build/e2e-artifacts/training-data-model-file.png.
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { Page } from 'playwright-core';
import { ARTIFACTS } from './browser.ts';
import { openAppInScratch, type ScratchApp } from './serve.ts';

let app: ScratchApp;
let page: Page;

before(async () => {
  app = await openAppInScratch('model-data');
  page = app.page;
});

after(async () => {
  await app?.close();
  assert.deepEqual(app?.pageErrors ?? [], [], 'no uncaught error in the page');
});

const section = (name: string) => page.getByRole('tablist', { name: 'Sections' }).getByRole('tab', { name });

test('the LSTM example: its own data chosen by default and previewed, one epoch trained and tested on it', async () => {
  await page.getByRole('list', { name: 'Examples' }).getByRole('button', { name: 'Open lstm-sequence-classifier.ts' }).click();
  await section('Data').click();
  const samples = page.getByRole('list', { name: 'Training samples' }).getByRole('listitem');
  await samples.first().waitFor({ timeout: 120_000 });
  assert.ok(await page.getByRole('radio', { name: "The model file's data" }).isChecked());
  assert.match(await page.getByRole('region', { name: 'Training data' }).innerText(), /Built in code by the data\(\) function that lstm-sequence-classifier\.ts exports/);
  await page.getByRole('heading', { name: /^token sequences \(20 of 10 tokens\) labelled by whether 1, 2, 3 occurs in order \(lstm-sequence-classifier\.ts's data\)$/ }).waitFor();
  const splits = await page.getByRole('table').first().innerText();
  assert.match(splits, /train\s+2,000\s+int32 \(2000, 20\)\s+0 … 9/);
  assert.match(splits, /test\s+500/);
  assert.match((await samples.first().getAttribute('aria-label'))!, /^Sample 0: (no motif|motif)$/);
  assert.equal(await page.getByRole('alert').filter({ hasText: 'does not fit' }).count(), 0);
  await page.screenshot({ path: path.join(ARTIFACTS, 'training-data-model-file.png') });

  await section('Train').click();
  await page.getByRole('button', { name: 'Start training' }).click();
  const progress = page.getByRole('region', { name: 'Progress' });
  await progress.getByText('finished', { exact: true }).waitFor({ timeout: 300_000 });
  const accuracy = Number(/([\d.]+)%/.exec(await progress.getByLabel('Test accuracy').innerText())![1]) / 100;
  assert.ok(accuracy >= 0 && accuracy <= 1, `a test accuracy: ${accuracy}`);
});
