// `strata` command line: one file per subcommand under commands/, each registering itself
// on the program. Errors that users cause (bad files, bad shapes) print one line, exit 1.
import { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { registerSummary } from './commands/summary.ts';
import { reportErrorAndExit } from './errors.ts';

const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

const program = new Command()
  .name('strata')
  .description('Strata: Keras-style models, ONNX export and local training, from the command line.')
  .version(version)
  .showHelpAfterError();

registerSummary(program);
(await import('./commands/inspect.ts')).registerInspect(program);
(await import('./commands/predict.ts')).registerPredict(program);

try {
  await program.parseAsync(process.argv);
} catch (error) {
  reportErrorAndExit(error);
}
