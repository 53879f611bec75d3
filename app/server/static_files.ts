// The built views (build/renderer/) as files to serve, for the browser-mode server and for the
// desktop window's strata:// protocol: a URL path maps to a file inside the folder or to
// nothing. `..`, encoded or not, absolute paths, backslashes, NUL bytes and symlinks that lead
// out of the folder all map to nothing.
import { realpathSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Where `npm run build:renderer` puts the views. */
export const BUILT_VIEWS_DIR = fileURLToPath(new URL('../../build/renderer/', import.meta.url));

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.ttf': 'font/ttf',
  '.wasm': 'application/wasm',
  '.txt': 'text/plain; charset=utf-8',
};

/** The Content-Type a built file is served with. */
export function contentType(file: string): string {
  return CONTENT_TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream';
}

/**
 * The real path of the file that `urlPath` (a URL's pathname, still percent-encoded) names
 * inside `dir`, or null where it names none or points outside. "/" is index.html.
 */
export function resolveStaticFile(dir: string, urlPath: string): string | null {
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    return null;
  }
  if (decoded.includes('\0') || decoded.includes('\\')) return null;
  const segments = decoded.split('/').filter((segment) => segment !== '');
  if (segments.some((segment) => segment === '..' || segment === '.')) return null;
  const relative = segments.length === 0 ? 'index.html' : segments.join('/');
  if (path.isAbsolute(relative)) return null;
  try {
    const realDir = realpathSync(dir);
    const real = realpathSync(path.join(realDir, relative));
    if (!real.startsWith(realDir + path.sep) || !statSync(real).isFile()) return null;
    return real;
  } catch {
    return null; // no such file
  }
}
