// `strata` command line: one file per subcommand under commands/, each registering itself
// on the program. Errors that users cause (bad files, bad shapes) print one line, exit 1.
import { Command } from 'commander';
import { EngineBackend } from '../engine/trainer.ts';
import { setInferenceBackend, setTrainingBackend } from '../model/index.ts';
import { OnnxRuntimeBackend } from '../runtime/onnx_backend.ts';
import { STRATA_VERSION } from '../version.ts';
import { registerBench } from './commands/bench.ts';
import { registerExport } from './commands/export.ts';
import { registerSummary } from './commands/summary.ts';
import { registerTrain } from './commands/train.ts';
import { reportErrorAndExit } from './errors.ts';

// Model files run by the CLI can call model.predict() and model.fit().
const engine = new EngineBackend();
setInferenceBackend(new OnnxRuntimeBackend());
setInferenceBackend(engine);
setTrainingBackend(engine);

const program = new Command()
  .name('strata')
  .description('Strata: Keras-style models, ONNX export and local training, from the command line.')
  .version(STRATA_VERSION)
  .showHelpAfterError();

registerSummary(program);
registerExport(program);
registerTrain(program);
registerBench(program);
(await import('./commands/inspect.ts')).registerInspect(program);
(await import('./commands/predict.ts')).registerPredict(program);
(await import('./commands/serve.ts')).registerServe(program);

try {
  await program.parseAsync(process.argv);
} catch (error) {
  reportErrorAndExit(error);
}
