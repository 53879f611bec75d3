// The size of every box and where its texts go, decided once from measured text widths: the
// layout reserves these sizes and the SVG markup draws at these offsets, so the two agree.
import type { NodeGeometry, ViewNode } from './types.ts';

export const SANS = 'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", "DejaVu Sans", Arial, sans-serif';
export const MONO = 'ui-monospace, "SF Mono", Menlo, Consolas, "DejaVu Sans Mono", monospace';

/** The fonts of a node's texts, as CSS font shorthands (canvas measureText takes the same). */
export const FONTS = {
  title: { family: SANS, size: 12, weight: 600 },
  name: { family: SANS, size: 12, weight: 400 },
  label: { family: SANS, size: 11, weight: 400 },
  value: { family: MONO, size: 11, weight: 400 },
  edge: { family: MONO, size: 10, weight: 400 },
} as const;

export type FontName = keyof typeof FONTS;

export const cssFont = (font: FontName) => `${FONTS[font].weight} ${FONTS[font].size}px ${FONTS[font].family}`;

/** Width of a text in a font, in CSS pixels. */
export type TextMeasure = (text: string, font: FontName) => number;

export const NODE = {
  headerHeight: 26,
  rowHeight: 17,
  paddingX: 10,
  paddingBottom: 6,
  /** Between the title and the name, and between a row's label and value. */
  gap: 8,
  minWidth: 110,
  radius: 5,
} as const;

export function nodeGeometry(node: ViewNode, measure: TextMeasure): NodeGeometry {
  const titleWidth = measure(node.title, 'title');
  const nameWidth = node.showName && node.name ? measure(node.name, 'name') : 0;
  const labelWidth = Math.max(0, ...node.rows.map((row) => measure(row.label, 'label')));
  const valueWidth = Math.max(0, ...node.rows.map((row) => measure(row.value, 'value')));
  const nameX = NODE.paddingX + titleWidth + NODE.gap;
  const valueX = NODE.paddingX + (labelWidth > 0 ? labelWidth + NODE.gap : 0);
  const header = nameX + nameWidth + NODE.paddingX - (nameWidth ? 0 : NODE.gap);
  const body = node.rows.length ? valueX + valueWidth + NODE.paddingX : 0;
  const width = Math.ceil(Math.max(NODE.minWidth, header, body));
  const height = NODE.headerHeight + (node.rows.length ? node.rows.length * NODE.rowHeight + NODE.paddingBottom : 0);
  return { width, height, nameX, valueX };
}

/**
 * A measure for where no canvas is at hand (tests, Node): average glyph widths of the fonts
 * above (DejaVu Sans is about 0.6 em a glyph, monospace exactly 0.6 em).
 */
export const approximateMeasure: TextMeasure = (text, font) => {
  const { size, weight, family } = FONTS[font];
  const em = family === MONO ? 0.602 : weight >= 600 ? 0.64 : 0.58;
  return text.length * size * em;
};

/** Measures with a canvas 2D context (OffscreenCanvas in the layout worker, a canvas in a page). */
export function canvasMeasure(context: { font: string; measureText(text: string): { width: number } }): TextMeasure {
  let current: FontName | null = null;
  return (text, font) => {
    // Setting a font is slow next to measuring; node texts come in runs of one font.
    if (font !== current) context.font = cssFont(font);
    current = font;
    return context.measureText(text).width;
  };
}
