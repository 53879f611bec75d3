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

/**
 * Starts the engine as a Node child process (browser mode, tests). Its stderr is passed
 * through and its end kept, so a crash report can quote what native code printed. `entry`
 * is for tests of the supervisor with engines that misbehave.
 */
export function forkEngine(entry = ENGINE_ENTRY): EngineProcess {
  const child = fork(entry, [], {
    // An absolute loader URL: the engine must start whatever the current folder is.
    execArgv: ['--import', import.meta.resolve('tsx')],
    serialization: 'advanced',
    stdio: ['ignore', 'inherit', 'pipe', 'ipc'],
  });
  let stderrTail = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    process.stderr.write(chunk);
    stderrTail = (stderrTail + chunk.toString('utf8')).slice(-STDERR_TAIL_BYTES);
  });
  const exited = new Promise<EngineExit>((resolve) => {
    // 'close' comes after stderr has been read to its end.
    child.on('close', (code, signal) => resolve({ code, signal, stderrTail }));
  });
  return {
    pid: child.pid,
    channel: {
      send: (message) => {
        // A process that has just died cannot take it; its exit, reported next, fails the call.
        if (child.connected) child.send(message, () => {});
      },
      onMessage: (listener) => {
        const handler = (message: unknown) => listener(message as WireMessage);
        child.on('message', handler);
        return () => child.off('message', handler);
      },
    },
    onExit: (listener) => void exited.then(listener),
    kill: () => child.kill('SIGKILL'),
  };
}

/** Electron's utilityProcess gives the child process.parentPort; Node's fork gives process.send. */
interface ParentPort {
  postMessage(message: unknown): void;
  on(event: 'message', listener: (event: { data: unknown }) => void): void;
  off(event: 'message', listener: (event: { data: unknown }) => void): void;
}

/** The engine process's end of the channel. */
export function parentChannel(): Channel {
  const port = (process as unknown as { parentPort?: ParentPort }).parentPort;
  if (port) {
    return {
      send: (message) => port.postMessage(message),
      onMessage: (listener) => {
        const handler = (event: { data: unknown }) => listener(event.data as WireMessage);
        port.on('message', handler);
        return () => port.off('message', handler);
      },
    };
  }
  if (!process.send) throw new Error('the engine process was started without a channel to the app (use forkEngine or utilityProcess.fork)');
  return {
    send: (message) => void process.send!(message),
    onMessage: (listener) => {
      const handler = (message: unknown) => listener(message as WireMessage);
      process.on('message', handler);
      return () => process.off('message', handler);
    },
  };
}
