// A regression model in the app end to end: `strata serve` with a model file that exports its
// own data (test/fixtures/models/prices-regression.ts, mean squared error) trains, and Evaluate
// shows its errors (MAE, RMSE, R²), its predictions against the true values and the samples
// with the largest errors first, not a confusion matrix of made-up classes. Trained with the
// mae metric ticked in the Train settings, the training view draws its chart (train and val_)
// and History its columns. A model of two outputs (test/fixtures/models/two-losses.ts: a
// sigmoid classifier 'p' and a value 'q') shows each output by its own loss. The screenshots go
// to build/e2e-artifacts/: training-regression-mae.png (the training view at 1024x700),
// training-evaluate-regression.png and training-evaluate-two-outputs.png.
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { Page } from 'playwright-core';
import { ARTIFACTS, ROOT } from './browser.ts';
import { openAppInScratch, type ScratchApp } from './serve.ts';

let app: ScratchApp;
let page: Page;

before(async () => {
  app = await openAppInScratch('regression', [path.join(ROOT, 'test/fixtures/models/prices-regression.ts')]);
  page = app.page;
});

after(async () => {
  await app?.close();
  assert.deepEqual(app?.pageErrors ?? [], [], 'no uncaught error in the page');
});

/** A number as the view writes it: toPrecision and formatMetric give exponents to the very small (3.83e-4). */
const NUMBER = String.raw`-?[\d.]+(?:e[+-]?\d+)?`;

const section = (name: string) => page.getByRole('tablist', { name: 'Sections' }).getByRole('tab', { name });

test('a regression model trains and is evaluated by its errors: MAE, RMSE, R², predicted against true, the largest errors first', async () => {
  await section('Train').click();
  const form = page.getByRole('form', { name: 'Training settings' });
  await form.getByRole('spinbutton', { name: 'epochs', exact: true }).fill('20');
  // a regression loss offers the errors, not accuracy; mae logs beside the loss, with its val_ twin
  assert.equal(await form.getByRole('checkbox', { name: 'accuracy', exact: true }).count(), 0, 'no accuracy for mean squared error');
  await form.getByRole('checkbox', { name: 'mae', exact: true }).check();
  await form.getByRole('combobox', { name: 'Validation' }).selectOption('split');
  await page.getByRole('button', { name: 'Start training' }).click();
  await page.getByRole('region', { name: 'Progress' }).getByText('finished', { exact: true }).waitFor({ timeout: 300_000 });
  const maeChart = page.getByRole('figure', { name: 'mae chart' });
  await maeChart.waitFor();
  assert.match(await maeChart.getByRole('list', { name: 'mae values' }).innerText(), /val_mae/);
  const history = page.getByRole('region', { name: 'History' });
  for (const name of ['mae', 'val_mae']) assert.equal(await history.getByRole('columnheader', { name, exact: true }).count(), 1, `History has ${name}`);
  await page.setViewportSize({ width: 1024, height: 700 });
  await page.screenshot({ path: path.join(ARTIFACTS, 'training-regression-mae.png') });
  await page.setViewportSize({ width: 1440, height: 900 });
  await section('Evaluate').click();
  assert.match(await page.getByRole('combobox', { name: 'Run' }).locator('option').first().innerText(), /· finished · test mae [\d.e-]+$/);
  await page.getByRole('button', { name: 'Evaluate', exact: true }).click();
  const chart = page.getByRole('figure', { name: /^Predicted against true: 100 values$/ });
  await chart.waitFor({ timeout: 120_000 });
  assert.equal(await page.getByRole('group', { name: /Confusion matrix/ }).count(), 0, 'no confusion matrix for a regression model');
  const metrics = await page.getByRole('region', { name: /^Run \S+ on the test split/ }).innerText();
  const r2 = Number(/R²\s+(-?[\d.]+)/.exec(metrics)?.[1]);
  assert.ok(r2 > 0.5, `R² ${r2} in:\n${metrics}`);
  // the run logged mae: evaluate()'s mae stands for it (not a second MAE beside it); RMSE is the section's own
  assert.match(metrics, new RegExp(String.raw`mae\s+${NUMBER}\s+RMSE\s+${NUMBER}`));
  assert.doesNotMatch(metrics, /MAE/);
  assert.match(metrics, /samples\s+100/);
  const samples = page.getByRole('list', { name: 'Evaluated samples' }).getByRole('listitem');
  await samples.first().waitFor();
  const labels = await samples.evaluateAll((items) => items.slice(0, 2).map((item) => item.getAttribute('aria-label')!));
  const off = labels.map((label) => Number(new RegExp(String.raw`\(off by (${NUMBER})\)$`).exec(label)?.[1]));
  assert.ok(off.every(Number.isFinite) && off[0]! >= off[1]!, `largest error first: ${labels.join(' | ')}`);
  await page.screenshot({ path: path.join(ARTIFACTS, 'training-evaluate-regression.png') });
});

test('a model of two outputs: Evaluate shows each by its own loss, a confusion matrix for p and errors for q', async () => {
  const two = await openAppInScratch('two-outputs', [path.join(ROOT, 'test/fixtures/models/two-losses.ts')]);
  try {
    const at = two.page;
    const tab = (name: string) => at.getByRole('tablist', { name: 'Sections' }).getByRole('tab', { name });
    await tab('Train').click();
    await at.getByRole('form', { name: 'Training settings' }).getByRole('spinbutton', { name: 'epochs', exact: true }).fill('5');
    await at.getByRole('button', { name: 'Start training' }).click();
    await at.getByRole('region', { name: 'Progress' }).getByText('finished', { exact: true }).waitFor({ timeout: 300_000 });
    await tab('Evaluate').click();
    await at.getByRole('button', { name: 'Evaluate', exact: true }).click();
    const outputs = at.getByRole('group', { name: 'Output' });
    await outputs.waitFor({ timeout: 120_000 });
    assert.deepEqual(await outputs.getByRole('button').allInnerTexts(), ['p', 'q']);
    await at.getByRole('heading', { name: 'Confusion matrix' }).waitFor();
    await outputs.getByRole('button', { name: 'q' }).click();
    await at.getByRole('figure', { name: /^Predicted against true: 32 values$/ }).waitFor();
    assert.equal(await at.getByRole('heading', { name: 'Confusion matrix' }).count(), 0, "q is a regression output: no confusion matrix");
    const samples = at.getByRole('list', { name: 'Evaluated samples' }).getByRole('listitem');
    await samples.first().waitFor();
    const label = (await samples.first().getAttribute('aria-label'))!;
    assert.match(label, new RegExp(String.raw`, ${NUMBER} → ${NUMBER} \(off by ${NUMBER}\)$`), `q's caption names q's own true value: ${label}`);
    await at.screenshot({ path: path.join(ARTIFACTS, 'training-evaluate-two-outputs.png') });
    assert.deepEqual(two.pageErrors, []);
  } finally {
    await two.close();
  }
});
