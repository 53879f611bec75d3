// model.save(dir) / loadModel(dir): a folder in TensorFlow.js's layers format, so that
// TensorFlow.js (and Strata's own loader) read it: model.json (the Keras topology, the
// training config, the weights manifest) and one binary shard with every weight in the
// model's get_weights order. The folder is replaced atomically, and only when it holds
// nothing but a saved model (model_folder.ts says what may be replaced and how).
import { readFileSync, realpathSync } from 'node:fs';
import path from 'node:path';
import { ConfigError, Model, losses, type CompiledConfig, type OptimizerVariables } from '../model/index.ts';
import { STRATA_VERSION } from '../version.ts';
import { SaveError, errorReason, writeFileAtomic } from './atomic_write.ts';
import { MODEL_JSON, SHARD, commitStaging, createStaging, finishInterruptedSave, removeOurFolder, removeStaleStaging, resolveSaveTarget } from './model_folder.ts';
import { namedWeights, readTfjsModel } from './tfjs_model.ts';

/** Keras's training_config for a compiled model (what tf.keras writes into its files). */
export function trainingConfigOf(compiled: CompiledConfig): Record<string, unknown> {
  const several = compiled.losses.length > 1;
  const loss = several ? Object.fromEntries(compiled.losses.map((l) => [l.output, losses.serializeLoss(l)])) : losses.serializeLoss(compiled.losses[0]!);
  return {
    loss,
    metrics: compiled.metrics,
    loss_weights: several ? Object.fromEntries(compiled.losses.map((l) => [l.output, l.weight])) : null,
    optimizer_config: { class_name: compiled.optimizer.className, config: compiled.optimizer.getConfig() },
  };
}

export interface SaveOptions {
  /** Epochs trained so far, so that training can resume from there (fit's initialEpoch). */
  epochs?: number;
  /** The names of the output's classes, by class id (a loader's classNames), for predictions later. */
  classNames?: string[];
  /** A run's checkpoint: what resuming needs beyond the weights (run_recorder.ts's RunCheckpointState), JSON. */
  trainingState?: object;
}

/**
 * Saves the model (its weights, and the optimizer's variables when compiled) to the folder
 * `dir`, creating it or replacing a model saved there before. Throws a SaveError naming `dir`,
 * and changes nothing, when `dir` holds anything else, is a file, or cannot be written.
 */
export function saveModel(model: Model, dir: string, options: SaveOptions = {}): void {
  finishInterruptedSave(dir);
  const target = resolveSaveTarget(dir);
  removeStaleStaging(target.path);
  const staging = createStaging(target);
  try {
    const { bytes, json } = serializeModel(model, options);
    writeFileAtomic(path.join(staging, SHARD), bytes);
    writeFileAtomic(path.join(staging, MODEL_JSON), JSON.stringify(json));
    commitStaging(staging, target);
  } catch (error) {
    removeOurFolder(staging);
    if (!(error instanceof SaveError) && (error as NodeJS.ErrnoException).code === undefined) throw error; // a bug, not the disk
    const reason = error instanceof SaveError ? error.reason : errorReason(error);
    throw new SaveError(`${dir}: cannot save (${reason}); nothing was changed`, reason);
  }
}

/** model.json's content and the shard's bytes: the model's weights, then the optimizer's variables ("optimizer" group). */
function serializeModel(model: Model, options: SaveOptions): { bytes: Uint8Array; json: object } {
  const arrays: { name: string; shape: number[]; data: Float32Array; group?: 'optimizer' }[] = [...namedWeights(model)].map(([name, w]) => ({ name, shape: [...w.shape], data: w.value }));
  const variables = model.optimizer?.variables;
  for (const [weight, slots] of Object.entries(variables?.slots ?? {})) {
    for (const [slot, data] of Object.entries(slots)) if (data.length > 0) arrays.push({ name: `${weight}/${slot}`, shape: [data.length], data, group: 'optimizer' });
  }
  const bytes = new Uint8Array(arrays.reduce((n, a) => n + a.data.byteLength, 0));
  let offset = 0;
  const specs = arrays.map(({ name, shape, data, group }) => {
    bytes.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), offset);
    offset += data.byteLength;
    return { name, shape, dtype: 'float32', ...(group ? { group } : {}) };
  });
  const topology = JSON.parse(model.toJSON()) as Record<string, unknown>;
  if (model.compiled) topology.training_config = trainingConfigOf(model.compiled);
  const json = {
    format: 'layers-model',
    generatedBy: `strata ${STRATA_VERSION}`,
    convertedBy: null,
    modelTopology: topology,
    weightsManifest: [{ paths: [SHARD], weights: specs }],
    userDefinedMetadata: {
      epochs: options.epochs ?? 0,
      ...(variables ? { optimizer_iterations: variables.iterations } : {}),
      ...(options.classNames ? { class_names: options.classNames } : {}),
      // In model.json, so that the folder's one atomic replacement keeps it and the weights together.
      ...(options.trainingState ? { training_state: options.trainingState } : {}),
    },
  };
  return { bytes, json };
}

export interface LoadedModel {
  model: Model;
  /** Epochs trained before it was saved. */
  epochs: number;
  /** The output's class names by class id, when the save recorded them. */
  classNames?: string[];
  /** SaveOptions.trainingState as saved (a run's checkpoint), unchecked. */
  trainingState?: unknown;
}

/**
 * Reads a folder written by saveModel (or by TensorFlow.js's model.save()): the model with its
 * weights, compiled again when it was saved compiled (optimizer variables included), and the
 * epochs it had trained.
 *
 * @param dir the folder holding model.json and its weight shards
 * @param text model.json's content when the caller has already read it; read from `dir` otherwise
 * @throws ConfigError naming the file when model.json or a shard is missing or malformed
 */
export function loadModelFolder(dir: string, text?: string): LoadedModel {
  const file = path.join(dir, MODEL_JSON);
  if (text === undefined) {
    finishInterruptedSave(dir);
    text = readModelJson(file);
  }
  const { model, optimizerWeights } = readTfjsModel(file, text);
  const meta = (JSON.parse(text) as { userDefinedMetadata?: { epochs?: number; optimizer_iterations?: number; class_names?: unknown; training_state?: unknown } }).userDefinedMetadata;
  if (model.trainingConfig) model.compileFromTrainingConfig(model.trainingConfig);
  // Strata's saves name optimizer variables "<weight path>/<slot>"; other writers' are left alone.
  if (model.optimizer && meta?.optimizer_iterations !== undefined) {
    const slots: OptimizerVariables['slots'] = {};
    for (const [name, data] of optimizerWeights) {
      const cut = name.lastIndexOf('/');
      const slot = name.slice(cut + 1) as 'm' | 'v' | 'mg';
      if (!['m', 'v', 'mg'].includes(slot)) continue;
      const entry = (slots[name.slice(0, cut)] ??= { m: new Float32Array(0), v: new Float32Array(0), mg: new Float32Array(0) });
      entry[slot] = data;
    }
    model.optimizer.variables = { iterations: meta.optimizer_iterations, slots };
  }
  // A save of this folder that was killed half-way left a staging folder beside it.
  removeStaleStaging(realpathSync(dir));
  const epochs = meta?.epochs;
  const names = meta?.class_names;
  // Written by saveModel; anything else there (another writer's metadata) is not class names.
  const classNames = Array.isArray(names) && names.every((n) => typeof n === 'string') ? (names as string[]) : undefined;
  const trainingState = meta?.training_state;
  return { model, epochs: Number.isSafeInteger(epochs) && epochs! >= 0 ? epochs! : 0, ...(classNames ? { classNames } : {}), ...(trainingState !== undefined ? { trainingState } : {}) };
}

function readModelJson(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new ConfigError(`${file}: ${code === 'ENOENT' ? 'no such file; a saved model folder holds model.json and its weight shards' : `cannot read (${code ?? (error as Error).message})`}`);
  }
}
