// The README's code blocks, run as a newcomer pastes them (as Rust's doc tests and Python's
// doctest run documentation): every `ts` block as a program and every `sh` block as a shell
// script, in the README's order, in one scratch folder where `examples/` is the repository's,
// so that later blocks see what earlier ones wrote. A block whose first line names a file
// (`// examples/x.ts`) must also match that file. A comment right before a block changes
// what happens to it:
//   <!-- readme-test: skip (reason) -->   not run; the reason is required
//   <!-- readme-test: ci -->              the test command: must equal what .ci/run runs
//   <!-- readme-test: after-setup (…) --> run the commands after its set-up steps
//                                          (scripts/install-system-deps.sh, npm ci), which CI runs itself
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
// Inside the repository, so that 'strata', tsx and `npx strata` resolve as they do for a user.
const scratch = path.join(root, 'build', 'readme-test');
const SETUP_STEPS = ['scripts/install-system-deps.sh', 'npm ci'];

interface Block {
  language: string;
  code: string;
  line: number;
  marker: { kind: 'skip' | 'ci' | 'after-setup'; reason: string } | null;
}

/** The fenced blocks of a Markdown text, with the readme-test comment just before each. */
export function codeBlocks(markdown: string): Block[] {
  const blocks: Block[] = [];
  const lines = markdown.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\w*)\s*$/.exec(lines[i]!);
    if (!open) continue;
    const end = lines.indexOf('```', i + 1);
    assert.ok(end > i, `README.md:${i + 1}: a code block that does not end`);
    const previous = lines.slice(0, i).reverse().find((l) => l.trim() !== '') ?? '';
    const marker = /^<!-- readme-test: (skip|ci|after-setup)\b\s*(.*?)\s*-->$/.exec(previous);
    blocks.push({
      language: open[1]!,
      code: lines.slice(i + 1, end).join('\n') + '\n',
      line: i + 1,
      marker: marker ? { kind: marker[1] as 'skip' | 'ci' | 'after-setup', reason: marker[2]! } : null,
    });
    i = end;
  }
  return blocks;
}

function run(command: string, args: string[], what: string): void {
  const result = spawnSync(command, args, { cwd: scratch, encoding: 'utf8', timeout: 300_000 });
  assert.equal(result.status, 0, `${what} failed (exit ${result.status ?? result.signal}):\n${result.stdout}\n${result.stderr}`);
}

/** The commands of a set-up block after its set-up steps. */
function afterSetup(code: string, line: number): string {
  const steps = code.trim().split(/\s*&&\s*/);
  const setup = steps.slice(0, SETUP_STEPS.length);
  assert.deepEqual(setup, SETUP_STEPS, `README.md:${line}: an after-setup block starts with ${SETUP_STEPS.join(' && ')}`);
  assert.ok(steps.length > SETUP_STEPS.length, `README.md:${line}: nothing after the set-up steps`);
  return steps.slice(SETUP_STEPS.length).join(' && ');
}

const readme = readFileSync(path.join(root, 'README.md'), 'utf8');
const blocks = codeBlocks(readme);

before(() => {
  rmSync(scratch, { recursive: true, force: true });
  mkdirSync(scratch, { recursive: true });
  symlinkSync(path.join(root, 'examples'), path.join(scratch, 'examples'));
});

describe('README.md', () => {
  test('has TypeScript and shell blocks, and every opt-out gives a reason', () => {
    assert.ok(blocks.filter((b) => b.language === 'ts').length >= 8);
    assert.ok(blocks.filter((b) => b.language === 'sh').length >= 4);
    for (const block of blocks) {
      assert.ok(['ts', 'sh'].includes(block.language), `README.md:${block.line}: a block in '${block.language || 'no language'}'; mark it ts or sh`);
      if (block.marker?.kind === 'skip') assert.match(block.marker.reason, /^\(.+\)$/, `README.md:${block.line}: say why the block is skipped`);
    }
  });

  test("the test command is .ci/run's, after the same set-up", () => {
    const ci = blocks.filter((b) => b.marker?.kind === 'ci');
    assert.equal(ci.length, 1, 'one block marked ci');
    const command = ci[0]!.code.trim();
    const script = readFileSync(path.join(root, '.ci', 'run'), 'utf8').split('\n').map((l) => l.trim());
    assert.ok(script.includes(command), `.ci/run does not run the README's test command:\n${command}`);
  });

  test('blocks that show a file match it', () => {
    for (const block of blocks) {
      const named = /^\/\/ (examples\/[\w./-]+)\n/.exec(block.code);
      if (!named) continue;
      const file = readFileSync(path.join(root, named[1]!), 'utf8');
      assert.ok(file.includes(block.code.slice(named[0].length)), `README.md:${block.line}: the block differs from ${named[1]}`);
    }
  });

  blocks.forEach((block, index) => {
    const title = `block ${index + 1} (README.md:${block.line}, ${block.language}) runs`;
    if (block.marker?.kind === 'skip' || block.marker?.kind === 'ci') return;
    test(title, () => {
      if (block.language === 'ts') {
        const file = path.join(scratch, `block-${index + 1}.ts`);
        writeFileSync(file, block.code);
        run(process.execPath, ['--import', 'tsx', file], title);
      } else {
        const script = block.marker?.kind === 'after-setup' ? afterSetup(block.code, block.line) : block.code;
        run('bash', ['-euo', 'pipefail', '-c', script], title);
      }
    });
  });
});
