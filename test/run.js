// Runs every test: the native engine's C++ tests (ctest, after an incremental build of the
// addon and the tests with cmake-js), then every test file under test/ with Node's test
// runner. Prints both reports and ends with one line that CI reads: "N passed, N failed".
// Usage: node --import tsx test/run.js [file-filter ...]   (a filter skips the C++ tests
// unless it is "native")
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
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

/**
 * ThreadSanitizer over the engine's threaded reductions (native/tests/tsan/): a build of its
 * own in build/tsan with clang and LLVM's OpenMP runtime (configured once, then incremental;
 * GCC's libgomp is not instrumented, so TSan cannot see its barriers and reports every
 * parallel region as a race), run on two threads with Archer, the OpenMP tool that tells TSan
 * about OpenMP's synchronisation. The program calls no oneDNN (not built with TSan). A race
 * report fails it. -march=native: clang refuses the CPU kernels' vector lambdas (an ABI
 * error) unless the whole file may use AVX; this build only ever runs on the machine itself.
 */
function runThreadSanitizer() {
  const root = path.dirname(testDir);
  const dir = path.join(root, 'build/tsan');
  const archer = ['/usr/lib/llvm-14/lib/libarcher.so', '/usr/lib/llvm-15/lib/libarcher.so', '/usr/lib/llvm-16/lib/libarcher.so'].find((file) => existsSync(file));
  if (!archer) {
    process.stdout.write('✖ ThreadSanitizer: needs clang and libomp-dev (Archer); scripts/install-system-deps.sh installs them\n');
    totals.fail += 1;
    return;
  }
  const run = (command, args, env = {}) => spawnSync(command, args, { cwd: root, encoding: 'utf8', env: { ...process.env, ...env } });
  const configure = ['-S', 'native', '-B', dir, '-DCMAKE_BUILD_TYPE=RelWithDebInfo', '-DSTRATA_USE_CUDA=OFF', '-DSTRATA_BUILD_TOOLS=OFF', '-DCMAKE_CXX_FLAGS=-fsanitize=thread -g -O1 -march=native', '-DCMAKE_EXE_LINKER_FLAGS=-fsanitize=thread'];
  const steps = [
    ...(existsSync(path.join(dir, 'CMakeCache.txt')) ? [] : [['cmake', configure, { CC: 'clang', CXX: 'clang++' }]]),
    ['cmake', ['--build', dir, '--parallel', '2', '--target', 'test_tsan_reductions']],
  ];
  for (const [command, args, env] of steps) {
    const result = run(command, args, env);
    if (result.status !== 0) {
      process.stdout.write(`${result.stdout}${result.stderr}\n✖ ThreadSanitizer: the build in build/tsan failed (output above)\n`);
      totals.fail += 1;
      return;
    }
  }
  const started = Date.now();
  const result = run(path.join(dir, 'tests/test_tsan_reductions'), [], { OMP_NUM_THREADS: '2', OMP_TOOL_LIBRARIES: archer, TSAN_OPTIONS: 'halt_on_error=1 exitcode=66 ignore_noninstrumented_modules=1' });
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  process.stdout.write(result.stdout + result.stderr);
  const ok = result.status === 0;
  process.stdout.write(`${ok ? '✔' : '✖'} ThreadSanitizer: test_tsan_reductions on two threads (${seconds} s)${ok ? '' : `: exit ${result.status ?? result.signal}`}\n`);
  totals[ok ? 'pass' : 'fail'] += 1;
}

if (filters.length === 0 || filters.includes('native')) {
  runNativeTests();
  runThreadSanitizer();
}

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
