// Keeps the engine process: starts it through the spawn function it is given (Electron's
// utilityProcess or Node's fork), forwards calls to it once it says it is ready, and watches
// it end. When it ends unasked (a SIGSEGV in native code, an abort, out of memory, a kill),
// the calls still waiting fail with an EngineCrashedError saying how it ended, engineState
// tells the views 'crashed', and every later call fails the same way until restart().
// The caller (Electron's main process, the server) is never taken down with it.
import type { EngineState, StrataApi, StrataEvents } from '../contract/api.ts';
import { createClient } from '../contract/rpc.ts';
import type { EngineApi } from './engine_api.ts';
import type { EngineExit, EngineProcess, SpawnEngine } from './engine_channel.ts';

/** What signals that end a process usually mean, for the crash message. */
const SIGNAL_MEANINGS: Record<string, string> = {
  SIGSEGV: 'a memory fault in native code',
  SIGBUS: 'a memory fault in native code',
  SIGILL: 'an illegal instruction in native code',
  SIGFPE: 'an arithmetic fault in native code',
  SIGABRT: 'an abort, for example on running out of memory',
  SIGKILL: 'killed, for example by the system on running out of memory',
  SIGTERM: 'terminated from outside',
};

/** The engine process ended while a call waited for it, or a call came after it ended. */
export class EngineCrashedError extends Error {
  override name = 'EngineCrashedError';
}

type StateListener = (state: StrataEvents['engineState']) => void;
type TrainingListener = (event: StrataEvents['training']) => void;

interface Running {
  process: EngineProcess;
  client: ReturnType<typeof createClient>;
  /** Settles when the process says it is ready, or rejects when it ends first. */
  ready: Promise<void>;
}

export class EngineSupervisor {
  readonly #spawn: SpawnEngine;
  readonly #listeners = new Set<StateListener>();
  readonly #trainingListeners = new Set<TrainingListener>();
  #running: Running | undefined;
  #state: StrataEvents['engineState'] = { state: 'starting' };
  #disposed = false;

  constructor(spawn: SpawnEngine) {
    this.#spawn = spawn;
  }

  get state(): EngineState {
    return this.#state.state;
  }

  /** The engine process's id, while one runs (tests signal it). */
  get pid(): number | undefined {
    return this.#running?.process.pid;
  }

  onState(listener: StateListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** The engine's training events (a run's progress), from whichever process runs now. */
  onTraining(listener: TrainingListener): () => void {
    this.#trainingListeners.add(listener);
    return () => this.#trainingListeners.delete(listener);
  }

  /** Starts the engine process; resolves when it is ready, rejects if it ends first. */
  start(): Promise<void> {
    if (this.#disposed) return Promise.reject(new EngineCrashedError('the app is shutting down'));
    if (this.#running) return this.#running.ready;
    this.#setState({ state: 'starting' });
    const process = this.#spawn();
    const client = createClient(process.channel);
    let ready!: () => void;
    let failed!: (error: Error) => void;
    const running: Running = { process, client, ready: new Promise((resolve, reject) => ([ready, failed] = [resolve, reject])) };
    // Nobody may be waiting yet; the rejection is reported through engineState.
    running.ready.catch(() => {});
    client.on('engineState', ({ state }) => {
      if (state !== 'ready' || this.#running !== running) return;
      this.#setState({ state: 'ready' });
      ready();
    });
    client.on('training', (event) => {
      if (this.#running === running) for (const listener of this.#trainingListeners) listener(event);
    });
    process.onExit((exit) => {
      if (this.#running !== running) return; // stopped on purpose (restart, dispose)
      this.#running = undefined;
      const message = describeExit(exit);
      client.rejectPending({ name: 'EngineCrashedError', message });
      failed(new EngineCrashedError(message));
      this.#setState({ state: 'crashed', message });
    });
    this.#running = running;
    return running.ready;
  }

  /** Ends the engine process, if one runs, and starts a new one. Open documents are gone with the old one. */
  async restart(): Promise<void> {
    this.#stop();
    await this.start();
  }

  /** Calls a method in the engine process; fails with EngineCrashedError while it is down. */
  async call<M extends keyof EngineApi>(method: M, ...params: Parameters<StrataApi[M]>): Promise<Awaited<ReturnType<StrataApi[M]>>> {
    const running = this.#running;
    if (!running) throw new EngineCrashedError(this.#state.message ?? 'the engine process is not running; restart it');
    await running.ready;
    // It may have ended while this call waited for it to be ready.
    if (this.#running !== running) throw new EngineCrashedError(this.#state.message ?? 'the engine process was restarted');
    const fn = running.client[method] as (...args: unknown[]) => Promise<Awaited<ReturnType<StrataApi[M]>>>;
    return fn(...params);
  }

  /** Ends the engine process for good (the app is closing). */
  dispose(): void {
    this.#disposed = true;
    this.#stop();
  }

  #stop(): void {
    const running = this.#running;
    if (!running) return;
    this.#running = undefined;
    running.client.rejectPending({ name: 'EngineCrashedError', message: 'the engine process was restarted before it answered' });
    running.process.kill();
  }

  #setState(state: StrataEvents['engineState']): void {
    this.#state = state;
    for (const listener of this.#listeners) listener(state);
  }
}

/** "the engine process crashed: SIGSEGV (a memory fault in native code); ..." with what it last printed. */
export function describeExit(exit: EngineExit): string {
  const how = exit.signal
    ? `${exit.signal}${SIGNAL_MEANINGS[exit.signal] ? ` (${SIGNAL_MEANINGS[exit.signal]})` : ''}`
    : `it exited with code ${exit.code ?? 'unknown'}`;
  const lastLine = (exit.stderrTail ?? '').trim().split('\n').pop()?.trim();
  return `the engine process crashed: ${how}${lastLine ? `; it last printed "${lastLine}"` : ''}. Files open in it are closed; restart the engine to go on`;
}
