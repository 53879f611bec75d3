// Keras's callbacks that write files: ModelCheckpoint (saveModel after epochs, or only when
// the monitored metric improves) and CSVLogger (one row per epoch). They live on the Node
// side because the model API does no I/O; import them from 'strata/node'.
import { appendFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { Callback, ValueError, type CallbackState, type Logs } from '../model/index.ts';
import { resolveSaveTarget } from './model_folder.ts';
import { saveModel } from './model_store.ts';

/** Keras's filepath templates: "ckpt-{epoch:02d}-{val_loss:.2f}" (epoch counted from 1). */
export function formatCheckpointPath(template: string, epoch: number, logs: Logs): string {
  return template.replace(/\{(\w+)(?::([^}]*))?\}/g, (whole, key: string, spec: string | undefined) => {
    const value = key === 'epoch' ? epoch + 1 : logs[key];
    if (value === undefined) throw new ValueError(`ModelCheckpoint: "${whole}" names "${key}", which is not among the logged metrics (${Object.keys(logs).join(', ')})`);
    const precision = spec && /^\.(\d+)f$/.exec(spec);
    if (precision) return value.toFixed(Number(precision[1]));
    const width = spec && /^0?(\d+)d$/.exec(spec);
    if (width) return String(Math.round(value)).padStart(Number(width[1]), spec.startsWith('0') ? '0' : ' ');
    return String(value);
  });
}

export interface ModelCheckpointArgs {
  monitor?: string;
  saveBestOnly?: boolean;
  mode?: 'auto' | 'min' | 'max';
}

export class ModelCheckpoint extends Callback {
  readonly monitor: string;
  readonly saveBestOnly: boolean;
  private readonly maximize: boolean;
  private best = NaN;
  /** Folders written, in order. */
  readonly saved: string[] = [];

  constructor(
    readonly filepath: string,
    { monitor = 'val_loss', saveBestOnly = false, mode = 'auto' }: ModelCheckpointArgs = {},
  ) {
    super();
    this.monitor = monitor;
    this.saveBestOnly = saveBestOnly;
    this.maximize = mode === 'max' || (mode === 'auto' && /acc/.test(monitor));
  }

  /** A fixed folder (no {placeholders}) is checked before training: one that may not be replaced costs no epoch. */
  override onTrainBegin(): void {
    if (!/\{\w+(:[^}]*)?\}/.test(this.filepath)) resolveSaveTarget(this.filepath);
  }

  override onEpochEnd(epoch: number, logs: Logs): void {
    if (this.saveBestOnly) {
      const current = logs[this.monitor];
      if (current === undefined) throw new ValueError(`ModelCheckpoint: monitor "${this.monitor}" is not among the logged metrics (${Object.keys(logs).join(', ')})`);
      const better = Number.isNaN(this.best) || (this.maximize ? current > this.best : current < this.best);
      if (!better) return;
      this.best = current;
    }
    const dir = formatCheckpointPath(this.filepath, epoch, logs);
    saveModel(this.model!, dir, { epochs: epoch + 1 });
    this.saved.push(dir);
  }

  override checkpointState(): CallbackState {
    return { best: Number.isNaN(this.best) ? null : this.best };
  }

  override restoreCheckpointState(state: CallbackState): void {
    this.best = typeof state.best === 'number' ? state.best : NaN;
  }
}

export interface CSVLoggerArgs {
  separator?: string;
  /** Add to an existing file (resumed training) instead of starting it anew. */
  append?: boolean;
}

export class CSVLogger extends Callback {
  private columns: string[] | null = null;
  private readonly separator: string;
  private readonly append: boolean;

  constructor(
    readonly filename: string,
    { separator = ',', append = false }: CSVLoggerArgs = {},
  ) {
    super();
    this.separator = separator;
    this.append = append;
  }

  override onTrainBegin(): void {
    if (this.append && existsSync(this.filename)) {
      const header = readFileSync(this.filename, 'utf8').split('\n')[0];
      this.columns = header ? header.split(this.separator).slice(1) : null;
    } else {
      writeFileSync(this.filename, '');
      this.columns = null;
    }
  }

  /** Rows are appended (and so reach the disk) epoch by epoch, as Keras flushes them. */
  override onEpochEnd(epoch: number, logs: Logs): void {
    if (!this.columns) {
      this.columns = Object.keys(logs).sort();
      appendFileSync(this.filename, `${['epoch', ...this.columns].join(this.separator)}\n`);
    }
    const row = [String(epoch), ...this.columns.map((key) => (logs[key] === undefined ? '' : String(logs[key])))];
    appendFileSync(this.filename, `${row.join(this.separator)}\n`);
  }
}
