// Model modules that fail to load, run through the real CLI: a syntax error, a throw (in the
// file, in a module it imports, in its factory), an import that does not resolve, a .ts file
// that Node reads as CommonJS. Each is one line naming the file and the line or import at
// fault; none is an "internal error".
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

const STRATA = fileURLToPath(new URL('../../app/cli/strata.js', import.meta.url));
const scratch = mkdtempSync(path.join(tmpdir(), 'strata-model-files-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

/** Writes `files` into a new folder under scratch (with a package.json of `type`) and returns it. */
function project(name: string, type: 'module' | 'commonjs', files: Record<string, string>): string {
  const dir = path.join(scratch, name);
  mkdirSync(dir);
  writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ type }));
  for (const [file, text] of Object.entries(files)) writeFileSync(path.join(dir, file), text);
  return dir;
}

function summaryFails(dir: string, file: string, pattern: RegExp): void {
  const result = spawnSync(process.execPath, [STRATA, 'summary', file], { cwd: dir, encoding: 'utf8', timeout: 30_000 });
  assert.equal(result.status, 1, result.stderr);
  assert.equal(result.stdout, '');
  assert.match(result.stderr, /^strata: [^\n]*\n$/, `one line: ${result.stderr}`);
  assert.doesNotMatch(result.stderr, /internal error/);
  assert.match(result.stderr, pattern);
}

describe('model files that fail to load', () => {
  const dir = project('esm', 'module', {
    'syntax.ts': "const a = 1;\nconst x = ;\nexport default x;\n",
    'broken.js': "const a = 1;\n\nconst x = ;\n",
    'throws.ts': "const a: number = 1;\nthrow new Error(`no data at ${a}`);\n",
    'helper.ts': "export function make(): number {\n  const settings: { depth: number } | undefined = undefined;\n  return settings!.depth;\n}\n",
    'uses-helper.ts': "import { make } from './helper.ts';\nexport default make();\n",
    'throws-string.ts': "throw 'not an Error';\n",
    'factory.ts': "export default () => {\n  throw new RangeError('no model for you');\n};\n",
    'bad-import.mts': "import { layers } from './layres.ts';\nexport default layers;\n",
    'no-strata.ts': "import { Sequential } from 'strata';\nexport default new Sequential([]);\n",
  });

  test('a syntax error names the file, line and column', () => {
    summaryFails(dir, 'syntax.ts', /^strata: syntax\.ts:2:11: syntax error: Unexpected ";"\n$/);
    summaryFails(dir, 'broken.js', /^strata: broken\.js:3: syntax error: Unexpected token ';'\n$/);
  });

  test("a throw from the user's code names the file and line: the user's error, not Strata's", () => {
    summaryFails(dir, 'throws.ts', /^strata: throws\.ts:2: Error: no data at 1\n$/);
    summaryFails(dir, 'uses-helper.ts', /^strata: .*helper\.ts:3: TypeError: Cannot read properties of undefined \(reading 'depth'\) \(while loading uses-helper\.ts\)\n$/);
    summaryFails(dir, 'factory.ts', /^strata: factory\.ts:2: RangeError: no model for you\n$/);
    summaryFails(dir, 'throws-string.ts', /^strata: throws-string\.ts: the model file threw "not an Error"\n$/);
  });

  test('an import that does not resolve is named, not reported as a missing model file', () => {
    summaryFails(dir, 'bad-import.mts', /^strata: bad-import\.mts: cannot load: the import '.*layres\.ts' in .*bad-import\.mts does not resolve to a file\n$/);
    summaryFails(dir, 'no-strata.ts', /^strata: no-strata\.ts: cannot load: the import 'strata' in .*no-strata\.ts does not resolve to a file; import the API from 'strata' in a project that has Strata installed/);
  });

  test('a missing file and a FIFO', () => {
    summaryFails(dir, 'absent.ts', /^strata: absent\.ts: cannot read: no such file\n$/);
    assert.equal(spawnSync('mkfifo', [path.join(dir, 'pipe.ts')]).status, 0);
    summaryFails(dir, 'pipe.ts', /^strata: pipe\.ts: cannot read: it is a FIFO \(named pipe\), not a regular file\n$/);
  });

  test('an ES module .ts file in a CommonJS package: what to change', () => {
    const cjs = project('cjs', 'commonjs', { 'model.ts': "export default function build() {\n  return 1;\n}\n" });
    summaryFails(cjs, 'model.ts', /^strata: model\.ts: Node loads this file as CommonJS because .*cjs\/package\.json does not say "type": "module", but a model file is an ES module .*; add "type": "module" to .*package\.json, or rename the file to \.mts\n$/);
  });
});
