// Runs after `npm ci` / `npm install`: builds the native training engine, and reports what
// could not be built or installed without failing the install because of it: the CLI, the
// model API and inference work without those parts, and the app names what is missing
// when it needs it.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(import.meta.url);

function resolvePackageDir(name) {
  try {
    return path.dirname(require.resolve(`${name}/package.json`));
  } catch {
    return null;
  }
}

// The native engine (native/, built by cmake-js into build/addon). Where CMake, a compiler
// or oneDNN is missing, CMake's message above names the package to install.
const cmakeJs = resolvePackageDir('cmake-js');
if (cmakeJs) {
  const build = spawnSync(process.execPath, [path.join(cmakeJs, 'bin', 'cmake-js'), 'compile', '--directory', 'native', '--out', 'build/addon', '--parallel', '2', '--CDSTRATA_BUILD_TESTS=ON'], {
    stdio: 'inherit',
  });
  if (build.status !== 0) {
    console.warn(
      'strata: the native training engine could not be built (see the messages above); training needs it, the rest works.\n' +
        '        Install CMake, a C++17 compiler, oneDNN and ONNX (Debian/Ubuntu: scripts/install-system-deps.sh), then run: npm run build:native',
    );
  }
}

// Electron's npm package (its type definitions, its launcher) always installs; its binary is a
// download from GitHub, which allowScripts keeps out of npm's own install step so that a
// machine reaching only the npm registry installs cleanly. Try the download here and say
// what it means when it fails: `npm start` then opens the app in the browser instead.
const electronDir = resolvePackageDir('electron');
if (electronDir && !electronBinaryInstalled()) {
  const download = spawnSync(process.execPath, [path.join(electronDir, 'install.js')], { stdio: 'pipe', timeout: 120_000 });
  if (download.status !== 0 || !electronBinaryInstalled()) {
    console.warn(
      "strata: Electron's binary could not be downloaded (it comes from GitHub, not the npm registry).\n" +
        '        The command line works without it, and `npm start` opens the app in your browser instead.\n' +
        `        On a machine that can reach GitHub: node ${path.relative(process.cwd(), path.join(electronDir, 'install.js'))}`,
    );
  }
}

function electronBinaryInstalled() {
  try {
    return existsSync(require('electron'));
  } catch {
    return false; // "Electron failed to install correctly": no binary path recorded yet
  }
}

// onnxruntime-node ships its CPU runtime inside the npm package; the CUDA execution provider
// is a separate download from NuGet, which its own install script would try on every machine
// (allowScripts in package.json declines that script). Try it only where an NVIDIA driver is loaded.
const ortDir = resolvePackageDir('onnxruntime-node');
const hasNvidiaDriver = existsSync('/proc/driver/nvidia/version');
if (ortDir && hasNvidiaDriver && process.platform === 'linux' && process.arch === 'x64') {
  const result = spawnSync(process.execPath, [path.join(ortDir, 'script', 'install.js'), '--onnxruntime-node-install=cuda12'], { stdio: 'inherit' });
  if (result.status !== 0) {
    console.warn(
      'strata: the CUDA add-on of onnxruntime-node could not be downloaded; inference runs on the CPU.\n' +
        `        To retry: node ${path.relative(process.cwd(), path.join(ortDir, 'script', 'install.js'))} --onnxruntime-node-install=cuda12`,
    );
  }
}
