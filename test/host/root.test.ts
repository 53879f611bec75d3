// Browser mode's root (`strata serve --root DIR`): the page reaches files under the root
// only. Paths with `..`, absolute paths, symbolic links that lead out (to a file, to a
// folder, through a folder) and files that are not regular are refused with an error naming
// the path as the page gave it; listings leave out what cannot be opened; the command line's
// file opens even outside the root, and only that file.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, realpathSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { createWorkbench } from '../../app/host/workbench.ts';
import { forkEngine } from '../../app/host/engine_channel.ts';
import { ROOT } from './foreign_models.ts';
import { rejection, scratchFolder, workbench } from './helpers.ts';

const ONNX = path.join(ROOT, 'test/fixtures/onnx/matmul_add.onnx');

/** A root with files, a saved model, hidden files and links in and out; and a folder outside it. */
function makeTree(): { root: string; outside: string } {
  const outside = realpathSync(scratchFolder('outside'));
  const root = realpathSync(scratchFolder('root'));
  mkdirSync(path.join(outside, 'dir'));
  copyFileSync(ONNX, path.join(outside, 'secret.onnx'));
  copyFileSync(ONNX, path.join(outside, 'dir', 'deep.onnx'));
  copyFileSync(ONNX, path.join(outside, 'cmdline.onnx'));
  copyFileSync(ONNX, path.join(root, 'model.onnx'));
  copyFileSync(ONNX, path.join(root, '.hidden.onnx'));
  mkdirSync(path.join(root, 'sub'));
  copyFileSync(ONNX, path.join(root, 'sub', 'inner.onnx'));
  mkdirSync(path.join(root, 'saved'));
  writeFileSync(path.join(root, 'saved', 'model.json'), '{}');
  symlinkSync(path.join(root, 'model.onnx'), path.join(root, 'link-in.onnx'));
  symlinkSync(path.join(outside, 'secret.onnx'), path.join(root, 'link-out.onnx'));
  symlinkSync(path.join(outside, 'dir'), path.join(root, 'link-out-dir'));
  symlinkSync('../..', path.join(root, 'sub', 'up'));
  assert.equal(spawnSync('mkfifo', [path.join(root, 'pipe.onnx')]).status, 0);
  return { root, outside };
}

describe("browser mode's root", () => {
  const { root, outside } = makeTree();
  const wb = workbench({ mode: 'browser', root, commandLineFile: path.join(outside, 'cmdline.onnx') });

  test('files under the root open, named relative to it (a link inside the root by its target)', async () => {
    assert.equal((await wb.open('model.onnx')).path, 'model.onnx');
    assert.equal((await wb.open('sub/inner.onnx')).path, 'sub/inner.onnx');
    assert.equal((await wb.open('./sub//inner.onnx')).path, 'sub/inner.onnx');
    assert.equal((await wb.open('link-in.onnx')).path, 'model.onnx');
    // A full path pasted from a terminal names the same file, and the views see it relative.
    assert.equal((await wb.open(path.join(root, 'sub/inner.onnx'))).path, 'sub/inner.onnx');
  });

  test("'..', absolute paths, links out of the root, missing and odd paths are refused, naming the path", async () => {
    const refused: [string, RegExp][] = [
      ['../outside/secret.onnx', /^\.\.\/outside\/secret\.onnx: "\.\." is not allowed/],
      ['sub/../model.onnx', /^sub\/\.\.\/model\.onnx: "\.\." is not allowed/],
      ['..', /^\.\.: "\.\." is not allowed/],
      ['sub\\..\\..\\x.onnx', /"\.\." is not allowed/],
      ['/etc/passwd', /^\/etc\/passwd: absolute paths outside the root folder .* are not served/],
      [path.join(outside, 'secret.onnx'), /absolute paths outside the root folder .* are not served/],
      ['link-out.onnx', /^link-out\.onnx: a symbolic link that leads outside the root folder/],
      [path.join(root, 'link-out.onnx'), /link-out\.onnx: a symbolic link that leads outside the root folder/],
      [path.join(root, 'missing.onnx'), /missing\.onnx: no such file or folder under the root folder/],
      ['link-out-dir/deep.onnx', /^link-out-dir\/deep\.onnx: a symbolic link that leads outside the root folder/],
      [`sub/up/${path.basename(outside)}/secret.onnx`, /a symbolic link that leads outside the root folder/],
      ['missing.onnx', /^missing\.onnx: no such file or folder under the root folder/],
      ['model.onnx\0.ts', /^"model\.onnx\\u0000\.ts": not a file path/],
      ['pipe.onnx', /^pipe\.onnx: not a regular file/],
    ];
    for (const [requested, message] of refused) {
      const error = await rejection(wb.open(requested));
      assert.equal(error.name, 'UserError', requested);
      assert.match(error.message, message);
      assert.ok(!error.message.includes(path.join(outside, 'dir')) || requested.startsWith('/'), `${requested}: the message does not tell where a link leads`);
    }
  });

  test('listings show what can be opened: folders first, no hidden files, no links out, no pipes', async () => {
    const top = await wb.listFolder(null);
    assert.deepEqual([top.path, top.parent], ['.', null]);
    assert.deepEqual(top.entries.map((e) => [e.name, e.path, e.kind]), [
      ['saved', 'saved', 'saved-model'],
      ['sub', 'sub', 'folder'],
      ['link-in.onnx', 'model.onnx', 'onnx'],
      ['model.onnx', 'model.onnx', 'onnx'],
    ]);
    const sub = await wb.listFolder('sub');
    assert.deepEqual([sub.path, sub.parent, sub.entries.map((e) => [e.name, e.size])], ['sub', '.', [['inner.onnx', statSync(ONNX).size]]]);
    for (const [requested, message] of [
      ['..', /"\.\." is not allowed/],
      ['link-out-dir', /leads outside the root folder/],
      ['model.onnx', /^model\.onnx: not a folder$/],
      [outside, /absolute paths outside the root folder .* are not served/],
    ] as const) {
      assert.match((await rejection(wb.listFolder(requested))).message, message);
    }
  });

  test("the command line's file opens from outside the root, by its absolute path; nothing else beside it does", async () => {
    const file = path.join(outside, 'cmdline.onnx');
    assert.equal(wb.commandLinePath, file);
    const document = await wb.open(file);
    assert.deepEqual([document.kind, document.path], ['onnx', file]);
    assert.match((await rejection(wb.open(path.join(outside, 'secret.onnx')))).message, /absolute paths outside the root folder .* are not served/);
    assert.match((await rejection(wb.listFolder(outside))).message, /absolute paths outside the root folder .* are not served/);
  });

  test("a command line file under the root is named relative to it; a missing one stops createWorkbench with its name", () => {
    const inside = workbench({ mode: 'browser', root, commandLineFile: path.join(root, 'sub', 'inner.onnx') });
    assert.equal(inside.commandLinePath, 'sub/inner.onnx');
    const missing = path.join(root, 'nope.onnx');
    assert.throws(() => createWorkbench({ mode: 'browser', root, stateDir: root, spawn: forkEngine, commandLineFile: missing }), { name: 'UserError', message: `${missing}: no such file or folder` });
    assert.throws(() => createWorkbench({ mode: 'browser', root: path.join(root, 'model.onnx'), stateDir: root, spawn: forkEngine }), { name: 'UserError', message: /the root is not a folder/ });
  });
});
