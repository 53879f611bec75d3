// The desktop's transport, both ends: the preload's bridge (exposeBridge, what the views get
// as window.strataDesktop) and the main process's channel to one window (windowChannel). The
// contract's messages (rpc.ts) travel on one IPC channel; the preload lets through only the
// contract's methods and events, the main process only messages from the app's own top frame.
// No runtime `electron` import: Electron's modules are passed in, so tests pass fakes.
import type { ContextBridge, IpcMain, IpcMainEvent, IpcRenderer, WebContents } from 'electron';
import { API_METHODS, type DesktopBridge, EVENT_NAMES, type StrataApi } from '../contract/api.ts';
import { type Channel, type WireMessage, createClient } from '../contract/rpc.ts';
import { isAppUrl } from './security.ts';

/** The IPC channel of the contract's messages. */
export const RPC_CHANNEL = 'strata:rpc';
/** The IPC channel of files dropped on the window (their paths). */
export const DROP_CHANNEL = 'strata:drop';
/** The key of window.strataDesktop. */
export const BRIDGE_KEY = 'strataDesktop';

const METHODS = new Set<string>(API_METHODS);
const EVENTS = new Set<string>(EVENT_NAMES);

// --- preload ------------------------------------------------------------------------------

/**
 * Exposes the DesktopBridge to the views: invoke refuses names outside API_METHODS, on names
 * outside EVENT_NAMES, and listeners get the payload only (never the IPC event, which holds
 * ipcRenderer). A failed call rejects with an Error with the failure's message (contextBridge
 * carries an Error's message only).
 */
export function exposeBridge(contextBridge: Pick<ContextBridge, 'exposeInMainWorld'>, ipcRenderer: Pick<IpcRenderer, 'send' | 'on' | 'removeListener'>): DesktopBridge {
  const client = createClient(rendererChannel(ipcRenderer));
  const bridge: DesktopBridge = Object.freeze({
    invoke(method: string, params: unknown[]) {
      if (!METHODS.has(method)) return Promise.reject(new Error(`window.strataDesktop.invoke: '${String(method)}' is not a method of the Strata contract`));
      if (!Array.isArray(params)) return Promise.reject(new Error(`window.strataDesktop.invoke('${method}'): the parameters must be an array`));
      const call = (client as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>)[method as keyof StrataApi]!;
      return call(...params);
    },
    on(event: string, listener: (payload: unknown) => void) {
      if (!EVENTS.has(event)) throw new Error(`window.strataDesktop.on: '${String(event)}' is not an event of the Strata contract`);
      if (typeof listener !== 'function') throw new Error(`window.strataDesktop.on('${event}'): the listener must be a function`);
      return client.on(event as (typeof EVENT_NAMES)[number], (payload) => listener(payload));
    },
  });
  contextBridge.exposeInMainWorld(BRIDGE_KEY, bridge);
  return bridge;
}

function rendererChannel(ipcRenderer: Pick<IpcRenderer, 'send' | 'on' | 'removeListener'>): Channel {
  return {
    send: (message) => ipcRenderer.send(RPC_CHANNEL, message),
    onMessage(listener) {
      const receive = (_event: unknown, message: WireMessage) => listener(message);
      ipcRenderer.on(RPC_CHANNEL, receive);
      return () => ipcRenderer.removeListener(RPC_CHANNEL, receive);
    },
  };
}

/** What the preload needs of a drop event (the DOM's DragEvent). */
export interface DropEventLike {
  readonly dataTransfer: { readonly files: ArrayLike<unknown> } | null;
  preventDefault(): void;
}

/**
 * Sends the path of a file dropped on the window to the main process, which asks the views to
 * open it by path (openRequested), so a model file in code opens with its imports and the file
 * joins the recent files. The drop is marked defaultPrevented: the views leave such a drop
 * alone (browser mode has no paths and sends the bytes instead).
 */
export function forwardDroppedFiles(
  target: { addEventListener(type: 'drop', listener: (event: DropEventLike) => void, options: { capture: true }): void },
  pathForFile: (file: unknown) => string,
  ipcRenderer: Pick<IpcRenderer, 'send'>,
): void {
  target.addEventListener(
    'drop',
    (event) => {
      const file = event.dataTransfer?.files[0];
      const filePath = file === undefined ? '' : pathForFile(file);
      if (!filePath) return;
      event.preventDefault();
      ipcRenderer.send(DROP_CHANNEL, filePath);
    },
    { capture: true },
  );
}

// --- main process -------------------------------------------------------------------------

/** The frame an IPC message came from, as Electron's WebFrameMain gives it. */
export interface SenderFrame {
  readonly url: string;
  readonly parent: unknown;
}

/** Whether a message comes from the app's own page in the window's top frame (Electron's security checklist #17). */
export function isTrustedSender(frame: SenderFrame | null | undefined): boolean {
  return !!frame && frame.parent === null && isAppUrl(frame.url);
}

type MainEvent = Pick<IpcMainEvent, 'sender'> & { readonly senderFrame: SenderFrame | null };

/**
 * The contract's channel to one window's views: messages from another window, another frame or
 * a page that is not the app's are dropped (and said so on stderr). `close` stops listening.
 */
export function windowChannel(ipcMain: Pick<IpcMain, 'on' | 'removeListener'>, contents: Pick<WebContents, 'send' | 'isDestroyed'>): Channel & { close(): void } {
  const listeners = new Set<(message: WireMessage) => void>();
  const receive = (event: MainEvent, message: unknown) => {
    if (event.sender !== contents) return;
    if (!isTrustedSender(event.senderFrame)) return refused(event.senderFrame);
    if (message === null || typeof message !== 'object' || typeof (message as WireMessage).type !== 'string') return;
    listeners.forEach((listener) => listener(message as WireMessage));
  };
  ipcMain.on(RPC_CHANNEL, receive as unknown as Parameters<IpcMain['on']>[1]);
  return {
    send: (message) => void (contents.isDestroyed() || contents.send(RPC_CHANNEL, message)),
    onMessage(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    close: () => void ipcMain.removeListener(RPC_CHANNEL, receive as unknown as Parameters<IpcMain['on']>[1]),
  };
}

/** Calls `open` with the path of each file dropped on the window's views. */
export function onDroppedFile(ipcMain: Pick<IpcMain, 'on'>, contents: Pick<WebContents, 'send'>, open: (filePath: string) => void): void {
  const receive = (event: MainEvent, filePath: unknown) => {
    if (event.sender !== contents) return;
    if (!isTrustedSender(event.senderFrame)) return refused(event.senderFrame);
    if (typeof filePath === 'string' && filePath !== '') open(filePath);
  };
  ipcMain.on(DROP_CHANNEL, receive as unknown as Parameters<IpcMain['on']>[1]);
}

function refused(frame: SenderFrame | null): void {
  process.stderr.write(`strata: refused an IPC message from ${frame ? `${frame.parent === null ? '' : 'a subframe at '}${frame.url}` : 'a frame that is gone'}: not the app's page\n`);
}
