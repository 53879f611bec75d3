// The editor's side of the code sandbox (code-sandbox.worker.ts): one worker, one request at a
// time (a newer edit supersedes an older one), and a time limit: a worker that does not answer
// (an endless loop in the code) is ended and replaced, and the edit reports why.
import type { SandboxRequest, SandboxResponse } from './code-sandbox.worker.ts';

/** The first request also loads TypeScript and the model API's sources into the worker. */
const FIRST_TIMEOUT_MS = 30_000;
const TIMEOUT_MS = 10_000;

export class CodeSandbox {
  #worker: Worker | null = null;
  #nextId = 1;
  #warm = false;
  #pending: { id: number; resolve: (response: SandboxResponse | { timeout: number } | null) => void; timer: ReturnType<typeof setTimeout> } | null = null;

  #start(): Worker {
    if (this.#worker) return this.#worker;
    const worker = new Worker(new URL('./code-sandbox.worker.ts', import.meta.url), { type: 'module', name: 'code sandbox' });
    worker.onmessage = (event: MessageEvent<SandboxResponse>) => {
      const pending = this.#pending;
      if (!pending || event.data?.id !== pending.id) return;
      clearTimeout(pending.timer);
      this.#pending = null;
      this.#warm = true;
      pending.resolve(event.data);
    };
    this.#worker = worker;
    return worker;
  }

  /** Checks and runs `code`; a later call supersedes this one (which then resolves to null). */
  run(code: string): Promise<SandboxResponse | { timeout: number } | null> {
    this.#supersede();
    const worker = this.#start();
    const id = this.#nextId++;
    const limit = this.#warm ? TIMEOUT_MS : FIRST_TIMEOUT_MS;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#pending = null;
        this.dispose();
        resolve({ timeout: limit });
      }, limit);
      this.#pending = { id, resolve, timer };
      worker.postMessage({ id, code } satisfies SandboxRequest);
    });
  }

  /** The request in flight gets no answer (null); the worker finishes it and moves on. */
  #supersede(): void {
    const pending = this.#pending;
    if (!pending) return;
    clearTimeout(pending.timer);
    this.#pending = null;
    pending.resolve(null);
  }

  dispose(): void {
    this.#worker?.terminate();
    this.#worker = null;
    this.#warm = false;
  }
}
