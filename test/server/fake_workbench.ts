// A stand-in workbench for the transports' tests (the server's WebSocket, Electron's IPC):
// the calls a test gives, every call recorded, events emitted on demand.
import type { Host, StrataApi, StrataEvents } from '../../app/contract/api.ts';

export interface FakeWorkbench {
  workbench: Host;
  /** "method arg, ..." for every call, in order. */
  calls: string[];
  emit<E extends keyof StrataEvents>(event: E, payload: StrataEvents[E]): void;
}

export function fakeWorkbench(methods: Partial<Record<keyof StrataApi, (...args: never[]) => Promise<unknown>>>): FakeWorkbench {
  const calls: string[] = [];
  const listeners = new Map<string, Set<(payload: unknown) => void>>();
  const recorded = Object.fromEntries(
    Object.entries(methods).map(([name, method]) => [name, (...args: never[]) => (calls.push([name, ...args].join(' ')), method(...args))]),
  );
  const workbench = {
    ...recorded,
    on(event: string, listener: (payload: unknown) => void) {
      const set = listeners.get(event) ?? new Set();
      listeners.set(event, set);
      set.add(listener);
      return () => set.delete(listener);
    },
  } as unknown as Host;
  return { workbench, calls, emit: (event, payload) => listeners.get(event)?.forEach((listener) => listener(payload)) };
}

/** An open that fails as the engine fails on a file that is not a model. */
export async function failingOpen(file: string): Promise<never> {
  throw Object.assign(new Error(`${file}: not an ONNX model (no graph)`), { name: 'FormatError' });
}
