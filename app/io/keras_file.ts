// Keras's own model files, read and written:
//   .h5    tf.keras 2.x and Keras 3's legacy HDF5 format (keras/src/legacy/saving/legacy_h5_format.py,
//          save_model_to_hdf5 / load_model_from_hdf5): root attributes model_config (JSON),
//          keras_version, backend and, when compiled, training_config; the weights in group
//          model_weights, a group per layer listed in its layer_names attribute, each with a
//          weight_names attribute naming its datasets.
//   .keras Keras 3 (keras/src/saving/saving_lib.py, save_model / _save_model_to_fileobj): a zip of
//          metadata.json, config.json and model.weights.h5, whose layout keras_weights.ts gives.
// Weights are matched to layers as Keras matches them, and checked (count, shape, dtype) before
// any is read, so a hostile file cannot make Strata allocate more than the model's own weights.
import { zipSync } from 'fflate';
import path from 'node:path';
import { crc32 } from 'node:zlib';
import { inflateDeclared } from '../data/inflate.ts';
import { type ZipMember, zipMembers } from '../data/zip.ts';
import { ConfigError, FileError, FormatError, LimitError, Model, modelFromJSON, type LayerWeight } from '../model/index.ts';
import { prefixUserError } from '../model/errors.ts';
import { KERAS_JSON_WRITER } from '../model/model.ts';
import { LIMITS } from '../model/limits.ts';
import { readableMemorySize } from '../model/summary.ts';
import { writeFileAtomic } from './atomic_write.ts';
import { type Dataset, type Group, type H5File, attributeNames, childGroup, datasetAt, ensureGroup, loadHdf5, readHdf5, textAttribute, textListAttribute, writeHdf5, writeTextAttribute, writeTextListAttribute } from './hdf5.ts';
import { isKerasModelFile } from './keras_extensions.ts';
import { kerasContainerNames, kerasVariableGroups, kerasVarsGroups, kerasWeightPaths, legacyWeights, type KerasVariableGroup } from './keras_weights.ts';
import { trainingConfigOf } from './model_store.ts';
import { namedWeights } from './tfjs_model.ts';
import { readFileOrThrow } from './read_file.ts';

export { KERAS_FILE_EXTENSIONS, isKerasModelFile } from './keras_extensions.ts';

/** HDF5's signature; it opens the file or follows a user block of 512, 1024, 2048, ... bytes. */
const HDF5_SIGNATURE = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a];

function hasHdf5Signature(bytes: Uint8Array): boolean {
  for (let offset = 0; offset + 8 <= bytes.length; offset = offset === 0 ? 512 : offset * 2) {
    if (HDF5_SIGNATURE.every((b, i) => bytes[offset + i] === b)) return true;
  }
  return false;
}

/**
 * Reads a Keras model file (.h5/.hdf5 or .keras) into a model with its weights; the file's
 * training config is kept on model.trainingConfig. Errors are one line naming the file.
 */
export async function loadKerasModel(file: string): Promise<Model> {
  return parseKerasModel(readFileOrThrow(file, FileError), file);
}

/** A Keras model file's bytes, by the extension of its name `file` (.keras: the zip; .h5/.hdf5: HDF5). */
export async function parseKerasModel(bytes: Uint8Array, file: string): Promise<Model> {
  await loadHdf5();
  return parseKerasModelSync(bytes, file);
}

/** parseKerasModel once the HDF5 library is loaded (loadHdf5). */
export function parseKerasModelSync(bytes: Uint8Array, file: string): Model {
  return path.extname(file).toLowerCase() === '.keras' ? parseKerasArchive(bytes, file) : parseKerasH5(bytes, file);
}

// ---- .h5 ----------------------------------------------------------------------------------

function parseKerasH5(bytes: Uint8Array, file: string): Model {
  if (bytes.length === 0) throw new FormatError(`${file}: the file is empty, not a Keras .h5 model`, { file });
  if (!hasHdf5Signature(bytes)) {
    const zip = bytes[0] === 0x50 && bytes[1] === 0x4b ? '; it is a zip archive, as a Keras 3 .keras file is: rename it to .keras' : '';
    throw new FormatError(`${file}: not an HDF5 file (no HDF5 signature), so not a Keras .h5 model${zip}`, { file });
  }
  return readHdf5(bytes, file, (h5) => {
    const config = textAttribute(h5, 'model_config', file);
    if (config === undefined) throw new FormatError(`${file}: ${withoutModelConfig(h5)}`, { file });
    const model = modelFromJSON(parseJsonAttribute(config, 'model_config', file), file);
    const training = textAttribute(h5, 'training_config', file);
    if (training !== undefined) model.trainingConfig = parseJsonAttribute(training, 'training_config', file);
    const weights = childGroup(h5, 'model_weights');
    if (!weights) throw new FormatError(`${file}: has a model_config but no "model_weights" group: not a whole Keras model file`, { file });
    loadLegacyWeights(weights, model, file);
    return model;
  });
}

/** Why an HDF5 file without model_config is not a model: a weights-only save, or not Keras at all. */
function withoutModelConfig(h5: H5File): string {
  const fix = 'Strata opens whole models: in Keras, save it with model.save("model.h5") or model.save("model.keras"), or load it in Strata into the same architecture';
  if (attributeNames(h5).some((name) => /^layer_names\d*$/.test(name))) {
    return `holds only a model's weights, as model.save_weights() writes them (a "layer_names" attribute, no "model_config"): it has no architecture to build. ${fix}`;
  }
  if (childGroup(h5, 'layers') || childGroup(h5, '_layer_checkpoint_dependencies')) {
    return `holds only a model's weights, as Keras 3's model.save_weights("x.weights.h5") writes them: it has no architecture to build. ${fix}`;
  }
  return 'not a Keras model file: it has no "model_config" attribute (Keras\'s model.save("model.h5") writes one)';
}

function parseJsonAttribute(text: string, name: string, file: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new FormatError(`${file}: attribute "${name}" is not valid JSON (${(error as Error).message})`, { file, field: name });
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new FormatError(`${file}: attribute "${name}" must hold a JSON object`, { file, field: name });
  return parsed as Record<string, unknown>;
}

/** Keras's load_attributes_from_hdf5_group: the attribute itself, or its chunks name0, name1, ... */
function chunkedTextList(group: Group, name: string, where: string): string[] {
  const whole = textListAttribute(group, name, where);
  if (whole !== undefined) return whole;
  const list: string[] = [];
  for (let chunk = 0; ; chunk++) {
    const part = textListAttribute(group, `${name}${chunk}`, where);
    if (part === undefined) return list;
    list.push(...part);
  }
}

/**
 * Keras's load_weights_from_hdf5_group: the model's layers that have weights, in order, take
 * the file's layer groups that have weights, in layer_names order; each layer's weights (in
 * _legacy_weights order) take the datasets its weight_names list.
 */
function loadLegacyWeights(group: Group, model: Model, file: string): void {
  const layers = model.layers.filter((layer) => legacyWeights(layer).length > 0);
  const saved = chunkedTextList(group, 'layer_names', `${file}: model_weights`).flatMap((name) => {
    const layerGroup = childGroup(group, name);
    if (!layerGroup) throw new FormatError(`${file}: model_weights lists layer "${name}" but has no group of that name`, { file });
    const names = chunkedTextList(layerGroup, 'weight_names', `${file}: model_weights/${name}`);
    return names.length > 0 ? [{ name, group: layerGroup, names }] : [];
  });
  if (saved.length !== layers.length) {
    throw new ConfigError(
      `${file}: the model has ${layers.length} layers with weights (${layers.map((l) => l.name).join(', ')}), the file's model_weights ${saved.length} (${saved.map((s) => s.name).join(', ')}); Keras matches them in order (layer count mismatch)`,
      { file },
    );
  }
  const assignments: [LayerWeight, Float32Array][] = [];
  layers.forEach((layer, k) => {
    const { name, group: layerGroup, names } = saved[k]!;
    const weights = legacyWeights(layer);
    const where = `${file}: layer "${layer.name}" (model_weights/${name})`;
    if (names.length !== weights.length) throw new ConfigError(`${where}: the layer has ${weights.length} weights (${weights.map((w) => w.name).join(', ')}), the file ${names.length} (${names.join(', ')})`, { file, layer: layer.name });
    weights.forEach((weight, i) => {
      const dataset = datasetAt(layerGroup, names[i]!);
      if (!dataset) throw new FormatError(`${where}: weight_names lists "${names[i]}", which is not a dataset in the group`, { file, layer: layer.name });
      assignments.push([weight, readWeight(dataset, weight, `${where}: weight "${names[i]}"`, layer.name)]);
    });
  });
  const topLevel = childGroup(group, 'top_level_model_weights');
  if (topLevel && chunkedTextList(topLevel, 'weight_names', `${file}: top_level_model_weights`).length > 0) {
    throw new ConfigError(`${file}: has weights of the model itself (top_level_model_weights), outside any layer; Strata models keep all weights in layers`, { file });
  }
  for (const [weight, value] of assignments) weight.value = value;
}

/** A dataset's values as float32, after checking its shape against the weight's (so nothing larger is read) and its dtype. */
function readWeight(dataset: Dataset, weight: LayerWeight, where: string, layer: string): Float32Array {
  const shape = dataset.shape ?? [];
  if (shape.length !== weight.shape.length || shape.some((d, i) => d !== weight.shape[i])) {
    throw new ConfigError(`${where}: shape [${shape.join(', ')}] in the file, the layer's ${weight.name} has shape [${weight.shape.join(', ')}]`, { layer });
  }
  const dtype = String(dataset.dtype);
  if (!/^[<>|]?[fd]$|^[<>|]?f[48]$/.test(dtype) && dtype !== '<f' && dtype !== '<d') {
    throw new FormatError(`${where}: dtype ${dtype}; model weights must be float32 or float64`, { layer });
  }
  // A scalar dataset (Attention's scale) reads as a number.
  const value = typeof dataset.value === 'number' ? Float64Array.of(dataset.value) : dataset.value;
  if (!(value instanceof Float32Array || value instanceof Float64Array)) throw new FormatError(`${where}: unreadable values (dtype ${dtype})`, { layer });
  if (value.length !== weight.value.length) throw new FormatError(`${where}: holds ${value.length} values, its shape says ${weight.value.length}`, { layer });
  return value instanceof Float32Array ? value : Float32Array.from(value);
}

// ---- .keras -------------------------------------------------------------------------------

const CONFIG_JSON = 'config.json';
const METADATA_JSON = 'metadata.json';
const WEIGHTS_H5 = 'model.weights.h5';

function parseKerasArchive(bytes: Uint8Array, file: string): Model {
  if (bytes.length === 0) throw new FormatError(`${file}: the file is empty, not a Keras .keras model`, { file });
  if (bytes[0] !== 0x50 || bytes[1] !== 0x4b) {
    const h5 = hasHdf5Signature(bytes) ? '; it is an HDF5 file, as a Keras .h5 model is: rename it to .h5' : '';
    throw new FormatError(`${file}: not a zip archive, so not a Keras .keras model${h5}`, { file });
  }
  const members = zipMembers(bytes, (what) => {
    throw new FormatError(`${file}: corrupt or truncated .keras archive (${what})`, { file });
  });
  const member = (name: string) => members.find((m) => m.name === name);
  const config = member(CONFIG_JSON);
  if (!config) throw new FormatError(`${file}: the archive has no ${CONFIG_JSON}; a .keras file holds ${METADATA_JSON}, ${CONFIG_JSON} and ${WEIGHTS_H5}`, { file });
  if (config.size > LIMITS.jsonBytes) throw new LimitError(`${file}[${CONFIG_JSON}]: ${readableMemorySize(config.size)}, more than the ${readableMemorySize(LIMITS.jsonBytes)} Strata reads from a model JSON`, { file });
  const weights = member(WEIGHTS_H5);
  if (!weights) {
    const npz = member('model.weights.npz') ? ' (it has model.weights.npz, which Keras writes with weights_format="npz"; Strata reads the default, h5)' : '';
    throw new FormatError(`${file}: the archive has no ${WEIGHTS_H5}${npz}`, { file });
  }
  const configText = new TextDecoder().decode(memberBytes(bytes, config, file));
  let model: Model;
  try {
    model = modelFromJSON(configText, `${file}[${CONFIG_JSON}]`);
  } catch (error) {
    throw prefixUserError(error, '', { file });
  }
  const where = `${file}[${WEIGHTS_H5}]`;
  const h5 = memberBytes(bytes, weights, file);
  if (!hasHdf5Signature(h5)) throw new FormatError(`${where}: not an HDF5 file (no HDF5 signature)`, { file });
  readHdf5(h5, where, (h5file) => loadKeras3Weights(h5file, model, where));
  return model;
}

/** A member's bytes, stored or deflated (Python's zipfile writes either), checked against its CRC-32. */
function memberBytes(archive: Uint8Array, member: ZipMember, file: string): Uint8Array {
  const where = `${file}[${member.name}]`;
  const fail = (what: string): never => {
    throw new FormatError(`${where}: ${what}`, { file });
  };
  const data = archive.subarray(member.dataOffset, member.dataOffset + member.compressedSize);
  let content: Uint8Array;
  if (member.method === 0) {
    if (member.size !== member.compressedSize) fail(`a stored member of ${member.compressedSize} bytes whose directory entry says ${member.size}: corrupt archive`);
    content = data;
  } else if (member.method === 8) {
    content = inflateDeclared(data, 'deflate-raw', member.size, where, fail);
  } else {
    return fail(`compression method ${member.method}; Keras writes members stored or deflated`);
  }
  if (crc32(content) >>> 0 !== member.crc32) fail('its CRC-32 does not match the archive\'s: the member is corrupt');
  return content;
}

/** The vars group of a .keras weights path, or its Keras 2.13 spelling (saving_lib.H5Entry's fallback), or an older Keras 3's (legacyPath). */
function varsGroup(h5: H5File, group: KerasVariableGroup): Group | undefined {
  const paths = [group.path, ...(group.legacyPath ? [group.legacyPath] : [])];
  for (const candidate of paths.flatMap((p) => [p, p.replaceAll('layers', '_layer_checkpoint_dependencies')])) {
    let found: Group | undefined = h5;
    for (const part of `${candidate}/vars`.split('/')) found = found && childGroup(found, part);
    if (found) return found;
  }
  return undefined;
}

/** saving_lib._load_state with Layer.load_own_variables: every owner's vars/0..n, in creation order. Optimizer state (optimizer/vars) is not read. */
function loadKeras3Weights(h5: H5File, model: Model, where: string): void {
  const assignments: [LayerWeight, Float32Array][] = [];
  for (const [group, layer] of kerasWeightPaths(model)) {
    const { weights } = group;
    const vars = varsGroup(h5, group);
    const place = `${where}: layer "${layer.name}" (${group.path}/vars)`;
    if (!vars) throw new ConfigError(`${place}: no such group; the file has no weights for this layer`, { layer: layer.name });
    const count = vars.keys().length;
    if (count !== weights.length) throw new ConfigError(`${place}: the layer expects ${weights.length} variables (${weights.map((w) => w.name).join(', ')}), the file has ${count}`, { layer: layer.name });
    weights.forEach((weight, i) => {
      const dataset = datasetAt(vars, String(i));
      if (!dataset) throw new FormatError(`${place}: no dataset "${i}"`, { layer: layer.name });
      assignments.push([weight, readWeight(dataset, weight, `${place}: variable ${i} (${weight.name})`, layer.name)]);
    });
  }
  for (const [weight, value] of assignments) weight.value = value;
}

// ---- writing ------------------------------------------------------------------------------

/**
 * Saves the model as Keras's model.save(file) does, choosing the format by the extension:
 * ".keras" (Keras 3's zip) or ".h5"/".hdf5" (the legacy HDF5 file). The file is replaced
 * atomically. The optimizer's variables are not written; the training config is.
 */
export async function saveKerasModel(model: Model, file: string): Promise<void> {
  const ext = path.extname(file).toLowerCase();
  if (!isKerasModelFile(file)) throw new ConfigError(`${file}: a Keras model file ends in .keras or .h5, not "${ext}"`);
  writeFileAtomic(file, ext === '.keras' ? await formatKerasArchive(model) : await formatKerasH5(model));
}

/** Python's json.dumps: non-ASCII characters as \uXXXX escapes (ensure_ascii=True), so the text is ASCII. */
function pythonJson(value: unknown): string {
  return JSON.stringify(value).replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** {"class_name", "config"} of the model, as Keras's model_config and the model's training_config (null when not compiled). */
function modelConfigs(model: Model): { config: { class_name: unknown; config: unknown }; training: Record<string, unknown> | null } {
  const json = JSON.parse(model.toJSON()) as { class_name: unknown; config: unknown };
  const training = model.compiled ? trainingConfigOf(model.compiled) : model.trainingConfig;
  return { config: { class_name: json.class_name, config: json.config }, training };
}

/**
 * The model whose layers the file lists: the model itself, or for a subclassed model the
 * Functional graph its call() traces to (what its config describes and a reader rebuilds),
 * holding the same weights.
 */
function savedForm(model: Model): Model {
  if (!model.isSubclassed) return model;
  const traced = modelFromJSON(model.toJSON());
  const weights = namedWeights(model);
  for (const [name, weight] of namedWeights(traced)) weight.value = weights.get(name)!.value;
  return traced;
}

/** save_model_to_hdf5: the root attributes model_metadata gives, then model_weights (save_weights_to_hdf5_group). */
export async function formatKerasH5(subject: Model): Promise<Uint8Array> {
  await loadHdf5();
  const { config, training } = modelConfigs(subject);
  const model = savedForm(subject);
  return writeHdf5((h5) => {
    writeTextAttribute(h5, 'keras_version', KERAS_JSON_WRITER);
    writeTextAttribute(h5, 'backend', KERAS_JSON_WRITER);
    writeTextAttribute(h5, 'model_config', pythonJson(config));
    if (training) writeTextAttribute(h5, 'training_config', pythonJson(training));
    const weights = h5.create_group('model_weights');
    writeTextListAttribute(weights, 'layer_names', model.layers.map((layer) => layer.name));
    writeTextAttribute(weights, 'backend', KERAS_JSON_WRITER);
    writeTextAttribute(weights, 'keras_version', KERAS_JSON_WRITER);
    for (const layer of model.layers) {
      const group = weights.create_group(layer.name);
      const named = legacyWeightNames(layer);
      writeTextListAttribute(group, 'weight_names', named.map(([name]) => name));
      for (const [name, weight] of named) writeDataset(ensureGroup(group, path.posix.dirname(name)), path.posix.basename(name), weight);
    }
  });
}

/** tf.keras 2.x's weight names, "<layer>/<weight>:0"; a nested model's weights carry the inner layers' names after the model's. */
function legacyWeightNames(layer: import('../model/index.ts').Layer): [string, LayerWeight][] {
  const owner = new Map<LayerWeight, string>();
  const visit = (current: import('../model/index.ts').Layer, prefix: string) => {
    if (current instanceof Model) for (const inner of current.layers) visit(inner, `${prefix}${current.name}/`);
    else for (const weight of current.weights) owner.set(weight, `${prefix}${current.name}/${weight.name}:0`);
  };
  visit(layer, '');
  return legacyWeights(layer).map((weight) => [owner.get(weight)!, weight]);
}

function writeDataset(group: Group, name: string, weight: LayerWeight): void {
  group.create_dataset({ name, data: weight.value, shape: [...weight.shape], dtype: '<f4' });
}

/** _save_model_to_fileobj: metadata.json, config.json, then model.weights.h5, stored (zipfile's default). */
export async function formatKerasArchive(subject: Model): Promise<Uint8Array> {
  await loadHdf5();
  const { config, training } = modelConfigs(subject);
  const model = savedForm(subject);
  const weights = writeHdf5((h5) => {
    namedVars(h5, '', model.name);
    writeKeras3Layers(h5, model);
  });
  const now = new Date().toISOString();
  const metadata = { keras_version: KERAS_JSON_WRITER, date_saved: `${now.slice(0, 10)}@${now.slice(11, 19)}` };
  const text = (value: unknown) => new TextEncoder().encode(pythonJson(value));
  return zipSync(
    { [METADATA_JSON]: text(metadata), [CONFIG_JSON]: text({ ...config, ...(training ? { compile_config: compileConfigOf(training) } : {}) }), [WEIGHTS_H5]: weights },
    { level: 0 },
  );
}

/** Keras 3's compile_config (Model.get_compile_config: compile()'s arguments) from tf.keras 2.x's training_config. */
function compileConfigOf(training: Record<string, unknown>): Record<string, unknown> {
  const { optimizer_config: optimizer, loss, loss_weights, metrics } = training;
  return { optimizer, loss, loss_weights: loss_weights ?? null, metrics: metrics ?? null, weighted_metrics: null, run_eagerly: false, steps_per_execution: 1, jit_compile: false };
}

/**
 * _save_state over a model's layers: a vars group for every layer and inner layer (empty where it
 * owns no variables), each with the saveable's name as its "name" attribute as Keras 3.9 writes
 * it, nested models recursively.
 */
function writeKeras3Layers(parent: Group, model: Model): void {
  const layers = parent.create_group('layers');
  for (const [name, layer] of kerasContainerNames(model.layers)) {
    if (layer instanceof Model) {
      const group = layers.create_group(name);
      namedVars(group, '', layer.name);
      writeKeras3Layers(group, layer);
      continue;
    }
    for (const [path, saveable] of kerasVarsGroups(name, layer)) namedVars(layers, path, saveable);
    for (const group of kerasVariableGroups(name, layer)) {
      const vars = ensureGroup(layers, `${group.path}/vars`);
      group.weights.forEach((weight, i) => writeDataset(vars, String(i), weight));
    }
  }
}

/** H5Entry's vars group at `path` under `parent`, named after its saveable. */
function namedVars(parent: Group, path: string, name: string): void {
  ensureGroup(parent, `${path}/vars`).create_attribute('name', name);
}

// ---- description (strata inspect) ---------------------------------------------------------

export interface KerasFileDescription {
  file: string;
  format: 'h5' | 'keras';
  kerasVersion: string | null;
  backend: string | null;
  /** The model's class and name, from model_config / config.json. */
  model: { className: string; name: string | null };
  compiled: boolean;
  /** Every weight dataset: its path in the file, shape and dtype (values are not read). */
  weights: { path: string; shape: number[]; dtype: string }[];
  /** Datasets of the optimizer's state (optimizer_weights in .h5, optimizer/vars in .keras). */
  optimizerWeights: number;
}

/** What a Keras model file holds, without building the model or reading a weight's values. */
export async function describeKerasFile(file: string): Promise<KerasFileDescription> {
  const bytes = readFileOrThrow(file, FileError);
  // Parsing it whole first gives the same one-line errors as loading, for a file that is not a model.
  const model = await parseKerasModel(bytes, file);
  const isArchive = path.extname(file).toLowerCase() === '.keras';
  const base = { file, model: { className: model.kerasClassName, name: model.name }, compiled: model.trainingConfig !== null };
  if (!isArchive) {
    return readHdf5(bytes, file, (h5) => ({
      ...base,
      format: 'h5' as const,
      kerasVersion: textAttribute(h5, 'keras_version', file) ?? null,
      backend: textAttribute(h5, 'backend', file) ?? null,
      weights: datasets(childGroup(h5, 'model_weights')!, 'model_weights'),
      optimizerWeights: datasets(childGroup(h5, 'optimizer_weights'), 'optimizer_weights').length,
    }));
  }
  const members = zipMembers(bytes, () => {
    throw new FormatError(`${file}: corrupt .keras archive`, { file });
  });
  const metadataMember = members.find((m) => m.name === METADATA_JSON);
  let metadata: Record<string, unknown> = {};
  if (metadataMember && metadataMember.size <= LIMITS.jsonBytes) {
    try {
      metadata = JSON.parse(new TextDecoder().decode(memberBytes(bytes, metadataMember, file))) as Record<string, unknown>;
    } catch {
      // metadata.json is informational; Keras itself never reads it back.
    }
  }
  const weights = memberBytes(bytes, members.find((m) => m.name === WEIGHTS_H5)!, file);
  return readHdf5(weights, `${file}[${WEIGHTS_H5}]`, (h5) => {
    const all = datasets(h5, '');
    return {
      ...base,
      format: 'keras' as const,
      kerasVersion: typeof metadata.keras_version === 'string' ? metadata.keras_version : null,
      backend: null,
      weights: all.filter((d) => !d.path.startsWith('optimizer/')),
      optimizerWeights: all.filter((d) => d.path.startsWith('optimizer/')).length,
    };
  });
}

/** Most groups and datasets a description walks: a file's structure can be made far larger (or cyclic, through hard links). */
const DESCRIBE_LIMIT = 100_000;
const DESCRIBE_DEPTH = 64;

/** The datasets under `group`, depth first in name order, with their shapes and dtypes. */
function datasets(group: Group | undefined, prefix: string): { path: string; shape: number[]; dtype: string }[] {
  const found: { path: string; shape: number[]; dtype: string }[] = [];
  let visited = 0;
  const walk = (current: Group, at: string, depth: number) => {
    if (depth > DESCRIBE_DEPTH) return;
    for (const name of current.keys()) {
      if (++visited > DESCRIBE_LIMIT) return;
      const child = childGroup(current, name);
      const where = at ? `${at}/${name}` : name;
      if (child) walk(child, where, depth + 1);
      else {
        const dataset = datasetAt(current, name);
        if (dataset) found.push({ path: where, shape: dataset.shape ?? [], dtype: String(dataset.dtype) });
      }
    }
  };
  if (group) walk(group, prefix, 0);
  return found;
}
