// The app end to end, as a user meets it: `strata serve` (the CLI, its engine process, the
// built views) driven in Debian's Chromium. Opens the seed models and ONNX files Strata did not
// write, a corrupt file, an export opened again, and the engine killed by a signal. Saves a
// screenshot of each view to build/e2e-artifacts/.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { unzipSync } from 'fflate';
import type { Locator, Page } from 'playwright-core';
import { formatShape, summaryData } from '../../app/model/index.ts';
import productImageClassifier from '../../examples/product-image-classifier.ts';
import purchasePredictor from '../../examples/purchase-predictor.ts';
import { makeSmallGraphs } from '../host/foreign_models.ts';
import { ARTIFACTS, ROOT } from './browser.ts';
import { mobilenetOnnx } from './foreign_onnx.ts';
import { enginePid, openApp, type AppUnderTest } from './serve.ts';

let scratch: string;
let app: AppUnderTest;
let page: Page;

before(async () => {
  scratch = mkdtempSync(path.join(os.tmpdir(), 'strata-e2e-'));
  const root = path.join(scratch, 'models');
  mkdirSync(root);
  makeSmallGraphs(root);
  copyFileSync(mobilenetOnnx(), path.join(root, 'mobilenet_v3_small.onnx'));
  writeFileSync(path.join(root, 'broken.onnx'), Uint8Array.from({ length: 256 }, (_, i) => (i * 131 + 7) % 256));
  app = await openApp([path.join(root, 'conv_pool.onnx'), '--root', root, '--state-dir', path.join(scratch, 'state')]);
  page = app.page;
});

after(async () => {
  await app?.close();
  rmSync(scratch, { recursive: true, force: true });
  assert.deepEqual(app?.pageErrors ?? [], [], 'no uncaught error in the page');
});

/** Saves the window as build/e2e-artifacts/NAME.png, once sure nothing of the frame lies outside it. */
async function screenshot(name: string) {
  const width = page.viewportSize()!.width;
  const outside: string[] = [];
  for (const part of await page.locator('header button, header input, aside, footer, [role="alert"]').all()) {
    const box = await part.boundingBox();
    if (box && box.x + box.width > width + 0.5) outside.push((await part.getAttribute('aria-label')) ?? (await part.innerText()).slice(0, 40));
  }
  assert.deepEqual(outside, [], `${name}: parts of the window beyond its right edge`);
  await page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`) });
}
const graph = (title: string) => page.getByRole('group', { name: `Graph of ${title}` });

/** Waits for the graph to be drawn; if it never is, the window's state is saved to look at. */
async function waitForGraph(title: string) {
  try {
    await graph(title).locator('.node').first().waitFor({ timeout: 60_000 });
  } catch (error) {
    await screenshot(`failed-${title}`);
    throw error;
  }
}

async function openFromBrowser(name: string) {
  await page.keyboard.press('Control+o');
  const dialog = page.getByRole('dialog', { name: 'Open a model' });
  await dialog.getByRole('button', { name: `Open ${name}` }).click();
  await dialog.waitFor({ state: 'hidden' });
}

async function closeDocument(title: string) {
  await page.getByRole('button', { name: `Close ${title}`, exact: true }).click();
  await page.getByRole('heading', { name: 'Open a model' }).waitFor();
}

/** Every layer is a box with its class and name, showing the output shape Keras's summary gives it. */
async function assertEveryLayerShown(title: string, summary: ReturnType<typeof summaryData>) {
  for (const row of summary.rows) {
    const box = graph(title).getByRole('button', { name: `${row.name}, ${row.className}`, exact: true });
    const text = (await box.textContent())!;
    const shapes = row.outputShapes!;
    const expected = shapes.length === 1 ? formatShape(shapes[0]!) : `[${shapes.map(formatShape).join(', ')}]`;
    assert.ok(text.includes(`output${expected}`), `${row.name}'s box shows its output shape ${expected}: ${text}`);
  }
}

test('the file given to strata serve opens with the page: an ONNX file made with onnx.helper, shapes inferred', async () => {
  await page.goto(app.served.url);
  await waitForGraph('conv_pool.onnx');
  assert.equal(new URL(page.url()).searchParams.get('token'), null, 'the token is exchanged for a cookie and leaves the URL');
  // 11 nodes, the graph input and output.
  assert.equal(await graph('conv_pool.onnx').locator('.node').count(), 13);
  const properties = page.getByRole('complementary', { name: 'ONNX model properties' });
  assert.match(await properties.innerText(), /Producer\s+onnx_graphs\.py[\s\S]*Opsets\s+ai\.onnx v13/);
  await graph('conv_pool.onnx').getByRole('button', { name: 'Gemm' }).click();
  const node = page.getByRole('complementary', { name: 'Node properties' });
  assert.match(await node.innerText(), /ATTRIBUTES\s+transB\s+1/);
  assert.match(await node.innerText(), /OUTPUTS\s+output\s+logits\s+float32\[batch,10\]\s+inferred/);
  const fc = node.getByRole('article', { name: 'B · fc statistics' });
  await fc.waitFor();
  assert.match(await fc.innerText(), /\(10, 6\)\s+float32 · 60 values\s+min\s+-?\d/);
  await screenshot('inspect-onnx-helper');
});

test('the start page lists the examples; a Sequential model shows its summary, every layer with its output shape, and conv2\'s weights', async () => {
  await closeDocument('conv_pool.onnx');
  await screenshot('start-page');
  await page.getByRole('list', { name: 'Examples' }).getByRole('button', { name: 'Open product-image-classifier.ts' }).click();
  await waitForGraph('product-image-classifier.ts');
  const summary = summaryData(productImageClassifier);
  await assertEveryLayerShown('product-image-classifier.ts', summary);
  await screenshot('model-graph');
  await graph('product-image-classifier.ts').getByRole('button', { name: 'conv2, Conv2D' }).click();
  const kernel = page.getByRole('complementary', { name: 'Node properties' }).getByRole('article', { name: 'kernel statistics' });
  await kernel.waitFor();
  assert.match(await kernel.innerText(), /kernel\s+\(3, 3, 32, 64\)\s+float32 · 18,432 values\s+min\s+-0\.0\d+\s+max\s+0\.0\d+\s+mean\s+-?\d[\d.e-]*\s+std\s+0\.0\d+/);
  assert.match((await kernel.getByRole('img').getAttribute('aria-label'))!, /^Histogram of kernel: 32 bins/);
  await screenshot('model-layer-panel');
  await page.getByRole('tab', { name: 'Summary' }).click();
  const table = page.getByRole('region', { name: `Summary of ${summary.name}` });
  assert.match(await table.innerText(), /Total params\s+822,922 \(3\.14 MB\)/);
  await screenshot('model-summary');
});

test('a Functional model with two inputs: 799,233 parameters, every layer with its output shape', async () => {
  await closeDocument('product-image-classifier.ts');
  await page.getByRole('list', { name: 'Examples' }).getByRole('button', { name: 'Open purchase-predictor.ts' }).click();
  await waitForGraph('purchase-predictor.ts');
  await assertEveryLayerShown('purchase-predictor.ts', summaryData(purchasePredictor));
  assert.match(await page.getByRole('complementary', { name: 'Model properties' }).innerText(), /Total\s+799,233 \(3\.05 MB\)/);
  await screenshot('model-functional');
});

test('a torchvision model exported by PyTorch (178 nodes): the graph, a node\'s attributes and its weights, the producer', async () => {
  await openFromBrowser('mobilenet_v3_small.onnx');
  await waitForGraph('mobilenet_v3_small.onnx');
  const properties = page.getByRole('complementary', { name: 'ONNX model properties' });
  assert.match(await properties.innerText(), /Producer\s+pytorch 1\.\d+[\s\S]*Nodes\s+178/);
  await screenshot('inspect-torchvision');
  // Drawn from its top at full size, only what is near the window is in the page; zoomed out, all of it is.
  const boxes = graph('mobilenet_v3_small.onnx').locator('.node');
  assert.ok((await boxes.count()) < 100);
  await graph('mobilenet_v3_small.onnx').focus();
  for (let step = 0; step < 14; step++) await page.keyboard.press('-');
  // PyTorch's 37 Identity nodes (shared weights) are rows of their convolutions: 141 boxes, the input and the output.
  await boxes.nth(142).waitFor({ state: 'attached' });
  assert.equal(await boxes.count(), 143);
  await page.keyboard.press('0');
  const firstConv = graph('mobilenet_v3_small.onnx').getByRole('button', { name: '/features/features.0/features.0.0/Conv, Conv' });
  await firstConv.click();
  const node = page.getByRole('complementary', { name: 'Node properties' });
  assert.match(await node.innerText(), /kernel_shape\s+\[3, 3\][\s\S]*strides\s+\[2, 2\]/);
  assert.match(await node.innerText(), /INPUTS\s+X\s+image\s+float32\[batch,3,224,224\]/);
  const weight = node.getByRole('article', { name: /^W · .+ statistics$/ });
  await weight.waitFor();
  assert.match(await weight.innerText(), /\(16, 3, 3, 3\)\s+float32 · 432 values/);
  await screenshot('inspect-torchvision-node');
});

test('a corrupt file shows the error in the window, and the app keeps working', async () => {
  await openFromBrowser('broken.onnx');
  const alert = page.getByRole('alert').filter({ hasText: 'Could not open broken.onnx' });
  await alert.waitFor();
  assert.match(await alert.innerText(), /broken\.onnx: /);
  await screenshot('error-banner');
  await closeDocument('mobilenet_v3_small.onnx');
  await page.getByRole('list', { name: 'Recent files' }).getByRole('button', { name: 'Open conv_pool.onnx' }).click();
  await waitForGraph('conv_pool.onnx');
  await alert.waitFor({ state: 'detached' });
});

test('export ONNX and a PyTorch package from the Model view, and open the ONNX file again as a model', async () => {
  await closeDocument('conv_pool.onnx');
  await page.getByRole('list', { name: 'Examples' }).getByRole('button', { name: 'Open product-image-classifier.ts' }).click();
  await waitForGraph('product-image-classifier.ts');
  await page.getByRole('button', { name: 'Export' }).click();
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('menuitem', { name: 'Model as ONNX' }).click()]);
  assert.equal(download.suggestedFilename(), 'product-image-classifier.onnx');
  await download.saveAs(path.join(scratch, 'models', 'exported.onnx'));
  await page.getByRole('button', { name: 'Export' }).click();
  const [pytorch] = await Promise.all([page.waitForEvent('download'), page.getByRole('menuitem', { name: 'Model for PyTorch (zip)' }).click()]);
  assert.equal(pytorch.suggestedFilename(), 'product-image-classifier-pytorch.zip');
  const members = Object.keys(unzipSync(readFileSync((await pytorch.path())!)));
  assert.ok(members.includes('product-image-classifier-pytorch/model.py'), members.join(', '));
  await openFromBrowser('exported.onnx');
  await waitForGraph('exported.onnx');
  const properties = page.getByRole('complementary', { name: 'Model properties' });
  assert.match(await properties.innerText(), /Format\s+ONNX exported by Strata[\s\S]*Weights\s+trained \(from the file\)[\s\S]*Total\s+822,922/);
  await assertEveryLayerShown('exported.onnx', summaryData(productImageClassifier));
});

test('the engine process killed by a signal: the window says so and Restart brings the document back', async () => {
  const pid = enginePid(app.served);
  assert.ok(pid, 'strata serve runs its engine in a child process');
  process.kill(pid, 'SIGSEGV');
  const banner = page.getByRole('alert').filter({ hasText: 'The engine process stopped' });
  await banner.waitFor();
  assert.match(await banner.innerText(), /SIGSEGV/);
  await screenshot('engine-stopped');
  await banner.getByRole('button', { name: 'Restart engine' }).click();
  await banner.waitFor({ state: 'detached' });
  await waitForGraph('exported.onnx');
  assert.notEqual(enginePid(app.served), pid);
});

/** Runs `steps` in a window of `size`, then gives the window its usual size again. */
async function inWindowOf(size: { width: number; height: number }, steps: () => Promise<void>) {
  await page.setViewportSize(size);
  try {
    await steps();
  } finally {
    await page.setViewportSize({ width: 1440, height: 900 });
  }
}

async function openExample(name: string) {
  await page.getByRole('list', { name: 'Examples' }).getByRole('button', { name: `Open ${name}` }).click();
  await waitForGraph(name);
}

test('in a 1024x700 window every control of the toolbar lies inside it: the Model view, the editor, a training section, an ONNX file', async () => {
  await inWindowOf({ width: 1024, height: 700 }, async () => {
    await closeDocument('exported.onnx');
    await openExample('lstm-sequence-classifier.ts');
    await screenshot('small-window-model');
    await page.getByRole('button', { name: 'Edit', exact: true }).click();
    await page.getByRole('tablist', { name: 'Editors' }).waitFor();
    await screenshot('small-window-editor');
    await page.getByRole('tablist', { name: 'Sections' }).getByRole('tab', { name: 'Train' }).click();
    await page.getByRole('button', { name: 'Start training' }).waitFor();
    await screenshot('small-window-train');
    await page.getByRole('button', { name: /^Close / }).click();
    // The project the editor made is not saved yet.
    await page.getByRole('dialog').getByRole('button', { name: "Don't save" }).click();
    await page.getByRole('heading', { name: 'Open a model' }).waitFor();
    await openFromBrowser('mobilenet_v3_small.onnx');
    await waitForGraph('mobilenet_v3_small.onnx');
    await screenshot('small-window-inspect');
  });
});

/** The engine's state in the status bar is shown whole (its text not cut). */
async function assertEngineStateWhole(name: string) {
  const engine = page.locator('footer:visible .engine');
  const [shown, full] = await engine.evaluate((element) => [element.clientWidth, element.scrollWidth]);
  assert.ok(shown! >= full!, `${name}: the engine's state "${await engine.innerText()}" is cut (${shown} of ${full} px shown)`);
}

test('in the desktop window\'s smallest size, 720x480, the toolbar\'s controls lie inside it, the engine\'s state shows whole, the graph editor\'s canvas keeps half the height, the Train view\'s smoothing stays in it', async () => {
  await inWindowOf({ width: 720, height: 480 }, async () => {
    await closeDocument('mobilenet_v3_small.onnx');
    await openExample('purchase-predictor.ts');
    await screenshot('smallest-window-model');
    await assertEngineStateWhole('smallest-window-model');
    await page.getByRole('button', { name: 'Edit', exact: true }).click();
    await page.getByRole('tablist', { name: 'Editors' }).getByRole('tab', { name: 'Graph' }).click();
    const editorArea = (await page.locator('main:visible').boundingBox())!;
    const canvas = (await page.locator('.svelte-flow').boundingBox())!;
    await screenshot('smallest-window-editor');
    assert.ok(canvas.height >= editorArea.height / 2, `the graph editor's canvas is ${canvas.height} px of the editor's ${editorArea.height} px`);
    await page.getByRole('tablist', { name: 'Sections' }).getByRole('tab', { name: 'Train' }).click();
    await page.getByRole('button', { name: 'Start training' }).waitFor();
    await screenshot('smallest-window-train');
    await assertEngineStateWhole('smallest-window-train');
    const main = (await page.locator('main:visible').boundingBox())!;
    const smoothing = (await page.getByRole('slider').boundingBox())!;
    assert.ok(smoothing.x + smoothing.width <= main.x + main.width, `the smoothing slider ends at ${smoothing.x + smoothing.width} px, past the Train view's right edge at ${main.x + main.width} px`);
  });
});

/** A project folder in the served root with one run of a small model that `strata train --project` wrote (test accuracy, validation metrics). */
function cliProjectWithRun(name: string): string {
  const file = path.join(scratch, `${name}.mts`);
  const api = pathToFileURL(path.join(ROOT, 'app/model/index.ts')).href;
  writeFileSync(file, `import { Sequential, layers } from '${api}';
const model = new Sequential([new layers.Dense(3, { activation: 'softmax', inputShape: [4] })]);
model.compile({ optimizer: 'adam', loss: 'sparse_categorical_crossentropy', metrics: ['accuracy'] });
export default model;
const rows = (n) => ({ dtype: 'float32', shape: [n, 4], data: Float32Array.from({ length: n * 4 }, (_, i) => (i * 7) % 5) });
const labels = (n) => ({ dtype: 'int32', shape: [n], data: Int32Array.from({ length: n }, (_, i) => i % 3) });
export function data() {
  return { description: 'small rows', train: { x: rows(60), y: labels(60) }, test: { x: rows(30), y: labels(30) }, classNames: ['a', 'b', 'c'] };
}
`);
  const project = path.join(scratch, 'models', name);
  const cli = spawnSync(process.execPath, [path.join(ROOT, 'app/cli/strata.js'), 'train', file, '--validation-split', '0.2', '--project', project, '--json'], { cwd: ROOT, encoding: 'utf8' });
  assert.equal(cli.status, 0, cli.stderr);
  return project;
}

/**
 * The cells of `table` that lie beyond the right edge of `card` where no scroll box between
 * them could bring them in: the table's own scroll box must scroll sideways and lie inside the card.
 */
async function cellsCutAt(card: Locator, table: Locator): Promise<string[]> {
  const edge = (await card.boundingBox())!;
  const scroller = table.locator('xpath=..');
  // Scrollable: it moves when scrolled sideways (then goes back to where it was).
  const scroll = await scroller.evaluate((element) => {
    const before = element.scrollLeft;
    element.scrollLeft = element.scrollWidth;
    const scrolls = element.scrollLeft !== before;
    element.scrollLeft = before;
    return { scrolls, right: element.getBoundingClientRect().right };
  });
  const cut: string[] = [];
  for (const cell of await table.locator('th, td').all()) {
    const box = (await cell.boundingBox())!;
    const beyond = box.x + box.width > edge.x + edge.width + 0.5;
    if (beyond && !(scroll.scrolls && scroll.right <= edge.x + edge.width + 0.5)) cut.push((await cell.innerText()) || '(checkbox)');
  }
  return cut;
}

test('in a 1024x700 window the Runs table keeps its columns in its card: it scrolls sideways, and the last column scrolls into view', async () => {
  const project = cliProjectWithRun('cli-runs');
  await inWindowOf({ width: 1024, height: 700 }, async () => {
    await page.getByRole('tablist', { name: 'Sections' }).getByRole('tab', { name: 'Runs' }).click();
    await page.getByRole('button', { name: 'Use another folder…' }).click();
    const dialog = page.getByRole('dialog', { name: 'Use a folder as the project' });
    await dialog.getByRole('button', { name: `Folder ${path.basename(project)}` }).click();
    await dialog.getByRole('button', { name: 'Use this folder' }).click();
    const table = page.getByRole('table', { name: 'Runs', exact: true });
    await table.getByRole('row').filter({ hasText: 'strata train' }).waitFor();
    const card = page.locator('section.card', { has: table });
    const main = (await page.locator('main:visible').boundingBox())!;
    const cardBox = (await card.boundingBox())!;
    await screenshot('small-window-runs');
    assert.ok(cardBox.x + cardBox.width <= main.x + main.width + 0.5, `the Runs card ends at ${cardBox.x + cardBox.width} px, past the view's right edge at ${main.x + main.width} px`);
    assert.deepEqual(await cellsCutAt(card, table), [], 'cells of the runs table cut at its card\'s edge');
    const speed = table.getByRole('columnheader', { name: 'Speed' });
    await speed.scrollIntoViewIfNeeded();
    const last = (await speed.boundingBox())!;
    assert.ok(last.x + last.width <= cardBox.x + cardBox.width + 0.5, `scrolled, the Speed column ends at ${last.x + last.width} px, past the card's edge at ${cardBox.x + cardBox.width} px`);
    await screenshot('small-window-runs-scrolled');
  });
});
