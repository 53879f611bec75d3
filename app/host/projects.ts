// The models being edited, in the engine process: each project document (new, from a
// template, a file opened for editing, or a project folder) keeps the Model whose weights it
// carries. The views edit Keras JSON; whenever the engine needs the model (save, preview,
// export), it rebuilds it from that JSON and carries the weights over from the last one: a
// layer whose name and weight shapes are unchanged keeps its weights (trained ones included),
// a new or reshaped layer starts from its initializers.
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import type { EditorView, ExportFormat, ExportResult, KerasModelJson, PreviewInput, PreviewResult, ProjectDocument, ProjectEditorState, SaveProjectRequest } from '../contract/api.ts';
import { Model, Sequential, ValueError, modelFromJSON } from '../model/index.ts';
import { namedWeights } from '../io/tfjs_model.ts';
import { isProjectFolder, loadProject, readProjectFile, saveProject } from '../io/project.ts';
import { modelExport } from './model_export.ts';
import type { DataCache } from './data_cache.ts';
import { Previewer } from './preview.ts';
import { templateModel } from './templates.ts';

interface ProjectEntry {
  document: ProjectDocument;
  /** The model the weights come from, and the JSON it was built from. */
  model: Model;
  modelJson: string;
  /** The model's JSON when it was last saved or opened (null: never saved); a save that changes it counts a new model version. */
  savedJson: string | null;
  /** The model file the project was made from (a template's example, a file opened for editing), whose data export its runs may use; kept in the project file. */
  modelFile?: string;
}

const EMPTY_NAME = 'model';

export class ProjectStore {
  readonly #projects = new Map<string, ProjectEntry>();
  readonly #previewer: Previewer;

  constructor(data: DataCache) {
    this.#previewer = new Previewer(data);
  }

  /** A new project from a template, or an empty Sequential model. */
  async create(template: string | null): Promise<ProjectDocument> {
    if (template === null) return this.#add(new Sequential([], { name: EMPTY_NAME }), { path: null, title: 'Untitled', trainedWeights: false });
    const { template: chosen, model, file } = await templateModel(template);
    return this.#add(model, { path: null, title: chosen.title, trainedWeights: false }, file);
  }

  /** A model opened from a file, as an unsaved project with its weights (and, for a model file in code, its data export). */
  fromModel(model: Model, title: string, trainedWeights: boolean, modelFile?: string): ProjectDocument {
    return this.#add(model, { path: null, title, trainedWeights }, modelFile);
  }

  /** Opens the project in `dir` (checked by the workbench). */
  open(dir: string): ProjectDocument {
    const { file, model, epochs, modelFile } = loadProject(dir);
    const entry = this.#entryFor(model, { path: dir, title: path.basename(dir), trainedWeights: epochs > 0 });
    if (modelFile) entry.modelFile = modelFile;
    entry.document = { ...entry.document, name: file.name, modelVersion: file.modelVersion, editor: editorState(file.editor, model) };
    entry.savedJson = entry.modelJson;
    return entry.document;
  }

  /** Saves a project to `request.path` (absolute, checked by the workbench) or to where it was last saved. */
  save(id: string, request: SaveProjectRequest): ProjectDocument {
    const entry = this.#entry(id);
    const target = request.path ?? entry.document.path;
    if (target === null) throw new ValueError(`${entry.document.title} has not been saved yet: choose a folder for it (Save As)`);
    const model = this.#modelFor(entry, request.model, 'save');
    const changed = entry.modelJson !== entry.savedJson;
    let modelVersion = entry.document.modelVersion + (changed ? 1 : 0);
    // Saved over another project: its runs count versions of that folder's model.
    if (target !== entry.document.path && isProjectFolder(target)) modelVersion = Math.max(modelVersion, readProjectFile(target).modelVersion + 1);
    const editor = request.editor as unknown as Record<string, unknown>;
    saveProject(target, { name: request.name, model, modelVersion, editor, ...(entry.modelFile ? { modelFile: entry.modelFile } : {}) });
    entry.savedJson = entry.modelJson;
    entry.document = { ...entry.document, path: target, title: path.basename(target), name: request.name, model: request.model, editor: request.editor, modelVersion };
    return entry.document;
  }

  async preview(id: string, json: KerasModelJson, input: PreviewInput): Promise<PreviewResult> {
    const entry = this.#entry(id);
    return this.#previewer.run(this.#modelFor(entry, json, 'preview'), input, entry.modelFile);
  }

  exportModel(id: string, json: KerasModelJson, format: ExportFormat): ExportResult {
    // Named after the model as edited, not as last saved: its name may have changed since.
    const model = this.#modelFor(this.#entry(id), json, 'export');
    return modelExport(model, model.name || EMPTY_NAME, format);
  }

  /** The model to train: as `edited` (the editor's unsaved changes), else as last built; and where it is kept. */
  modelToTrain(id: string, edited?: KerasModelJson): { source: string; model: Model; modelFile?: string } {
    const entry = this.#entry(id);
    const model = edited === undefined ? entry.model : this.#modelFor(entry, edited, 'train');
    return { source: entry.document.path ?? entry.document.title, model, ...(entry.modelFile ? { modelFile: entry.modelFile } : {}) };
  }

  has(id: string): boolean {
    return this.#projects.has(id);
  }

  close(id: string): void {
    this.#projects.delete(id);
  }

  /** The model of `json`, with the weights carried over from the entry's; kept as the entry's new model. */
  #modelFor(entry: ProjectEntry, json: KerasModelJson, action: string): Model {
    const text = JSON.stringify(json);
    if (text === entry.modelJson) return entry.model;
    // A layer's own error ("dense1: units must be a positive integer, got -3") follows this prefix.
    const model = modelFromJSON(json, `cannot ${action} ${entry.document.title}`);
    carryWeights(entry.model, model);
    entry.model = model;
    entry.modelJson = text;
    return model;
  }

  #add(model: Model, where: { path: string | null; title: string; trainedWeights: boolean }, modelFile?: string): ProjectDocument {
    const entry = this.#entryFor(model, where);
    if (modelFile) entry.modelFile = modelFile;
    return entry.document;
  }

  #entryFor(model: Model, where: { path: string | null; title: string; trainedWeights: boolean }): ProjectEntry {
    const json = JSON.parse(model.toJSON()) as KerasModelJson;
    const document: ProjectDocument = {
      kind: 'project',
      id: randomUUID(),
      ...where,
      name: model.name,
      model: json,
      editor: editorState({}, model),
      modelVersion: 0,
    };
    const entry: ProjectEntry = { document, model, modelJson: JSON.stringify(json), savedJson: null };
    this.#projects.set(document.id, entry);
    return entry;
  }

  #entry(id: string): ProjectEntry {
    const entry = this.#projects.get(id);
    if (!entry) throw new ValueError(`no open project "${id}": it was closed, or the engine restarted since it was opened; open it again`);
    return entry;
  }
}

/**
 * Copies each weight of `from` into the weight of `to` with the same path (layer, nested
 * model, weight name) and shape; the others keep their initial values.
 */
export function carryWeights(from: Model, to: Model): number {
  const source = namedWeights(from);
  let carried = 0;
  for (const [name, weight] of namedWeights(to)) {
    const previous = source.get(name);
    if (!previous || previous.shape.length !== weight.shape.length || !previous.shape.every((d, i) => d === weight.shape[i])) continue;
    weight.value = previous.value.slice();
    carried++;
  }
  return carried;
}

const VIEWS: readonly EditorView[] = ['list', 'graph', 'code'];

/** The editor state a project file holds, each field checked (a field that is not right takes its default). */
export function editorState(saved: Record<string, unknown>, model: Model): ProjectEditorState {
  const view = VIEWS.includes(saved.view as EditorView) ? (saved.view as EditorView) : model.kind === 'sequential' ? 'list' : 'graph';
  const positions: ProjectEditorState['positions'] = {};
  if (typeof saved.positions === 'object' && saved.positions !== null) {
    for (const [id, point] of Object.entries(saved.positions)) {
      const { x, y } = (point ?? {}) as { x?: unknown; y?: unknown };
      if (typeof x === 'number' && typeof y === 'number' && Number.isFinite(x) && Number.isFinite(y)) positions[id] = { x, y };
    }
  }
  const selected = typeof saved.selected === 'string' ? saved.selected : null;
  const preview = isPreviewInput(saved.preview) ? saved.preview : null;
  return { view, positions, selected, preview };
}

function isPreviewInput(value: unknown): value is PreviewInput {
  const input = value as Partial<Record<string, unknown>> | null;
  if (typeof input !== 'object' || input === null) return false;
  if (input.kind === 'random') return Number.isInteger(input.seed);
  if (input.kind === 'dataset') return input.dataset === 'fashion-mnist' && Number.isInteger(input.index);
  if (input.kind === 'image') return typeof input.path === 'string';
  if (input.kind === 'model-data') return Number.isInteger(input.index);
  return false;
}
