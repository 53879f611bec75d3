// "Export PNG" of the graph: the standalone SVG file (markup.ts, what "Export SVG" saves)
// drawn onto a canvas at twice the size, or smaller where Chromium's canvas limits say so.
import type { GraphLayout } from './types.ts';
import { standaloneSvg } from './markup.ts';

/** Chromium's limits: 32,767 pixels a side, 268 million in all; kept well inside. */
const MAX_SIDE = 16_384;
const MAX_AREA = 120_000_000;

export function pngScale(width: number, height: number, preferred = 2): number {
  return Math.min(preferred, MAX_SIDE / width, MAX_SIDE / height, Math.sqrt(MAX_AREA / (width * height)));
}

export async function pngFile(layout: GraphLayout, title: string): Promise<Uint8Array> {
  const svg = standaloneSvg(layout, title);
  const url = URL.createObjectURL(new Blob([svg], { type: 'image/svg+xml' }));
  try {
    const image = new Image();
    image.src = url;
    await image.decode();
    // The SVG file's own size (whole pixels), scaled.
    const width = Math.ceil(layout.width);
    const height = Math.ceil(layout.height);
    const scale = pngScale(width, height);
    const canvas = document.createElement('canvas');
    canvas.width = Math.max(1, Math.round(width * scale));
    canvas.height = Math.max(1, Math.round(height * scale));
    const context = canvas.getContext('2d');
    if (!context) throw new Error('this window has no 2D canvas to draw the PNG with');
    context.scale(scale, scale);
    context.drawImage(image, 0, 0, width, height);
    const blob = await new Promise<Blob | null>((resolve) => canvas.toBlob(resolve, 'image/png'));
    if (!blob) throw new Error(`the graph is too large for a PNG (${width}×${height} pixels); export SVG instead`);
    return new Uint8Array(await blob.arrayBuffer());
  } finally {
    URL.revokeObjectURL(url);
  }
}
