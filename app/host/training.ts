// Training in the engine process: the contract's training methods (data preview, start, stop,
// resume, runs, evaluation, prediction, export) for the models its DocumentStore holds. A fit
// is the engine's own (EngineBackend.fit, as `strata train` runs it) with a RunRecorder that
// writes the run into the project folder and streams its events to the app; while it trains,
// the process answers other calls between steps (each step runs off the event loop).
//
// One run trains at a time. A run trains a copy of the document's model (its weights as
// loaded), so every run of a document starts from the same weights and the document stays
// as opened; Resume, Evaluate, Predict and Export read the run's checkpoint.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ExportResult, KerasModelJson } from '../contract/api.ts';
import type {
  ArraySummary, ClassProbability, CompileSettings, DataPreview, DataSample, Evaluation, PredictFile, Prediction, RunListing, RunRecord, RunSignature, SplitSummary, TensorSignature, TrainingEvent, TrainingSettings,
} from '../contract/training.ts';
import { impliedLoss } from '../cli/commands/train.ts';
import { UserError, internalErrorDetail } from '../cli/errors.ts';
import { hasModelFileData } from '../cli/model_file_data.ts';
import { type TrainingData, splitsOf } from '../cli/training_data.ts';
import { type Dataset, split } from '../data/dataset.ts';
import { readInputFile } from '../data/input_files.ts';
import { type NdArray, formatShape, shapeSize } from '../data/ndarray.ts';
import { type DatasetSplit, validateDataset } from '../data/validate.ts';
import { loadNativeEngine } from '../engine/binding.ts';
import { EngineBackend, type Interruption } from '../engine/trainer.ts';
import { loadModelFolder } from '../io/model_store.ts';
import { RunRecorder, checkCallbackSettings, compileSettingsOf, compileWith, newRunRecord, openCheckpoint, settingsCallbacks, type RunCheckpointState } from '../io/run_recorder.ts';
import { checkpointFolder, createRun, deleteRun, historyCsv, listRuns, readRun } from '../io/runs.ts';
import { type ArrayData, type Callback, type Logs, type Model, type SymbolicTensor, ValueError, isUserError, losses, metrics, modelFromJSON } from '../model/index.ts';
import { OnnxRuntimeBackend } from '../runtime/onnx_backend.ts';
import { exportOnnx } from '../translate/to_onnx.ts';
import type { DocumentStore } from './documents.ts';
import { classIds, classProbabilities, evaluateOutput, outputReadings, rowOf } from './evaluation.ts';

/** Samples the Data view shows. */
const PREVIEW_SAMPLES = 24;
/** Classes listed per prediction. */
const TOP_CLASSES = 5;

interface ActiveRun {
  project: string;
  recorder: RunRecorder;
  engine: EngineBackend;
}

export class TrainingService {
  readonly #documents: DocumentStore;
  readonly #emit: (event: TrainingEvent) => void;
  #active: ActiveRun | null = null;

  constructor(documents: DocumentStore, emit: (event: TrainingEvent) => void) {
    this.#documents = documents;
    this.#emit = emit;
  }

  /** Keras's defaults for the document's model: its own compile() where it has one, the model file's own data where it exports some. */
  async defaults(documentId: string, edited?: KerasModelJson): Promise<TrainingSettings> {
    const { model, modelFile } = this.#documents.modelOf(documentId, edited);
    return {
      data: await defaultData(modelFile),
      compile: model.compiled ? compileSettingsOf(model) : kerasDefaultCompile(model),
      fit: { epochs: 1, batchSize: 32, shuffle: true, validation: { kind: 'none' }, seed: null, callbacks: { earlyStopping: null, modelCheckpoint: null, reduceLrOnPlateau: null } },
      device: 'cpu',
      threads: defaultThreads(),
    };
  }

  /** What the data holds, a few samples, and whether the document's model can train on it with these settings. */
  async preview(documentId: string, settings: TrainingSettings, edited?: KerasModelJson): Promise<DataPreview> {
    const model = compiledCopy(this.#documents.modelOf(documentId, edited).model, settings, false);
    const data = await this.#documents.data.load(settings.data, model);
    let splits: DatasetSplit[];
    let mismatch: string | null = null;
    try {
      splits = heldOutSplits(data, settings);
      validateDataset(model, splits);
    } catch (error) {
      if (!isUserError(error)) throw error;
      mismatch = (error as Error).message;
      splits = splitsOf(data);
    }
    const classNames = data.train.classNames ?? null;
    return {
      description: data.description,
      classNames,
      featureNames: data.featureNames ?? null,
      splits: splits.map((s) => summarizeSplit(s.name as SplitSummary['name'], s.data)),
      samples: sampleRows(data.train, [...Array(Math.min(PREVIEW_SAMPLES, data.train.size)).keys()], classNames),
      mismatch,
    };
  }

  /** Checks everything, creates the run in `project`, and trains it in the background; resolves with the new run. */
  async start(documentId: string, project: string, settings: TrainingSettings, edited?: KerasModelJson): Promise<RunRecord> {
    this.#checkIdle();
    const { source, model: original } = this.#documents.modelOf(documentId, edited);
    const model = compiledCopy(original, settings, true);
    const data = await this.#documents.data.load(settings.data, model);
    const splits = heldOutSplits(data, settings);
    validateDataset(model, splits);
    checkCallbackSettings(settings.fit.callbacks, model, splits.some((s) => s.name === 'validation') || settings.fit.validation.kind === 'test');
    checkDevice(settings.device);
    this.#checkIdle(); // another start may have come in while the data loaded
    const record = newRunRecord({ writer: 'app', model, modelSource: source, data, splits, settings, initialEpoch: 0 });
    createRun(project, record);
    this.#train(project, record, model, data, null);
    return record;
  }

  /**
   * Goes on with a stopped run from its checkpoint (weights, optimizer state, callbacks'
   * state, history, and a stop's mid-epoch position), exactly as the uninterrupted run would.
   */
  async resume(project: string, runId: string): Promise<RunRecord> {
    this.#checkIdle();
    const record = readRun(project, runId);
    if (record.status !== 'stopped' && !(record.status === 'running' && this.#active?.recorder.record.id !== runId)) {
      throw new ValueError(`run ${runId} is ${record.status}: only a stopped run can be resumed${record.status === 'finished' ? '; start a new run to train more' : ''}`);
    }
    if (record.epochs >= record.settings.fit.epochs) throw new ValueError(`run ${runId} has trained all of its ${record.settings.fit.epochs} epochs`);
    const { model, resume } = openCheckpoint(project, record);
    const data = await this.#documents.data.load(record.settings.data, model);
    validateDataset(model, heldOutSplits(data, record.settings));
    this.#checkIdle();
    this.#train(project, record, model, data, resume);
    return record;
  }

  /** Asks the run to stop before its next step; it ends with an 'ended' event (status stopped). */
  stop(runId: string): void {
    const active = this.#active;
    if (!active || active.recorder.record.id !== runId) throw new ValueError(`run ${runId} is not training`);
    active.engine.interrupt();
  }

  /** The run training now, if any (a view that connects later picks it up). */
  status(): { project: string; run: RunRecord } | null {
    return this.#active ? { project: this.#active.project, run: this.#active.recorder.record } : null;
  }

  list(project: string): RunListing {
    return listRuns(project);
  }

  delete(project: string, runId: string): void {
    if (this.#active?.project === project && this.#active.recorder.record.id === runId) throw new ValueError(`run ${runId} is training; stop it before deleting it`);
    deleteRun(project, runId);
  }

  historyCsv(project: string, runId: string): ExportResult {
    const text = historyCsv(readRun(project, runId));
    return { download: { fileName: `history-${runId}.csv`, mimeType: 'text/csv', bytes: new TextEncoder().encode(text) } };
  }

  exportModel(project: string, runId: string): ExportResult {
    const { model } = this.#checkpoint(project, runId);
    return { download: { fileName: `${model.name}-${runId}.onnx`, mimeType: 'application/octet-stream', bytes: exportOnnx(model) } };
  }

  /**
   * The run's trained model on held-out data (the test split, or the validation data): Keras's
   * evaluate() metrics, and per sample the true class, the predicted one and its probability.
   */
  async evaluate(project: string, runId: string): Promise<Evaluation> {
    const { record, model } = this.#checkpoint(project, runId);
    const { split: name, data: heldOut, description } = await this.#heldOut(record, model);
    const engine = new EngineBackend({ backend: 'cpu', write: () => {}, interactive: false, numThreads: engineThreads(record.settings.threads) });
    const batchSize = record.settings.fit.batchSize;
    const metrics = await engine.evaluate(model, heldOut.x, heldOut.y, { batchSize });
    const outputs = (await engine.predict(model, heldOut.x, { batchSize })) as NdArray[];
    const readings = outputReadings(model, record);
    return { runId, split: name, description, metrics, outputs: readings.map((reading, o) => evaluateOutput(reading, heldOut.y[o]!, outputs[o]!)) };
  }

  /** Samples of the held-out data Evaluate used, to show beside their predictions. */
  async samples(project: string, runId: string, indices: number[]): Promise<DataSample[]> {
    const { record, model } = this.#checkpoint(project, runId);
    const { data } = await this.#heldOut(record, model);
    for (const index of indices) {
      if (!Number.isInteger(index) || index < 0 || index >= data.size) throw new ValueError(`sample ${index} is outside the ${data.size} held-out samples`);
    }
    return sampleRows(data, indices, record.data.classNames);
  }

  /** The inputs and outputs of the run's trained model, as Predict asks for files. */
  signature(project: string, runId: string): RunSignature {
    return signatureOf(this.#checkpoint(project, runId).model);
  }

  /**
   * The run's model, on onnxruntime, on the files the user picked: per sample and output, the
   * top classes of a classifier output, the values of any other. A model of one input takes
   * any number of files, each a batch of its own; a model of several takes one file per input,
   * all with the same number of samples.
   */
  async predict(project: string, runId: string, files: PredictFile[]): Promise<Prediction[]> {
    const { record, model } = this.#checkpoint(project, runId);
    const { inputs } = signatureOf(model);
    const batches = batchesOf(files, inputs);
    const outputs = outputReadings(model, record);
    const byOutput: Prediction[][] = outputs.map(() => []);
    const scratch = mkdtempSync(path.join(os.tmpdir(), 'strata-predict-'));
    try {
      for (const batch of batches) {
        const arrays = await readBatch(batch, scratch);
        const results = (await new OnnxRuntimeBackend().predict(model, arrays as ArrayData[], { batchSize: 32 })) as NdArray[];
        const rows = arrays[0]!.shape[0]!;
        const name = batch.map((file) => file.name).join(' + ');
        outputs.forEach((output, o) => {
          for (let row = 0; row < rows; row++) {
            const values = rowOf(results[o]!, row);
            const label = rows === 1 ? name : `${name} [${row}]`;
            byOutput[o]!.push(output.classifier ? { name: label, output: output.name, top: topClasses(classProbabilities(values, output), output.classNames) } : { name: label, output: output.name, top: [], values });
          }
        });
      }
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
    return byOutput.flat();
  }

  #checkIdle(): void {
    if (this.#active) throw new ValueError(`run ${this.#active.recorder.record.id} is training; stop it, or wait for it to end, before starting another`);
  }

  #checkpoint(project: string, runId: string): { record: RunRecord; model: Model } {
    const record = readRun(project, runId);
    if (record.epochs === 0 && record.stoppedAt === null) throw new ValueError(`run ${runId} has no trained weights yet (no step finished)`);
    return { record, model: loadModelFolder(checkpointFolder(project, runId)).model };
  }

  async #heldOut(record: RunRecord, model: Model): Promise<{ split: 'test' | 'validation'; data: Dataset; description: string }> {
    const data = await this.#documents.data.load(record.settings.data, model);
    if (data.test) return { split: 'test', data: data.test, description: `the test split of ${data.description}` };
    const validation = record.settings.fit.validation;
    if (validation.kind === 'split') return { split: 'validation', data: split(data.train, validation.fraction).validation, description: `the validation split of ${data.description}` };
    throw new ValueError(`run ${record.id}: ${data.description} has no test split and the run held out no validation data; train with a validation split to evaluate`);
  }

  /** Trains in the background; every outcome ends in an 'ended' event and run.json. */
  #train(project: string, record: RunRecord, model: Model, data: TrainingData, resume: RunCheckpointState | null): void {
    const settings = record.settings;
    const engine = new EngineBackend({ backend: settings.device, numThreads: engineThreads(settings.threads), write: () => {}, interactive: false });
    const callbacks = settingsCallbacks(settings.fit.callbacks, project, record.id);
    const recorder = new RunRecorder(project, record, { onEvent: this.#emit, callbacks, resume, ...(data.train.classNames ? { classNames: data.train.classNames } : {}) });
    this.#active = { project, recorder, engine };
    this.#emit({ kind: 'started', project, run: record });
    void this.#fit(engine, recorder, callbacks, model, data, resume)
      .catch((error: unknown) => recorder.finish('failed', { message: oneLine(error) }))
      .then(
        (run) => this.#emit({ kind: 'ended', project, run }),
        // Writing run.json itself failed (a full disk): the run ends in the view all the same.
        (error: unknown) => this.#emit({ kind: 'ended', project, run: { ...recorder.record, status: 'failed', message: oneLine(error) } }),
      )
      .finally(() => (this.#active = null));
  }

  async #fit(engine: EngineBackend, recorder: RunRecorder, callbacks: Callback[], model: Model, data: TrainingData, resume: RunCheckpointState | null): Promise<RunRecord> {
    const { fit } = recorder.record.settings;
    const validation = fit.validation;
    const test = data.test;
    await engine.fit(model, data.train.x, data.train.y, {
      epochs: fit.epochs,
      initialEpoch: recorder.record.epochs,
      batchSize: fit.batchSize,
      shuffle: fit.shuffle,
      ...(validation.kind === 'split' ? { validationSplit: validation.fraction } : {}),
      ...(validation.kind === 'test' && test ? { validationData: [test.x, test.y] as [ArrayData[], ArrayData[]] } : {}),
      seed: fit.seed!,
      verbose: 0,
      callbacks: [...callbacks, recorder],
      ...(resume?.position ? { resumeFrom: resume.position } : {}),
    });
    const stopped = engine.interruption;
    if (stopped) {
      recorder.record.stoppedAt = stopped.step > 0 ? { epoch: stopped.epoch, step: stopped.step, steps: stopped.steps } : null;
      recorder.flush();
      this.#emit({ kind: 'phase', runId: recorder.record.id, phase: 'saving' });
      return recorder.finish('stopped', { stop: stopped, message: stoppedMessage(stopped, fit.epochs), checkpoint: true });
    }
    let testMetrics: Logs | null = null;
    if (test) {
      this.#emit({ kind: 'phase', runId: recorder.record.id, phase: 'testing' });
      testMetrics = await engine.evaluate(model, test.x, test.y, { batchSize: fit.batchSize });
    }
    const early = model.stopTraining && recorder.record.epochs < fit.epochs ? `early stopping ended it after epoch ${recorder.record.epochs}` : undefined;
    return recorder.finish('finished', { test: testMetrics, checkpoint: true, ...(early ? { message: early } : {}) });
  }
}

/**
 * The app's thread policy for the engine. With two cores or fewer the window needs one of
 * them: one engine thread. Measured with test/e2e/thread_policy.ts (one Fashion-MNIST epoch at
 * batch 128 with the pointer sweeping a streaming chart; 2 cores at load 10-19 from other
 * work): 1 thread 1,315 and 3,153 samples/s over two rounds, 'auto' 1,106 and 2,559, 2 fixed
 * threads 232 and 377 (their spinning starves the window too: 82 and 23 long tasks up to 174
 * ms). With more cores, 'auto': all of them while they are the fastest, fewer when other
 * work slows them (not measured here, where no machine has more).
 */
/**
 * The data a model trains on by default: its model file's own data where the file exports
 * some, Fashion-MNIST otherwise. A file that cannot be read now (moved, deleted, broken) stays
 * chosen, so the Data section's preview says what is wrong with it instead of the defaults failing.
 */
async function defaultData(modelFile: string | undefined): Promise<TrainingSettings['data']> {
  if (!modelFile) return { kind: 'fashion-mnist' };
  try {
    return (await hasModelFileData(modelFile)) ? { kind: 'model-file', file: modelFile } : { kind: 'fashion-mnist' };
  } catch (error) {
    if (!isUserError(error)) throw error;
    return { kind: 'model-file', file: modelFile };
  }
}

export function defaultThreads(cores = os.availableParallelism()): TrainingSettings['threads'] {
  return cores <= 2 ? 1 : 'auto';
}

function engineThreads(threads: TrainingSettings['threads']): number {
  return threads === 'auto' ? -1 : threads;
}

function checkDevice(device: TrainingSettings['device']): void {
  if (device === 'cpu') return;
  // The CUDA backend built in is not enough: the GPU and its driver must be usable here.
  const status = loadNativeEngine().cudaStatus();
  if (!status.available) throw new ValueError(`device "${device}": ${status.reason}; train on the CPU`);
}

/** A copy of the model compiled as the settings say: the same layers and, with `weights`, the same weights. */
function compiledCopy(original: Model, settings: TrainingSettings, weights: boolean): Model {
  const model = modelFromJSON(original.toJSON());
  if (weights) model.setWeights(original.getWeights());
  compileWith(model, settings.compile);
  return model;
}

/** The splits a run with these settings touches: train, validation (a split, or the test split as validation data), test. */
function heldOutSplits(data: TrainingData, settings: TrainingSettings): DatasetSplit[] {
  const validation = settings.fit.validation;
  if (validation.kind === 'test' && !data.test) throw new ValueError(`validation on the test split: ${data.description} has no test split; use a validation split`);
  return splitsOf(data, validation.kind === 'split' ? validation.fraction : undefined, 'validation split');
}

function stoppedMessage(at: Interruption, epochs: number): string {
  return at.step > 0 ? `stopped in epoch ${at.epoch + 1}/${epochs} after step ${at.step}/${at.steps}` : `stopped after epoch ${at.epoch}/${epochs}`;
}

function oneLine(error: unknown): string {
  if (isUserError(error)) return (error as Error).message.replace(/\s*\n\s*/g, ' ');
  return `internal error: ${internalErrorDetail(error)}`;
}

async function renamedErrors<T>(read: () => Promise<T>, local: string, name: string): Promise<T> {
  try {
    return await read();
  } catch (error) {
    if (error instanceof Error) error.message = error.message.split(local).join(name);
    throw error;
  }
}

/** Keras's compile() defaults (RMSprop), with the loss each output implies and its metric: accuracy for a classifier, mae for regression. */
function kerasDefaultCompile(model: Model): CompileSettings {
  const metricsOf = (loss: string) => [metrics.defaultMetricFor(losses.getLoss(loss).kind)];
  const compile: CompileSettings = { optimizer: { class_name: 'RMSprop', config: { learning_rate: 0.001, rho: 0.9, momentum: 0, epsilon: 1e-7, centered: false } }, loss: impliedLoss(model), fromLogits: false, metrics: metricsOf(impliedLoss(model)) };
  if (model.outputs.length > 1) compile.outputs = model.outputs.map((output, o) => ({ output: output.sourceLayer.name, loss: impliedLoss(model, o), fromLogits: false, weight: 1, metrics: metricsOf(impliedLoss(model, o)) }));
  return compile;
}

// --- Prediction ----------------------------------------------------------------------------

/** A picked file, checked, with the model input it feeds. */
type InputFile = { name: string; bytes: Uint8Array; input: TensorSignature };

function signatureOf(model: Model): RunSignature {
  const describe = (tensor: SymbolicTensor): TensorSignature => ({ name: tensor.sourceLayer.name, shape: [...tensor.shape] });
  return { inputs: model.inputs.map(describe), outputs: model.outputs.map(describe) };
}

/**
 * The batches the files make: for a model of one input, one per file; for a model of several,
 * one of all the files, in the model's input order. Names the file or input at fault.
 */
function batchesOf(files: PredictFile[], inputs: TensorSignature[]): InputFile[][] {
  const names = inputs.map((input) => input.name).join(', ');
  const checked = files.map((file): InputFile => {
    const name = path.basename(String(file.name));
    if (!(file.bytes instanceof Uint8Array)) throw new UserError(`${name}: the file's content did not arrive as bytes`);
    if (file.input === undefined && inputs.length > 1) throw new UserError(`${name}: say which input it feeds; the model has ${inputs.length} inputs (${names}), one file each`);
    const input = file.input === undefined ? inputs[0]! : inputs.find((candidate) => candidate.name === file.input);
    if (!input) throw new UserError(`${name}: the model has no input '${String(file.input)}'; its inputs are: ${names}`);
    return { name, bytes: file.bytes, input };
  });
  if (inputs.length === 1) return checked.map((file) => [file]);
  if (checked.length === 0) return [];
  const batch = inputs.map((input) => {
    const given = checked.filter((file) => file.input === input);
    if (given.length === 0) throw new UserError(`no file for input '${input.name}' ${formatShape(input.shape)}; the model takes one file per input (${names})`);
    if (given.length > 1) throw new UserError(`input '${input.name}' was given ${given.length} files (${given.map((file) => file.name).join(', ')}); the model takes one file per input`);
    return given[0]!;
  });
  return [batch];
}

/** The files of one batch as arrays, each read for its input; all inputs must have as many samples. */
async function readBatch(batch: InputFile[], scratch: string): Promise<NdArray[]> {
  const arrays: NdArray[] = [];
  for (const file of batch) {
    const local = path.join(scratch, file.name);
    writeFileSync(local, file.bytes);
    const { array } = await renamedErrors(() => readInputFile(local, file.input), local, file.name);
    arrays.push(array);
  }
  const first = arrays[0]!.shape[0]!;
  const other = arrays.findIndex((array) => array.shape[0] !== first);
  if (other > 0) {
    const count = (i: number) => `input '${batch[i]!.input.name}' (${batch[i]!.name}) has ${arrays[i]!.shape[0]} sample${arrays[i]!.shape[0] === 1 ? '' : 's'}`;
    throw new UserError(`${count(0)}, ${count(other)}: the files of the inputs must have as many samples each`);
  }
  return arrays;
}

// --- Data ----------------------------------------------------------------------------------

function summarizeArray(array: NdArray): ArraySummary {
  let min = Infinity;
  let max = -Infinity;
  const data = array.data as ArrayLike<number>;
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return { shape: [...array.shape], dtype: array.dtype, min: data.length ? min : 0, max: data.length ? max : 0 };
}

function summarizeSplit(name: SplitSummary['name'], data: Dataset): SplitSummary {
  const labels = data.y[0];
  let classCounts: number[] | null = null;
  if (labels && (labels.dtype === 'int32' || (labels.shape.length === 2 && labels.shape[1]! > 1))) {
    const ids = classIds(labels);
    const classes = Math.max(data.classNames?.length ?? 0, ...ids.map((id) => id + 1));
    classCounts = new Array<number>(classes).fill(0);
    for (const id of ids) classCounts[id]!++;
  }
  return { name, size: data.size, x: data.x.map(summarizeArray), y: data.y.map(summarizeArray), classCounts };
}

/** Samples `indices` of a dataset: images where the first input is (h, w, 1 or 3), else the first feature values. */
function sampleRows(data: Dataset, indices: number[], classNames: string[] | null | undefined): DataSample[] {
  const x = data.x[0]!;
  const [, height, width, channels] = x.shape;
  const isImage = x.shape.length === 4 && (channels === 1 || channels === 3);
  const range = isImage ? summarizeArray(x) : null;
  const rowSize = shapeSize(x.shape.slice(1));
  const labels = data.y[0]!;
  const ids = classNames || labels.dtype === 'int32' ? classIds(labels) : null;
  return indices.map((index) => {
    const row = x.data.subarray(index * rowSize, (index + 1) * rowSize) as ArrayLike<number>;
    const label = ids ? (classNames?.[ids[index]!] ?? String(ids[index])) : formatValues(rowOf(labels as NdArray, index));
    if (!isImage) return { index, label, values: Array.from(row).slice(0, 16) };
    // Pixels scaled from the data's own range, so that [0, 1] floats and 0-255 values both show.
    const scale = range!.max > range!.min ? 255 / (range!.max - range!.min) : 0;
    const pixels = new Uint8Array(rowSize);
    for (let i = 0; i < rowSize; i++) pixels[i] = Math.round((row[i]! - range!.min) * scale);
    return { index, label, image: { width: width!, height: height!, channels: channels as 1 | 3, pixels } };
  });
}

function formatValues(values: number[]): string {
  return values.map((v) => (Number.isInteger(v) ? String(v) : v.toPrecision(4))).join(', ');
}

function topClasses(probabilities: number[], classNames: string[] | null): ClassProbability[] {
  const scores = probabilities.length === 1 ? [1 - probabilities[0]!, probabilities[0]!] : probabilities;
  return scores
    .map((probability, classId) => ({ classId, label: classNames?.[classId] ?? String(classId), probability }))
    .sort((a, b) => b.probability - a.probability)
    .slice(0, TOP_CLASSES);
}
