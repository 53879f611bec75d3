// What the engine process answers (engine_process.ts serves it): the contract's document
// methods on a DocumentStore, and the versions of what the process runs.
//
// Errors cross as the CLI prints them: a user's error (a corrupt file, an unsupported layer)
// with its name and one-line message, anything else as an InternalError whose message keeps
// the stack, because it is a bug in Strata.
import type { AppInfo, StrataApi } from '../contract/api.ts';
import { userErrorLine } from '../cli/errors.ts';
import { loadNativeEngine } from '../engine/binding.ts';
import { STRATA_VERSION } from '../version.ts';
import { DocumentStore } from './documents.ts';
import { templateInfos } from './templates.ts';

/** The contract's methods this process answers. */
export type EngineApi = Pick<
  StrataApi,
  'appInfo' | 'open' | 'openDropped' | 'layerWeights' | 'initializerStats' | 'exportDocument' | 'closeDocument' | 'templates' | 'newProject' | 'editDocument' | 'saveProject' | 'previewModel' | 'exportModel'
>;

export function engineApi(store: DocumentStore): EngineApi {
  return {
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

/**
 * The versions of what this process runs. The mode and root are the workbench's to say (it
 * replaces them); this process reports itself as the desktop's, with no root.
 */
async function engineInfo(): Promise<AppInfo> {
  const ort = await import('onnxruntime-node');
  let engineBackends: string[] = [];
  try {
    engineBackends = loadNativeEngine().backends();
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
  const detail = error instanceof Error ? (error.stack ?? error.message) : String(error);
  return Object.assign(new Error(`internal error: ${detail}`), { name: 'InternalError' });
}
