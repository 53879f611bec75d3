// The desktop's transport: the contract through the preload's bridge (window.strataDesktop,
// exposed by Electron's contextBridge). The views never touch Electron itself.
import { API_METHODS, type DesktopBridge, type Host, type StrataApi, type StrataEvents } from '../../../app/contract/api.ts';

declare global {
  interface Window {
    /** Set by the Electron preload; absent in browser mode. */
    strataDesktop?: DesktopBridge;
  }
}

export function createIpcHost(bridge: DesktopBridge): Host {
  const api = Object.fromEntries(API_METHODS.map((method) => [method, (...params: unknown[]) => bridge.invoke(method, params)])) as unknown as StrataApi;
  return {
    ...api,
    on<E extends keyof StrataEvents>(event: E, listener: (payload: StrataEvents[E]) => void) {
      return bridge.on(event, listener as (payload: unknown) => void);
    },
  };
}
