// A Host (the workbench) served over one Channel to one view: its calls answered, its events
// forwarded. The server bridges each WebSocket this way, Electron's main process its window.
import { EVENT_NAMES, type Host, type StrataEvents } from '../contract/api.ts';
import { type Channel, serve } from '../contract/rpc.ts';

/** Serves `host` over `channel`; returns a function that stops forwarding events (the view went away). */
export function bridgeHost(channel: Channel, host: Host): () => void {
  const emit = serve(channel, host);
  const forward = <E extends keyof StrataEvents>(event: E) => host.on(event, (payload) => emit(event, payload));
  const unsubscribe = EVENT_NAMES.map(forward);
  return () => unsubscribe.forEach((off) => off());
}
