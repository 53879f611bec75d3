// SVG for a laid-out graph, as one string: the graph view puts it into the page (one
// innerHTML for thousands of nodes is far faster than creating them one by one) and the SVG
// and PNG exports wrap it into a file. Styling is in presentation attributes, which the
// page's CSP allows (style attributes it does not) and which a standalone file keeps; the
// page's CSS adds hover, selection and search highlights on top by class.
import { CATEGORY_COLORS } from './categories.ts';
import { FONTS, MONO, NODE, SANS } from './geometry.ts';
import type { GraphLayout, PlacedEdge, PlacedNode, Point } from './types.ts';

export const COLORS = {
  background: '#ffffff',
  box: '#ffffff',
  border: '#8a96a3',
  edge: '#7b8794',
  edgeLabel: '#3e4c59',
  rowLabel: '#616e7c',
  rowValue: '#1f2933',
  nameOnDark: '#dfe6ee',
  nameOnLight: '#52606d',
} as const;

export const ARROW_ID = 'strata-arrow';

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Text from a model file, safe inside an SVG element or a quoted attribute. */
export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

const round = (n: number) => Math.round(n * 10) / 10;

/** A polyline with its bends rounded off (radius r, less where segments are short). */
export function roundedPath(points: Point[], r = 6): string {
  if (points.length === 0) return '';
  const [first, ...rest] = points;
  let d = `M${round(first!.x)},${round(first!.y)}`;
  for (let i = 0; i < rest.length; i++) {
    const p = rest[i]!;
    const prev = points[i]!;
    const next = rest[i + 1];
    if (!next) {
      d += `L${round(p.x)},${round(p.y)}`;
      break;
    }
    const inLength = Math.hypot(p.x - prev.x, p.y - prev.y);
    const outLength = Math.hypot(next.x - p.x, next.y - p.y);
    const radius = Math.min(r, inLength / 2, outLength / 2);
    if (radius < 0.5) {
      d += `L${round(p.x)},${round(p.y)}`;
      continue;
    }
    const a = { x: p.x - ((p.x - prev.x) / inLength) * radius, y: p.y - ((p.y - prev.y) / inLength) * radius };
    const b = { x: p.x + ((next.x - p.x) / outLength) * radius, y: p.y + ((next.y - p.y) / outLength) * radius };
    d += `L${round(a.x)},${round(a.y)}Q${round(p.x)},${round(p.y)} ${round(b.x)},${round(b.y)}`;
  }
  return d;
}

/** The header's outline: rounded top corners, and rounded bottom ones when the box has no rows. */
function headerPath(width: number, height: number, roundBottom: boolean): string {
  const r = NODE.radius;
  const bottom = roundBottom ? `V${height - r}Q${width},${height} ${width - r},${height}H${r}Q0,${height} 0,${height - r}` : `V${height}H0`;
  return `M0,${r}Q0,0 ${r},0H${width - r}Q${width},0 ${width},${r}${bottom}Z`;
}

function textAttributes(font: keyof typeof FONTS): string {
  const { size, weight, family } = FONTS[font];
  return `font-size="${size}"${weight !== 400 ? ` font-weight="${weight}"` : ''}${family === MONO ? ` font-family="${escapeXml(MONO)}"` : ''}`;
}

function nodeMarkup({ node, x, y, geometry }: PlacedNode, interactive: boolean): string {
  const colors = CATEGORY_COLORS[node.category];
  const { width, height, nameX, valueX } = geometry;
  const label = node.name ? `${node.name}, ${node.title}` : node.title;
  const attributes = interactive ? ` class="node" data-id="${escapeXml(node.id)}" role="button" tabindex="0" aria-label="${escapeXml(label)}"` : '';
  const hasRows = node.rows.length > 0;
  const baseline = 17;
  let svg = `<g${attributes} transform="translate(${round(x)},${round(y)})">`;
  svg += `<rect class="box" width="${width}" height="${height}" rx="${NODE.radius}" fill="${COLORS.box}"/>`;
  svg += `<path d="${headerPath(width, NODE.headerHeight, !hasRows)}" fill="${colors.fill}"/>`;
  svg += `<text x="${NODE.paddingX}" y="${baseline}" ${textAttributes('title')} fill="${colors.text}">${escapeXml(node.title)}</text>`;
  if (node.showName && node.name) {
    const nameColor = colors.text === '#ffffff' ? COLORS.nameOnDark : COLORS.nameOnLight;
    svg += `<text x="${round(nameX)}" y="${baseline}" ${textAttributes('name')} fill="${nameColor}">${escapeXml(node.name)}</text>`;
  }
  node.rows.forEach((row, index) => {
    const rowY = NODE.headerHeight + NODE.rowHeight * (index + 1) - 3;
    if (row.label) svg += `<text x="${NODE.paddingX}" y="${rowY}" ${textAttributes('label')} fill="${COLORS.rowLabel}">${escapeXml(row.label)}</text>`;
    svg += `<text x="${round(valueX)}" y="${rowY}" ${textAttributes('value')} fill="${COLORS.rowValue}">${escapeXml(row.value)}</text>`;
  });
  // The border again on top, so the header's fill does not cover it.
  svg += `<rect class="outline" width="${width}" height="${height}" rx="${NODE.radius}" fill="none" stroke="${COLORS.border}"/>`;
  return `${svg}</g>`;
}

function edgeMarkup({ edge, points }: PlacedEdge, interactive: boolean): string {
  const attributes = interactive ? ` class="edge" data-from="${escapeXml(edge.from)}" data-to="${escapeXml(edge.to)}"` : '';
  return `<path${attributes} d="${roundedPath(points)}" fill="none" stroke="${COLORS.edge}" marker-end="url(#${ARROW_ID})"/>`;
}

function labelMarkup({ label }: PlacedEdge): string {
  if (!label) return '';
  return `<text x="${round(label.x)}" y="${round(label.y)}" ${textAttributes('edge')} fill="${COLORS.edgeLabel}" stroke="${COLORS.background}" stroke-width="3" stroke-linejoin="round" paint-order="stroke">${escapeXml(label.text)}</text>`;
}

export const ARROW_MARKER = `<marker id="${ARROW_ID}" viewBox="0 0 10 10" refX="10" refY="5" markerUnits="userSpaceOnUse" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0L10,5L0,10Z" fill="${COLORS.edge}"/></marker>`;

/** The graph's three layers, bottom to top: edges, nodes, edge labels; one string per item. */
export interface GraphLayers {
  edges: string[];
  nodes: string[];
  labels: string[];
}

/** Every item's SVG in the layout's order (a label per edge, '' for none); `interactive` adds the classes and ARIA the view needs. */
export function graphLayers(layout: GraphLayout, options: { interactive: boolean }): GraphLayers {
  return {
    edges: layout.edges.map((edge) => edgeMarkup(edge, options.interactive)),
    nodes: layout.nodes.map((node) => nodeMarkup(node, options.interactive)),
    labels: layout.edges.map(labelMarkup),
  };
}

/** The whole graph as one group (edges under nodes, edge labels on top of both). */
export function graphMarkup(layout: GraphLayout, options: { interactive: boolean }): string {
  const { edges, nodes, labels } = graphLayers(layout, options);
  return `<g font-family="${escapeXml(SANS)}"><g>${edges.join('')}</g><g>${nodes.join('')}</g><g>${labels.join('')}</g></g>`;
}

/** A standalone SVG file of the graph (what "Export SVG" saves). */
export function standaloneSvg(layout: GraphLayout, title: string): string {
  const width = Math.ceil(layout.width);
  const height = Math.ceil(layout.height);
  return (
    `<?xml version="1.0" encoding="UTF-8"?>\n` +
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">` +
    `<title>${escapeXml(title)}</title><defs>${ARROW_MARKER}</defs>` +
    `<rect width="${width}" height="${height}" fill="${COLORS.background}"/>` +
    graphMarkup(layout, { interactive: false }) +
    `</svg>\n`
  );
}
