// `npm start [-- file]`: builds the views if their sources changed since the last build, bundles
// the Electron main process and preload, and opens the desktop window. Where Electron's binary
// is not installed (a machine that reaches only the npm registry), says so in one line and
// starts browser mode instead (`strata serve`), which prints the URL to open.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { register } from 'tsx/esm/api';

register();
const ROOT = fileURLToPath(new URL('../', import.meta.url));
const require = createRequire(import.meta.url);
const files = process.argv.slice(2);

/** What the built views are made from: their sources and the app's modules they import. */
const VIEW_SOURCES = ['renderer', 'app/contract', 'app/model', 'app/onnx/description.ts'];
const BUILT_VIEWS = path.join(ROOT, 'build/renderer/index.html');

buildViewsIfStale();
const electron = electronBinary();
if (electron.binary) {
  const { bundleElectron } = await import('../app/electron/bundle.ts');
  const bundle = await bundleElectron();
  const child = spawn(electron.binary, [bundle.main, ...files], { stdio: 'inherit' });
  child.on('error', (error) => {
    console.error(`strata: Electron did not start (${error.message}); opening the app in the browser instead`);
    startBrowserMode();
  });
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
} else {
  console.error(`strata: ${electron.missing}; opening the app in the browser instead (see the README on Electron without network access)`);
  startBrowserMode();
}

function buildViewsIfStale() {
  const built = existsSync(BUILT_VIEWS) ? statSync(BUILT_VIEWS).mtimeMs : 0;
  if (built > newestChange(VIEW_SOURCES.map((source) => path.join(ROOT, source)))) return;
  const build = spawnSync('npm', ['run', '--silent', 'build:renderer'], { cwd: ROOT, stdio: 'inherit' });
  if (build.status !== 0) {
    console.error('strata: building the views failed (the messages above say why)');
    process.exit(1);
  }
}

/** The latest modification time of any file under these paths. */
function newestChange(paths) {
  let newest = 0;
  for (const entry of paths) {
    if (!existsSync(entry)) continue;
    const stats = statSync(entry);
    if (stats.isDirectory()) newest = Math.max(newest, newestChange(readdirSync(entry).map((name) => path.join(entry, name))));
    else newest = Math.max(newest, stats.mtimeMs);
  }
  return newest;
}

/** Electron's executable, or why there is none: the electron package records it once its binary is downloaded. */
function electronBinary() {
  let binary;
  try {
    binary = require('electron');
  } catch {
    return { missing: "Electron's binary is not installed (its download from GitHub did not run or failed)" };
  }
  return existsSync(binary) ? { binary } : { missing: `Electron's binary is missing (${binary})` };
}

function startBrowserMode() {
  const serve = spawnSync(process.execPath, [path.join(ROOT, 'app/cli/strata.js'), 'serve', '--port', '0', ...files], { stdio: 'inherit' });
  process.exit(serve.status ?? 1);
}
