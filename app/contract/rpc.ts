// The contract over any message channel: requests with an id, answered by a result or an error,
// and events. Used on every hop (renderer <-> WebSocket server, main/server <-> engine
// process); Electron's IPC carries the same calls through invoke (preload). Pure TypeScript.
import { API_METHODS, EVENT_NAMES, type Host, type StrataApi, type StrataEvents, type WireError } from './api.ts';

export type WireMessage =
  | { type: 'request'; id: number; method: string; params: unknown[] }
  | { type: 'response'; id: number; result: unknown }
  | { type: 'error'; id: number; error: WireError }
  | { type: 'event'; event: string; payload: unknown };

/** Something that carries WireMessages both ways: a WebSocket, a child process, a MessagePort. */
export interface Channel {
  send(message: WireMessage): void;
  /** Returns a function that stops listening. */
  onMessage(listener: (message: WireMessage) => void): () => void;
}

/** An error that came back across a channel: its name and message are the remote error's. */
export class RemoteError extends Error {
  constructor(error: WireError) {
    super(error.message);
    this.name = error.name;
  }
}

export function toWireError(error: unknown): WireError {
  if (error instanceof Error) return { name: error.name, message: error.message };
  return { name: 'Error', message: String(error) };
}

const METHODS = new Set<string>(API_METHODS);
const EVENTS = new Set<string>(EVENT_NAMES);

/** A Host whose calls go over `channel`; rejectPending fails the calls still waiting (the channel closed). */
export function createClient(channel: Channel): Host & { rejectPending(error: WireError): void } {
  let nextId = 1;
  const pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  const listeners = new Map<string, Set<(payload: unknown) => void>>();
  channel.onMessage((message) => {
    if (message.type === 'event') {
      listeners.get(message.event)?.forEach((listener) => listener(message.payload));
      return;
    }
    if (message.type !== 'response' && message.type !== 'error') return;
    const call = pending.get(message.id);
    if (!call) return;
    pending.delete(message.id);
    if (message.type === 'response') call.resolve(message.result);
    else call.reject(new RemoteError(message.error));
  });
  const call = (method: string, params: unknown[]) =>
    new Promise((resolve, reject) => {
      const id = nextId++;
      pending.set(id, { resolve, reject });
      channel.send({ type: 'request', id, method, params });
    });
  const api = Object.fromEntries(API_METHODS.map((method) => [method, (...params: unknown[]) => call(method, params)])) as unknown as StrataApi;
  return {
    ...api,
    on(event, listener) {
      const set = listeners.get(event) ?? new Set();
      listeners.set(event, set);
      set.add(listener as (payload: unknown) => void);
      return () => set.delete(listener as (payload: unknown) => void);
    },
    rejectPending(error) {
      for (const { reject } of pending.values()) reject(new RemoteError(error));
      pending.clear();
    },
  };
}

/**
 * Answers requests arriving on `channel` with `implementation`; only the contract's methods
 * are served (anything else is refused, as the preload and the server refuse it). Returns
 * a function that sends an event to the other side.
 */
export function serve(channel: Channel, implementation: Partial<StrataApi>): <E extends keyof StrataEvents>(event: E, payload: StrataEvents[E]) => void {
  channel.onMessage(async (message) => {
    if (message.type !== 'request') return;
    const { id, method, params } = message;
    try {
      const handler = METHODS.has(method) ? (implementation as Record<string, ((...args: unknown[]) => Promise<unknown>) | undefined>)[method] : undefined;
      if (!handler || !Array.isArray(params)) throw Object.assign(new Error(`unknown request '${String(method)}'`), { name: 'ProtocolError' });
      channel.send({ type: 'response', id, result: await handler.apply(implementation, params) });
    } catch (error) {
      channel.send({ type: 'error', id, error: toWireError(error) });
    }
  });
  return (event, payload) => {
    if (!EVENTS.has(event)) throw new Error(`unknown event '${event}'`);
    channel.send({ type: 'event', event, payload });
  };
}

// --- JSON with bytes: Uint8Arrays travel as base64 where the channel carries text ---------

const BYTES_KEY = '$bytes';

// Browsers and Node (16+) both have these; the contract's lib (ES2023, no DOM, no Node) does not declare them.
declare function btoa(data: string): string;
declare function atob(data: string): string;

/** JSON text of a message; Uint8Arrays (Node's Buffers too) become {"$bytes": base64}. */
export function encodeJson(message: WireMessage): string {
  // The holder's own value, not `value`: JSON.stringify has already replaced a Buffer by its toJSON() ({type: 'Buffer', data: [...]}).
  return JSON.stringify(message, function (this: Record<string, unknown>, key, value: unknown) {
    const original = this[key];
    return original instanceof Uint8Array ? { [BYTES_KEY]: bytesToBase64(original) } : value;
  });
}

/** The message of encodeJson's text, Uint8Arrays restored. Throws on text that is not a message. */
export function decodeJson(text: string): WireMessage {
  const message = JSON.parse(text, (_key, value: unknown) =>
    value !== null && typeof value === 'object' && typeof (value as Record<string, unknown>)[BYTES_KEY] === 'string' && Object.keys(value).length === 1
      ? base64ToBytes((value as Record<string, string>)[BYTES_KEY]!)
      : value,
  ) as WireMessage;
  if (message === null || typeof message !== 'object' || typeof message.type !== 'string') throw new Error('not a message');
  return message;
}

function bytesToBase64(bytes: Uint8Array): string {
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}

function base64ToBytes(text: string): Uint8Array {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}
