// Opens a model file for the CLI: a TypeScript/JavaScript module whose default export is a
// model (or a function returning one), or Keras JSON (tf.keras to_json(), a TensorFlow.js
// model.json, Keras 3's config.json).
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Model, modelFromJSON } from '../model/index.ts';
import { UserError } from './errors.ts';

const MODULE_EXTENSIONS = new Set(['.ts', '.mts', '.cts', '.js', '.mjs', '.cjs']);

export async function loadModel(file: string): Promise<Model> {
  const ext = path.extname(file).toLowerCase();
  if (ext === '.json') return loadJsonModel(file);
  if (MODULE_EXTENSIONS.has(ext)) return loadModuleModel(file);
  throw new UserError(`${file}: unknown model file type "${ext}"; expected a .ts/.js module or a Keras .json file`);
}

async function loadJsonModel(file: string): Promise<Model> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new UserError(`${file}: cannot read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  return modelFromJSON(text, file);
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
