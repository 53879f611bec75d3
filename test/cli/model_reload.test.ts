// A model file edited while the process runs (the app's engine process lives for the whole
// session): loading it again gives the edited model, not the one Node cached at first.
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { loadModel } from '../../app/cli/load_model.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
// Inside the repository, so that the file's import of 'strata' resolves.
const dir = path.join(root, 'build', 'test-model-reload');
after(() => rmSync(dir, { recursive: true, force: true }));

test('a model file changed on disk loads as changed; an unchanged one is the cached module', async () => {
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, 'model.ts');
  const source = readFileSync(path.join(root, 'test/fixtures/models/tiny-classifier.ts'), 'utf8');
  writeFileSync(file, source);
  const first = await loadModel(file);
  assert.equal(first.countParams(), 4 * 8 + 8 + 8 * 3 + 3);
  assert.equal(await loadModel(file), first, 'unchanged: the same module, not run again');
  writeFileSync(file, source.replace('new Dense(8,', 'new Dense(16,'));
  utimesSync(file, new Date(), new Date(Date.now() + 5000)); // a later mtime even on a coarse clock
  const edited = await loadModel(file);
  assert.equal(edited.countParams(), 4 * 16 + 16 + 16 * 3 + 3);
});
