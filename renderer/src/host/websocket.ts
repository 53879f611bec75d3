// Browser mode's transport: the contract over a WebSocket to `strata serve` at /api (the
// session cookie set on the first load authenticates it). The socket reconnects after a drop;
// calls in flight when it drops fail with a ConnectionError, later calls wait for the new one.
import type { Host } from '../../../app/contract/api.ts';
import { createClient, decodeJson, encodeJson, type Channel, type WireMessage } from '../../../app/contract/rpc.ts';

export type ConnectionStatus = 'connecting' | 'open' | 'closed';

/** What the host needs of a WebSocket (the browser's, or the `ws` package's in tests). */
export interface SocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(): void;
  onopen: ((event: unknown) => void) | null;
  onclose: ((event: unknown) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
}

export interface WebSocketHostOptions {
  createSocket?: (url: string) => SocketLike;
  /** Told every change: connecting, open, closed (waiting to reconnect). */
  onStatus?: (status: ConnectionStatus) => void;
  /** Milliseconds before the n-th reconnection attempt (n from 0). */
  retryDelay?: (attempt: number) => number;
}

const OPEN = 1;

/** The /api URL of the page's own server: ws: for http:, wss: for https:. */
export function apiUrl(location: { protocol: string; host: string }): string {
  return `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/api`;
}

export function createWebSocketHost(url: string, options: WebSocketHostOptions = {}): Host & { close(): void } {
  const createSocket = options.createSocket ?? ((address: string) => new WebSocket(address) as unknown as SocketLike);
  const retryDelay = options.retryDelay ?? ((attempt: number) => Math.min(5000, 250 * 2 ** attempt));
  const listeners = new Set<(message: WireMessage) => void>();
  const queue: string[] = [];
  let socket: SocketLike;
  let attempts = 0;
  let closedByUs = false;
  let retryTimer: ReturnType<typeof setTimeout> | undefined;

  const channel: Channel = {
    send(message) {
      const text = encodeJson(message);
      if (socket.readyState === OPEN) socket.send(text);
      else queue.push(text);
    },
    onMessage(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
  const client = createClient(channel);

  function connect(): void {
    options.onStatus?.('connecting');
    socket = createSocket(url);
    socket.onopen = () => {
      attempts = 0;
      options.onStatus?.('open');
      for (const text of queue.splice(0)) socket.send(text);
    };
    socket.onmessage = (event) => {
      if (typeof event.data !== 'string') return;
      let message: WireMessage;
      try {
        message = decodeJson(event.data);
      } catch {
        return; // Not the contract's; nothing to answer.
      }
      listeners.forEach((listener) => listener(message));
    };
    socket.onclose = () => {
      client.rejectPending({ name: 'ConnectionError', message: `lost the connection to the Strata server at ${url}; reconnecting` });
      options.onStatus?.('closed');
      if (!closedByUs) retryTimer = setTimeout(connect, retryDelay(attempts++));
    };
  }
  connect();

  return Object.assign(client, {
    close() {
      closedByUs = true;
      clearTimeout(retryTimer);
      socket.close();
    },
  });
}
