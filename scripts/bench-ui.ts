// npm run bench:ui [-- --runs N] [--only NAME]: how fast the app shows big ONNX graphs, in browser mode under
// Debian's Chromium (what the e2e tests drive). Not a test: it reports, it asserts nothing.
//
// Generates, with Strata's own ONNX builders, in a temporary folder: ResNet-like graphs of
// 1,000 and 5,000 nodes (Conv, BatchNormalization, Relu, Add; shapes left to inference, as
// exporters often do) and a 100 MB file (an MLP with 1,000x1,000 float weights). Starts
// `strata serve` on them and, for each file, opens it from the Open dialog and reports:
//   open -> drawn   from the click to the graph drawn (engine parse, shape inference,
//                   transfer, layout in the worker, drawing)
//   layout + draw   the view's own figure: layout in the worker and drawing (the status bar's)
//   click -> panel  then, a click on a node until its panel shows (the graph is usable)
//   longest task    the longest main-thread task while opening (the window never freezes
//                   longer than this)
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { bigMlp, resnetLike } from './bench-ui-models.ts';
import { ensureViewsBuilt, launchBrowser } from '../test/e2e/browser.ts';
import { startServe } from '../test/e2e/serve.ts';

interface Measure {
  openMs: number;
  drawnMs: number;
  layoutMs: number;
  nodes: number;
  clickMs: number;
  longestTaskMs: number;
}

const PICK_FILE_MS = 5000;

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

async function main() {
  const runsArg = process.argv.indexOf('--runs');
  const runs = runsArg >= 0 ? Number(process.argv[runsArg + 1]) : 3;
  const scratch = mkdtempSync(path.join(os.tmpdir(), 'strata-bench-ui-'));
  const root = path.join(scratch, 'models');
  mkdirSync(root);
  const onlyArg = process.argv.indexOf('--only');
  const files = Object.fromEntries(
    Object.entries({ 'resnet_like_1000.onnx': () => resnetLike(1000), 'resnet_like_5000.onnx': () => resnetLike(5000), 'mlp_100mb.onnx': () => bigMlp(100) })
      .filter(([name]) => onlyArg < 0 || name.includes(process.argv[onlyArg + 1]!))
      .map(([name, make]) => [name, make()]),
  );
  for (const [name, bytes] of Object.entries(files)) writeFileSync(path.join(root, name), bytes);
  await ensureViewsBuilt();
  const served = await startServe(['--root', root, '--state-dir', path.join(scratch, 'state')]);
  const browser = await launchBrowser();
  try {
    const page = await browser.context.newPage();
    page.on('pageerror', (error) => console.error(`page error: ${error.message}`));
    page.on('crash', () => console.error('the page crashed'));
    await page.goto(served.url);
    await page.getByRole('heading', { name: 'Open a model' }).waitFor();
    // As a person takes a few seconds to choose a file (the layout worker warms up meanwhile).
    await page.waitForTimeout(PICK_FILE_MS);
    console.log(`Chromium ${browser.context.browser()?.version() ?? ''} (headless, /usr/bin/chromium), ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? '?'}), load average ${os.loadavg()[0]!.toFixed(1)}; median of ${runs} runs\n`);
    console.log('file                      size      nodes  open -> drawn  layout + draw  (ELK alone)  click -> panel  longest task');
    for (const [name, bytes] of Object.entries(files)) {
      const measures: Measure[] = [];
      for (let run = 0; run < runs; run++) measures.push(await openAndMeasure(page, name));
      const column = (pick: (m: Measure) => number) => `${(median(measures.map(pick)) / 1000).toFixed(2)} s`.padStart(13);
      console.log(`  runs (open -> drawn): ${measures.map((m) => (m.openMs / 1000).toFixed(2)).join(', ')} s`);
      console.log(
        `${name.padEnd(24)}${`${(bytes.length / 1e6).toFixed(1)} MB`.padStart(8)}${String(measures[0]!.nodes).padStart(9)}  ${column((m) => m.openMs)}  ${column((m) => m.drawnMs)}  ${column((m) => m.layoutMs).slice(2)}  ${column((m) => m.clickMs)}  ${column((m) => m.longestTaskMs)}`,
      );
    }
  } finally {
    await browser.close();
    await served.stop();
    rmSync(scratch, { recursive: true, force: true });
  }
}

async function openAndMeasure(page: import('playwright-core').Page, name: string): Promise<Measure> {
  // Long tasks are watched from before the click; the page keeps the longest.
  await page.evaluate(() => {
    const state = globalThis as unknown as { longestTask: number };
    state.longestTask = 0;
    new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) state.longestTask = Math.max(state.longestTask, entry.duration);
    }).observe({ type: 'longtask' });
  });
  await page.keyboard.press('Control+o');
  const dialog = page.getByRole('dialog', { name: 'Open a model' });
  const entry = dialog.getByRole('button', { name: `Open ${name}` });
  await entry.waitFor();
  const started = Date.now();
  await entry.click();
  const graph = page.getByRole('group', { name: `Graph of ${name}` });
  const failure = page.getByRole('alert');
  await graph.and(page.locator('[data-drawn-ms]')).or(failure).waitFor({ timeout: 600_000 });
  if (await failure.isVisible()) throw new Error(`${name} did not open: ${await failure.innerText()}`);
  const openMs = Date.now() - started;
  const drawnMs = Number(await graph.getAttribute('data-drawn-ms'));
  const layoutMs = Number(await graph.getAttribute('data-layout-ms'));
  const nodes = Number(await graph.getAttribute('data-nodes'));
  const clicked = Date.now();
  await graph.locator('.node').nth(3).click();
  await page.getByRole('complementary', { name: 'Node properties' }).waitFor();
  const clickMs = Date.now() - clicked;
  const longestTaskMs = await page.evaluate(() => (globalThis as unknown as { longestTask: number }).longestTask);
  await page.getByRole('button', { name: `Close ${name}`, exact: true }).click();
  await page.getByRole('heading', { name: 'Open a model' }).waitFor();
  return { openMs, drawnMs, layoutMs, nodes, clickMs, longestTaskMs };
}

await main();

