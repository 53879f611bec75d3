// Drawing the preview's tensors: feature maps (height, width, channels) as a grid of grayscale
// images, each scaled to its own range so that its pattern shows; an input with 3 channels as
// one colour image; vectors as bars. Pure functions over canvases and numbers.
import type { PreviewTensor } from '../../../app/contract/api.ts';
import { gridOf, liveliest } from './preview_layout.ts';

export function valuesOf(tensor: PreviewTensor): Float32Array {
  // A copy: the bytes may sit at an offset that is not a multiple of 4.
  return new Float32Array(tensor.data.slice().buffer);
}

/**
 * Draws the maps on `canvas` (one pixel per value, a one-pixel gap between maps), or the image
 * in colour when `rgb` and it has 3 channels. With a `limit`, only that many maps are drawn:
 * those that vary most.
 */
export function drawMaps(canvas: HTMLCanvasElement, tensor: PreviewTensor, options: { rgb?: boolean; limit?: number } = {}): void {
  const [height, width, channels] = tensor.shape as [number, number, number];
  const values = valuesOf(tensor);
  const context = canvas.getContext('2d');
  if (!context) return;
  if (options.rgb && channels === 3) {
    canvas.width = width;
    canvas.height = height;
    const image = context.createImageData(width, height);
    const [low, high] = [tensor.min, tensor.max > tensor.min ? tensor.max : tensor.min + 1];
    for (let p = 0; p < width * height; p++) {
      for (let c = 0; c < 3; c++) image.data[4 * p + c] = Math.round(((values[3 * p + c]! - low) / (high - low)) * 255);
      image.data[4 * p + 3] = 255;
    }
    context.putImageData(image, 0, 0);
    return;
  }
  const ranges = Array.from({ length: channels }, (_, c) => {
    let low = Infinity;
    let high = -Infinity;
    for (let p = 0; p < width * height; p++) {
      const v = values[p * channels + c]!;
      if (v < low) low = v;
      if (v > high) high = v;
    }
    return { low, high };
  });
  // With fewer maps than channels (a thumbnail), those that vary most: a map that a ReLU left
  // almost all zero says little about the layer.
  const shown = options.limit !== undefined && options.limit < channels ? liveliest(ranges, options.limit) : ranges.map((_, c) => c);
  const { columns, rows } = gridOf(shown.length);
  canvas.width = columns * (width + 1) - 1;
  canvas.height = rows * (height + 1) - 1;
  const image = context.createImageData(canvas.width, canvas.height);
  image.data.fill(255);
  shown.forEach((c, slot) => {
    const { low, high } = ranges[c]!;
    const range = high > low ? high - low : 1;
    const x0 = (slot % columns) * (width + 1);
    const y0 = Math.floor(slot / columns) * (height + 1);
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const shade = Math.round(((values[(y * width + x) * channels + c]! - low) / range) * 255);
        const at = 4 * ((y0 + y) * canvas.width + x0 + x);
        image.data[at] = image.data[at + 1] = image.data[at + 2] = shade;
      }
    }
  });
  context.putImageData(image, 0, 0);
}
