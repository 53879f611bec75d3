// What the preload exposes to the views (window.strataDesktop) and what the main process
// accepts, with Electron's modules replaced by fakes: the contract's methods and events only,
// listeners that get the payload only, messages from other pages, frames or windows dropped,
// dropped files forwarded by path. Then the bundled preload itself, run as a sandboxed preload
// runs (require gives 'electron' only).
import assert from 'node:assert/strict';
import { fork } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import vm from 'node:vm';
import type { DesktopBridge } from '../../app/contract/api.ts';
import { createClient } from '../../app/contract/rpc.ts';
import { bundleElectron } from '../../app/electron/bundle.ts';
import { BRIDGE_KEY, DROP_CHANNEL, type DropEventLike, RPC_CHANNEL, exposeBridge, forwardDroppedFiles, onDroppedFile, windowChannel } from '../../app/electron/ipc.ts';
import { APP_ENTRY_URL } from '../../app/electron/security.ts';
import { bridgeHost } from '../../app/server/bridge.ts';
import { failingOpen, fakeWorkbench } from '../server/fake_workbench.ts';

type Frame = { url: string; parent: unknown };

/** A stand-in workbench: appInfo answers, open fails with a named error, events on demand, calls recorded. */
const desktopWorkbench = () => fakeWorkbench({ appInfo: async () => ({ mode: 'desktop', root: null }), open: failingOpen });

/**
 * Electron's IPC between one window and the main process, in memory: messages are structured
 * clones and arrive asynchronously, each from `frame` of `contents` unless the test says otherwise.
 */
function fakeElectron(frame: Frame = { url: APP_ENTRY_URL, parent: null }) {
  const ipcMain = new EventEmitter();
  const renderer = new EventEmitter();
  const sent: unknown[][] = [];
  const contents = {
    send: (channel: string, message: unknown) => queueMicrotask(() => renderer.emit(channel, { senderId: 0 }, structuredClone(message))),
    isDestroyed: () => false,
  };
  const ipcRenderer = {
    send(channel: string, ...args: unknown[]) {
      sent.push([channel, ...args]);
      queueMicrotask(() => ipcMain.emit(channel, { sender: contents, senderFrame: frame }, ...args.map((arg) => structuredClone(arg))));
    },
    on: (channel: string, listener: (...args: unknown[]) => void) => renderer.on(channel, listener),
    removeListener: (channel: string, listener: (...args: unknown[]) => void) => renderer.removeListener(channel, listener),
  };
  const exposed = new Map<string, unknown>();
  const contextBridge = { exposeInMainWorld: (key: string, api: unknown) => void exposed.set(key, api) };
  return { ipcMain, ipcRenderer, contents, contextBridge, exposed, sent, frame };
}

/** The preload and the main process joined by fake IPC, the main side serving a fake workbench. */
function desktop(frame?: Frame) {
  const electron = fakeElectron(frame);
  const fake = desktopWorkbench();
  const channel = windowChannel(electron.ipcMain as never, electron.contents as never);
  bridgeHost(channel, fake.workbench);
  exposeBridge(electron.contextBridge, electron.ipcRenderer as never);
  return { ...electron, ...fake, bridge: electron.exposed.get(BRIDGE_KEY) as DesktopBridge };
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 20));

describe("the preload's window.strataDesktop", () => {
  test('is one frozen object with invoke and on, exposed once', () => {
    const { exposed, bridge } = desktop();
    assert.deepEqual([...exposed.keys()], ['strataDesktop']);
    assert.deepEqual(Object.keys(bridge).sort(), ['invoke', 'on']);
    assert.ok(Object.isFrozen(bridge));
  });

  test("carries the contract's calls: results, and failures as Errors with the message", async () => {
    const { bridge, calls } = desktop();
    assert.deepEqual(await bridge.invoke('appInfo', []), { mode: 'desktop', root: null });
    await assert.rejects(bridge.invoke('open', ['bad.onnx']), (error: Error) => error instanceof Error && error.message === 'bad.onnx: not an ONNX model (no graph)');
    assert.deepEqual(calls, ['appInfo', 'open bad.onnx']);
  });

  test('refuses names outside the contract and parameters that are not an array, without sending anything', async () => {
    const { bridge, sent } = desktop();
    for (const method of ['constructor', '__proto__', 'on', 'rejectPending', 'emit', 'dispose', 'toString']) {
      await assert.rejects(bridge.invoke(method as never, []), /is not a method of the Strata contract/, method);
    }
    await assert.rejects(bridge.invoke('open', 'x.onnx' as never), /the parameters must be an array/);
    assert.deepEqual(sent, []);
    assert.throws(() => bridge.on('crash' as never, () => {}), /'crash' is not an event of the Strata contract/);
    assert.throws(() => bridge.on('engineState', 'alert(1)' as never), /the listener must be a function/);
  });

  test('gives event listeners the payload alone, until they unsubscribe', async () => {
    const { bridge, emit } = desktop();
    const seen: unknown[][] = [];
    const off = bridge.on('engineState', (...args: unknown[]) => seen.push(args));
    emit('engineState', { state: 'crashed', message: 'the engine process exited with code 134' });
    await settle();
    off();
    emit('engineState', { state: 'ready' });
    await settle();
    assert.deepEqual(seen, [[{ state: 'crashed', message: 'the engine process exited with code 134' }]]);
  });
});

describe('the main process', () => {
  for (const [what, frame] of [
    ['a page that is not the app', { url: 'https://evil.example/', parent: null }],
    ["a subframe inside the app's page", { url: APP_ENTRY_URL, parent: { url: APP_ENTRY_URL } }],
  ] as const) {
    test(`drops calls from ${what}`, async () => {
      const { bridge, calls } = desktop(frame);
      let answered = false;
      void bridge.invoke('appInfo', []).then(() => (answered = true));
      await settle();
      assert.deepEqual(calls, []);
      assert.equal(answered, false);
    });
  }

  test('drops calls that come from another window', async () => {
    const { ipcMain, calls } = desktop();
    ipcMain.emit(RPC_CHANNEL, { sender: { send() {} }, senderFrame: { url: APP_ENTRY_URL, parent: null } }, { type: 'request', id: 1, method: 'appInfo', params: [] });
    await settle();
    assert.deepEqual(calls, []);
  });
});

describe('files dropped on the window', () => {
  /** A window that dispatches drop events to its capture listeners. */
  function dropTarget() {
    const listeners: ((event: DropEventLike) => void)[] = [];
    return {
      addEventListener: (_type: 'drop', listener: (event: DropEventLike) => void, options: { capture: true }) => {
        assert.equal(options.capture, true);
        listeners.push(listener);
      },
      drop(files: unknown[]) {
        const event = { dataTransfer: { files }, defaultPrevented: false, preventDefault: () => void (event.defaultPrevented = true) };
        listeners.forEach((listener) => listener(event));
        return event;
      },
    };
  }

  test('go to the main process by path, and the views are told the drop is taken (defaultPrevented)', async () => {
    const electron = fakeElectron();
    const opened: string[] = [];
    onDroppedFile(electron.ipcMain as never, electron.contents as never, (file) => opened.push(file));
    const target = dropTarget();
    const paths = new Map<unknown, string>([[{ name: 'model.onnx' }, '/home/me/model.onnx']]);
    forwardDroppedFiles(target, (file) => paths.get(file) ?? '', electron.ipcRenderer as never);
    const [file] = paths.keys();
    assert.equal(target.drop([file]).defaultPrevented, true);
    // Text or an image dragged from a page has no path: left to the views.
    assert.equal(target.drop([{ name: 'dragged text' }]).defaultPrevented, false);
    assert.equal(target.drop([]).defaultPrevented, false);
    await settle();
    assert.deepEqual(electron.sent, [[DROP_CHANNEL, '/home/me/model.onnx']]);
    assert.deepEqual(opened, ['/home/me/model.onnx']);
  });

  test('from a page that is not the app are not opened', async () => {
    const electron = fakeElectron({ url: 'https://evil.example/', parent: null });
    const opened: string[] = [];
    onDroppedFile(electron.ipcMain as never, electron.contents as never, (file) => opened.push(file));
    electron.ipcRenderer.send(DROP_CHANNEL, '/etc/passwd');
    await settle();
    assert.deepEqual(opened, []);
  });
});

describe('the bundle (build/electron/)', () => {
  let dir: string;
  let bundle: Awaited<ReturnType<typeof bundleElectron>>;
  before(async () => {
    // Two levels below the repository, as build/electron/ is (and stays in app.asar): the bundle
    // names the app's files and node_modules relative to itself.
    dir = mkdtempSync(path.join(fileURLToPath(new URL('../../build/', import.meta.url)), 'electron-bundle-test-'));
    bundle = await bundleElectron(dir);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('the preload needs nothing but electron, and runs as a sandboxed preload exposing the bridge', () => {
    assert.deepEqual(bundle.imports.preload, ['electron']);
    // Native code (onnxruntime, the engine addon) stays out of the main process: the engine process loads it.
    assert.deepEqual(
      bundle.imports.main.filter((name) => /onnxruntime|\.node$|sharp|child_process/.test(name)),
      [],
    );
    const electron = fakeElectron();
    const dropListeners: unknown[] = [];
    const sandboxRequire = (name: string) => {
      if (name !== 'electron') throw new Error(`a sandboxed preload cannot require '${name}'`);
      return { contextBridge: electron.contextBridge, ipcRenderer: electron.ipcRenderer, webUtils: { getPathForFile: () => '' } };
    };
    const module = { exports: {} };
    vm.runInNewContext(readFileSync(bundle.preload, 'utf8'), { require: sandboxRequire, module, exports: module.exports, addEventListener: (...args: unknown[]) => dropListeners.push(args) });
    const bridge = electron.exposed.get(BRIDGE_KEY) as DesktopBridge;
    assert.deepEqual(Object.keys(bridge).sort(), ['invoke', 'on']);
    void bridge.invoke('examples', []);
    // (Objects made inside the vm have its prototypes: compare them as JSON.)
    assert.deepEqual(JSON.parse(JSON.stringify(electron.sent)), [[RPC_CHANNEL, { type: 'request', id: 1, method: 'examples', params: [] }]]);
    assert.equal(dropListeners.length, 1);
  });

  test("the bundle names no file by this machine's path, so that it runs wherever the package is installed", () => {
    const root = fileURLToPath(new URL('../..', import.meta.url));
    for (const file of [bundle.main, bundle.engine, bundle.preload]) {
      const text = readFileSync(file, 'utf8');
      // Folders with their separator: "/work" alone is also in "app/host/workbench.ts".
      for (const absolute of [root, `${path.dirname(root)}${path.sep}`, 'file://']) assert.ok(!text.includes(absolute), `${path.basename(file)} names ${absolute}`);
    }
  });

  test("the engine's entry starts the engine with no Node flag (Electron's utilityProcess passes none but debugging ones)", async () => {
    const child = fork(bundle.engine, [], { execArgv: [], serialization: 'advanced', stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
    try {
      const engine = createClient({
        send: (message) => void child.send(message),
        onMessage: (listener) => {
          child.on('message', listener as (message: unknown) => void);
          return () => child.off('message', listener as (message: unknown) => void);
        },
      });
      const ready = new Promise((resolve, reject) => {
        engine.on('engineState', resolve);
        child.once('exit', (code) => reject(new Error(`the engine process exited with code ${code}`)));
      });
      assert.deepEqual(await ready, { state: 'ready' });
      assert.match((await engine.appInfo()).versions.onnxruntime, /^\d+\.\d+/);
    } finally {
      child.kill();
    }
  });
});
