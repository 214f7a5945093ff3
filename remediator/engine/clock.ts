/** Time as the remediator sees it; tests inject a fake one to cross midnight and DST changes instantly. */
export interface Clock {
  now(): number;
  /** Runs `fn` after `ms`; returns a function that cancels it. */
  setTimer(fn: () => void, ms: number): () => void;
}

/** Largest delay setTimeout takes (about 24.8 days); longer waits are chained. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimer(fn, ms) {
    let timer: NodeJS.Timeout;
    let cancelled = false;
    const arm = (left: number) => {
      timer = setTimeout(
        () => (left > MAX_TIMER_MS ? arm(left - MAX_TIMER_MS) : cancelled || fn()),
        Math.min(Math.max(0, left), MAX_TIMER_MS),
      );
      // Timers never keep the process alive: the HTTP server does while the remediator runs.
      timer.unref();
    };
    arm(ms);
    return () => {
      cancelled = true;
      clearTimeout(timer);
    };
  },
};

/** An AbortSignal that fires after `ms` on `clock`, or when `parent` fires; `dispose` cancels the timer. */
export function clockSignal(
  clock: Clock,
  ms: number,
  reason: string,
  parent?: AbortSignal,
): { signal: AbortSignal; dispose(): void } {
  const ac = new AbortController();
  const cancel = clock.setTimer(() => ac.abort(new Error(reason)), ms);
  const onParent = () => ac.abort(parent!.reason);
  if (parent?.aborted) ac.abort(parent.reason);
  else parent?.addEventListener('abort', onParent, { once: true });
  return {
    signal: ac.signal,
    dispose() {
      cancel();
      parent?.removeEventListener('abort', onParent);
    },
  };
}
