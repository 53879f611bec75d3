// The engine process crashing for real: killed with SIGSEGV while it runs a model file's
// code, with SIGKILL while idle, or dying as it starts. The supervisor reports each
// (engineState 'crashed' naming the signal or exit code, pending and later calls failing
// with EngineCrashedError), this process carries on, and restartEngine() gives a working
// engine again.
import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fork } from 'node:child_process';
import { constants } from 'node:os';
import { forkEngine, utilityProcessEngine, type UtilityProcessChild, type UtilityProcessModule } from '../../app/host/engine_channel.ts';
import { EngineSupervisor } from '../../app/host/supervisor.ts';
import { EXAMPLES, nextState, recordStates, rejection, scratchFolder, workbench } from './helpers.ts';

/** Waits until `file` exists (written by the engine process when it reaches a point). */
async function untilExists(file: string): Promise<void> {
  while (!existsSync(file)) await sleep(20);
}

describe('engine crashes', { timeout: 120_000 }, () => {
  test('SIGSEGV while a call runs: the call fails naming the signal, later calls fail, restartEngine() recovers', async () => {
    const root = scratchFolder('crash');
    const marker = path.join(root, 'inside-model-code');
    // A model file whose code never returns: only a restart gets the engine back.
    writeFileSync(path.join(root, 'stuck.mts'), `import { writeFileSync } from 'node:fs';\nwriteFileSync(${JSON.stringify(marker)}, '');\nwhile (true) {}\n`);
    const wb = workbench({ mode: 'browser', root });
    const states = recordStates(wb);
    await wb.appInfo(); // the engine is ready
    const before = await wb.open(path.join(EXAMPLES, 'purchase-predictor.ts'));
    const firstPid = wb.enginePid()!;
    const stuck = wb.open('stuck.mts');
    await untilExists(marker);
    const crashed = nextState(wb, 'crashed');
    process.kill(firstPid, 'SIGSEGV');

    const error = await rejection(stuck);
    assert.equal(error.name, 'EngineCrashedError');
    assert.match(error.message, /the engine process crashed: SIGSEGV \(a memory fault in native code\)/);
    assert.match((await crashed).message!, /SIGSEGV/);
    assert.equal(wb.enginePid(), undefined);
    const later = await rejection(wb.layerWeights(before.id, 'dense_image_1'));
    assert.equal(later.name, 'EngineCrashedError');

    await wb.restartEngine();
    assert.notEqual(wb.enginePid(), firstPid);
    assert.deepEqual(states.map((s) => s.state), ['ready', 'crashed', 'starting', 'ready']);
    const again = await wb.open(path.join(EXAMPLES, 'purchase-predictor.ts'));
    assert.equal(again.kind === 'model' && again.summary.params.total, 799233);
    // Documents opened before the crash went with the old process; the error says so.
    const gone = await rejection(wb.layerWeights(before.id, 'dense_image_1'));
    assert.match(gone.message, /engine restarted since it was opened; open the file again/);
  });

  test('SIGKILL while idle (as the out-of-memory killer does): reported, and restartEngine() recovers', async () => {
    const wb = workbench({ mode: 'desktop', saveDialog: async () => null });
    await wb.appInfo();
    const crashed = nextState(wb, 'crashed');
    process.kill(wb.enginePid()!, 'SIGKILL');
    assert.match((await crashed).message!, /SIGKILL \(killed, for example by the system on running out of memory\)/);
    const error = await rejection(wb.open(path.join(EXAMPLES, 'subclassed-cnn.ts')));
    assert.equal(error.name, 'EngineCrashedError');
    await wb.restartEngine();
    const document = await wb.open(path.join(EXAMPLES, 'subclassed-cnn.ts'));
    assert.equal(document.kind, 'model');
  });

  test('restarting while a call runs fails that call, and the new engine answers', async () => {
    const root = scratchFolder('restart');
    const marker = path.join(root, 'inside-model-code');
    writeFileSync(path.join(root, 'stuck.mts'), `import { writeFileSync } from 'node:fs';\nwriteFileSync(${JSON.stringify(marker)}, '');\nwhile (true) {}\n`);
    const wb = workbench({ mode: 'browser', root });
    const stuck = rejection(wb.open('stuck.mts'));
    await untilExists(marker);
    await wb.restartEngine();
    assert.match((await stuck).message, /restarted before it answered/);
    assert.equal((await wb.appInfo()).mode, 'browser');
  });

  test('an engine that dies as it starts: the crash names the exit code and what it printed; calls fail', async () => {
    const dir = scratchFolder('bad-engine');
    const entry = path.join(dir, 'engine.mjs');
    writeFileSync(entry, `process.stderr.write('cannot load the engine: libdnnl.so.3 missing\\n');\nprocess.exit(3);\n`);
    const supervisor = new EngineSupervisor(() => forkEngine(entry));
    const states: string[] = [];
    supervisor.onState((s) => states.push(s.message ?? s.state));
    const started = await rejection(supervisor.start());
    assert.equal(started.name, 'EngineCrashedError');
    assert.match(started.message, /it exited with code 3; it last printed "cannot load the engine: libdnnl.so.3 missing"/);
    assert.deepEqual(states, ['starting', started.message]);
    assert.equal((await rejection(supervisor.call('appInfo'))).name, 'EngineCrashedError');
    supervisor.dispose();
  });

  test("Electron's utilityProcess (a stand-in on child_process.fork with its API): the engine answers, and its end is reported by exit code", async () => {
    const forked: { execArgv: string[] | undefined; entry: string }[] = [];
    const utilityProcess: UtilityProcessModule = {
      fork(entry, args, options) {
        forked.push({ entry, execArgv: options.execArgv });
        const child = fork(entry, args, { execArgv: options.execArgv, serialization: 'advanced', stdio: ['ignore', 'inherit', 'pipe', 'ipc'] });
        const on = (event: string, listener: (value: never) => void) =>
          event === 'exit'
            ? child.on('exit', (code, signal) => (listener as (code: number) => void)(code ?? 128 + constants.signals[signal!]))
            : child.on('message', listener as (message: unknown) => void);
        return {
          pid: child.pid,
          stderr: child.stderr,
          postMessage: (message: unknown) => child.send(message as object),
          on,
          off: (_event: 'message', listener: (message: unknown) => void) => child.off('message', listener),
          kill: () => child.kill(),
        } as UtilityProcessChild;
      },
    };
    const wb = workbench({ mode: 'desktop', saveDialog: async () => null, spawn: () => utilityProcessEngine(utilityProcess) });
    const document = await wb.open(path.join(EXAMPLES, 'product-image-classifier.ts'));
    assert.equal(document.kind === 'model' && document.summary.params.total, 822922);
    assert.match(forked[0]!.entry, /app\/host\/engine_process\.ts$/);
    assert.deepEqual(forked[0]!.execArgv?.[0], '--import');
    const crashed = nextState(wb, 'crashed');
    process.kill(wb.enginePid()!, 'SIGABRT');
    assert.match((await crashed).message!, /the engine process crashed: it exited with code 134/);
  });
});
