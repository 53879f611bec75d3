// A finished run's record, as tests of runs build them: two epochs of a tiny model on an
// .npz file, with a validation split; fields given replace the defaults.
import type { RunRecord } from '../../app/contract/training.ts';

export function runRecord(id: string, overrides: Partial<RunRecord> = {}): RunRecord {
  return {
    format: 'strata-run',
    version: 1,
    id,
    status: 'finished',
    created: '2025-03-14T09:15:02.000Z',
    updated: '2025-03-14T09:16:02.000Z',
    writer: 'app',
    process: null,
    model: { name: 'tiny', source: 'tiny.ts', version: 'abc', params: 59 },
    data: { description: 'arrays', train: 80, validation: 20, test: 0, classNames: null },
    settings: {
      data: { kind: 'path', path: 'data.npz' },
      compile: { optimizer: { class_name: 'Adam', config: { learning_rate: 0.001 } }, loss: 'sparse_categorical_crossentropy', fromLogits: false, metrics: ['accuracy'] },
      fit: { epochs: 2, batchSize: 32, shuffle: true, validation: { kind: 'split', fraction: 0.2 }, seed: 1, callbacks: { earlyStopping: null, modelCheckpoint: null, reduceLrOnPlateau: null } },
      device: 'cpu',
      threads: 'auto',
    },
    initialEpoch: 0,
    epochs: 2,
    history: { loss: [0.9, 0.5], accuracy: [0.6, 0.8], val_loss: [0.8, 0.6] },
    batches: { x: [0.5, 1, 1.5, 2], values: { loss: [1, 0.8, 0.6, 0.4] } },
    stoppedAt: null,
    test: null,
    seconds: 2,
    epochSeconds: [1, 1],
    samplesPerSecond: 80,
    ...overrides,
  };
}
