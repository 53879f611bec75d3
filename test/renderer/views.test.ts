// The views with the mock host (renderer/harness), in Chromium: what the window does with
// what the host answers, independent of any server or engine process. The host's answers are
// made by the engine's own document code (DocumentStore) from the seed models and a corrupt
// file; the engine's crash is an event the test emits.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { Page } from 'playwright-core';
import type { OpenedDocument } from '../../app/contract/api.ts';
import { DocumentStore } from '../../app/host/documents.ts';
import { TrainingService } from '../../app/host/training.ts';
import type { HarnessFixture, HarnessGlobal } from '../../renderer/harness/fixture.ts';
import { buildPage, launchBrowser, ROOT, serveStatic, type Browser } from '../e2e/browser.ts';
import { runRecord } from '../io/run_fixture.ts';

const EXAMPLES = ['product-image-classifier.ts', 'purchase-predictor.ts'];
const OUT = path.join(ROOT, 'build/test-renderer/harness');

async function makeFixture(scratch: string): Promise<HarnessFixture> {
  const store = new DocumentStore();
  const fixture: HarnessFixture = { examples: [], documents: {}, failures: {}, weights: {}, initializers: {}, training: await trainingAnswers(store) };
  for (const name of EXAMPLES) {
    const relative = `examples/${name}`;
    const document = (await store.open(path.join(ROOT, relative))) as OpenedDocument & { kind: 'model' };
    fixture.examples.push({ name, path: relative, kind: 'model-module' });
    fixture.documents[relative] = { ...document, path: relative };
    fixture.weights[document.id] = Object.fromEntries(document.graph.nodes.filter((n) => n.params > 0).map((n) => [n.id, store.layerWeights(document.id, n.id)]));
  }
  const broken = path.join(scratch, 'broken.onnx');
  writeFileSync(broken, Uint8Array.from({ length: 64 }, (_, i) => (i * 37) % 256));
  const error = (await store.open(broken).then(() => assert.fail('a corrupt file opened'), (e: Error) => e)) as Error;
  fixture.failures['broken.onnx'] = { name: error.name, message: error.message.replaceAll(scratch + path.sep, '') };
  return fixture;
}

/**
 * The training sections' answers: the purchase predictor's defaults as the engine makes them,
 * one finished run, and Predict as a model of two inputs and two outputs answers: 'buy' a
 * classifier, 'spend' values; files named mismatch-*.npy fail as samples that do not agree.
 */
async function trainingAnswers(store: DocumentStore): Promise<HarnessFixture['training']> {
  const document = await store.open(path.join(ROOT, 'examples/purchase-predictor.ts'));
  const defaults = await new TrainingService(store, () => {}).defaults(document.id);
  const sample = (name: string) => [
    { name, output: 'buy', top: [{ classId: 1, label: '1', probability: 0.75 }, { classId: 0, label: '0', probability: 0.25 }] },
    { name, output: 'spend', top: [], values: [12.5] },
  ];
  const [buy0, spend0] = sample('images.npy + texts.npy [0]');
  const [buy1, spend1] = sample('images.npy + texts.npy [1]');
  return {
    project: { path: 'projects/purchase', inAppFolder: true },
    defaults,
    runs: [runRecord('run-1')],
    signature: { inputs: [{ name: 'image_features_input', shape: [null, 64, 64, 3] }, { name: 'text_features_input', shape: [null, 100] }], outputs: [{ name: 'buy', shape: [null, 1] }, { name: 'spend', shape: [null, 1] }] },
    predictions: [buy0!, buy1!, spend0!, spend1!],
    predictFailures: { 'mismatch-texts.npy': { name: 'UserError', message: "input 'image_features_input' (images.npy) has 2 samples, input 'text_features_input' (mismatch-texts.npy) has 3 samples: the files of the inputs must have as many samples each" } },
  };
}

let browser: Browser;
let server: Awaited<ReturnType<typeof serveStatic>>;
let scratch: string;
let fixture: HarnessFixture;

before(async () => {
  scratch = mkdtempSync(path.join(os.tmpdir(), 'strata-views-'));
  await buildPage(path.join(ROOT, 'renderer/harness'), OUT);
  fixture = await makeFixture(scratch);
  mkdirSync(OUT, { recursive: true });
  writeFileSync(path.join(OUT, 'fixture.json'), JSON.stringify(fixture));
  server = await serveStatic(OUT);
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.close();
  rmSync(scratch, { recursive: true, force: true });
});

const pageErrors = new WeakMap<Page, string[]>();

async function openPage(): Promise<Page> {
  const page = await browser.context.newPage();
  const errors: string[] = [];
  pageErrors.set(page, errors);
  page.on('pageerror', (error) => errors.push(error.message));
  await page.goto(server.url);
  await page.getByRole('heading', { name: 'Open a model' }).waitFor();
  return page;
}

/** Closes the page, which must have thrown nothing along the way. */
async function closePage(page: Page) {
  await page.close();
  assert.deepEqual(pageErrors.get(page), [], 'no uncaught error in the page');
}

const calls = (page: Page) => page.evaluate(() => (globalThis as unknown as HarnessGlobal).harness.host.calls.map((call) => [call.method, ...call.params.map(String)]));

async function openExample(page: Page, name: string) {
  await page.getByRole('button', { name: `Open ${name}` }).click();
  await page.getByRole('group', { name: `Graph of ${name}` }).locator('.node').first().waitFor();
}

test('Ctrl+O opens the file browser, which lists the host\'s files; Escape closes it', async () => {
  const page = await openPage();
  await page.keyboard.press('Control+o');
  const dialog = page.getByRole('dialog', { name: 'Open a model' });
  await dialog.waitFor();
  assert.deepEqual(await dialog.getByRole('button', { name: /^Open / }).allTextContents().then((texts) => texts.map((t) => t.trim().split(/\s+/)[0])), EXAMPLES);
  await page.keyboard.press('Escape');
  await dialog.waitFor({ state: 'hidden' });
  await closePage(page);
});

test('a layer\'s panel shows its weights\' shapes and statistics; Escape goes back to the model, then closes the panel', async () => {
  const page = await openPage();
  await openExample(page, 'product-image-classifier.ts');
  const graph = page.getByRole('group', { name: 'Graph of product-image-classifier.ts' });
  assert.equal(await graph.locator('.node').count(), 9);
  await graph.getByRole('button', { name: 'conv2, Conv2D' }).click();
  const panel = page.getByRole('complementary', { name: 'Node properties' });
  const kernel = panel.getByRole('article', { name: 'kernel statistics' });
  await kernel.waitFor();
  assert.match(await kernel.innerText(), /kernel\s+\(3, 3, 32, 64\)\s+float32 · 18,432 values\s+min\s+-0\.08\d+\s+max\s+0\.08\d+\s+mean/);
  assert.match((await kernel.getByRole('img').getAttribute('aria-label'))!, /^Histogram of kernel: 32 bins from -0\.08\d+ to 0\.08\d+/);
  assert.deepEqual(
    (await calls(page)).filter(([method]) => method === 'layerWeights'),
    [['layerWeights', fixture.documents['examples/product-image-classifier.ts']!.id, 'conv2']],
  );
  await page.keyboard.press('Escape');
  await page.getByRole('complementary', { name: 'Model properties' }).getByText('822,922 (3.14 MB)').first().waitFor();
  await page.keyboard.press('Escape');
  await page.getByRole('complementary').waitFor({ state: 'detached' });
  await page.getByRole('button', { name: 'Properties panel' }).click();
  await page.getByRole('complementary', { name: 'Model properties' }).waitFor();
  await closePage(page);
});

test('Ctrl+F finds layers by name; Enter goes to the first and shows it', async () => {
  const page = await openPage();
  await openExample(page, 'purchase-predictor.ts');
  await page.keyboard.press('Control+f');
  const search = page.getByRole('combobox', { name: 'Find in graph' });
  assert.equal(await search.evaluate((element) => element.matches(':focus')), true);
  await search.fill('dense_text');
  assert.deepEqual(await page.getByRole('listbox', { name: 'Matching nodes' }).getByRole('option').allInnerTexts().then((t) => t.map((s) => s.split('\n')[0])), [
    'dense_text_1',
    'dense_text_2',
  ]);
  assert.equal(await page.locator('.node.match').count(), 2);
  await search.press('Enter');
  await page.getByRole('complementary', { name: 'Node properties' }).getByRole('heading', { name: 'dense_text_1' }).waitFor();
  assert.equal(await page.locator('.node.selected').getAttribute('data-id'), 'dense_text_1');
  await closePage(page);
});

test('a file that fails to open shows the engine\'s message in a banner, and the app keeps working', async () => {
  const page = await openPage();
  // As the desktop's Open Recent or a second launch asks the window to open a file.
  await page.evaluate(() => (globalThis as unknown as HarnessGlobal).harness.host.emit('openRequested', { path: 'broken.onnx' }));
  const alert = page.getByRole('alert').filter({ hasText: 'Could not open broken.onnx' });
  await alert.waitFor();
  assert.ok((await alert.innerText()).includes(fixture.failures['broken.onnx']!.message));
  await openExample(page, 'purchase-predictor.ts');
  await alert.waitFor({ state: 'detached' });
  await closePage(page);
});

test('when the engine stops, a banner offers Restart, which restarts it and opens the document again', async () => {
  const page = await openPage();
  await openExample(page, 'product-image-classifier.ts');
  await page.evaluate(() => (globalThis as unknown as HarnessGlobal).harness.host.emit('engineState', { state: 'crashed', message: 'the engine process was killed by SIGSEGV' }));
  const banner = page.getByRole('alert').filter({ hasText: 'The engine process stopped' });
  assert.match(await banner.innerText(), /the engine process was killed by SIGSEGV/);
  await banner.getByRole('button', { name: 'Restart engine' }).click();
  await page.evaluate(() => (globalThis as unknown as HarnessGlobal).harness.host.emit('engineState', { state: 'ready' }));
  await banner.waitFor({ state: 'detached' });
  await page.getByRole('group', { name: 'Graph of product-image-classifier.ts' }).locator('.node').first().waitFor();
  const methods = (await calls(page)).map(([method, ...params]) => `${method}(${params.join(', ')})`);
  assert.deepEqual(methods.slice(methods.indexOf('restartEngine()')), ['restartEngine()', 'open(examples/product-image-classifier.ts)', 'recentFiles()']);
  await closePage(page);
});

test('Export saves the graph as SVG and PNG files and the model through the host', async () => {
  const page = await openPage();
  await openExample(page, 'purchase-predictor.ts');
  await page.getByRole('button', { name: 'Export' }).click();
  const [svgDownload] = await Promise.all([page.waitForEvent('download'), page.getByRole('menuitem', { name: 'Graph as SVG' }).click()]);
  assert.equal(svgDownload.suggestedFilename(), 'purchase-predictor.svg');
  const svg = readFileSync((await svgDownload.path())!, 'utf8');
  assert.match(svg, /^<\?xml version="1.0" encoding="UTF-8"\?>\n<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
  assert.equal((svg.match(/<g transform="translate/g) ?? []).length, 12, 'a box per layer');
  const [width, height] = /width="(\d+)" height="(\d+)"/.exec(svg)!.slice(1).map(Number) as [number, number];
  await page.getByRole('button', { name: 'Export' }).click();
  const [pngDownload] = await Promise.all([page.waitForEvent('download'), page.getByRole('menuitem', { name: 'Graph as PNG' }).click()]);
  assert.equal(pngDownload.suggestedFilename(), 'purchase-predictor.png');
  const png = readFileSync((await pngDownload.path())!);
  assert.deepEqual([...png.subarray(0, 8)], [137, 80, 78, 71, 13, 10, 26, 10], 'a PNG signature');
  // IHDR: twice the SVG's size.
  assert.deepEqual([png.readUInt32BE(16), png.readUInt32BE(20)], [width * 2, height * 2]);
  await page.getByRole('button', { name: 'Export' }).click();
  const [onnx] = await Promise.all([page.waitForEvent('download'), page.getByRole('menuitem', { name: 'Model as ONNX' }).click()]);
  const id = fixture.documents['examples/purchase-predictor.ts']!.id;
  assert.equal(readFileSync((await onnx.path())!, 'utf8'), `onnx of ${id}`);
  await page.getByRole('status').filter({ hasText: `Downloaded ${id}.onnx` }).waitFor();
  await closePage(page);
});

test('every control has an accessible name: the start page, the Model view with its panel, the Export menu and the Open dialog', async () => {
  const page = await openPage();
  const unnamed = async (where: string) => {
    // The accessibility tree as Playwright reads it: an unnamed control shows as its role alone.
    const tree = await page.locator('body').ariaSnapshot();
    const lines = tree.split('\n').filter((line) => /^\s*- (button|link|textbox|combobox|searchbox|tab|menuitem|option|checkbox|slider)(\s*\[[^\]]*\])?:?\s*$/.test(line));
    assert.deepEqual(lines, [], `${where}: controls without a name`);
  };
  await unnamed('start page');
  await openExample(page, 'purchase-predictor.ts');
  await page.getByRole('group', { name: 'Graph of purchase-predictor.ts' }).getByRole('button', { name: 'dense_text_1, Dense' }).click();
  await page.getByRole('article', { name: 'kernel statistics' }).waitFor();
  await unnamed('model view');
  await page.getByRole('button', { name: 'Export' }).click();
  await unnamed('export menu');
  await page.keyboard.press('Escape');
  await page.keyboard.press('Control+o');
  await page.getByRole('dialog', { name: 'Open a model' }).waitFor();
  await unnamed('open dialog');
  await closePage(page);
});

test('a file dropped on the window is sent to the host by name and content', async () => {
  const page = await openPage();
  await page.evaluate(() => {
    // The page's own DOM classes (this test's TypeScript knows Node's globals, not the DOM's).
    const dom = globalThis as unknown as Record<'DataTransfer' | 'File' | 'DragEvent', new (...args: unknown[]) => any> & { dispatchEvent(event: unknown): boolean };
    const transfer = new dom.DataTransfer();
    transfer.items.add(new dom.File([new Uint8Array([8, 7, 18, 4])], 'dropped.onnx'));
    dom.dispatchEvent(new dom.DragEvent('dragover', { dataTransfer: transfer, cancelable: true }));
    dom.dispatchEvent(new dom.DragEvent('drop', { dataTransfer: transfer, cancelable: true }));
  });
  await page.getByRole('alert').filter({ hasText: 'Could not open dropped.onnx' }).waitFor();
  const dropped = await page.evaluate(() =>
    (globalThis as unknown as HarnessGlobal).harness.host.calls.filter((call) => call.method === 'openDropped').map((call) => [call.params[0], [...(call.params[1] as Uint8Array)]]),
  );
  assert.deepEqual(dropped, [['dropped.onnx', [8, 7, 18, 4]]]);
  await closePage(page);
});

test('Predict for a model of two inputs: one file per input, labelled with its name and shape; a count mismatch is shown with the choices kept; results grouped by output', async () => {
  const page = await openPage();
  await openExample(page, 'purchase-predictor.ts');
  await page.getByRole('tablist', { name: 'Sections' }).getByRole('tab', { name: 'Predict' }).click();
  const inputs = page.getByRole('list', { name: 'Model inputs' });
  await inputs.waitFor();
  assert.deepEqual(await inputs.getByRole('listitem').allInnerTexts().then((rows) => rows.map((row) => row.replace(/\s+/g, ' ').trim())), [
    'image_features_input (None, 64, 64, 3) Choose file… no file chosen',
    'text_features_input (None, 100) Choose file… no file chosen',
  ]);
  const predict = page.getByRole('button', { name: 'Predict', exact: true });
  assert.ok(await predict.isDisabled(), 'Predict waits for a file per input');
  const npy = (name: string) => ({ name, mimeType: 'application/octet-stream', buffer: Buffer.from(name) });
  await page.getByLabel('File for image_features_input', { exact: true }).setInputFiles(npy('images.npy'));
  assert.ok(await predict.isDisabled());
  await page.getByLabel('File for text_features_input', { exact: true }).setInputFiles(npy('mismatch-texts.npy'));
  await predict.click();
  const alert = page.getByRole('alert').filter({ hasText: 'Could not predict with run run-1' });
  await alert.waitFor();
  assert.match(await alert.innerText(), /input 'image_features_input' \(images\.npy\) has 2 samples, input 'text_features_input' \(mismatch-texts\.npy\) has 3 samples/);
  assert.match(await inputs.innerText(), /images\.npy[\s\S]*mismatch-texts\.npy/, 'the choices stay');

  await page.getByLabel('File for text_features_input', { exact: true }).setInputFiles(npy('texts.npy'));
  await predict.click();
  const buy = page.getByRole('region', { name: 'Output buy' });
  await buy.waitFor();
  await alert.waitFor({ state: 'detached' });
  assert.match(await buy.getByRole('heading', { level: 2 }).innerText(), /^buy \(None, 1\)$/);
  assert.match(await buy.getByRole('listitem', { name: 'Prediction for images.npy + texts.npy [0]' }).innerText(), /^images\.npy \+ texts\.npy \[0\]\s+1\s+75\.0%\s+0\s+25\.0%$/);
  assert.match(await page.getByRole('region', { name: 'Output spend' }).getByRole('listitem', { name: 'Prediction for images.npy + texts.npy [1]' }).innerText(), /^images\.npy \+ texts\.npy \[1\]\s+12\.50$/);
  const sent = await page.evaluate(() =>
    (globalThis as unknown as HarnessGlobal).harness.host.calls
      .filter((call) => call.method === 'predictRun')
      .map((call) => [call.params[0], call.params[1], (call.params[2] as { name: string; input?: string; bytes: Uint8Array }[]).map((file) => [file.name, file.input, file.bytes.length])]),
  );
  assert.deepEqual(sent, [
    ['projects/purchase', 'run-1', [['images.npy', 'image_features_input', 10], ['mismatch-texts.npy', 'text_features_input', 18]]],
    ['projects/purchase', 'run-1', [['images.npy', 'image_features_input', 10], ['texts.npy', 'text_features_input', 9]]],
  ]);
  await closePage(page);
});
