// The desktop's application menu as a template (no runtime `electron` import; main.ts builds
// it with Menu.buildFromTemplate). Items that act on the open document go to the views as
// menuCommand events, the views carry them out; Open Recent asks the views to open a file.
import type { MenuItemConstructorOptions } from 'electron';
import type { FileEntry, MenuCommand, Versions } from '../contract/api.ts';

export interface MenuActions {
  /** Sends a menuCommand to the views. */
  command(command: MenuCommand): void;
  /** Asks the views to open this file (openRequested). */
  openRecent(filePath: string): void;
  /** Shows the About box. */
  about(): void;
}

/**
 * The menu for `platform`. Ctrl/Cmd+O and Ctrl/Cmd+F are the views' own shortcuts (they work
 * in browser mode too), so the menu shows them without registering them: one key press, one
 * action.
 */
export function menuTemplate(actions: MenuActions, recent: FileEntry[], platform: NodeJS.Platform): MenuItemConstructorOptions[] {
  const mac = platform === 'darwin';
  const about: MenuItemConstructorOptions = { label: 'About Strata', click: () => actions.about() };
  const appMenu: MenuItemConstructorOptions[] = mac
    ? [{ label: 'Strata', submenu: [about, { type: 'separator' }, { role: 'hide' }, { role: 'hideOthers' }, { role: 'unhide' }, { type: 'separator' }, { role: 'quit' }] }]
    : [];
  return [
    ...appMenu,
    {
      label: '&File',
      submenu: [
        { label: 'New…', accelerator: 'CmdOrCtrl+N', registerAccelerator: false, click: () => actions.command('new') },
        { label: 'Open…', accelerator: 'CmdOrCtrl+O', registerAccelerator: false, click: () => actions.command('open') },
        { label: 'Open Recent', submenu: recentItems(actions, recent) },
        { type: 'separator' },
        { label: 'Save', accelerator: 'CmdOrCtrl+S', registerAccelerator: false, click: () => actions.command('save') },
        { label: 'Save As…', accelerator: 'CmdOrCtrl+Shift+S', registerAccelerator: false, click: () => actions.command('save-as') },
        { type: 'separator' },
        { label: 'Export ONNX…', accelerator: 'CmdOrCtrl+E', click: () => actions.command('export-onnx') },
        { label: 'Export Keras JSON…', accelerator: 'CmdOrCtrl+Shift+E', click: () => actions.command('export-keras-json') },
        { type: 'separator' },
        { label: 'Close', accelerator: 'CmdOrCtrl+W', click: () => actions.command('close') },
        ...(mac ? [] : [{ type: 'separator' } as const, { role: 'quit' } as const]),
      ],
    },
    {
      label: '&Edit',
      submenu: [
        // The views' own undo (the model's history; in text fields and the code editor, the text's).
        { label: 'Undo', accelerator: 'CmdOrCtrl+Z', registerAccelerator: false, click: () => actions.command('undo') },
        { label: 'Redo', accelerator: 'Shift+CmdOrCtrl+Z', registerAccelerator: false, click: () => actions.command('redo') },
        { type: 'separator' },
        { role: 'cut' },
        { role: 'copy' },
        { role: 'paste' },
        { role: 'selectAll' },
        { type: 'separator' },
        { label: 'Find…', accelerator: 'CmdOrCtrl+F', registerAccelerator: false, click: () => actions.command('find') },
      ],
    },
    {
      label: '&View',
      submenu: [{ role: 'resetZoom' }, { role: 'zoomIn' }, { role: 'zoomOut' }, { type: 'separator' }, { role: 'togglefullscreen' }, { type: 'separator' }, { role: 'toggleDevTools' }],
    },
    { label: '&Help', role: 'help', submenu: mac ? [] : [about] },
  ];
}

function recentItems(actions: MenuActions, recent: FileEntry[]): MenuItemConstructorOptions[] {
  if (recent.length === 0) return [{ label: 'No recent files', enabled: false }];
  return recent.map((entry) => ({ label: entry.name, sublabel: entry.path, toolTip: entry.path, click: () => actions.openRecent(entry.path) }));
}

/** The About box's text: Strata's version, then everything it runs on. */
export function aboutText(versions: Versions): { message: string; detail: string } {
  const lines = [
    versions.electron ? `Electron ${versions.electron}` : null,
    versions.chrome ? `Chromium ${versions.chrome}` : null,
    `Node.js ${versions.node}`,
    `onnxruntime ${versions.onnxruntime}`,
    `Engine backends: ${versions.engineBackends.length > 0 ? versions.engineBackends.join(', ') : 'none (the native engine is not built)'}`,
  ];
  return { message: `Strata ${versions.strata}`, detail: lines.filter((line) => line !== null).join('\n') };
}
