// Undo and redo over every edit: the history holds whole model JSONs (small: tens of kilobytes
// for the seed models), each with what the edit was. Typing into one field makes one step,
// not one per key: an edit with the same coalescing key as the last, soon after it, replaces
// it instead of adding a step.
import type { ModelJson } from './model_json.ts';

export interface Step {
  json: ModelJson;
  /** What the edit did, for the Undo button's title ("Set units of dense1"). */
  label: string;
}

const MAX_STEPS = 200;
const COALESCE_MS = 1500;

export class History {
  #past: Step[] = [];
  #future: Step[] = [];
  #present: Step;
  #lastKey: string | null = null;
  #lastAt = 0;

  constructor(json: ModelJson) {
    this.#present = { json, label: 'Open' };
  }

  get current(): ModelJson {
    return this.#present.json;
  }

  get canUndo(): boolean {
    return this.#past.length > 0;
  }

  get canRedo(): boolean {
    return this.#future.length > 0;
  }

  /** What Undo would take back, and what Redo would do again. */
  get undoLabel(): string | null {
    return this.#past.length ? this.#present.label : null;
  }

  get redoLabel(): string | null {
    return this.#future[this.#future.length - 1]?.label ?? null;
  }

  /** Records an edit's result; `coalesce` names a run of edits that make one step (typing in one field). */
  push(json: ModelJson, label: string, coalesce: string | null = null, now = Date.now()): void {
    if (json === this.#present.json) return;
    const merge = coalesce !== null && coalesce === this.#lastKey && now - this.#lastAt < COALESCE_MS && this.#past.length > 0;
    if (!merge) {
      this.#past.push(this.#present);
      if (this.#past.length > MAX_STEPS) this.#past.shift();
    }
    this.#present = { json, label };
    this.#future = [];
    this.#lastKey = coalesce;
    this.#lastAt = now;
  }

  undo(): ModelJson | null {
    const previous = this.#past.pop();
    if (!previous) return null;
    this.#future.push(this.#present);
    this.#present = previous;
    this.#lastKey = null;
    return previous.json;
  }

  redo(): ModelJson | null {
    const next = this.#future.pop();
    if (!next) return null;
    this.#past.push(this.#present);
    this.#present = next;
    this.#lastKey = null;
    return next.json;
  }
}
