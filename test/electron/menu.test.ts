// The desktop's application menu (what each item does, on Linux and macOS), the About box's
// text, and the file a command line names.
import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, test } from 'node:test';
import type { MenuItemConstructorOptions } from 'electron';
import type { Versions } from '../../app/contract/api.ts';
import { fileFromArgv } from '../../app/electron/launch.ts';
import { type MenuActions, aboutText, menuTemplate } from '../../app/electron/menu.ts';

function recordingActions(): { actions: MenuActions; done: string[] } {
  const done: string[] = [];
  return {
    done,
    actions: { command: (command) => done.push(`command ${command}`), openRecent: (file) => done.push(`open ${file}`), about: () => done.push('about') },
  };
}

const submenu = (item: MenuItemConstructorOptions | undefined) => (item?.submenu ?? []) as MenuItemConstructorOptions[];
const named = (items: MenuItemConstructorOptions[], label: string) => items.find((item) => item.label === label);
const click = (item: MenuItemConstructorOptions | undefined) => (item!.click as () => void)();
const labels = (items: MenuItemConstructorOptions[]) => items.map((item) => item.label ?? item.role ?? item.type);

describe('the application menu', () => {
  test('File: New, Open, Open Recent, Save, Save As, the two exports and Close, each sent to the views', () => {
    const { actions, done } = recordingActions();
    const menu = menuTemplate(actions, [{ name: 'cnn.onnx', path: '/home/me/cnn.onnx', kind: 'onnx' }], 'linux');
    assert.deepEqual(labels(menu), ['&File', '&Edit', '&View', '&Help']);
    const file = submenu(named(menu, '&File'));
    assert.deepEqual(labels(file), ['New…', 'Open…', 'Open Recent', 'separator', 'Save', 'Save As…', 'separator', 'Export ONNX…', 'Export Keras JSON…', 'separator', 'Close', 'separator', 'quit']);
    for (const label of ['New…', 'Open…', 'Save', 'Save As…', 'Export ONNX…', 'Export Keras JSON…', 'Close']) click(named(file, label));
    click(submenu(named(file, 'Open Recent'))[0]);
    assert.deepEqual(done, [
      'command new',
      'command open',
      'command save',
      'command save-as',
      'command export-onnx',
      'command export-keras-json',
      'command close',
      'open /home/me/cnn.onnx',
    ]);
  });

  test("Undo and Redo are the views' own (the model's history), sent to them, with their shortcuts left to the views", () => {
    const { actions, done } = recordingActions();
    const edit = submenu(named(menuTemplate(actions, [], 'linux'), '&Edit'));
    const undo = named(edit, 'Undo')!;
    const redo = named(edit, 'Redo')!;
    assert.deepEqual([undo.accelerator, undo.registerAccelerator, redo.accelerator, redo.registerAccelerator], ['CmdOrCtrl+Z', false, 'Shift+CmdOrCtrl+Z', false]);
    click(undo);
    click(redo);
    assert.deepEqual(done, ['command undo', 'command redo']);
  });

  test('Open Recent says when there is nothing to open', () => {
    const recent = submenu(named(submenu(menuTemplate(recordingActions().actions, [], 'linux')[0]), 'Open Recent'));
    assert.deepEqual(recent, [{ label: 'No recent files', enabled: false }]);
  });

  test("Ctrl/Cmd+O and Ctrl/Cmd+F are shown but left to the views' own shortcuts", () => {
    const { actions, done } = recordingActions();
    const menu = menuTemplate(actions, [], 'linux');
    const open = named(submenu(menu[0]), 'Open…')!;
    const find = named(submenu(named(menu, '&Edit')), 'Find…')!;
    assert.deepEqual([open.accelerator, open.registerAccelerator, find.accelerator, find.registerAccelerator], ['CmdOrCtrl+O', false, 'CmdOrCtrl+F', false]);
    click(find);
    assert.deepEqual(done, ['command find']);
  });

  test('View: zoom, full screen and developer tools; Help: About (in the app menu on macOS)', () => {
    const { actions, done } = recordingActions();
    const linux = menuTemplate(actions, [], 'linux');
    assert.deepEqual(submenu(named(linux, '&View')).map((item) => item.role ?? item.type), ['resetZoom', 'zoomIn', 'zoomOut', 'separator', 'togglefullscreen', 'separator', 'toggleDevTools']);
    click(named(submenu(named(linux, '&Help')), 'About Strata'));
    const mac = menuTemplate(actions, [], 'darwin');
    assert.equal(mac[0]!.label, 'Strata');
    click(named(submenu(mac[0]), 'About Strata'));
    assert.ok(!labels(submenu(named(mac, '&File'))).includes('quit'));
    assert.deepEqual(done, ['about', 'about']);
  });

  test('About names Strata, Electron, Chromium, Node.js, onnxruntime and the engine backends', () => {
    const versions: Versions = { strata: '0.1.0', node: '22.1.0', electron: '41.7.1', chrome: '140.0.1', onnxruntime: '1.30.0', engineBackends: ['cpu', 'reference'], cudaUnavailable: null };
    assert.deepEqual(aboutText(versions), {
      message: 'Strata 0.1.0',
      detail: 'Electron 41.7.1\nChromium 140.0.1\nNode.js 22.1.0\nonnxruntime 1.30.0\nEngine backends: cpu, reference',
    });
    assert.match(aboutText({ ...versions, engineBackends: [] }).detail, /Engine backends: none \(the native engine is not built\)$/);
  });
});

describe('the command line', () => {
  test('names the file after the main script (after the executable when packaged), switches skipped', () => {
    assert.equal(fileFromArgv(['/usr/bin/electron', 'build/electron/main.js', 'models/cnn.onnx'], false, '/work'), path.resolve('/work', 'models/cnn.onnx'));
    assert.equal(fileFromArgv(['/usr/bin/electron', 'main.js', '--no-sandbox', '--inspect=9229', '/data/a.onnx'], false, '/work'), '/data/a.onnx');
    assert.equal(fileFromArgv(['/opt/Strata/strata', 'a.ts'], true, '/home/me'), '/home/me/a.ts');
    assert.equal(fileFromArgv(['/usr/bin/electron', 'main.js'], false, '/work'), null);
    assert.equal(fileFromArgv(['/opt/Strata/strata', '--enable-logging'], true, '/work'), null);
  });
});
