import type { Clock } from '../../remediator/engine/clock.js';

/** A clock tests move by hand; due timers fire in time order, with pending promises settled between them. */
export class FakeClock implements Clock {
  #timers: { at: number; fn: () => void; id: number }[] = [];
  #next = 0;

  constructor(public t: number) {}

  now(): number {
    return this.t;
  }

  setTimer(fn: () => void, ms: number): () => void {
    const id = ++this.#next;
    this.#timers.push({ at: this.t + Math.max(0, ms), fn, id });
    return () => {
      this.#timers = this.#timers.filter((x) => x.id !== id);
    };
  }

  get pending(): number {
    return this.#timers.length;
  }

  /** Moves time forward by `ms`, firing every timer that falls due on the way. */
  async advance(ms: number): Promise<void> {
    const end = this.t + ms;
    for (;;) {
      await settle();
      const due = this.#timers.filter((x) => x.at <= end).sort((a, b) => a.at - b.at || a.id - b.id)[0];
      if (!due) break;
      this.#timers = this.#timers.filter((x) => x !== due);
      this.t = Math.max(this.t, due.at);
      due.fn();
    }
    this.t = end;
    await settle();
  }
}

/** Lets queued promise callbacks and I/O callbacks run. */
export async function settle(rounds = 5): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise((r) => setImmediate(r));
}
