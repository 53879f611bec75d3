// The ONNX project's reference checker, for tests: onnx.checker.check_model(m, full_check=True)
// (structure plus strict shape inference) from Debian's python3-onnx, fed the model's bytes on
// stdin. Debian 12 ships onnx 1.12: IR version 8 and opset 17 at most.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const SCRIPT = `
import sys
import onnx
model = onnx.load_model_from_string(sys.stdin.buffer.read())
try:
    onnx.checker.check_model(model, full_check=True)
except Exception as error:
    print(" ".join(str(error).split()))
    sys.exit(1)
`;

/** Debian's interpreter first: a python3 earlier on PATH (pyenv, a venv) may lack onnx. */
function findPython(): string | null {
  for (const python of ['/usr/bin/python3', 'python3']) {
    if (python.startsWith('/') && !existsSync(python)) continue;
    const probe = spawnSync(python, ['-c', 'import onnx'], { encoding: 'utf8' });
    if (probe.status === 0) return python;
  }
  return null;
}

let python: string | null | undefined;

/** Why the checker cannot run here (python3-onnx missing), or null when it can. */
export function checkerUnavailable(): string | null {
  python ??= findPython();
  return python ? null : 'python3-onnx is not installed (apt-get install python3-onnx)';
}

/** '' when the ONNX checker accepts the model, else its message (one line). */
export function onnxCheck(model: Uint8Array): string {
  python ??= findPython();
  if (!python) throw new Error('python3-onnx is not installed (apt-get install python3-onnx)');
  const result = spawnSync(python, ['-c', SCRIPT], { input: model, encoding: 'utf8' });
  if (result.status === 0) return '';
  return (result.stdout.trim() || result.stderr.trim().split('\n').pop() || `exit ${result.status}`).trim();
}
