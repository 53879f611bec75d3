// Browser mode end to end without a browser: `strata serve`'s server with a real workbench and
// engine process, reached as the page reaches it (token, cookie, WebSocket). Paths outside
// --root are refused through the server (the root check itself is the workbench's); the file
// given on the command line opens; what a user gets wrong is one line naming the fix.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { WebSocket } from 'ws';
import type { Host } from '../../app/contract/api.ts';
import { serveCommand } from '../../app/cli/commands/serve.ts';
import { type BrowserMode, startBrowserMode } from '../../app/server/browser_mode.ts';
import { connect, exchangeToken, get } from './client.ts';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const ONNX = path.join(REPO, 'test/fixtures/onnx/matmul_add.onnx');

/** A root with one model and a link out of it, a folder beside it with a secret model, and built views. */
function makeFolders() {
  const base = realpathSync(mkdtempSync(path.join(os.tmpdir(), 'strata-serve-')));
  const [root, outside, views, state] = ['root', 'outside', 'views', 'state'].map((name) => path.join(base, name)) as [string, string, string, string];
  for (const dir of [root, outside, views, state]) mkdirSync(dir);
  copyFileSync(ONNX, path.join(root, 'model.onnx'));
  copyFileSync(ONNX, path.join(outside, 'secret.onnx'));
  copyFileSync(ONNX, path.join(outside, 'given.onnx'));
  symlinkSync(path.join(outside, 'secret.onnx'), path.join(root, 'link-out.onnx'));
  symlinkSync(outside, path.join(root, 'link-out-dir'));
  writeFileSync(path.join(views, 'index.html'), '<!doctype html><title>Strata</title>');
  return { base, root, outside, views, state };
}

describe('strata serve with its engine process: --root, the command line file, a crash', () => {
  const folders = makeFolders();
  let running: BrowserMode;
  let page: Host;
  let socket: WebSocket;
  let cookie: string;
  before(async () => {
    running = await startBrowserMode({ root: folders.root, stateDir: folders.state, host: '127.0.0.1', port: 0, viewsDir: folders.views, file: path.join(folders.outside, 'given.onnx') });
    cookie = await exchangeToken(running.port, new URL(running.url).searchParams.get('token')!);
    const connection = connect(running.port, { Origin: `http://127.0.0.1:${running.port}`, Cookie: cookie });
    page = connection.host;
    const opened = await connection.opened;
    if (typeof opened === 'number') throw new Error(`refused: ${opened}`);
    socket = opened;
  });
  after(async () => {
    socket?.terminate();
    await running?.stop();
    rmSync(folders.base, { recursive: true, force: true });
  });

  test('a file under the root opens, named relative to it', async () => {
    const document = await page.open('model.onnx');
    assert.equal(document.kind, 'onnx');
    assert.equal(document.path, 'model.onnx');
    assert.deepEqual((await page.listFolder(null)).entries.map((entry) => entry.name).filter((name) => name.endsWith('.onnx')), ['model.onnx']);
  });

  test('.., absolute paths and symlinks out of the root are refused with a one-line error naming the path', async () => {
    const refused: [string, RegExp][] = [
      ['../outside/secret.onnx', /^\.\.\/outside\/secret\.onnx: "\.\." is not allowed/],
      [path.join(folders.outside, 'secret.onnx'), /: absolute paths outside the root folder .* are not served/],
      ['/etc/passwd', /^\/etc\/passwd: absolute paths outside the root folder .* are not served/],
      ['link-out.onnx', /^link-out\.onnx: a symbolic link that leads outside the root folder/],
      ['link-out-dir/secret.onnx', /^link-out-dir\/secret\.onnx: a symbolic link that leads outside the root folder/],
    ];
    for (const [requested, message] of refused) {
      await assert.rejects(page.open(requested), (error: Error) => {
        assert.equal(error.name, 'UserError', `${requested}: ${error.name}: ${error.message}`);
        assert.match(error.message, message);
        assert.doesNotMatch(error.message, /\n/);
        return true;
      });
    }
    await assert.rejects(page.listFolder('..'), { name: 'UserError', message: /^\.\.: "\.\." is not allowed/ });
    await assert.rejects(page.listFolder('link-out-dir'), { name: 'UserError', message: /^link-out-dir: a symbolic link that leads outside the root folder/ });
  });

  test('the file given on the command line is in the URL (?open=) and opens, though it lies outside the root', async () => {
    const given = new URL(running.url).searchParams.get('open');
    assert.equal(given, path.join(folders.outside, 'given.onnx'));
    assert.equal((await page.open(given!)).kind, 'onnx');
    await assert.rejects(page.open(path.join(folders.outside, 'secret.onnx')), { name: 'UserError' });
  });

  test('an engine that dies (SIGKILL) takes neither the server nor the page down; restartEngine brings it back', async () => {
    const pid = running.enginePid();
    assert.ok(pid !== undefined && pid !== process.pid);
    const crashed = new Promise<{ state: string; message?: string }>((resolve) => {
      const off = page.on('engineState', (state) => state.state === 'crashed' && (off(), resolve(state)));
    });
    process.kill(pid, 'SIGKILL');
    assert.match((await crashed).message ?? '', /SIGKILL/);
    await assert.rejects(page.open('model.onnx'), { name: 'EngineCrashedError' });
    assert.equal((await get(running.port, '/', { Cookie: cookie })).status, 200);
    await page.restartEngine();
    assert.equal((await page.open('model.onnx')).path, 'model.onnx');
    assert.notEqual(running.enginePid(), pid);
  });

  test('the engine runs in a process of its own: appInfo comes back with its versions', async () => {
    const info = await page.appInfo();
    assert.equal(info.mode, 'browser');
    assert.equal(info.root, folders.root);
    assert.match(info.versions.onnxruntime, /^\d+\.\d+/);
  });
});

describe('strata serve: what a user gets wrong is one line', () => {
  const folders = makeFolders();
  after(() => rmSync(folders.base, { recursive: true, force: true }));
  const options = { root: folders.root, stateDir: folders.state, host: '127.0.0.1', port: 0, viewsDir: folders.views };
  const { port: _port, ...serveOptions } = options;

  test('a missing root, a file as root, views not built, a port in use, an address not of this machine', async () => {
    await assert.rejects(startBrowserMode({ ...options, root: path.join(folders.base, 'nope') }), { name: 'UserError', message: /^--root .*nope: no such folder$/ });
    await assert.rejects(startBrowserMode({ ...options, root: ONNX }), { name: 'UserError', message: /^--root .*matmul_add\.onnx: not a folder/ });
    await assert.rejects(startBrowserMode({ ...options, viewsDir: folders.state }), { name: 'UserError', message: /views are not built .*run npm run build:renderer$/ });
    const taken = createServer().listen(0, '127.0.0.1');
    await new Promise((resolve) => taken.once('listening', resolve));
    const port = (taken.address() as { port: number }).port;
    try {
      await assert.rejects(startBrowserMode({ ...options, port }), { name: 'UserError', message: new RegExp(`^port ${port} on 127\\.0\\.0\\.1 is in use .*--port 0 for any free port$`) });
    } finally {
      taken.close();
    }
    await assert.rejects(startBrowserMode({ ...options, host: '192.0.2.1' }), { name: 'UserError', message: /^--host 192\.0\.2\.1: not an address of this machine/ });
  });

  test('a port that is not one is refused before anything starts', async () => {
    for (const port of ['70000', '-1', '80a', '']) {
      await assert.rejects(serveCommand(undefined, { ...serveOptions, port }), { name: 'UserError', message: new RegExp(`^--port ${port}: expected a port number from 0 to 65535`) });
    }
  });

  test('the command line prints the one line and exits 1', () => {
    const result = spawnSync(process.execPath, [path.join(REPO, 'app/cli/strata.js'), 'serve', '--root', path.join(folders.base, 'nope')], { encoding: 'utf8' });
    assert.equal(result.status, 1, result.stderr);
    assert.match(result.stderr, /^strata: --root .*nope: no such folder\n$/);
  });
});
