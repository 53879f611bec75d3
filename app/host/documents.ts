// The files open in the engine process: models Strata can load (ModelDocument) and any other
// ONNX file (OnnxDocument), with what the views ask of them (weights' statistics, exports).
// Loading goes through the CLI's loader, so a file opens in the app exactly when `strata
// summary` reads it, and fails with the same error.
//
// An .onnx file that Strata wrote (its metadata holds the Keras JSON) opens as a model, which
// can be trained and exported again; any other .onnx file opens for inspection. The ONNX
// document keeps the decoded ModelProto, whose tensors' bytes are views of the file's bytes:
// memory stays near the file's size, and only summaries cross to the views.
import { randomUUID } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import type { ModelDocument, OnnxDocument, OpenedDocument, ProjectDocument, TensorStats, ExportFormat, ExportResult, KerasModelJson } from '../contract/api.ts';
import { UserError } from '../cli/errors.ts';
import { isModuleFile, loadModel } from '../cli/load_model.ts';
import { describeGraph, Model, modelFromJSON, summaryData, ValueError, type Layer } from '../model/index.ts';
import { describeModel, parseOnnxModel } from '../onnx/inspect.ts';
import type { ModelProto, TensorProto } from '../onnx/schema.ts';
import { inferShapes } from '../onnx/shape_inference.ts';
import { elementTypeName, externalDataOf, tensorDims, tensorToArray } from '../onnx/tensor.ts';
import { modelFromOnnx } from '../translate/from_onnx.ts';
import { METADATA_KERAS_JSON } from '../translate/to_onnx.ts';
import { isKerasModelFile, parseKerasModel } from '../io/keras_file.ts';
import { namedWeights } from '../io/tfjs_model.ts';
import { readFileOrThrow } from '../io/read_file.ts';
import { isProjectFolder } from '../io/project.ts';
import { modelExport } from './model_export.ts';
import { DataCache } from './data_cache.ts';
import { ProjectStore } from './projects.ts';
import { statsWithoutValues, tensorStats } from './tensor_stats.ts';

type OpenDocument = { document: ModelDocument; model: Model } | { document: OnnxDocument; proto: ModelProto };

export class DocumentStore {
  readonly #documents = new Map<string, OpenDocument>();
  /** The datasets loaded last, shared by training and the editor's preview. */
  readonly data = new DataCache();
  /** The models being edited (projects). */
  readonly projects = new ProjectStore(this.data);

  /** Opens a file, a saved-model folder or a project folder; `file` has been checked by the workbench. */
  async open(file: string): Promise<OpenedDocument> {
    if (isProjectFolder(file)) return this.projects.open(file);
    if (await isFolder(file)) return this.#addModel(file, await loadModel(file), 'saved-folder', true);
    const ext = path.extname(file).toLowerCase();
    if (ext === '.onnx') return this.#openOnnx(file, readFileOrThrow(file, UserError));
    if (isKerasModelFile(file)) return this.#addModel(file, await loadModel(file), 'keras-file', true);
    if (ext === '.json') {
      const hasWeights = await tfjsWeightsListed(file);
      return this.#addModel(file, await loadModel(file), hasWeights ? 'tfjs' : 'keras-json', hasWeights);
    }
    return this.#addModel(file, await loadModel(file), 'module', false);
  }

  /**
   * Opens a file by its content (dropped on the browser's window): ONNX files and Keras JSON.
   * Model files in code are refused: their code would run on the server.
   */
  async openDropped(name: string, bytes: Uint8Array): Promise<OpenedDocument> {
    const ext = path.extname(name).toLowerCase();
    if (ext === '.onnx') return this.#openOnnx(name, bytes);
    if (ext === '.json') {
      const text = new TextDecoder().decode(bytes);
      if (/"weightsManifest"\s*:/.test(text)) {
        throw new UserError(`${name}: a TensorFlow.js model.json needs its weight files beside it; open it from the server's files instead of dropping it`);
      }
      return this.#addModel(name, modelFromJSON(text, name), 'keras-json', false);
    }
    // A Keras .h5/.keras file is data (Strata never runs code from one): it opens from its bytes.
    if (isKerasModelFile(name)) return this.#addModel(name, await parseKerasModel(bytes, name), 'keras-file', true);
    if (isModuleFile(name)) throw new UserError(`${name}: a model file in code runs where the app runs; open it from the server's files instead of dropping it`);
    throw new UserError(`${name}: cannot open a dropped "${ext || name}" file; drop an .onnx file, a Keras .h5/.keras file or a Keras JSON file`);
  }

  layerWeights(documentId: string, layerName: string): TensorStats[] {
    const { model } = this.#model(documentId);
    const layer: Layer = model.getLayer(layerName);
    // A nested model's weights are named by their layer inside it, as TensorFlow.js names them.
    const weights = layer instanceof Model ? [...namedWeights(layer)].map(([name, w]) => ({ ...w, name })) : layer.weights;
    return weights.map((w) => tensorStats({ name: w.name, dtype: 'float32', shape: w.shape }, w.value));
  }

  initializerStats(documentId: string, name: string): TensorStats {
    const { document, proto } = this.#onnx(documentId);
    const tensor = (proto.graph?.initializer ?? []).find((t) => t.name === name);
    if (!tensor) throw new ValueError(`${document.title}: no initializer named "${name}"`);
    return initializerStats(tensor);
  }

  exportDocument(documentId: string, format: ExportFormat): ExportResult {
    const { document, model } = this.#model(documentId);
    return modelExport(model, path.basename(document.title, path.extname(document.title)), format);
  }

  /** A model opened from a file, as a project to edit (unsaved) with the file's weights. */
  edit(documentId: string): ProjectDocument {
    const { document, model } = this.#model(documentId);
    return this.projects.fromModel(model, document.title, document.trainedWeights, document.source === 'module' ? document.path : undefined);
  }

  /**
   * The model a document trains, and where it came from (its file, or a project's folder or
   * title): a model document's model, or a project's model as `edited` (carrying the project's
   * weights). ValueError for an ONNX file Strata did not write.
   */
  modelOf(documentId: string, edited?: KerasModelJson): { source: string; model: Model; modelFile?: string } {
    if (this.projects.has(documentId)) return this.projects.modelToTrain(documentId, edited);
    const { document, model } = this.#model(documentId);
    return { source: document.path, model, ...(document.source === 'module' ? { modelFile: document.path } : {}) };
  }

  close(documentId: string): void {
    this.#documents.delete(documentId);
    this.projects.close(documentId);
  }

  #openOnnx(file: string, bytes: Uint8Array): OpenedDocument {
    const proto = parseOnnxModel(bytes, file);
    if ((proto.metadataProps ?? []).some((entry) => entry.key === METADATA_KERAS_JSON)) {
      return this.#addModel(file, modelFromOnnx(bytes, file), 'onnx', true);
    }
    const document: OnnxDocument = {
      kind: 'onnx',
      id: randomUUID(),
      path: file,
      title: path.basename(file),
      description: describeModel(proto, { file, fileBytes: bytes.length }),
      inferred: inferShapes(proto),
    };
    this.#documents.set(document.id, { document, proto });
    return document;
  }

  #addModel(file: string, model: Model, source: ModelDocument['source'], trainedWeights: boolean): ModelDocument {
    const document: ModelDocument = {
      kind: 'model',
      id: randomUUID(),
      path: file,
      title: path.basename(file),
      source,
      summary: summaryData(model),
      graph: describeGraph(model),
      trainedWeights,
    };
    this.#documents.set(document.id, { document, model });
    return document;
  }

  #find(documentId: string): OpenDocument {
    const open = this.#documents.get(documentId);
    if (!open) throw new ValueError(`no open document "${documentId}": it was closed, or the engine restarted since it was opened; open the file again`);
    return open;
  }

  #model(documentId: string): { document: ModelDocument; model: Model } {
    const open = this.#find(documentId);
    if (!('model' in open)) throw new ValueError(`${open.document.title} is an ONNX file Strata did not write: it can be inspected, not exported or trained`);
    return open;
  }

  #onnx(documentId: string): { document: OnnxDocument; proto: ModelProto } {
    const open = this.#find(documentId);
    if (!('proto' in open)) throw new ValueError(`${open.document.title} is a model: its weights are listed by layer`);
    return open;
  }
}

function initializerStats(tensor: TensorProto): TensorStats {
  const shape = tensorDims(tensor);
  const info = { name: tensor.name ?? '', dtype: elementTypeName(tensor.dataType), shape };
  const count = shape.reduce((n, d) => n * d, 1);
  const external = externalDataOf(tensor);
  if (external) return statsWithoutValues(info, count, `the values are in the external file "${external['location'] ?? ''}"`);
  let values;
  try {
    values = tensorToArray(tensor).data;
  } catch (error) {
    return statsWithoutValues(info, count, (error as Error).message);
  }
  return tensorStats(info, values as ArrayLike<number | bigint>);
}

async function isFolder(file: string): Promise<boolean> {
  return (await stat(file).catch(() => undefined))?.isDirectory() ?? false;
}

/** Whether a model JSON lists weight files (a TensorFlow.js model.json), so the model has trained weights. */
async function tfjsWeightsListed(file: string): Promise<boolean> {
  try {
    const json = JSON.parse(await readFile(file, 'utf8')) as { weightsManifest?: { weights?: unknown[] }[] };
    return Array.isArray(json.weightsManifest) && json.weightsManifest.some((group) => (group.weights ?? []).length > 0);
  } catch {
    return false; // loadModel reports what is wrong with the file
  }
}
