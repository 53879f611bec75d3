// The message channel between the app (Electron's main process or the browser-mode server)
// and the engine process, on both ends. Messages are structured clones (Uint8Arrays travel
// as bytes): Electron's utilityProcess uses a MessagePort-like parentPort, Node's
// child_process.fork an IPC channel with serialization 'advanced'.
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Channel, WireMessage } from '../contract/rpc.ts';

/** How an engine process ended. */
export interface EngineExit {
  code: number | null;
  signal: string | null;
  /** The last lines the process wrote to stderr, where the spawner captured them. */
  stderrTail?: string;
}

/** A started engine process, as the supervisor sees it; Electron's main and the server each make theirs. */
export interface EngineProcess {
  readonly channel: Channel;
  readonly pid: number | undefined;
  /** Called once, when the process has ended, however it ended. */
  onExit(listener: (exit: EngineExit) => void): void;
  /** Ends the process at once (SIGKILL): used on restart and shutdown. */
  kill(): void;
}

export type SpawnEngine = () => EngineProcess;

/** The engine process's entry module (TypeScript: run it with tsx). */
export const ENGINE_ENTRY = fileURLToPath(new URL('./engine_process.ts', import.meta.url));

const STDERR_TAIL_BYTES = 4096;

/** tsx by an absolute URL: the engine must start whatever the current folder is. */
const TSX_EXEC_ARGV = ['--import', import.meta.resolve('tsx')];

/**
 * Starts the engine as a Node child process (browser mode, tests). `entry` is for tests of
 * the supervisor with engines that misbehave.
 */
export function forkEngine(entry = ENGINE_ENTRY): EngineProcess {
  const child = fork(entry, [], { execArgv: TSX_EXEC_ARGV, serialization: 'advanced', stdio: ['ignore', 'inherit', 'pipe', 'ipc'] });
  const stderrTail = keepStderrTail(child.stderr);
  const exited = new Promise<EngineExit>((resolve) => {
    // 'close' comes after stderr has been read to its end.
    child.on('close', (code, signal) => resolve({ code, signal, stderrTail: stderrTail() }));
  });
  return {
    pid: child.pid,
    // A process that has just died cannot take a message; its exit, reported next, fails the call.
    channel: eventChannel(child, (message) => child.connected && child.send(message, () => {})),
    onExit: (listener) => void exited.then(listener),
    kill: () => child.kill('SIGKILL'),
  };
}

/** What the engine needs of Electron's utilityProcess module (no runtime import of electron here). */
export interface UtilityProcessModule {
  fork(modulePath: string, args: string[], options: { execArgv?: string[]; serviceName?: string; stdio?: ('pipe' | 'ignore' | 'inherit')[] }): UtilityProcessChild;
}

export interface UtilityProcessChild {
  readonly pid: number | undefined;
  readonly stderr: NodeJS.ReadableStream | null;
  postMessage(message: unknown): void;
  on(event: 'message', listener: (message: unknown) => void): unknown;
  on(event: 'exit', listener: (code: number) => void): unknown;
  off(event: 'message', listener: (message: unknown) => void): unknown;
  kill(): boolean;
}

/**
 * Starts the engine with Electron's utilityProcess (the desktop): Electron's main process
 * passes its `utilityProcess`. Electron reports an exit code only, no signal.
 */
export function utilityProcessEngine(utilityProcess: UtilityProcessModule, entry = ENGINE_ENTRY): EngineProcess {
  const child = utilityProcess.fork(entry, [], { execArgv: TSX_EXEC_ARGV, serviceName: 'Strata engine', stdio: ['ignore', 'inherit', 'pipe'] });
  const stderrTail = keepStderrTail(child.stderr);
  let alive = true;
  const exited = new Promise<EngineExit>((resolve) => {
    child.on('exit', (code) => {
      alive = false;
      resolve({ code, signal: null, stderrTail: stderrTail() });
    });
  });
  return {
    pid: child.pid,
    channel: eventChannel(child, (message) => alive && child.postMessage(message)),
    onExit: (listener) => void exited.then(listener),
    kill: () => void child.kill(),
  };
}

/** A Channel over an emitter of 'message' events (the message itself, or a MessageEvent's data). */
function eventChannel(
  emitter: { on(event: 'message', listener: (message: unknown) => void): unknown; off(event: 'message', listener: (message: unknown) => void): unknown },
  send: (message: WireMessage) => unknown,
  unwrap: (event: unknown) => unknown = (message) => message,
): Channel {
  return {
    send: (message) => void send(message),
    onMessage: (listener) => {
      const handler = (event: unknown) => listener(unwrap(event) as WireMessage);
      emitter.on('message', handler);
      return () => emitter.off('message', handler);
    },
  };
}

/** Passes the process's stderr through and keeps its end, so a crash report can quote what native code printed. */
function keepStderrTail(stderr: NodeJS.ReadableStream | null): () => string {
  let tail = '';
  stderr?.on('data', (chunk: Buffer) => {
    process.stderr.write(chunk);
    tail = (tail + chunk.toString('utf8')).slice(-STDERR_TAIL_BYTES);
  });
  return () => tail;
}

/** Electron's utilityProcess gives the child process.parentPort; Node's fork gives process.send. */
interface ParentPort {
  postMessage(message: unknown): void;
  on(event: 'message', listener: (event: unknown) => void): void;
  off(event: 'message', listener: (event: unknown) => void): void;
}

/** The engine process's end of the channel. */
export function parentChannel(): Channel {
  const port = (process as unknown as { parentPort?: ParentPort }).parentPort;
  if (port) return eventChannel(port, (message) => port.postMessage(message), (event) => (event as { data: unknown }).data);
  if (!process.send) throw new Error('the engine process was started without a channel to the app (use forkEngine or utilityProcess.fork)');
  return eventChannel(process, (message) => process.send!(message));
}
