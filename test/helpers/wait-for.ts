import { setTimeout as sleep } from 'node:timers/promises';

export interface WaitForOptions {
  timeoutMs: number;
  /** Pause between probes; default 100 ms. */
  intervalMs?: number;
  /** Words for the timeout message: "timed out after 5000 ms waiting for <what>". */
  what?: string;
}

/**
 * Polls `probe` until it returns a value other than undefined/null/false, and returns that value.
 * A probe that throws counts as "not yet"; its last error ends up in the timeout message, which is
 * usually the most useful clue when something never came up.
 */
export async function waitFor<T>(
  probe: () => Promise<T | undefined | null | false> | T | undefined | null | false,
  options: WaitForOptions,
): Promise<T> {
  const { timeoutMs, intervalMs = 100, what = 'a condition' } = options;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== null && value !== false) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() >= deadline) break;
    await sleep(Math.min(intervalMs, Math.max(0, deadline - Date.now())));
  }
  const detail = lastError === undefined ? '' : `; last error: ${errorText(lastError)}`;
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${detail}`);
}

function errorText(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  // fetch() hides the useful part (ECONNREFUSED...) in `cause`.
  const cause = error.cause instanceof Error ? ` (${error.cause.message})` : '';
  return `${error.message}${cause}`;
}
