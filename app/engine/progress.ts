// Keras's fit() output: "Epoch 3/10", then a progress bar with the ETA and the running
// metrics, ending as "469/469 ━━━━━━━━━━━━━━━━━━━━ 12s 25ms/step - accuracy: 0.8812 - loss: 0.3301".
// On a terminal the bar redraws in place; elsewhere (logs, CI) only the epoch's last line prints.
import type { Logs } from '../model/index.ts';

const WIDTH = 20;

function formatSeconds(seconds: number): string {
  if (seconds >= 3600) return `${Math.floor(seconds / 3600)}:${String(Math.floor((seconds % 3600) / 60)).padStart(2, '0')}:${String(Math.floor(seconds % 60)).padStart(2, '0')}`;
  if (seconds >= 60) return `${Math.floor(seconds / 60)}:${String(Math.floor(seconds % 60)).padStart(2, '0')}`;
  return `${Math.round(seconds)}s`;
}

function formatStep(seconds: number): string {
  return seconds >= 1 ? `${seconds.toFixed(1)}s/step` : seconds >= 1e-3 ? `${Math.round(seconds * 1e3)}ms/step` : `${Math.round(seconds * 1e6)}us/step`;
}

/** Keras prints metrics sorted by name, four decimals (scientific for tiny values). */
export function formatLogs(logs: Logs): string {
  return Object.keys(logs)
    .sort()
    .map((key) => {
      const v = logs[key]!;
      return `${key}: ${Math.abs(v) < 1e-3 && v !== 0 ? v.toExponential(4) : v.toFixed(4)}`;
    })
    .join(' - ');
}

export class ProgressBar {
  private readonly started = performance.now();
  private lastDraw = 0;

  constructor(
    private readonly steps: number,
    private readonly write: (text: string) => void,
    private readonly interactive: boolean,
  ) {}

  /** After batch `step` (1-based) with the running logs. */
  update(step: number, logs: Logs): void {
    if (!this.interactive) return;
    const now = performance.now();
    if (step < this.steps && now - this.lastDraw < 100) return; // redraw at most 10 times a second
    this.lastDraw = now;
    this.write(`\r${this.line(step, logs, false)}\x1b[K`);
  }

  /** The epoch's closing line, with validation metrics. */
  finish(logs: Logs): void {
    this.write(`${this.interactive ? '\r' : ''}${this.line(this.steps, logs, true)}${this.interactive ? '\x1b[K' : ''}\n`);
  }

  /** Ends a bar interrupted before its last step: the line stays as last drawn. */
  stop(): void {
    if (this.interactive) this.write('\n');
  }

  private line(step: number, logs: Logs, done: boolean): string {
    const elapsed = (performance.now() - this.started) / 1000;
    const perStep = elapsed / Math.max(step, 1);
    const filled = Math.round((WIDTH * step) / this.steps);
    const bar = '━'.repeat(filled) + (filled < WIDTH ? '\x1b[2m' + '━'.repeat(WIDTH - filled) + '\x1b[0m' : '');
    const plainBar = done || !this.interactive ? '━'.repeat(WIDTH) : bar;
    const time = done ? formatSeconds(elapsed) : formatSeconds(perStep * (this.steps - step));
    const count = `${String(step).padStart(String(this.steps).length)}/${this.steps}`;
    const metrics = formatLogs(logs);
    return `${count} ${plainBar} ${time} ${formatStep(perStep)}${metrics ? ` - ${metrics}` : ''}`;
  }
}
