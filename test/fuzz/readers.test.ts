// A bounded fuzzing run of every file reader (targets.ts says what each is fed and what it
// must do): a fixed seed, so a finding fails the same way every time, and a few hundred inputs
// per reader. The long run with new seeds is `node --import tsx test/fuzz/fuzz.ts`.
import { test } from 'node:test';
import { TARGETS, fuzz } from './targets.ts';

const SEED = 22;

for (const target of TARGETS) {
  test(`fuzz ${target.name}: ${target.runs} inputs (${target.inputs}) read or refused with one line naming the file`, (t) => {
    fuzz(target, { runs: target.runs, seed: SEED });
    t.diagnostic(`${target.name}: ${target.runs} inputs, seed ${SEED}, no finding`);
  });
}
