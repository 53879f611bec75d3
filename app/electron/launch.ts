// The main process's decisions that need no Electron at run time: which file the command line
// names, and what the strata:// protocol answers for a URL.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { contentType, resolveStaticFile } from '../server/static_files.ts';
import { APP_HOST, RESPONSE_HEADERS, responseHeadersFor } from './security.ts';

/**
 * The file named on a command line (`electron main.js FILE`, `Strata FILE` when packaged), as an
 * absolute path; null when there is none. Switches (`--inspect`, Chromium's flags) are skipped.
 */
export function fileFromArgv(argv: readonly string[], isPackaged: boolean, workingDirectory: string): string | null {
  const file = argv.slice(isPackaged ? 1 : 2).find((arg) => arg !== '' && !arg.startsWith('-'));
  return file === undefined ? null : path.resolve(workingDirectory, file);
}

/** The answer to a strata://app/... request: a file of the built views with the app's headers, or 404. */
export async function appFileResponse(viewsDir: string, url: string): Promise<Response> {
  const parsed = new URL(url);
  const file = parsed.host === APP_HOST ? resolveStaticFile(viewsDir, parsed.pathname) : null;
  if (file === null) return new Response(`no such file: ${parsed.pathname}`, { status: 404, headers: { ...RESPONSE_HEADERS, 'Content-Type': 'text/plain; charset=utf-8' } });
  return new Response(await readFile(file), { headers: { ...responseHeadersFor(parsed.pathname), 'Content-Type': contentType(file) } });
}
