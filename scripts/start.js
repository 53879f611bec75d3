// `npm start [-- file]`: builds the views if their sources changed since the last build, bundles
// the Electron main process and preload, and opens the desktop window. Where Electron's binary
// is not installed (a machine that reaches only the npm registry), says so in one line and
// starts browser mode instead (`strata serve`), which prints the URL to open.
import { spawn, spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { register } from 'tsx/esm/api';

register();
const { fallbackLine, findElectron, viewsAreStale } = await import('../app/electron/start.ts');
const ROOT = fileURLToPath(new URL('../', import.meta.url));
const files = process.argv.slice(2);

if (viewsAreStale(ROOT)) {
  const build = spawnSync('npm', ['run', '--silent', 'build:renderer'], { cwd: ROOT, stdio: 'inherit' });
  if (build.status !== 0) {
    console.error('strata: building the views failed (the messages above say why)');
    process.exit(1);
  }
}

const electron = findElectron();
if ('binary' in electron) {
  const { bundleElectron } = await import('../app/electron/bundle.ts');
  const bundle = await bundleElectron();
  run(electron.binary, [bundle.main, ...files], (error) => {
    console.error(fallbackLine(`Electron did not start (${error.message})`));
    startBrowserMode();
  });
} else {
  console.error(fallbackLine(electron.missing));
  startBrowserMode();
}

function startBrowserMode() {
  run(process.execPath, [path.join(ROOT, 'app/cli/strata.js'), 'serve', '--port', '0', ...files], (error) => {
    console.error(`strata: browser mode did not start (${error.message})`);
    process.exit(1);
  });
}

/** Runs the app's process in this terminal, passes on SIGINT and SIGTERM to it, and exits as it exits. */
function run(command, args, onStartError) {
  const child = spawn(command, args, { stdio: 'inherit' });
  child.on('error', onStartError);
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
  for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
}
