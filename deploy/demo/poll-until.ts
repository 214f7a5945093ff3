/** Thrown by a probe to stop waiting at once: what it saw means the awaited thing will not happen. */
export class GiveUp extends Error {}

/**
 * Calls `probe` until it returns something other than undefined, or the deadline passes (then null). A probe that
 * throws counts as "not yet" (the services being watched restart on purpose during a scenario), except GiveUp.
 */
export async function pollUntil<T>(probe: () => Promise<T | undefined>, opts: { readonly deadline: number; readonly intervalMs?: number; readonly signal?: AbortSignal }): Promise<T | null> {
  const interval = opts.intervalMs ?? 1000;
  for (;;) {
    if (opts.signal?.aborted) return null;
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (err) {
      if (err instanceof GiveUp) throw err;
    }
    if (Date.now() + interval > opts.deadline) return null;
    await new Promise((r) => setTimeout(r, interval));
  }
}
