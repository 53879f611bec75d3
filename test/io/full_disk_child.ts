// Run by full_disk.test.ts inside a user and mount namespace whose MOUNT is a 160 KiB tmpfs:
// a model folder and a .npy file of 80 to 84 KiB are saved, then saved again, which needs
// room for the old and the new version at once and so fills the disk. Prints what it saw as
// JSON: the errors, whether the first versions are intact, what is left in the folders.
//   node --import tsx full_disk_child.ts MOUNT
import { readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { ndarray } from '../../app/data/ndarray.ts';
import { readNpy, writeNpy } from '../../app/data/npy.ts';
import { loadModelFolder, saveModel } from '../../app/io/model_store.ts';
import { Dense, Sequential } from '../../app/model/index.ts';

const mount = process.argv[2]!;

function messageOf(run: () => void): string | null {
  try {
    run();
    return null;
  } catch (error) {
    return `${(error as Error).name}: ${(error as Error).message}`;
  }
}

const model = new Sequential([new Dense(5000, { inputShape: [3], name: 'd' })], { name: 'big' }); // 80,000 bytes of weights
const modelDir = path.join(mount, 'model');
saveModel(model, modelDir, { epochs: 1 });
const modelError = messageOf(() => saveModel(model, modelDir, { epochs: 2 }));
const modelEpochs = loadModelFolder(modelDir).epochs;
const modelEntries = { mount: readdirSync(mount), folder: readdirSync(modelDir).sort() };
rmSync(modelDir, { recursive: true });

const file = path.join(mount, 'x.npy');
writeNpy(file, ndarray('float32', [21000], new Float32Array(21000).fill(1)));
const npyError = messageOf(() => writeNpy(file, ndarray('float32', [21000], new Float32Array(21000).fill(2))));
const npyValues = [...new Set(readNpy(file).data as Float32Array)];
process.stdout.write(JSON.stringify({ modelError, modelEpochs, modelEntries, npyError, npyValues, npyEntries: readdirSync(mount) }));
