// Workbenches for the host tests: each in temporary folders of its own (root, state), with a
// real engine process (forkEngine), ended when the test file ends.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after } from 'node:test';
import type { StrataEvents } from '../../app/contract/api.ts';
import { forkEngine } from '../../app/host/engine_channel.ts';
import { createWorkbench, type Workbench, type WorkbenchOptions } from '../../app/host/workbench.ts';
import { ROOT } from './foreign_models.ts';

/** A temporary folder, removed when the test file ends. */
export function scratchFolder(prefix: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), `strata-${prefix}-`));
  after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A workbench with its own state folder; disposed (its engine process ended) when the test file ends. */
export function workbench(options: Partial<WorkbenchOptions> & Pick<WorkbenchOptions, 'mode'>): Workbench {
  const wb = createWorkbench({ stateDir: scratchFolder('state'), spawn: forkEngine, ...options });
  after(() => wb.dispose());
  return wb;
}

/** Every engineState the workbench emits, in order. */
export function recordStates(wb: Workbench): StrataEvents['engineState'][] {
  const states: StrataEvents['engineState'][] = [];
  wb.on('engineState', (state) => states.push(state));
  return states;
}

/** Resolves with the next engineState of this kind. */
export function nextState(wb: Workbench, state: StrataEvents['engineState']['state']): Promise<StrataEvents['engineState']> {
  return new Promise((resolve) => {
    const stop = wb.on('engineState', (payload) => {
      if (payload.state !== state) return;
      stop();
      resolve(payload);
    });
  });
}

/** The rejection of `promise` (fails the test if it resolves). */
export async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a rejection');
}

/** What `strata <args>` prints on stderr, run in `cwd`. */
export function cliStderr(cwd: string, ...args: string[]): string {
  const result = spawnSync(process.execPath, [path.join(ROOT, 'app', 'cli', 'strata.js'), ...args], { cwd, encoding: 'utf8' });
  return result.stderr;
}

export const EXAMPLES = path.join(ROOT, 'examples');
