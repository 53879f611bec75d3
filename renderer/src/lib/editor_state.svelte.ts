// One model being edited (a ProjectDocument): its Keras JSON, the undo history, the analysis
// every edit re-runs (shapes, parameters, issues), what is selected, the editor shown, the
// graph's node positions, whether it differs from what was saved, and the live preview. The
// three editors read it and change the model only through edit(), so every view updates from
// one place and every change can be undone.
import type { EditorView, ExportFormat, PreviewInput, PreviewResult, PreviewTensor, ProjectDocument, ProjectEditorState } from '../../../app/contract/api.ts';
import { analyze, tryConnect, type Analysis } from './document/analysis.ts';
import { callId, disconnect, parseCallId, removeNode, type CallRef } from './document/edits.ts';
import { History } from './document/history.ts';
import { batchShapeOf, layersOf, modelName, stackOf, type ModelJson } from './document/model_json.ts';
import type { AppState } from './app_state.svelte.ts';
import { downloadBytes } from './download.ts';

const PREVIEW_DELAY_MS = 250;

const errorMessage = (error: unknown) => (error instanceof Error ? error.message : String(error));

/** Where the last edit was: an error it caused elsewhere is also shown at the field it came from. */
export interface LastEdit {
  layer: string;
  field: string;
}

export class EditorState {
  readonly app: AppState;
  document = $state.raw<ProjectDocument>(null!);
  json = $state.raw<ModelJson>(null!);
  analysis = $state.raw<Analysis>(null!);
  view = $state<EditorView>('list');
  selected = $state<string | null>(null);
  positions = $state.raw<Record<string, { x: number; y: number }>>({});
  lastEdit = $state.raw<LastEdit | null>(null);
  /** The JSON and editor state last saved (or opened), to tell whether there are unsaved changes. */
  savedSnapshot = $state<string>('');
  saving = $state(false);
  canUndo = $state(false);
  canRedo = $state(false);
  undoLabel = $state<string | null>(null);
  redoLabel = $state<string | null>(null);
  /** Milliseconds from the last edit to its analysis, and to the views being drawn (the benchmark reads both). */
  analysisMs = $state(0);
  previewInput = $state.raw<PreviewInput>({ kind: 'random', seed: 1 });
  preview = $state.raw<PreviewResult | null>(null);
  previewError = $state<string | null>(null);
  previewing = $state(false);
  /** Whether the project's model file exports its own data (export function data()), which the preview can sample. */
  modelData = $state(false);
  #history: History;
  /** Whether the preview's input was chosen (saved, or picked): if not, it follows the model's input (an image, or random data). */
  #previewInputChosen = false;
  #previewTimer: ReturnType<typeof setTimeout> | undefined;
  #previewRequest = 0;

  constructor(app: AppState, document: ProjectDocument) {
    this.app = app;
    this.#history = new History(document.model);
    this.#load(document);
  }

  #load(document: ProjectDocument): void {
    this.document = document;
    this.json = document.model;
    this.view = document.editor.view;
    this.positions = document.editor.positions;
    this.selected = document.editor.selected;
    this.#previewInputChosen = document.editor.preview !== null;
    this.previewInput = document.editor.preview ?? this.#defaultPreviewInput(document.model);
    this.#analyze();
    this.savedSnapshot = document.path === null ? '' : this.#snapshot();
    this.#schedulePreview();
    void this.#findModelData(document.id);
  }

  /** The training defaults say whether the project trains on its model file's data: then the preview samples it too. */
  async #findModelData(id: string): Promise<void> {
    let found = false;
    try {
      found = (await this.app.host.trainingDefaults(id)).data.kind === 'model-file';
    } catch {
      // a model that does not build yet has no defaults: the preview keeps its other inputs
    }
    if (id !== this.document.id || found === this.modelData) return;
    this.modelData = found;
    if (!this.#previewInputChosen) this.#schedulePreview(0);
  }

  get title(): string {
    return this.document.title;
  }

  get dirty(): boolean {
    return this.#snapshot() !== this.savedSnapshot;
  }

  /** Whether the model is a plain list of layers (the list editor can show it), or why not. */
  get stack() {
    return stackOf(this.json);
  }

  #snapshot(): string {
    return JSON.stringify([this.json, this.positions]);
  }

  #analyze(): void {
    const started = performance.now();
    this.analysis = analyze(this.json);
    this.analysisMs = performance.now() - started;
  }

  #syncHistory(): void {
    this.canUndo = this.#history.canUndo;
    this.canRedo = this.#history.canRedo;
    this.undoLabel = this.#history.undoLabel;
    this.redoLabel = this.#history.redoLabel;
  }

  /**
   * Applies an edit: `change` gives the next JSON (or throws a user error, which is returned
   * as its message and changes nothing). `coalesce` makes typing into one field one undo step.
   */
  edit(change: (json: ModelJson) => ModelJson, label: string, options: { coalesce?: string; lastEdit?: LastEdit | null } = {}): string | null {
    let next: ModelJson;
    try {
      next = change(this.json);
    } catch (error) {
      return errorMessage(error);
    }
    if (next === this.json) return null;
    this.#history.push(next, label, options.coalesce ?? null);
    this.lastEdit = options.lastEdit ?? null;
    this.#set(next);
    return null;
  }

  #set(json: ModelJson): void {
    this.json = json;
    this.#analyze();
    if (this.selected && !this.analysis.calls.has(this.selected) && !layersOf(json).some((entry) => entry.config.name === this.selected)) this.selected = null;
    this.#syncHistory();
    this.#schedulePreview();
  }

  undo(): void {
    const json = this.#history.undo();
    if (json) {
      this.lastEdit = null;
      this.#set(json);
    }
  }

  redo(): void {
    const json = this.#history.redo();
    if (json) {
      this.lastEdit = null;
      this.#set(json);
    }
  }

  /**
   * Connects two calls in the graph, or says why not: a cycle, an Input as the target, or a
   * connection after which the target cannot compute (a shape mismatch into Add), whose
   * reason is the layer's own error.
   */
  connect(from: CallRef, to: CallRef): string | null {
    const result = tryConnect(this.json, from, to);
    if ('reason' in result) return result.reason;
    this.edit(() => result.json, `Connect ${callId(from)} to ${callId(to)}`);
    return null;
  }

  /** Removes graph nodes (calls) and edges (a call's input, by index), as one step. */
  removeFromGraph(nodes: string[], edges: { to: string; index: number }[]): void {
    this.edit((json) => {
      let next = json;
      // Later inputs first, so that earlier indices stay right.
      for (const edge of [...edges].sort((a, b) => b.index - a.index)) next = disconnect(next, parseCallId(edge.to), edge.index);
      for (const id of nodes) next = removeNode(next, parseCallId(id));
      return next;
    }, nodes.length ? `Remove ${nodes.join(', ')}` : 'Remove a connection');
  }

  /** Where graph nodes without a saved position go (the layout's, or next to where they were added); not saved until moved. */
  autoPositions = $state.raw<Record<string, { x: number; y: number }>>({});

  setView(view: EditorView): void {
    this.view = view;
  }

  setPositions(positions: Record<string, { x: number; y: number }>): void {
    this.positions = positions;
  }

  editorState(): ProjectEditorState {
    return { view: this.view, positions: { ...this.autoPositions, ...this.positions }, selected: this.selected, preview: this.#previewInputChosen ? this.previewInput : null };
  }

  /** Saves to the project's folder, or to `path` (Save As). Returns whether it saved. */
  async save(path?: string): Promise<boolean> {
    if (this.document.path === null && path === undefined) return false;
    this.saving = true;
    try {
      const request = { name: modelName(this.json), model: this.json, editor: this.editorState(), ...(path !== undefined ? { path } : {}) };
      const saved = await this.app.host.saveProject(this.document.id, request);
      this.document = saved;
      this.savedSnapshot = this.#snapshot();
      this.app.projectSaved(saved);
      this.app.tell(`Saved ${saved.path}`);
      void this.app.refreshRecent();
      return true;
    } catch (error) {
      this.app.problem = { title: `Could not save ${this.document.title}`, message: errorMessage(error) };
      return false;
    } finally {
      this.saving = false;
    }
  }

  async exportModel(format: ExportFormat): Promise<void> {
    try {
      const result = await this.app.host.exportModel(this.document.id, this.json, format);
      if ('saved' in result) this.app.tell(`Saved ${result.saved}`);
      else if ('download' in result) {
        downloadBytes(result.download.fileName, result.download.mimeType, result.download.bytes);
        this.app.tell(`Downloaded ${result.download.fileName}`);
      }
    } catch (error) {
      this.app.problem = { title: `Could not export ${this.document.title}`, message: errorMessage(error) };
    }
  }

  /**
   * The preview's output of a call (by its id), while it still fits the model: after an edit
   * the last preview stays until the next one arrives, but not for a call that no longer
   * computes or whose shape has changed, which would show a stale picture.
   */
  previewOutput(id: string): PreviewTensor | null {
    const shape = this.analysis.calls.get(id)?.outputShapes?.[0]?.slice(1);
    const output = shape ? this.preview?.layers.find((layer) => callId(layer) === id)?.tensor : undefined;
    if (!shape || !output || shape.length !== output.shape.length) return null;
    // Feature maps arrive cut to their first channels; `channels` is how many there are.
    const fits = shape.every((size, i) => size === (i === 2 ? output.channels : output.shape[i]));
    return fits ? output : null;
  }

  setPreviewInput(input: PreviewInput): void {
    this.#previewInputChosen = true;
    this.previewInput = input;
    this.#schedulePreview(0);
  }

  /** Runs the preview again once edits pause; only a model that builds can be previewed. */
  #schedulePreview(delay = PREVIEW_DELAY_MS): void {
    clearTimeout(this.#previewTimer);
    if (!this.#previewInputChosen) this.previewInput = this.#defaultPreviewInput(this.json);
    if (!this.analysis.model) {
      this.previewError = this.analysis.issues.length ? 'The preview runs once the model has no errors.' : null;
      return;
    }
    this.#previewTimer = setTimeout(() => void this.#runPreview(), delay);
  }

  async #runPreview(): Promise<void> {
    const request = ++this.#previewRequest;
    const json = this.json;
    this.previewing = true;
    try {
      const result = await this.app.host.previewModel(this.document.id, json, this.previewInput);
      if (request !== this.#previewRequest) return;
      this.preview = result;
      this.previewError = null;
    } catch (error) {
      if (request !== this.#previewRequest) return;
      this.previewError = errorMessage(error);
    } finally {
      if (request === this.#previewRequest) this.previewing = false;
    }
  }

  dispose(): void {
    clearTimeout(this.#previewTimer);
    this.#previewRequest++;
  }

  /** A sample of the model file's own data where it exports some, else by the model's input. */
  #defaultPreviewInput(json: ModelJson): PreviewInput {
    return this.modelData ? { kind: 'model-data', index: 0 } : defaultPreviewInput(json);
  }
}

/** A Fashion-MNIST image for a model that takes images, random data otherwise. */
function defaultPreviewInput(json: ModelJson): PreviewInput {
  const stack = stackOf(json);
  const shapes = 'reason' in stack ? layersOf(json).filter((e) => e.class_name === 'InputLayer').map((e) => batchShapeOf(e.config)?.slice(1) ?? null) : [stack.shape];
  const image = shapes.some((shape) => shape?.length === 3 && (shape[2] === 1 || shape[2] === 3));
  return image ? { kind: 'dataset', dataset: 'fashion-mnist', index: 0 } : { kind: 'random', seed: 1 };
}
