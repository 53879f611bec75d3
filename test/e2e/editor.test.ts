// Building models in the app, end to end, as a user does it: `strata serve` driven in Debian's
// Chromium. The seed CNN built layer by layer in the list editor through the forms, the
// purchase predictor node by node in the graph editor, a shared layer and a residual join
// against the same model in code, an invalid edit and its undo, the code editor's errors and
// edits, a project saved, the page reloaded and the project reopened, and the live preview of
// a Fashion-MNIST image. Saves screenshots of each editor and the preview to build/e2e-artifacts/.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, afterEach, before, test } from 'node:test';
import type { Page } from 'playwright-core';
import { Sequential, clearSession, formatShape, layers, summaryData } from '../../app/model/index.ts';
import productImageClassifier from '../../examples/product-image-classifier.ts';
import purchasePredictor from '../../examples/purchase-predictor.ts';
import { modelCode, normalizeSource } from '../renderer/model_builds.ts';
import { ARTIFACTS, ROOT } from './browser.ts';
import { openApp, type AppUnderTest } from './serve.ts';

/** A model file Strata did not write: Keras JSON of 120 layers (its graph takes a while to lay out). */
function deepModelJson(): string {
  clearSession();
  const stack = Array.from({ length: 120 }, (_, i) => new layers.Dense(16, { name: `dense_${i}`, ...(i === 0 ? { inputShape: [16] } : {}) }));
  return new Sequential(stack, { name: 'deep' }).toJSON();
}

let scratch: string;
let app: AppUnderTest;
let page: Page;

before(async () => {
  scratch = mkdtempSync(path.join(os.tmpdir(), 'strata-editor-e2e-'));
  mkdirSync(path.join(scratch, 'models'));
  writeFileSync(path.join(scratch, 'models', 'deep.json'), deepModelJson());
  app = await openApp(['--root', path.join(scratch, 'models'), '--state-dir', path.join(scratch, 'state')], {
    setUp: async (opened, pageErrors) => {
      // The app's policy forbids inline styles and scripts, evaluated code and data: URLs (the code sandbox aside): every violation is reported here.
      await opened.exposeFunction('reportViolation', (violation: string) => pageErrors.push(violation));
      // A string, not a function: the tests' TypeScript has no DOM types.
      await opened.addInitScript(`
        document.addEventListener('securitypolicyviolation', (event) => {
          const target = event.target instanceof Element ? ' on ' + event.target.outerHTML.slice(0, 160) : '';
          const where = event.sourceFile + ':' + event.lineNumber + ':' + event.columnNumber + target;
          window.reportViolation(event.violatedDirective + ' violated at ' + where + ' by "' + event.sample + '" (' + event.blockedURI + ')');
        });
      `);
    },
  });
  page = app.page;
  await page.goto(app.served.url);
  await page.getByRole('heading', { name: 'Build a model' }).waitFor();
});

afterEach(async (context) => {
  // A failed test leaves the window's state to look at.
  if ('passed' in context && context.passed === false) await screenshot(`failed-${context.name.slice(0, 40).replace(/\W+/g, '-')}`).catch(() => undefined);
});

after(async () => {
  await app?.close();
  rmSync(scratch, { recursive: true, force: true });
  assert.deepEqual(app?.pageErrors ?? [], [], 'no uncaught error and no policy violation in the page');
});

async function screenshot(name: string) {
  await page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`) });
}

const panel = () => page.getByRole('complementary');
const rowOf = (name: string) => page.getByRole('listbox', { name: 'Layers' }).locator(`[data-row="${name}"]`);
const nodeOf = (id: string) => page.locator(`.svelte-flow__node[data-id="${id}"]`);

/** New (Ctrl+N): an empty model, or a template by its title; `unsaved`: the open model's changes are asked about, and not saved. */
async function newModel(template: string | null, unsaved = false) {
  await page.keyboard.press('Control+n');
  const dialog = page.getByRole('dialog', { name: 'New model' });
  await dialog.waitFor();
  if (template) await dialog.getByRole('option', { name: template }).click();
  await dialog.getByRole('button', { name: 'Create' }).click();
  await dialog.waitFor({ state: 'hidden' });
  if (unsaved) {
    const question = page.getByRole('dialog', { name: /^Save the changes to / });
    await question.getByRole('button', { name: "Don't save" }).click();
    await question.waitFor({ state: 'hidden' });
  }
  // The new model has replaced the old one (the editor's tabs alone are in both).
  if (template) await page.locator('header .title', { hasText: template }).waitFor();
  else await page.locator('footer.status', { hasText: /\b0 layers/ }).waitFor();
  await page.getByRole('tab', { name: /List|Graph/ }).first().waitFor();
}

/** Types a value into the selected layer's form field; Enter commits a name. */
async function setField(key: string, value: string) {
  const field = panel().getByLabel(key, { exact: true });
  if ((await field.evaluate((element) => element.tagName)) === 'SELECT') await field.selectOption(value);
  else {
    await field.fill(value);
    if (key === 'name') await field.press('Enter');
  }
}

/** Adds a layer from the palette (A, type, Enter), names it, and sets its arguments through the form. */
async function addLayer(className: string, name: string, args: Record<string, string> = {}) {
  await page.keyboard.press('a');
  const palette = page.getByRole('dialog', { name: 'Add a layer' });
  await palette.getByRole('searchbox', { name: 'Search layers' }).fill(className);
  await palette.getByRole('option', { name: className, exact: true }).waitFor();
  await page.keyboard.press('Enter');
  await palette.waitFor({ state: 'hidden' });
  await setField('name', name);
  for (const [key, value] of Object.entries(args)) await setField(key, value);
}

/**
 * Selects all the code and pastes `text` over it, as a user does with the clipboard. (Typing a
 * whole file as key events is slow, and Chromium's own insertion of several lines into an
 * editable element adds inline styles, which the app's policy refuses; CodeMirror's paste does not.)
 */
async function pasteCode(text: string) {
  await page.locator('.cm-content').focus();
  await page.keyboard.press('Control+a');
  // To the focused element inside the editor's shadow root; a string: the tests' TypeScript has no DOM types.
  await page.evaluate(`(() => {
    const data = new DataTransfer();
    data.setData('text/plain', ${JSON.stringify(text)});
    let focused = document.activeElement;
    while (focused && focused.shadowRoot && focused.shadowRoot.activeElement) focused = focused.shadowRoot.activeElement;
    focused.dispatchEvent(new ClipboardEvent('paste', { clipboardData: data, bubbles: true, cancelable: true }));
  })()`);
}

/**
 * Adds a node in the graph editor (Add node, the palette), names it, sets its arguments through
 * the side panel's form and connects its inputs there (the keyboard's way to wire the graph).
 */
async function addGraphNode(className: string, name: string, args: Record<string, string> = {}, inputs: string[] = []) {
  await page.getByRole('button', { name: 'Add node' }).click();
  const palette = page.getByRole('dialog', { name: 'Add a layer' });
  await palette.getByRole('searchbox', { name: 'Search layers' }).fill(className);
  await palette.getByRole('option', { name: className, exact: true }).click();
  await palette.waitFor({ state: 'hidden' });
  await setField('name', name);
  await panel().getByRole('heading', { name, exact: true }).waitFor();
  for (const [key, value] of Object.entries(args)) await setField(key, value);
  for (const input of inputs) await panel().getByLabel(`Connect an input to ${name}`).selectOption(input);
}

const STILL_OVER_THREE_FRAMES = `new Promise((resolve) => {
  const snapshot = () => [...document.querySelectorAll('.svelte-flow__viewport, .svelte-flow__node')].map((e) => e.getAttribute('style')).join('|');
  const before = snapshot();
  let frames = 3;
  const next = () => (--frames === 0 ? resolve(snapshot() === before) : requestAnimationFrame(next));
  requestAnimationFrame(next);
})`;

/**
 * Waits until the graph stands still: no layout under way (elk runs in a worker, then the view
 * is fitted on a later frame), and the viewport and nodes unmoved over three frames. A drag
 * started before that aims at where a handle was.
 */
async function settled() {
  await page.locator('[aria-label="Graph editor"][aria-busy="false"]').waitFor();
  // A string, not a function: tsx's __name helper for named arrows does not exist in the page.
  // page.evaluate awaits the promise (waitForFunction would take it as a truthy value).
  for (let tries = 0; !(await page.evaluate(STILL_OVER_THREE_FRAMES)); tries++) assert.ok(tries < 100, 'the graph keeps moving');
}

/** Drags from one node's output handle to another's input handle, as a user connects two nodes. */
async function dragConnection(from: string, to: string) {
  await settled();
  const source = (await nodeOf(from).locator('.svelte-flow__handle.source').boundingBox())!;
  const target = (await nodeOf(to).locator('.svelte-flow__handle.target').boundingBox())!;
  await page.mouse.move(source.x + source.width / 2, source.y + source.height / 2);
  await page.mouse.down();
  await page.mouse.move(target.x + target.width / 2, target.y + target.height / 2, { steps: 12 });
  await page.mouse.up();
}

/** The side panel's overview of the model (nothing selected): Keras's summary. */
async function summaryText(): Promise<string> {
  await page.getByRole('tab', { name: 'Properties' }).click();
  if (await panel().getByRole('button', { name: 'Close' }).first().isVisible()) {
    await page.keyboard.press('Escape');
  }
  return page.getByLabel(/^Summary of /).innerText();
}

async function codeText(): Promise<string> {
  return page.locator('.cm-content').evaluate((element) => (element as { innerText: string }).innerText);
}

test('the seed CNN built layer by layer in the list editor: Keras\'s shapes, 822,922 parameters, the example\'s code', async () => {
  await newModel(null);
  await rowOf('input').click();
  await setField('shape', '64, 64, 3');
  await page.getByRole('listbox', { name: 'Layers' }).focus();
  await addLayer('Conv2D', 'conv1', { filters: '32', kernel_size: '3, 3', activation: 'relu' });
  await page.getByRole('listbox', { name: 'Layers' }).focus();
  await addLayer('MaxPooling2D', 'pool1');
  await page.getByRole('listbox', { name: 'Layers' }).focus();
  await addLayer('Conv2D', 'conv2', { filters: '64', activation: 'relu' });
  await page.getByRole('listbox', { name: 'Layers' }).focus();
  await addLayer('MaxPooling2D', 'pool2');
  await page.getByRole('listbox', { name: 'Layers' }).focus();
  await addLayer('Flatten', 'flatten');
  await page.getByRole('listbox', { name: 'Layers' }).focus();
  await addLayer('Dense', 'dense1', { units: '64', activation: 'relu' });
  await page.getByRole('listbox', { name: 'Layers' }).focus();
  await addLayer('Dropout', 'dropout1', { rate: '0.5' });
  await page.getByRole('listbox', { name: 'Layers' }).focus();
  await addLayer('Dense', 'output_softmax', { units: '10', activation: 'softmax' });
  await page.getByRole('textbox', { name: 'name' }).blur();

  // The model's name, from the overview (nothing selected).
  await page.keyboard.press('Escape');
  await page.getByRole('textbox', { name: 'name' }).fill('product_image_classifier_sequential');
  await page.getByRole('textbox', { name: 'name' }).press('Enter');

  for (const row of summaryData(productImageClassifier).rows) {
    const text = await rowOf(row.name).innerText();
    assert.ok(text.includes(formatShape(row.outputShapes![0]!)), `${row.name} shows ${formatShape(row.outputShapes![0]!)}: ${text}`);
    assert.ok(text.includes(row.params.toLocaleString('en-US')), `${row.name} shows ${row.params} parameters: ${text}`);
  }
  assert.match(await page.locator('footer.totals').innerText(), /Total params: 822,922/);
  assert.match(await page.getByRole('region', { name: /Summary of/ }).or(page.getByLabel('Summary of product_image_classifier_sequential')).innerText(), /Total params: 822,922 \(3\.14 MB\)/);
  await rowOf('conv2').click();
  // The preview of the finished model beside each row (it follows the edits once they pause).
  for (const name of ['conv2', 'dense1', 'output_softmax']) await rowOf(name).getByRole('img').waitFor({ timeout: 60_000 });
  await screenshot('editor-list');

  await page.keyboard.press('Alt+3');
  await page.locator('.cm-content').waitFor();
  const example = readFileSync(path.join(ROOT, 'examples/product-image-classifier.ts'), 'utf8');
  assert.equal(normalizeSource(await codeText()), normalizeSource(modelCode(example)));
});

test('save the project, reload the page, reopen it: the model, the editor shown and the layout are back', async () => {
  await page.keyboard.press('Alt+2');
  await nodeOf('dense1').waitFor();
  await page.getByRole('button', { name: 'Auto layout' }).click();
  await settled();
  // Moved by hand: the position is saved with the project.
  const box = (await nodeOf('dense1').boundingBox())!;
  await page.mouse.move(box.x + box.width / 2, box.y + 10);
  await page.mouse.down();
  await page.mouse.move(box.x + box.width / 2 + 120, box.y + 40, { steps: 8 });
  await page.mouse.up();
  const moved = await nodeOf('dense1').getAttribute('style');

  await page.keyboard.press('Control+Shift+s');
  const dialog = page.getByRole('dialog', { name: 'Save the project' });
  await dialog.getByRole('textbox', { name: 'Project folder' }).fill('shoes');
  await dialog.getByRole('button', { name: 'Save', exact: true }).click();
  await dialog.waitFor({ state: 'hidden' });
  await page.locator('header .title', { hasText: /^shoes/ }).waitFor();
  assert.equal(await page.locator('[data-dirty]').getAttribute('data-dirty'), 'false');

  await page.reload();
  await page.getByRole('list', { name: 'Recent files' }).getByRole('button', { name: 'Open shoes' }).click();
  await nodeOf('dense1').waitFor();
  assert.equal(await page.getByRole('tab', { name: 'Graph' }).getAttribute('aria-selected'), 'true', 'the graph is shown, as when it was saved');
  assert.equal(await nodeOf('dense1').getAttribute('style'), moved, 'dense1 is where it was moved to');
  assert.match(await page.locator('footer.status').innerText(), /822,922 parameters/);
  for (const row of summaryData(productImageClassifier).rows) {
    await nodeOf(row.name).filter({ hasText: formatShape(row.outputShapes![0]!) }).waitFor();
  }
});

test('an invalid edit shows its error at the field and at the layer, the model stays editable, and undo restores it', async () => {
  await page.keyboard.press('Alt+1');
  await rowOf('dense1').click();
  await setField('units', '-3');
  const units = panel().getByLabel('units', { exact: true });
  assert.equal(await units.getAttribute('aria-invalid'), 'true');
  assert.match(await panel().getByRole('alert').filter({ hasText: 'units must' }).first().innerText(), /dense1: units must be a positive integer, got -3/);
  assert.match(await rowOf('dense1').innerText(), /dense1: units must be a positive integer, got -3/);
  // The rest still has its shapes, and another layer can still be edited.
  assert.match(await rowOf('flatten').innerText(), /\(None, 12544\)/);
  await screenshot('editor-invalid');
  await rowOf('conv1').click();
  await setField('kernel_size', '5');
  assert.match(await rowOf('conv1').innerText(), /\(None, 60, 60, 32\)/);
  // Text that is not a number is refused at the field, and changes nothing.
  await setField('filters', 'many');
  assert.match(await panel().getByRole('alert').filter({ hasText: 'filters must be' }).innerText(), /filters must be a whole number/);
  assert.match(await rowOf('conv1').innerText(), /\(None, 60, 60, 32\)/);

  await page.getByRole('listbox', { name: 'Layers' }).focus();
  await page.keyboard.press('Control+z');
  await page.keyboard.press('Control+z');
  assert.match(await rowOf('conv1').innerText(), /\(None, 62, 62, 32\)/);
  assert.doesNotMatch(await rowOf('dense1').innerText(), /must be/);
  assert.match(await page.locator('footer.totals').innerText(), /Total params: 822,922/);
  await page.keyboard.press('Control+Shift+z');
  assert.match(await rowOf('dense1').innerText(), /units must be a positive integer/);
  await page.keyboard.press('Control+z');
});

test('the code editor: a syntax error is shown at its line; a valid edit updates the graph', async () => {
  await page.keyboard.press('Alt+3');
  const content = page.locator('.cm-content');
  await content.waitFor();
  const source = await codeText();
  const lines = source.split('\n');
  const flattenLine = lines.findIndex((line) => line.includes('layers.Flatten')) + 1;
  await content.click();
  await pasteCode(source.replace("new layers.Flatten({ name: 'flatten' })", "new layers.Flatten({ name: 'flatten' }))"));
  const problem = page.getByRole('list', { name: 'Problems in the code' }).getByRole('alert').first();
  await problem.waitFor({ timeout: 60_000 });
  assert.match(await problem.innerText(), new RegExp(`^Line ${flattenLine}: `));
  await page.locator('.cm-lint-marker-error').first().waitFor();
  await screenshot('editor-code');

  await pasteCode(source.replace("new layers.Dense(64, { activation: 'relu', name: 'dense1' })", "new layers.Dense(128, { activation: 'relu', name: 'dense1' })"));
  await page.getByText(/the model is up to date/).waitFor({ timeout: 60_000 });
  await page.keyboard.press('Alt+2');
  await nodeOf('dense1').waitFor();
  assert.match(await nodeOf('dense1').innerText(), /\(None, 128\)/);
  assert.match(await page.locator('footer.status').innerText(), /1,626,442 parameters/);
});

test('the purchase predictor built in the graph editor from an empty model: 799,233 parameters and the example\'s Keras JSON', async () => {
  await newModel(null, true);
  await page.keyboard.press('Alt+2');
  await page.getByRole('button', { name: 'Add node' }).waitFor();
  await addGraphNode('InputLayer', 'image_features_input', { shape: '64, 64, 3' });
  await addGraphNode('InputLayer', 'text_features_input', { shape: '100' });
  await addGraphNode('Flatten', 'flatten_image', {}, ['image_features_input']);
  await addGraphNode('Dense', 'dense_image_1', { units: '64', activation: 'relu' }, ['flatten_image']);
  await addGraphNode('Dropout', 'dropout_image', { rate: '0.3' }, ['dense_image_1']);
  await addGraphNode('Dense', 'dense_image_2', { units: '32', activation: 'relu' }, ['dropout_image']);
  await addGraphNode('Dense', 'dense_text_1', { units: '64', activation: 'relu' });
  await addGraphNode('Dropout', 'dropout_text', { rate: '0.3' }, ['dense_text_1']);
  await addGraphNode('Dense', 'dense_text_2', { units: '32', activation: 'relu' }, ['dropout_text']);
  await addGraphNode('Concatenate', 'concatenate_branches', {}, ['dense_image_2', 'dense_text_2']);
  await addGraphNode('Dense', 'dense_combined', { units: '32', activation: 'relu' }, ['concatenate_branches']);
  await addGraphNode('Dense', 'output_sigmoid', { units: '1', activation: 'sigmoid' }, ['dense_combined']);
  await page.getByRole('button', { name: 'Auto layout' }).click();
  await settled();
  // The one connection left, drawn with the mouse from the text input's handle to dense_text_1's.
  assert.match(await nodeOf('dense_text_1').innerText(), /\?/, 'dense_text_1 has no input yet');
  await dragConnection('text_features_input', 'dense_text_1');
  await page.locator('.svelte-flow__edge-label', { hasText: '(None, 100)' }).waitFor();
  await nodeOf('dense_text_1').filter({ hasText: '(None, 64)' }).waitFor();
  // A connection that would make a cycle is refused, with the reason, and changes nothing.
  await dragConnection('dense_image_2', 'dense_image_1');
  assert.match(await page.getByRole('alert').filter({ hasText: 'Not connected' }).innerText(), /cycle/);
  await page.getByRole('button', { name: 'Dismiss' }).click();

  await page.keyboard.press('Escape');
  await page.getByRole('textbox', { name: 'name' }).fill('multi_input_purchase_predictor');
  await page.getByRole('textbox', { name: 'name' }).press('Enter');
  assert.match(await page.locator('footer.status').innerText(), /799,233 parameters/);
  for (const row of summaryData(purchasePredictor).rows) {
    // Waited for: an edit re-draws the nodes.
    await nodeOf(row.name).filter({ hasText: formatShape(row.outputShapes![0]!) }).waitFor();
  }
  await page.getByRole('button', { name: 'Auto layout' }).click();
  await settled();
  await screenshot('editor-graph');

  // The list cannot show two inputs: it says why and offers the graph.
  await page.keyboard.press('Alt+1');
  assert.match(await page.getByRole('status').filter({ hasText: 'not a plain list' }).innerText(), /This model is not a plain list of layers/);
  await page.getByRole('button', { name: 'Edit it in the graph' }).click();
  await nodeOf('output_sigmoid').waitFor();

  const [download] = await Promise.all([page.waitForEvent('download'), (async () => {
    await page.getByRole('button', { name: 'Export' }).click();
    await page.getByRole('menuitem', { name: 'Model as Keras JSON' }).click();
  })()]);
  assert.equal(download.suggestedFilename(), 'multi_input_purchase_predictor.json');
  assert.equal(readFileSync((await download.path())!, 'utf8'), purchasePredictor.toJSON());
});

test('a shared layer and a residual join built in the graph editor give the summary of the same model in code', async () => {
  await newModel(null, true);
  await page.keyboard.press('Alt+2');
  await page.getByRole('button', { name: 'Add node' }).waitFor();
  await addGraphNode('InputLayer', 'left', { shape: '8' });
  await addGraphNode('InputLayer', 'right', { shape: '8' });
  await addGraphNode('Dense', 'shared', { units: '8' }, ['left']);
  // One layer applied twice: a second call of the same layer, its own node, one set of weights.
  await panel().getByRole('button', { name: 'Apply again (share)' }).click();
  await panel().getByLabel('Connect an input to shared#2').selectOption('right');
  await addGraphNode('Add', 'residual');
  await addGraphNode('Dense', 'head', { units: '2' });
  await page.getByRole('button', { name: 'Auto layout' }).click();
  await settled();
  for (const [from, to] of [['shared', 'residual'], ['shared#2', 'residual'], ['left', 'residual'], ['residual', 'head']]) await dragConnection(from!, to!);
  // Each connection re-draws the nodes: wait for the last one to show its shape.
  await nodeOf('head').filter({ hasText: '(None, 2)' }).waitFor();
  assert.match(await nodeOf('shared#2').innerText(), /shared · call 2/);
  await page.keyboard.press('Escape');
  await page.getByRole('textbox', { name: 'name' }).fill('siamese');
  await page.getByRole('textbox', { name: 'name' }).press('Enter');
  assert.match(await page.locator('footer.status').innerText(), new RegExp(`${8 * 8 + 8 + 8 * 2 + 2} parameters`), 'the shared layer counted once');
  await screenshot('editor-graph-shared');
  const fromGraph = await summaryText();

  await page.keyboard.press('Alt+3');
  await page.locator('.cm-content').waitFor();
  await page.locator('.cm-content').click();
  await pasteCode(
    [
      "import { Input, Model, layers } from 'strata';",
      '',
      "const left = Input({ shape: [8], name: 'left' });",
      "const right = Input({ shape: [8], name: 'right' });",
      "const shared = new layers.Dense(8, { name: 'shared' });",
      "const joined = layers.add([shared.apply(left), shared.apply(right), left], { name: 'residual' });",
      "const head = new layers.Dense(2, { name: 'head' }).apply(joined);",
      "export default new Model({ inputs: [left, right], outputs: head, name: 'siamese' });",
    ].join('\n'),
  );
  await page.getByText(/the model is up to date/).waitFor({ timeout: 60_000 });
  const fromCode = await summaryText();
  assert.equal(fromGraph, fromCode);
  assert.match(fromCode, /Total params: 90 /);
});

test('the preview shows a sample of the seed CNN file\'s own data, then feature maps of a Fashion-MNIST image through it, and its class probabilities', async () => {
  await newModel('Seed CNN', true);
  await page.getByRole('tab', { name: 'Preview' }).click();
  // product-image-classifier.ts exports its data: the preview samples it, as training does
  await page.getByText(/^product-image-classifier\.ts's test sample 0: /).waitFor({ timeout: 60_000 });
  assert.equal(await page.getByLabel('Preview input').inputValue(), 'model-data');
  await page.getByLabel('Preview input').selectOption('dataset');
  await page.getByText(/^Fashion-MNIST test image 0: Ankle boot/).waitFor({ timeout: 60_000 });
  const outputs = page.getByRole('list', { name: 'Layer outputs' });
  const conv1 = outputs.getByRole('img', { name: /^conv1: 32 feature maps of 62×62/ });
  await conv1.waitFor();
  await outputs.getByRole('img', { name: /^pool2: 64 feature maps of 14×14, the first 32 shown/ }).waitFor();
  // The maps are drawn: the canvas has more than a few shades of grey.
  const shades = await conv1.locator('canvas').evaluate((element) => {
    const canvas = element as unknown as { width: number; height: number; getContext(kind: '2d'): { getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray } } };
    const { data } = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height);
    const seen = new Set<number>();
    for (let i = 0; i < data.length; i += 4) seen.add(data[i]!);
    return seen.size;
  });
  assert.ok(shades > 16, `conv1's maps show ${shades} shades`);
  const prediction = page.getByRole('list', { name: 'output_softmax: class probabilities' });
  assert.equal(await prediction.getByRole('listitem').count(), 10);
  const percents = (await prediction.innerText()).match(/[\d.]+%/g)!.map((p) => Number.parseFloat(p));
  assert.ok(Math.abs(percents.reduce((a, b) => a + b, 0) - 100) < 1, `the probabilities add up to 100%: ${percents.join(', ')}`);
  await screenshot('editor-preview');
});

test('a model file opened and edited at once becomes a project: its layers in the list, the file untouched', async () => {
  await page.keyboard.press('Control+o');
  const dialog = page.getByRole('dialog', { name: 'Open a model' });
  await dialog.getByRole('button', { name: 'Open deep.json' }).click();
  const question = page.getByRole('dialog', { name: /^Save the changes to / });
  await question.getByRole('button', { name: "Don't save" }).click();
  // Edit before the Model view has drawn its graph (its layout, still running, is dropped).
  await page.getByRole('button', { name: 'Edit', exact: true }).click();
  await page.locator('header .title', { hasText: 'deep.json' }).waitFor();
  await page.keyboard.press('Alt+1');
  await rowOf('dense_119').waitFor();
  assert.match(await page.locator('footer.status').innerText(), new RegExp(`120 layers\\s+${(120 * (16 * 16 + 16)).toLocaleString('en-US')} parameters`));
  assert.equal(readFileSync(path.join(scratch, 'models', 'deep.json'), 'utf8'), deepModelJson());
});
