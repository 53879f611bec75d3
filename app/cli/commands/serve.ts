// `strata serve [file] [--port N] [--host ADDR] [--root DIR]`: the app in a web browser, for a
// GPU box reached over SSH or a machine without Electron. Prints the URL with its token and
// serves until Ctrl+C.
import type { Command } from 'commander';
import { type BrowserMode, defaultStateDir, isLoopbackHost, startBrowserMode } from '../../server/browser_mode.ts';
import { UserError } from '../errors.ts';

export const DEFAULT_PORT = 8765;

interface ServeOptions {
  port: string;
  host: string;
  root: string;
  stateDir: string;
}

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('open the app in a web browser: serves its views and its API from this machine (on a remote box, forward the port: ssh -L 8765:127.0.0.1:8765 user@box)')
    .argument('[file]', 'a model file or any .onnx file to open when the page loads')
    .option('--port <n>', 'the port to listen on (0: any free port)', String(DEFAULT_PORT))
    .option('--host <address>', 'the address to listen on; 127.0.0.1 keeps the server to this machine', '127.0.0.1')
    .option('--root <dir>', 'the folder whose files the page may open', '.')
    .option('--state-dir <dir>', 'where the recent files are kept', defaultStateDir())
    .action(async (file: string | undefined, options: ServeOptions) => {
      const running = await serveCommand(file, options);
      stopOnSignal(running);
    });
}

/** Starts browser mode and prints where to find it. */
export async function serveCommand(file: string | undefined, options: ServeOptions): Promise<BrowserMode> {
  const running = await startBrowserMode({
    root: options.root,
    stateDir: options.stateDir,
    host: options.host,
    port: parsePort(options.port),
    ...(file === undefined ? {} : { file }),
  });
  if (!isLoopbackHost(options.host)) {
    process.stderr.write(
      `strata serve: listening on ${options.host}: other machines can reach this server, and plain HTTP shows them the token; an SSH tunnel to 127.0.0.1 is safer\n`,
    );
  }
  process.stdout.write(`Strata serves the files under ${running.root} at\n  ${running.url}\nOpen the URL in a web browser; Ctrl+C stops the server.\n`);
  return running;
}

function parsePort(text: string): number {
  const port = Number(text);
  if (!/^\d+$/.test(text) || port > 65535) throw new UserError(`--port ${text}: expected a port number from 0 to 65535 (0: any free port)`);
  return port;
}

function stopOnSignal(running: BrowserMode): void {
  const stop = () => void running.stop().then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}
