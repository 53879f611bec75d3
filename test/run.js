// Runs every test: the native engine's C++ tests (ctest, after an incremental build of the
// addon and the tests with cmake-js), then every test file under test/ with Node's test
// runner. Prints both reports and ends with one line that CI reads: "N passed, N failed".
// Usage: node --import tsx test/run.js [file-filter ...]   (a filter skips the C++ tests
// unless it is "native")
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { run } from 'node:test';
import { spec } from 'node:test/reporters';
import { fileURLToPath } from 'node:url';

const testDir = path.dirname(fileURLToPath(import.meta.url));
const filters = process.argv.slice(2);

function findTestFiles(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'fixtures' ? [] : findTestFiles(full);
    return entry.name.endsWith('.test.ts') ? [full] : [];
  });
}

const files = findTestFiles(testDir)
  .filter((file) => filters.length === 0 || filters.some((f) => file.includes(f)))
  .sort();

const totals = { pass: 0, fail: 0, skipped: 0, todo: 0 };

/** Builds the engine (incrementally) and runs ctest; a build that fails counts as one failure. */
function runNativeTests() {
  const root = path.dirname(testDir);
  const build = spawnSync('npm', ['run', '--silent', 'build:native'], { cwd: root, encoding: 'utf8' });
  if (build.status !== 0) {
    process.stdout.write(`${build.stdout}${build.stderr}\n✖ native engine: the build failed (output above); see README "The native engine"\n`);
    totals.fail += 1;
    return;
  }
  const ctest = spawnSync('ctest', ['--test-dir', 'build/addon', '--output-on-failure'], { cwd: root, encoding: 'utf8' });
  process.stdout.write(ctest.stdout + ctest.stderr);
  const summary = /(\d+) tests failed out of (\d+)/.exec(ctest.stdout);
  if (!summary || ctest.error) {
    process.stdout.write('✖ native engine: ctest did not run\n');
    totals.fail += 1;
    return;
  }
  totals.fail += Number(summary[1]);
  totals.pass += Number(summary[2]) - Number(summary[1]);
}

if (filters.length === 0 || filters.includes('native')) runNativeTests();

const stream = run({ files, concurrency: 2 });
stream.on('test:diagnostic', ({ nesting, message }) => {
  // The runner's closing diagnostics ("pass 12", "fail 0", ...) sum over all files.
  const match = nesting === 0 && /^(pass|fail|skipped|todo) (\d+)$/.exec(message);
  if (match) totals[match[1]] += Number(match[2]);
});
const report = stream.compose(spec);
report.pipe(process.stdout, { end: false });
report.on('end', () => {
  const skipped = totals.skipped + totals.todo;
  console.log(`\n${totals.pass} passed, ${totals.fail} failed${skipped ? `, ${skipped} skipped` : ''}`);
  if (totals.fail > 0 || totals.pass === 0) process.exitCode = 1;
});
