// Bundles the Electron main process and preload with esbuild into build/electron/: main.js (an
// ES module; packages stay in node_modules) and preload.cjs (CommonJS with everything inlined
// but 'electron', as a sandboxed preload must be). The app's other modules find files beside
// their sources (examples/, package.json, the engine process's entry) through
// import.meta.url, so the bundle keeps each one's own, as a path relative to the bundle: the
// package moves the tree (into app.asar) but keeps build/electron/ beside app/ and
// node_modules/. app/electron/'s modules name files beside the bundle (the preload, the
// engine's entry).
//
// engine.mjs starts the engine process in Electron's utilityProcess. It registers tsx itself:
// Electron passes a utility process only a few Node flags (debugging and tracing ones; see
// IsAllowedOption in electron/shell/common/node_bindings.cc), so `--import tsx` would not.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type BuildOptions, type Metafile, type Plugin, build } from 'esbuild';

export const ELECTRON_BUILD_DIR = fileURLToPath(new URL('../../build/electron/', import.meta.url));
const APP_DIR = fileURLToPath(new URL('../', import.meta.url));
const ENGINE_PROCESS = fileURLToPath(new URL('../host/engine_process.ts', import.meta.url));
const ELECTRON_DIR = fileURLToPath(new URL('./', import.meta.url));

/** `file`'s URL as an expression evaluated in a bundle written to `outDir`: relative to the bundle, not to this machine. */
function urlBesideBundle(outDir: string, file: string): string {
  return `new URL(${JSON.stringify(path.relative(outDir, file).split(path.sep).join('/'))}, import.meta.url).href`;
}

/** Each of the app's modules outside app/electron/ keeps its source file's import.meta.url, relative to the bundle. */
export const sourceImportMetaUrl: Plugin = {
  name: 'source-import-meta-url',
  setup(builder) {
    const outDir = path.dirname(path.resolve(builder.initialOptions.outfile ?? 'bundle.js'));
    builder.onLoad({ filter: /\.ts$/ }, async ({ path: file }) => {
      if (!file.startsWith(APP_DIR) || file.startsWith(ELECTRON_DIR)) return undefined;
      const source = await readFile(file, 'utf8');
      return { contents: source.replaceAll('import.meta.url', urlBesideBundle(outDir, file)), loader: 'ts' };
    });
  },
};

export interface ElectronBundle {
  main: string;
  preload: string;
  engine: string;
  /** The packages and Node modules each file loads at run time. */
  imports: { main: string[]; preload: string[] };
}

export async function bundleElectron(outDir = ELECTRON_BUILD_DIR): Promise<ElectronBundle> {
  const common: BuildOptions = { bundle: true, platform: 'node', target: 'node20', sourcemap: 'linked', logLevel: 'error', metafile: true, external: ['electron'] };
  const main = path.join(outDir, 'main.js');
  const preload = path.join(outDir, 'preload.cjs');
  const engine = path.join(outDir, 'engine.mjs');
  const [mainBuild, preloadBuild] = await Promise.all([
    build({ ...common, entryPoints: [path.join(ELECTRON_DIR, 'main.ts')], outfile: main, format: 'esm', packages: 'external', plugins: [sourceImportMetaUrl] }),
    build({ ...common, entryPoints: [path.join(ELECTRON_DIR, 'preload.ts')], outfile: preload, format: 'cjs' }),
  ]);
  await mkdir(outDir, { recursive: true });
  await writeFile(engine, engineEntry(outDir));
  return { main, preload, engine, imports: { main: externalImports(mainBuild.metafile!), preload: externalImports(preloadBuild.metafile!) } };
}

function engineEntry(outDir: string): string {
  return [
    '// Written by app/electron/bundle.ts: the engine process in Electron\'s utilityProcess, which takes no --import flag.',
    "import { register } from 'tsx/esm/api'; // node_modules beside build/, in a checkout and in app.asar alike",
    '',
    'register();',
    `await import(${urlBesideBundle(outDir, ENGINE_PROCESS)});`,
    '',
  ].join('\n');
}

function externalImports(metafile: Metafile): string[] {
  const names = Object.values(metafile.outputs).flatMap((output) => output.imports.filter((item) => item.external).map((item) => item.path));
  return [...new Set(names)].sort();
}

// `npm run build:electron`
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const bundle = await bundleElectron();
  process.stdout.write(`bundled ${path.relative(process.cwd(), bundle.main)} and ${path.relative(process.cwd(), bundle.preload)}\n`);
}
