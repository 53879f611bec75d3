// Starts the views with the transport the window has: the Electron preload's bridge on the
// desktop, the WebSocket to `strata serve` in a browser. `?open=PATH` in the URL (which
// `strata serve FILE` puts there) opens that file once the window is up.
import { mount } from 'svelte';
import type { Host } from '../../app/contract/api.ts';
import App from './App.svelte';
import './app.css';
import { createIpcHost } from './host/ipc.ts';
import { apiUrl, createWebSocketHost, type ConnectionStatus } from './host/websocket.ts';

const statusListeners = new Set<(status: ConnectionStatus) => void>();
let host: Host;
let connection: ((listener: (status: ConnectionStatus) => void) => void) | undefined;

if (window.strataDesktop) {
  host = createIpcHost(window.strataDesktop);
} else {
  host = createWebSocketHost(apiUrl(location), { onStatus: (status) => statusListeners.forEach((listener) => listener(status)) });
  connection = (listener) => statusListeners.add(listener);
}

mount(App, {
  target: document.getElementById('app')!,
  props: { host, connection, openOnStart: new URLSearchParams(location.search).get('open') },
});
