// Runs every test: the native engine's C++ tests (ctest, after an incremental build of the
// addon and the tests with cmake-js), then every test file under test/ with Node's test
// runner. Prints both reports and ends with one line that CI reads: "N passed, N failed".
// Usage: node --import tsx test/run.js [file-filter ...]   (a filter skips the C++ tests
// unless it is "native")
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
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
/** What failed, one line each, printed again just above the closing line: CI keeps only the end of the output. */
const failed = [];

function fail(what) {
  totals.fail += 1;
  failed.push(what);
}

/** Builds the engine (incrementally) and runs ctest; a build that fails counts as one failure. */
function runNativeTests() {
  const root = path.dirname(testDir);
  const build = spawnSync('npm', ['run', '--silent', 'build:native'], { cwd: root, encoding: 'utf8' });
  if (build.status !== 0) {
    process.stdout.write(`${build.stdout}${build.stderr}\n✖ native engine: the build failed (output above); see README "The native engine"\n`);
    fail('native engine: the build failed');
    return;
  }
  const ctest = spawnSync('ctest', ['--test-dir', 'build/addon', '--output-on-failure'], { cwd: root, encoding: 'utf8' });
  process.stdout.write(ctest.stdout + ctest.stderr);
  const summary = /(\d+) tests failed out of (\d+)/.exec(ctest.stdout);
  if (!summary || ctest.error) {
    process.stdout.write('✖ native engine: ctest did not run\n');
    fail('native engine: ctest did not run');
    return;
  }
  // ctest's own list: "The following tests FAILED:" then lines like "\t 12 - name (Failed)".
  const names = ctest.stdout.split('The following tests FAILED:')[1]?.match(/^\s*\d+ - .+$/gm) ?? [];
  for (const name of names) failed.push(`ctest: ${name.trim()}`);
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
  const archer = ['/usr/lib/llvm-14/lib/libarcher.so', '/usr/lib/llvm-15/lib/libarcher.so', '/usr/lib/llvm-16/lib/libarcher.so'].find((file) => existsSync(file));
  if (!archer) {
    process.stdout.write('✖ ThreadSanitizer: needs clang and libomp-dev (Archer); scripts/install-system-deps.sh installs them\n');
    fail('ThreadSanitizer: no Archer');
    return;
  }
  const dir = clangBuild('build/tsan', ['-DSTRATA_BUILD_TOOLS=OFF', '-DCMAKE_CXX_FLAGS=-fsanitize=thread -g -O1 -march=native', '-DCMAKE_EXE_LINKER_FLAGS=-fsanitize=thread'], ['test_tsan_reductions'], 'ThreadSanitizer');
  if (!dir) return;
  const started = Date.now();
  const result = spawnSync(path.join(dir, 'tests/test_tsan_reductions'), [], {
    encoding: 'utf8',
    env: { ...process.env, OMP_NUM_THREADS: '2', OMP_TOOL_LIBRARIES: archer, TSAN_OPTIONS: 'halt_on_error=1 exitcode=66 ignore_noninstrumented_modules=1' },
  });
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  process.stdout.write(result.stdout + result.stderr);
  const ok = result.status === 0;
  process.stdout.write(`${ok ? '✔' : '✖'} ThreadSanitizer: test_tsan_reductions on two threads (${seconds} s)${ok ? '' : `: exit ${result.status ?? result.signal}`}\n`);
  if (ok) totals.pass += 1;
  else fail(`ThreadSanitizer: test_tsan_reductions exit ${result.status ?? result.signal}`);
}

/**
 * Configures (once) and builds `targets` in `folder` with clang, the engine's own tests off;
 * the build folder, or null after reporting a failed build as one failure named `what`.
 */
function clangBuild(folder, flags, targets, what) {
  const root = path.dirname(testDir);
  const dir = path.join(root, folder);
  const steps = [
    ...(existsSync(path.join(dir, 'CMakeCache.txt')) ? [] : [['cmake', ['-S', 'native', '-B', dir, '-DCMAKE_BUILD_TYPE=RelWithDebInfo', '-DSTRATA_USE_CUDA=OFF', ...flags]]]),
    ['cmake', ['--build', dir, '--parallel', '2', '--target', ...targets]],
  ];
  for (const [command, args] of steps) {
    const result = spawnSync(command, args, { cwd: root, encoding: 'utf8', env: { ...process.env, CC: 'clang', CXX: 'clang++' } });
    if (result.status !== 0) {
      process.stdout.write(`${result.stdout}${result.stderr}\n✖ ${what}: the build in ${folder} failed (output above)\n`);
      fail(`${what}: the build in ${folder} failed`);
      return null;
    }
  }
  return dir;
}

/**
 * Inputs each fuzzer tries in `npm test`, from a fixed seed, so that every run (and CI) tries
 * the same ones and a new finding cannot fail a run at random: about 25 s each here. The long
 * run with new seeds is a command (native/fuzz/README.md). FUZZ_MAX_SECONDS caps a slow machine.
 */
const FUZZ_RUNS = { fuzz_onnx_model: 200_000, fuzz_tensor_proto: 1_000_000 };
const FUZZ_SEED = 1;
const FUZZ_MAX_SECONDS = 120;

/**
 * What a fuzzer found, for the closing list that CI keeps: the sanitizer's summary, its top
 * frame in our code and the input as base64 (`base64 -d > input.onnx`, then run the fuzzer on it).
 */
function fuzzFinding(stderr) {
  const summary = /^SUMMARY: .*$/m.exec(stderr)?.[0] ?? '';
  const frame = /^\s+#\d+ .* in (strata::.*|LLVMFuzzerTestOneInput.*)$/m.exec(stderr)?.[1] ?? '';
  const input = /^Base64: (.*)$/m.exec(stderr)?.[1] ?? '';
  return [summary, frame && !summary.includes(frame.split(' /')[0]) && `at ${frame.slice(0, 300)}`, input && `input (base64): ${input}`].filter(Boolean).map((line) => `\n      ${line}`).join('');
}

/**
 * The libFuzzer targets (native/fuzz/) under ASan and UBSan for FUZZ_RUNS inputs each, from a
 * copy of their committed corpus (which replays every regression input first). A crash, a
 * sanitizer report or 2 GB of memory fails it; each prints its executions.
 */
function runFuzzers() {
  const fuzzers = ['fuzz_onnx_model', 'fuzz_tensor_proto'];
  const dir = clangBuild('build/fuzz', ['-DSTRATA_BUILD_TESTS=OFF', '-DSTRATA_BUILD_TOOLS=OFF', '-DSTRATA_BUILD_FUZZERS=ON', '-DCMAKE_CXX_FLAGS=-fsanitize=address,undefined,fuzzer-no-link -fno-sanitize-recover=undefined -g -O1 -march=native'], fuzzers, 'libFuzzer');
  if (!dir) return;
  const root = path.dirname(testDir);
  const scratch = mkdtempSync(path.join(tmpdir(), 'strata-fuzz-'));
  try {
    for (const fuzzer of fuzzers) {
      const corpus = path.join(scratch, fuzzer);
      cpSync(path.join(root, 'native/fuzz/corpus', fuzzer.replace('fuzz_', '')), corpus, { recursive: true });
      const result = spawnSync(path.join(dir, fuzzer), [corpus, `-seed=${FUZZ_SEED}`, `-runs=${FUZZ_RUNS[fuzzer]}`, `-max_total_time=${FUZZ_MAX_SECONDS}`, '-rss_limit_mb=2048', `-artifact_prefix=${scratch}/`], { cwd: scratch, encoding: 'utf8', maxBuffer: 256 << 20, env: { ...process.env, UBSAN_OPTIONS: 'print_stacktrace=1' } });
      const runs = /Done (\d+) runs in (\d+) second/.exec(result.stderr);
      const ok = result.status === 0 && runs !== null;
      if (!ok) process.stdout.write(result.stderr.split('\n').slice(-40).join('\n'));
      process.stdout.write(`${ok ? '✔' : '✖'} libFuzzer: ${fuzzer}: ${runs ? `${runs[1]} executions in ${runs[2]} s` : 'did not finish'}${ok ? ', no finding' : ` (exit ${result.status ?? result.signal}; the input is in its output above)`}\n`);
      if (ok) totals.pass += 1;
      else fail(`libFuzzer: ${fuzzer} exit ${result.status ?? result.signal}${fuzzFinding(result.stderr)}`);
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

if (filters.length === 0 || filters.includes('native')) {
  runNativeTests();
  runThreadSanitizer();
  runFuzzers();
}

const stream = run({ files, concurrency: 2 });
stream.on('test:diagnostic', ({ nesting, message }) => {
  // The runner's closing diagnostics ("pass 12", "fail 0", ...) sum over all files.
  const match = nesting === 0 && /^(pass|fail|skipped|todo) (\d+)$/.exec(message);
  if (match) totals[match[1]] += Number(match[2]);
});
stream.on('test:fail', ({ name, file, details }) => {
  // A suite fails with its tests; name the tests (and a file that failed outside any test).
  if (details?.type !== 'suite') failed.push(`${path.relative(testDir, file ?? '')}: ${name}`);
});
const report = stream.compose(spec);
report.pipe(process.stdout, { end: false });
report.on('end', () => {
  const skipped = totals.skipped + totals.todo;
  if (failed.length > 0) console.log(`\nFailed:\n${failed.map((line) => `  ✖ ${line}`).join('\n')}`);
  console.log(`\n${totals.pass} passed, ${totals.fail} failed${skipped ? `, ${skipped} skipped` : ''}`);
  if (totals.fail > 0 || totals.pass === 0) process.exitCode = 1;
});
