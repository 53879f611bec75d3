// A full disk during a save, without root: the save runs in a user and mount namespace
// (unshare --user --map-root-user --mount, which Linux grants unprivileged users where user
// namespaces are enabled) on a 160 KiB tmpfs, so saving again, which needs room for the old
// and the new version at once, fills it. The save fails with one line naming the target and
// "the disk is full", and the version saved before is intact, with nothing left beside it.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
const child = fileURLToPath(new URL('./full_disk_child.ts', import.meta.url));
const mount = mkdtempSync(path.join(tmpdir(), 'strata-full-disk-'));
after(() => rmSync(mount, { recursive: true, force: true }));

const namespaces = spawnSync('unshare', ['--user', '--map-root-user', '--mount', 'true']);
const unavailable = namespaces.status !== 0 && `unshare --user --mount is not permitted here (${(namespaces.stderr?.toString() || String(namespaces.error)).trim()})`;

test('a full disk: saveModel and writeNpy fail naming the target, the previous version intact, nothing left', { skip: unavailable }, () => {
  const script = 'mount -t tmpfs -o size=160k tmpfs "$1" && exec "$2" --import tsx "$3" "$1"';
  const run = spawnSync('unshare', ['--user', '--map-root-user', '--mount', 'sh', '-c', script, 'sh', mount, process.execPath, child], { cwd: root, encoding: 'utf8' });
  assert.equal(run.status, 0, run.stderr);
  const seen = JSON.parse(run.stdout) as Record<string, unknown>;
  const modelDir = path.join(mount, 'model');
  assert.equal(seen.modelError, `SaveError: ${modelDir}: cannot save (the disk is full); nothing was changed`);
  assert.equal(seen.modelEpochs, 1);
  assert.deepEqual(seen.modelEntries, { mount: ['model'], folder: ['group1-shard1of1.bin', 'model.json'] });
  const file = path.join(mount, 'x.npy');
  assert.equal(seen.npyError, `SaveError: ${file}: cannot save (the disk is full); nothing was changed`);
  assert.deepEqual(seen.npyValues, [1]);
  assert.deepEqual(seen.npyEntries, ['x.npy']);
});
