// The desktop app's main process: one window showing the built views from strata://app/, a
// workbench (app/host/) whose engine runs in Electron's utilityProcess, the contract bridged to
// the window over IPC (ipc.ts), and the application menu. Native work never runs here: a crash
// in the engine shows in the window, with a Restart. Bundled by bundle.ts into build/electron/.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { BrowserWindow, Menu, type Session, app, dialog, ipcMain, protocol, session, utilityProcess } from 'electron';
import type { Host } from '../contract/api.ts';
import { utilityProcessEngine } from '../host/engine_channel.ts';
import { type SaveDialogRequest, type Workbench, createWorkbench } from '../host/workbench.ts';
import { bridgeHost } from '../server/bridge.ts';
import { BUILT_VIEWS_DIR } from '../server/static_files.ts';
import { onDroppedFile, windowChannel } from './ipc.ts';
import { appFileResponse, fileFromArgv } from './launch.ts';
import { type MenuActions, aboutText, menuTemplate } from './menu.ts';
import { APP_ENTRY_URL, APP_SCHEME, contentSecurityPolicyFor, isAppUrl, windowOptions } from './security.ts';

/** The preload and the engine process's entry, written beside this file by bundle.ts. */
const PRELOAD = fileURLToPath(new URL('./preload.cjs', import.meta.url));
const ENGINE_ENTRY = fileURLToPath(new URL('./engine.mjs', import.meta.url));

const EXPORT_FILTERS: Record<SaveDialogRequest['format'], Electron.FileFilter> = {
  onnx: { name: 'ONNX model', extensions: ['onnx'] },
  'keras-json': { name: 'Keras JSON', extensions: ['json'] },
  pytorch: { name: 'PyTorch package (zip)', extensions: ['zip'] },
  'keras-script': { name: 'Keras script (zip)', extensions: ['zip'] },
  csv: { name: 'CSV', extensions: ['csv'] },
};

// Before `ready`: the app's name and state folder (run as `electron build/electron/main.js`,
// Electron would otherwise call it "Electron"), and strata:// as a standard, secure origin.
app.setName('Strata');
app.setPath('userData', path.join(app.getPath('appData'), 'Strata'));
protocol.registerSchemesAsPrivileged([{ scheme: APP_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true } }]);
app.on('web-contents-created', (_event, contents) => hardenContents(contents));

if (!app.requestSingleInstanceLock()) {
  app.quit(); // a second launch hands its file to the first (second-instance below)
} else {
  await start();
}

async function start(): Promise<void> {
  const opener = fileOpener();
  app.on('open-file', (event, filePath) => {
    event.preventDefault(); // macOS: a file dropped on the Dock icon or opened with the app
    opener.request(filePath);
  });
  app.on('second-instance', (_event, argv, workingDirectory) => {
    const file = fileFromArgv(argv, app.isPackaged, workingDirectory);
    if (file) opener.request(file);
    opener.focus();
  });
  const initial = fileFromArgv(process.argv, app.isPackaged, process.cwd());
  if (initial) opener.request(initial);

  await app.whenReady();
  protocol.handle(APP_SCHEME, (request) => appFileResponse(BUILT_VIEWS_DIR, request.url));
  secureSession(session.defaultSession);

  let window: BrowserWindow | null = null;
  const workbench = createWorkbench({
    mode: 'desktop',
    stateDir: app.getPath('userData'),
    spawn: () => utilityProcessEngine(utilityProcess, ENGINE_ENTRY),
    saveDialog: (request) => askWhereToSave(window, request),
  });
  const refreshMenu = applicationMenu(workbench, () => window);
  // The window's calls, with the menu's Open Recent brought up to date after each open.
  const served: Host = {
    ...workbench,
    async open(file) {
      const document = await workbench.open(file);
      void refreshMenu();
      return document;
    },
  };
  window = openWindow(workbench, served);
  opener.attach(window, (file) => workbench.emit('openRequested', { path: file }));
  void refreshMenu();
  app.on('window-all-closed', () => app.quit());
  app.on('will-quit', () => workbench.dispose());
}

/** The window, bridged to the workbench until it closes. */
function openWindow(workbench: Workbench, served: Host): BrowserWindow {
  const window = new BrowserWindow(windowOptions(PRELOAD));
  window.once('ready-to-show', () => window.show());
  const channel = windowChannel(ipcMain, window.webContents);
  const stopBridge = bridgeHost(channel, served);
  onDroppedFile(ipcMain, window.webContents, (file) => workbench.emit('openRequested', { path: file }));
  // The views refuse to unload while a run trains or a model has unsaved changes (beforeunload);
  // Electron then asks nobody, so ask here.
  window.webContents.on('will-prevent-unload', (event) => {
    const choice = dialog.showMessageBoxSync(window, {
      type: 'question',
      buttons: ['Cancel', 'Close'],
      defaultId: 0,
      cancelId: 0,
      message: 'Close Strata?',
      detail: 'A run is training or a model has unsaved changes. Closing stops the run (it can be resumed from its last checkpoint) and loses the unsaved changes; Cancel, then Save (Ctrl+S), keeps them.',
    });
    if (choice === 1) event.preventDefault();
  });
  window.on('closed', () => {
    stopBridge();
    channel.close();
  });
  void window.loadURL(APP_ENTRY_URL);
  return window;
}

/**
 * Files to open (command line, second launch, macOS open-file) are held until the window's
 * views have loaded and listen, then asked for one by one.
 */
function fileOpener() {
  const pending: string[] = [];
  let target: { window: BrowserWindow; open: (file: string) => void } | null = null;
  let loaded = false;
  const flush = () => {
    if (target && loaded) for (const file of pending.splice(0)) target.open(file);
  };
  return {
    request(file: string) {
      pending.push(file);
      flush();
    },
    attach(window: BrowserWindow, open: (file: string) => void) {
      target = { window, open };
      window.webContents.on('did-finish-load', () => {
        loaded = true;
        flush();
      });
    },
    focus() {
      if (!target) return;
      if (target.window.isMinimized()) target.window.restore();
      target.window.focus();
    },
  };
}

/** Sets the application menu; the returned function rebuilds it (Open Recent changes as files open). */
function applicationMenu(workbench: Workbench, window: () => BrowserWindow | null): () => Promise<void> {
  const actions: MenuActions = {
    command: (command) => workbench.emit('menuCommand', { command }),
    openRecent: (file: string) => workbench.emit('openRequested', { path: file }),
    about: () => void showAbout(workbench, window()),
  };
  return async () => {
    const recent = await workbench.recentFiles().catch(() => []);
    Menu.setApplicationMenu(Menu.buildFromTemplate(menuTemplate(actions, recent, process.platform)));
  };
}

async function showAbout(workbench: Workbench, window: BrowserWindow | null): Promise<void> {
  const options = await workbench.appInfo().then(
    (info) => ({ title: 'About Strata', type: 'info' as const, ...aboutText(info.versions) }),
    (error: Error) => ({ title: 'About Strata', type: 'warning' as const, message: 'Strata', detail: `The engine process did not answer: ${error.message}` }),
  );
  if (window) await dialog.showMessageBox(window, options);
  else await dialog.showMessageBox(options);
}

async function askWhereToSave(window: BrowserWindow | null, { defaultName, format }: SaveDialogRequest): Promise<string | null> {
  const options = { title: 'Export', defaultPath: path.join(app.getPath('documents'), defaultName), filters: [EXPORT_FILTERS[format]] };
  const result = window ? await dialog.showSaveDialog(window, options) : await dialog.showSaveDialog(options);
  return result.canceled || !result.filePath ? null : result.filePath;
}

/** No permission is ever granted (camera, notifications, ...); the app's responses carry the CSP. */
function secureSession(appSession: Session): void {
  appSession.setPermissionRequestHandler((_contents, _permission, callback) => callback(false));
  appSession.setPermissionCheckHandler(() => false);
  appSession.webRequest.onHeadersReceived((details, callback) => {
    if (!isAppUrl(details.url)) return callback({});
    callback({ responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [contentSecurityPolicyFor(new URL(details.url).pathname)] } });
  });
}

/** Every web contents: no navigation away from the app, no new windows, no <webview>. */
function hardenContents(contents: Electron.WebContents): void {
  contents.on('will-navigate', (event) => {
    if (!isAppUrl(event.url)) event.preventDefault();
  });
  contents.on('will-redirect', (event) => {
    if (!isAppUrl(event.url)) event.preventDefault();
  });
  contents.setWindowOpenHandler(() => ({ action: 'deny' }));
  contents.on('will-attach-webview', (event) => event.preventDefault());
}
