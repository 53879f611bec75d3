// The one contract between the app's views and the processes behind them: what the views may
// ask (StrataApi, every method a Promise) and what they are told (StrataEvents). Pure
// TypeScript with no Node, Electron or DOM import (VS Code's "common" layer), shared by the
// renderer, the Electron main process and preload, the browser-mode server and the engine
// process. Two transports carry it (Electron IPC, a WebSocket in browser mode; rpc.ts) and a
// mock host implements it for the views' tests.
import type { GraphDescription as LayerGraph } from '../model/graph.ts';
import type { SummaryData } from '../model/summary.ts';
import type { Dim, ModelDescription } from '../onnx/description.ts';
import type {
  DataPreview, DataSample, Evaluation, PredictFile, Prediction, RunListing, RunRecord, RunSignature, TrainingEvent, TrainingProject, TrainingSettings,
} from './training.ts';

export interface Versions {
  strata: string;
  node: string;
  /** Null in browser mode. */
  electron: string | null;
  chrome: string | null;
  onnxruntime: string;
  /** The native engine's backends as built ('cpu', 'reference', 'cuda'); empty when the engine is not built. */
  engineBackends: string[];
  /** Why this build's CUDA backend cannot train here (no driver, no GPU, ...); null where it can or the build has none. */
  cudaUnavailable: string | null;
}

export interface AppInfo {
  mode: 'desktop' | 'browser';
  versions: Versions;
  /** Browser mode: the folder whose files the app may open (`strata serve --root`). Null on the desktop. */
  root: string | null;
}

/** What a file is to Strata, from its name and, for folders, its content. */
export type FileKind = 'folder' | 'model-module' | 'keras-json' | 'keras-model' | 'onnx' | 'saved-model' | 'project' | 'image' | 'other';

export interface FileEntry {
  name: string;
  /** As the host names it: absolute on the desktop, relative to the root in browser mode. */
  path: string;
  kind: FileKind;
  /** Bytes, for files. */
  size?: number;
}

export interface FolderListing {
  path: string;
  /** Null at the top (the root in browser mode). */
  parent: string | null;
  entries: FileEntry[];
}

/** A file opened in the app: a model Strata can load, any ONNX file, or a project (a model being edited). */
export type OpenedDocument = ModelDocument | OnnxDocument | ProjectDocument;

export interface ModelDocument {
  kind: 'model';
  /** Names the document in later requests (weights, export, close). */
  id: string;
  path: string;
  /** The file name, for the window title and tabs. */
  title: string;
  source: 'module' | 'keras-json' | 'keras-file' | 'tfjs' | 'onnx' | 'saved-folder';
  summary: SummaryData;
  graph: LayerGraph;
  /** Whether the model came with trained weights (a saved folder, an exported ONNX file, a tfjs model with weights). */
  trainedWeights: boolean;
}

export interface OnnxDocument {
  kind: 'onnx';
  id: string;
  path: string;
  title: string;
  description: ModelDescription;
  /** Types and shapes of values the file leaves undeclared, from shape inference; by value name. */
  inferred: Record<string, { type: string; shape: Dim[] | null }>;
}

/** A weight or initializer with the statistics the node panel shows. */
export interface TensorStats {
  name: string;
  dtype: string;
  shape: number[];
  count: number;
  /** Null where the values are not in the file (external data) or not numbers. */
  min: number | null;
  max: number | null;
  mean: number | null;
  std: number | null;
  /** Counts in equal bins from min to max. */
  histogram: number[];
  /** The first values, in storage order. */
  first: number[];
  /** Why statistics are missing, when they are. */
  note?: string;
}

/** onnx and keras-json are one file; pytorch (a Python package) and keras-script (a tf.keras script and its weights) a .zip of a folder. */
export type ExportFormat = 'onnx' | 'keras-json' | 'pytorch' | 'keras-script';

/** The desktop saves through a dialog; browser mode hands the bytes to the browser as a download. */
export type ExportResult = { saved: string } | { download: { fileName: string; mimeType: string; bytes: Uint8Array } } | { cancelled: true };

export interface StrataApi {
  appInfo(): Promise<AppInfo>;
  /** A folder's entries; null: where "Open" starts (the root in browser mode). */
  listFolder(path: string | null): Promise<FolderListing>;
  /** The seed models in examples/. */
  examples(): Promise<FileEntry[]>;
  recentFiles(): Promise<FileEntry[]>;
  /** Opens a file (or a saved-model folder) by the path listFolder, examples or recentFiles gave. */
  open(path: string): Promise<OpenedDocument>;
  /** Opens a file dropped on the window from the user's own machine, by content (browser mode). */
  openDropped(name: string, bytes: Uint8Array): Promise<OpenedDocument>;
  /** The weights of one layer of a model document, in Keras's order. */
  layerWeights(documentId: string, layer: string): Promise<TensorStats[]>;
  /** One initializer of an ONNX document. */
  initializerStats(documentId: string, name: string): Promise<TensorStats>;
  /** Desktop: asks where, then saves. Browser mode: returns the bytes. */
  exportDocument(documentId: string, format: ExportFormat): Promise<ExportResult>;
  closeDocument(documentId: string): Promise<void>;
  /** Starts the engine process again after a crash. */
  restartEngine(): Promise<void>;

  // --- Training (issue 19): data, runs in the project folder, live training, evaluation, prediction ---
  // For a project document, `edited` is its model as the editor has it now (unsaved changes
  // included): the engine builds it with the project's weights carried over, as a save does.
  /** Where a document's runs are kept: the project it belongs to, or the app's own folder for its model. */
  trainingProject(documentId: string): Promise<TrainingProject>;
  /** Keras's compile() and fit() defaults for a document's model (its own compile() where it has one). */
  trainingDefaults(documentId: string, edited?: KerasModelJson): Promise<TrainingSettings>;
  /** The data the settings name: splits, shapes, value ranges, class counts, samples, and whether the model fits it. */
  previewData(documentId: string, settings: TrainingSettings, edited?: KerasModelJson): Promise<DataPreview>;
  /** Checks the data against the model, creates the run in `project` and starts training; events follow ('training'). */
  startTraining(documentId: string, project: string, settings: TrainingSettings, edited?: KerasModelJson): Promise<RunRecord>;
  /** Stops the run before its next step; it keeps the weights of the last finished step. */
  stopTraining(runId: string): Promise<void>;
  /** Trains a stopped run on from its checkpoint, with the optimizer's state. */
  resumeRun(project: string, runId: string): Promise<RunRecord>;
  /** The run training now, if any, and its project. */
  trainingStatus(): Promise<{ project: string; run: RunRecord } | null>;
  listRuns(project: string): Promise<RunListing>;
  deleteRun(project: string, runId: string): Promise<void>;
  /** The run's history as CSV (Keras's CSVLogger layout). */
  exportRunHistory(project: string, runId: string): Promise<ExportResult>;
  /** The run's trained model as ONNX. */
  exportRunModel(project: string, runId: string): Promise<ExportResult>;
  /** The run's trained model on held-out data: metrics, confusion matrix, per-class scores, per-sample predictions. */
  evaluateRun(project: string, runId: string): Promise<Evaluation>;
  /** Samples of the held-out data evaluateRun used, by index. */
  heldOutSamples(project: string, runId: string, indices: number[]): Promise<DataSample[]>;
  /** The inputs and outputs of the run's trained model (names and shapes), for choosing files to predict on. */
  runSignature(project: string, runId: string): Promise<RunSignature>;
  /**
   * The run's trained model (on onnxruntime) on files the user picked: images, .npy arrays, CSV
   * rows; for a model of several inputs one file per input (PredictFile.input), with as many
   * samples each. One prediction per sample and output, output by output.
   */
  predictRun(project: string, runId: string, files: PredictFile[]): Promise<Prediction[]>;

  // --- The model editor and projects (edit18) ---
  /** The models New starts from (the seed models and a few well-known small networks), each with its Keras summary. */
  templates(): Promise<TemplateInfo[]>;
  /** A new, unsaved project: from a template (its id), or an empty Sequential model (null). */
  newProject(template: string | null): Promise<ProjectDocument>;
  /** A model opened from a file (a ModelDocument's id), as an unsaved project to edit; its weights come along. */
  editDocument(documentId: string): Promise<ProjectDocument>;
  /**
   * Saves a project: the edited model (its weights kept where a layer's name and weight shapes
   * are unchanged), its editor state, atomically. `request.path` is where (Save As); without it,
   * where it was opened or last saved. Opening is open(path) on the project's folder.
   */
  saveProject(documentId: string, request: SaveProjectRequest): Promise<ProjectDocument>;
  /** Each layer's output for one input sample through the edited model, computed in the engine process. */
  previewModel(documentId: string, model: KerasModelJson, input: PreviewInput): Promise<PreviewResult>;
  /** The edited model as ONNX or Keras JSON, as exportDocument gives a file's. */
  exportModel(documentId: string, model: KerasModelJson, format: ExportFormat): Promise<ExportResult>;
}

// --- The model editor and projects (edit18) ---

/** A model in Keras JSON, tf.keras 2.x's to_json() as an object: what the editor edits and the model API reads. */
export interface KerasModelJson {
  class_name: string;
  config: Record<string, unknown>;
  [key: string]: unknown;
}

/** Which of the three editors shows the model. */
export type EditorView = 'list' | 'graph' | 'code';

/** What a project remembers of the editor, beside the model (strata-project.json's "editor"). */
export interface ProjectEditorState {
  view: EditorView;
  /** Node positions in the graph editor, by node id (a layer's name; "name#2" for a shared layer's second call). */
  positions: Record<string, { x: number; y: number }>;
  /** The layer selected when it was saved. */
  selected: string | null;
  /** The preview's input. */
  preview: PreviewInput | null;
}

/** A model being edited: unsaved (path null) or a project folder. */
export interface ProjectDocument {
  kind: 'project';
  /** Names it in later requests; the engine process keeps its weights under it. */
  id: string;
  /** The project folder; null until it is first saved. */
  path: string | null;
  title: string;
  /** The project's name (strata-project.json's "name"). */
  name: string;
  model: KerasModelJson;
  editor: ProjectEditorState;
  /** Counts the saves that changed the model (runs record which version they trained). */
  modelVersion: number;
  /** Whether the weights came trained (a saved model, a project whose model was trained). */
  trainedWeights: boolean;
}

export interface SaveProjectRequest {
  /** Save As: the folder to save to (created when missing). Without it: the project's own folder. */
  path?: string;
  name: string;
  model: KerasModelJson;
  editor: ProjectEditorState;
}

export interface TemplateInfo {
  id: string;
  title: string;
  description: string;
  /** Keras's summary() of the template. */
  summary: string;
  /** Total parameters. */
  params: number;
}

/** What goes through the model in the preview. */
export type PreviewInput =
  | { kind: 'random'; seed: number }
  /** A test image of a dataset Strata knows, resized to the model's input. */
  | { kind: 'dataset'; dataset: 'fashion-mnist'; index: number }
  /** An image file (a path as listFolder names it), resized to the model's input. */
  | { kind: 'image'; path: string }
  /** A sample of the data the project's model file exports (its test split, else its training split). */
  | { kind: 'model-data'; index: number };

/** A tensor for the preview: float32 values as bytes (they cross every transport as they are). */
export interface PreviewTensor {
  /** Without the batch dimension. */
  shape: number[];
  /** Float32 values, row-major (channels last); for feature maps at most PREVIEW_MAX_CHANNELS channels. */
  data: Uint8Array;
  /** Channels before any were left out. */
  channels: number;
  min: number;
  max: number;
}

/** Feature maps shown per layer, at most: the rest are left out of the preview. */
export const PREVIEW_MAX_CHANNELS = 32;

export interface PreviewResult {
  /** What went in, one per model input. */
  inputs: { layer: string; tensor: PreviewTensor }[];
  /** Each layer call's output, in the order the model computes them. */
  layers: { layer: string; call: number; className: string; tensor: PreviewTensor }[];
  /** The names of the classes of the last layer's outputs, where the input says them (a dataset). */
  classNames: string[] | null;
  /** What the input is: "Fashion-MNIST test image 12: Ankle boot", "random normal (seed 1)". */
  description: string;
  /** Milliseconds the engine process took. */
  ms: number;
}

/** The methods a transport may carry: the preload's and the server's allowlist. */
export const API_METHODS = [
  'appInfo',
  'listFolder',
  'examples',
  'recentFiles',
  'open',
  'openDropped',
  'layerWeights',
  'initializerStats',
  'exportDocument',
  'closeDocument',
  'restartEngine',
  // Training (issue 19)
  'trainingProject',
  'trainingDefaults',
  'previewData',
  'startTraining',
  'stopTraining',
  'resumeRun',
  'trainingStatus',
  'listRuns',
  'deleteRun',
  'exportRunHistory',
  'exportRunModel',
  'evaluateRun',
  'heldOutSamples',
  'predictRun',
  'runSignature',
  // The model editor and projects (edit18)
  'templates',
  'newProject',
  'editDocument',
  'saveProject',
  'previewModel',
  'exportModel',
] as const satisfies readonly (keyof StrataApi)[];

// Every method of StrataApi is in API_METHODS (a compile error names the one missing).
type Missing = Exclude<keyof StrataApi, (typeof API_METHODS)[number]>;
export const API_METHODS_COMPLETE: Missing extends never ? true : Missing = true;

export type EngineState = 'starting' | 'ready' | 'crashed';

export interface StrataEvents {
  /** The engine process (models, ONNX, onnxruntime, the native engine) started, crashed or restarted. */
  engineState: { state: EngineState; message?: string };
  /** A file to open: from the command line, the menu's Open Recent, a second launch. */
  openRequested: { path: string };
  /** A menu item the views carry out (the desktop's application menu). */
  menuCommand: { command: MenuCommand };
  // Training (issue 19)
  /** A run started, made progress (steps throttled), finished an epoch, or ended. */
  training: TrainingEvent;
}

export type MenuCommand = 'open' | 'export-onnx' | 'export-keras-json' | 'close' | 'find' | MenuCommandEditor;

/** The model editor's menu items (edit18). */
export type MenuCommandEditor = 'new' | 'save' | 'save-as' | 'undo' | 'redo';

export const EVENT_NAMES = ['engineState', 'openRequested', 'menuCommand', /* Training (issue 19) */ 'training'] as const satisfies readonly (keyof StrataEvents)[];

/** An error carried across a transport: the name keeps its kind ('FormatError', 'ValueError', ...). */
export interface WireError {
  name: string;
  message: string;
}

/** What a view holds: the API plus event subscriptions. Both transports and the mock host give one. */
export interface Host extends StrataApi {
  on<E extends keyof StrataEvents>(event: E, listener: (payload: StrataEvents[E]) => void): () => void;
}

/**
 * What the Electron preload exposes to the views as `window.strataDesktop` (contextBridge):
 * invoke carries one contract method (the preload refuses any name not in API_METHODS), on
 * one event of EVENT_NAMES.
 */
export interface DesktopBridge {
  invoke(method: (typeof API_METHODS)[number], params: unknown[]): Promise<unknown>;
  on(event: (typeof EVENT_NAMES)[number], listener: (payload: unknown) => void): () => void;
}
