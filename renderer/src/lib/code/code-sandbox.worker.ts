/// <reference types="vite/client" />
// The code editor's sandbox: a worker that type-checks a model file and runs it to rebuild the
// model. It has no DOM and no Node, and before any code runs it takes away every way out the
// worker has (network, storage, other workers); the server and the desktop also serve this
// file with a policy of its own that allows evaluating code and no connection at all
// (app/electron/security.ts, SANDBOX_WORKER_POLICY). Its only channel is its messages to the
// editor, which holds no secret. The editor ends it if it does not answer in time.
import { runModelCode, type RunResult } from './run_model.ts';
import { ModelChecker, type CodeDiagnostic } from './typecheck.ts';

const BLOCKED = [
  'fetch',
  'XMLHttpRequest',
  'WebSocket',
  'WebSocketStream',
  'WebTransport',
  'EventSource',
  'importScripts',
  'indexedDB',
  'caches',
  'BroadcastChannel',
  'Worker',
  'SharedWorker',
  'Request',
  'navigator',
  'FileReaderSync',
  'RTCPeerConnection',
];
for (const name of BLOCKED) {
  try {
    Object.defineProperty(globalThis, name, { value: undefined, writable: false, configurable: false });
  } catch {
    // Not there in this browser: nothing to take away.
  }
}

const strata = import.meta.glob('../../../../app/model/**/*.ts', { query: '?raw', import: 'default', eager: true }) as Record<string, string>;
const libs = import.meta.glob('../../../../node_modules/typescript/lib/lib.{es5,es2015*,es2016*,es2017*,es2018*,es2019*,es2020*,es2021*,es2022*,decorators*}.d.ts', {
  query: '?raw',
  import: 'default',
  eager: true,
}) as Record<string, string>;

let checker: ModelChecker | null = null;

export interface SandboxRequest {
  id: number;
  code: string;
}

export type SandboxResponse = { id: number; checkMs: number; runMs: number } & ({ diagnostics: CodeDiagnostic[] } | Extract<RunResult, { json: unknown }>);

self.onmessage = (event: MessageEvent<SandboxRequest>) => {
  const { id, code } = event.data;
  const started = performance.now();
  checker ??= new ModelChecker({
    strata: Object.fromEntries(Object.entries(strata).map(([file, text]) => [file.replace(/^.*\/app\/model\//, ''), text])),
    libs: Object.fromEntries(Object.entries(libs).map(([file, text]) => [file.replace(/^.*\//, ''), text])),
  });
  const diagnostics = checker.check(code);
  const checkMs = performance.now() - started;
  if (diagnostics.some((d) => d.severity === 'error')) {
    self.postMessage({ id, diagnostics, checkMs, runMs: 0 } satisfies SandboxResponse);
    return;
  }
  const ran = performance.now();
  const result = runModelCode(code);
  self.postMessage({ id, ...result, checkMs, runMs: performance.now() - ran } as SandboxResponse);
};
