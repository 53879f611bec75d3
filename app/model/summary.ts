// model.summary(): Keras 3's table (print_summary in keras/src/utils/summary_utils.py):
// the same columns, row order, shape and number formats, "Connected to" only for models that
// branch, join or share layers, and totals with sizes in base-1024 units.
import { ValueError } from './errors.ts';
import type { Layer, Node } from './layer.ts';
import type { Model } from './model.ts';
import { formatShape, product, type Shape } from './shape.ts';

export interface SummaryRow {
  name: string;
  className: string;
  /** Output shapes of the layer's (last) call in this model; null when not built. */
  outputShapes: Shape[] | null;
  params: number;
  built: boolean;
  /** Inputs as Keras's "layer[node][tensor]", one entry per input tensor. */
  connectedTo: string[];
  /** Names of the layers feeding this one. */
  inboundLayers: string[];
}

export interface ParamCounts {
  total: number;
  trainable: number;
  nonTrainable: number;
  /** Bytes, float32. */
  totalBytes: number;
  trainableBytes: number;
  nonTrainableBytes: number;
}

export interface SummaryData {
  name: string;
  className: string;
  /** False when the table has a "Connected to" column. */
  sequentialLike: boolean;
  rows: SummaryRow[];
  params: ParamCounts;
}

/** Keras's test: a Functional model is shown like a Sequential one unless it branches, joins or shares. */
function isSequentialLike(model: Model): boolean {
  if (model.kind !== 'functional' || !model.built) return true;
  const { nodes, nodeDepths } = model.graph;
  const perDepth = new Map<number, Node[]>();
  for (const node of nodes) perDepth.set(nodeDepths.get(node)!, [...(perDepth.get(nodeDepths.get(node)!) ?? []), node]);
  for (const group of perDepth.values()) {
    if (group.length > 1 || group[0]!.inputs.length > 1) return false;
  }
  return model.layers.every((layer) => model.nodesOf(layer).length <= 1);
}

function countWeights(weights: readonly { shape: readonly number[] }[]): number {
  return weights.reduce((n, w) => n + product(w.shape), 0);
}

export function countParams(model: Model): ParamCounts {
  const trainable = countWeights(model.trainableWeights);
  const nonTrainable = countWeights(model.nonTrainableWeights);
  return {
    total: trainable + nonTrainable,
    trainable,
    nonTrainable,
    totalBytes: 4 * (trainable + nonTrainable),
    trainableBytes: 4 * trainable,
    nonTrainableBytes: 4 * nonTrainable,
  };
}

function rowFor(model: Model, layer: Layer): SummaryRow {
  const nodes = model.built ? model.nodesOf(layer) : [];
  const last = nodes[nodes.length - 1];
  const inputs = nodes.flatMap((node) => node.inputs);
  return {
    name: layer.name,
    className: layer.className,
    outputShapes: last ? last.outputs.map((t) => t.shape) : null,
    params: layer.countParams(),
    built: layer.built,
    connectedTo: inputs.map((t) => t.name),
    inboundLayers: [...new Set(inputs.map((t) => t.sourceLayer.name))],
  };
}

export function summaryData(model: Model): SummaryData {
  const layers = model.layers;
  return {
    name: model.name,
    className: model.className,
    sequentialLike: isSequentialLike(model),
    rows: layers.map((layer) => rowFor(model, layer)),
    params: countParams(model),
  };
}

/** Keras's readable_memory_size: base 1024, two decimals. */
export function readableMemorySize(bytes: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB', 'PB'];
  let size = bytes;
  for (const unit of units) {
    if (size / 1024 < 1) return `${size.toFixed(2)} ${unit}`;
    size /= 1024;
  }
  return `${size.toFixed(2)} PB`;
}

/** 822922 -> "822,922", as Python's f"{n:,}". */
export function formatCount(n: number): string {
  return n.toLocaleString('en-US');
}

function formatOutputShapes(shapes: Shape[] | null): string {
  if (!shapes) return '?';
  return shapes.length === 1 ? formatShape(shapes[0]!) : `[${shapes.map(formatShape).join(', ')}]`;
}

/** Splits a cell into lines of at most `width` characters, breaking after ", " or spaces where it can. */
function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let rest = text;
  while (rest.length > width) {
    let cut = rest.lastIndexOf(' ', width);
    if (cut <= 0) cut = width;
    lines.push(rest.slice(0, cut).trimEnd());
    rest = rest.slice(cut).trimStart();
  }
  lines.push(rest);
  return lines;
}

/** Table widths summary() draws: narrower squeezes every column below its title, wider only pads. */
export const LINE_LENGTH_RANGE = { min: 40, max: 1000 } as const;

export interface SummaryOptions {
  /** Total width of the table, LINE_LENGTH_RANGE.min to .max; Keras's default is 88 (108 with "Connected to"). */
  lineLength?: number;
  /** Called with the whole summary, as Keras's print_fn. */
  printFn?: (text: string) => void;
}

/** Renders Keras 3's summary table (rich's heavy-head box, a rule between rows). */
export function renderSummary(data: SummaryData, options: SummaryOptions = {}): string {
  const connected = !data.sequentialLike;
  const header = connected ? ['Layer (type)', 'Output Shape', 'Param #', 'Connected to'] : ['Layer (type)', 'Output Shape', 'Param #'];
  const positions = connected ? [0.3, 0.56, 0.74, 1.0] : [0.45, 0.8, 1.0];
  const alignRight = header.map((h) => h === 'Param #');
  const lineLength = options.lineLength ?? (connected ? 108 : 88);
  if (!Number.isInteger(lineLength) || lineLength < LINE_LENGTH_RANGE.min || lineLength > LINE_LENGTH_RANGE.max) {
    throw new ValueError(`summary: lineLength must be an integer from ${LINE_LENGTH_RANGE.min} to ${LINE_LENGTH_RANGE.max}, got ${lineLength}`, { field: 'lineLength' });
  }
  // Each column has a space of padding either side and a border to its left; one border closes the row.
  const inner = lineLength - 3 * header.length - 1;
  const widths: number[] = [];
  let used = 0;
  for (const p of positions) {
    const w = Math.floor(p * inner) - used;
    widths.push(Math.max(4, w));
    used += w;
  }

  const cells = data.rows.map((row) => {
    const params = row.built ? formatCount(row.params) : '0 (unbuilt)';
    const fields = [`${row.name} (${row.className})`, formatOutputShapes(row.outputShapes), params];
    if (connected) fields.push(row.connectedTo.length ? row.connectedTo.join(', ') : '-');
    return fields;
  });

  const rule = (left: string, fill: string, mid: string, right: string) => left + widths.map((w) => fill.repeat(w + 2)).join(mid) + right;
  const renderRow = (fields: string[], bar: string): string[] => {
    const wrapped = fields.map((f, i) => wrap(f, widths[i]!));
    const height = Math.max(...wrapped.map((w) => w.length));
    const lines: string[] = [];
    for (let k = 0; k < height; k++) {
      const parts = wrapped.map((w, i) => {
        const text = w[k] ?? '';
        return ' ' + (alignRight[i] ? text.padStart(widths[i]!) : text.padEnd(widths[i]!)) + ' ';
      });
      lines.push(bar + parts.join(bar) + bar);
    }
    return lines;
  };

  const p = data.params;
  const lines = [
    `Model: "${data.name}"`,
    rule('┏', '━', '┳', '┓'),
    ...renderRow(header, '┃'),
    rule('┡', '━', '╇', '┩'),
    ...cells.flatMap((fields, i) => [...(i > 0 ? [rule('├', '─', '┼', '┤')] : []), ...renderRow(fields, '│')]),
    rule('└', '─', '┴', '┘'),
    ` Total params: ${formatCount(p.total)} (${readableMemorySize(p.totalBytes)})`,
    ` Trainable params: ${formatCount(p.trainable)} (${readableMemorySize(p.trainableBytes)})`,
    ` Non-trainable params: ${formatCount(p.nonTrainable)} (${readableMemorySize(p.nonTrainableBytes)})`,
  ];
  const text = lines.join('\n');
  options.printFn?.(text);
  return text;
}
