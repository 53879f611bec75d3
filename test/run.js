// Runs every test file under test/ with Node's test runner, prints Node's spec report, and
// ends with one line that CI reads: "N passed, N failed".
// Usage: node --import tsx test/run.js [file-filter ...]
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
const stream = run({ files, concurrency: 2 });
stream.on('test:diagnostic', ({ nesting, message }) => {
  // The runner's closing diagnostics ("pass 12", "fail 0", ...) sum over all files.
  const match = nesting === 0 && /^(pass|fail|skipped|todo) (\d+)$/.exec(message);
  if (match) totals[match[1]] = Number(match[2]);
});
const report = stream.compose(spec);
report.pipe(process.stdout, { end: false });
report.on('end', () => {
  const skipped = totals.skipped + totals.todo;
  console.log(`\n${totals.pass} passed, ${totals.fail} failed${skipped ? `, ${skipped} skipped` : ''}`);
  if (totals.fail > 0 || files.length === 0) process.exitCode = 1;
});
