import { OllamaError } from '../ollama/ollama-error.js';
import type { ProvisionClient } from './ensure-model.js';
import { abortableSleep, backoffDelay, type BackoffPolicy, type SleepFn } from './run-with-retries.js';

export interface WaitForOllamaOptions {
  /** Overall deadline from the first attempt; 0 = a single attempt. */
  readonly timeoutMs: number;
  readonly backoff: BackoffPolicy;
  /** Limit of one attempt (capped by the time left, at least 1 s). Default 5 s. */
  readonly attemptTimeoutMs?: number;
  readonly signal?: AbortSignal;
  /** Every failed attempt; `retryInMs` is absent on the last one. */
  readonly onAttemptFailed?: (e: {
    attempt: number;
    error: OllamaError;
    retryInMs?: number;
    remainingMs: number;
  }) => void;
  readonly now?: () => number;
  readonly sleep?: SleepFn;
  readonly random?: () => number;
}

export type WaitForOllamaResult =
  | { readonly ok: true; readonly version: string; readonly attempts: number; readonly waitedMs: number }
  | {
      readonly ok: false;
      readonly attempts: number;
      readonly waitedMs: number;
      readonly error: OllamaError;
      readonly gaveUpEarly: boolean;
    };

/**
 * Polls GET /api/version until Ollama answers, with capped, jittered exponential backoff and an overall deadline:
 * no fixed sleep, so a slow start only costs its own time. A last attempt is made at the deadline. Answers that
 * waiting cannot change (401/403 from an authenticating proxy, an unreadable ca_file) end the wait early.
 */
export async function waitForOllama(client: ProvisionClient, opts: WaitForOllamaOptions): Promise<WaitForOllamaResult> {
  const now = opts.now ?? Date.now;
  const sleep = opts.sleep ?? abortableSleep;
  const started = now();
  const deadline = started + opts.timeoutMs;
  for (let attempt = 1; ; attempt++) {
    const remaining = deadline - now();
    try {
      const version = await client.version({
        timeoutMs: Math.min(opts.attemptTimeoutMs ?? 5000, Math.max(1000, remaining)),
        ...(opts.signal ? { signal: opts.signal } : {}),
      });
      return { ok: true, version, attempts: attempt, waitedMs: now() - started };
    } catch (err) {
      if (opts.signal?.aborted) throw err;
      const error =
        err instanceof OllamaError ? err : new OllamaError('network', (err as Error).message, { cause: err });
      const hopeless = error.reason === 'http_401' || error.reason === 'http_403' || error.reason === 'config';
      const left = deadline - now();
      if (hopeless || left <= 0) {
        opts.onAttemptFailed?.({ attempt, error, remainingMs: Math.max(0, left) });
        return { ok: false, attempts: attempt, waitedMs: now() - started, error, gaveUpEarly: hopeless && left > 0 };
      }
      const retryInMs = Math.min(backoffDelay(attempt - 1, opts.backoff, opts.random), left);
      opts.onAttemptFailed?.({ attempt, error, retryInMs, remainingMs: left });
      await sleep(retryInMs, opts.signal);
    }
  }
}
