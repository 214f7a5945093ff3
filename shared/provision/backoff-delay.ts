export interface BackoffPolicy {
  /** Delay before the second attempt. */
  readonly initialMs: number;
  /** Cap, also after jitter. */
  readonly maxMs: number;
}

/**
 * Pause before retry number `retry` (0 = the first retry): exponential (×2) up to the cap, then "equal jitter"
 * (a random point in the upper half) so many clients restarted together do not hammer Ollama in lockstep, while the
 * pause never collapses to zero. `random` returns [0, 1).
 */
export function backoffDelay(retry: number, policy: BackoffPolicy, random: () => number = Math.random): number {
  const exp = policy.initialMs * 2 ** Math.min(Math.max(0, retry), 30);
  const ceiling = Math.min(policy.maxMs, exp);
  return Math.round(ceiling / 2 + (ceiling / 2) * Math.min(Math.max(random(), 0), 1));
}
