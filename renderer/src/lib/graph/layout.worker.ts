// The layout worker: measures the node texts (OffscreenCanvas), lays the graph out with ELK
// and writes its SVG markup, all off the UI thread, so a graph of thousands of nodes never
// freezes the window. One request at a time, answered with the same id.
import ElkBundle from 'elkjs/lib/elk.bundled.js';
import type { ELK } from 'elkjs/lib/elk-api.js';
import { canvasMeasure } from './geometry.ts';
import { layoutGraph } from './layout.ts';
import { graphMarkup } from './markup.ts';
import type { LayoutRequest, LayoutResponse } from './layout_client.ts';

// The package's types describe CommonJS; its default export is the ELK class.
const elk = new (ElkBundle as unknown as new () => ELK)();
const context = new OffscreenCanvas(1, 1).getContext('2d');
if (!context) throw new Error('the layout worker has no 2D canvas to measure text with');
const measure = canvasMeasure(context);

// Importing elk.bundled.js in a worker installs ELK's own message handler on `self`; this
// one replaces it (ELK runs here in-thread, through the instance above).
self.onmessage = async (event: MessageEvent<LayoutRequest>) => {
  const { id, graph } = event.data;
  let response: LayoutResponse;
  try {
    const layout = await layoutGraph(graph, measure, elk);
    response = { id, layout, markup: graphMarkup(layout, { interactive: true }) };
  } catch (error) {
    response = { id, error: error instanceof Error ? error.message : String(error) };
  }
  self.postMessage(response);
};
