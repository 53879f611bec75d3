// Browser mode's transport: the built views over HTTP and the contract over a WebSocket at
// /api, bridged to a workbench (app/host/) that does the work. Every request and upgrade goes
// through access.ts first; the workbench checks the paths it is asked to open against --root.
import { createReadStream, statSync } from 'node:fs';
import { type IncomingMessage, type Server, type ServerResponse, STATUS_CODES, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type Duplex, pipeline } from 'node:stream';
import { type RawData, WebSocket, WebSocketServer } from 'ws';
import type { Host } from '../contract/api.ts';
import { type Channel, type WireMessage, decodeJson, encodeJson } from '../contract/rpc.ts';
import { RESPONSE_HEADERS, responseHeadersFor } from '../electron/security.ts';
import { type AccessPolicy, type Refusal, type Verdict, checkCredential, checkHost, checkOrigin, createAccessPolicy, sessionCookie } from './access.ts';
import { bridgeHost } from './bridge.ts';
import { internalErrorDetail } from '../cli/errors.ts';
import { contentType, resolveStaticFile } from './static_files.ts';

export interface ServerOptions {
  /** What answers the contract's calls (a workbench in browser mode). */
  workbench: Host;
  /** The built views (build/renderer/). */
  staticDir: string;
  /** The address to listen on; 127.0.0.1 unless the user asks for another. */
  host: string;
  /** 0: any free port. */
  port: number;
  /** A file for the page to open when it loads (as the workbench names it): `?open=` in the URL. */
  openOnLoad?: string | null;
}

export interface RunningServer {
  /** The URL to open, with the token. */
  url: string;
  port: number;
  close(): Promise<void>;
}

/** The WebSocket path of the contract. */
export const API_PATH = '/api';

/**
 * The largest message a page may send (a dropped file travels as base64 inside one JSON text):
 * below V8's longest string (2^29 - 24 characters), so a file of up to about 375 MB.
 */
const MAX_MESSAGE_BYTES = 500 * 2 ** 20;

export async function startServer(options: ServerOptions): Promise<RunningServer> {
  const policy = createAccessPolicy(options.host);
  const sockets = new WebSocketServer({ noServer: true, maxPayload: MAX_MESSAGE_BYTES });
  sockets.on('connection', (socket) => bridge(socket, options.workbench));

  const server = createServer((request, response) => survive(() => answerHttp(request, response, policy, options.staticDir), response));
  server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) =>
    survive(() => {
      // Node's server stops listening for this socket's errors once it is an upgrade: a client
      // that resets it while being refused must not end the process (ws's README does the same).
      socket.on('error', () => socket.destroy());
      const verdict = admitUpgrade(request, policy);
      if (!verdict.allowed) return refuseUpgrade(socket, verdict);
      sockets.handleUpgrade(request, socket, head, (webSocket) => sockets.emit('connection', webSocket, request));
    }, socket),
  );
  const port = await listen(server, options.port, options.host);
  const open = options.openOnLoad ? `&open=${encodeURIComponent(options.openOnLoad)}` : '';
  return {
    url: `http://${urlHost(options.host)}:${port}/?token=${policy.token}${open}`,
    port,
    close: () => closeServer(server, sockets),
  };
}

function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

/** How the printed URL names the server: a wildcard address is reached as 127.0.0.1 here. */
function urlHost(host: string): string {
  if (host === '0.0.0.0' || host === '::' || host === '') return '127.0.0.1';
  return host.includes(':') ? `[${host}]` : host;
}

function closeServer(server: Server, sockets: WebSocketServer): Promise<void> {
  for (const client of sockets.clients) client.terminate();
  sockets.close();
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

/** Runs a handler; a bug in it ends that one connection (and is reported as a bug), not the server. */
function survive(handle: () => void, connection: { destroy(): unknown }): void {
  try {
    handle();
  } catch (error) {
    process.stderr.write(`strata serve: internal error: ${internalErrorDetail(error)}\n`);
    connection.destroy();
  }
}

/** The request's URL; null where the request line names none ("GET http://[ HTTP/1.1"). */
function requestUrl(request: IncomingMessage): URL | null {
  try {
    return new URL(request.url ?? '/', 'http://server');
  } catch {
    return null;
  }
}

const BAD_URL: Refusal = { allowed: false, status: 400, reason: 'the request names no valid URL' };

// --- HTTP ---------------------------------------------------------------------------------

function answerHttp(request: IncomingMessage, response: ServerResponse, policy: AccessPolicy, staticDir: string): void {
  for (const [name, value] of Object.entries(RESPONSE_HEADERS)) response.setHeader(name, value);
  const url = requestUrl(request);
  if (!url) return refuseHttp(response, BAD_URL);
  const verdict = admitHttp(request, url, policy);
  if (!verdict.allowed) return refuseHttp(response, verdict);
  if (verdict.via === 'token') return exchangeToken(response, url, policy);
  for (const [name, value] of Object.entries(responseHeadersFor(url.pathname))) response.setHeader(name, value);
  sendFile(response, resolveStaticFile(staticDir, url.pathname), request.method === 'HEAD');
}

function admitHttp(request: IncomingMessage, url: URL, policy: AccessPolicy): Verdict {
  const wrongHost = checkHost(policy, request.headers.host);
  if (wrongHost) return wrongHost;
  if (request.method !== 'GET' && request.method !== 'HEAD') return { allowed: false, status: 405, reason: `${request.method} is not served here` };
  return checkCredential(policy, request.headers.cookie, url.searchParams.get('token'));
}

/** The first load: the token becomes the session cookie, and the address bar loses the token. */
function exchangeToken(response: ServerResponse, url: URL, policy: AccessPolicy): void {
  url.searchParams.delete('token');
  // One leading slash: "//other.example/" would send the browser to another site.
  const location = `/${url.pathname.replace(/^\/+/, '')}${url.search}`;
  response.writeHead(302, { 'Set-Cookie': sessionCookie(policy), Location: location });
  response.end();
}

function sendFile(response: ServerResponse, file: string | null, headOnly: boolean): void {
  const size = file === null ? null : sizeOrNull(file);
  if (file === null || size === null) return refuseHttp(response, { allowed: false, status: 404, reason: 'no such file' });
  response.writeHead(200, { 'Content-Type': contentType(file), 'Content-Length': size });
  if (headOnly) return void response.end();
  // pipeline closes the file when the client goes away mid-file, and ends the response on a read error.
  pipeline(createReadStream(file), response, () => {});
}

/** A file's size; null when it went away since it was found. */
function sizeOrNull(file: string): number | null {
  try {
    return statSync(file).size;
  } catch {
    return null;
  }
}

function refuseHttp(response: ServerResponse, refusal: Refusal): void {
  response.writeHead(refusal.status, { 'Content-Type': 'text/plain; charset=utf-8' });
  response.end(`${refusal.status} ${STATUS_CODES[refusal.status]}: ${refusal.reason}\n`);
}

// --- WebSocket ----------------------------------------------------------------------------

function admitUpgrade(request: IncomingMessage, policy: AccessPolicy): Verdict {
  const url = requestUrl(request);
  if (!url) return BAD_URL;
  if (url.pathname !== API_PATH) return { allowed: false, status: 404, reason: `WebSockets are served at ${API_PATH} only` };
  return (
    checkHost(policy, request.headers.host) ??
    checkOrigin(request.headers.origin, request.headers.host) ??
    checkCredential(policy, request.headers.cookie, url.searchParams.get('token'))
  );
}

function refuseUpgrade(socket: Duplex, refusal: Refusal): void {
  const body = `${refusal.status} ${STATUS_CODES[refusal.status]}: ${refusal.reason}\n`;
  socket.end(
    `HTTP/1.1 ${refusal.status} ${STATUS_CODES[refusal.status]}\r\nContent-Type: text/plain; charset=utf-8\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

/** Serves the contract to one page until it goes. */
function bridge(socket: WebSocket, workbench: Host): void {
  const stop = bridgeHost(socketChannel(socket), workbench);
  socket.on('close', stop);
  socket.on('error', () => socket.terminate());
}

/** One WebSocket as a Channel of JSON texts; anything else from the page closes it (1007). */
function socketChannel(socket: WebSocket): Channel {
  return {
    send(message) {
      if (socket.readyState === WebSocket.OPEN) socket.send(encodeJson(message));
    },
    onMessage(listener) {
      const receive = (data: RawData, isBinary: boolean) => {
        const message = isBinary ? null : decodeOrNull(data.toString());
        if (message === null) return socket.close(1007, 'expected a JSON message of the Strata contract');
        listener(message);
      };
      socket.on('message', receive);
      return () => socket.off('message', receive);
    },
  };
}

function decodeOrNull(text: string): WireMessage | null {
  try {
    return decodeJson(text);
  } catch {
    return null;
  }
}
