// ZeroPadding2D: rows and columns of zeros around channels-last images (batch, h, w, c).
import { ValueError } from '../errors.ts';
import { ConfigReader } from '../keras_format/config_reader.ts';
import { LAYER_ARG_NAMES, Layer, type LayerArgs } from '../layer.ts';
import { checkOptions } from '../options.ts';
import { registerLayer } from '../registry.ts';
import type { Shape } from '../shape.ts';

/** Keras's padding argument: n, [rows, cols], or [[top, bottom], [left, right]]. */
export type Padding2D = number | [number, number] | [[number, number], [number, number]];

export interface ZeroPadding2DArgs extends LayerArgs {
  dataFormat?: 'channels_last';
}

/** [[top, bottom], [left, right]] from Keras's three forms, or a ValueError naming the layer. */
function normalizePadding(padding: unknown, owner: string): [[number, number], [number, number]] {
  const ok = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;
  if (ok(padding)) return [[padding, padding], [padding, padding]];
  if (Array.isArray(padding) && padding.length === 2) {
    if (padding.every(ok)) return [[padding[0], padding[0]], [padding[1], padding[1]]];
    if (padding.every((p) => Array.isArray(p) && p.length === 2 && p.every(ok))) return padding.map((p) => [...p]) as [[number, number], [number, number]];
  }
  throw new ValueError(`${owner}: padding must be an integer >= 0, [rows, cols] or [[top, bottom], [left, right]] of integers >= 0, got ${JSON.stringify(padding) ?? String(padding)}`, { layer: owner, field: 'padding' });
}

/** Keras's ZeroPadding2D: (batch, h, w, c) -> (batch, top + h + bottom, left + w + right, c). */
export class ZeroPadding2D extends Layer {
  static override className = 'ZeroPadding2D';
  readonly padding: [[number, number], [number, number]];

  constructor(padding: Padding2D = 1, args: ZeroPadding2DArgs = {}) {
    super(checkOptions('ZeroPadding2D', args, [...LAYER_ARG_NAMES, 'dataFormat'], '{name: "pad"}'));
    this.padding = normalizePadding(padding, this.name);
    if (args.dataFormat !== undefined && args.dataFormat !== 'channels_last') {
      throw new ValueError(`${this.name}: data_format ${JSON.stringify(args.dataFormat)} is not supported; Strata uses channels_last (NHWC) as Keras does by default`);
    }
  }

  computeOutputShapes(inputShapes: Shape[]): Shape[] {
    const shape = this.singleInput(inputShapes);
    this.expectRank(shape, 4, '(batch, h, w, c)');
    const grow = (d: number | null, [a, b]: [number, number]) => (d === null ? null : d + a + b);
    return [[shape[0]!, grow(shape[1]!, this.padding[0]), grow(shape[2]!, this.padding[1]), shape[3]!]];
  }

  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), padding: this.padding.map((p) => [...p]), data_format: 'channels_last' };
  }

  static fromConfig(config: Record<string, unknown>): ZeroPadding2D {
    const c = new ConfigReader(ZeroPadding2D.className, config);
    const args: ZeroPadding2DArgs = c.layerArgs();
    const padding = c.raw('padding', 1);
    c.channelsLast();
    c.finish();
    return new ZeroPadding2D(padding as Padding2D, args);
  }
}
registerLayer(ZeroPadding2D);
