import { setTimeout as delay } from 'node:timers/promises';

export type SleepFn = (ms: number, signal?: AbortSignal) => Promise<void>;

/** Waits `ms`; rejects at once when `signal` aborts (shutdown must not wait out a backoff). */
export const abortableSleep: SleepFn = async (ms, signal) => {
  await delay(Math.max(0, ms), undefined, signal ? { signal } : undefined);
};
