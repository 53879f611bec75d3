// Browser mode as `strata serve` and `npm start` (without Electron) run it: a workbench over the
// --root folder with its engine in a child process, bridged to the server. Problems a user can
// fix (views not built, port taken, no such address) are UserErrors naming the fix.
import { existsSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { UserError } from '../cli/errors.ts';
import { type SpawnEngine, forkEngine } from '../host/engine_channel.ts';
import { createWorkbench } from '../host/workbench.ts';
import { startServer } from './server.ts';
import { BUILT_VIEWS_DIR } from './static_files.ts';

export interface BrowserModeOptions {
  /** The folder whose files the page may open. */
  root: string;
  /** Where the recent files are kept. */
  stateDir: string;
  host: string;
  /** 0: any free port. */
  port: number;
  /** A file to open when the page loads (may lie outside the root: the user named it). */
  file?: string;
  /** The built views (default: build/renderer/). */
  viewsDir?: string;
  spawn?: SpawnEngine;
}

export interface BrowserMode {
  /** The URL to open, with the token. */
  url: string;
  port: number;
  /** The root, absolute. */
  root: string;
  /** The engine process's id, while it runs. */
  enginePid(): number | undefined;
  stop(): Promise<void>;
}

export async function startBrowserMode(options: BrowserModeOptions): Promise<BrowserMode> {
  const root = checkedRoot(options.root);
  const viewsDir = options.viewsDir ?? BUILT_VIEWS_DIR;
  if (!existsSync(path.join(viewsDir, 'index.html'))) {
    throw new UserError(`the app's views are not built (${path.join(viewsDir, 'index.html')} is missing): run npm run build:renderer`);
  }
  const workbench = createWorkbench({
    mode: 'browser',
    root,
    stateDir: options.stateDir,
    spawn: options.spawn ?? (() => forkEngine()),
    ...(options.file === undefined ? {} : { commandLineFile: options.file }),
  });
  try {
    const server = await startServer({ workbench, staticDir: viewsDir, host: options.host, port: options.port, openOnLoad: workbench.commandLinePath });
    return {
      url: server.url,
      port: server.port,
      root,
      enginePid: () => workbench.enginePid(),
      async stop() {
        await server.close();
        workbench.dispose();
      },
    };
  } catch (error) {
    workbench.dispose();
    throw listenError(error, options.host, options.port);
  }
}

function checkedRoot(root: string): string {
  const absolute = path.resolve(root);
  let isFolder = false;
  try {
    isFolder = statSync(absolute).isDirectory();
  } catch {
    throw new UserError(`--root ${root}: no such folder`);
  }
  if (!isFolder) throw new UserError(`--root ${root}: not a folder (the page opens files under this folder)`);
  return absolute;
}

/** The reasons a server cannot listen that the user can fix, as one line each. */
function listenError(error: unknown, host: string, port: number): unknown {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'EADDRINUSE') return new UserError(`port ${port} on ${host} is in use (another strata serve?): pick another with --port N, or --port 0 for any free port`);
  if (code === 'EACCES') return new UserError(`port ${port} needs privileges on this system: pick one above 1023 with --port N`);
  if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
    return new UserError(`--host ${host}: not an address of this machine (127.0.0.1 keeps the server to this machine; 0.0.0.0 listens on every network)`);
  }
  return error;
}

/**
 * Where the app keeps its state (the recent files): the folder Electron names userData for an
 * app called Strata, so the desktop and browser mode on one machine share their recent files.
 */
export function defaultStateDir(): string {
  const home = os.homedir();
  if (process.platform === 'darwin') return path.join(home, 'Library', 'Application Support', 'Strata');
  if (process.platform === 'win32') return path.join(process.env['APPDATA'] ?? path.join(home, 'AppData', 'Roaming'), 'Strata');
  return path.join(process.env['XDG_CONFIG_HOME'] || path.join(home, '.config'), 'Strata');
}

/** Whether a --host keeps the server to this machine. */
export function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || host === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(host);
}
