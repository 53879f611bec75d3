// The views' transports, in Node: the WebSocket host against a `ws` server answering with the
// contract (rpc.serve), including a dropped connection; the IPC host over a fake preload
// bridge; the mock host the views' tests use.
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { WebSocket, WebSocketServer } from 'ws';
import type { DesktopBridge, StrataApi } from '../../app/contract/api.ts';
import { decodeJson, encodeJson, serve, type Channel } from '../../app/contract/rpc.ts';
import { createIpcHost } from '../../renderer/src/host/ipc.ts';
import { createMockHost } from '../../renderer/src/host/mock.ts';
import { apiUrl, createWebSocketHost, type ConnectionStatus, type SocketLike } from '../../renderer/src/host/websocket.ts';

/** A contract server over `ws`: each connection served by `implementation`; returns its URL and sockets. */
async function contractServer(implementation: Partial<StrataApi>) {
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0, path: '/api' });
  const emitters: ReturnType<typeof serve>[] = [];
  server.on('connection', (socket) => {
    const channel: Channel = {
      send: (message) => socket.send(encodeJson(message)),
      onMessage: (listener) => {
        const handler = (data: Buffer) => listener(decodeJson(data.toString()));
        socket.on('message', handler);
        return () => socket.off('message', handler);
      },
    };
    emitters.push(serve(channel, implementation));
  });
  await new Promise((resolve) => server.once('listening', resolve));
  const url = apiUrl({ protocol: 'http:', host: `127.0.0.1:${(server.address() as AddressInfo).port}` });
  return { server, url, emitters };
}

const nodeSocket = (url: string) => new WebSocket(url) as unknown as SocketLike;

test('the WebSocket host calls the contract, keeps error names, receives events and sends bytes intact', async () => {
  const bytes = new Uint8Array([0, 1, 2, 255]);
  let received: Uint8Array | undefined;
  const { server, url, emitters } = await contractServer({
    examples: async () => [{ name: 'a.onnx', path: 'a.onnx', kind: 'onnx' }],
    open: async (path) => {
      throw Object.assign(new Error(`${path}: not an ONNX model (protobuf: truncated)`), { name: 'OnnxFormatError' });
    },
    openDropped: async (_name, data) => {
      received = data;
      throw new Error('stop');
    },
  });
  const statuses: ConnectionStatus[] = [];
  const host = createWebSocketHost(url, { createSocket: nodeSocket, onStatus: (status) => statuses.push(status) });
  try {
    // Sent before the socket is open: queued, then answered.
    assert.deepEqual(await host.examples(), [{ name: 'a.onnx', path: 'a.onnx', kind: 'onnx' }]);
    await assert.rejects(host.open('broken.onnx'), { name: 'OnnxFormatError', message: 'broken.onnx: not an ONNX model (protobuf: truncated)' });
    await assert.rejects(host.openDropped('x.onnx', bytes), { message: 'stop' });
    assert.deepEqual(received, bytes);
    const event = new Promise((resolve) => host.on('engineState', resolve));
    emitters[0]!('engineState', { state: 'crashed', message: 'the engine process was killed by SIGSEGV' });
    assert.deepEqual(await event, { state: 'crashed', message: 'the engine process was killed by SIGSEGV' });
    assert.deepEqual(statuses, ['connecting', 'open']);
  } finally {
    host.close();
    server.close();
  }
});

test('a dropped connection fails the calls in flight with a ConnectionError, then reconnects and serves later calls', async () => {
  let answer: (() => void) | undefined;
  const { server, url } = await contractServer({
    recentFiles: () => new Promise((resolve) => (answer = () => resolve([]))),
    examples: async () => [],
  });
  const statuses: ConnectionStatus[] = [];
  const host = createWebSocketHost(url, { createSocket: nodeSocket, onStatus: (status) => statuses.push(status), retryDelay: () => 10 });
  try {
    await host.examples();
    const inFlight = host.recentFiles();
    while (!answer) await new Promise((resolve) => setTimeout(resolve, 5));
    for (const client of server.clients) client.terminate();
    await assert.rejects(inFlight, { name: 'ConnectionError', message: /lost the connection to the Strata server at ws:\/\/127\.0\.0\.1:\d+\/api; reconnecting/ });
    assert.deepEqual(await host.examples(), []);
    assert.deepEqual(statuses, ['connecting', 'open', 'closed', 'connecting', 'open']);
  } finally {
    host.close();
    server.close();
  }
});

test('apiUrl is the page\'s own server: ws for http, wss for https', () => {
  assert.equal(apiUrl({ protocol: 'http:', host: '127.0.0.1:8765' }), 'ws://127.0.0.1:8765/api');
  assert.equal(apiUrl({ protocol: 'https:', host: 'box.example:443' }), 'wss://box.example:443/api');
});

test('the IPC host passes each contract method and its parameters to the preload bridge, and events back', async () => {
  const invoked: [string, unknown[]][] = [];
  let listener: ((payload: unknown) => void) | undefined;
  const bridge: DesktopBridge = {
    invoke: async (method, params) => {
      invoked.push([method, params]);
      return method === 'layerWeights' ? [] : undefined;
    },
    on: (event, callback) => {
      assert.equal(event, 'openRequested');
      listener = callback;
      return () => (listener = undefined);
    },
  };
  const host = createIpcHost(bridge);
  assert.deepEqual(await host.layerWeights('doc-1', 'conv2'), []);
  await host.exportDocument('doc-1', 'onnx');
  assert.deepEqual(invoked, [
    ['layerWeights', ['doc-1', 'conv2']],
    ['exportDocument', ['doc-1', 'onnx']],
  ]);
  const paths: string[] = [];
  const stop = host.on('openRequested', ({ path }) => paths.push(path));
  listener!({ path: '/models/a.onnx' });
  stop();
  assert.equal(listener, undefined);
  assert.deepEqual(paths, ['/models/a.onnx']);
});

test('the mock host answers what the test gives, records every call, names what it was not given, and emits events', async () => {
  const host = createMockHost({ open: async (path) => Promise.reject(new Error(`${path}: no such file`)) });
  assert.deepEqual(await host.recentFiles(), []);
  await assert.rejects(host.open('a.onnx'), { message: 'a.onnx: no such file' });
  await assert.rejects(host.restartEngine(), { message: 'the mock host was given no answer for restartEngine()' });
  assert.deepEqual(
    host.calls.map((call) => call.method),
    ['recentFiles', 'open', 'restartEngine'],
  );
  const states: string[] = [];
  host.on('engineState', ({ state }) => states.push(state));
  host.emit('engineState', { state: 'crashed' });
  assert.deepEqual(states, ['crashed']);
});
