// What can be checked of the installers without Electron's binary or the network (npm run
// dist builds them with electron-builder on a machine that has both): the files the package
// takes from the repository (electron-builder.json's "files" patterns, matched as its globs
// match), that the engine folder electron-builder puts in <resources>/native/ (staged by
// scripts/stage_native.ts) is where the packaged app resolves the addon and loads it, and that
// the addon's dependency closure resolves inside that folder, but for glibc and libstdc++.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ADDON_PATH, addonPathFor, loadNativeEngine } from '../../app/engine/binding.ts';
import { NATIVE_BUNDLE_DIR, SYSTEM_LIBRARY, sharedLibraries, stageNative } from '../../scripts/stage_native.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
const config = JSON.parse(readFileSync(path.join(root, 'electron-builder.json'), 'utf8')) as {
  files: string[];
  extraMetadata: { main: string };
  extraResources: { from: string; to: string }[];
};
const scratch = mkdtempSync(path.join(tmpdir(), 'strata-packaging-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

/** electron-builder's glob subset used in "files": "**" any folders, "*" within a name. */
function globRegExp(pattern: string): RegExp {
  const source = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*\*\//g, '\u0000').replace(/\*/g, '[^/]*').replace(/\u0000/g, '(?:.*/)?');
  return new RegExp(`^${source}$`);
}

/** Whether the package takes `file` (relative to the repository): the last pattern that matches decides. */
function packaged(file: string): boolean {
  let taken = false;
  for (const pattern of config.files) {
    const negated = pattern.startsWith('!');
    if (globRegExp(negated ? pattern.slice(1) : pattern).test(file)) taken = !negated;
  }
  return taken;
}

describe('the package electron-builder.json describes', () => {
  test('takes what the app runs (main, preload, engine process, views, app sources, examples) and leaves out tests and native sources', () => {
    for (const file of ['package.json', config.extraMetadata.main, 'build/electron/preload.cjs', 'build/electron/engine.mjs', 'build/renderer/index.html', 'app/host/engine_process.ts', 'app/engine/binding.ts', 'app/onnx/onnx.proto', 'examples/fashion-mnist-classifier.ts']) {
      assert.ok(packaged(file), `${file} is in the package`);
    }
    for (const file of ['test/io/kill_saves.test.ts', 'app/model/foo.test.ts', 'native/src/engine.cc', 'build/addon/Release/strata_native.node', 'README.md']) {
      assert.ok(!packaged(file), `${file} stays out`);
    }
  });

  test('of the repository\'s files, takes app/, examples/ and package.json, no test and no native source', (t) => {
    const tracked = spawnSync('git', ['ls-files'], { cwd: root, encoding: 'utf8' }).stdout.trim().split('\n');
    const taken = tracked.filter(packaged);
    assert.ok(taken.length > 100, `${taken.length} files`);
    assert.deepEqual([...new Set(taken.map((file) => file.split('/')[0]))].sort(), ['app', 'examples', 'package.json']);
    assert.deepEqual(taken.filter((file) => file.endsWith('.test.ts')), []);
    t.diagnostic(`${taken.length} of the ${tracked.length} tracked files go into the package, with build/electron and build/renderer`);
  });

  test('puts the staged engine folder where the packaged app looks for the addon, and it loads from there with its own libraries', (t) => {
    const engine = config.extraResources.find((entry) => entry.to === 'native/')!;
    assert.equal(path.resolve(root, engine.from), path.resolve(NATIVE_BUNDLE_DIR), 'the folder scripts/stage_native.ts writes');
    const resources = path.join(scratch, 'Strata', 'resources');
    const staged = path.resolve(resources, engine.to);
    const bundled = stageNative(ADDON_PATH, staged);
    const moduleFile = path.join(resources, 'app.asar', 'app', 'engine', 'binding.ts');
    const resolved = addonPathFor(moduleFile, resources);
    assert.equal(resolved, path.join(staged, path.basename(ADDON_PATH)));
    for (const library of ['libdnnl.so.2', 'libonnx_proto.so.1', 'libprotobuf.so.32', 'libgomp.so.1']) assert.ok(bundled.includes(library), `${library} is bundled: ${bundled.join(', ')}`);
    // ldd follows the loader's rules through the whole closure the addon loads (the bundled
    // libraries' own dependencies included): each must resolve to the copy beside the addon.
    const outside = sharedLibraries(resolved).filter(({ name, file }) => !SYSTEM_LIBRARY.test(name) && (file === null || path.dirname(file) !== staged));
    assert.deepEqual(outside, [], 'libraries the addon loads from outside the package');
    t.diagnostic(`bundled beside the addon: ${bundled.join(', ')}`);
    assert.ok(loadNativeEngine(resolved).backends().includes('cpu'));
  });

  test('a source checkout (Node, or Electron run from node_modules) finds the addon in build/addon', () => {
    const source = path.join(root, 'app', 'engine', 'binding.ts');
    assert.equal(addonPathFor(source, undefined), ADDON_PATH);
    assert.equal(addonPathFor(source, path.join(root, 'node_modules', 'electron', 'dist', 'resources')), ADDON_PATH);
  });
});
