// `npm start`'s decisions: rebuild the views only when a source is newer than the build, and
// open the window only where Electron's binary is there, else one line and browser mode.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { fallbackLine, findElectron, viewsAreStale } from '../../app/electron/start.ts';

test('the views are rebuilt when missing or older than any source, and not otherwise', () => {
  const root = mkdtempSync(path.join(os.tmpdir(), 'strata-start-'));
  try {
    const sources = ['renderer', 'app/contract/api.ts'];
    const at = (file: string, seconds: number) => {
      mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
      writeFileSync(path.join(root, file), '');
      utimesSync(path.join(root, file), seconds, seconds);
    };
    at('renderer/src/views/StartPage.svelte', 1000);
    at('app/contract/api.ts', 1000);
    assert.equal(viewsAreStale(root, sources), true, 'never built');
    at('build/renderer/index.html', 2000);
    assert.equal(viewsAreStale(root, sources), false);
    at('renderer/src/views/StartPage.svelte', 3000);
    assert.equal(viewsAreStale(root, sources), true, 'a view changed');
    at('build/renderer/index.html', 4000);
    at('app/contract/api.ts', 5000);
    assert.equal(viewsAreStale(root, sources), true, 'the contract changed');
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test("Electron's binary: used where it exists; otherwise the reason, in the one line npm start prints", () => {
  assert.deepEqual(findElectron(() => process.execPath), { binary: process.execPath });
  const notInstalled = findElectron(() => {
    // What node_modules/electron/index.js throws when its install script never recorded a binary.
    throw new Error('Electron failed to install correctly, please delete node_modules/electron and try installing again');
  });
  assert.deepEqual(notInstalled, { missing: "Electron's binary is not installed (its download from GitHub did not run or failed)" });
  assert.deepEqual(findElectron(() => '/nonexistent/dist/electron'), { missing: "Electron's binary is missing (/nonexistent/dist/electron)" });
  const line = fallbackLine('missing' in notInstalled ? notInstalled.missing : '');
  assert.match(line, /^strata: Electron's binary is not installed .*; opening the app in the browser instead/);
  assert.doesNotMatch(line, /\n/);
});
