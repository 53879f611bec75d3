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

// Electron is an optional dependency: its install step downloads the Electron binary from
// GitHub, and npm drops an optional package whose install step fails instead of failing
// the whole install. Where the download works, Electron is installed as usual.
if (!resolvePackageDir('electron')) {
  console.warn(
    'strata: Electron is not installed (its binary download failed, usually for lack of network access).\n' +
      '        The command line (npx strata) works without it; the desktop app needs it.\n' +
      '        On a machine that can reach GitHub, run: npm install electron',
  );
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
