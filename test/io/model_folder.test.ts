// saveModel never deletes what it did not write: a folder holding anything but a saved model,
// a file, a pipe, the current folder, the home folder and / are refused with a message naming
// what is there, and left as they were. A saved model is replaced whole; a staging folder left
// by a killed save is removed by the next save or load, and a user's folders never are.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { EngineBackend } from '../../app/engine/trainer.ts';
import { ModelCheckpoint } from '../../app/io/callbacks.ts';
import { checkCanSave } from '../../app/io/model_folder.ts';
import { loadModelFolder, saveModel } from '../../app/io/model_store.ts';
import { CustomCallback, Dense, Sequential, optimizers, type Model } from '../../app/model/index.ts';

function smallModel(units = 2): Model {
  const model = new Sequential([new Dense(units, { inputShape: [3], name: 'd' })]);
  model.compile({ optimizer: new optimizers.SGD({ learningRate: 0.1 }), loss: 'mse' });
  return model;
}

/** Every file under `dir` with its bytes, to show that a refused save changed nothing. */
function snapshot(dir: string): Record<string, string> {
  const files: Record<string, string> = {};
  const visit = (folder: string) => {
    for (const entry of readdirSync(folder, { withFileTypes: true })) {
      const full = path.join(folder, entry.name);
      if (entry.isDirectory()) visit(full);
      else files[path.relative(dir, full)] = entry.isSymbolicLink() ? `-> ${readlinkSync(full)}` : readFileSync(full, 'base64');
    }
  };
  visit(dir);
  return files;
}

/** A process id that has just exited (so no running process has it). */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(child.stdout);
}

/** A SaveError whose one-line message matches. */
function refused(pattern: RegExp) {
  return (error: Error) => error.name === 'SaveError' && pattern.test(error.message) && !error.message.includes('\n');
}

describe('saveModel: what it may replace', () => {
  let dir = '';
  before(() => void (dir = mkdtempSync(path.join(tmpdir(), 'strata-folder-'))));
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('a folder holding other files is refused, names them, and is left as it was', () => {
    const target = path.join(dir, 'thesis');
    mkdirSync(path.join(target, 'figures'), { recursive: true });
    writeFileSync(path.join(target, 'thesis.pdf'), 'years of work');
    writeFileSync(path.join(target, 'notes.txt'), 'more');
    writeFileSync(path.join(target, 'figures', 'a.png'), 'png');
    const before = snapshot(dir);
    assert.throws(() => saveModel(smallModel(), target), refused(/thesis: cannot save here: it holds 2 files and 1 folder \(.*thesis\.pdf.*\) that Strata did not write; .*nothing was changed$/));
    assert.deepEqual(snapshot(dir), before);
  });

  test('a saved model with a foreign file added is refused too; the model and the file stay', () => {
    const target = path.join(dir, 'model-plus');
    saveModel(smallModel(), target);
    writeFileSync(path.join(target, 'README.md'), 'mine');
    const before = snapshot(target);
    assert.throws(() => saveModel(smallModel(), target), refused(/it holds 1 file \(README\.md\) that Strata did not write/));
    assert.deepEqual(snapshot(target), before);
  });

  test('a file, a pipe, a dangling link and a foreign model.json are refused by what they are', () => {
    const file = path.join(dir, 'a-file');
    writeFileSync(file, 'twelve bytes');
    assert.throws(() => saveModel(smallModel(), file), refused(/a-file: cannot save here: a file \(12\.00 B\) is there, not a folder/));
    assert.equal(readFileSync(file, 'utf8'), 'twelve bytes');
    const pipe = path.join(dir, 'a-pipe');
    if (spawnSync('mkfifo', [pipe]).status === 0) {
      assert.throws(() => saveModel(smallModel(), pipe), refused(/a named pipe is there/));
      assert.ok(lstatSync(pipe).isFIFO());
    }
    const dangling = path.join(dir, 'dangling');
    symlinkSync(path.join(dir, 'nowhere'), dangling);
    assert.throws(() => saveModel(smallModel(), dangling), refused(/symbolic link to .*nowhere, which does not exist/));
    const project = path.join(dir, 'project');
    mkdirSync(project);
    writeFileSync(path.join(project, 'model.json'), JSON.stringify({ name: 'my web app config' }));
    assert.throws(() => saveModel(smallModel(), project), refused(/it holds 1 file \(model\.json\) that Strata did not write/));
  });

  test('/, the home folder, the current folder and its parents are refused', () => {
    assert.throws(() => saveModel(smallModel(), '/'), refused(/^\/: cannot save here: it is the root of the file system/));
    assert.throws(() => saveModel(smallModel(), homedir()), refused(/it is the home folder/));
    assert.throws(() => saveModel(smallModel(), '.'), refused(/^\.: cannot save here: it is the current folder; save the model to a folder of its own inside it, such as model/));
    // '..' is the home folder itself when the checkout sits directly in it (~/strata): refused either way.
    assert.throws(() => saveModel(smallModel(), '..'), refused(/it holds the current folder|it is the home folder/));
  });

  test('a missing parent folder, or a file as parent, changes nothing', () => {
    assert.throws(() => saveModel(smallModel(), path.join(dir, 'no', 'such', 'folder')), refused(/cannot save \(the folder .* does not exist\); nothing was changed/));
    writeFileSync(path.join(dir, 'plain'), '');
    assert.throws(() => saveModel(smallModel(), path.join(dir, 'plain', 'model')), refused(/plain is not a folder/));
  });

  test('an empty folder and a new folder get the usual permissions, not 0700', () => {
    const reference = path.join(dir, 'reference');
    mkdirSync(reference); // the mode the umask gives a new folder
    const fresh = path.join(dir, 'fresh');
    saveModel(smallModel(), fresh);
    assert.equal(statSync(fresh).mode & 0o777, statSync(reference).mode & 0o777);
    const empty = path.join(dir, 'empty');
    mkdirSync(empty);
    chmodSync(empty, 0o750);
    saveModel(smallModel(), empty);
    assert.deepEqual(readdirSync(empty).sort(), ['group1-shard1of1.bin', 'model.json']);
    assert.equal(statSync(empty).mode & 0o777, 0o750, 'a replaced folder keeps its permissions');
  });

  test('a saved model (or a TensorFlow.js one with several shards) is replaced whole', () => {
    const target = path.join(dir, 'tfjs');
    mkdirSync(target);
    writeFileSync(path.join(target, 'model.json'), JSON.stringify({ modelTopology: {}, weightsManifest: [{ paths: ['group1-shard1of2.bin', 'group1-shard2of2.bin'], weights: [] }] }));
    writeFileSync(path.join(target, 'group1-shard1of2.bin'), 'a');
    writeFileSync(path.join(target, 'group1-shard2of2.bin'), 'b');
    const model = smallModel();
    model.setWeights(model.getWeights().map((w) => w.map(() => 0.5)));
    saveModel(model, target, { epochs: 3 });
    assert.deepEqual(readdirSync(target).sort(), ['group1-shard1of1.bin', 'model.json']);
    const { model: loaded, epochs } = loadModelFolder(target);
    assert.equal(epochs, 3);
    assert.deepEqual(loaded.getWeights(), model.getWeights());
    assert.deepEqual(readdirSync(dir).filter((name) => name.startsWith('.tfjs')), [], 'no staging folder is left');
  });

  test('a symbolic link to a model folder saves through the link and stays a link', () => {
    const real = path.join(dir, 'run-3');
    saveModel(smallModel(), real);
    const link = path.join(dir, 'latest');
    symlinkSync(real, link);
    const model = smallModel();
    model.setWeights(model.getWeights().map((w) => w.map(() => 0.25)));
    saveModel(model, link);
    assert.ok(lstatSync(link).isSymbolicLink());
    assert.deepEqual(loadModelFolder(real).model.getWeights(), model.getWeights());
  });

  test('checkCanSave names --out, not a staging path, when the disk cannot hold the model', () => {
    const target = path.join(dir, 'big');
    assert.throws(() => checkCanSave(target, Number.MAX_SAFE_INTEGER), refused(/^.*big: cannot save: the disk holding .* has .* free and the model needs about .*; free some space first$/));
    assert.equal(existsSync(target), false);
    assert.deepEqual(readdirSync(dir).filter((name) => name.startsWith('.big')), []);
    checkCanSave(target, 1);
  });
});

describe('saveModel: a full disk', () => {
  const mountPoint = mkdtempSync(path.join(tmpdir(), 'strata-full-'));
  const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', mountPoint]).status === 0;
  after(() => {
    if (mounted) spawnSync('umount', [mountPoint]);
    rmSync(mountPoint, { recursive: true, force: true });
  });

  test('fails naming the folder given, keeps the model saved before, leaves no staging', { skip: !mounted && 'mounting a 64 KB tmpfs needs root' }, () => {
    const target = path.join(mountPoint, 'trained');
    saveModel(smallModel(2), target, { epochs: 1 });
    const before = snapshot(mountPoint);
    assert.throws(() => saveModel(smallModel(20000), target), refused(new RegExp(`^${target}: cannot save \\(the disk is full\\); nothing was changed$`)));
    assert.deepEqual(snapshot(mountPoint), before);
    assert.equal(loadModelFolder(target).epochs, 1);
  });

  test('a read-only file system is found by checkCanSave before training, naming the folder given', { skip: !mounted && 'mounting a tmpfs needs root' }, () => {
    const target = path.join(mountPoint, 'read-only-model');
    assert.equal(spawnSync('mount', ['-o', 'remount,ro', mountPoint]).status, 0);
    try {
      assert.throws(() => checkCanSave(target, 1), refused(new RegExp(`^${target}: cannot save \\(the file system is read-only in ${mountPoint}\\); nothing was changed$`)));
    } finally {
      spawnSync('mount', ['-o', 'remount,rw', mountPoint]);
    }
  });
});

describe('staging folders of a killed save', () => {
  let dir = '';
  before(() => void (dir = mkdtempSync(path.join(tmpdir(), 'strata-staging-'))));
  after(() => rmSync(dir, { recursive: true, force: true }));

  /** A folder beside `target` named `name`, holding model files and the given extra files. */
  function leftover(name: string, extra: Record<string, string>): string {
    const folder = path.join(dir, name);
    mkdirSync(folder);
    writeFileSync(path.join(folder, 'group1-shard1of1.bin'), Buffer.alloc(4096));
    for (const [file, content] of Object.entries(extra)) writeFileSync(path.join(folder, file), content);
    return folder;
  }

  test('the next save removes ours (marker or temporary file of a dead process) and nothing else', () => {
    const target = path.join(dir, 'trained');
    const dead = deadPid();
    const stale = leftover('.trained.0123abcd', { '.strata-staging': `${dead}\n` });
    const staleOld = leftover('.trained.0123abcd.old', { '.strata-staging': `${dead}\n`, 'model.json': JSON.stringify({ modelTopology: {}, weightsManifest: [{ paths: ['group1-shard1of1.bin'], weights: [] }] }) });
    const legacy = leftover('.trained.Ab3xY9', { [`.model.json.${dead}.tmp`]: '{' });
    const running = leftover('.trained.89abcdef', { '.strata-staging': `${process.pid}\n` });
    const users = leftover('.trained.backup', {});
    const usersLookalike = leftover('.trained.fedcba98', {});
    const mixed = leftover('.trained.76543210', { '.strata-staging': `${dead}\n`, 'thesis.pdf': 'mine' });
    saveModel(smallModel(), target);
    for (const gone of [stale, staleOld, legacy]) assert.equal(existsSync(gone), false, `${gone} is removed`);
    for (const kept of [running, users, usersLookalike]) assert.ok(existsSync(path.join(kept, 'group1-shard1of1.bin')), `${kept} is left alone`);
    assert.deepEqual(readdirSync(mixed), ['thesis.pdf'], 'only our files go from a folder with a foreign file');
  });

  test('a save killed between its two renames (the old folder aside, the new one not in place) is finished by the next load or save', () => {
    for (const next of ['load', 'save'] as const) {
      const target = path.join(dir, `renamed-by-${next}`);
      saveModel(smallModel(), target, { epochs: 1 });
      const newer = `${target}-newer`;
      saveModel(smallModel(), newer, { epochs: 2 });
      // The state commitStaging leaves when killed after its first rename: both folders marked by a dead process.
      const staging = path.join(dir, `.${path.basename(target)}.0a1b2c3d`);
      renameSync(target, `${staging}.old`);
      renameSync(newer, staging);
      for (const folder of [staging, `${staging}.old`]) writeFileSync(path.join(folder, '.strata-staging'), `${deadPid()}\n`);
      if (next === 'load') assert.equal(loadModelFolder(target).epochs, 2, 'the new version is in place');
      else saveModel(smallModel(), target, { epochs: 3 });
      assert.equal(loadModelFolder(target).epochs, next === 'load' ? 2 : 3);
      assert.deepEqual(readdirSync(dir).filter((name) => name.includes(path.basename(target))), [path.basename(target)]);
      assert.deepEqual(readdirSync(target).sort(), ['group1-shard1of1.bin', 'model.json']);
    }
  });

  test('an empty staging folder (a save killed before it marked it) is removed; a user\'s empty look-alike too, as nothing is lost', () => {
    const target = path.join(dir, 'unmarked');
    saveModel(smallModel(), target);
    const empty = path.join(dir, '.unmarked.12345678');
    mkdirSync(empty);
    loadModelFolder(target);
    assert.equal(existsSync(empty), false);
  });

  test('loading the folder removes them too', () => {
    const target = path.join(dir, 'loaded');
    saveModel(smallModel(), target);
    const stale = leftover('.loaded.00ff00ff', { '.strata-staging': `${deadPid()}\n`, [`.model.json.${deadPid()}.tmp`]: '' });
    loadModelFolder(target);
    assert.equal(existsSync(stale), false);
  });
});

describe('loadModelFolder', () => {
  test('reads model.json itself when given only the folder; a folder without one is a one-line error', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'strata-load-'));
    try {
      const model = smallModel();
      saveModel(model, path.join(dir, 'm'), { epochs: 4 });
      const { model: loaded, epochs } = loadModelFolder(path.join(dir, 'm'));
      assert.equal(epochs, 4);
      assert.deepEqual(loaded.getWeights(), model.getWeights());
      assert.throws(() => loadModelFolder(dir), (error: Error) => error.name === 'ConfigError' && /model\.json: no such file; a saved model folder holds model\.json/.test(error.message));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('ModelCheckpoint', () => {
  test('a fixed folder holding other files is refused before the first epoch', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'strata-checkpoint-'));
    try {
      const target = path.join(dir, 'ckpt');
      mkdirSync(target);
      writeFileSync(path.join(target, 'notes.txt'), 'mine');
      const model = smallModel();
      let epochs = 0;
      const engine = new EngineBackend({ write: () => {} });
      const x = { dtype: 'float32' as const, shape: [4, 3], data: new Float32Array(12) };
      const y = { dtype: 'float32' as const, shape: [4, 2], data: new Float32Array(8) };
      await assert.rejects(
        engine.fit(model, [x], [y], { epochs: 2, callbacks: [new CustomCallback({ onEpochEnd: () => void epochs++ }), new ModelCheckpoint(target)] }),
        refused(/ckpt: cannot save here: it holds 1 file \(notes\.txt\) that Strata did not write/),
      );
      assert.equal(epochs, 0);
      assert.deepEqual(readdirSync(target), ['notes.txt']);
      // A template's folders are checked as each is written; a new folder is fine.
      await engine.fit(model, [x], [y], { epochs: 1, callbacks: [new ModelCheckpoint(path.join(dir, 'ckpt-{epoch:02d}'))] });
      assert.equal(loadModelFolder(path.join(dir, 'ckpt-01')).epochs, 1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
