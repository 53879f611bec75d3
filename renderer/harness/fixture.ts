// What the harness page reads from fixture.json, and what it puts on the window for the test
// (types only: the test, in Node, shares them).
import type { OpenedDocument, TensorStats } from '../../app/contract/api.ts';
import type { Prediction, RunRecord, RunSignature, TrainingProject, TrainingSettings } from '../../app/contract/training.ts';
import type { MockHost } from '../src/host/mock.ts';

export interface HarnessFixture {
  examples: { name: string; path: string; kind: 'model-module' | 'onnx' }[];
  documents: Record<string, OpenedDocument>;
  /** Files that fail to open: the error's name and message, as the engine sends them. */
  failures: Record<string, { name: string; message: string }>;
  /** By document id, then layer or initializer name. */
  weights: Record<string, Record<string, TensorStats[]>>;
  initializers: Record<string, Record<string, TensorStats>>;
  /** The training sections' answers, the same for every document. */
  training: {
    project: TrainingProject;
    defaults: TrainingSettings;
    runs: RunRecord[];
    /** Every run's inputs and outputs. */
    signature: RunSignature;
    predictions: Prediction[];
    /** Picked files that make predictRun fail, by file name: the error's name and message. */
    predictFailures: Record<string, { name: string; message: string }>;
  };
}

/** The page's global the test reads: the host's calls, and emit() for events. */
export interface HarnessGlobal {
  harness: { host: MockHost };
}
