// node --import tsx scripts/bench-edit.ts [--runs N]: how long an edit in the model editor takes
// to show, for the seed CNN, the seed purchase predictor and a 200-layer model. Not a test: it
// reports, it asserts nothing.
//
// Two figures per model, each the median of N edits (a Dense layer's units set to another value,
// alternating, so that every edit changes the shapes and parameters downstream):
//   analysis       in Node: the document's shape inference (analyze(), the model API building
//                  every layer) and the generated code, what every edit re-runs
//   list / graph   in Debian's Chromium through `strata serve`: from the form field's change
//                  to the edited row (list) or node (graph) and the status bar's parameter
//                  count showing the new values, then the next frame (drawn)
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { Sequential, clearSession, layers } from '../app/model/index.ts';
import productImageClassifier from '../examples/product-image-classifier.ts';
import purchasePredictor from '../examples/purchase-predictor.ts';
import { formatCount } from '../renderer/src/lib/format.ts';
import { analyze } from '../renderer/src/lib/document/analysis.ts';
import { generateCode } from '../renderer/src/lib/document/codegen.ts';
import { setLayerArgument } from '../renderer/src/lib/document/edits.ts';
import type { ModelJson } from '../renderer/src/lib/document/model_json.ts';
import { ensureViewsBuilt, launchBrowser } from '../test/e2e/browser.ts';
import { startServe } from '../test/e2e/serve.ts';

const DEEP_LAYERS = 200;

interface Case {
  label: string;
  /** How the app opens it: a template (New) or a model file in the served folder (Open, then Edit). */
  open: { template: string } | { file: string };
  json: () => ModelJson;
  /** Whether the list shows it (a plain stack of layers); the graph shows every model. */
  list: boolean;
  /** The Dense layer edited, and the two unit counts it alternates between. */
  layer: string;
  units: [number, number];
}

/** A Sequential model of DEEP_LAYERS layers (Dense and Dropout in turn), as the model API builds it. */
function deepModel(): Sequential {
  clearSession();
  const stack = Array.from({ length: DEEP_LAYERS }, (_, i) =>
    i % 2 === 0 ? new layers.Dense(32, { activation: 'relu', name: `dense_${i}`, ...(i === 0 ? { inputShape: [32] } : {}) }) : new layers.Dropout(0.1, { name: `dropout_${i}` }),
  );
  return new Sequential(stack, { name: `deep_${DEEP_LAYERS}` });
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const ms = (value: number) => `${value.toFixed(1)} ms`.padStart(10);

function analysisMs(json: ModelJson, layer: string, units: [number, number], runs: number): number {
  const times: number[] = [];
  for (let run = 0; run < runs; run++) {
    const edited = setLayerArgument(json, layer, 'units', units[run % 2]!);
    const started = performance.now();
    analyze(edited);
    generateCode(edited);
    times.push(performance.now() - started);
  }
  return median(times);
}

/**
 * Sets the selected layer's units in the side panel and waits, in the page, until the row or node
 * of `target` and the status bar show what the analysis expects, then for the next frame.
 */
async function editInPage(page: Page, value: number, targetSelector: string, shapeText: string, paramsText: string): Promise<number> {
  const field = await page.getByRole('complementary').getByLabel('units', { exact: true }).elementHandle();
  // No named functions inside: tsx would wrap them in a helper the page does not have.
  return page.evaluate(
    async ({ field, value, targetSelector, shapeText, paramsText }) => {
      // The scripts' TypeScript has no DOM types: what is used of them, here.
      const dom = globalThis as unknown as {
        document: { querySelector(selector: string): { innerText: string } | null };
        requestAnimationFrame(callback: () => void): void;
        Event: new (type: string, init: { bubbles: boolean }) => unknown;
      };
      const input = field as unknown as { value: string; dispatchEvent(event: unknown): void };
      const started = performance.now();
      input.value = String(value);
      input.dispatchEvent(new dom.Event('input', { bubbles: true }));
      input.dispatchEvent(new dom.Event('change', { bubbles: true }));
      for (;;) {
        const target = dom.document.querySelector(targetSelector);
        const status = dom.document.querySelector('footer.status');
        if (target?.innerText.includes(shapeText) && status?.innerText.includes(paramsText)) break;
        if (performance.now() - started > 30_000) throw new Error(`the edit did not show within 30 s: ${targetSelector}`);
        await new Promise<void>((resolve) => dom.requestAnimationFrame(() => resolve()));
      }
      // Then the frame that draws it.
      await new Promise<void>((resolve) => dom.requestAnimationFrame(() => resolve()));
      return performance.now() - started;
    },
    { field, value, targetSelector, shapeText, paramsText },
  );
}

/** Answers "Save the changes?" with Don't save, if it is asked (the last model's edits are not kept). */
async function discardIfAsked(page: Page): Promise<void> {
  const question = page.getByRole('dialog', { name: /^Save the changes to / });
  if (await question.waitFor({ timeout: 2000 }).then(() => true, () => false)) {
    await question.getByRole('button', { name: "Don't save" }).click();
    await question.waitFor({ state: 'hidden' });
  }
}

async function openCase(page: Page, item: Case): Promise<void> {
  if ('template' in item.open) {
    await page.keyboard.press('Control+n');
    const dialog = page.getByRole('dialog', { name: 'New model' });
    await dialog.getByRole('option', { name: item.open.template }).click();
    await dialog.getByRole('button', { name: 'Create' }).click();
    await discardIfAsked(page);
    await page.locator('header .title', { hasText: item.open.template }).waitFor();
  } else {
    await page.keyboard.press('Control+o');
    const dialog = page.getByRole('dialog', { name: 'Open a model' });
    await dialog.getByRole('button', { name: `Open ${item.open.file}` }).click();
    await discardIfAsked(page);
    await page.getByRole('button', { name: 'Edit', exact: true }).click();
  }
  await page.getByRole('tab', { name: 'Graph' }).waitFor();
}

async function measureInApp(page: Page, item: Case, runs: number): Promise<{ list: number | null; graph: number | null }> {
  await openCase(page, item);
  const result: { list: number | null; graph: number | null } = { list: null, graph: null };
  let json = item.json();
  for (const view of item.list ? (['list', 'graph'] as const) : (['graph'] as const)) {
    await page.keyboard.press(view === 'list' ? 'Alt+1' : 'Alt+2');
    const target = view === 'list' ? `[data-row="${item.layer}"]` : `.svelte-flow__node[data-id="${item.layer}"]`;
    await page.locator(target).waitFor({ state: 'attached' });
    // Selected in the list; the selection stays when the graph is shown (the node may lie outside the view).
    if (view === 'list' || !item.list) await page.locator(target).click();
    await page.getByRole('complementary').getByLabel('units', { exact: true }).waitFor();
    const times: number[] = [];
    for (let run = 0; run < runs + 1; run++) {
      const value = item.units[run % 2]!;
      json = setLayerArgument(json, item.layer, 'units', value);
      const analysis = analyze(json);
      const shape = analysis.calls.get(item.layer)!.outputShapes![0]!;
      const shapeText = `(None, ${shape.slice(1).join(', ')})`;
      const took = await editInPage(page, value, target, shapeText, `${formatCount(analysis.params.total)} parameters`);
      // The first edit also warms the page's code paths up: not counted.
      if (run > 0) times.push(took);
    }
    result[view] = median(times);
  }
  return result;
}

async function main() {
  const runsArg = process.argv.indexOf('--runs');
  const runs = runsArg >= 0 ? Number(process.argv[runsArg + 1]) : 5;
  const scratch = mkdtempSync(path.join(os.tmpdir(), 'strata-bench-edit-'));
  const root = path.join(scratch, 'models');
  mkdirSync(root);
  // Opened as a Keras JSON file (what Keras's to_json() writes), then edited.
  const deepFile = `deep_${DEEP_LAYERS}.json`;
  const deepJson = deepModel().toJSON();
  writeFileSync(path.join(root, deepFile), deepJson);
  const deep = JSON.parse(deepJson) as ModelJson;
  const cases: Case[] = [
    { label: 'seed CNN (8 layers)', open: { template: 'Seed CNN' }, json: () => JSON.parse(productImageClassifier.toJSON()), list: true, layer: 'dense1', units: [96, 64] },
    { label: 'purchase predictor (12)', open: { template: 'Purchase predictor' }, json: () => JSON.parse(purchasePredictor.toJSON()), list: false, layer: 'dense_combined', units: [48, 32] },
    { label: `deep_${DEEP_LAYERS} (${DEEP_LAYERS} layers)`, open: { file: deepFile }, json: () => deep, list: true, layer: `dense_${DEEP_LAYERS / 2}`, units: [48, 32] },
  ];

  await ensureViewsBuilt();
  const served = await startServe(['--root', root, '--state-dir', path.join(scratch, 'state')]);
  const browser = await launchBrowser();
  try {
    const page = await browser.context.newPage();
    page.on('pageerror', (error) => console.error(`page error: ${error.message}`));
    await page.goto(served.url);
    await page.getByRole('heading', { name: 'Build a model' }).waitFor();
    console.log(`Node ${process.version}; Chromium ${browser.context.browser()?.version() ?? ''} (headless, /usr/bin/chromium), ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? '?'}), load average ${os.loadavg()[0]!.toFixed(1)}; median of ${runs} edits\n`);
    console.log('model                         analysis   list: edit -> drawn   graph: edit -> drawn');
    for (const item of cases) {
      const analysis = analysisMs(item.json(), item.layer, item.units, runs);
      const inApp = await measureInApp(page, item, runs);
      const shown = (value: number | null) => (value === null ? 'not a list' : ms(value));
      console.log(`${item.label.padEnd(28)}${ms(analysis)}   ${shown(inApp.list).padStart(19)}   ${shown(inApp.graph).padStart(20)}`);
    }
  } finally {
    await browser.close();
    await served.stop();
    rmSync(scratch, { recursive: true, force: true });
  }
}

await main();
