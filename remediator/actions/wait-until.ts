import { setTimeout as delay } from 'node:timers/promises';

export type Sleep = (ms: number, signal?: AbortSignal) => Promise<void>;

export const defaultSleep: Sleep = async (ms, signal) => {
  await delay(ms, undefined, signal ? { signal } : undefined);
};

export interface WaitUntilOptions {
  readonly timeoutMs: number;
  readonly intervalMs: number;
  readonly signal: AbortSignal;
  readonly now: () => number;
  readonly sleep?: Sleep;
}

/**
 * Polls `probe` until it returns something other than undefined, or the deadline passes (then undefined). A probe
 * error propagates: callers decide which errors mean "not yet". The caller's abort propagates as an AbortError.
 */
export async function waitUntil<T>(
  probe: () => Promise<T | undefined>,
  opts: WaitUntilOptions,
): Promise<T | undefined> {
  const sleep = opts.sleep ?? defaultSleep;
  const deadline = opts.now() + opts.timeoutMs;
  for (;;) {
    opts.signal.throwIfAborted();
    const value = await probe();
    if (value !== undefined) return value;
    const left = deadline - opts.now();
    if (left <= 0) return undefined;
    await sleep(Math.min(opts.intervalMs, left), opts.signal);
  }
}

/** `signal` plus a deadline of `ms`: whichever fires first aborts (the reason says which). */
export function boundedSignal(signal: AbortSignal, ms: number): AbortSignal {
  return AbortSignal.any([signal, AbortSignal.timeout(ms)]);
}
