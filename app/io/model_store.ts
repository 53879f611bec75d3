// model.save(dir) / loadModel(dir): a folder in TensorFlow.js's layers format, so that
// TensorFlow.js (and Strata's own loader) read it: model.json (the Keras topology, the
// training config, the weights manifest) and one binary shard with every weight in the
// model's get_weights order. The folder is replaced atomically: written beside the target,
// then renamed into place.
import { existsSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import path from 'node:path';
import { Model, losses, type CompiledConfig, type OptimizerVariables } from '../model/index.ts';
import { STRATA_VERSION } from '../version.ts';
import { SaveError, writeFileAtomic } from './atomic_write.ts';
import { namedWeights, readTfjsModel } from './tfjs_model.ts';

const SHARD = 'group1-shard1of1.bin';

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
}

export function saveModel(model: Model, dir: string, options: SaveOptions = {}): void {
  const parent = path.dirname(path.resolve(dir));
  if (!existsSync(parent)) throw new SaveError(`${dir}: cannot save (the folder ${parent} does not exist); nothing was changed`);
  const staging = mkdtempSync(path.join(parent, `.${path.basename(dir)}.`));
  try {
    // The model's weights, then the optimizer's variables (TensorFlow.js's "optimizer" group).
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
      userDefinedMetadata: { epochs: options.epochs ?? 0, ...(variables ? { optimizer_iterations: variables.iterations } : {}) },
    };
    writeFileAtomic(path.join(staging, SHARD), bytes);
    writeFileAtomic(path.join(staging, 'model.json'), JSON.stringify(json));
    // Swap the folders: the old one stays whole until the new one is complete.
    const old = existsSync(dir) ? `${staging}.old` : null;
    if (old) renameSync(dir, old);
    renameSync(staging, dir);
    if (old) rmSync(old, { recursive: true, force: true });
  } catch (error) {
    rmSync(staging, { recursive: true, force: true });
    if (error instanceof SaveError) throw error;
    throw new SaveError(`${dir}: cannot save (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}); nothing was changed`);
  }
}

export interface LoadedModel {
  model: Model;
  /** Epochs trained before it was saved. */
  epochs: number;
}

/** Reads a folder written by saveModel (or by TensorFlow.js), compiled again if it was. */
export function loadModelFolder(dir: string, text: string): LoadedModel {
  const file = path.join(dir, 'model.json');
  const { model, optimizerWeights } = readTfjsModel(file, text);
  const meta = (JSON.parse(text) as { userDefinedMetadata?: { epochs?: number; optimizer_iterations?: number } }).userDefinedMetadata;
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
  return { model, epochs: meta?.epochs ?? 0 };
}
