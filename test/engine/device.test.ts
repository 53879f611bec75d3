import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { chooseDevice } from '../../app/engine/device.ts';

// An engine as the addon reports itself: its backends and whether CUDA can run here.
function engine(backends: string[], available: boolean, reason: string) {
  const e = { backends: () => backends, cudaStatus: () => ({ available, reason }) };
  return Object.assign(() => e, e);
}

describe('chooseDevice', () => {
  const gpu = engine(['cpu', 'reference', 'cuda'], true, '');
  const noGpu = engine(['cpu', 'reference', 'cuda'], false, 'no CUDA GPU was found');
  const oldDriver = engine(['cpu', 'reference', 'cuda'], false, 'the NVIDIA driver is older than CUDA 13.0, which this build needs; update the driver');
  const cpuBuild = engine(['cpu', 'reference'], false, 'this build of Strata has no CUDA backend (nvcc was not found when it was compiled)');

  test('cpu is the CPU whatever the machine has, without loading the engine', () => {
    const unloadable = () => {
      throw new Error('the engine was loaded');
    };
    assert.deepEqual(chooseDevice('cpu', unloadable), { backend: 'cpu', note: null });
  });
  test('cuda and auto pick the GPU when it is usable', () => {
    assert.deepEqual(chooseDevice('cuda', gpu), { backend: 'cuda', note: null });
    assert.deepEqual(chooseDevice('auto', gpu), { backend: 'cuda', note: null });
  });
  test('cuda without a usable GPU is an error that says why', () => {
    for (const e of [noGpu, oldDriver, cpuBuild])
      assert.throws(() => chooseDevice('cuda', e), (error: Error) => error.name === 'EngineSetupError' && error.message === `--device cuda: ${e.cudaStatus().reason}`);
  });
  test('auto falls back to the CPU with one line where the build has CUDA, silently where it has not', () => {
    assert.deepEqual(chooseDevice('auto', noGpu), { backend: 'cpu', note: 'training on the CPU: no CUDA GPU was found' });
    assert.equal(chooseDevice('auto', oldDriver).note, `training on the CPU: ${oldDriver.cudaStatus().reason}`);
    assert.deepEqual(chooseDevice('auto', cpuBuild), { backend: 'cpu', note: null });
  });
});
