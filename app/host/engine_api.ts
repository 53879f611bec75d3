// What the engine process answers (engine_process.ts serves it): the contract's document
// methods on a DocumentStore, its training methods on a TrainingService, and the versions of
// what the process runs.
//
// Errors cross as the CLI prints them: a user's error (a corrupt file, an unsupported layer)
// with its name and one-line message, anything else as an InternalError whose message keeps
// the stack, because it is a bug in Strata.
import type { AppInfo, StrataApi } from '../contract/api.ts';
import { internalErrorDetail, userErrorLine } from '../cli/errors.ts';
import { loadNativeEngine } from '../engine/binding.ts';
import { STRATA_VERSION } from '../version.ts';
import { DocumentStore } from './documents.ts';
import { templateInfos } from './templates.ts';
import type { TrainingService } from './training.ts';

/** The contract's training methods this process answers (the workbench says where a document's project is). */
type EngineTrainingMethods =
  | 'trainingDefaults' | 'previewData' | 'startTraining' | 'stopTraining' | 'resumeRun' | 'trainingStatus' | 'listRuns' | 'deleteRun'
  | 'exportRunHistory' | 'exportRunModel' | 'evaluateRun' | 'heldOutSamples' | 'runSignature' | 'predictRun';

/** The contract's editor and project methods this process answers. */
type EngineEditorMethods = 'templates' | 'newProject' | 'editDocument' | 'saveProject' | 'previewModel' | 'exportModel';

/** The contract's methods this process answers. */
export type EngineApi = Pick<
  StrataApi,
  'appInfo' | 'open' | 'openDropped' | 'layerWeights' | 'initializerStats' | 'exportDocument' | 'closeDocument' | EngineTrainingMethods | EngineEditorMethods
>;

export function engineApi(store: DocumentStore, training: TrainingService): EngineApi {
  return {
    ...trainingApi(training),
    appInfo: engineInfo,
    open: (file) => store.open(file),
    openDropped: (name, bytes) => store.openDropped(name, bytes),
    layerWeights: async (id, layer) => store.layerWeights(id, layer),
    initializerStats: async (id, name) => store.initializerStats(id, name),
    exportDocument: async (id, format) => store.exportDocument(id, format),
    closeDocument: async (id) => store.close(id),
    // The model editor and projects (edit18): paths arrive checked and absolute from the workbench.
    templates: () => templateInfos(),
    newProject: (template) => store.projects.create(template),
    editDocument: async (id) => store.edit(id),
    saveProject: async (id, request) => store.projects.save(id, request),
    previewModel: (id, model, input) => store.projects.preview(id, model, input),
    exportModel: async (id, model, format) => store.projects.exportModel(id, model, format),
  };
}

function trainingApi(training: TrainingService): Pick<StrataApi, EngineTrainingMethods> {
  return {
    trainingDefaults: async (id, edited) => training.defaults(id, edited),
    previewData: (id, settings, edited) => training.preview(id, settings, edited),
    startTraining: (id, project, settings, edited) => training.start(id, project, settings, edited),
    stopTraining: async (runId) => training.stop(runId),
    resumeRun: (project, runId) => training.resume(project, runId),
    trainingStatus: async () => training.status(),
    listRuns: async (project) => training.list(project),
    deleteRun: async (project, runId) => training.delete(project, runId),
    exportRunHistory: async (project, runId) => training.historyCsv(project, runId),
    exportRunModel: async (project, runId) => training.exportModel(project, runId),
    evaluateRun: (project, runId) => training.evaluate(project, runId),
    heldOutSamples: (project, runId, indices) => training.samples(project, runId, indices),
    runSignature: async (project, runId) => training.signature(project, runId),
    predictRun: (project, runId, files) => training.predict(project, runId, files),
  };
}

/**
 * The versions of what this process runs. The mode and root are the workbench's to say (it
 * replaces them); this process reports itself as the desktop's, with no root.
 */
async function engineInfo(): Promise<AppInfo> {
  const ort = await import('onnxruntime-node');
  let engineBackends: string[] = [];
  let cudaUnavailable: string | null = null;
  try {
    const engine = loadNativeEngine();
    engineBackends = engine.backends();
    const cuda = engine.cudaStatus();
    if (engineBackends.includes('cuda') && !cuda.available) cudaUnavailable = cuda.reason;
  } catch {
    // Not built: appInfo says so by the empty list; training reports how to build it.
  }
  return {
    mode: 'desktop',
    root: null,
    versions: {
      strata: STRATA_VERSION,
      node: process.versions.node,
      electron: process.versions['electron'] ?? null,
      chrome: process.versions['chrome'] ?? null,
      onnxruntime: ort.env.versions.node ?? ort.env.versions.common,
      engineBackends,
      cudaUnavailable,
    },
  };
}

/** Each method's errors as the CLI reports them: one line for the user's, the stack for a bug. */
export function withCliErrors<T extends object>(api: T): T {
  const wrapped = Object.entries(api).map(([name, method]) => [
    name,
    async (...params: unknown[]) => {
      try {
        return await (method as (...args: unknown[]) => Promise<unknown>)(...params);
      } catch (error) {
        throw asCliError(error);
      }
    },
  ]);
  return Object.fromEntries(wrapped) as T;
}

function asCliError(error: unknown): Error {
  const line = userErrorLine(error);
  if (line !== undefined) return Object.assign(new Error(line), { name: (error as Error).name });
  return Object.assign(new Error(`internal error: ${internalErrorDetail(error)}`), { name: 'InternalError' });
}
