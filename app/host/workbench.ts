// Everything behind the contract that is not a transport: createWorkbench() gives an object
// implementing the whole StrataApi plus its events, which Electron's main process (over IPC)
// and the browser-mode server (over a WebSocket) only bridge to their views.
//
// Files are checked here (FileAccess: the root in browser mode), opened in the engine
// process (the supervisor's), remembered in the recent files, and named to the views as the
// mode names them. Exports come from the engine as bytes: the desktop asks where to save
// them (saveDialog) and writes them atomically; browser mode hands them to the page.
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import type { AppInfo, ExportFormat, ExportResult, FileEntry, Host, OpenedDocument, StrataEvents } from '../contract/api.ts';
import { RemoteError } from '../contract/rpc.ts';
import { UserError } from '../cli/errors.ts';
import { writeFileAtomic } from '../io/atomic_write.ts';
import { STRATA_VERSION } from '../version.ts';
import type { SpawnEngine } from './engine_channel.ts';
import { FileAccess } from './files.ts';
import { RecentFiles } from './recent_files.ts';
import { EXAMPLES_DIR } from './templates.ts';
import { EngineSupervisor } from './supervisor.ts';
import { trainingBridge } from './training_bridge.ts';

export { EXAMPLES_DIR } from './templates.ts';

export interface SaveDialogRequest {
  /** The file name the engine proposes ('model.onnx'). */
  defaultName: string;
  /** ExportFormat, or 'csv' (a run's history). */
  format: ExportFormat | 'csv';
}

export interface WorkbenchOptions {
  mode: 'desktop' | 'browser';
  /** Browser mode: the folder whose files the page may open (`strata serve --root`). */
  root?: string;
  /** Where the app keeps its state (the recent files). */
  stateDir: string;
  /** Starts the engine process: Electron's utilityProcess, or forkEngine in browser mode. */
  spawn: SpawnEngine;
  /** The desktop's save dialog: the chosen path, or null when the user cancels. */
  saveDialog?: (request: SaveDialogRequest) => Promise<string | null>;
  /** A file given on the command line: opened when the views start, allowed even outside the root. */
  commandLineFile?: string;
}

type Listener = (payload: unknown) => void;

export interface Workbench extends Host {
  /** Sends an event to every listener (the shells' menu commands, openRequested). */
  emit<E extends keyof StrataEvents>(event: E, payload: StrataEvents[E]): void;
  /** The command line's file as the views name it; null when none was given. */
  readonly commandLinePath: string | null;
  /** The engine process's id, while it runs. */
  enginePid(): number | undefined;
  /** Ends the engine process (the app is closing). */
  dispose(): void;
}

export function createWorkbench(options: WorkbenchOptions): Workbench {
  if (options.mode === 'desktop' && !options.saveDialog) throw new Error('createWorkbench: the desktop needs a saveDialog');
  const files = new FileAccess(options.mode, options.root ?? null);
  const examples = exampleFiles();
  for (const example of examples) files.allow(example);
  const commandLineFile = options.commandLineFile === undefined ? null : checkedCommandLineFile(options.commandLineFile);
  if (commandLineFile) files.allow(commandLineFile);
  const recent = new RecentFiles(options.stateDir);
  const listeners = new Map<string, Set<Listener>>();
  const emit = <E extends keyof StrataEvents>(event: E, payload: StrataEvents[E]) => listeners.get(event)?.forEach((listener) => listener(payload));
  const engine = new EngineSupervisor(options.spawn);
  engine.onState((state) => emit('engineState', state));
  void engine.start().catch(() => {}); // a failed start is reported through engineState
  let engineVersions: Pick<AppInfo['versions'], 'onnxruntime' | 'engineBackends' | 'cudaUnavailable'> | undefined;
  // In browser mode the views know files by their paths under the root: so do the errors they see.
  const renamePaths = (error: unknown, file: string, shown: string) => (options.mode === 'browser' ? renamedError(error, [[file, shown], [`${files.root}${path.sep}`, '']]) : error);
  /** The file each open document came from (training finds its project from it). */
  const documentFiles = new Map<string, { file: string | null; title: string }>();
  // The desktop saves an export through its dialog; browser mode hands the bytes to the page.
  const save = async (result: ExportResult, format: SaveDialogRequest['format']): Promise<ExportResult> =>
    options.mode === 'browser' || !('download' in result) ? result : saveThroughDialog(result.download, format, options.saveDialog!);
  const training = trainingBridge({
    engine,
    files,
    stateDir: options.stateDir,
    documentFile: (id) => documentFiles.get(id)?.file ?? null,
    documentTitle: (id) => documentFiles.get(id)?.title ?? id,
    save,
    renamePaths: (error) => (options.mode === 'browser' ? renamedError(error, [[`${files.root}${path.sep}`, '']]) : error),
    emit: (event, payload) => emit(event, payload),
  });

  return {
    commandLinePath: commandLineFile ? files.contractPath(commandLineFile) : null,

    async appInfo() {
      if (!engineVersions) {
        const { versions } = await engine.call('appInfo');
        engineVersions = { onnxruntime: versions.onnxruntime, engineBackends: versions.engineBackends, cudaUnavailable: versions.cudaUnavailable };
      }
      return {
        mode: options.mode,
        root: files.root,
        versions: {
          strata: STRATA_VERSION,
          node: process.versions.node,
          electron: process.versions['electron'] ?? null,
          chrome: process.versions['chrome'] ?? null,
          onnxruntime: engineVersions.onnxruntime,
          engineBackends: engineVersions.engineBackends,
          cudaUnavailable: engineVersions.cudaUnavailable,
        },
      };
    },

    async listFolder(folder) {
      return files.list(folder);
    },

    async examples() {
      return examples.map((file) => files.entryFor(file)).filter((entry): entry is FileEntry => entry !== undefined);
    },

    async recentFiles() {
      // Files since moved, deleted, or out of this root are left out.
      return recent.list().flatMap((file) => {
        const entry = files.entryFor(file);
        return entry && entry.kind !== 'folder' && entry.kind !== 'other' ? [entry] : [];
      });
    },

    async open(requested) {
      const file = files.resolve(requested);
      const stats = statSync(file);
      if (!stats.isFile() && !stats.isDirectory()) throw new UserError(`${requested}: not a regular file`);
      const shown = files.contractPath(file);
      let document: OpenedDocument;
      try {
        document = await engine.call('open', file);
      } catch (error) {
        throw renamePaths(error, file, shown);
      }
      documentFiles.set(document.id, { file, title: document.title });
      const unsaved = recent.add(file);
      if (unsaved) process.stderr.write(`strata: the recent files list was not saved: ${unsaved}\n`);
      return named(document, shown);
    },

    async openDropped(name, bytes) {
      if (!(bytes instanceof Uint8Array)) throw new UserError(`${name}: the dropped file's content did not arrive as bytes`);
      const document = await engine.call('openDropped', path.basename(String(name)), bytes);
      documentFiles.set(document.id, { file: null, title: document.title });
      return document;
    },

    layerWeights: (documentId, layer) => engine.call('layerWeights', documentId, layer),
    initializerStats: (documentId, name) => engine.call('initializerStats', documentId, name),
    closeDocument: (documentId) => {
      documentFiles.delete(documentId);
      return engine.call('closeDocument', documentId);
    },

    async exportDocument(documentId, format) {
      return save(await engine.call('exportDocument', documentId, format), format);
    },

    // The model editor and projects (edit18).
    templates: () => engine.call('templates'),
    async newProject(template) {
      const project = await engine.call('newProject', template);
      documentFiles.set(project.id, { file: null, title: project.title });
      return project;
    },
    async editDocument(documentId) {
      const project = await engine.call('editDocument', documentId);
      // Until it is saved, the project trains as the file it was opened from (the same runs).
      documentFiles.set(project.id, { file: documentFiles.get(documentId)?.file ?? null, title: project.title });
      return project;
    },

    async saveProject(documentId, request) {
      // Save As goes where the views may write (browser mode: under the root); a save in place goes where the project is.
      const target = request.path === undefined ? undefined : files.resolveNew(request.path);
      let saved;
      try {
        saved = await engine.call('saveProject', documentId, target === undefined ? request : { ...request, path: target });
      } catch (error) {
        throw target === undefined ? error : renamePaths(error, target, request.path!);
      }
      const folder = saved.path!;
      documentFiles.set(documentId, { file: folder, title: saved.title });
      const unsaved = recent.add(folder);
      if (unsaved) process.stderr.write(`strata: the recent files list was not saved: ${unsaved}\n`);
      return { ...saved, path: files.contractPath(folder) };
    },

    async previewModel(documentId, model, input) {
      if (input?.kind !== 'image') return engine.call('previewModel', documentId, model, input);
      const image = files.resolve(input.path);
      try {
        return await engine.call('previewModel', documentId, model, { ...input, path: image });
      } catch (error) {
        throw renamePaths(error, image, input.path);
      }
    },

    async exportModel(documentId, model, format) {
      return save(await engine.call('exportModel', documentId, model, format), format);
    },

    ...training,

    async restartEngine() {
      await engine.restart();
    },

    on(event, listener) {
      const set = listeners.get(event) ?? new Set<Listener>();
      listeners.set(event, set);
      set.add(listener as Listener);
      return () => set.delete(listener as Listener);
    },

    emit,
    enginePid: () => engine.pid,
    dispose: () => engine.dispose(),
  };
}

function exampleFiles(): string[] {
  try {
    return readdirSync(EXAMPLES_DIR)
      .filter((name) => name.endsWith('.ts'))
      .sort()
      .map((name) => path.join(EXAMPLES_DIR, name));
  } catch {
    return []; // an installation without examples
  }
}

function checkedCommandLineFile(file: string): string {
  try {
    statSync(file);
  } catch {
    throw new UserError(`${file}: no such file or folder`);
  }
  return path.resolve(file);
}

/** The document as the views name it: its path, and the file its ONNX description names. */
function named(document: OpenedDocument, shown: string): OpenedDocument {
  if (document.kind !== 'onnx') return { ...document, path: shown };
  return { ...document, path: shown, description: { ...document.description, file: shown } };
}

/** The same error, its message naming files as the views know them. */
function renamedError(error: unknown, renames: [string, string][]): unknown {
  if (!(error instanceof Error)) return error;
  const message = renames.reduce((text, [from, to]) => text.split(from).join(to), error.message);
  return new RemoteError({ name: error.name, message });
}

async function saveThroughDialog(download: { fileName: string; bytes: Uint8Array }, format: SaveDialogRequest['format'], saveDialog: NonNullable<WorkbenchOptions['saveDialog']>): Promise<ExportResult> {
  const target = await saveDialog({ defaultName: download.fileName, format });
  if (target === null) return { cancelled: true };
  writeFileAtomic(target, download.bytes);
  return { saved: target };
}
