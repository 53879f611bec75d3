// ONNX files that Strata did not write, for the host tests: small graphs made with Python's
// onnx.helper and torchvision's resnet18 exported by PyTorch, each with what ONNX's own shape
// inference finds in it (onnx_graphs.py). Made with Debian's /usr/bin/python3 (onnx, torch,
// torchvision). The resnet18 export takes seconds, so it is made once and kept under build/,
// in a folder named by a hash of the script (a changed script makes it again).
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SCRIPT = fileURLToPath(new URL('./onnx_graphs.py', import.meta.url));
const PYTHON = '/usr/bin/python3';

/** Element type number and dims (number, symbol or null) by value name, as onnx_graphs.py writes them. */
export type ExpectedShapes = Record<string, [number, (number | string | null)[] | null]>;

export const SMALL_GRAPHS = ['conv_pool', 'dynamic_reshape', 'broadcast_matmul', 'axes_slices', 'opset11', 'recurrent'] as const;

function runScript(kind: 'small' | 'resnet18', outDir: string): void {
  const result = spawnSync(PYTHON, [SCRIPT, kind, outDir], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`${PYTHON} ${SCRIPT} ${kind} failed (${result.error?.message ?? `exit ${result.status}`}):\n${result.stderr}`);
}

/** Writes the small graphs into `dir` (a test's scratch folder). */
export function makeSmallGraphs(dir: string): void {
  runScript('small', dir);
}

/** The folder holding resnet18.onnx and resnet18.expected.json, made on first use. */
export function resnet18Folder(): string {
  const hash = createHash('sha256').update(readFileSync(SCRIPT)).digest('hex').slice(0, 12);
  const folder = path.join(ROOT, 'build', 'test-cache', `foreign-onnx-${hash}`);
  if (existsSync(path.join(folder, 'resnet18.expected.json'))) return folder;
  mkdirSync(path.dirname(folder), { recursive: true });
  // Made beside its final place and renamed into it, so a parallel test file never sees half of it.
  const staging = mkdtempSync(`${folder}.staging-`);
  try {
    runScript('resnet18', staging);
    renameSync(staging, folder);
  } catch (error) {
    rmSync(staging, { recursive: true, force: true });
    if (!existsSync(path.join(folder, 'resnet18.expected.json'))) throw error;
  }
  return folder;
}

export function readExpected(file: string): ExpectedShapes {
  return JSON.parse(readFileSync(file, 'utf8')) as ExpectedShapes;
}
