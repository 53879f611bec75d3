// `strata inspect <file.onnx> [--json]`: what an ONNX file holds, as a readable listing
// (opsets, inputs, outputs, every node with its attributes, initializers, metadata) or as
// the JSON description of app/onnx/inspect.ts. Works for any ONNX file, whoever wrote it.
// A Keras model file (.h5, .keras) is described too: its format, Keras version, model, and
// every weight dataset with its shape and dtype.
import type { Command } from 'commander';
import { type KerasFileDescription, describeKerasFile, isKerasModelFile } from '../../io/keras_file.ts';
import { formatShape } from '../../data/ndarray.ts';
import { type AttributeDescription, type GraphDescription, type JSONValue, type ModelDescription, type NodeDescription, type TensorSummary, type ValueDescription, inspectOnnxFile } from '../../onnx/inspect.ts';

export function registerInspect(program: Command): void {
  program
    .command('inspect')
    .description('show what a model file holds: for ONNX, opsets, inputs and outputs, every node, initializers, metadata; for a Keras .h5/.keras file, its format, version, model and weight datasets')
    .argument('<file>', 'an .onnx file (written by Strata or any other tool), or a Keras .h5/.keras model file')
    .option('--json', 'print the description as JSON')
    .action(async (file: string, options: { json?: boolean }) => {
      process.stdout.write(isKerasModelFile(file) ? await inspectKerasCommand(file, options) : inspectCommand(file, options));
    });
}

/** The command's output for a Keras model file. */
export async function inspectKerasCommand(file: string, options: { json?: boolean } = {}): Promise<string> {
  const description = await describeKerasFile(file);
  return options.json ? `${JSON.stringify(description, null, 2)}\n` : formatKerasReport(description);
}

/** h5wasm's dtype codes in NumPy's words. */
const HDF5_DTYPES: Record<string, string> = { '<f': 'float32', '<d': 'float64', '<e': 'float16', '<i': 'int32', '<q': 'int64' };

export function formatKerasReport(keras: KerasFileDescription): string {
  const format = keras.format === 'h5' ? 'Keras HDF5 (.h5: model_config + model_weights)' : 'Keras 3 archive (.keras: config.json, metadata.json, model.weights.h5)';
  const elements = keras.weights.reduce((n, w) => n + w.shape.reduce((a, b) => a * b, 1), 0);
  const lines = [
    `Model file: ${keras.file}`,
    `  Format: ${format}`,
    `  Written by: ${keras.kerasVersion === 'strata' ? 'Strata' : `Keras ${keras.kerasVersion ?? '(version not recorded)'}`}${keras.backend && keras.backend !== 'strata' ? `, backend ${keras.backend}` : ''}`,
    `  Model: "${keras.model.name ?? ''}" (${keras.model.className})${keras.compiled ? ', compiled (training config saved)' : ''}`,
    `  Optimizer state: ${keras.optimizerWeights > 0 ? `${keras.optimizerWeights} datasets (not loaded by Strata)` : 'none'}`,
    '',
    `Weights (${keras.weights.length} datasets, ${elements.toLocaleString('en-US')} values)`,
    ...table(keras.weights.map((w) => [w.path, HDF5_DTYPES[w.dtype] ?? w.dtype, `[${w.shape.join(', ')}]`]), '  '),
  ];
  return `${lines.join('\n')}\n`;
}

/** The command's output for `file`. */
export function inspectCommand(file: string, options: { json?: boolean } = {}): string {
  const description = inspectOnnxFile(file);
  return options.json ? `${JSON.stringify(description, null, 2)}\n` : formatReport(description);
}

/** Values longer than this (a model's Keras JSON in metadata) are cut in the text report. */
const MAX_TEXT = 100;

export function formatReport(model: ModelDescription): string {
  const lines: string[] = [];
  const opsets = model.opsetImports.map((o) => `${o.domain || 'ai.onnx'} ${o.version}`).join(', ');
  lines.push(`Model: ${model.file ?? '<bytes>'} (${formatBytes(model.fileBytes)})`);
  lines.push(`  ONNX IR version ${model.irVersion}; opsets: ${opsets || 'none'}`);
  if (model.producer.name || model.producer.version) lines.push(`  Producer: ${[model.producer.name, model.producer.version].filter(Boolean).join(' ')}`);
  if (model.domain) lines.push(`  Domain: ${model.domain}`);
  if (model.modelVersion !== null) lines.push(`  Model version: ${model.modelVersion}`);
  if (model.docString) lines.push(`  Doc: ${cut(model.docString)}`);
  lines.push(`  Graph: "${model.graph.name}"`);

  lines.push('', `Inputs (${model.graph.inputs.length})`, ...valueTable(model.graph.inputs));
  lines.push('', `Outputs (${model.graph.outputs.length})`, ...valueTable(model.graph.outputs));
  lines.push('', `Nodes (${model.graph.nodes.length})`, ...nodeLines(model.graph.nodes, '  '));
  lines.push('', ...initializerLines(model.graph));
  if (model.graph.valueInfo.length > 0) lines.push('', `Value info (${model.graph.valueInfo.length})`, ...valueTable(model.graph.valueInfo));

  const operators = model.operators.map((o) => `${o.domain ? `${o.domain}.` : ''}${o.opType} ×${o.count}`);
  lines.push('', `Operators: ${operators.join(', ') || 'none'}`);
  const custom = model.operators.filter((o) => !o.standard);
  if (custom.length > 0) {
    lines.push(
      `Operators outside ONNX's standard domains (listed, not checked): ${custom.map((o) => `${o.domain}.${o.opType}${o.localFunction ? ' (function in this model)' : ''}`).join(', ')}`,
    );
  }
  for (const fn of model.functions) {
    lines.push('', `Function ${fn.domain}.${fn.name}(${fn.inputs.join(', ')}) → ${fn.outputs.join(', ')}`, ...nodeLines(fn.nodes, '  '));
  }
  if (model.externalData.length > 0) {
    lines.push('', `External data (${model.externalData.length} tensors)`);
    for (const ref of model.externalData) {
      const where = [ref.offset !== null ? `offset ${ref.offset}` : '', ref.length !== null ? `length ${ref.length}` : ''].filter(Boolean).join(', ');
      const state = ref.outside ? "  OUTSIDE THE MODEL'S FOLDER (not read)" : ref.exists === false ? '  MISSING' : '';
      lines.push(`  ${ref.tensor} → ${ref.location}${where ? ` (${where})` : ''}${state}`);
    }
  }
  if (model.metadata.length > 0) {
    lines.push('', `Metadata (${model.metadata.length})`);
    for (const { key, value } of model.metadata) lines.push(`  ${key}: ${cut(value)}`);
  }
  return `${lines.join('\n')}\n`;
}

function valueTable(values: ValueDescription[]): string[] {
  return table(values.map((v) => [v.name, v.type, v.shape ? formatShape(v.shape) : '(rank unknown)']), '  ');
}

/** Initializers with their sizes; one whose dims and data disagree is flagged, and left out of the totals. */
function initializerLines(graph: GraphDescription): string[] {
  const all = [...graph.initializers, ...graph.sparseInitializers];
  const valid = all.filter((t) => !t.invalid);
  const elements = valid.reduce((n, t) => n + t.elements, 0);
  const bytes = valid.reduce((n, t) => n + t.bytes, 0);
  const invalid = all.length - valid.length;
  const header = `Initializers (${all.length}): ${elements.toLocaleString('en-US')} elements, ${formatBytes(bytes)}${invalid ? `; ${invalid} INVALID (not counted)` : ''}`;
  const rows = all.map((t) => [
    t.name,
    t.type,
    formatShape(t.shape),
    t.invalid ? `INVALID: ${t.invalid}` : `${t.elements.toLocaleString('en-US')} elements`,
    t.invalid ? '' : formatBytes(t.bytes),
    t.external ? `external: ${t.external.location}` : '',
  ]);
  return [header, ...table(rows, '  ')];
}

function nodeLines(nodes: NodeDescription[], indent: string): string[] {
  const lines: string[] = [];
  const width = String(Math.max(0, nodes.length - 1)).length;
  nodes.forEach((node, index) => {
    const op = node.domain ? `${node.domain}.${node.opType}` : node.opType;
    const io = `(${node.inputs.map((i) => i || '∅').join(', ')}) → ${node.outputs.join(', ')}`;
    const attributes = node.attributes.filter((a) => a.type !== 'GRAPH' && a.type !== 'GRAPHS').map(formatAttribute);
    lines.push(`${indent}${String(index).padStart(width)}  ${op}${node.name ? ` "${node.name}"` : ''} ${io}${attributes.length ? `  {${attributes.join(', ')}}` : ''}`);
    for (const attribute of node.attributes) {
      const graphs = attribute.type === 'GRAPH' ? [attribute.value] : attribute.type === 'GRAPHS' ? (attribute.value as JSONValue[]) : [];
      for (const graph of graphs) {
        const sub = graph as unknown as Partial<GraphDescription> & { note?: string };
        const subIndent = `${indent}${' '.repeat(width + 4)}`;
        lines.push(`${subIndent}${attribute.name}: graph "${sub.name ?? ''}"${sub.note ? ` (${sub.note})` : ''}`);
        if (Array.isArray(sub.nodes)) lines.push(...nodeLines(sub.nodes, `${subIndent}  `));
      }
    }
  });
  return lines;
}

function formatAttribute(attribute: AttributeDescription): string {
  const ref = attribute.refAttrName ? ` (from ${attribute.refAttrName})` : '';
  return `${attribute.name}=${formatValue(attribute.value, attribute.type)}${ref}`;
}

function formatValue(value: JSONValue, type: string): string {
  if (type === 'TENSOR' || type === 'SPARSE_TENSOR') return formatTensor(value as unknown as TensorSummary);
  if (type === 'TENSORS' || type === 'SPARSE_TENSORS') return `[${(value as unknown as TensorSummary[]).map(formatTensor).join(', ')}]`;
  if (type === 'STRING') return JSON.stringify(cut(value as string));
  return cut(JSON.stringify(value));
}

function formatTensor(tensor: TensorSummary): string {
  const values = tensor.values ? ` [${tensor.values.join(', ')}${tensor.values.length < tensor.elements ? ', …' : ''}]` : '';
  return `tensor ${tensor.type} ${formatShape(tensor.shape)}${tensor.invalid ? ` INVALID: ${tensor.invalid}` : values}`;
}

function table(rows: string[][], indent: string): string[] {
  const widths = rows.reduce<number[]>((w, row) => row.map((cell, i) => Math.max(w[i] ?? 0, cell.length)), []);
  return rows.map((row) => `${indent}${row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ')}`.trimEnd());
}

function cut(text: string): string {
  const flat = text.replace(/\s*\n\s*/g, ' ');
  return flat.length <= MAX_TEXT ? flat : `${flat.slice(0, MAX_TEXT)}… (${text.length.toLocaleString('en-US')} characters; --json shows all)`;
}

/** Sizes in base-1024 units, as Keras prints them. */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(2)} ${units[unit]}`;
}
