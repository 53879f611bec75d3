// Bundles the Electron main process and preload with esbuild into build/electron/: main.js (an
// ES module; packages stay in node_modules) and preload.cjs (CommonJS with everything inlined
// but 'electron', as a sandboxed preload must be). The app's other modules find files beside
// their sources (examples/, package.json, the engine process's entry) through
// import.meta.url, so the bundle keeps each one's own; app/electron/'s modules name files
// beside the bundle (the preload, the engine's entry).
//
// engine.mjs starts the engine process in Electron's utilityProcess. It registers tsx itself:
// Electron passes a utility process only a few Node flags (debugging and tracing ones; see
// IsAllowedOption in electron/shell/common/node_bindings.cc), so `--import tsx` would not.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { type BuildOptions, type Metafile, type Plugin, build } from 'esbuild';

export const ELECTRON_BUILD_DIR = fileURLToPath(new URL('../../build/electron/', import.meta.url));
const APP_DIR = fileURLToPath(new URL('../', import.meta.url));
const ENGINE_PROCESS = new URL('../host/engine_process.ts', import.meta.url).href;
const ELECTRON_DIR = fileURLToPath(new URL('./', import.meta.url));

/** Each of the app's modules outside app/electron/ keeps its source file's import.meta.url. */
export const sourceImportMetaUrl: Plugin = {
  name: 'source-import-meta-url',
  setup(builder) {
    builder.onLoad({ filter: /\.ts$/ }, async ({ path: file }) => {
      if (!file.startsWith(APP_DIR) || file.startsWith(ELECTRON_DIR)) return undefined;
      const source = await readFile(file, 'utf8');
      return { contents: source.replaceAll('import.meta.url', JSON.stringify(pathToFileURL(file).href)), loader: 'ts' };
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
  await writeFile(engine, engineEntry());
  return { main, preload, engine, imports: { main: externalImports(mainBuild.metafile!), preload: externalImports(preloadBuild.metafile!) } };
}

function engineEntry(): string {
  return [
    '// Written by app/electron/bundle.ts: the engine process in Electron\'s utilityProcess, which takes no --import flag.',
    `import { register } from ${JSON.stringify(import.meta.resolve('tsx/esm/api'))};`,
    '',
    'register();',
    `await import(${JSON.stringify(ENGINE_PROCESS)});`,
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
