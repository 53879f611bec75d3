// `strata serve` as a user runs it, for the end-to-end tests: the CLI in a process of its own,
// on a free port, its URL read from what it prints; its engine process found among its children.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { ARTIFACTS, ROOT, ensureViewsBuilt, launchBrowser, type Browser } from './browser.ts';

export interface Served {
  /** The URL with the token, as printed. */
  url: string;
  /** The same origin without the token (the session cookie is set by the first load). */
  origin: string;
  process: ChildProcess;
  /** Everything the server printed on stderr so far. */
  stderr(): string;
  stop(): Promise<void>;
}

export async function startServe(args: string[]): Promise<Served> {
  const child = spawn(process.execPath, [path.join(ROOT, 'app/cli/strata.js'), 'serve', '--port', '0', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      const match = /http:\/\/127\.0\.0\.1:\d+\/\?token=\S+/.exec(stdout);
      if (match) resolve(match[0]);
    });
    child.once('exit', (code) => reject(new Error(`strata serve exited (${code}) before printing its URL:\n${stdout}${stderr}`)));
  });
  return {
    url,
    origin: new URL(url).origin,
    process: child,
    stderr: () => stderr,
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** The pid of the engine process `strata serve` started (a child whose command names engine_process). */
export function enginePid(served: Served): number | null {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const parent = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (parent === served.process.pid && readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes('engine_process')) return Number(entry);
    } catch {
      // The process ended while we looked.
    }
  }
  return null;
}

/** `strata serve` with a Chromium page beside it, as every e2e file starts; the page's uncaught errors are collected. */
export interface AppUnderTest {
  served: Served;
  browser: Browser;
  page: Page;
  /** The page's uncaught errors (and whatever `setUp` adds), which each file's `after` asserts empty. */
  pageErrors: string[];
  close(): Promise<void>;
}

export interface OpenAppOptions {
  /** Runs before the page loads anything (init scripts, exposed functions). */
  setUp?: (page: Page, pageErrors: string[]) => Promise<unknown>;
  /** The window's size (launchBrowser's default otherwise). */
  viewport?: { width: number; height: number };
}

/** Builds the views if needed, starts `strata serve ARGS` and opens a page. */
export async function openApp(serveArgs: string[], { setUp, viewport }: OpenAppOptions = {}): Promise<AppUnderTest> {
  mkdirSync(ARTIFACTS, { recursive: true });
  await ensureViewsBuilt();
  const served = await startServe(serveArgs);
  let browser: Browser;
  try {
    browser = await launchBrowser(viewport);
  } catch (error) {
    await served.stop();
    throw error;
  }
  const page = await browser.context.newPage();
  const pageErrors: string[] = [];
  page.on('pageerror', (error) => pageErrors.push(error.message));
  await setUp?.(page, pageErrors);
  return {
    served,
    browser,
    page,
    pageErrors,
    async close() {
      await browser.close();
      await served.stop();
    },
  };
}

/** The app served on a new scratch folder: its `work/` the empty root, `state/` the app's state; close() also removes the folder. */
export interface ScratchApp extends AppUnderTest {
  scratch: string;
  root: string;
}

/** `strata serve ARGS --root <scratch>/work` with the page loaded, as the e2e files that bring their own files start. */
export async function openAppInScratch(name: string, args: string[] = [], options: OpenAppOptions = {}): Promise<ScratchApp> {
  const scratch = mkdtempSync(path.join(os.tmpdir(), `strata-e2e-${name}-`));
  const root = path.join(scratch, 'work');
  mkdirSync(root);
  const remove = () => rmSync(scratch, { recursive: true, force: true });
  const app = await openApp([...args, '--root', root, '--state-dir', path.join(scratch, 'state')], options).catch((error: unknown) => {
    remove();
    throw error;
  });
  await app.page.goto(app.served.url);
  return {
    ...app,
    scratch,
    root,
    async close() {
      await app.close();
      remove();
    },
  };
}
