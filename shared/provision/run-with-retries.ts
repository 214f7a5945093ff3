import { abortableSleep, type SleepFn } from './abortable-sleep.js';
import { backoffDelay, type BackoffPolicy } from './backoff-delay.js';

export interface RetryOptions {
  /** Retries after the first attempt. */
  readonly retries: number;
  readonly backoff: BackoffPolicy;
  readonly isPermanent: (err: unknown) => boolean;
  readonly signal?: AbortSignal;
  readonly sleep?: SleepFn;
  readonly random?: () => number;
  readonly onFailure?: (e: { attempt: number; maxAttempts: number; error: unknown; permanent: boolean; retryInMs?: number }) => void;
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
export async function runWithRetries<T>(fn: (attempt: number) => Promise<T>, opts: RetryOptions): Promise<{ value: T; attempts: number }> {
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
