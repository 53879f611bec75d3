// What the training views show for one model document, in one place: its project, the
// settings being edited, the data preview, the project's runs, the run training now (fed by
// the host's 'training' events), the evaluation and the predictions. Views read it and call
// its actions; it talks to the processes only through the Host.
import type { ExportResult, Host, KerasModelJson, ModelDocument } from '../../../../app/contract/api.ts';
import type { DataPreview, DataSource, Evaluation, PredictFile, Prediction, RunRecord, RunSignature, TrainingEvent, TrainingProject, TrainingSettings } from '../../../../app/contract/training.ts';
import { downloadBytes } from '../download.ts';

export type TrainingSection = 'data' | 'train' | 'runs' | 'evaluate' | 'predict';

/** What the views show of the document that trains: a model file, or a project (path null until saved). */
export type TrainingDocument = Pick<ModelDocument, 'id' | 'title' | 'trainedWeights'> & { path: string | null };

/** Where the run training now is: its epoch and step, speed, time left, and what it does between steps. */
export interface Progress {
  epoch: number;
  epochs: number;
  step: number;
  steps: number;
  samplesPerSecond: number;
  etaSeconds: number;
  logs: Record<string, number>;
  phase: 'training' | 'validating' | 'testing' | 'saving' | 'stopping';
}

const errorMessage = (error: unknown) => (error instanceof Error ? error.message : String(error));

export class TrainingState {
  readonly host: Host;
  /** Replaced when a project is saved (its title and folder may be new). */
  document = $state.raw<TrainingDocument>(null!);
  /** A project's model as its editor has it now (undefined for a model file: the engine has it). */
  readonly #edited: () => KerasModelJson | undefined;
  project = $state.raw<TrainingProject | null>(null);
  settings = $state<TrainingSettings | null>(null);
  /** The model file's own data (its `export function data()`), when it exports some: the defaults choose it. */
  modelFileData = $state.raw<Extract<DataSource, { kind: 'model-file' }> | null>(null);
  preview = $state.raw<DataPreview | null>(null);
  /** The previewKey() of what the preview last showed, to know when it is out of date. */
    previewedData = $state<string | null>(null);
  previewing = $state(false);
  runs = $state.raw<RunRecord[]>([]);
  /** Run folders that could not be read, one line each. */
  runProblems = $state.raw<string[]>([]);
  /** Runs ticked in the Runs view, to overlay and compare. */
  compared = $state<string[]>([]);
  /** The run the Train view shows: the one training now, or the last one started here. Mutated in place; `tick` says when. */
  live = $state.raw<RunRecord | null>(null);
  tick = $state(0);
  progress = $state.raw<Progress | null>(null);
  /** The run chosen in the Evaluate and Predict views. */
  chosenRun = $state<string | null>(null);
  evaluation = $state.raw<Evaluation | null>(null);
  evaluating = $state(false);
  predictions = $state.raw<Prediction[] | null>(null);
  predicting = $state(false);
  /** The inputs and outputs of a run's model, for Predict (the run it is of). */
  signature = $state.raw<{ runId: string; signature: RunSignature } | null>(null);
  /** The last failure of an action, for the view's banner. */
  problem = $state.raw<{ title: string; message: string } | null>(null);
  readonly #unsubscribe: () => void;

  constructor(host: Host, document: TrainingDocument, edited: () => KerasModelJson | undefined = () => undefined) {
    this.host = host;
    this.document = document;
    this.#edited = edited;
    this.#unsubscribe = host.on('training', (event) => this.#onEvent(event));
  }

  /** The runs with trained weights (an epoch, or steps before a stop), which Evaluate and Predict can use. */
  get trainedRuns(): RunRecord[] {
    return this.runs.filter((run) => run.epochs > run.initialEpoch || run.stoppedAt);
  }

  /** Whether a run of this project is training now (closing asks first). */
  get training(): boolean {
    return this.live?.status === 'running';
  }

  /** Loads the project, Keras's defaults for the model, the runs, and a run training now. */
  async load(): Promise<void> {
    await this.#attempt('Could not load the training settings', async () => {
      const [project, settings, status] = await Promise.all([this.host.trainingProject(this.document.id), this.host.trainingDefaults(this.document.id, this.#edited()), this.host.trainingStatus()]);
      this.project = project;
      this.settings = settings;
      this.modelFileData = settings.data.kind === 'model-file' ? settings.data : null;
      if (status && status.project === project.path) this.#follow(status.run);
      await this.refreshRuns();
    });
  }

  async refreshRuns(): Promise<void> {
    if (!this.project) return;
    const listing = await this.host.listRuns(this.project.path);
    this.runs = listing.runs;
    this.runProblems = listing.problems;
    this.compared = this.compared.filter((id) => listing.runs.some((run) => run.id === id));
    if (this.chosenRun === null || !listing.runs.some((run) => run.id === this.chosenRun)) this.chosenRun = listing.runs.find((run) => run.epochs > 0 || run.stoppedAt)?.id ?? null;
  }

  /**
   * The project document was saved (to a new folder, maybe): runs from now on go where the
   * project is, as the host says, with the settings kept. A run training now goes on where it is.
   */
  async documentSaved(document: TrainingDocument): Promise<void> {
    this.document = document;
    if (this.training) return;
    await this.#attempt('Could not find the project\'s runs', async () => {
      this.project = await this.host.trainingProject(document.id);
      await this.refreshRuns();
    });
  }

  /** Uses another folder as the project (one `strata train --project` wrote to, say). */
  async useProject(path: string): Promise<void> {
    await this.#attempt(`Could not use ${path} as the project`, async () => {
      const listing = await this.host.listRuns(path);
      this.project = { path, inAppFolder: false };
      this.runs = listing.runs;
      this.runProblems = listing.problems;
      this.compared = [];
      this.chosenRun = listing.runs[0]?.id ?? null;
      this.evaluation = null;
      this.predictions = null;
      this.signature = null;
    });
  }

  /** What a data preview depends on: the data, the validation split, and a project's model as edited. */
  previewKey(settings: TrainingSettings): string {
    return JSON.stringify([settings.data, settings.fit.validation, this.#edited() ?? null]);
  }

  async loadPreview(): Promise<void> {
    const settings = this.settings;
    if (!settings) return;
    this.previewing = true;
    await this.#attempt('Could not read the data', async () => {
      this.preview = await this.host.previewData(this.document.id, $state.snapshot(settings), this.#edited());
      this.previewedData = this.previewKey(settings);
    });
    this.previewing = false;
  }

  async start(): Promise<void> {
    const { settings, project } = this;
    if (!settings || !project) return;
    await this.#attempt('Training did not start', async () => {
      const run = await this.host.startTraining(this.document.id, project.path, $state.snapshot(settings), this.#edited());
      this.#follow(run);
    });
  }

  async stop(): Promise<void> {
    const run = this.live;
    if (!run || run.status !== 'running') return;
    this.progress = this.progress && { ...this.progress, phase: 'stopping' };
    await this.#attempt('Could not stop the run', () => this.host.stopTraining(run.id));
  }

  async resume(runId: string): Promise<void> {
    const project = this.project;
    if (!project) return;
    await this.#attempt(`Could not resume run ${runId}`, async () => this.#follow(await this.host.resumeRun(project.path, runId)));
  }

  async deleteRuns(runIds: string[]): Promise<void> {
    const project = this.project;
    if (!project) return;
    for (const runId of runIds) {
      const deleted = await this.#attempt(`Could not delete run ${runId}`, () => this.host.deleteRun(project.path, runId));
      if (!deleted) break;
    }
    await this.refreshRuns();
  }

  async exportHistory(runId: string): Promise<void> {
    const project = this.project;
    if (project) await this.#attempt(`Could not export the history of run ${runId}`, async () => this.#deliver(await this.host.exportRunHistory(project.path, runId)));
  }

  async exportOnnx(runId: string): Promise<void> {
    const project = this.project;
    if (project) await this.#attempt(`Could not export run ${runId} as ONNX`, async () => this.#deliver(await this.host.exportRunModel(project.path, runId)));
  }

  async evaluate(runId: string): Promise<void> {
    const project = this.project;
    if (!project) return;
    this.evaluating = true;
    await this.#attempt(`Could not evaluate run ${runId}`, async () => (this.evaluation = await this.host.evaluateRun(project.path, runId)));
    this.evaluating = false;
  }

  /** Asks for the run's inputs and outputs, unless they are known. */
  async loadSignature(runId: string): Promise<void> {
    const project = this.project;
    if (!project || this.signature?.runId === runId) return;
    await this.#attempt(`Could not read the inputs of run ${runId}`, async () => {
      const signature = await this.host.runSignature(project.path, runId);
      this.signature = { runId, signature };
    });
  }

  /**
   * Predicts on files the user picked: for a model of one input any number of files (`input`
   * left out), for a model of several one file per input. Results of earlier files are cleared
   * first, so that a failure does not leave them standing beside its message.
   */
  async predict(runId: string, files: { file: File; input?: string }[]): Promise<void> {
    const project = this.project;
    if (!project || files.length === 0) return;
    this.predicting = true;
    this.predictions = null;
    await this.#attempt(`Could not predict with run ${runId}`, async () => {
      const picked: PredictFile[] = await Promise.all(
        files.map(async ({ file, input }) => ({ name: file.name, bytes: new Uint8Array(await file.arrayBuffer()), ...(input === undefined ? {} : { input }) })),
      );
      this.predictions = await this.host.predictRun(project.path, runId, picked);
    });
    this.predicting = false;
  }

  dispose(): void {
    this.#unsubscribe();
  }

  /** A note for the status bar, set by exports. */
  notice = $state<string | null>(null);

  #deliver(result: ExportResult): void {
    if ('saved' in result) this.notice = `Saved ${result.saved}`;
    else if ('download' in result) {
      downloadBytes(result.download.fileName, result.download.mimeType, result.download.bytes);
      this.notice = `Downloaded ${result.download.fileName}`;
    }
  }

  /** Runs an action; a failure goes to the banner. Resolves true when it succeeded. */
  async #attempt(title: string, action: () => Promise<unknown>): Promise<boolean> {
    try {
      await action();
      this.problem = null;
      return true;
    } catch (error) {
      this.problem = { title, message: errorMessage(error) };
      return false;
    }
  }

  /** Shows `run` as the live one (a copy: events extend it). */
  #follow(run: RunRecord): void {
    this.live = structuredClone(run);
    this.progress = run.status === 'running' ? { epoch: run.epochs, epochs: run.settings.fit.epochs, step: 0, steps: 0, samplesPerSecond: 0, etaSeconds: 0, logs: {}, phase: 'training' } : null;
    this.tick++;
    this.#upsert(this.live);
  }

  #upsert(run: RunRecord): void {
    const others = this.runs.filter((r) => r.id !== run.id);
    this.runs = [{ ...run }, ...others].sort((a, b) => b.created.localeCompare(a.created) || b.id.localeCompare(a.id));
  }

  #onEvent(event: TrainingEvent): void {
    if (event.kind === 'started') {
      if (this.project && event.project === this.project.path && this.live?.id !== event.run.id) this.#follow(event.run);
      return;
    }
    const live = this.live;
    if (event.kind === 'ended') {
      if (live?.id !== event.run.id) return;
      this.live = structuredClone(event.run);
      this.progress = null;
      this.tick++;
      this.#upsert(this.live);
      if (this.chosenRun === null || event.run.status === 'finished') this.chosenRun = event.run.id;
      return;
    }
    if (!live || event.runId !== live.id) return;
    if (event.kind === 'batch') {
      live.batches.x.push(...event.points.x);
      const length = live.batches.x.length;
      for (const [name, values] of Object.entries(event.points.values)) {
        const list = (live.batches.values[name] ??= []);
        while (list.length < length - values.length) list.push(Number.NaN);
        list.push(...values);
      }
      this.progress = { epoch: event.epoch, epochs: event.epochs, step: event.step, steps: event.steps, samplesPerSecond: event.samplesPerSecond, etaSeconds: event.etaSeconds, logs: event.logs, phase: this.progress?.phase === 'stopping' ? 'stopping' : 'training' };
    } else if (event.kind === 'epoch') {
      for (const [name, value] of Object.entries(event.logs)) (live.history[name] ??= []).push(value);
      live.epochs = event.epoch + 1;
      live.epochSeconds.push(event.seconds);
      this.#upsert(live);
    } else if (event.kind === 'phase' && this.progress && this.progress.phase !== 'stopping') {
      this.progress = { ...this.progress, phase: event.phase };
    }
    this.tick++;
  }
}
