// The graph on the page: only what is in or near the window is in the DOM. A 5,000-node graph
// is hundreds of thousands of pixels tall; keeping all of it in the document made every pan,
// zoom and click repaint tens of thousands of elements. Items are added and removed as the view
// moves, at most a budget at a time so that zooming far out never freezes the window.
import { FONTS } from './geometry.ts';
import type { GraphLayout, Point } from './types.ts';

export interface Bounds {
  left: number;
  top: number;
  right: number;
  bottom: number;
}

/** Each item's SVG (markup.ts), in the layout's order: one per node, one per edge, one per edge label ('' for none). */
export interface ItemMarkup {
  edges: string[];
  nodes: string[];
  labels: string[];
}

type Layer = 'edges' | 'nodes' | 'labels';

/** What the drawing needs of a DOM element (kept structural so the module stays free of DOM types). */
export interface DrawnElement {
  remove(): void;
  readonly classList: { toggle(name: string, force: boolean): unknown };
  readonly previousElementSibling: DrawnElement | null;
}

/** A layer's group element: items are written into it as markup. */
export interface LayerElement {
  insertAdjacentHTML(position: 'beforeend', markup: string): void;
  readonly lastElementChild: DrawnElement | null;
  replaceChildren(): void;
}

interface Item {
  layer: Layer;
  /** The node's id; for edges and labels, the ids of the nodes they join. */
  ids: string[];
  bounds: Bounds;
  markup: string;
  element: DrawnElement | null;
}

export const intersects = (a: Bounds, b: Bounds) => a.left <= b.right && b.left <= a.right && a.top <= b.bottom && b.top <= a.bottom;

function pointsBounds(points: Point[]): Bounds {
  const xs = points.map((p) => p.x);
  const ys = points.map((p) => p.y);
  // The arrowhead reaches a few units beside the line.
  return { left: Math.min(...xs) - 6, right: Math.max(...xs) + 6, top: Math.min(...ys) - 6, bottom: Math.max(...ys) + 6 };
}

/** Every item with its bounds in graph units, in the order it is painted. */
export function drawingItems(layout: GraphLayout, markup: ItemMarkup): Omit<Item, 'element'>[] {
  const items: Omit<Item, 'element'>[] = [];
  layout.edges.forEach(({ edge, points }, index) => items.push({ layer: 'edges', ids: [edge.from, edge.to], bounds: pointsBounds(points), markup: markup.edges[index]! }));
  layout.nodes.forEach(({ node, x, y, geometry }, index) =>
    items.push({ layer: 'nodes', ids: [node.id], bounds: { left: x, top: y, right: x + geometry.width, bottom: y + geometry.height }, markup: markup.nodes[index]! }),
  );
  layout.edges.forEach(({ edge, label }, index) => {
    if (!label || !markup.labels[index]) return;
    const width = label.text.length * FONTS.edge.size * 0.62;
    items.push({ layer: 'labels', ids: [edge.from, edge.to], bounds: { left: label.x, top: label.y - FONTS.edge.size, right: label.x + width, bottom: label.y + 3 }, markup: markup.labels[index]! });
  });
  return items;
}

/** The part of the graph the window shows, in graph units, widened by `margin` of its size on each side. */
export function visibleBounds(view: { x: number; y: number; k: number }, width: number, height: number, margin = 0.5): Bounds {
  const left = -view.x / view.k;
  const top = -view.y / view.k;
  const w = width / view.k;
  const h = height / view.k;
  return { left: left - w * margin, top: top - h * margin, right: left + w * (1 + margin), bottom: top + h * (1 + margin) };
}

export class GraphDrawing {
  readonly #items: Item[];
  readonly #layers: Record<Layer, LayerElement>;
  readonly #nodes = new Map<string, Item>();
  #selected: string | null = null;
  #matches = new Set<string>();

  constructor(layers: Record<Layer, LayerElement>, layout: GraphLayout, markup: ItemMarkup) {
    this.#layers = layers;
    for (const layer of Object.values(layers)) layer.replaceChildren();
    this.#items = drawingItems(layout, markup).map((item) => ({ ...item, element: null }));
    for (const item of this.#items) if (item.layer === 'nodes') this.#nodes.set(item.ids[0]!, item);
  }

  /**
   * Puts into the page the items that meet `bounds` (at most `budget` new ones) and takes out
   * the others. Returns whether items are still missing (call again on the next frame).
   */
  update(bounds: Bounds, budget = 1500): boolean {
    const added: Record<Layer, Item[]> = { edges: [], nodes: [], labels: [] };
    let missing = false;
    for (const item of this.#items) {
      const wanted = intersects(item.bounds, bounds);
      if (!wanted && item.element) {
        item.element.remove();
        item.element = null;
      } else if (wanted && !item.element) {
        if (budget-- > 0) added[item.layer].push(item);
        else missing = true;
      }
    }
    for (const layer of ['edges', 'nodes', 'labels'] as const) this.#mount(layer, added[layer]);
    return missing;
  }

  /** The node's element, when it is in the page. */
  element(id: string): DrawnElement | null {
    return this.#nodes.get(id)?.element ?? null;
  }

  select(id: string | null): void {
    this.#selected = id;
    for (const item of this.#items) if (item.element) this.#mark(item);
  }

  match(ids: Iterable<string>): void {
    this.#matches = new Set(ids);
    for (const item of this.#nodes.values()) if (item.element) this.#mark(item);
  }

  #mount(layer: Layer, items: Item[]): void {
    if (items.length === 0) return;
    const parent = this.#layers[layer];
    parent.insertAdjacentHTML('beforeend', items.map((item) => item.markup).join(''));
    // The new elements are the last children, in the order written.
    let element = parent.lastElementChild;
    for (let index = items.length - 1; index >= 0 && element; index--) {
      items[index]!.element = element;
      this.#mark(items[index]!);
      element = element.previousElementSibling;
    }
  }

  #mark(item: Item): void {
    const selected = this.#selected !== null && item.ids.includes(this.#selected);
    item.element!.classList.toggle('selected', selected && item.layer !== 'labels');
    if (item.layer === 'nodes') item.element!.classList.toggle('match', this.#matches.has(item.ids[0]!));
  }
}
