// The window's preload (bundled by bundle.ts into build/electron/preload.cjs; sandboxed, so it
// may require 'electron' and nothing else): exposes the contract to the views as
// window.strataDesktop and forwards files dropped on the window by path.
import { contextBridge, ipcRenderer, webUtils } from 'electron';
import { exposeBridge, forwardDroppedFiles } from './ipc.ts';

exposeBridge(contextBridge, ipcRenderer);
forwardDroppedFiles(globalThis as unknown as Parameters<typeof forwardDroppedFiles>[0], (file) => webUtils.getPathForFile(file as File), ipcRenderer);
