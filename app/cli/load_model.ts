// Opens a model file for the CLI: a TypeScript/JavaScript module whose default export is a
// model (or a function returning one), Keras JSON (tf.keras to_json(), a TensorFlow.js
// model.json with its weight shards, Keras 3's config.json), or an ONNX file Strata exported.
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { loadModelFolder } from '../io/model_store.ts';
import { loadTfjsModel } from '../io/tfjs_model.ts';
import { Model } from '../model/index.ts';
import { modelFromOnnx } from '../translate/from_onnx.ts';
import { UserError } from './errors.ts';

const MODULE_EXTENSIONS = new Set(['.ts', '.mts', '.cts', '.js', '.mjs', '.cjs']);

export async function loadModel(file: string): Promise<Model> {
  // A folder written by saveModel() (or TensorFlow.js's model.save()).
  if (await isDirectory(file)) {
    const json = path.join(file, 'model.json');
    return loadModelFolder(file, new TextDecoder().decode(await readModelFile(json))).model;
  }
  const ext = path.extname(file).toLowerCase();
  if (ext === '.json') return loadTfjsModel(file, new TextDecoder().decode(await readModelFile(file)));
  if (ext === '.onnx') return modelFromOnnx(await readModelFile(file), file);
  if (MODULE_EXTENSIONS.has(ext)) return loadModuleModel(file);
  throw new UserError(`${file}: unknown model file type "${ext}"; expected a .ts/.js module, a Keras .json file or an .onnx file Strata exported`);
}

/** A TypeScript or JavaScript module: a model defined in code, with freshly initialised weights. */
export function isModuleFile(file: string): boolean {
  return MODULE_EXTENSIONS.has(path.extname(file).toLowerCase());
}

async function isDirectory(file: string): Promise<boolean> {
  try {
    return (await stat(file)).isDirectory();
  } catch {
    return false;
  }
}

async function readModelFile(file: string): Promise<Uint8Array> {
  try {
    return await readFile(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new UserError(`${file}: ${code === 'ENOENT' ? 'no such file' : `cannot read (${code ?? (error as Error).message})`}`);
  }
}

async function loadModuleModel(file: string): Promise<Model> {
  const url = pathToFileURL(path.resolve(file)).href;
  let exported: unknown;
  try {
    exported = ((await import(url)) as { default?: unknown }).default;
  } catch (error) {
    const e = error as NodeJS.ErrnoException;
    if (e.code === 'ERR_MODULE_NOT_FOUND' && String(e.message).includes(path.resolve(file))) throw new UserError(`${file}: no such file`);
    throw error;
  }
  if (typeof exported === 'function' && !(exported.prototype instanceof Model)) exported = await (exported as () => unknown)();
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
