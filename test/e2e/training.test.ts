// Training in the app end to end, as a user meets it: `strata serve` driven in Debian's
// Chromium. The Fashion-MNIST example trains one epoch and is evaluated and used to predict;
// a run is stopped in its second epoch and resumed; two learning rates are compared; a data
// file that does not fit the model is refused before training; a run `strata train --project`
// wrote is listed. Screenshots go to build/e2e-artifacts/; the responsiveness measurements
// (the longest main-thread task while a run streams, the app's throughput against `strata
// train`'s, how long Stop takes) go to build/e2e-artifacts/training-measurements.json and are
// reported, not asserted: they depend on the machine's load.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { Page } from 'playwright-core';
import { ndarray } from '../../app/data/ndarray.ts';
import { writeNpz } from '../../app/data/npz.ts';
import { readIdx } from '../../app/data/idx.ts';
import { FASHION_MNIST_DIR } from '../../app/data/idx.ts';
import { listRuns } from '../../app/io/runs.ts';
import { loadNativeEngine } from '../../app/engine/binding.ts';
import { ARTIFACTS, ROOT, WATCH_LONG_TASKS, longTasksBetween } from './browser.ts';
import { openApp, type AppUnderTest } from './serve.ts';

let scratch: string;
let root: string;
let stateDir: string;
let app: AppUnderTest;
let page: Page;
const measurements: Record<string, unknown> = {};

/** The first n Fashion-MNIST images and labels of a split, as uint8 pixels (the .npz loader scales them to [0, 1]). */
function fashionSlice(split: 'train' | 't10k', n: number) {
  const images = readIdx(path.join(FASHION_MNIST_DIR, `${split}-images-idx3-ubyte.gz`));
  const labels = readIdx(path.join(FASHION_MNIST_DIR, `${split}-labels-idx1-ubyte.gz`));
  const x = ndarray('uint8', [n, 28, 28, 1], (images.data as Uint8Array).slice(0, n * 784));
  const y = ndarray('int32', [n], Int32Array.from((labels.data as Uint8Array).slice(0, n)));
  return { x, y };
}

before(async () => {
  scratch = mkdtempSync(path.join(os.tmpdir(), 'strata-e2e-training-'));
  root = path.join(scratch, 'work');
  stateDir = path.join(scratch, 'state');
  mkdirSync(root);
  const train = fashionSlice('train', 12_000);
  const testSplit = fashionSlice('t10k', 2_000);
  writeNpz(path.join(root, 'fashion-small.npz'), { x_train: train.x, y_train: train.y, x_test: testSplit.x, y_test: testSplit.y });
  // Color images of another size: the classifier takes (28, 28, 1).
  writeNpz(path.join(root, 'wrong-shape.npz'), { x: ndarray('float32', [64, 32, 32, 3], new Float32Array(64 * 32 * 32 * 3)), y: ndarray('int32', [64], new Int32Array(64)) });
  app = await openApp(['--root', root, '--state-dir', stateDir], { setUp: (opened) => opened.addInitScript(WATCH_LONG_TASKS) });
  page = app.page;
  await page.goto(app.served.url);
});

after(async () => {
  writeFileSync(path.join(ARTIFACTS, 'training-measurements.json'), `${JSON.stringify(measurements, null, 2)}\n`);
  await app?.close();
  rmSync(scratch, { recursive: true, force: true });
  assert.deepEqual(app?.pageErrors ?? [], [], 'no uncaught error in the page');
});

async function screenshot(name: string) {
  await page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`) });
}

const section = (name: string) => page.getByRole('tablist', { name: 'Sections' }).getByRole('tab', { name });
const progress = () => page.getByRole('region', { name: 'Progress' });
const runRow = (id: string) => page.getByRole('table', { name: 'Runs', exact: true }).getByRole('row').filter({ hasText: id });

/** Waits until the loss chart draws more than n points (the page's CSP allows no string to be evaluated, so this polls). */
async function lossPointsOver(n: number, timeout = 30_000): Promise<number> {
  const loss = page.getByRole('figure', { name: 'loss chart' });
  for (const end = Date.now() + timeout; Date.now() < end; await page.waitForTimeout(50)) {
    const points = Number((await loss.getAttribute('data-points').catch(() => null)) ?? 0);
    if (points > n) return points;
  }
  throw new Error(`the loss chart did not draw more than ${n} points in ${timeout} ms`);
}
const now = () => page.evaluate(() => performance.now());
const longTasks = (from: number, to: number) => longTasksBetween(page, from, to);

/** Sets a spin button of the training settings. */
async function setSetting(name: string, value: string) {
  await page.getByRole('form', { name: 'Training settings' }).getByRole('spinbutton', { name, exact: true }).fill(value);
}

async function chooseData(file: string) {
  await section('Data').click();
  await page.getByRole('radio', { name: 'A file or folder' }).check();
  await page.getByRole('textbox', { name: 'Path' }).fill(file);
}

/** The id of the run the Train view's progress card shows, if it shows one. */
async function runOnCard(): Promise<string | undefined> {
  const card = progress();
  return (await card.isVisible()) ? /Run (\S+)/.exec(await card.innerText())?.[1] : undefined;
}

/** Starts a run in the Train view and resolves with its id once it has ended with `status`. */
async function trainUntil(status: string): Promise<string> {
  await section('Train').click();
  const previous = await runOnCard();
  await page.getByRole('button', { name: 'Start training' }).click();
  // The card shows the last run until the new one has started.
  let id = await runOnCard();
  for (const end = Date.now() + 60_000; id === previous && Date.now() < end; id = await runOnCard()) await page.waitForTimeout(100);
  assert.ok(id !== undefined && id !== previous, 'a new run started');
  await progress().getByText(status, { exact: true }).waitFor({ timeout: 300_000 });
  return id;
}

test('the Fashion-MNIST example\'s data: splits, classes and samples with their labels', async () => {
  await page.getByRole('list', { name: 'Examples' }).getByRole('button', { name: 'Open fashion-mnist-classifier.ts' }).click();
  await section('Data').click();
  await page.getByRole('list', { name: 'Training samples' }).getByRole('listitem').first().waitFor({ timeout: 120_000 });
  assert.ok(await page.getByRole('radio', { name: 'Fashion-MNIST' }).isChecked());
  const splits = await page.getByRole('table').first().innerText();
  assert.match(splits, /train\s+60,000\s+float32 \(60000, 28, 28, 1\)\s+0 … 1/);
  assert.match(splits, /test\s+10,000/);
  assert.equal(await page.getByRole('list', { name: 'Training samples' }).getByRole('listitem').count(), 24);
  assert.match((await page.getByRole('list', { name: 'Training samples' }).getByRole('listitem').first().getAttribute('aria-label'))!, /^Sample 0: Ankle boot$/);
  await screenshot('training-data');
});

test('one epoch at batch 128: the loss curve grows during the epoch, the progress bar moves, the test accuracy shown is above 80%', async () => {
  // `strata train` on the same model and data first, on the same machine, for the throughput comparison.
  const cli = spawnSync(process.execPath, [path.join(ROOT, 'app/cli/strata.js'), 'train', 'examples/fashion-mnist-classifier.ts', '--data', 'fashion-mnist', '--epochs', '1', '--batch-size', '128', '--json'], { cwd: ROOT, encoding: 'utf8' });
  assert.equal(cli.status, 0, cli.stderr);
  const cliEpoch = JSON.parse(cli.stdout.split('\n').find((line) => line.startsWith('{"epoch"'))!) as { seconds: number };

  await section('Train').click();
  await setSetting('batch_size', '128');
  assert.equal(await page.getByRole('form', { name: 'Training settings' }).getByRole('spinbutton', { name: 'epochs', exact: true }).inputValue(), '1');
  const started = await now();
  await page.getByRole('button', { name: 'Start training' }).click();
  const loss = page.getByRole('figure', { name: 'loss chart' });
  const bar = page.getByRole('progressbar', { name: 'Training progress' });
  await lossPointsOver(0, 120_000);
  const firstPointAt = await now();
  const first = { points: Number(await loss.getAttribute('data-points')), progress: Number(await bar.getAttribute('aria-valuenow')) };
  await lossPointsOver(first.points + 20);
  const second = { points: Number(await loss.getAttribute('data-points')), progress: Number(await bar.getAttribute('aria-valuenow')), text: await progress().innerText() };
  assert.match(second.text, /Epoch 1\/1 · step \d+\/469/, 'still in the epoch');
  assert.ok(second.points > first.points, 'the loss curve got new points during the epoch');
  assert.ok(second.progress > first.progress, `the progress bar moved: ${first.progress}% then ${second.progress}%`);
  await screenshot('training-live');
  const testAccuracy = progress().getByLabel('Test accuracy');
  await testAccuracy.waitFor({ timeout: 300_000 });
  const ended = await now();
  const accuracy = Number(/([\d.]+)%/.exec(await testAccuracy.innerText())![1]) / 100;
  assert.ok(accuracy > 0.8, `test accuracy ${accuracy}`);
  await screenshot('training-finished');

  const seen = await longTasks(started, ended);
  const tasks = seen.map((t) => t.duration);
  const project = path.join(stateDir, 'projects', readdirSync(path.join(stateDir, 'projects'))[0]!);
  const run = listRuns(project).runs[0]!;
  measurements.fashionEpoch = {
    testAccuracy: accuracy,
    longestTaskMs: tasks.length ? Math.max(...tasks) : 0,
    longTasksOver50Ms: tasks.length,
    longTasksOver100Ms: tasks.filter((d) => d > 100).length,
    // When each began, in ms after Start was clicked (the run took endedMs), to tell the run's start and end from its streaming.
    longTasks: seen.map((t) => ({ atMs: Math.round(t.start - started), ms: t.duration })),
    endedMs: Math.round(ended - started),
    firstPointMs: Math.round(firstPointAt - started),
    appEpochSeconds: run.epochSeconds[0],
    cliEpochSeconds: cliEpoch.seconds,
    appOverCliThroughput: cliEpoch.seconds / run.epochSeconds[0]!,
  };
});

test('data that does not fit the model is reported before training starts, naming both shapes', async () => {
  await chooseData('wrong-shape.npz');
  await page.getByRole('button', { name: 'Preview' }).click();
  const mismatch = page.getByRole('alert').filter({ hasText: 'The data does not fit' });
  await mismatch.waitFor({ timeout: 60_000 });
  assert.match(await mismatch.innerText(), /\(64, 32, 32, 3\).*\(None, 28, 28, 1\)/);
  const runsBefore = await runCount();
  await section('Train').click();
  await page.getByRole('button', { name: 'Start training' }).click();
  const refused = page.getByRole('alert').filter({ hasText: 'Training did not start' });
  await refused.waitFor();
  assert.match(await refused.innerText(), /\(64, 32, 32, 3\).*\(None, 28, 28, 1\)/);
  assert.equal(await runCount(), runsBefore, 'no run was created');
  await refused.getByRole('button', { name: 'Dismiss' }).click();
});

test('the device choice: the GPU is offered where the engine has CUDA, greyed out with the reason where it cannot train', async () => {
  const engine = loadNativeEngine();
  const cuda = engine.cudaStatus();
  await section('Train').click();
  const gpu = page.locator('select option[value="cuda"]');
  if (!engine.backends().includes('cuda')) return assert.equal(await gpu.count(), 0);
  assert.equal(await gpu.isDisabled(), !cuda.available);
  const note = page.getByText(/^GPU unavailable: /);
  if (cuda.available) assert.equal(await note.count(), 0);
  else assert.equal(await note.innerText(), `GPU unavailable: ${cuda.reason}`);
});

test('a 3-epoch run stopped in its second epoch is listed as stopped with its partial history; Resume finishes it', async () => {
  await chooseData('fashion-small.npz');
  await section('Train').click();
  await setSetting('epochs', '3');
  await setSetting('batch_size', '32');
  await page.getByRole('button', { name: 'Start training' }).click();
  await progress().getByText(/Epoch 2\/3 · step [1-9]\d*\//).waitFor({ timeout: 120_000 });
  const stopTime = await watchStop();
  await page.getByRole('button', { name: 'Stop' }).click();
  await progress().getByText('stopped', { exact: true }).waitFor({ timeout: 30_000 });
  measurements.stopMs = await stopTime();
  const card = await progress().innerText();
  assert.match(card, /stopped in epoch 2\/3 after step \d+\/375/);
  const runId = /Run (\S+)/.exec(card)![1]!;
  assert.equal(await page.getByRole('table').filter({ hasText: 'epoch' }).locator('tbody tr').count(), 1, 'the history has the one epoch finished');

  await section('Runs').click();
  const row = runRow(runId);
  assert.match(await row.innerText(), /stopped[\s\S]*1\/3 \(\+\d+\/375 steps\)/);
  await row.getByRole('checkbox').check();
  await page.getByRole('toolbar', { name: 'Ticked runs' }).getByRole('button', { name: 'Resume' }).click();
  await section('Train').click();
  await progress().getByText('finished', { exact: true }).waitFor({ timeout: 300_000 });
  assert.match(await progress().innerText(), new RegExp(`Run ${runId}`));
  assert.equal(await page.getByRole('table').filter({ hasText: 'epoch' }).locator('tbody tr').count(), 3);
  await section('Runs').click();
  assert.match(await runRow(runId).innerText(), /finished[\s\S]*3\/3/);
  await runRow(runId).getByRole('checkbox').uncheck();
});

test('two runs with different learning rates: their curves overlaid, their settings compared', async () => {
  await section('Train').click();
  await setSetting('epochs', '1');
  // A seed of their own: without one each run draws a random seed, and records it.
  await setSetting('seed', '7');
  await page.getByRole('combobox', { name: 'Learning rate schedule' }).selectOption('constant');
  const ids: string[] = [];
  for (const rate of ['0.001', '0.01']) {
    await setSetting('learning_rate', rate);
    ids.push(await trainUntil('finished'));
  }
  await section('Runs').click();
  for (const id of ids) await runRow(id).getByRole('checkbox').check();
  const legend = await page.getByRole('list', { name: 'loss values' }).innerText();
  for (const id of ids) assert.match(legend, new RegExp(`${id} loss \\(steps\\)`));
  const settings = page.getByRole('table', { name: 'Settings compared' });
  const rows = await settings.locator('tbody tr').allInnerTexts();
  assert.deepEqual(rows.map((r) => r.split('\t')[0]), ['learning_rate'], `only the learning rate differs:\n${rows.join('\n')}`);
  // Newest first, as in the runs table.
  assert.match(await settings.locator('thead').innerText(), new RegExp(`${ids[1]}\\s+${ids[0]}`));
  assert.match(rows[0]!, /learning_rate\s+0\.01\s+0\.001/);
  await screenshot('training-runs');
});

test('the confusion matrix appears, and clicking a cell filters the samples to those mistakes', async () => {
  await section('Evaluate').click();
  const fashionRun = await page.getByRole('combobox', { name: 'Run' }).locator('option').last().getAttribute('value');
  await page.getByRole('combobox', { name: 'Run' }).selectOption(fashionRun!);
  await page.getByRole('button', { name: 'Evaluate', exact: true }).click();
  const matrix = page.getByRole('group', { name: /Confusion matrix/ });
  await matrix.waitFor({ timeout: 120_000 });
  // The most frequent mistake: the largest cell off the diagonal.
  const cells = await matrix.getByRole('button').evaluateAll((buttons) => buttons.map((b) => b.getAttribute('aria-label')!));
  const mistakes = cells
    .map((label) => /^True (.+), predicted (.+): (\d+) samples$/.exec(label)!)
    .filter(([, truth, predicted]) => truth !== predicted)
    .sort((a, b) => Number(b[3]) - Number(a[3]));
  const [label, truth, predicted, count] = mistakes[0]!;
  await matrix.getByRole('button', { name: label, exact: true }).click();
  const grid = page.getByRole('list', { name: 'Evaluated samples' });
  await grid.getByRole('listitem').nth(Math.min(Number(count), 48) - 1).waitFor();
  const shown = await grid.getByRole('listitem').evaluateAll((items) => items.map((item) => item.getAttribute('aria-label')!));
  assert.equal(shown.length, Math.min(Number(count), 48));
  for (const sample of shown) assert.match(sample, new RegExp(`^Sample \\d+: ${escape(truth!)}, → ${escape(predicted!)} \\d+%$`));
  await screenshot('training-evaluate');
});

test('predicting on PNG files from the test set shows their top classes', async () => {
  await section('Predict').click();
  const pictures = ['ankle-boot.png', 'bag.png', 'sneaker.png', 'trouser.png'];
  await page.getByLabel('Files to predict on').setInputFiles(pictures.map((name) => path.join(ROOT, 'examples/images', name)));
  const prediction = page.getByRole('listitem', { name: 'Prediction for ankle-boot.png' });
  await prediction.waitFor({ timeout: 60_000 });
  const text = await prediction.innerText();
  assert.match(text, /^ankle-boot\.png\s+Ankle boot\s+\d+\.\d%/);
  assert.equal((text.match(/%/g) ?? []).length, 5, 'the five top classes');
  for (const name of pictures) await page.getByRole('listitem', { name: `Prediction for ${name}` }).waitFor();
  await screenshot('training-predict');
});

test('a run `strata train --project` wrote appears in that project\'s runs', async () => {
  const cliProject = path.join(root, 'cli-project');
  const cli = spawnSync(process.execPath, [path.join(ROOT, 'app/cli/strata.js'), 'train', 'examples/fashion-mnist-classifier.ts', '--data', path.join(root, 'fashion-small.npz'), '--epochs', '1', '--batch-size', '128', '--project', cliProject, '--json'], { cwd: ROOT, encoding: 'utf8' });
  assert.equal(cli.status, 0, cli.stderr);
  const runId = (JSON.parse(cli.stdout.trim().split('\n').at(-1)!) as { run: string }).run;
  await section('Runs').click();
  await page.getByRole('button', { name: 'Use another folder…' }).click();
  const dialog = page.getByRole('dialog', { name: 'Use a folder as the project' });
  await dialog.getByRole('button', { name: 'Folder cli-project' }).click();
  await dialog.getByRole('button', { name: 'Use this folder' }).click();
  const row = runRow(runId);
  await row.waitFor();
  assert.match(await row.innerText(), /finished[\s\S]*strata train[\s\S]*1\/1/);
});

/**
 * Watches, in the page, for the click on Stop and for the progress card to say the run
 * stopped; resolves with a function giving the ms between the two, timed by the page's own
 * clock (the driver's round trips and polling left out).
 */
async function watchStop(): Promise<() => Promise<number>> {
  await page.evaluate(() => {
    // The page's DOM, typed as far as this uses it (these tests compile without the DOM's types).
    type Element = { closest(selector: string): Element | null; textContent: string | null; innerText: string };
    const doc = (globalThis as unknown as { document: { body: object; querySelector(s: string): Element | null; addEventListener(type: string, f: (e: { target: Element }) => void, o: object): void } }).document;
    const Observer = (globalThis as unknown as { MutationObserver: new (f: () => void) => { observe(node: object, options: object): void } }).MutationObserver;
    const times: { clicked?: number; shown?: number } = {};
    (globalThis as unknown as { stopTimes: typeof times }).stopTimes = times;
    doc.addEventListener('click', (event) => void (event.target.closest('button')?.textContent?.trim() === 'Stop' && (times.clicked ??= performance.now())), { capture: true });
    new Observer(() => {
      if (times.clicked !== undefined && times.shown === undefined && /\bstopped\b/.test(doc.querySelector('[aria-label="Progress"]')?.innerText ?? '')) times.shown = performance.now();
    }).observe(doc.body, { subtree: true, childList: true, characterData: true });
  });
  return () => page.evaluate(() => {
    const { clicked, shown } = (globalThis as unknown as { stopTimes: { clicked?: number; shown?: number } }).stopTimes;
    return shown! - clicked!;
  });
}

async function runCount(): Promise<number> {
  const projects = path.join(stateDir, 'projects');
  return readdirSync(projects).reduce((n, folder) => n + listRuns(path.join(projects, folder)).runs.length, 0);
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

test('a project trains its model as edited, unsaved: runs go to the app\'s folder for it until it is saved, then to the project\'s folder', async () => {
  await page.keyboard.press('Control+n');
  const dialog = page.getByRole('dialog', { name: 'New model' });
  await dialog.getByRole('option', { name: 'MLP' }).click();
  await dialog.getByRole('button', { name: 'Create' }).click();
  await dialog.waitFor({ state: 'hidden' });
  await page.getByRole('listbox', { name: 'Layers' }).locator('[data-row="hidden"]').click();
  await page.getByRole('complementary').getByLabel('units', { exact: true }).fill('32');
  // 784*32 + 32 + 32*10 + 10: the template has 128 hidden units (101,770 parameters).
  await page.locator('footer.status', { hasText: /25,450 parameters/ }).waitFor();

  await chooseData('fashion-small.npz');
  await section('Train').click();
  await setSetting('batch_size', '128');
  await page.locator('footer.status', { hasText: "Runs in the app's folder for this model" }).waitFor();
  const first = await trainUntil('finished');
  const projects = path.join(stateDir, 'projects');
  const run = readdirSync(projects).flatMap((folder) => listRuns(path.join(projects, folder)).runs).find((r) => r.id === first);
  assert.equal(run?.model.params, 25_450, 'the model as edited trained');
  await screenshot('training-project');

  // The editor kept its history while the run trained; saved, the project keeps its runs in its folder.
  await section('Model').click();
  assert.equal(await page.getByRole('button', { name: 'Undo' }).isEnabled(), true);
  await page.keyboard.press('Control+Shift+s');
  const save = page.getByRole('dialog', { name: 'Save the project' });
  await save.getByRole('textbox', { name: 'Project folder' }).fill('mlp-project');
  await save.getByRole('button', { name: 'Save', exact: true }).click();
  await save.waitFor({ state: 'hidden' });
  await section('Train').click();
  await page.locator('footer.status', { hasText: 'Runs in mlp-project' }).waitFor();
  assert.equal(await page.getByRole('form', { name: 'Training settings' }).getByRole('spinbutton', { name: 'batch_size', exact: true }).inputValue(), '128', 'the settings stay');
  const second = await trainUntil('finished');
  assert.deepEqual(listRuns(path.join(root, 'mlp-project')).runs.map((r) => r.id), [second]);
});
