// A raw HTTP and WebSocket client for the server's tests: every header is the test's choice
// (a foreign Host, a foreign Origin, a stale cookie), and refusals come back as status codes.
import { request } from 'node:http';
import { connect as connectSocket } from 'node:net';
import { WebSocket } from 'ws';
import type { Host } from '../../app/contract/api.ts';
import { type Channel, type WireMessage, createClient, decodeJson, encodeJson } from '../../app/contract/rpc.ts';

export interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** GET (or `method`) `path` exactly as given (no normalisation of `..`), with `headers`. */
export function get(port: number, path: string, headers: Record<string, string> = {}, method = 'GET'): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method, headers: { Host: `127.0.0.1:${port}`, ...headers } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** The cookie a first load with `token` sets ("name=value"). */
export async function exchangeToken(port: number, token: string): Promise<string> {
  const reply = await get(port, `/?token=${token}`);
  const setCookie = reply.headers['set-cookie']?.[0];
  if (reply.status !== 302 || !setCookie) throw new Error(`token exchange failed: ${reply.status} ${reply.body}`);
  return setCookie.split(';')[0]!;
}

/**
 * Opens a WebSocket to /api (or `path`) and speaks the contract over it, as the page's
 * websocket host does: `host` listens from the start (events sent on connection arrive), and
 * `opened` resolves with the socket, or with the refusal's status code.
 */
export function connect(port: number, headers: Record<string, string>, path = '/api'): { host: Host; opened: Promise<WebSocket | number> } {
  const socket = new WebSocket(`ws://127.0.0.1:${port}${path}`, { headers: { Host: `127.0.0.1:${port}`, ...headers } });
  const opened = new Promise<WebSocket | number>((resolve, reject) => {
    socket.once('open', () => resolve(socket));
    socket.once('unexpected-response', (_request, response) => {
      resolve(response.statusCode ?? 0);
      response.resume();
    });
    socket.once('error', reject);
  });
  const channel: Channel = {
    send: (message) => socket.send(encodeJson(message)),
    onMessage: (listener) => {
      const receive = (data: Buffer) => listener(decodeJson(data.toString()) as WireMessage);
      socket.on('message', receive);
      return () => socket.off('message', receive);
    },
  };
  return { host: createClient(channel), opened };
}

/** The status of an upgrade: the refusal's status code, or 101 for a socket that opened (then closed). */
export async function upgradeStatus(port: number, headers: Record<string, string>, path = '/api'): Promise<number> {
  const result = await connect(port, headers, path).opened;
  if (typeof result === 'number') return result;
  result.terminate();
  return 101;
}

/** Sends `text` as it is (a request line no HTTP client would write) and resolves with the whole answer. */
export function rawRequest(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connectSocket(port, '127.0.0.1', () => socket.end(text));
    let answer = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (answer += chunk));
    socket.on('end', () => resolve(answer));
    socket.on('error', reject);
  });
}

/** Sends `text` and resets the connection at once (TCP RST), as a client that goes away mid-answer. */
export function sendAndReset(port: number, text: string): Promise<void> {
  return new Promise((resolve) => {
    const socket = connectSocket(port, '127.0.0.1', () => {
      socket.write(text);
      socket.resetAndDestroy();
      resolve();
    });
    socket.on('error', () => resolve());
  });
}
