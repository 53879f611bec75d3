// The process that test/io/kill_saves.test.ts kills with SIGKILL: it saves version FIRST,
// FIRST + 1, ... of one target until it is killed, printing "saved N" as each save returns.
//   save_loop model|npy TARGET FIRST
// model: saveModel of a Dense model (64 Ki weights, 256 KB) whose weights all equal N, with
//        epochs N; npy: writeNpy (writeFileAtomic) of 64 Ki float32 values equal to N.
import { ndarray } from '../../app/data/ndarray.ts';
import { writeNpy } from '../../app/data/npy.ts';
import { saveModel } from '../../app/io/model_store.ts';
import { Dense, Sequential } from '../../app/model/index.ts';

export const VALUES = 256 * 256;

/** A model whose every weight is `version`, saved with `epochs: version`: a save mixing two versions shows. */
export function versionedModel(): { model: Sequential; setVersion: (version: number) => void } {
  const model = new Sequential([new Dense(256, { inputShape: [255], name: 'd' })], { name: 'versioned' });
  return { model, setVersion: (version) => model.setWeights(model.getWeights().map((w) => new Float32Array(w.length).fill(version))) };
}

function saveForever(kind: string, target: string, first: number): void {
  const { model, setVersion } = versionedModel();
  process.stdout.write('started\n');
  for (let version = first; ; version++) {
    if (kind === 'model') {
      setVersion(version);
      saveModel(model, target, { epochs: version });
    } else {
      writeNpy(target, ndarray('float32', [VALUES], new Float32Array(VALUES).fill(version)));
    }
    process.stdout.write(`saved ${version}\n`);
  }
}

const [kind, target, first] = process.argv.slice(2);
if (kind && target && first) saveForever(kind, target, Number(first));
