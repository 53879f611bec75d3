// ONNX files that Strata did not write, for the end-to-end test: torchvision's
// MobileNetV3-Small exported by Debian's PyTorch (torchvision_onnx.py). The export takes
// seconds, so it is made once and kept under build/test-cache/, named by a hash of the script.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ROOT } from './browser.ts';

const SCRIPT = fileURLToPath(new URL('./torchvision_onnx.py', import.meta.url));
const PYTHON = '/usr/bin/python3';

export function mobilenetOnnx(): string {
  const hash = createHash('sha256').update(readFileSync(SCRIPT)).digest('hex').slice(0, 12);
  const file = path.join(ROOT, 'build', 'test-cache', `mobilenet_v3_small-${hash}.onnx`);
  if (existsSync(file)) return file;
  mkdirSync(path.dirname(file), { recursive: true });
  // Written beside its final name and renamed, so a test running in parallel never reads half of it.
  const partial = `${file}.${process.pid}.partial`;
  const result = spawnSync(PYTHON, [SCRIPT, partial], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`${PYTHON} ${SCRIPT} failed (${result.error?.message ?? `exit ${result.status}`}):\n${result.stderr}`);
  renameSync(partial, file);
  return file;
}
