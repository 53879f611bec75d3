// The contract over a channel: results, errors that keep their kind, refused methods, events,
// and bytes through the JSON codec the WebSocket uses.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { StrataApi } from '../../app/contract/api.ts';
import { type Channel, type WireMessage, createClient, decodeJson, encodeJson, serve } from '../../app/contract/rpc.ts';

/** Two channels joined back to back, every message through the JSON codec (as over a WebSocket). */
function pipe(): [Channel, Channel] {
  const listeners: [((m: WireMessage) => void)[], ((m: WireMessage) => void)[]] = [[], []];
  const end = (me: 0 | 1): Channel => ({
    send: (message) => queueMicrotask(() => listeners[1 - me]!.forEach((l) => l(decodeJson(encodeJson(message))))),
    onMessage: (listener) => {
      listeners[me].push(listener);
      return () => listeners[me].splice(listeners[me].indexOf(listener), 1);
    },
  });
  return [end(0), end(1)];
}

describe('rpc', () => {
  test('a call returns the result; a thrown error keeps its name and message', async () => {
    const [a, b] = pipe();
    serve(b, {
      examples: async () => [{ name: 'x.ts', path: 'examples/x.ts', kind: 'model-module' }],
      open: async (path: string) => {
        throw Object.assign(new Error(`${path}: not an ONNX model`), { name: 'FormatError' });
      },
    } satisfies Partial<StrataApi>);
    const host = createClient(a);
    assert.deepEqual(await host.examples(), [{ name: 'x.ts', path: 'examples/x.ts', kind: 'model-module' }]);
    await assert.rejects(host.open('bad.onnx'), (e: Error) => e.name === 'FormatError' && e.message === 'bad.onnx: not an ONNX model');
  });

  test('methods outside the contract and methods not implemented are refused', async () => {
    const [a, b] = pipe();
    serve(b, {});
    const replies: WireMessage[] = [];
    a.onMessage((m) => replies.push(m));
    a.send({ type: 'request', id: 1, method: 'constructor', params: [] });
    a.send({ type: 'request', id: 2, method: 'open', params: ['x'] });
    await new Promise((r) => setTimeout(r, 10));
    assert.deepEqual(replies.map((r) => r.type === 'error' && r.error.name), ['ProtocolError', 'ProtocolError']);
  });

  test('events reach listeners until they unsubscribe; pending calls can be failed', async () => {
    const [a, b] = pipe();
    const emit = serve(b, { appInfo: () => new Promise(() => {}) });
    const host = createClient(a);
    const seen: string[] = [];
    const off = host.on('engineState', ({ state }) => seen.push(state));
    emit('engineState', { state: 'crashed', message: 'killed' });
    await new Promise((r) => setTimeout(r, 10));
    off();
    emit('engineState', { state: 'ready' });
    await new Promise((r) => setTimeout(r, 10));
    assert.deepEqual(seen, ['crashed']);
    const waiting = host.appInfo();
    host.rejectPending({ name: 'EngineCrashed', message: 'the engine process stopped' });
    await assert.rejects(waiting, { name: 'EngineCrashed' });
  });

  test('bytes survive the JSON codec', () => {
    const bytes = Uint8Array.from({ length: 70_000 }, (_, i) => (i * 7) % 256);
    const message = decodeJson(encodeJson({ type: 'response', id: 3, result: { download: { fileName: 'm.onnx', mimeType: 'application/octet-stream', bytes } } }));
    assert.deepEqual((message as { result: { download: { bytes: Uint8Array } } }).result.download.bytes, bytes);
    assert.throws(() => decodeJson('42'), /not a message/);
  });

  test('a Node Buffer crosses as bytes, not as its toJSON() object (what the engine process sends back)', () => {
    const buffer = Buffer.from([8, 8, 18, 6, 255]);
    const message = decodeJson(encodeJson({ type: 'response', id: 4, result: { bytes: buffer } }));
    const bytes = (message as { result: { bytes: unknown } }).result.bytes;
    assert.ok(bytes instanceof Uint8Array);
    assert.deepEqual([...bytes], [8, 8, 18, 6, 255]);
  });
});
