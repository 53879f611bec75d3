// The layout worker: measures the node texts (OffscreenCanvas), lays the graph out with ELK
// and writes its SVG markup, all off the UI thread, so a graph of thousands of nodes never
// freezes the window. One request at a time, answered with the same id.
import ElkBundle from 'elkjs/lib/elk.bundled.js';
import type { ELK } from 'elkjs/lib/elk-api.js';
import { canvasMeasure } from './geometry.ts';
import { layoutGraph } from './layout.ts';
import { graphLayers } from './markup.ts';
import type { LayoutRequest, LayoutResponse } from './layout_client.ts';
import type { ViewGraph } from './types.ts';
import { LayoutScheduler } from './warm_up.ts';

// The package's types describe CommonJS; its default export is the ELK class.
const elk = new (ElkBundle as unknown as new () => ELK)();
const context = new OffscreenCanvas(1, 1).getContext('2d');
if (!context) throw new Error('the layout worker has no 2D canvas to measure text with');
const measure = canvasMeasure(context);

const scheduler = new LayoutScheduler();

/** A stand-in graph for the warm-up: a chain of convolutions with skip edges. */
function standIn(size: number): ViewGraph {
  return {
    nodes: Array.from({ length: size }, (_, i) => ({ id: `w${i}`, title: 'Conv', name: '', showName: false, category: 'layer', rows: [{ label: 'W', value: '⟨8×8×3×3⟩' }] })),
    edges: Array.from({ length: size - 1 }, (_, i) => ({ id: `e${i}`, from: `w${i}`, to: `w${i + 1}`, label: '1×8×16×16' })).concat(
      Array.from({ length: Math.floor(size / 4) }, (_, i) => ({ id: `s${i}`, from: `w${i * 4}`, to: `w${i * 4 + 3}`, label: '' })),
    ),
  };
}

/**
 * ELK's code runs several times slower until the JavaScript engine has optimised it (a
 * 1,000-node graph: about 8 s the first time, 1 s the fourth, in Chromium on a busy 2-core
 * machine). The worker lays out stand-in graphs as soon as it starts, while the window shows
 * the start page. A real request goes first and waits for at most the round in progress, so
 * the first rounds, run while ELK is coldest, are small (a cold 150-node round took 1.9 s at
 * load 11); the later ones are as large as before requests went first.
 */
const WARM_UP_SIZES = [40, 40, 80, 150, 150, 150];

function warmUp(): Promise<void> {
  return scheduler.warmUp(WARM_UP_SIZES.length, (round) => layoutGraph(standIn(WARM_UP_SIZES[round]!), measure, elk));
}

// Importing elk.bundled.js in a worker installs ELK's own message handler on `self`; this
// one replaces it (ELK runs here in-thread, through the instance above).
self.onmessage = async (event: MessageEvent<LayoutRequest>) => {
  const { id, graph } = event.data;
  let response: LayoutResponse;
  try {
    const started = performance.now();
    const layout = await scheduler.request(() => layoutGraph(graph, measure, elk));
    const laidOut = performance.now();
    const markup = graphLayers(layout, { interactive: true });
    response = { id, layout, markup, timings: { layoutMs: laidOut - started, markupMs: performance.now() - laidOut } };
  } catch (error) {
    response = { id, error: error instanceof Error ? error.message : String(error) };
  }
  self.postMessage(response);
};

void warmUp();
