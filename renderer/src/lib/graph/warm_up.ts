// The layout worker's order of work: a window's real layouts first, its warm-up in between.

/**
 * Runs the worker's real layouts as they come and its warm-up rounds only while none waits,
 * so the first graph of a session waits for at most the warm-up round in progress, not for
 * the whole warm-up. (ELK answers through timers: without this, each new round queues its
 * work before a request that arrived meanwhile.)
 */
export class LayoutScheduler {
  #waiting = 0;
  #idle: Promise<void> = Promise.resolve();
  #becameIdle = () => {};

  /** Runs a real request's layout now. */
  async request<T>(layout: () => Promise<T>): Promise<T> {
    if (this.#waiting++ === 0) this.#idle = new Promise((resolve) => (this.#becameIdle = resolve));
    try {
      return await layout();
    } finally {
      if (--this.#waiting === 0) this.#becameIdle();
    }
  }

  /** Runs `rounds` warm-up layouts one after another, each once no request waits. */
  async warmUp(rounds: number, layout: (round: number) => Promise<unknown>): Promise<void> {
    for (let round = 0; round < rounds; round++) {
      while (this.#waiting > 0) await this.#idle;
      await layout(round);
    }
  }
}
