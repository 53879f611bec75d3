// What the window shows, in one place: the open document, what is being opened, the error
// banner, the engine's state and the connection's. Views read it and call its actions; it
// talks to the processes only through the Host it was given.
import type { AppInfo, EngineState, ExportFormat, FileEntry, Host, KerasModelJson, OpenedDocument, ProjectDocument, TemplateInfo } from '../../../app/contract/api.ts';
import type { ConnectionStatus } from '../host/websocket.ts';
import { baseName, downloadBytes } from './download.ts';
import { TrainingState, type TrainingSection } from './training/training_state.svelte.ts';

export interface Problem {
  /** What failed, e.g. "Could not open model.onnx". */
  title: string;
  /** The error's one-line message, as the CLI prints it. */
  message: string;
}

const NOTICE_MS = 8000;

/** What the window shows of a model or project document: its graph (a project: its editor), or a training section. */
export type Section = 'model' | TrainingSection;

/** A question the window asks before going on (closing while a run trains). */
export interface Question {
  title: string;
  message: string;
  confirm: string;
  answer: (yes: boolean) => void;
}

const errorMessage = (error: unknown) => (error instanceof Error ? error.message : String(error));

export class AppState {
  info = $state<AppInfo | null>(null);
  document = $state.raw<OpenedDocument | null>(null);
  /** The path being opened, while it is. */
  opening = $state<string | null>(null);
  problem = $state<Problem | null>(null);
  engine = $state<{ state: EngineState; message?: string }>({ state: 'ready' });
  connection = $state<ConnectionStatus>('open');
  examples = $state.raw<FileEntry[]>([]);
  recent = $state.raw<FileEntry[]>([]);
  /** A short note for the status bar ("Saved to ..."). */
  notice = $state<string | null>(null);
  /** Whether the Open dialog is showing. */
  browsing = $state(false);
  /** The document's section, and its training state (made when a training section first shows). */
  section = $state<Section>('model');
  training = $state.raw<TrainingState | null>(null);
  question = $state.raw<Question | null>(null);
  /** Whether the New dialog is showing. */
  creating = $state(false);
  /** The templates New offers (loaded when first asked for). */
  templates = $state.raw<TemplateInfo[]>([]);
  /**
   * The open project's unsaved changes, as its editor reports them: whether there are any, and
   * how to save them. Asked before the document is closed or replaced.
   */
  unsaved = $state.raw<{ title: string; save: () => Promise<boolean> } | null>(null);
  /** The question shown before unsaved changes would be lost; answered by the dialog. */
  confirming = $state.raw<{ title: string; answer: (choice: 'save' | 'discard' | 'cancel') => void } | null>(null);
  /** The open project's model as its editor has it now (what Train trains), given by the editor. */
  editedModel: (() => KerasModelJson) | null = null;
  readonly host: Host;

  constructor(host: Host) {
    this.host = host;
    host.on('engineState', (event) => (this.engine = event));
    host.on('openRequested', (event) => void this.open(event.path));
  }

  /** Loads what the start page shows; a failure shows in the banner, the page still works. */
  async start(): Promise<void> {
    try {
      [this.info, this.examples, this.recent] = await Promise.all([this.host.appInfo(), this.host.examples(), this.host.recentFiles()]);
    } catch (error) {
      this.problem = { title: 'Could not reach the Strata process', message: errorMessage(error) };
    }
  }

  async open(path: string): Promise<void> {
    if (!(await this.mayReplace())) return;
    await this.load(path, () => this.host.open(path));
  }

  /** A new project: from a template, or an empty model (null). */
  async newProject(template: string | null): Promise<void> {
    this.creating = false;
    if (!(await this.mayReplace())) return;
    await this.load(template ?? 'an empty model', () => this.host.newProject(template));
  }

  /** The open model file as a project to edit. */
  async editDocument(): Promise<void> {
    const current = this.document;
    if (current?.kind !== 'model' || !(await this.leaveTraining())) return;
    try {
      const project = await this.host.editDocument(current.id);
      this.document = project;
      this.problem = null;
      this.training?.dispose();
      this.training = null;
      this.section = 'model';
    } catch (error) {
      this.problem = { title: `Could not edit ${current.title}`, message: errorMessage(error) };
    }
  }

  async loadTemplates(): Promise<void> {
    if (this.templates.length) return;
    try {
      this.templates = await this.host.templates();
    } catch (error) {
      this.problem = { title: 'Could not list the templates', message: errorMessage(error) };
    }
  }

  async refreshRecent(): Promise<void> {
    this.recent = await this.host.recentFiles().catch(() => this.recent);
  }

  /**
   * Whether the open document may be closed or replaced: yes when nothing is unsaved; else the
   * user is asked (Save, Don't save, Cancel), and Save must succeed.
   */
  async mayReplace(): Promise<boolean> {
    const unsaved = this.unsaved;
    if (!unsaved) return true;
    const choice = await new Promise<'save' | 'discard' | 'cancel'>((answer) => (this.confirming = { title: unsaved.title, answer }));
    this.confirming = null;
    if (choice === 'cancel') return false;
    if (choice === 'save') return unsaved.save();
    return true;
  }

  async openDropped(file: File): Promise<void> {
    if (!(await this.mayReplace())) return;
    await this.load(file.name, async () => this.host.openDropped(file.name, new Uint8Array(await file.arrayBuffer())));
  }

  private async load(path: string, read: () => Promise<OpenedDocument>): Promise<void> {
    if (!(await this.leaveTraining())) return;
    this.opening = path;
    this.browsing = false;
    try {
      const opened = await read();
      const previous = this.document;
      this.document = opened;
      this.problem = null;
      this.training?.dispose();
      this.training = null;
      this.section = 'model';
      if (previous) void this.host.closeDocument(previous.id).catch(() => undefined);
      this.recent = await this.host.recentFiles().catch(() => this.recent);
    } catch (error) {
      this.problem = { title: `Could not open ${baseName(path)}`, message: errorMessage(error) };
    } finally {
      if (this.opening === path) this.opening = null;
    }
  }

  async close(): Promise<void> {
    if (!(await this.mayReplace()) || !(await this.leaveTraining())) return;
    const current = this.document;
    this.document = null;
    this.training?.dispose();
    this.training = null;
    this.section = 'model';
    if (current) await this.host.closeDocument(current.id).catch(() => undefined);
  }

  /** Starts the engine process again and opens the document that was open. */
  async restartEngine(): Promise<void> {
    const reopen = this.document?.path;
    this.document = null;
    try {
      await this.host.restartEngine();
      this.problem = null;
      if (reopen) await this.open(reopen);
    } catch (error) {
      this.problem = { title: 'Could not restart the engine', message: errorMessage(error) };
    }
  }

  async exportDocument(format: ExportFormat): Promise<void> {
    const current = this.document;
    if (!current) return;
    try {
      const result = await this.host.exportDocument(current.id, format);
      if ('saved' in result) this.tell(`Saved ${result.saved}`);
      else if ('download' in result) {
        downloadBytes(result.download.fileName, result.download.mimeType, result.download.bytes);
        this.tell(`Downloaded ${result.download.fileName}`);
      }
    } catch (error) {
      this.problem = { title: `Could not export ${current.title}`, message: errorMessage(error) };
    }
  }

  /** Shows a section of the model or project document; a training section loads the training state the first time. */
  showSection(section: Section): void {
    const document = this.document;
    if (document?.kind !== 'model' && document?.kind !== 'project') return;
    this.section = section;
    if (section !== 'model' && !this.training) {
      // A project trains its model as edited, unsaved changes included (the run records the version it trained).
      const edited = document.kind === 'project' ? () => this.editedModel?.() : undefined;
      this.training = new TrainingState(this.host, document, edited);
      void this.training.load();
    }
  }

  /** The open project was saved (its folder may be new): the document says where it is now, and so do the training views. */
  projectSaved(saved: ProjectDocument): void {
    if (this.document?.id !== saved.id) return;
    this.document = saved;
    void this.training?.documentSaved(saved);
  }

  /** Asks a question in the window; resolves with the answer. */
  ask(title: string, message: string, confirm: string): Promise<boolean> {
    return new Promise((resolve) => {
      this.question = {
        title,
        message,
        confirm,
        answer: (yes) => {
          this.question = null;
          resolve(yes);
        },
      };
    });
  }

  /**
   * Before the document goes (closed, or another opened): a run training asks first, and is
   * stopped (its last step kept, resumable) when the user goes on. True: go on.
   */
  private async leaveTraining(): Promise<boolean> {
    const training = this.training;
    if (!training?.training) return true;
    const yes = await this.ask('A run is training', `Run ${training.live!.id} is training. Stop it and close ${this.document?.title ?? 'the model'}? It keeps its last finished step and can be resumed from the Runs view.`, 'Stop and close');
    if (yes) await training.stop();
    return yes;
  }

  /** Shows a note in the status bar for a few seconds. */
  tell(note: string): void {
    this.notice = note;
    setTimeout(() => this.notice === note && (this.notice = null), NOTICE_MS);
  }

  dismissProblem(): void {
    this.problem = null;
  }
}
