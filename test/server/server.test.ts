// strata serve's transport and its security, against a stand-in workbench: the token, the
// cookie it becomes, Host and Origin checks, static files that cannot be left through `..` or a
// symlink, and the contract (calls, errors that keep their name, events) over the WebSocket.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { WebSocket } from 'ws';
import type { Host, StrataEvents } from '../../app/contract/api.ts';
import { CONTENT_SECURITY_POLICY_HEADER, SANDBOX_WORKER_POLICY } from '../../app/electron/security.ts';
import { type RunningServer, startServer } from '../../app/server/server.ts';
import { connect, exchangeToken, get, rawRequest, sendAndReset, upgradeStatus } from './client.ts';
import { failingOpen, fakeWorkbench } from './fake_workbench.ts';

const SECRET = 'secret-outside-the-views';

/** build/renderer/ stand-in: index.html and a script, a secret file beside it, a symlink out. */
function makeViews(): { dir: string; views: string } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'strata-server-'));
  const views = path.join(dir, 'renderer');
  mkdirSync(path.join(views, 'assets'), { recursive: true });
  writeFileSync(path.join(views, 'index.html'), '<!doctype html><title>Strata</title><script type="module" src="/assets/app.js"></script>');
  writeFileSync(path.join(views, 'assets', 'app.js'), 'export {};');
  writeFileSync(path.join(views, 'assets', 'code-sandbox.worker-Ab1.js'), 'export {};');
  writeFileSync(path.join(dir, 'secret.txt'), SECRET);
  symlinkSync(path.join(dir, 'secret.txt'), path.join(views, 'link-out.txt'));
  return { dir, views };
}

/** A workbench that answers two calls and emits events on demand. */
const browserWorkbench = () =>
  fakeWorkbench({
    appInfo: async () => ({ mode: 'browser', root: '/data', versions: { strata: '0.1.0', node: process.version, electron: null, chrome: null, onnxruntime: '1', engineBackends: [], cudaUnavailable: null } }),
    open: failingOpen,
  });

function nextEvent<E extends keyof StrataEvents>(host: Host, event: E): Promise<StrataEvents[E]> {
  return new Promise((resolve) => {
    const off = host.on(event, (payload) => {
      off();
      resolve(payload);
    });
  });
}

describe('strata serve: HTTP', () => {
  let server: RunningServer;
  let token: string;
  let dir: string;
  before(async () => {
    const views = makeViews();
    dir = views.dir;
    server = await startServer({ workbench: browserWorkbench().workbench, staticDir: views.views, host: '127.0.0.1', port: 0 });
    token = new URL(server.url).searchParams.get('token')!;
  });
  after(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('the printed URL is on 127.0.0.1 with a token of 128 random bits', () => {
    assert.match(server.url, new RegExp(`^http://127\\.0\\.0\\.1:${server.port}/\\?token=[0-9a-f]{32}$`));
  });

  test('a request without the token is refused (401), one with a wrong token too (403); neither gets the page', async () => {
    for (const [url, status] of [['/', 401], ['/assets/app.js', 401], ['/?token=', 403], [`/?token=${'0'.repeat(32)}`, 403], [`/?token=${token.slice(0, -1)}`, 403]] as const) {
      const reply = await get(server.port, url);
      assert.equal(reply.status, status, url);
      assert.doesNotMatch(reply.body, /<title>Strata/);
      assert.ok(!reply.body.includes(token));
    }
  });

  test('the token is exchanged once for an HttpOnly, SameSite=Strict cookie, then the cookie alone opens the app with the CSP', async () => {
    const first = await get(server.port, `/?token=${token}&open=examples%2Fa.ts`);
    assert.equal(first.status, 302);
    assert.equal(first.headers.location, '/?open=examples%2Fa.ts');
    const setCookie = first.headers['set-cookie']![0]!;
    assert.match(setCookie, /; HttpOnly/);
    assert.match(setCookie, /; SameSite=Strict/);
    const cookie = setCookie.split(';')[0]!;
    const page = await get(server.port, '/', { Cookie: cookie });
    assert.equal(page.status, 200);
    assert.match(page.body, /<title>Strata/);
    assert.equal(page.headers['content-security-policy'], CONTENT_SECURITY_POLICY_HEADER);
    assert.equal(page.headers['x-content-type-options'], 'nosniff');
    assert.equal(page.headers['referrer-policy'], 'no-referrer');
    const script = await get(server.port, '/assets/app.js', { Cookie: `other=1; ${cookie}` });
    assert.equal(script.status, 200);
    assert.equal(script.headers['content-type'], 'text/javascript; charset=utf-8');
    assert.equal(script.headers['content-security-policy'], CONTENT_SECURITY_POLICY_HEADER);
    // The code editor's sandbox worker, alone, arrives with the policy that lets it evaluate code.
    const worker = await get(server.port, '/assets/code-sandbox.worker-Ab1.js', { Cookie: cookie });
    assert.equal(worker.status, 200);
    assert.equal(worker.headers['content-security-policy'], SANDBOX_WORKER_POLICY);
    const [name] = cookie.split('=');
    assert.equal((await get(server.port, '/', { Cookie: `${name}=${'f'.repeat(32)}` })).status, 403);
  });

  test('the redirect after the exchange stays on this server', async () => {
    for (const url of [`//evil.example/?token=${token}`, `/.//evil.example/?token=${token}`]) {
      const reply = await get(server.port, url);
      assert.equal(reply.status, 302);
      assert.match(String(reply.headers.location), /^\/(?!\/)/, url);
    }
  });

  test('a foreign Host header is refused (403) even with the token or the cookie: DNS rebinding', async () => {
    const cookie = await exchangeToken(server.port, token);
    for (const host of [`evil.example:${server.port}`, 'evil.example', `127.0.0.1.evil.example:${server.port}`, `127.0.0.1:${server.port}@evil.example`, 'evil.example:80']) {
      assert.equal((await get(server.port, '/', { Host: host, Cookie: cookie })).status, 403, host);
      assert.equal((await get(server.port, `/?token=${token}`, { Host: host })).status, 403, host);
    }
    // Loopback names on any port are this machine (an SSH tunnel may use another local port).
    for (const host of [`localhost:${server.port}`, '127.0.0.1:9999', `[::1]:${server.port}`]) {
      assert.equal((await get(server.port, '/', { Host: host, Cookie: cookie })).status, 200, host);
    }
  });

  test('only files inside the built views are served: .., encoded .., backslashes, NUL and a symlink out are 404', async () => {
    const cookie = await exchangeToken(server.port, token);
    for (const url of ['/../secret.txt', '/%2e%2e/secret.txt', '/assets/..%2f..%2fsecret.txt', '/assets/%2E%2E/%2E%2E/secret.txt', '/..%5csecret.txt', '/index.html%00.js', '/link-out.txt', '/%', '/assets', `/${dir}/secret.txt`]) {
      const reply = await get(server.port, url, { Cookie: cookie });
      assert.equal(reply.status, 404, url);
      assert.ok(!reply.body.includes(SECRET), url);
    }
  });

  test('a request line with no valid URL gets 400, and the server goes on serving', async () => {
    const port = server.port;
    assert.match(await rawRequest(port, `GET http://[ HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: close\r\n\r\n`), /^HTTP\/1\.1 400 /);
    const upgrade = `GET http://[/api HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n`;
    assert.match(await rawRequest(port, upgrade), /^HTTP\/1\.1 400 /);
    assert.equal((await get(port, '/')).status, 401);
  });

  test('clients that reset the connection while their upgrade is refused do not end the server', async () => {
    const port = server.port;
    const refused = `GET /api HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nOrigin: http://evil.example\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n`;
    // Without an error listener on the upgrade's socket, one of these resets (ECONNRESET on the refusal's write) ends the process.
    for (let i = 0; i < 200; i++) await sendAndReset(port, refused);
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.equal((await get(port, '/')).status, 401);
  });

  test('methods other than GET and HEAD are refused', async () => {
    const cookie = await exchangeToken(server.port, token);
    assert.equal((await get(server.port, '/', { Cookie: cookie }, 'POST')).status, 405);
    const head = await get(server.port, '/', { Cookie: cookie }, 'HEAD');
    assert.equal(head.status, 200);
    assert.equal(head.body, '');
  });
});

/** A server on a free port with the stand-in views and workbench, and the cookie its token gives. */
async function startFixture(openOnLoad: string | null = null) {
  const { dir, views } = makeViews();
  const fake = browserWorkbench();
  const server = await startServer({ workbench: fake.workbench, staticDir: views, host: '127.0.0.1', port: 0, openOnLoad });
  const token = new URL(server.url).searchParams.get('token')!;
  const cookie = await exchangeToken(server.port, token);
  const sockets: WebSocket[] = [];
  /** Connects as the app's page does (its own origin, the cookie) and listens from the start. */
  const connectPage = (listen: (host: Host) => void = () => {}) => {
    const { host, opened } = connect(server.port, { Origin: `http://127.0.0.1:${server.port}`, Cookie: cookie });
    listen(host);
    return opened.then((socket) => {
      if (typeof socket === 'number') throw new Error(`the upgrade was refused: ${socket}`);
      sockets.push(socket);
      return { host, socket };
    });
  };
  const close = async () => {
    sockets.forEach((socket) => socket.terminate());
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  };
  return { server, token, cookie, emit: fake.emit, connectPage, close };
}

describe('strata serve: the WebSocket', () => {
  let fixture: Awaited<ReturnType<typeof startFixture>>;
  before(async () => (fixture = await startFixture()));
  after(() => fixture.close());

  test('upgrades from a foreign Origin, without a credential, with a wrong one, a foreign Host or another path are refused', async () => {
    const { server, token, cookie } = fixture;
    const origin = `http://127.0.0.1:${server.port}`;
    assert.equal(await upgradeStatus(server.port, { Origin: 'http://evil.example', Cookie: cookie }), 403);
    assert.equal(await upgradeStatus(server.port, { Origin: `http://localhost:${server.port}`, Cookie: cookie }), 403);
    assert.equal(await upgradeStatus(server.port, { Origin: 'null', Cookie: cookie }), 403);
    assert.equal(await upgradeStatus(server.port, { Origin: origin }), 401);
    assert.equal(await upgradeStatus(server.port, { Origin: origin, Cookie: `${cookie.split('=')[0]}=${'a'.repeat(32)}` }), 403);
    assert.equal(await upgradeStatus(server.port, { Origin: origin }, `/api?token=${'b'.repeat(32)}`), 403);
    assert.equal(await upgradeStatus(server.port, { Host: 'evil.example', Origin: 'http://evil.example', Cookie: cookie }), 403);
    assert.equal(await upgradeStatus(server.port, { Host: 'evil.example', Origin: 'http://evil.example' }, `/api?token=${token}`), 403);
    assert.equal(await upgradeStatus(server.port, { Origin: origin, Cookie: cookie }, '/other'), 404);
    // The same upgrade from the page's own origin, with the cookie or the token, opens.
    assert.equal(await upgradeStatus(server.port, { Origin: origin, Cookie: cookie }), 101);
    assert.equal(await upgradeStatus(server.port, { Origin: origin }, `/api?token=${token}`), 101);
  });

  test("the page's own origin with the cookie gets the contract: results, errors with their name, events", async () => {
    const { host } = await fixture.connectPage();
    assert.equal((await host.appInfo()).mode, 'browser');
    await assert.rejects(host.open('bad.onnx'), { name: 'FormatError', message: 'bad.onnx: not an ONNX model (no graph)' });
    await assert.rejects(host.listFolder(null), { name: 'ProtocolError' });
    const crashed = nextEvent(host, 'engineState');
    fixture.emit('engineState', { state: 'crashed', message: 'the engine process was killed by SIGKILL' });
    assert.deepEqual(await crashed, { state: 'crashed', message: 'the engine process was killed by SIGKILL' });
  });

  test('a message that is not the contract closes the socket (1007)', async () => {
    const { socket } = await fixture.connectPage();
    const closed = new Promise<number>((resolve) => socket.once('close', resolve));
    socket.send('{not json');
    assert.equal(await closed, 1007);
  });
});

describe('strata serve FILE', () => {
  test('the URL asks the page to open the file (?open=), and the token exchange keeps that in the address', async () => {
    const fixture = await startFixture('models/a b&c.onnx');
    try {
      const url = new URL(fixture.server.url);
      assert.equal(url.searchParams.get('open'), 'models/a b&c.onnx');
      const reply = await get(fixture.server.port, `${url.pathname}${url.search}`);
      assert.equal(reply.status, 302);
      assert.equal(new URL(String(reply.headers.location), url).searchParams.get('open'), 'models/a b&c.onnx');
      assert.equal(new URL(String(reply.headers.location), url).searchParams.get('token'), null);
    } finally {
      await fixture.close();
    }
  });
});
