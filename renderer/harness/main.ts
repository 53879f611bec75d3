// The views with the mock host instead of a transport (Netron's test/mock.js): documents,
// weights, errors and the training sections' answers come from fixture.json, which the test
// writes with the engine's own document code; the test drives the page and reads
// `window.harness` (the host's calls, and emit() for events such as the engine crashing).
import { mount } from 'svelte';
import App from '../src/App.svelte';
import '../src/app.css';
import { createMockHost, MOCK_APP_INFO } from '../src/host/mock.ts';
import type { HarnessFixture, HarnessGlobal } from './fixture.ts';

declare global {
  interface Window extends HarnessGlobal {}
}

const fixture = (await (await fetch('./fixture.json')).json()) as HarnessFixture;

function failure(path: string): Error {
  const { name, message } = fixture.failures[path] ?? { name: 'FileNotFoundError', message: `${path}: no such file` };
  return Object.assign(new Error(message), { name });
}

const host = createMockHost({
  appInfo: async () => MOCK_APP_INFO,
  examples: async () => fixture.examples,
  listFolder: async () => ({ path: '', parent: null, entries: fixture.examples }),
  open: async (path) => {
    const document = fixture.documents[path];
    if (!document) throw failure(path);
    return document;
  },
  layerWeights: async (id, layer) => fixture.weights[id]?.[layer] ?? [],
  initializerStats: async (id, name) => fixture.initializers[id]![name]!,
  exportDocument: async (id, format) => ({
    download: { fileName: `${id}.${format === 'onnx' ? 'onnx' : 'json'}`, mimeType: 'application/octet-stream', bytes: new TextEncoder().encode(`${format} of ${id}`) },
  }),
  restartEngine: async () => undefined,
  trainingProject: async () => fixture.training.project,
  trainingDefaults: async () => fixture.training.defaults,
  trainingStatus: async () => null,
  listRuns: async () => ({ runs: fixture.training.runs, problems: [] }),
  runSignature: async () => fixture.training.signature,
  predictRun: async (_project, _runId, files) => {
    const failing = files.find((file) => fixture.training.predictFailures[file.name]);
    if (failing) throw Object.assign(new Error(fixture.training.predictFailures[failing.name]!.message), { name: fixture.training.predictFailures[failing.name]!.name });
    return fixture.training.predictions;
  },
});
window.harness = { host };

mount(App, { target: document.getElementById('app')!, props: { host } });
