// Stages the engine for the installers: build/native-bundle/ holds the addon and every shared
// library it loads that a desktop system may lack (oneDNN, onnx_proto, protobuf, libgomp, and
// what those load), copied under the names the loader asks for. electron-builder.json puts the
// folder at <resources>/native/; the addon's "$ORIGIN" rpath (native/binding/CMakeLists.txt)
// finds the libraries there. glibc and the C++ runtime stay the system's, as every Linux
// desktop has them.
//   node --import tsx scripts/stage_native.ts     (npm run dist runs it)
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, realpathSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ADDON_PATH } from '../app/engine/binding.ts';

export const NATIVE_BUNDLE_DIR = fileURLToPath(new URL('../build/native-bundle/', import.meta.url));

/** Libraries every Linux desktop has: glibc's, the dynamic loader, and GCC's C++ runtime. */
export const SYSTEM_LIBRARY = /^(linux-vdso|ld-linux[^/]*|libc|libm|libdl|libpthread|librt|libresolv|libutil|libstdc\+\+|libgcc_s)\.so(\.\d+)*$/;

export interface SharedLibrary {
  /** The name the loader looks for (the DT_NEEDED entry), e.g. libdnnl.so.2. */
  name: string;
  /** Where it resolved, or null when it was not found. */
  file: string | null;
}

/** What `ldd` says `file` loads, its whole closure, each with where it resolved. */
export function sharedLibraries(file: string): SharedLibrary[] {
  const result = spawnSync('ldd', [file], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`ldd ${file} failed: ${result.stderr.trim() || result.stdout.trim()}`);
  return result.stdout
    .split('\n')
    .map((line) => /^\s*(\S+)(?:\s+=>\s+(not found|\S+))?/.exec(line))
    .filter((match): match is RegExpExecArray => match !== null)
    .map(([, name, target]) => ({ name: path.basename(name!), file: target === 'not found' ? null : (target ?? (path.isAbsolute(name!) ? name! : null)) }))
    .filter(({ name }) => name !== 'statically');
}

/** Copies the addon at `addon` and the libraries it needs beyond the system's into `outDir` (emptied first). */
export function stageNative(addon = ADDON_PATH, outDir = NATIVE_BUNDLE_DIR): string[] {
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  copyFileSync(addon, path.join(outDir, path.basename(addon)));
  const bundled: string[] = [];
  for (const { name, file } of sharedLibraries(addon)) {
    if (SYSTEM_LIBRARY.test(name)) continue;
    if (file === null) throw new Error(`${addon} needs ${name}, which the loader does not find here: install it before packaging`);
    copyFileSync(realpathSync(file), path.join(outDir, name));
    bundled.push(name);
  }
  return bundled;
}

// `npm run dist`
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const bundled = stageNative();
  process.stdout.write(`staged ${path.relative(process.cwd(), NATIVE_BUNDLE_DIR)}: strata_native.node with ${bundled.join(', ')}\n`);
}
