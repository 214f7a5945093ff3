import { setTimeout as delay } from 'node:timers/promises';

export type SleepFn = (ms: number, signal?: AbortSignal) => Promise<void>;

/** Waits `ms`; rejects at once when `signal` aborts (shutdown must not wait out a backoff). */
export const abortableSleep: SleepFn = async (ms, signal) => {
  await delay(Math.max(0, ms), undefined, signal ? { signal } : undefined);
};

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

export interface RetryOptions {
  /** Retries after the first attempt. */
  readonly retries: number;
  readonly backoff: BackoffPolicy;
  readonly isPermanent: (err: unknown) => boolean;
  readonly signal?: AbortSignal;
  readonly sleep?: SleepFn;
  readonly random?: () => number;
  readonly onFailure?: (e: {
    attempt: number;
    maxAttempts: number;
    error: unknown;
    permanent: boolean;
    retryInMs?: number;
  }) => void;
}

export class RetriesFailed extends Error {
  constructor(
    readonly last: unknown,
    readonly attempts: number,
    readonly permanent: boolean,
  ) {
    super(last instanceof Error ? last.message : String(last), { cause: last });
    this.name = 'RetriesFailed';
  }
}

/**
 * Runs `fn` until it succeeds, a permanent error occurs or the retries are used up (then RetriesFailed carries the
 * last error). A shutdown (aborted `signal`) is rethrown as is, never counted as a failure to retry.
 */
export async function runWithRetries<T>(
  fn: (attempt: number) => Promise<T>,
  opts: RetryOptions,
): Promise<{ value: T; attempts: number }> {
  const sleep = opts.sleep ?? abortableSleep;
  const maxAttempts = opts.retries + 1;
  for (let attempt = 1; ; attempt++) {
    try {
      return { value: await fn(attempt), attempts: attempt };
    } catch (error) {
      if (opts.signal?.aborted) throw error;
      const permanent = opts.isPermanent(error);
      if (permanent || attempt >= maxAttempts) {
        opts.onFailure?.({ attempt, maxAttempts, error, permanent });
        throw new RetriesFailed(error, attempt, permanent);
      }
      const retryInMs = backoffDelay(attempt - 1, opts.backoff, opts.random);
      opts.onFailure?.({ attempt, maxAttempts, error, permanent, retryInMs });
      await sleep(retryInMs, opts.signal);
    }
  }
}
