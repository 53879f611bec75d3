// strata export <model-file> -o model.onnx | model.keras | model.h5: the model as an ONNX graph,
// or as a Keras model file with its weights (the format chosen by the extension, as Keras's
// model.save() chooses it), written atomically.
import path from 'node:path';
import type { Command } from 'commander';
import { exportOnnx } from '../../translate/to_onnx.ts';
import { writeFileAtomic } from '../../io/atomic_write.ts';
import { formatKerasArchive, formatKerasH5, isKerasModelFile } from '../../io/keras_file.ts';
import { loadModel } from '../load_model.ts';
import { MODEL_ARGUMENT_HELP } from '../model_argument.ts';
import { UserError } from '../errors.ts';

export function registerExport(program: Command): void {
  program
    .command('export')
    .description('write a model as an ONNX file (opset 17, Keras input and output layout) or as a Keras model file with its weights (.keras or .h5)')
    .argument('<model-file>', MODEL_ARGUMENT_HELP)
    .requiredOption('-o, --output <file>', 'where to write the model: a .onnx, .keras or .h5 file (the extension picks the format)')
    .action(async (file: string, options: { output: string }) => {
      const model = await loadModel(file);
      const ext = path.extname(options.output).toLowerCase();
      if (ext !== '.onnx' && !isKerasModelFile(options.output)) {
        throw new UserError(`${options.output}: unknown output format "${ext}"; give a .onnx, .keras or .h5 file name`);
      }
      const bytes = ext === '.onnx' ? exportOnnx(model) : ext === '.keras' ? await formatKerasArchive(model) : await formatKerasH5(model);
      writeFileAtomic(options.output, bytes);
      process.stderr.write(`wrote ${options.output} (${bytes.length.toLocaleString('en-US')} bytes, ${model.countParams().toLocaleString('en-US')} parameters)\n`);
    });
}
