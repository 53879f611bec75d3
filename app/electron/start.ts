// What `npm start` decides (scripts/start.js runs it): whether the views need building, and
// whether Electron's binary is there to open the window or browser mode must stand in.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

/** What the built views are made from: their sources and the app's modules they import. */
export const VIEW_SOURCES = ['renderer', 'app/contract', 'app/model', 'app/onnx/description.ts'];

/** Whether build/renderer/ is missing or older than any of its sources under `root`. */
export function viewsAreStale(root: string, sources = VIEW_SOURCES): boolean {
  const built = path.join(root, 'build/renderer/index.html');
  if (!existsSync(built)) return true;
  return statSync(built).mtimeMs < newestChange(sources.map((source) => path.join(root, source)));
}

/** The latest modification time of any file under these paths. */
function newestChange(paths: string[]): number {
  let newest = 0;
  for (const entry of paths) {
    if (!existsSync(entry)) continue;
    const stats = statSync(entry);
    newest = Math.max(newest, stats.isDirectory() ? newestChange(readdirSync(entry).map((name) => path.join(entry, name))) : stats.mtimeMs);
  }
  return newest;
}

export type ElectronLookup = { binary: string } | { missing: string };

const requireFromHere = createRequire(import.meta.url);

/**
 * Electron's executable as the electron package names it (node_modules/electron/index.js: the
 * path recorded in path.txt by its install script, under dist/ or ELECTRON_OVERRIDE_DIST_PATH),
 * or why there is none, as the one line `npm start` prints.
 */
export function findElectron(electronPath: () => string = () => requireFromHere('electron') as string): ElectronLookup {
  let binary: string;
  try {
    binary = electronPath();
  } catch {
    return { missing: "Electron's binary is not installed (its download from GitHub did not run or failed)" };
  }
  return existsSync(binary) ? { binary } : { missing: `Electron's binary is missing (${binary})` };
}

/** The line `npm start` prints before starting browser mode instead of the window. */
export function fallbackLine(reason: string): string {
  return `strata: ${reason}; opening the app in the browser instead (see the README on Electron without network access)`;
}
