// strata summary <model-file> [--json]: Keras's summary table, or the same numbers as JSON.
import type { Command } from 'commander';
import { summaryData, type SummaryData } from '../../model/index.ts';
import { LINE_LENGTH_RANGE, renderSummary } from '../../model/summary.ts';
import { UserError } from '../errors.ts';
import { loadModel } from '../load_model.ts';
import { MODEL_ARGUMENT_HELP } from '../model_argument.ts';

/** The --json form: one entry per layer and the totals, snake_case as Keras's files. */
export function summaryJson(data: SummaryData) {
  return {
    name: data.name,
    class_name: data.className,
    layers: data.rows.map((row) => ({
      name: row.name,
      class_name: row.className,
      output_shape: row.outputShapes && row.outputShapes.length === 1 ? row.outputShapes[0] : row.outputShapes,
      params: row.params,
      inbound_layers: row.inboundLayers,
      connected_to: row.connectedTo,
    })),
    total_params: data.params.total,
    trainable_params: data.params.trainable,
    non_trainable_params: data.params.nonTrainable,
    total_bytes: data.params.totalBytes,
  };
}

export function registerSummary(program: Command): void {
  program
    .command('summary')
    .description("print a model's layers, output shapes and parameter counts, as Keras's model.summary()")
    .argument('<model-file>', MODEL_ARGUMENT_HELP)
    .option('--json', 'print the layers and totals as JSON')
    .option('--line-length <n>', `table width in characters (${LINE_LENGTH_RANGE.min} to ${LINE_LENGTH_RANGE.max})`, parseLineLength)
    .action(async (file: string, options: { json?: boolean; lineLength?: number }) => {
      const model = await loadModel(file);
      const data = summaryData(model);
      if (options.json) process.stdout.write(`${JSON.stringify(summaryJson(data), null, 2)}\n`);
      else process.stdout.write(`${renderSummary(data, options.lineLength !== undefined ? { lineLength: options.lineLength } : {})}\n`);
    });
}

function parseLineLength(value: string): number {
  const n = Number(value);
  if (!/^\s*\d+\s*$/.test(value) || n < LINE_LENGTH_RANGE.min || n > LINE_LENGTH_RANGE.max) {
    throw new UserError(`--line-length must be a whole number of characters from ${LINE_LENGTH_RANGE.min} to ${LINE_LENGTH_RANGE.max}, got '${value}'`);
  }
  return n;
}
