// The measurement behind the app's default thread policy for the engine (defaultThreads in
// app/host/training.ts): one epoch of the Fashion-MNIST example at batch 128 in the app, with
// the window busy (the Train view's curves streaming, the pointer moving over a chart), for
// each thread setting, against `strata train` alone on the same model and data. Prints one
// JSON line per setting and round: samples per second, the share of the CLI's (run just
// before it, so both see about the same load from the machine's other work), and the
// renderer's longest main-thread task. Rounds alternate the settings, as `strata bench` does,
// so that a change in the machine's load falls on all of them. A measurement to run by hand,
// not a test (it takes minutes):
//   node --import tsx test/e2e/thread_policy.ts [rounds] [auto 1 2 ...]
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { listRuns } from '../../app/io/runs.ts';
import { ROOT, WATCH_LONG_TASKS, ensureViewsBuilt, launchBrowser, longTasksBetween } from './browser.ts';
import { startServe } from './serve.ts';

const rounds = Number(process.argv[2] ?? 2);
const settings = process.argv.slice(3).length ? process.argv.slice(3) : ['auto', '1', '2'];
const FASHION_TRAIN = 60_000;

function cliEpochSeconds(): number {
  const cli = spawnSync(process.execPath, [path.join(ROOT, 'app/cli/strata.js'), 'train', 'examples/fashion-mnist-classifier.ts', '--data', 'fashion-mnist', '--epochs', '1', '--batch-size', '128', '--json'], { cwd: ROOT, encoding: 'utf8' });
  if (cli.status !== 0) throw new Error(cli.stderr);
  return (JSON.parse(cli.stdout.split('\n').find((line) => line.startsWith('{"epoch"'))!) as { seconds: number }).seconds;
}

const scratch = mkdtempSync(path.join(os.tmpdir(), 'strata-thread-policy-'));
await ensureViewsBuilt();
const served = await startServe(['--root', scratch, '--state-dir', path.join(scratch, 'state')]);
const browser = await launchBrowser();
try {
  const page = await browser.context.newPage();
  await page.addInitScript(WATCH_LONG_TASKS);
  await page.goto(served.url);
  await page.getByRole('list', { name: 'Examples' }).getByRole('button', { name: 'Open fashion-mnist-classifier.ts' }).click();
  await page.getByRole('tablist', { name: 'Sections' }).getByRole('tab', { name: 'Train' }).click();
  const form = page.getByRole('form', { name: 'Training settings' });
  await form.getByRole('spinbutton', { name: 'batch_size', exact: true }).fill('128');
  const progress = page.getByRole('region', { name: 'Progress' });
  for (let round = 1; round <= rounds; round++) for (const threads of settings) {
    const cli = cliEpochSeconds();
    await form.getByRole('combobox', { name: 'Threads' }).selectOption(threads === 'auto' ? 'auto' : 'fixed');
    if (threads !== 'auto') await form.getByRole('spinbutton', { name: 'count', exact: true }).fill(threads);
    const runOnCard = async () => ((await progress.isVisible()) ? /Run (\S+)/.exec(await progress.innerText())?.[1] : undefined);
    const previous = await runOnCard();
    const started = await page.evaluate(() => performance.now());
    await page.getByRole('button', { name: 'Start training' }).click();
    while ((await runOnCard()) === previous) await page.waitForTimeout(100);
    // The window busy: the pointer sweeping over the loss chart (the cursor, the legend's values) while the curves stream.
    const chart = page.getByRole('figure', { name: 'loss chart' });
    const done = progress.getByText('finished', { exact: true });
    while (!(await done.isVisible())) {
      const box = await chart.boundingBox();
      if (box) for (let x = 0.1; x < 0.9; x += 0.1) await page.mouse.move(box.x + box.width * x, box.y + box.height / 2);
      await page.waitForTimeout(50);
    }
    const ended = await page.evaluate(() => performance.now());
    const tasks = (await longTasksBetween(page, started, ended)).map((t) => t.duration);
    const projects = path.join(scratch, 'state', 'projects');
    const run = listRuns(path.join(projects, readdirSync(projects)[0]!)).runs[0]!;
    const seconds = run.epochSeconds[0]!;
    process.stdout.write(
      `${JSON.stringify({ round, threads, run: run.id, appSamplesPerSecond: Math.round(FASHION_TRAIN / seconds), cliSamplesPerSecond: Math.round(FASHION_TRAIN / cli), shareOfCli: Number((cli / seconds).toFixed(3)), longestTaskMs: tasks.length ? Math.max(...tasks) : 0, longTasks: tasks.length })}\n`,
    );
  }
} finally {
  await browser.close();
  await served.stop();
  rmSync(scratch, { recursive: true, force: true });
}
