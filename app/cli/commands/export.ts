// strata export <model-file> -o model.onnx: the model's ONNX graph, written atomically.
import type { Command } from 'commander';
import { exportOnnx } from '../../translate/to_onnx.ts';
import { writeFileAtomic } from '../../io/atomic_write.ts';
import { loadModel } from '../load_model.ts';
import { MODEL_ARGUMENT_HELP } from '../model_argument.ts';

export function registerExport(program: Command): void {
  program
    .command('export')
    .description('translate a model into an ONNX file (opset 17, Keras input and output layout)')
    .argument('<model-file>', MODEL_ARGUMENT_HELP)
    .requiredOption('-o, --output <file.onnx>', 'where to write the ONNX model')
    .action(async (file: string, options: { output: string }) => {
      const model = await loadModel(file);
      const bytes = exportOnnx(model);
      writeFileAtomic(options.output, bytes);
      process.stderr.write(`wrote ${options.output} (${bytes.length.toLocaleString('en-US')} bytes, ${model.countParams().toLocaleString('en-US')} parameters)\n`);
    });
}
