// The long fuzzing run of the file readers (the bounded one is readers.test.ts, in npm test):
//   node --import tsx test/fuzz/fuzz.ts [--minutes M] [--runs N] [--seed S] [target ...]
// Rounds of N inputs per target (default 20 times its npm test count), a new seed each round,
// until M minutes have passed (default: one round). Prints each target's inputs and findings;
// a finding prints fast-check's report (the seed and path that replay it, the shrunk input,
// the broken promise) and the exit status is 1. Targets: see targets.ts (onnx-bytes, npy, ...).
import { parseArgs } from 'node:util';
import { TARGETS, fuzz } from './targets.ts';

const { values, positionals } = parseArgs({
  options: { minutes: { type: 'string', default: '0' }, runs: { type: 'string' }, seed: { type: 'string' } },
  allowPositionals: true,
});
const unknown = positionals.filter((name) => !TARGETS.some((t) => t.name === name));
if (unknown.length > 0) {
  console.error(`fuzz: no target ${unknown.join(', ')}; targets: ${TARGETS.map((t) => t.name).join(', ')}`);
  process.exit(2);
}
const targets = TARGETS.filter((t) => positionals.length === 0 || positionals.includes(t.name));
const deadline = Date.now() + Number(values.minutes) * 60_000;
let seed = values.seed === undefined ? Math.floor(Math.random() * 2 ** 31) : Number(values.seed);
const counts = new Map(targets.map((t) => [t.name, { inputs: 0, findings: 0 }]));

do {
  for (const target of targets) {
    const runs = values.runs === undefined ? target.runs * 20 : Number(values.runs);
    const count = counts.get(target.name)!;
    try {
      fuzz(target, { runs, seed });
      count.inputs += runs;
    } catch (error) {
      count.findings += 1;
      console.log(`\n${target.name}, seed ${seed}: FINDING\n${(error as Error).message}`);
    }
  }
  seed += 1;
} while (Date.now() < deadline);

for (const [name, { inputs, findings }] of counts) console.log(`${name}: ${inputs} inputs without a finding, ${findings} rounds with one`);
if ([...counts.values()].some((c) => c.findings > 0)) process.exitCode = 1;
