// What the browser tests share: Debian's Chromium driven by playwright-core (its own browser
// download cannot run here), a static file server for built pages, and Vite builds of the views.
import { createReadStream, existsSync, mkdtempSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const CHROMIUM = '/usr/bin/chromium';
export const ARTIFACTS = path.join(ROOT, 'build', 'e2e-artifacts');

const CHROMIUM_FLAGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export interface Browser {
  context: BrowserContext;
  close(): Promise<void>;
}

/** Headless Chromium with a fresh profile, removed on close. */
export async function launchBrowser(viewport = { width: 1440, height: 900 }): Promise<Browser> {
  const profile = mkdtempSync(path.join(os.tmpdir(), 'strata-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_FLAGS,
    viewport,
    acceptDownloads: true,
  });
  return {
    context,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
};

/** Serves `dir` on 127.0.0.1 at a free port (for pages built for tests). */
export async function serveStatic(dir: string): Promise<{ url: string; close(): Promise<void> }> {
  const server = http.createServer((request, response) => {
    const name = decodeURIComponent(new URL(request.url ?? '/', 'http://localhost').pathname);
    const file = path.join(dir, name === '/' ? 'index.html' : name);
    if (!file.startsWith(dir + path.sep) || !statSync(file, { throwIfNoEntry: false })?.isFile()) {
      response.writeHead(404).end();
      return;
    }
    response.writeHead(200, { 'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream' });
    createReadStream(file).pipe(response);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/**
 * Builds a page with the renderer's Vite config (Svelte, the layout worker) from `root` into
 * `outDir`; quiet unless something goes wrong.
 */
export async function buildPage(root: string, outDir: string): Promise<void> {
  const { build } = await import('vite');
  await build({ configFile: path.join(ROOT, 'renderer/vite.config.ts'), root, logLevel: 'error', build: { outDir, emptyOutDir: true } });
}

const VIEWS = path.join(ROOT, 'build/renderer');
const VIEW_SOURCES = ['renderer/src', 'renderer/index.html', 'renderer/public', 'renderer/vite.config.ts', 'app/contract', 'app/model', 'app/onnx/description.ts'];

function newestChange(file: string): number {
  const stats = statSync(file);
  if (!stats.isDirectory()) return stats.mtimeMs;
  return Math.max(stats.mtimeMs, ...readdirSync(file).map((name) => newestChange(path.join(file, name))));
}

/**
 * Builds build/renderer/ (what `strata serve` serves) when a source of the views is newer
 * than it. Built beside it and swapped in, so a server reading it never sees half a build.
 */
export async function ensureViewsBuilt(): Promise<void> {
  const index = path.join(VIEWS, 'index.html');
  if (existsSync(index) && statSync(index).mtimeMs > Math.max(...VIEW_SOURCES.map((source) => newestChange(path.join(ROOT, source))))) return;
  const staging = mkdtempSync(`${VIEWS}.staging-`);
  try {
    await buildPage(path.join(ROOT, 'renderer'), staging);
    const old = `${staging}.old`;
    if (existsSync(VIEWS)) renameSync(VIEWS, old);
    renameSync(staging, VIEWS);
    rmSync(old, { recursive: true, force: true });
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

/**
 * A page init script that records every main-thread task over 50 ms (Chromium's Long Tasks
 * API) in `globalThis.longTasks`, from the page's first script on (page.addInitScript).
 */
export const WATCH_LONG_TASKS = `
  globalThis.longTasks = [];
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) globalThis.longTasks.push({ start: entry.startTime, duration: entry.duration });
  }).observe({ type: 'longtask', buffered: true });`;

/** The long tasks WATCH_LONG_TASKS saw start between two performance.now() times: when each started and how long it took (ms). */
export function longTasksBetween(page: Page, from: number, to: number): Promise<{ start: number; duration: number }[]> {
  return page.evaluate(([a, b]) => (globalThis as unknown as { longTasks: { start: number; duration: number }[] }).longTasks.filter((t) => t.start >= a! && t.start <= b!), [from, to]);
}
