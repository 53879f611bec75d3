// Every exported model passes the ONNX reference checker with full shape inference
// (Debian's python3-onnx), and the shapes it infers for the outputs are Keras's.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { exportOnnx } from '../../app/translate/to_onnx.ts';
import { translationCases } from './models.ts';

// Debian's interpreter, which has python3-onnx (another python3 may come first on PATH).
const PYTHON = '/usr/bin/python3';

const CHECK = `
import json, sys, onnx
results = {}
for path in sys.argv[1:]:
    model = onnx.load(path)
    onnx.checker.check_model(model, full_check=True)
    inferred = onnx.shape_inference.infer_shapes(model, check_type=True, strict_mode=True)
    results[path] = [[d.dim_param or d.dim_value for d in o.type.tensor_type.shape.dim] for o in inferred.graph.output]
print(json.dumps(results))
`;

test('every exported model passes onnx.checker.check_model(full_check=True)', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'strata-onnx-'));
  try {
    const models = translationCases();
    const files = models.map((model) => {
      const file = path.join(dir, `${model.name}.onnx`);
      writeFileSync(file, exportOnnx(model));
      return file;
    });
    const result = spawnSync(PYTHON, ['-c', CHECK, ...files], { encoding: 'utf8' });
    assert.equal(result.error, undefined, `cannot run ${PYTHON}: install Debian's python3-onnx (see README)`);
    assert.equal(result.status, 0, result.stderr);
    const shapes = JSON.parse(result.stdout) as Record<string, (number | string)[][]>;
    models.forEach((model, i) => {
      const expected = model.outputs.map((t) => t.shape.map((d, j) => (j === 0 && d === null ? 'batch' : d)));
      assert.deepEqual(shapes[files[i]!], expected, model.name);
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
