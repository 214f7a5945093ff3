import type { Clock } from './clock.js';

/**
 * One healing at a time per target (a restart must not race a reload of the same Ollama). Waiters queue in order
 * and give up after `waitMs`, so a stuck holder cannot pile up work forever.
 */
export class TargetLock {
  readonly #held = new Set<string>();
  readonly #waiters = new Map<string, (() => void)[]>();

  constructor(private readonly clock: Clock) {}

  isHeld(target: string): boolean {
    return this.#held.has(target);
  }

  /** Resolves with a release function, or null when the wait timed out or `signal` fired. */
  acquire(target: string, waitMs: number, signal?: AbortSignal): Promise<(() => void) | null> {
    const release = () => this.#release(target);
    if (!this.#held.has(target)) {
      this.#held.add(target);
      return Promise.resolve(once(release));
    }
    return new Promise((resolve) => {
      const queue = this.#waiters.get(target) ?? [];
      this.#waiters.set(target, queue);
      let done = false;
      const finish = (granted: boolean) => {
        if (done) return;
        done = true;
        cancelTimer();
        signal?.removeEventListener('abort', onAbort);
        const i = queue.indexOf(grant);
        if (i >= 0) queue.splice(i, 1);
        resolve(granted ? once(release) : null);
      };
      const grant = () => finish(true);
      const onAbort = () => finish(false);
      const cancelTimer = this.clock.setTimer(() => finish(false), waitMs);
      signal?.addEventListener('abort', onAbort, { once: true });
      queue.push(grant);
    });
  }

  #release(target: string): void {
    const next = this.#waiters.get(target)?.shift();
    if (next)
      next(); // the lock passes straight to the next waiter
    else this.#held.delete(target);
  }
}

function once(fn: () => void): () => void {
  let called = false;
  return () => {
    if (!called) {
      called = true;
      fn();
    }
  };
}
