// What the training views and the processes behind them exchange (issue 19): data sources and
// their preview, the settings of a fit as Keras names them, runs as the project folder keeps
// them (app/io/runs.ts writes them, `strata train --project` too), the events of a run in
// progress, evaluations and predictions. Pure TypeScript, part of the contract (api.ts).

/** Where training data comes from: the loaders of app/data, as `strata train --data` reads them. */
export type DataSource =
  /** Debian's dataset-fashion-mnist. */
  | { kind: 'fashion-mnist' }
  /** A folder of IDX files, a folder of class subfolders of images, a .csv file or an .npz archive. */
  | { kind: 'path'; path: string; /** CSV: the label column, by name or 0-based index (default: the last). */ labelColumn?: string }
  /** Two .npy files: features and labels. */
  | { kind: 'arrays'; x: string; y: string }
  /** The data the model file builds in code (its `export function data()`). */
  | { kind: 'model-file'; file: string };

/** Keras's validation_split (the last fraction of the training data) or validation_data (the data's test split). */
export type ValidationSetting = { kind: 'none' } | { kind: 'split'; fraction: number } | { kind: 'test' };

/** An array's shape, dtype and value range. */
export interface ArraySummary {
  shape: number[];
  dtype: string;
  min: number;
  max: number;
}

export interface SplitSummary {
  name: 'train' | 'validation' | 'test';
  size: number;
  /** One per model input. */
  x: ArraySummary[];
  /** One per model output. */
  y: ArraySummary[];
  /** Samples per class id (the first output's labels), where the labels are classes. */
  classCounts: number[] | null;
}

/** An image as 8-bit pixels, rows top to bottom, channels interleaved. */
export interface SampleImage {
  width: number;
  height: number;
  channels: 1 | 3;
  pixels: Uint8Array;
}

/** One sample to show: an image, or a row of feature values. */
export interface DataSample {
  /** Its index in its split. */
  index: number;
  /** The class name, or the target value(s), as text. */
  label: string;
  image?: SampleImage;
  values?: number[];
}

export interface DataPreview {
  /** "Fashion-MNIST (Debian dataset-fashion-mnist)", "1,200 rows of iris.csv". */
  description: string;
  classNames: string[] | null;
  /** Column names of a CSV file's features, for rows. */
  featureNames: string[] | null;
  splits: SplitSummary[];
  /** The first samples of the training split. */
  samples: DataSample[];
  /** Why the model cannot train on this data (a shape, a dtype, a label), in one line naming both sides; null when it can. */
  mismatch: string | null;
}

/** Keras's compile(): the optimizer as Keras's {class_name, config} (snake_case, learning_rate a number or a schedule's config). */
export interface CompileSettings {
  optimizer: { class_name: string; config: Record<string, unknown> };
  /** A Keras loss name ('sparse_categorical_crossentropy', 'mse', ...): every output's, or where `outputs` is given, the first output's. */
  loss: string;
  fromLogits: boolean;
  /** Keras's metrics: every output's, or where `outputs` is given, those of outputs without their own ('accuracy', 'mae', 'mse', {class_name: 'RootMeanSquaredError', ...}). */
  metrics: MetricSetting[];
  /** A model of several outputs: each output's loss and weight, as Keras's compile(loss={...}, loss_weights={...}); these win over `loss`. */
  outputs?: OutputLossSettings[];
}

/** A metric as Keras's training_config spells it: the name given to compile(), or a class as {class_name, config: {name}}. */
export type MetricSetting = string | { class_name: string; config: { name: string } };

export interface OutputLossSettings {
  /** The output layer's name. */
  output: string;
  loss: string;
  fromLogits: boolean;
  weight: number;
  /** This output's metrics; absent: CompileSettings.metrics. */
  metrics?: MetricSetting[];
}

/** Keras's callbacks the app offers; null: not used. Names and defaults are Keras's. */
export interface CallbackSettings {
  earlyStopping: { monitor: string; patience: number; minDelta: number; restoreBestWeights: boolean } | null;
  /** ModelCheckpoint into the run's folder: every epoch (epoch-NN/) or the best so far (best/). */
  modelCheckpoint: { monitor: string; saveBestOnly: boolean } | null;
  reduceLrOnPlateau: { monitor: string; factor: number; patience: number; minLr: number } | null;
}

/** Keras's fit() arguments. */
export interface FitSettings {
  epochs: number;
  batchSize: number;
  shuffle: boolean;
  validation: ValidationSetting;
  /** Seeds shuffling and Dropout (`strata train` also seeds a model file's initial weights with it); null: random. */
  seed: number | null;
  callbacks: CallbackSettings;
  /**
   * How often the run's checkpoint is saved: every N epochs (absent: 1, every epoch), or
   * 'none' (only when the run stops or ends). A resume goes on from the last one.
   */
  checkpointEvery?: number | 'none';
}

export interface TrainingSettings {
  data: DataSource;
  compile: CompileSettings;
  fit: FitSettings;
  device: 'cpu' | 'cuda';
  /** The engine's threads: 'auto' (all cores while they are fastest, fewer when other work slows them) or a fixed count. */
  threads: 'auto' | number;
}

export type RunStatus = 'running' | 'stopped' | 'finished' | 'failed';

/** A run in the project folder (runs/<id>/run.json), as `strata train --project` and the app write it. */
export interface RunRecord {
  format: 'strata-run';
  version: 1;
  id: string;
  status: RunStatus;
  /** Why it failed, or where it stopped. */
  message?: string;
  /** ISO times. */
  created: string;
  updated: string;
  /** What wrote it: 'app' or 'cli'. */
  writer: 'app' | 'cli';
  /** The process training it, while it trains: a run marked running whose process is gone was cut off. */
  process: { pid: number; host: string } | null;
  model: {
    name: string;
    /** The model file or folder it was loaded from, as given. */
    source: string;
    /** The model version it trained: a hash of its Keras JSON and its initial weights. */
    version: string;
    params: number;
  };
  data: { description: string; train: number; validation: number; test: number; classNames: string[] | null };
  settings: TrainingSettings;
  /** Keras's initial_epoch: epochs the model had trained before this run (a saved model trained on); 0 for a new model. */
  initialEpoch: number;
  /** Epochs completed, counted as Keras counts them (from 0, or from initialEpoch): the next epoch's number. */
  epochs: number;
  /** Keras's History.history: one value per epoch this run completed (from initialEpoch), by log name (loss, accuracy, val_loss, ...). */
  history: Record<string, number[]>;
  /** Every training step's own value (not the epoch's running mean): x is the epoch's fraction done (0.5: half of the first epoch). */
  batches: { x: number[]; values: Record<string, number[]> };
  /** Mid-epoch, where a stop left it (epoch 0-based, steps done of the epoch's steps); null at an epoch's end. */
  stoppedAt: { epoch: number; step: number; steps: number } | null;
  /** Metrics on the test split after training, where the data has one. */
  test: Record<string, number> | null;
  /** Seconds spent in fit(), over every resume. */
  seconds: number;
  /** Each completed epoch's seconds (its steps and its validation), as `strata train --json` reports them. */
  epochSeconds: number[];
  /** Training samples per second, over the completed epochs. */
  samplesPerSecond: number | null;
}

/** A project's runs, newest first, and a line for each run folder that could not be read. */
export interface RunListing {
  runs: RunRecord[];
  problems: string[];
}

/** Where a document's runs are kept. */
export interface TrainingProject {
  /** The project folder, as the host names paths. */
  path: string;
  /** True when the model belongs to no project and its runs are kept in the app's own folder for it. */
  inAppFolder: boolean;
}

/** What a run streams while it trains; batch events come at most every BATCH_EVENT_MS, carrying every step since the last. */
export type TrainingEvent =
  | { kind: 'started'; project: string; run: RunRecord }
  | {
      kind: 'batch';
      runId: string;
      /** 0-based. */
      epoch: number;
      epochs: number;
      /** Steps done in this epoch, and its steps. */
      step: number;
      steps: number;
      /** The steps since the last event: x as in RunRecord.batches, and each step's own values. */
      points: { x: number[]; values: Record<string, number[]> };
      /** Keras's running means over the epoch so far (the progress bar's). */
      logs: Record<string, number>;
      samplesPerSecond: number;
      etaSeconds: number;
    }
  | { kind: 'epoch'; runId: string; epoch: number; logs: Record<string, number>; seconds: number }
  /** Between the last step and the end: validation, the test split's evaluation, saving. */
  | { kind: 'phase'; runId: string; phase: 'validating' | 'testing' | 'saving' }
  | { kind: 'ended'; project: string; run: RunRecord };

/** The most often batch events are sent. */
export const BATCH_EVENT_MS = 100;

export interface ClassReport {
  precision: number;
  recall: number;
  f1: number;
  /** Samples of this class in the data. */
  support: number;
}

/** A run's trained model on held-out data: Keras's evaluate(), then each output on its own. */
export interface Evaluation {
  runId: string;
  /** The split evaluated ('test', or 'validation' when the data has no test split) and its source. */
  split: 'test' | 'validation';
  description: string;
  /** Keras's evaluate(): loss and metrics. */
  metrics: Record<string, number>;
  /** One per model output, in the model's order. */
  outputs: OutputEvaluation[];
}

/** A classifier output (trained with a crossentropy loss) against its targets. */
export interface ClassifierEvaluation {
  kind: 'classifier';
  /** The output's (its layer's) name. */
  output: string;
  classNames: string[];
  /** confusion[true][predicted]: sample counts. */
  confusion: number[][];
  perClass: ClassReport[];
  /** Per sample of the split, in order: the true class, the predicted class and its probability. */
  truth: number[];
  predicted: number[];
  confidence: number[];
}

/** A regression output (any other loss) against its targets. */
export interface RegressionEvaluation {
  kind: 'regression';
  /** The output's (its layer's) name. */
  output: string;
  /** Values per sample of the output (1 for one number a sample). */
  width: number;
  /** Every sample's true and predicted values, sample after sample (`width` each). */
  truth: number[];
  predicted: number[];
  /** Over every value: the mean absolute error, the root mean squared error, and R² (1 - residual / total sum of squares; null where the targets do not vary). */
  mae: number;
  rmse: number;
  r2: number | null;
}

export type OutputEvaluation = ClassifierEvaluation | RegressionEvaluation;

/** A file to predict on, with its bytes (the views read it from the user's machine). */
export interface PredictFile {
  name: string;
  bytes: Uint8Array;
  /**
   * The model input the file feeds, by name. A model of one input may leave it out (then every
   * file is a batch of its own for that input); a model of several takes one file per input.
   */
  input?: string;
}

/** A model input or output as Predict names it: the layer's name and its shape (null: any size, the batch). */
export interface TensorSignature {
  name: string;
  shape: (number | null)[];
}

/** What a run's trained model takes and gives, for choosing the files Predict feeds it. */
export interface RunSignature {
  inputs: TensorSignature[];
  outputs: TensorSignature[];
}

export interface ClassProbability {
  classId: number;
  label: string;
  probability: number;
}

export interface Prediction {
  /** The file (the files, for a model of several inputs), and the row for files of several samples (.npy, CSV). */
  name: string;
  /** The model output it is of, by name: several outputs give one prediction each per sample. */
  output: string;
  /** The highest classes first (at most five); a regression output gives its values instead. */
  top: ClassProbability[];
  values?: number[];
}
