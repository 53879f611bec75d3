// Opens a model file for the CLI: a TypeScript/JavaScript module whose default export is a
// model (or a function returning one), Keras JSON (tf.keras to_json(), a TensorFlow.js
// model.json with its weight shards, Keras 3's config.json), a Keras model file with its weights
// (.h5, .keras), or an ONNX file Strata exported.
// A model file that cannot load is one line naming the file (and the line, or the import,
// at fault); only an error raised inside Strata's own code is reported as a bug.
import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { finishInterruptedSave } from '../io/model_folder.ts';
import { isKerasModelFile, loadKerasModel } from '../io/keras_file.ts';
import { loadModelFolder } from '../io/model_store.ts';
import { assertReadableFile, readFileOrThrow } from '../io/read_file.ts';
import { loadTfjsModel } from '../io/tfjs_model.ts';
import { LIMITS } from '../model/limits.ts';
import { FileError, Model, StrataUserError, isUserError } from '../model/index.ts';
import { prefixUserError } from '../model/errors.ts';
import { modelFromOnnx } from '../translate/from_onnx.ts';
import { UserError } from './errors.ts';

const MODULE_EXTENSIONS = new Set(['.ts', '.mts', '.cts', '.js', '.mjs', '.cjs']);

/** Strata's own sources: an error thrown from here is a bug in Strata, not in the model file. */
const STRATA_APP_DIR = path.dirname(path.dirname(fileURLToPath(import.meta.url)));

/** A model module that fails to load: a syntax error, a throw, an import that does not resolve. */
export class ModelFileError extends StrataUserError {
  override name = 'ModelFileError';
}

export async function loadModel(file: string): Promise<Model> {
  // A save of this folder killed between its two renames left it aside: finished first.
  finishInterruptedSave(file);
  // A folder written by saveModel() (or TensorFlow.js's model.save()).
  if (isDirectory(file)) {
    const json = path.join(file, 'model.json');
    return loadModelFolder(file, readJsonText(json)).model;
  }
  const ext = path.extname(file).toLowerCase();
  if (ext === '.json') return loadTfjsModel(file, readJsonText(file));
  if (isKerasModelFile(file)) return loadKerasModel(file);
  if (ext === '.onnx') return modelFromOnnx(readFileOrThrow(file), file);
  if (MODULE_EXTENSIONS.has(ext)) return loadModuleModel(file);
  throw new UserError(`${file}: unknown model file type "${ext}"; expected a .ts/.js module, a Keras .h5/.keras/.json file or an .onnx file Strata exported`);
}

/** A TypeScript or JavaScript module: a model defined in code, with freshly initialised weights. */
export function isModuleFile(file: string): boolean {
  return MODULE_EXTENSIONS.has(path.extname(file).toLowerCase());
}

function isDirectory(file: string): boolean {
  try {
    return statSync(file).isDirectory();
  } catch {
    return false;
  }
}

/**
 * The module's URL, versioned by its modification time and size: Node caches a module by URL
 * for the life of the process, so a long-lived process (the app's engine) would otherwise
 * keep showing a model file as it was when first opened. Unchanged files keep their URL.
 * Only ES modules get the version: tsx hands a CommonJS file to Node's own loader when its
 * URL has a query, which then cannot read TypeScript (and such a file cannot import Strata).
 */
function moduleUrl(resolved: string): string {
  const url = pathToFileURL(resolved);
  if (!isEsModule(resolved)) return url.href;
  const stat = statSync(resolved);
  url.search = `?version=${Math.floor(stat.mtimeMs)}-${stat.size}`;
  return url.href;
}

function readJsonText(file: string): string {
  return new TextDecoder().decode(readFileOrThrow(file, FileError, { limit: LIMITS.jsonBytes }));
}

async function loadModuleModel(file: string): Promise<Model> {
  const exported = await runModuleExport(file, (module) => {
    const value = module['default'];
    return typeof value === 'function' && !(value.prototype instanceof Model) ? (value as () => unknown)() : value;
  });
  if (!(exported instanceof Model)) {
    const what = exported === undefined ? 'nothing' : typeof exported === 'function' ? `the class ${exported.name}` : String(exported);
    throw new UserError(
      `${file}: the default export must be a model (or a function returning one), got ${what}. ` +
        `End the file with "export default model;" and import the API from 'strata'`,
    );
  }
  if (!exported.built) {
    throw new UserError(`${file}: model "${exported.name}" is not built; give its first layer an inputShape or call model.build(inputShape) in the file`);
  }
  return exported;
}

/**
 * Imports the model module (once per version of the file) and runs `use` on its exports; what
 * the file throws, while importing or inside `use` (calling one of its functions), is
 * reported as the file's fault, naming its line.
 */
export async function runModuleExport(file: string, use: (module: Record<string, unknown>) => unknown): Promise<unknown> {
  assertReadableFile(file);
  const resolved = path.resolve(file);
  try {
    return await use((await import(moduleUrl(resolved))) as Record<string, unknown>);
  } catch (error) {
    throw moduleError(error, file, resolved);
  }
}

/**
 * What to report when importing (or calling) the model module failed. Strata's own errors for
 * what the file asked (a wrong shape, a bad layer argument) and the file's own faults become
 * one line; an error thrown from inside Strata's sources stays an internal error.
 */
function moduleError(error: unknown, file: string, resolved: string): unknown {
  if (isUserError(error)) {
    // Strata refused what the file asked for: say where in the file it asked.
    const caller = stackFrames(error).find((frame) => !isStrataSource(frame.file));
    return caller ? prefixUserError(error, `${displayPath(caller.file, file, resolved)}:${caller.line}`, { file: caller.file }) : error;
  }
  if (!(error instanceof Error)) return new ModelFileError(`${file}: the model file threw ${JSON.stringify(error) ?? String(error)}`, { file });
  const e = error as NodeJS.ErrnoException;
  const notFound = /^Cannot find (?:module|package) '([^']+)' imported from (\S+)/.exec(e.message);
  if (notFound && (e.code === 'ERR_MODULE_NOT_FOUND' || e.code === 'ERR_PACKAGE_PATH_NOT_EXPORTED')) {
    const hint = notFound[1] === 'strata' ? "; import the API from 'strata' in a project that has Strata installed (or inside Strata's repository)" : '';
    return new ModelFileError(`${file}: cannot load: the import '${notFound[1]}' in ${notFound[2]} does not resolve to a file${hint}`, { file });
  }
  if (['ERR_REQUIRE_CYCLE_MODULE', 'ERR_REQUIRE_ESM', 'ERR_REQUIRE_ASYNC_MODULE'].includes(e.code ?? '') || /Cannot use import statement outside a module/.test(e.message)) {
    return new ModelFileError(commonJsExplanation(file, resolved), { file });
  }
  // tsx compiles TypeScript with esbuild, whose errors read "file:line:column: ERROR: text" (columns from 0).
  const transform = /^(.+?):(\d+):(\d+): ERROR: (.*)$/m.exec(e.message);
  if (transform) {
    const [, where, line, column, text] = transform as unknown as [string, string, string, string, string];
    return new ModelFileError(`${displayPath(where, file, resolved)}:${line}:${Number(column) + 1}: syntax error: ${text}`, { file: where });
  }
  // Node parsing a CommonJS-format .ts file itself trips on its TypeScript or its `export`.
  if (e instanceof SyntaxError && resolved.endsWith('.ts') && !isEsModule(resolved)) return new ModelFileError(commonJsExplanation(file, resolved), { file });
  if (e instanceof SyntaxError) return new ModelFileError(javaScriptSyntaxError(e, file, resolved), { file });
  const [frame] = stackFrames(e);
  if (frame && !isStrataSource(frame.file)) {
    const where = `${displayPath(frame.file, file, resolved)}:${frame.line}`;
    return new ModelFileError(`${where}: ${e.name}: ${e.message.split('\n')[0]}${frame.file === resolved ? '' : ` (while loading ${file})`}`, { file: frame.file });
  }
  return error;
}

/** The model file as the user named it; other files as absolute paths. */
function displayPath(where: string, file: string, resolved: string): string {
  return where === resolved ? file : where;
}

/**
 * V8 keeps the place of a JavaScript syntax error out of the error's stack; `node --check`
 * prints it. An error in a module the file imports is reported without a place.
 */
function javaScriptSyntaxError(error: SyntaxError, file: string, resolved: string): string {
  const check = spawnSync(process.execPath, ['--check', resolved], { encoding: 'utf8' });
  const place = /^(?!node:)(\S+):(\d+)$/m.exec(check.stderr ?? '');
  if (check.status !== 0 && place) return `${displayPath(place[1]!, file, resolved)}:${place[2]}: syntax error: ${error.message}`;
  return `${file}: syntax error in a module it imports: ${error.message}`;
}

/** The files and lines of the error's stack, innermost first (a SyntaxError from V8 names its place on its first line). */
function stackFrames(error: Error): { file: string; line: number }[] {
  const lines = (error.stack ?? '').split('\n');
  const places = error instanceof SyntaxError ? lines.slice(0, 1) : lines.filter((line) => /^\s+at /.test(line));
  return places.flatMap((line) => {
    const match = /(file:\/\/[^\s():]+|\/[^\s():]+):(\d+)/.exec(line);
    return match ? [{ file: match[1]!.startsWith('file:') ? fileURLToPath(match[1]!) : match[1]!, line: Number(match[2]) }] : [];
  });
}

function isStrataSource(file: string): boolean {
  return file.startsWith(STRATA_APP_DIR + path.sep);
}

/** Node loads .ts and .js files as CommonJS unless the nearest package.json says "type": "module". */
function commonJsExplanation(file: string, resolved: string): string {
  const manifest = nearestPackageJson(path.dirname(resolved));
  const why = manifest ? `${manifest} does not say "type": "module"` : 'no package.json above it says "type": "module"';
  const fix = manifest ? `add "type": "module" to ${manifest}` : 'add a package.json with {"type": "module"} to its folder';
  return `${file}: Node loads this file as CommonJS because ${why}, but a model file is an ES module (import ... from 'strata', export default); ${fix}, or rename the file to .mts`;
}

/** Whether Node loads the file as an ES module: by its extension, else by the nearest package.json's "type". */
function isEsModule(resolved: string): boolean {
  const extension = path.extname(resolved);
  if (extension === '.mts' || extension === '.mjs') return true;
  if (extension === '.cts' || extension === '.cjs') return false;
  const manifest = nearestPackageJson(path.dirname(resolved));
  if (!manifest) return false;
  try {
    return (JSON.parse(readJsonText(manifest)) as { type?: unknown }).type === 'module';
  } catch {
    return false;
  }
}

function nearestPackageJson(dir: string): string | undefined {
  for (let current = dir; ; current = path.dirname(current)) {
    const candidate = path.join(current, 'package.json');
    if (existsSync(candidate)) return candidate;
    if (path.dirname(current) === current) return undefined;
  }
}
