// Opening a 100 MB ONNX file: the engine process's memory grows by about the file's size
// (tensors stay views of the file's bytes; measured: 1.0x), not a multiple of it, and what
// crosses to the app is the description (kilobytes), never the weights' bytes.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { ndarray } from '../../app/data/ndarray.ts';
import { makeGraph, makeModel, makeNode, makeTensor, makeTensorValueInfo } from '../../app/onnx/helper.ts';
import { DataType, encodeModel } from '../../app/onnx/schema.ts';
import { scratchFolder, workbench } from './helpers.ts';

const LAYERS = 25;
const WIDTH = 1024; // 25 float32 matrices of 1024 x 1024: 105 MB

/** Kilobytes of a /proc/PID/status field (VmRSS: now, VmHWM: the peak so far). */
function memoryKb(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith(`${field}:`))!;
  return Number(/(\d+) kB/.exec(line)![1]);
}

function writeLargeModel(file: string): number {
  const nodes = [];
  const initializers = [];
  for (let i = 0; i < LAYERS; i++) {
    initializers.push(makeTensor(`w${i}`, ndarray('float32', [WIDTH, WIDTH], new Float32Array(WIDTH * WIDTH).fill(i))));
    nodes.push(makeNode('MatMul', [i === 0 ? 'x' : `h${i - 1}`, `w${i}`], [`h${i}`]));
  }
  const graph = makeGraph(nodes, 'large', [makeTensorValueInfo('x', DataType.FLOAT, ['batch', WIDTH])], [makeTensorValueInfo(`h${LAYERS - 1}`, DataType.FLOAT, ['batch', WIDTH])], initializers);
  const bytes = encodeModel(makeModel(graph, { producerName: 'memory.test.ts' }));
  writeFileSync(file, bytes);
  return bytes.length;
}

test("a 100 MB ONNX file: the engine's memory grows by less than twice the file's size, and only the description crosses", async () => {
  const root = scratchFolder('large');
  const fileBytes = writeLargeModel(path.join(root, 'large.onnx'));
  assert.ok(fileBytes > 100e6, `${fileBytes} bytes`);
  const wb = workbench({ mode: 'browser', root });
  await wb.appInfo(); // the engine has loaded what it loads at startup (onnxruntime, the addon)
  const pid = wb.enginePid()!;
  const before = memoryKb(pid, 'VmRSS');

  const document = await wb.open('large.onnx');
  const grownBytes = (memoryKb(pid, 'VmHWM') - before) * 1024;
  assert.ok(grownBytes < 2 * fileBytes, `the engine grew by ${(grownBytes / 1e6).toFixed(0)} MB for a ${(fileBytes / 1e6).toFixed(0)} MB file`);

  assert.equal(document.kind, 'onnx');
  assert.ok(JSON.stringify(document).length < 100_000, 'the document is a description, without the weights');
  if (document.kind === 'onnx') assert.deepEqual(document.inferred[`h${LAYERS - 1}`], undefined, 'declared outputs are not inferred');
  const stats = await wb.initializerStats(document.id, 'w7');
  assert.deepEqual([stats.shape, stats.min, stats.max, stats.mean, stats.std], [[WIDTH, WIDTH], 7, 7, 7, 0]);
});
