// The datasets the engine process loaded last, shared by training (fit, evaluate, the Data
// section's preview) and the editor's live preview, so that a model file's data (40 MB of
// images for the MobileNet-style example) is built and held once, not once per user.
import { statSync } from 'node:fs';
import { type TrainingData, loadDataSource } from '../cli/training_data.ts';
import type { DataSource } from '../contract/training.ts';
import type { Model } from '../model/index.ts';

/** Datasets kept loaded (the last ones used): Fashion-MNIST takes about 220 MB. */
const CACHED_DATASETS = 2;

export class DataCache {
  readonly #entries = new Map<string, Promise<TrainingData>>();

  /** The source's data, loaded once while it stays among the last used (the model sizes images). */
  load(source: DataSource, model: Model): Promise<TrainingData> {
    const key = cacheKey(source, model);
    let entry = this.#entries.get(key);
    if (!entry) {
      entry = loadDataSource(source, model);
      // A load that failed is not kept: the file may be fixed before the next try.
      entry.catch(() => this.#entries.delete(key));
    }
    this.#entries.delete(key);
    this.#entries.set(key, entry);
    while (this.#entries.size > CACHED_DATASETS) this.#entries.delete(this.#entries.keys().next().value!);
    return entry;
  }
}

function cacheKey(source: DataSource, model: Model): string {
  // A model file's data changes with the file (its modification time, as the model loader
  // keys it) and does not depend on the model; other sources are read at the model's input size.
  if (source.kind === 'model-file') return JSON.stringify([source, statSync(source.file, { throwIfNoEntry: false })?.mtimeMs]);
  return JSON.stringify([source, model.inputs.map((input) => input.shape)]);
}
