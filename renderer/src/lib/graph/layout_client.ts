// The UI thread's side of the layout worker: one worker for the window, a promise per layout.
import type { ItemMarkup } from './drawing.ts';
import type { GraphLayout, ViewGraph } from './types.ts';

export interface LayoutRequest {
  id: number;
  graph: ViewGraph;
}

/** Milliseconds the worker spent: measuring and laying out (ELK), then writing the markup. */
export interface LayoutTimings {
  layoutMs: number;
  markupMs: number;
}

export type LayoutResponse = { id: number; layout: GraphLayout; markup: ItemMarkup; timings: LayoutTimings } | { id: number; error: string };

export interface LaidOut {
  layout: GraphLayout;
  markup: ItemMarkup;
  timings: LayoutTimings;
}

let worker: Worker | null = null;
let nextId = 1;
const pending = new Map<number, { resolve: (result: LaidOut) => void; reject: (error: Error) => void }>();

function layoutWorker(): Worker {
  if (worker) return worker;
  worker = new Worker(new URL('./layout.worker.ts', import.meta.url), { type: 'module', name: 'graph layout' });
  worker.onmessage = (event: MessageEvent<LayoutResponse>) => {
    const call = pending.get(event.data.id);
    if (!call) return;
    pending.delete(event.data.id);
    if ('error' in event.data) call.reject(new Error(`the graph could not be laid out: ${event.data.error}`));
    else call.resolve({ layout: event.data.layout, markup: event.data.markup, timings: event.data.timings });
  };
  worker.onerror = (event) => {
    // A worker that failed (a stack overflow in ELK, say) is replaced on the next request.
    for (const call of pending.values()) call.reject(new Error(`the graph layout stopped: ${event.message || 'the layout worker failed'}`));
    pending.clear();
    worker?.terminate();
    worker = null;
  };
  return worker;
}

/** Starts the worker ahead of the first graph, so loading ELK is not part of the first layout. */
export function prepareLayout(): void {
  layoutWorker();
}

export function layOut(graph: ViewGraph): Promise<LaidOut> {
  const id = nextId++;
  return new Promise((resolve, reject) => {
    pending.set(id, { resolve, reject });
    layoutWorker().postMessage({ id, graph } satisfies LayoutRequest);
  });
}
